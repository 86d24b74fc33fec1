package receiver

import "sync/atomic"

// Metrics are the receiver's counters, updated atomically so the app can
// export them (e.g. to Prometheus) while the server runs. The zero value is
// ready to use.
type Metrics struct {
	ConnectionsOpen    atomic.Int64  // TCP connections open now
	ConnectionsTotal   atomic.Uint64 // TCP connections accepted
	ConnectionsRefused atomic.Uint64 // closed at once because MaxConns was reached
	Frames             atomic.Uint64 // frames received (TCP and UDP)
	Acks               atomic.Uint64 // ACK or *ACK sent
	Naks               atomic.Uint64 // NAK sent
	Duhs               atomic.Uint64 // DUH sent
	Unanswered         atomic.Uint64 // frames refused without a reply (silence configured)
	BadFrames          atomic.Uint64 // framing, syntax, CRC or length errors
	UnknownAccounts    atomic.Uint64
	Rejected           atomic.Uint64 // well-formed but refused: key, decrypt, timestamp, policy
	CommitBatches      atomic.Uint64 // Sink.Commit calls
	CommitSignals      atomic.Uint64 // signals passed to Sink.Commit
	CommitErrors       atomic.Uint64 // failed Sink.Commit calls
	MaxBatch           atomic.Uint64 // largest batch seen
	// BatchSizes is a histogram of batch sizes: bucket i counts batches of
	// 2^i to 2^(i+1)-1 signals; the last bucket holds everything larger.
	BatchSizes   [12]atomic.Uint64
	GarbageBytes atomic.Uint64 // bytes skipped outside frames
	Oversize     atomic.Uint64 // frames longer than MaxFrame
	Timeouts     atomic.Uint64 // connections closed by idle or read timeout
}

func (m *Metrics) observeBatch(n int) {
	m.CommitBatches.Add(1)
	m.CommitSignals.Add(uint64(n))
	for {
		cur := m.MaxBatch.Load()
		if uint64(n) <= cur || m.MaxBatch.CompareAndSwap(cur, uint64(n)) {
			break
		}
	}
	b := 0
	for v := n; v > 1 && b < len(m.BatchSizes)-1; v >>= 1 {
		b++
	}
	m.BatchSizes[b].Add(1)
}

// Snapshot is a plain copy of Metrics for printing or JSON.
type Snapshot struct {
	ConnectionsOpen    int64      `json:"connections_open"`
	ConnectionsTotal   uint64     `json:"connections_total"`
	ConnectionsRefused uint64     `json:"connections_refused"`
	Frames             uint64     `json:"frames"`
	Acks               uint64     `json:"acks"`
	Naks               uint64     `json:"naks"`
	Duhs               uint64     `json:"duhs"`
	Unanswered         uint64     `json:"unanswered"`
	BadFrames          uint64     `json:"bad_frames"`
	UnknownAccounts    uint64     `json:"unknown_accounts"`
	Rejected           uint64     `json:"rejected"`
	CommitBatches      uint64     `json:"commit_batches"`
	CommitSignals      uint64     `json:"commit_signals"`
	CommitErrors       uint64     `json:"commit_errors"`
	MaxBatch           uint64     `json:"max_batch"`
	BatchSizes         [12]uint64 `json:"batch_sizes_pow2"`
	GarbageBytes       uint64     `json:"garbage_bytes"`
	Oversize           uint64     `json:"oversize"`
	Timeouts           uint64     `json:"timeouts"`
}

// Snapshot copies the counters.
func (m *Metrics) Snapshot() Snapshot {
	s := Snapshot{
		ConnectionsOpen: m.ConnectionsOpen.Load(), ConnectionsTotal: m.ConnectionsTotal.Load(),
		ConnectionsRefused: m.ConnectionsRefused.Load(), Frames: m.Frames.Load(), Acks: m.Acks.Load(),
		Naks: m.Naks.Load(), Duhs: m.Duhs.Load(), Unanswered: m.Unanswered.Load(), BadFrames: m.BadFrames.Load(),
		UnknownAccounts: m.UnknownAccounts.Load(), Rejected: m.Rejected.Load(), CommitBatches: m.CommitBatches.Load(),
		CommitSignals: m.CommitSignals.Load(), CommitErrors: m.CommitErrors.Load(), MaxBatch: m.MaxBatch.Load(),
		GarbageBytes: m.GarbageBytes.Load(), Oversize: m.Oversize.Load(), Timeouts: m.Timeouts.Load(),
	}
	for i := range m.BatchSizes {
		s.BatchSizes[i] = m.BatchSizes[i].Load()
	}
	return s
}

// MeanBatch is the average number of signals per commit.
func (s Snapshot) MeanBatch() float64 {
	if s.CommitBatches == 0 {
		return 0
	}
	return float64(s.CommitSignals) / float64(s.CommitBatches)
}
