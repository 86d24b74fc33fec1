package alarm

import (
	"context"
	"fmt"
	"time"

	"vigil/internal/store"
)

// pruneBatch bounds one DELETE, so pruning never holds the writer (which
// the receiver waits on) for long; pruneMax bounds one tick's work.
const (
	pruneBatch = 5000
	pruneMax   = 100_000
	pruneEvery = time.Minute
)

// PruneEvents deletes raw signals received between from (zero: the
// beginning) and cutoff that belong to no alarm (polls, open/close, tests,
// restores of nothing): at ~11,000 signals a second a year of them is
// hundreds of GB. Signals of alarms stay with their alarms. Event IDs are
// UUIDv7, ordered by time, so the rows are found on the primary key without
// another index, and from lets a caller skip the range it already pruned
// (where only kept signals remain). It deletes at most pruneMax rows per
// call and returns how many.
func (s *Service) PruneEvents(ctx context.Context, from, cutoff time.Time) (int, error) {
	total := 0
	for total < pruneMax {
		var n int64
		err := s.DB.Write(ctx, func(tx *store.Tx) error {
			res, err := tx.Exec(ctx, `DELETE FROM alarm_events WHERE id IN (
				SELECT id FROM alarm_events WHERE id >= ? AND id < ? AND alarm_id = '' ORDER BY id LIMIT ?)`,
				minID(from), minID(cutoff), pruneBatch)
			if err != nil {
				return fmt.Errorf("prune alarm events: %w", err)
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, err
		}
		total += int(n)
		if n < pruneBatch {
			break
		}
	}
	return total, nil
}

// pruneExpired runs PruneEvents at most every pruneEvery, from where the
// last complete run stopped.
func (m *Module) pruneExpired(ctx context.Context) {
	now := m.S.Now()
	if m.Opts.Retention <= 0 || now.Sub(m.prunedAt) < pruneEvery {
		return
	}
	m.prunedAt = now
	cutoff := now.Add(-m.Opts.Retention)
	n, err := m.S.PruneEvents(ctx, m.prunedTo, cutoff)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			m.Log.Warn("alarm: deleting expired signals", "err", err)
		}
		return
	case n > 0:
		m.Log.Info("alarm: deleted expired signals", "count", n, "retention", m.Opts.Retention)
	}
	if n < pruneMax {
		m.prunedTo = cutoff // everything before cutoff is done
	}
}

// minID is the smallest UUIDv7 of instant t: every ID made at or after t
// sorts after it (48-bit big-endian milliseconds lead, lower-case hex).
func minID(t time.Time) string {
	ms := uint64(max(t.UnixMilli(), 0))
	return fmt.Sprintf("%08x-%04x-7000-8000-000000000000", ms>>16, ms&0xffff)
}
