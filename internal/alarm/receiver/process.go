package receiver

import (
	"context"
	"errors"
	"time"

	"vigil/internal/alarm/dc09"
)

// origin is where a frame came from.
type origin struct {
	remote    string
	transport string
}

// process validates one frame, commits it and returns the reply to send
// (nil for none). It is the whole policy of the receiver:
//
//   - unparsable, bad CRC or bad length: NAK (or silence), never ACK;
//   - token other than SIA-DCS, ADM-CID, NULL: DUH;
//   - unknown account: NAK and OnUnknownAccount;
//   - no key / wrong key / plain frame for an encrypted account: NAK;
//   - timestamp outside the window: NAK carrying the receiver's time;
//   - otherwise commit, then ACK (or *ACK); NAK if the commit failed.
func (s *Server) process(ctx context.Context, raw []byte, o origin, done chan error) []byte {
	m := s.metrics
	m.Frames.Add(1)
	now := s.cfg.Now().UTC()
	rej := func(reason Reason, err error, f *dc09.Frame, reply []byte, resp string) []byte {
		r := Rejection{Reason: reason, Err: err, Frame: f, Raw: append([]byte(nil), raw...), Remote: o.remote,
			Transport: o.transport, ReceivedAt: now, Response: resp}
		if reply == nil {
			r.Response = ""
			m.Unanswered.Add(1)
		}
		switch reason {
		case ReasonBadFrame:
			m.BadFrames.Add(1)
		case ReasonUnknownAccount:
			m.UnknownAccounts.Add(1)
		default:
			m.Rejected.Add(1)
		}
		switch resp {
		case "NAK":
			if reply != nil {
				m.Naks.Add(1)
			}
		case "DUH":
			m.Duhs.Add(1)
		}
		if reason == ReasonUnknownAccount && s.cfg.OnUnknownAccount != nil {
			s.cfg.OnUnknownAccount(ctx, r)
		} else if s.cfg.OnReject != nil {
			s.cfg.OnReject(ctx, r)
		}
		s.log.Debug("alarm receiver: frame refused", "reason", reason, "err", err, "remote", o.remote, "transport", o.transport)
		return reply
	}
	nak := func(f *dc09.Frame) []byte { return dc09.NAK(now, f != nil && f.CRCBinary) }
	badFrame := func(f *dc09.Frame, err error) []byte {
		if s.cfg.SilentOnBadFrame {
			return rej(ReasonBadFrame, err, f, nil, "NAK")
		}
		return rej(ReasonBadFrame, err, f, nak(f), "NAK")
	}

	f, err := dc09.Parse(raw)
	if err != nil {
		return badFrame(f, err)
	}
	// Screen the CRC under every tolerance before trusting the header
	// enough to look the account up: a corrupted account number must not
	// be reported as an unknown account.
	if !f.CRCOK(dc09.Quirks{Lenient: true}) || !f.LengthOK(dc09.Quirks{Lenient: true}) {
		return badFrame(f, f.Verify(dc09.Quirks{Lenient: true}))
	}
	switch f.Token {
	case dc09.TokenSIA, dc09.TokenCID, dc09.TokenNull:
	default:
		return rej(ReasonUnsupported, errors.New("receiver: unsupported token "+f.Token), f, dc09.DUH(f), "DUH")
	}
	acct, ok, err := s.cfg.Accounts.Lookup(ctx, f.Receiver, f.Line, f.Account)
	if err != nil {
		return rej(ReasonLookup, err, f, nak(f), "NAK")
	}
	if !ok {
		return rej(ReasonUnknownAccount, errors.New("receiver: unknown account "+f.Account), f, nak(f), "NAK")
	}
	if err := f.Verify(acct.Quirks); err != nil {
		return badFrame(f, err)
	}
	switch {
	case f.Encrypted && len(acct.Key) == 0:
		return rej(ReasonKey, errors.New("receiver: encrypted frame but the account has no key"), f, nak(f), "NAK")
	case !f.Encrypted && acct.Encrypted:
		return rej(ReasonKey, errors.New("receiver: plain frame for an account that requires encryption"), f, nak(f), "NAK")
	}
	if err := f.Decrypt(acct.Key, acct.Quirks); err != nil {
		return rej(ReasonDecrypt, err, f, nak(f), "NAK")
	}
	if err := f.CheckTime(now.Add(acct.Quirks.ClockOffset), s.cfg.Window, s.cfg.CheckPlainTimestamp); err != nil {
		return rej(ReasonTimestamp, err, f, nak(f), "NAK")
	}
	sig := Signal{Frame: f, Account: acct, ReceivedAt: now, Remote: o.remote, Transport: o.transport,
		Raw: append([]byte(nil), raw...)}
	if s.cfg.OnAccept != nil {
		sig.Note = s.cfg.OnAccept(ctx, sig)
	}
	if err := s.commit(sig, done); err != nil {
		if s.cfg.SilentOnCommitError {
			return rej(ReasonCommit, err, f, nil, "NAK")
		}
		return rej(ReasonCommit, err, f, nak(f), "NAK")
	}
	ack, err := dc09.ACK(f, s.cfg.Now().UTC().Truncate(time.Second), acct.Key, s.cfg.Pad)
	if err != nil {
		// Only a failing pad source gets here; the signal is stored, and the
		// panel's retry will be ACKed (and de-duplicated by the sink).
		s.log.Error("alarm receiver: building ACK", "err", err)
		m.Unanswered.Add(1)
		return nil
	}
	m.Acks.Add(1)
	return ack
}

// nakNow is the NAK for a frame too large to parse (so its CRC form is unknown).
func (s *Server) nakNow() []byte { return dc09.NAK(s.cfg.Now(), false) }
