//go:build !unix

package bus

// lockDir is a no-op where flock is unavailable; the single-process rule for
// the embedded store then rests on the operator.
func lockDir(string) (func(), error) { return func() {}, nil }
