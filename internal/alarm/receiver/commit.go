package receiver

import "context"

// job is one accepted frame waiting for its group commit. done is owned by
// the submitting connection and reused for its next frame.
type job struct {
	sig  Signal
	done chan error
}

// commitLoop is the single committer: it blocks for the first queued frame,
// takes whatever else is already queued (up to MaxBatch, without waiting
// for more) and commits it in one Sink call. Under load batches grow by
// themselves, which is how one writer reaches tens of thousands of durable
// signals per second; when idle a lone frame commits at once.
func (s *Server) commitLoop(ctx context.Context) {
	jobs := make([]*job, 0, s.cfg.MaxBatch)
	batch := make([]Signal, 0, s.cfg.MaxBatch)
	for {
		j, ok := <-s.queue
		if !ok {
			return
		}
		jobs = append(jobs[:0], j)
	drain:
		for len(jobs) < s.cfg.MaxBatch {
			select {
			case j, ok := <-s.queue:
				if !ok {
					break drain
				}
				jobs = append(jobs, j)
			default:
				break drain
			}
		}
		batch = batch[:0]
		for _, j := range jobs {
			batch = append(batch, j.sig)
		}
		err := s.cfg.Sink.Commit(ctx, batch)
		s.metrics.observeBatch(len(batch))
		if err != nil {
			s.metrics.CommitErrors.Add(1)
			s.log.Warn("alarm receiver: commit failed", "signals", len(batch), "err", err)
		}
		clear(batch) // drop references so committed frames can be collected
		for i, j := range jobs {
			j.done <- err
			jobs[i] = nil
		}
	}
}

// commit queues sig and waits for its batch's result.
func (s *Server) commit(sig Signal, done chan error) error {
	s.queue <- &job{sig: sig, done: done}
	return <-done
}
