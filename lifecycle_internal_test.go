package custodian

import (
	"slices"
	"testing"
)

// TestLifecycleTableWellFormed checks the lifecycle map itself, which the
// public API only shows through State.Allows: one row per state of States,
// only operations of Operations, none twice.
func TestLifecycleTableWellFormed(t *testing.T) {
	if len(lifecycle) != len(States()) {
		t.Errorf("lifecycle has %d states, States() %d", len(lifecycle), len(States()))
	}
	for _, s := range States() {
		ops, ok := lifecycle[s]
		if !ok {
			t.Errorf("lifecycle has no row for state %q", s)
			continue
		}
		seen := map[Operation]bool{}
		for _, op := range ops {
			if !slices.Contains(Operations(), op) {
				t.Errorf("state %q allows %q, which Operations() does not list", s, op)
			}
			if seen[op] {
				t.Errorf("state %q lists %q twice", s, op)
			}
			seen[op] = true
		}
		if !slices.Contains(ops, OpGet) {
			t.Errorf("state %q does not allow get: every key must stay visible", s)
		}
	}
	if ops := Operations(); len(slices.Compact(slices.Sorted(slices.Values(ops)))) != len(ops) {
		t.Errorf("Operations() lists an operation twice: %v", ops)
	}
	// checkState's refusal names the state; nil for an allowed cell.
	for _, s := range States() {
		for _, op := range Operations() {
			if err := checkState(s, op); (err == nil) != s.Allows(op) {
				t.Errorf("checkState(%q, %q) = %v, Allows = %v", s, op, err, s.Allows(op))
			}
		}
	}
}
