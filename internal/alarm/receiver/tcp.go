package receiver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// connSet tracks open TCP connections so shutdown can interrupt their reads.
type connSet struct {
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	closing atomic.Bool
	wg      sync.WaitGroup
}

func (cs *connSet) add(c net.Conn) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closing.Load() {
		return false
	}
	if cs.conns == nil {
		cs.conns = make(map[net.Conn]struct{})
	}
	cs.conns[c] = struct{}{}
	cs.wg.Add(1)
	return true
}

func (cs *connSet) remove(c net.Conn) {
	cs.mu.Lock()
	delete(cs.conns, c)
	cs.mu.Unlock()
	cs.wg.Done()
}

// closeAll makes every pending read fail at once; handlers then finish the
// frame they are committing, reply, and exit.
func (cs *connSet) closeAll() {
	cs.mu.Lock()
	cs.closing.Store(true)
	for c := range cs.conns {
		c.SetReadDeadline(time.Now())
	}
	cs.mu.Unlock()
}

func (s *Server) acceptLoop(ctx context.Context) {
	defer s.conns.wg.Wait()
	var delay time.Duration
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off, as net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Warn("alarm receiver: accept", "err", err, "retry_in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		s.metrics.ConnectionsTotal.Add(1)
		if s.metrics.ConnectionsOpen.Add(1) > int64(s.cfg.MaxConns) || !s.conns.add(c) {
			s.metrics.ConnectionsOpen.Add(-1)
			s.metrics.ConnectionsRefused.Add(1)
			c.Close()
			continue
		}
		go s.serveConn(ctx, c)
	}
}

// errGarbage ends a connection that sends too much that is not a frame.
var (
	errGarbage  = errors.New("receiver: too many bytes outside frames")
	errOversize = errors.New("receiver: frame too long")
)

// serveConn handles one panel connection: frames are processed strictly in
// order, each answered before the next is read, as DC-09 panels expect.
// Nothing a connection does (garbage, slow bytes, huge lines) can hold up
// another: each has its own goroutine, buffer and deadlines, and the only
// shared stage is the commit queue.
func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	defer func() {
		c.Close()
		s.metrics.ConnectionsOpen.Add(-1)
		s.conns.remove(c)
	}()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	o := origin{remote: c.RemoteAddr().String(), transport: "tcp"}
	fr := frameReader{br: bufio.NewReaderSize(c, 1024), max: s.cfg.MaxFrame}
	done := make(chan error, 1)
	for {
		c.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
		if s.conns.closing.Load() {
			return
		}
		raw, err := fr.next(func() {
			c.SetReadDeadline(time.Now().Add(s.cfg.ReadTimeout))
		})
		s.metrics.GarbageBytes.Add(uint64(fr.garbage))
		fr.garbage = 0
		if err != nil {
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded) && !s.conns.closing.Load():
				s.metrics.Timeouts.Add(1)
			case errors.Is(err, errOversize):
				s.metrics.Oversize.Add(1)
				s.metrics.BadFrames.Add(1)
				if !s.cfg.SilentOnBadFrame {
					s.metrics.Naks.Add(1)
					s.write(c, s.nakNow())
				}
			}
			s.log.Debug("alarm receiver: connection closed", "remote", o.remote, "err", err)
			return
		}
		if reply := s.process(ctx, raw, o, done); reply != nil {
			if err := s.write(c, reply); err != nil {
				return
			}
		}
	}
}

func (s *Server) write(c net.Conn, b []byte) error {
	c.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	_, err := c.Write(b)
	return err
}

// frameReader splits a TCP stream into LF … CR frames.
type frameReader struct {
	br      *bufio.Reader
	max     int
	buf     []byte
	garbage int // bytes skipped before the current frame
}

// next returns the next frame (valid until the following call). started is
// called once the frame's LF has arrived, to arm the per-frame read
// deadline. Bytes before an LF are skipped as garbage; more than max of them
// in a row, or a frame longer than max, ends the connection. A binary
// 2-byte CRC (Lupus) may contain CR or LF, so those two bytes are taken
// verbatim when the header has the binary layout.
func (r *frameReader) next(started func()) ([]byte, error) {
	for {
		chunk, err := r.br.ReadSlice('\n')
		if err == nil {
			r.garbage += len(chunk) - 1
			break
		}
		r.garbage += len(chunk)
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
		if r.garbage > r.max {
			return nil, errGarbage
		}
	}
	if r.garbage > r.max {
		return nil, errGarbage
	}
	started()
	r.buf = append(r.buf[:0], '\n')
	// Hex layout: LF cccc LLLL " (quote at raw[9]); binary: LF cc LLLL " (raw[7]).
	if hdr, err := r.br.Peek(9); err == nil && hdr[8] != '"' && hdr[6] == '"' {
		r.buf = append(r.buf, hdr[:2]...)
		r.br.Discard(2)
	} else if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	for {
		chunk, err := r.br.ReadSlice('\r')
		if len(r.buf)+len(chunk) > r.max {
			return nil, errOversize
		}
		r.buf = append(r.buf, chunk...)
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
	// A frame cut short and followed by a new one: keep only the last
	// frame (the LF after the binary CRC window starts a new frame).
	if len(r.buf) > 3 {
		if i := bytes.LastIndexByte(r.buf[3:], '\n'); i >= 0 {
			r.garbage += 3 + i
			r.buf = r.buf[3+i:]
		}
	}
	return r.buf, nil
}
