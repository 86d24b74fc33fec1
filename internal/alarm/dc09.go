package alarm

import (
	"context"
	"slices"
	"sync"
	"time"

	"vigil/internal/alarm/dc09"
	"vigil/internal/alarm/receiver"
)

// accountCacheTTL bounds how stale a cached account can be when another
// server changed it (this server's own changes drop the cache at once).
const accountCacheTTL = 30 * time.Second

// accountCache serves the receiver's lookups from memory: at tens of
// thousands of frames per second a SELECT per frame would cost more than
// the commit. Entries (and misses, so a flood from an unknown account does
// not hit the database either) live for accountCacheTTL; Invalidate drops
// everything after a change.
type accountCache struct {
	s   *Service
	mu  sync.RWMutex
	gen uint64
	m   map[string]cachedAccount // receiver/line/number → account
	ids map[string]cachedAccount // account ID → account
}

type cachedAccount struct {
	acct *Account // nil: known to be unknown
	site string
	rcv  receiver.Account
	at   time.Time
}

func newAccountCache(s *Service) *accountCache {
	return &accountCache{s: s, m: map[string]cachedAccount{}, ids: map[string]cachedAccount{}}
}

// Invalidate forgets every cached account.
func (c *accountCache) Invalidate() {
	c.mu.Lock()
	c.gen++
	clear(c.m)
	clear(c.ids)
	c.mu.Unlock()
}

// Lookup implements receiver.Accounts.
func (c *accountCache) Lookup(ctx context.Context, rcvr, line, number string) (receiver.Account, bool, error) {
	key := rcvr + "/" + line + "/" + number
	now := time.Now()
	c.mu.RLock()
	e, ok := c.m[key]
	gen := c.gen
	c.mu.RUnlock()
	if ok && now.Sub(e.at) < accountCacheTTL {
		return e.rcv, e.acct != nil, nil
	}
	a, site, err := c.s.lookupAccount(ctx, rcvr, line, number)
	if err != nil {
		return receiver.Account{}, false, err
	}
	e = cachedAccount{acct: a, site: site, at: now}
	if a != nil {
		e.rcv = receiver.Account{Number: a.Number, Receiver: a.Receiver, Line: a.Line, Encrypted: a.Encrypted, Quirks: a.Quirks, Ref: a.ID}
		if a.key != "" {
			// Validated when saved; a key that no longer parses is a
			// lookup error so the panel is NAKed and retries.
			if e.rcv.Key, err = dc09.ParseKey(a.key, dc09.KeyFormat(a.KeyFormat)); err != nil {
				return receiver.Account{}, false, err
			}
		}
	}
	c.mu.Lock()
	if c.gen == gen { // not invalidated while we read
		c.m[key] = e
		if a != nil {
			c.ids[a.ID] = e
		}
	}
	c.mu.Unlock()
	return e.rcv, a != nil, nil
}

// byID returns the account a signal's Ref names, from the cache or the
// database.
func (c *accountCache) byID(ctx context.Context, id string) (*Account, string, error) {
	c.mu.RLock()
	e, ok := c.ids[id]
	c.mu.RUnlock()
	if ok {
		return e.acct, e.site, nil
	}
	var site string
	a, err := scanAccount(multiScan{c.s.DB.QueryRow(ctx, `SELECT `+accountPrefixed+`, s.name FROM alarm_accounts a
		JOIN sites s ON s.id = a.site_id WHERE a.id = ?`, id), &site})
	if err != nil {
		return nil, "", err
	}
	return a, site, nil
}

// sink implements receiver.Sink: each group commit becomes one inbox row,
// applied in bulk. Only when the inbox shares the main database (on
// PostgreSQL) is a small group commit while nothing waits applied in the
// ACK's own transaction instead: the lowest latency to the console, where
// the ACK does not wait for another writer's transactions anyway.
type sink struct {
	c *accountCache
	m *Module
}

// spillAt is the group commit size from which the receiver counts as busy:
// with 100 panels a quiet server commits a few signals at a time.
const spillAt = 32

func (k sink) Commit(ctx context.Context, batch []receiver.Signal) error {
	events := make([]Event, 0, len(batch))
	for _, sig := range batch {
		if evs, ok := sig.Note.([]Event); ok { // normalised on receipt (accept)
			events = append(events, evs...)
			continue
		}
		a, site, err := k.c.byID(ctx, sig.Account.Ref)
		if err != nil {
			return err
		}
		if a == nil {
			return errNoAccount
		}
		events = append(events, FromSignal(sig, a, site)...)
	}
	if k.m.S.sharedInbox() && len(events) < spillAt && k.m.backlog.size() == 0 {
		return k.m.S.Ingest(ctx, events)
	}
	// An overloaded applier slows the ACKs, except for a group commit that
	// carries a life-safety alarm: it goes ahead of the inbox (see lane).
	urgent := slices.ContainsFunc(events, lifeSafety)
	if !urgent {
		if err := k.m.backlog.wait(ctx); err != nil {
			return err
		}
	}
	if err := k.m.S.Enqueue(ctx, events); err != nil {
		return err
	}
	k.m.backlog.add(len(events))
	notify(k.m.wake)
	return nil
}

// accept implements receiver.Config.OnAccept: it normalises a signal the
// moment it was read (the sink commits those events), and its life-safety
// alarms go to the lane, so neither a full commit queue nor the inbox
// delays them.
func (m *Module) accept(ctx context.Context, sig receiver.Signal) any {
	a, site, err := m.cache.byID(ctx, sig.Account.Ref)
	if err != nil || a == nil {
		return nil // the group commit meets the same error and NAKs
	}
	events := FromSignal(sig, a, site)
	if slices.ContainsFunc(events, lifeSafety) {
		// A repeat of an alarm already on the console gains nothing from
		// the lane (its count follows with the inbox), and a storm of
		// repeats would cost a write transaction each and hold up the
		// inbox. If the read fails the signals take the lane anyway.
		urgent := slices.DeleteFunc(slices.Clone(events), func(e Event) bool { return !lifeSafety(e) })
		if raise, err := m.S.raising(ctx, urgent); err == nil {
			urgent = raise
		}
		if len(urgent) > 0 {
			m.lane.add(urgent)
			notify(m.urgent)
		}
	}
	return events
}

// notify wakes whoever waits on ch without blocking.
func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// lane holds life-safety alarm signals to apply ahead of everything else:
// in a storm thousands of trouble signals may wait for a group commit or
// in the inbox, and a fire alarm must not wait behind them. The lane's
// transaction makes them durable in the main database; the panel is still
// ACKed only after its group commit, and when the inbox reaches the same
// signals later they are known duplicates. Applying out of order is safe
// because alarms keep their latest times (a restore or cancel received
// before an alarm does not touch it, see apply).
type lane struct {
	mu     sync.Mutex
	events []Event
}

// lifeSafety reports whether e is a fire, panic or medical alarm (not on test).
func lifeSafety(e Event) bool { return e.Kind == KindAlarm && e.Priority == PriorityLife && !e.OnTest }

// add queues life-safety alarm signals for the lane.
func (l *lane) add(events []Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, events...)
}

// waiting reports whether the lane holds alarms.
func (l *lane) waiting() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events) > 0
}

func (l *lane) take() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events
	l.events = nil
	return out
}

// unknownRecorder writes "unknown account" signals off the receiver's hot
// path: the callback must stay short, and a flood from one unprovisioned
// panel must not slow everyone else, so excess records are counted in
// memory and dropped when the queue is full (the row's counter then lags).
type unknownRecorder struct {
	s *Service
	q chan Unknown
}

func (u *unknownRecorder) record(ctx context.Context, r receiver.Rejection) {
	if r.Frame == nil {
		return
	}
	x := Unknown{Account: r.Frame.Account, Remote: r.Remote, Raw: printable(r.Raw), LastAt: r.ReceivedAt.UTC()}
	if r.Frame.HasReceiver {
		x.Receiver = r.Frame.Receiver
	}
	if r.Frame.HasLine {
		x.Line = r.Frame.Line
	}
	select {
	case u.q <- x:
	default:
	}
}

func (u *unknownRecorder) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case x := <-u.q:
			if err := u.s.RecordUnknown(ctx, x); err != nil && ctx.Err() == nil {
				u.s.Log.Warn("alarm: record unknown account", "account", x.Account, "err", err)
			}
		}
	}
}
