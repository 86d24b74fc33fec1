package dc09

// crcTable is CRC-16/ARC (poly 0x8005 reflected = 0xA001, init 0, no final
// XOR), the checksum every interoperable DC-09 implementation uses. CCITT
// variants seen in some snippets do not validate real frames.
var crcTable = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0xA001
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// CRC returns the CRC-16/ARC of b. CRC([]byte("123456789")) == 0xBB3D.
func CRC(b []byte) uint16 { return crcUpdate(0, b) }

func crcUpdate(c uint16, b []byte) uint16 {
	for _, x := range b {
		c = c>>8 ^ crcTable[byte(c)^x]
	}
	return c
}
