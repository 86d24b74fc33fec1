package receiver_test

import (
	"context"
	"log"
	"os/signal"
	"syscall"

	"vigil/internal/alarm/dc09"
	"vigil/internal/alarm/receiver"
)

// The app serves accounts from its database and commits signals in one
// transaction per batch; the receiver ACKs each frame only after its batch
// committed.
func Example() {
	keys := map[string]string{"1234": "000102030405060708090A0B0C0D0E0F"}
	accounts := receiver.AccountsFunc(func(ctx context.Context, rcvr, line, acct string) (receiver.Account, bool, error) {
		text, ok := keys[acct] // the app: a cached SELECT by (receiver, line, account)
		if !ok {
			return receiver.Account{}, false, nil
		}
		key, err := dc09.ParseKey(text, dc09.KeyHex) // key format stored per account
		if err != nil {
			return receiver.Account{}, false, err
		}
		return receiver.Account{Number: acct, Key: key, Encrypted: true}, true, nil
	})
	sink := receiver.SinkFunc(func(ctx context.Context, batch []receiver.Signal) error {
		// the app: BEGIN; INSERT one row per signal; COMMIT — then publish to the bus.
		return nil
	})
	srv, err := receiver.New(receiver.Config{
		Accounts: accounts,
		Sink:     sink,
		OnUnknownAccount: func(ctx context.Context, r receiver.Rejection) {
			log.Printf("unknown account %s from %s", r.Frame.Account, r.Remote)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := srv.Listen(":0"); err != nil {
		log.Fatal(err)
	}
	log.Printf("DC-09 receiver on %s (tcp+udp)", srv.Addr())
	stop() // in the app: run until shutdown; here: return at once
	srv.Serve(ctx)
}
