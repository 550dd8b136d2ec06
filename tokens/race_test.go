//go:build race

package tokens

// The race detector slows Recognize about tenfold; the full million runs without it.
func init() { fpSamples = 100_000 }
