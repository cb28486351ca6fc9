package custodian_test

import (
	"context"
	"errors"
	"testing"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/store"
	"github.com/keycustodian/custodian/store/memory"
)

// TestSealedMaterialBindsKeyFacts: someone who can write to the store but
// does not hold the root key changes a key's immutable facts (exportable,
// usage) in its record. The sealed material is bound to those facts, so it
// no longer opens and the change buys nothing.
func TestSealedMaterialBindsKeyFacts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		create custodian.CreateOptions
		tamper func(*store.Key)
		use    func(ctx context.Context, c *custodian.Custodian, name string) error
	}{
		{
			name:   "non-exportable made exportable",
			create: custodian.CreateOptions{Type: custodian.AES256GCM},
			tamper: func(k *store.Key) { k.Exportable = true },
			use: func(ctx context.Context, c *custodian.Custodian, name string) error {
				_, err := c.ExportKey(ctx, name, nil)
				return err
			},
		},
		{
			name:   "rsa encrypt key turned into a signing key",
			create: custodian.CreateOptions{Type: custodian.RSA2048},
			tamper: func(k *store.Key) { k.Usage = string(custodian.UsageSign) },
			use: func(ctx context.Context, c *custodian.Custodian, name string) error {
				_, err := c.Sign(ctx, name, []byte("forged release"), nil)
				return err
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			st := memory.New()
			// A cache of one entry, so the tampered record is read back.
			c, err := custodian.New(custodian.Options{Store: st, CacheSize: 1})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.CreateKey(ctx, "victim", &tc.create); err != nil {
				t.Fatal(err)
			}
			if err := tc.use(ctx, c, "victim"); err == nil {
				t.Fatal("the operation works before tampering: the test proves nothing")
			}
			rec, err := st.Lookup(ctx, "victim")
			if err != nil {
				t.Fatal(err)
			}
			tc.tamper(&rec)
			if _, err := st.Update(ctx, rec, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := c.CreateKey(ctx, "evictor", nil); err != nil { // evicts victim from the caches
				t.Fatal(err)
			}
			err = tc.use(ctx, c, "victim")
			if err == nil {
				t.Fatal("tampered record was honoured")
			}
			if errors.Is(err, custodian.ErrUnsupportedOperation) {
				t.Fatalf("refused by the (tampered) metadata check, not by the sealed material: %v", err)
			}
		})
	}
}
