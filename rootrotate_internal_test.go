package custodian

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/keycustodian/custodian/internal/barrier"
	"github.com/keycustodian/custodian/internal/secret"
	"github.com/keycustodian/custodian/seal/keyfile"
	"github.com/keycustodian/custodian/store"
	"github.com/keycustodian/custodian/store/bolt"
)

// TestRotateRootResumesAfterInterruption stops a root rotation after its
// first step, as a crash would, and checks that the next Custodian to
// unseal the store finishes it in the background, that records stay
// readable throughout, and that the old root key opens nothing after.
func TestRotateRootResumesAfterInterruption(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	kf, err := keyfile.Create(filepath.Join(dir, "k"))
	if err != nil {
		t.Fatal(err)
	}
	var st store.Store
	open := func() *Custodian {
		if st, err = bolt.Open(filepath.Join(dir, "keys.db"), bolt.Options{}); err != nil {
			t.Fatal(err)
		}
		c, err := Open(ctx, Options{Store: st, Seal: kf, RotationCheckInterval: -1, ResealBatch: 3})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := open()
	if _, err := c.Init(ctx, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	var cts []Ciphertext
	for i := range 10 {
		name := fmt.Sprintf("k%d", i)
		if _, err := c.CreateKey(ctx, name, nil); err != nil {
			t.Fatal(err)
		}
		ct, err := c.Encrypt(ctx, name, []byte(name), nil)
		if err != nil {
			t.Fatal(err)
		}
		cts = append(cts, ct)
	}
	oldRoot := secret.New(secret.Reveal(c.root.root))

	// The first step only (switchRoot starts no walk): new root key and
	// term, nothing re-sealed.
	if _, err := c.switchRoot(ctx, RotateRootOptions{}); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.Status(ctx); s.Terms != 2 || s.ActiveTerm != 2 {
		t.Fatalf("after the first step: %+v, want two terms", s)
	}
	for i, ct := range cts {
		if _, err := c.Decrypt(ctx, ct, nil); err != nil {
			t.Fatalf("mid-rotation Decrypt %d: %v", i, err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	c = open()
	rec, _, err := c.readRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := barrier.OpenKeyring(oldRoot, rec.Keyring); !errors.Is(err, barrier.ErrRootKey) {
		t.Fatalf("the old root key still opens the keyring after the first step: %v", err)
	}
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := c.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.Terms == 1 && s.ActiveTerm == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the interrupted rotation did not finish in the background: %+v", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i, ct := range cts {
		if _, err := c.Decrypt(ctx, ct, nil); err != nil {
			t.Fatalf("Decrypt %d after the resumed rotation: %v", i, err)
		}
	}
	err = st.Dump(ctx, func(string, []byte) error { return nil }, func(k store.Key, vs []store.Version) error {
		for _, v := range vs {
			if term, _ := barrier.TermOf(v.Material); term != 2 {
				return fmt.Errorf("key %s version %d still under term %d", k.Name, v.Number, term)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
