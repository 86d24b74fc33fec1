package live_test

import (
	"context"
	"log"
	"net/http"

	"vigil/internal/bus"
	"vigil/internal/live"
)

// One hub per process, fed by the bus; the web layer decides per request
// which organisations and modules the user may see and passes the filters.
func Example() {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	b, err := bus.Open(ctx, bus.Config{DataDir: "/var/lib/vigil"})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	hub := live.New(b, live.Options{})
	go hub.Run(ctx) // cancel ctx before http.Server.Shutdown: streams never go idle

	http.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		orgID := r.URL.Query().Get("org") // the real handler takes it from the checked membership
		filter, err := b.Filter(orgID, "alarm")
		if err != nil {
			http.Error(w, "bad organisation", http.StatusBadRequest)
			return
		}
		if err := hub.Serve(w, r, []string{filter}); err != nil {
			http.Error(w, "live updates unavailable", http.StatusServiceUnavailable)
		}
	})

	// Publishing after the SQL commit is all a module does; every browser of
	// that organisation on every server gets "event: alarm.received".
	subj, _ := b.Subject(orgID(), "alarm", "received")
	if _, err := b.PublishJSON(ctx, subj, map[string]string{"id": "0192f3a4-…"}); err != nil {
		log.Print(err)
	}
}

func orgID() string { return "0192f3a4-7b1c-7def-8abc-0123456789ab" }
