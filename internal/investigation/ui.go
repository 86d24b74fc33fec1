package investigation

import "embed"

// Templates are the module's pages.
//
//go:embed templates/*.html
var Templates embed.FS

func (h *Handlers) registerUI() {}
