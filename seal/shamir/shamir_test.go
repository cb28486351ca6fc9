package shamir_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"testing"

	bao "github.com/openbao/openbao/sdk/v2/helper/shamir"

	"github.com/keycustodian/custodian/seal"
	"github.com/keycustodian/custodian/seal/shamir"
)

var _ seal.Splitter = shamir.Seal{}

// newSecret returns a random 32-byte root key.
func newSecret(t testing.TB) []byte {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// split splits secret and checks the shape of what Split returns: n shares,
// each one byte longer than the secret, the last byte a distinct non-zero
// x coordinate.
func split(t testing.TB, secret []byte, n, threshold int) [][]byte {
	t.Helper()
	shares, err := shamir.Seal{}.Split(secret, n, threshold)
	if err != nil {
		t.Fatalf("Split(n=%d, threshold=%d): %v", n, threshold, err)
	}
	if len(shares) != n {
		t.Fatalf("Split(n=%d, threshold=%d) returned %d shares", n, threshold, len(shares))
	}
	seen := map[byte]bool{}
	for i, s := range shares {
		if len(s) != len(secret)+1 {
			t.Fatalf("share %d is %d bytes, want %d", i, len(s), len(secret)+1)
		}
		x := s[len(s)-1]
		if x == 0 || seen[x] {
			t.Fatalf("share %d has x coordinate %d (zero or repeated)", i, x)
		}
		seen[x] = true
	}
	return shares
}

func combine(t testing.TB, shares [][]byte) []byte {
	t.Helper()
	got, err := shamir.Seal{}.Combine(shares)
	if err != nil {
		t.Fatalf("Combine(%d shares): %v", len(shares), err)
	}
	return got
}

// pick returns the shares at the given positions.
func pick(shares [][]byte, idx []int) [][]byte {
	out := make([][]byte, len(idx))
	for i, j := range idx {
		out[i] = shares[j]
	}
	return out
}

// subsets calls f with every k-element subset of 0..n-1, in order.
func subsets(n, k int, f func([]int)) {
	idx := make([]int, 0, k)
	var rec func(start int)
	rec = func(start int) {
		if len(idx) == k {
			f(append([]int(nil), idx...))
			return
		}
		for i := start; i <= n-(k-len(idx)); i++ {
			idx = append(idx, i)
			rec(i + 1)
			idx = idx[:len(idx)-1]
		}
	}
	rec(0)
}

func TestSubsetsHelper(t *testing.T) {
	// The exhaustive tests below are only as good as this enumeration.
	for _, c := range []struct{ n, k, want int }{{5, 3, 10}, {6, 1, 6}, {6, 6, 1}, {8, 4, 70}, {4, 0, 1}} {
		got := map[string]bool{}
		subsets(c.n, c.k, func(s []int) { got[fmt.Sprint(s)] = true })
		if len(got) != c.want {
			t.Errorf("subsets(%d, %d) gave %d distinct subsets, want %d", c.n, c.k, len(got), c.want)
		}
	}
}

func TestSplitCombineRoundTrip(t *testing.T) {
	for _, c := range []struct{ n, threshold int }{
		{1, 1}, {2, 1}, {2, 2}, {3, 2}, {3, 3}, {5, 1}, {5, 3}, {5, 5},
		{10, 7}, {16, 2}, {255, 1}, {255, 2}, {255, 255},
	} {
		t.Run(fmt.Sprintf("n=%d,t=%d", c.n, c.threshold), func(t *testing.T) {
			secret := newSecret(t)
			shares := split(t, secret, c.n, c.threshold)
			perm := mrand.Perm(c.n)
			try := map[string][]int{"random subset": perm[:c.threshold]}
			if c.threshold < c.n {
				try["first threshold"] = seq(0, c.threshold)
				try["last threshold"] = seq(c.n-c.threshold, c.n)
			}
			// Combining is quadratic in the number of shares: all 255
			// are combined only once, at threshold 255.
			if c.threshold < c.n && c.n <= 16 {
				try["all shares"] = perm
			}
			for name, idx := range try {
				if got := combine(t, pick(shares, idx)); !bytes.Equal(got, secret) {
					t.Errorf("%s: Combine = %x, want %x", name, got, secret)
				}
			}
		})
	}
}

func seq(from, to int) []int {
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// TestEverySubset checks, for small splits, every subset of the shares:
// those of threshold or more recombine the secret, in any order; those of
// fewer do not.
func TestEverySubset(t *testing.T) {
	for n := 1; n <= 6; n++ {
		for threshold := 1; threshold <= n; threshold++ {
			secret := newSecret(t)
			shares := split(t, secret, n, threshold)
			for k := 1; k <= n; k++ {
				subsets(n, k, func(idx []int) {
					mrand.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
					got := combine(t, pick(shares, idx))
					if ok := bytes.Equal(got, secret); ok != (k >= threshold) {
						t.Errorf("n=%d t=%d shares %v: recombined the secret: %v, want %v", n, threshold, idx, ok, k >= threshold)
					}
				})
			}
		}
	}
}

// TestFewerThanThresholdProperty checks over many secrets that one share
// short of the threshold never gives the secret back. (A wrong answer
// matches by chance with probability 2^-256.)
func TestFewerThanThresholdProperty(t *testing.T) {
	for _, c := range []struct{ n, threshold int }{{2, 2}, {3, 2}, {5, 3}, {7, 5}, {20, 20}} {
		for range 200 {
			secret := newSecret(t)
			shares := split(t, secret, c.n, c.threshold)
			idx := mrand.Perm(c.n)[:c.threshold-1]
			if got := combine(t, pick(shares, idx)); bytes.Equal(got, secret) {
				t.Fatalf("n=%d t=%d: %d shares %v recombined the secret", c.n, c.threshold, len(idx), idx)
			}
		}
	}
}

// TestMixedSplits checks that shares of two splits together give neither
// secret: the caller's check value catches such a mix, so Combine must not
// hand back one of the secrets by accident.
func TestMixedSplits(t *testing.T) {
	for range 200 {
		a, b := newSecret(t), newSecret(t)
		sa, sb := split(t, a, 5, 3), split(t, b, 5, 3)
		mixed := [][]byte{sa[0], sa[1]}
		for _, s := range sb {
			if x := s[len(s)-1]; x != sa[0][len(sa[0])-1] && x != sa[1][len(sa[1])-1] {
				mixed = append(mixed, s)
				break
			}
		}
		got := combine(t, mixed)
		if bytes.Equal(got, a) || bytes.Equal(got, b) {
			t.Fatalf("shares of two splits combined to one of the secrets")
		}
		if len(got) != len(a) {
			t.Fatalf("Combine returned %d bytes, want %d", len(got), len(a))
		}
	}
}

// TestAgainstReference checks that our shares are OpenBao's: each side's
// Split recombines with the other side's Combine.
func TestAgainstReference(t *testing.T) {
	for _, c := range []struct{ n, threshold int }{{2, 2}, {3, 2}, {5, 3}, {5, 5}, {10, 6}, {255, 3}, {255, 17}} {
		t.Run(fmt.Sprintf("n=%d,t=%d", c.n, c.threshold), func(t *testing.T) {
			secret := newSecret(t)
			ours := split(t, secret, c.n, c.threshold)
			idx := mrand.Perm(c.n)[:c.threshold]
			got, err := bao.Combine(pick(ours, idx))
			if err != nil || !bytes.Equal(got, secret) {
				t.Errorf("reference Combine of our shares = %x, %v; want %x", got, err, secret)
			}

			theirs, err := bao.Split(secret, c.n, c.threshold)
			if err != nil {
				t.Fatal(err)
			}
			if got := combine(t, pick(theirs, idx)); !bytes.Equal(got, secret) {
				t.Errorf("our Combine of reference shares = %x, want %x", got, secret)
			}
		})
	}
}

// TestThresholdOne covers our own case: OpenBao refuses a threshold below
// two, so a threshold-1 split is ours. Each share alone is the secret, and
// any two are points of a constant polynomial, which the reference
// recombines.
func TestThresholdOne(t *testing.T) {
	if _, err := bao.Split(newSecret(t), 3, 1); err == nil {
		t.Fatal("the reference now accepts threshold 1; reconsider our special case")
	}
	for _, n := range []int{1, 2, 5, 255} {
		secret := newSecret(t)
		shares := split(t, secret, n, 1)
		for i, s := range shares {
			if got := combine(t, [][]byte{s}); !bytes.Equal(got, secret) {
				t.Errorf("n=%d share %d alone = %x, want %x", n, i, got, secret)
			}
		}
		if n >= 2 {
			got, err := bao.Combine([][]byte{shares[0], shares[n-1]})
			if err != nil || !bytes.Equal(got, secret) {
				t.Errorf("n=%d reference Combine of two threshold-1 shares = %x, %v; want %x", n, got, err, secret)
			}
		}
	}
}

// TestNoAliasing checks that Split copies the secret and Combine returns a
// fresh slice: callers wipe both.
func TestNoAliasing(t *testing.T) {
	for _, threshold := range []int{1, 2} {
		secret := newSecret(t)
		want := bytes.Clone(secret)
		shares := split(t, secret, 3, threshold)
		clear(secret)
		got := combine(t, shares[:threshold])
		if !bytes.Equal(got, want) {
			t.Fatalf("t=%d: wiping the secret after Split changed the shares", threshold)
		}
		before := bytes.Clone(shares[0])
		clear(got)
		if !bytes.Equal(shares[0], before) {
			t.Fatalf("t=%d: wiping Combine's result changed a share", threshold)
		}
	}
}

func TestCheckSplit(t *testing.T) {
	for _, c := range []struct {
		n, threshold int
		ok           bool
	}{
		{1, 1, true}, {2, 1, true}, {5, 3, true}, {255, 1, true}, {255, 255, true},
		{shamir.DefaultShares, shamir.DefaultThreshold, true},
		{0, 0, false}, {0, 1, false}, {1, 0, false}, {5, 0, false}, {5, -1, false},
		{-1, -1, false}, {3, 4, false}, {1, 2, false}, {256, 2, false}, {256, 256, false},
		{255, 256, false}, {1000, 3, false},
	} {
		err := shamir.CheckSplit(c.n, c.threshold)
		if (err == nil) != c.ok {
			t.Errorf("CheckSplit(%d, %d) = %v, want ok=%v", c.n, c.threshold, err, c.ok)
			continue
		}
		shares, serr := shamir.Seal{}.Split(newSecret(t), c.n, c.threshold)
		if (serr == nil) != c.ok || (serr != nil && shares != nil) {
			t.Errorf("Split(n=%d, threshold=%d) = %d shares, %v; want ok=%v", c.n, c.threshold, len(shares), serr, c.ok)
		}
		if c.ok {
			continue
		}
		// The message names what was asked and what is allowed.
		for _, want := range []string{
			"shamir:", fmt.Sprintf("%d shares with threshold %d", c.n, c.threshold), "1 <= threshold <= shares <= 255",
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("CheckSplit(%d, %d) = %q, want it to contain %q", c.n, c.threshold, err, want)
			}
		}
	}
}

func TestSplitRefusesEmptySecret(t *testing.T) {
	for _, secret := range [][]byte{nil, {}} {
		shares, err := shamir.Seal{}.Split(secret, 5, 3)
		if err == nil || shares != nil {
			t.Fatalf("Split(%v) = %d shares, %v; want an error", secret, len(shares), err)
		}
		if !strings.Contains(err.Error(), "empty secret") {
			t.Errorf("Split of an empty secret: %q does not say why", err)
		}
	}
}

// TestCombineRefuses lists inputs that no Split produces. Combine must
// refuse each with an error rather than return garbage.
func TestCombineRefuses(t *testing.T) {
	shares := split(t, newSecret(t), 5, 3)
	withX := func(s []byte, x byte) []byte {
		s = bytes.Clone(s)
		s[len(s)-1] = x
		return s
	}
	otherY := bytes.Clone(shares[1])
	otherY[0] ^= 1
	for _, c := range []struct {
		name   string
		shares [][]byte
		want   string
	}{
		{"nil", nil, "no shares"},
		{"empty", [][]byte{}, "no shares"},
		{"one empty share", [][]byte{{}}, "malformed"},
		{"one 1-byte share", [][]byte{{7}}, "malformed"},
		{"one share at x=0", [][]byte{withX(shares[0], 0)}, "x coordinate 0"},
		{"a share at x=0 among good ones", [][]byte{shares[0], shares[1], withX(shares[2], 0)}, "x coordinate 0"},
		{"a share at x=0 first", [][]byte{withX(shares[2], 0), shares[0], shares[1]}, "x coordinate 0"},
		{"the same share twice", [][]byte{shares[0], shares[1], shares[0]}, "same x coordinate"},
		{"two shares at one x", [][]byte{shares[1], shares[2], otherY}, "same x coordinate"},
		{"different lengths", [][]byte{shares[0], shares[1], shares[2][1:]}, "malformed"},
		{"a short share among good ones", [][]byte{shares[0], {1}}, "malformed"},
		{"an empty share among good ones", [][]byte{shares[0], {}}, "malformed"},
	} {
		got, err := shamir.Seal{}.Combine(c.shares)
		if err == nil {
			t.Errorf("%s: Combine = %x, want an error", c.name, got)
			continue
		}
		if got != nil {
			t.Errorf("%s: Combine returned %x with its error", c.name, got)
		}
		if !strings.HasPrefix(err.Error(), "shamir: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Combine error %q, want it to contain %q", c.name, err, c.want)
		}
	}
}

func TestType(t *testing.T) {
	// The name is recorded in stores: it must never change.
	if got := (shamir.Seal{}).Type(); got != "shamir" {
		t.Errorf("Type() = %q, want %q", got, "shamir")
	}
}

// ExampleSeal_Split splits a root key among five people, any three of
// whom can unseal.
func ExampleSeal_Split() {
	root := []byte("an example root key of 32 bytes!")
	shares, err := shamir.Seal{}.Split(root, 5, 3)
	if err != nil {
		panic(err)
	}
	var texts []string // what each holder keeps
	for _, s := range shares {
		texts = append(texts, shamir.EncodeShare(s))
	}

	var collected [][]byte
	for _, text := range []string{texts[4], texts[0], texts[2]} {
		s, err := shamir.DecodeShare(text)
		if err != nil {
			panic(err)
		}
		collected = append(collected, s)
	}
	got, err := shamir.Seal{}.Combine(collected)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(got))
	// Output: an example root key of 32 bytes!
}
