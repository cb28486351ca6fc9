package custodian_test

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"testing"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/store/memory"
)

func TestRootToken(t *testing.T) {
	st, kf := memory.New(), rrKeyfile(t)
	c, err := custodian.Open(bgCtx, custodian.Options{Store: st, Seal: kf, RotationCheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.Init(bgCtx, custodian.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	token := custodian.Reveal(res.RootToken)
	if len(token) < 40 || string(token[:5]) != "kct1." {
		t.Fatalf("root token %d bytes, prefix %q", len(token), token[:5])
	}
	if err := c.CheckRootToken(bgCtx, token); err != nil {
		t.Fatalf("the root token is refused: %v", err)
	}
	for _, bad := range [][]byte{nil, {}, token[:len(token)-1], append([]byte{}, append(token, 'x')...), []byte("kct1.AAAA")} {
		if err := c.CheckRootToken(bgCtx, bad); !errors.Is(err, custodian.ErrInvalidToken) {
			t.Errorf("CheckRootToken(%q): err = %v, want ErrInvalidToken", bad, err)
		}
	}
	// It survives a root rotation, and a restart.
	if _, err := c.RotateRoot(bgCtx, custodian.RotateRootOptions{}); err != nil {
		t.Fatal(err)
	}
	again, err := custodian.Open(bgCtx, custodian.Options{Store: st, Seal: kf, RotationCheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := again.CheckRootToken(bgCtx, token); err != nil {
		t.Fatalf("the root token after RotateRoot, in another custodian: %v", err)
	}
	// Sealed, nothing is accepted.
	if err := c.Seal(bgCtx); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckRootToken(bgCtx, token); !errors.Is(err, custodian.ErrSealed) {
		t.Fatalf("CheckRootToken while sealed: %v, want ErrSealed", err)
	}
	// A new token replaces the old one, in this custodian and the other.
	fresh, err := again.NewRootToken(bgCtx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := again.CheckRootToken(bgCtx, token); !errors.Is(err, custodian.ErrInvalidToken) {
		t.Fatalf("the old token after NewRootToken: %v", err)
	}
	if err := again.CheckRootToken(bgCtx, custodian.Reveal(fresh)); err != nil {
		t.Fatalf("the new token: %v", err)
	}
	// (again is not closed: closing a memory store empties it.)

	// A token hash planted in the store is refused: its MAC does not verify.
	raw, err := st.GetMeta(bgCtx, "root")
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	planted := []byte("kct1.attacker")
	h := sha256.Sum256(planted)
	rec["token_hash"] = h[:]
	forged, _ := json.Marshal(rec)
	if err := st.PutMeta(bgCtx, "root", raw, forged); err != nil {
		t.Fatal(err)
	}
	victim, err := custodian.Open(bgCtx, custodian.Options{Store: st, Seal: kf, RotationCheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close()
	if err := victim.CheckRootToken(bgCtx, planted); !errors.Is(err, custodian.ErrInvalidToken) {
		t.Fatalf("a planted token: err = %v, want ErrInvalidToken", err)
	}
}

func TestRootTokenShamirNeedsQuorum(t *testing.T) {
	c, shares := slOpenShamir(t, 3, 2)
	slUnseal(t, c, shares[:2]...)
	if _, err := c.NewRootToken(bgCtx, nil); !errors.Is(err, custodian.ErrInvalidArgument) {
		t.Fatalf("NewRootToken without shares: %v, want ErrInvalidArgument", err)
	}
	tok, err := c.NewRootToken(bgCtx, shares[1:])
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckRootToken(bgCtx, custodian.Reveal(tok)); err != nil {
		t.Fatal(err)
	}
}
