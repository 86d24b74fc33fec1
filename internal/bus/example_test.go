package bus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"vigil/internal/bus"
)

// A job that every vigil process runs: each alarm is handled by exactly one
// of them, retried on failure, and not lost across restarts.
func ExampleBus_Work() {
	ctx := context.Background()
	b, err := bus.Open(ctx, bus.Config{URL: "nats://nats1:4222,nats://nats2:4222", Replicas: 3})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	err = b.Work(ctx, bus.WorkConfig{Name: "notify-keyholders", Filter: b.Root() + ".*.alarm.received"},
		func(m bus.Msg) error {
			var ev struct{ ID string }
			if err := json.Unmarshal(m.Data, &ev); err != nil {
				return fmt.Errorf("alarm event %d: %w: %w", m.Seq, err, bus.ErrPermanent)
			}
			return notify(ctx, ev.ID) // an error here is retried later
		})
	log.Print(err)
}

func notify(context.Context, string) error { return nil }
