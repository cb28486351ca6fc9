//go:build race

package e2e

// raceEnabled builds the binary with -race when the tests are.
const raceEnabled = true
