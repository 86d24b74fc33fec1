// Package dc09 parses and builds SIA DC-09 ("SIA IP reporting") frames: the
// LF…CR envelope with its CRC-16/ARC and length, the ID token, sequence,
// receiver, line and account fields, the data and extended-data blocks, the
// timestamp, AES-CBC encryption with a zero IV, and the receiver's replies
// (ACK, *ACK, NAK, DUH).
//
// Decoding is split in steps because a receiver only learns which account
// (and therefore which key and which panel quirks) a frame belongs to after
// reading its header:
//
//	f, err := dc09.Parse(raw)             // envelope, header, plaintext body
//	acct := lookup(f.Receiver, f.Line, f.Account)
//	err = f.Verify(acct.Quirks)           // CRC and length under the account's quirks
//	err = f.Decrypt(acct.Key, acct.Quirks) // encrypted frames only
//	err = f.CheckTime(now, window, true)  // mandatory for encrypted frames
//
// The package does no I/O and keeps no state; it is safe for concurrent use.
// Protocol facts follow /work/shared/reference/alarm-protocols.md §1: the CRC
// is computed over the bytes exactly as received, hex input is accepted in
// either case, and hex output is always upper case.
package dc09
