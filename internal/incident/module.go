package incident

import (
	"fmt"
	"time"

	"vigil/internal/blob"
	"vigil/internal/org"
	"vigil/internal/store"
	"vigil/internal/web"
)

// Register builds the incident service and registers its pages and API on
// s. smtpURL (smtp://user:pass@host:587?from=reports@example.com, from
// --smtp-url) relays client notifications; empty: they are recorded but not
// emailed.
func Register(db *store.DB, orgs *org.Service, files blob.Store, now func() time.Time, s *web.Server, smtpURL string) (*Service, error) {
	mail, err := ParseSMTPURL(smtpURL)
	if err != nil {
		return nil, fmt.Errorf("--smtp-url: %w", err)
	}
	svc := &Service{DB: db, Now: now, Orgs: orgs, Blob: files, Mail: mail}
	(&Handlers{S: svc, Web: s}).Register()
	return svc, nil
}
