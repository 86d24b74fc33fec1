package incident

import (
	"fmt"
	"os"
	"time"

	"vigil/internal/blob"
	"vigil/internal/org"
	"vigil/internal/store"
	"vigil/internal/web"
)

// SMTPEnv names the environment variable holding the SMTP relay URL
// (smtp://user:pass@host:587?from=reports@example.com). Unset: client
// notifications are recorded but not emailed.
const SMTPEnv = "VIGIL_SMTP_URL"

// Register builds the incident service and registers its pages and API on s.
func Register(db *store.DB, orgs *org.Service, files blob.Store, now func() time.Time, s *web.Server) (*Service, error) {
	mail, err := ParseSMTPURL(os.Getenv(SMTPEnv))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", SMTPEnv, err)
	}
	svc := &Service{DB: db, Now: now, Orgs: orgs, Blob: files, Mail: mail}
	(&Handlers{S: svc, Web: s}).Register()
	return svc, nil
}
