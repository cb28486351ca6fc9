package custodian

import (
	"context"
	"fmt"
	"testing"

	"github.com/keycustodian/custodian/internal/leaktest"
	"github.com/keycustodian/custodian/internal/secret"
	"github.com/keycustodian/custodian/seal/shamir"
	"github.com/keycustodian/custodian/store/memory"
)

// TestSecretLeakSealing formats everything the sealing layer holds or
// returns — the Custodian mid-unseal and unsealed, its root state, vault
// and barrier, Init's, Rekey's and RotateRoot's results, Status — and finds
// neither a share, the root key nor a keyring term in any rendering.
func TestSecretLeakSealing(t *testing.T) {
	ctx := context.Background()
	c, err := Open(ctx, Options{Store: memory.New(), Seal: shamir.Seal{}, RotationCheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.Init(ctx, InitOptions{Shares: 3, Threshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string][]byte{"root token": secret.Reveal(res.RootToken)}
	shares := make([][]byte, len(res.Shares))
	for i, s := range res.Shares {
		shares[i] = secret.Reveal(s)
		secrets[fmt.Sprintf("share %d (text)", i)] = shares[i]
		raw, err := shamir.DecodeShare(string(shares[i]))
		if err != nil {
			t.Fatal(err)
		}
		secrets[fmt.Sprintf("share %d", i)] = raw
	}
	check := func(what string) {
		t.Helper()
		leaktest.Check(t, what+": *Custodian", c, secrets)
		c.sealing.Lock()
		root := c.root
		c.sealing.Unlock()
		leaktest.Check(t, what+": rootState", root, secrets)
		if v := c.vault.Load(); v != nil {
			leaktest.Check(t, what+": *vault", v, secrets)
			leaktest.Check(t, what+": *Barrier", v.barrier, secrets)
			leaktest.Check(t, what+": Barrier", *v.barrier, secrets)
		}
	}
	leaktest.Check(t, "*InitResult", res, secrets)
	leaktest.Check(t, "InitResult", *res, secrets)

	if _, err := c.Unseal(ctx, shares[0]); err != nil {
		t.Fatal(err)
	}
	check("mid-unseal")
	if _, err := c.Unseal(ctx, shares[2]); err != nil {
		t.Fatal(err)
	}
	secrets["root key"] = secret.Reveal(c.root.root)
	for _, term := range c.root.keyring.Terms {
		secrets[fmt.Sprintf("term %d", term.Number)] = secret.Reveal(term.Key)
	}
	if _, err := c.CreateKey(ctx, "k", nil); err != nil {
		t.Fatal(err)
	}
	check("unsealed")
	leaktest.Check(t, "Keyring", c.root.keyring, secrets)
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leaktest.Check(t, "*Status", st, secrets)

	rot, err := c.RotateRoot(ctx, RotateRootOptions{Shares: shares[:2]})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range rot.Shares {
		secrets[fmt.Sprintf("new share %d", i)] = secret.Reveal(s)
	}
	secrets["new root key"] = secret.Reveal(c.root.root)
	for _, term := range c.root.keyring.Terms {
		secrets[fmt.Sprintf("new term %d", term.Number)] = secret.Reveal(term.Key)
	}
	leaktest.Check(t, "*RootRotation", rot, secrets)
	check("after RotateRoot")
	// Errors of failed unseals name no share.
	if err := c.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	c.Unseal(ctx, shares[0])
	_, err = c.Unseal(ctx, shares[1])
	if err == nil {
		t.Fatal("old shares unsealed after RotateRoot")
	}
	leaktest.Check(t, "failed unseal error", err, secrets)
	leaktest.Check(t, "failed unseal message", err.Error(), secrets)
}
