package receiver

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"
)

// udpLoop reads datagrams (one frame each) and handles each in its own
// goroutine, at most UDPWorkers at a time, so a slow commit does not stall
// the socket. The reply goes to the datagram's source.
func (s *Server) udpLoop(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, s.cfg.UDPWorkers)
	pool := sync.Pool{New: func() any { return make(chan error, 1) }}
	buf := make([]byte, 65536)
	for {
		n, from, err := s.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return
			}
			s.log.Warn("alarm receiver: udp read", "err", err)
			time.Sleep(5 * time.Millisecond)
			continue
		}
		raw := trimDatagram(buf[:n])
		if len(raw) > s.cfg.MaxFrame {
			s.metrics.Frames.Add(1)
			s.metrics.Oversize.Add(1)
			s.metrics.BadFrames.Add(1)
			if !s.cfg.SilentOnBadFrame {
				s.metrics.Naks.Add(1)
				s.udp.WriteToUDPAddrPort(s.nakNow(), from)
			}
			continue
		}
		raw = append([]byte(nil), raw...)
		sem <- struct{}{}
		wg.Add(1)
		go func(raw []byte, from netip.AddrPort) {
			defer func() { <-sem; wg.Done() }()
			done := pool.Get().(chan error)
			defer pool.Put(done)
			if reply := s.process(ctx, raw, origin{remote: from.String(), transport: "udp"}, done); reply != nil {
				s.udp.WriteToUDPAddrPort(reply, from)
			}
		}(raw, from)
	}
}

// trimDatagram cuts a datagram to its LF … CR frame, tolerating bytes some
// diallers add around it (a trailing LF, padding). Without both markers the
// datagram is returned as is and fails parsing.
func trimDatagram(b []byte) []byte {
	i := bytes.IndexByte(b, '\n')
	j := bytes.LastIndexByte(b, '\r')
	if i < 0 || j < i {
		return b
	}
	return b[i : j+1]
}
