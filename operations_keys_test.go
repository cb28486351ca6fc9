package custodian_test

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
)

func TestOpKeyTypesCovered(t *testing.T) {
	types := custodian.KeyTypes()
	seen := map[custodian.KeyType]bool{}
	for _, typ := range types {
		if seen[typ] {
			t.Errorf("KeyTypes lists %s twice", typ)
		}
		seen[typ] = true
		if _, ok := opTypes[typ]; !ok {
			t.Errorf("key type %s has no row in opTypes: add its capabilities to these tests", typ)
		}
	}
	for typ := range opTypes {
		if !seen[typ] {
			t.Errorf("opTypes has %s, which KeyTypes does not list", typ)
		}
	}
	if custodian.DefaultKeyType != custodian.AES256GCM {
		t.Errorf("DefaultKeyType = %s, want aes256-gcm", custodian.DefaultKeyType)
	}
}

// --- create, get, list --------------------------------------------------

func TestOpCreateDefaults(t *testing.T) {
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	k := opMust(c.CreateKey(ctx, "default", nil))(t)
	if k.Type != custodian.AES256GCM || k.Usage != custodian.UsageEncrypt || k.Exportable || k.State != custodian.StateEnabled {
		t.Errorf("CreateKey(nil) = type %s usage %s exportable %v state %s, want aes256-gcm, encrypt, false, enabled", k.Type, k.Usage, k.Exportable, k.State)
	}
	if k.PrimaryVersion != 1 || k.LatestVersion != 1 || k.MinDecryptionVersion != 1 || len(k.Versions) != 1 ||
		k.Versions[0].Version != 1 || k.Versions[0].State != custodian.VersionEnabled {
		t.Errorf("new key versions = primary %d latest %d min %d %+v, want one enabled version 1",
			k.PrimaryVersion, k.LatestVersion, k.MinDecryptionVersion, k.Versions)
	}
	if id, err := hex.DecodeString(k.ID); err != nil || len(id) != 12 {
		t.Errorf("key id %q is not 24 hex digits", k.ID)
	}
	if k.Created.IsZero() || !k.Updated.Equal(k.Created) || k.Name != "default" {
		t.Errorf("new key: name %q created %v updated %v", k.Name, k.Created, k.Updated)
	}
	k2 := opMust(c.CreateKey(ctx, "zero-options", &custodian.CreateOptions{}))(t)
	if k2.Type != custodian.AES256GCM || k2.Usage != custodian.UsageEncrypt || k2.Exportable {
		t.Errorf("CreateKey(&CreateOptions{}) = %s usage %s exportable %v", k2.Type, k2.Usage, k2.Exportable)
	}
	if k2.ID == k.ID {
		t.Error("two keys share an id")
	}
	_, err := c.ExportKey(ctx, "default", nil)
	opExpect(t, err, custodian.ErrUnsupportedOperation)

	_, err = c.CreateKey(ctx, "default", nil)
	opExpect(t, err, custodian.ErrKeyExists)

	for _, bad := range []string{"", "-leading-dash", "has space", "tab\t", "ünicode", strings.Repeat("a", custodian.MaxNameLength+1)} {
		_, err := c.CreateKey(ctx, bad, nil)
		opExpect(t, err, custodian.ErrInvalidArgument)
	}
	opMust(c.CreateKey(ctx, strings.Repeat("a", custodian.MaxNameLength), nil))(t)
	opMust(c.CreateKey(ctx, "Team_1/app.key-2", nil))(t)

	for name, opts := range map[string]*custodian.CreateOptions{
		"bad-type":     {Type: "aes128-gcm"},
		"bad-label":    {Labels: map[string]string{"Upper": "x"}},
		"bad-label-v":  {Labels: map[string]string{"ok": strings.Repeat("v", custodian.MaxLabelValueLength+1)}},
		"bad-desc":     {Description: strings.Repeat("d", custodian.MaxDescriptionLength+1)},
		"bad-desc-utf": {Description: "\xff"},
		"bad-rotation": {RotationPeriod: custodian.MinRotationPeriod - time.Second},
		"bad-usage":    {Usage: custodian.UsageSign}, // aes256-gcm only encrypts
	} {
		_, err := c.CreateKey(ctx, name, opts)
		opExpect(t, err, custodian.ErrInvalidArgument)
		_, err = c.GetKey(ctx, name)
		opExpect(t, err, custodian.ErrKeyNotFound)
	}

	full := opMust(c.CreateKey(ctx, "full", &custodian.CreateOptions{
		Type: custodian.ChaCha20Poly1305, Description: "payments", Labels: map[string]string{"team": "pay", "env": "prod"},
		Exportable: true, RotationPeriod: 24 * time.Hour,
	}))(t)
	got := opMust(c.GetKey(ctx, "full"))(t)
	if got.ID != full.ID || got.Type != custodian.ChaCha20Poly1305 || got.Usage != custodian.UsageEncrypt || got.Description != "payments" ||
		got.Labels["team"] != "pay" || got.Labels["env"] != "prod" || len(got.Labels) != 2 ||
		!got.Exportable || got.RotationPeriod != 24*time.Hour {
		t.Errorf("GetKey = %+v, want what CreateKey stored", got)
	}
	_, err = c.GetKey(ctx, "missing")
	opExpect(t, err, custodian.ErrKeyNotFound)
	_, err = c.GetKey(ctx, "")
	opExpect(t, err, custodian.ErrInvalidArgument)
}

func TestOpCreateEveryType(t *testing.T) {
	f := opShared(t)
	for _, r := range opFixtureKeys() {
		t.Run(r.String(), func(t *testing.T) {
			name := f.keyOf(t, r)
			k := opMust(f.c.GetKey(t.Context(), name))(t)
			if k.Type != r.typ || k.Usage != r.usage || !k.Exportable || k.PrimaryVersion != 1 || k.State != custodian.StateEnabled {
				t.Errorf("GetKey = type %s usage %s exportable %v primary %d state %s, want %s, %s", k.Type, k.Usage, k.Exportable, k.PrimaryVersion, k.State, r.typ, r.usage)
			}
		})
	}
}

func TestOpListKeys(t *testing.T) {
	c := opNewCustodian(t, nil)
	ctx := t.Context()
	for _, n := range []string{"app/e", "app/b", "other/x", "app/d", "app/a", "app2/y", "app/c"} {
		opCreate(t, c, n, nil)
	}
	var got []string
	tokens := map[string]bool{}
	opts := &custodian.ListOptions{Prefix: "app/", PageSize: 2}
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("pagination does not end")
		}
		page := opMust(c.ListKeys(ctx, opts))(t)
		wantLen := 2
		if pages == 2 {
			wantLen = 1
		}
		if len(page.Keys) != wantLen {
			t.Fatalf("page %d has %d keys, want %d", pages, len(page.Keys), wantLen)
		}
		for _, k := range page.Keys {
			got = append(got, k.Name)
			if len(k.Versions) != 1 || k.Type != custodian.AES256GCM {
				t.Errorf("listed key %s: %+v", k.Name, k)
			}
		}
		if page.NextPageToken == "" {
			if pages != 2 {
				t.Fatalf("listing ended after page %d, want 3 pages", pages)
			}
			break
		}
		if tokens[page.NextPageToken] || strings.Contains(page.NextPageToken, "app/") {
			t.Errorf("page token %q repeats or shows a name", page.NextPageToken)
		}
		tokens[page.NextPageToken] = true
		opts.PageToken = page.NextPageToken
	}
	if want := []string{"app/a", "app/b", "app/c", "app/d", "app/e"}; !slices.Equal(got, want) {
		t.Errorf("paged listing = %v, want %v", got, want)
	}

	all := opMust(c.ListKeys(ctx, nil))(t)
	var names []string
	for _, k := range all.Keys {
		names = append(names, k.Name)
	}
	if want := []string{"app/a", "app/b", "app/c", "app/d", "app/e", "app2/y", "other/x"}; !slices.Equal(names, want) || all.NextPageToken != "" {
		t.Errorf("ListKeys(nil) = %v token %q, want %v", names, all.NextPageToken, want)
	}
	exact := opMust(c.ListKeys(ctx, &custodian.ListOptions{Prefix: "app/", PageSize: 5}))(t)
	if len(exact.Keys) != 5 || exact.NextPageToken != "" {
		t.Errorf("a page exactly as large as the listing: %d keys, token %q", len(exact.Keys), exact.NextPageToken)
	}
	none := opMust(c.ListKeys(ctx, &custodian.ListOptions{Prefix: "nothing/"}))(t)
	if len(none.Keys) != 0 || none.NextPageToken != "" {
		t.Errorf("empty listing = %+v", none)
	}

	for _, bad := range []custodian.ListOptions{
		{PageToken: "%%% not base64"},
		{PageToken: "LWRhc2g"}, // base64url of "-dash", not a key name
		{PageSize: -1},
		{PageSize: 1001},
	} {
		_, err := c.ListKeys(ctx, &bad)
		opExpect(t, err, custodian.ErrInvalidArgument)
	}
}

// --- rotate and update ----------------------------------------------------

// opRotateKeys are rotated in TestOpRotate: one of each family, RSA with
// each of its usages.
var opRotateKeys = []opKeyRef{
	{custodian.AES256GCM, custodian.UsageEncrypt}, {custodian.ChaCha20Poly1305, custodian.UsageEncrypt},
	{custodian.AES256CBC, custodian.UsageEncrypt}, {custodian.HPKEX25519MLKEM768, custodian.UsageEncrypt},
	{custodian.RSA2048, custodian.UsageEncrypt}, {custodian.RSA2048, custodian.UsageSign},
	{custodian.ECDSAP384, custodian.UsageSign}, {custodian.Ed25519, custodian.UsageSign},
	{custodian.HMACSHA512, custodian.UsageMAC}, {custodian.X25519, custodian.UsageAgree},
	{custodian.ECDHP256, custodian.UsageAgree}, {custodian.DHFFDHE2048, custodian.UsageAgree},
}

func TestOpRotate(t *testing.T) {
	for _, r := range opRotateKeys {
		typ := r.typ
		t.Run(r.String(), func(t *testing.T) {
			t.Parallel()
			c := opNewCustodian(t, nil)
			ctx := t.Context()
			name := "rot/" + r.String()
			opCreate(t, c, name, &custodian.CreateOptions{Type: typ, Usage: r.usage, Exportable: true})
			caps := opKeyCaps(typ, r.usage)
			msg := []byte("rotation keeps old data readable")
			peer := opDHOrECDHPeer(t, c, typ)

			type old struct {
				ct     custodian.Ciphertext
				raw    []byte
				sig    *custodian.Signature
				mac    *custodian.MAC
				secret []byte
				pub    []byte
				export []byte
			}
			var olds []old
			for v := 1; v <= 3; v++ {
				if v > 1 {
					k := opMust(c.RotateKey(ctx, name))(t)
					if k.PrimaryVersion != v || k.LatestVersion != v || k.MinDecryptionVersion != 1 || len(k.Versions) != v {
						t.Fatalf("after rotation %d: primary %d latest %d min %d versions %d", v-1, k.PrimaryVersion, k.LatestVersion, k.MinDecryptionVersion, len(k.Versions))
					}
					if k.Usage != r.usage {
						t.Errorf("after rotation %d: usage %s, want %s: a key's usage is fixed at creation", v-1, k.Usage, r.usage)
					}
					for i, vi := range k.Versions {
						if vi.Version != i+1 || vi.State != custodian.VersionEnabled {
							t.Errorf("version list %+v is not 1..%d, enabled", k.Versions, v)
						}
					}
				}
				var o old
				if caps.enc != nil {
					o.ct = opMust(c.Encrypt(ctx, name, msg, nil))(t)
					o.raw = opMust(c.EncryptRaw(ctx, name, msg, nil))(t)
				}
				if caps.sig != nil {
					o.sig = opMust(c.Sign(ctx, name, msg, nil))(t)
					if o.sig.KeyVersion != v {
						t.Errorf("signature from version %d says %d", v, o.sig.KeyVersion)
					}
				}
				if caps.mac != "" {
					o.mac = opMust(c.MAC(ctx, name, msg, nil))(t)
					if o.mac.KeyVersion != v {
						t.Errorf("mac from version %d says %d", v, o.mac.KeyVersion)
					}
				}
				if caps.agree {
					o.secret = custodian.Reveal(opMust(c.Agree(ctx, name, peer, nil))(t))
				}
				if caps.public {
					o.pub = opMust(c.PublicKey(ctx, name, nil))(t)
				}
				o.export = custodian.Reveal(opMust(c.ExportKey(ctx, name, nil))(t))
				olds = append(olds, o)
			}
			for i, o := range olds {
				v := i + 1
				if caps.enc != nil {
					if pt := opMust(c.Decrypt(ctx, o.ct, nil))(t); !bytes.Equal(pt, msg) {
						t.Errorf("version %d ciphertext decrypts to %q", v, pt)
					}
					if pt := opMust(c.DecryptRaw(ctx, name, o.raw, &custodian.RawOptions{Version: v}))(t); !bytes.Equal(pt, msg) {
						t.Errorf("version %d raw ciphertext decrypts to %q", v, pt)
					}
					if v != 3 && typ != custodian.AES256CBC { // raw CBC is unauthenticated
						_, err := c.DecryptRaw(ctx, name, o.raw, nil)
						opExpect(t, err, custodian.ErrInvalidCiphertext)
					}
				}
				if o.sig != nil {
					opExpect(t, c.Verify(ctx, name, msg, o.sig.Signature, &custodian.SignOptions{Version: v}), nil)
					if v != 3 {
						opExpect(t, c.Verify(ctx, name, msg, o.sig.Signature, nil), custodian.ErrInvalidSignature)
					}
				}
				if o.mac != nil {
					opExpect(t, c.VerifyMAC(ctx, name, msg, o.mac.MAC, &custodian.MACOptions{Version: v}), nil)
					if v != 3 {
						opExpect(t, c.VerifyMAC(ctx, name, msg, o.mac.MAC, nil), custodian.ErrInvalidMAC)
					}
				}
				if o.secret != nil {
					s := custodian.Reveal(opMust(c.Agree(ctx, name, peer, &custodian.AgreeOptions{Version: v}))(t))
					if !bytes.Equal(s, o.secret) {
						t.Errorf("agreement with version %d changed after rotation", v)
					}
				}
				if o.pub != nil {
					if p := opMust(c.PublicKey(ctx, name, &custodian.PublicKeyOptions{Version: v}))(t); !bytes.Equal(p, o.pub) {
						t.Errorf("public key of version %d changed after rotation", v)
					}
				}
				e := custodian.Reveal(opMust(c.ExportKey(ctx, name, &custodian.ExportOptions{Version: v}))(t))
				if !bytes.Equal(e, o.export) {
					t.Errorf("export of version %d changed after rotation", v)
				}
				for j := range i {
					if bytes.Equal(olds[j].export, o.export) {
						t.Errorf("versions %d and %d have the same material", j+1, v)
					}
				}
			}
			_, err := c.ExportKey(ctx, name, &custodian.ExportOptions{Version: 4})
			opExpect(t, err, custodian.ErrInvalidArgument)
			if caps.public {
				_, err = c.PublicKey(ctx, name, &custodian.PublicKeyOptions{Version: 4})
				opExpect(t, err, custodian.ErrInvalidArgument)
			}
		})
	}
	c := opNewCustodian(t, nil)
	_, err := c.RotateKey(t.Context(), "missing")
	opExpect(t, err, custodian.ErrKeyNotFound)
}

// opDHOrECDHPeer returns a fresh peer public key (DER) for an agreement
// type, made outside the Custodian for ECDH and inside it for DH.
func opDHOrECDHPeer(t testing.TB, c *custodian.Custodian, typ custodian.KeyType) []byte {
	t.Helper()
	if !opTypes[typ].agree {
		return nil
	}
	if curve := opCurve(typ); curve != nil {
		k := opMust(curve.GenerateKey(rand.Reader))(t)
		return opMust(x509.MarshalPKIXPublicKey(k.PublicKey()))(t)
	}
	name := opName("peer-of/" + string(typ))
	opCreate(t, c, name, &custodian.CreateOptions{Type: typ})
	return opMust(c.PublicKey(t.Context(), name, &custodian.PublicKeyOptions{Format: custodian.DER}))(t)
}

func TestOpUpdate(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	c := opNewCustodian(t, clock)
	ctx := t.Context()

	t.Run("description and labels", func(t *testing.T) {
		opCreate(t, c, "upd/meta", &custodian.CreateOptions{Description: "old", Labels: map[string]string{"a": "1", "b": "2"}})
		desc := "new description"
		k := opMust(c.UpdateKey(ctx, "upd/meta", custodian.KeyUpdate{Description: &desc}))(t)
		if k.Description != desc || len(k.Labels) != 2 {
			t.Errorf("after description update: %q %v", k.Description, k.Labels)
		}
		k = opMust(c.UpdateKey(ctx, "upd/meta", custodian.KeyUpdate{Labels: map[string]string{"c": "3"}}))(t)
		if !opMapsEqual(k.Labels, map[string]string{"c": "3"}) || k.Description != desc {
			t.Errorf("labels are replaced, not merged: %v", k.Labels)
		}
		k = opMust(c.UpdateKey(ctx, "upd/meta", custodian.KeyUpdate{Labels: map[string]string{}}))(t)
		if len(k.Labels) != 0 {
			t.Errorf("an empty label map removes every label: %v", k.Labels)
		}
		got := opMust(c.GetKey(ctx, "upd/meta"))(t)
		if got.Description != desc || len(got.Labels) != 0 {
			t.Errorf("GetKey after updates = %q %v", got.Description, got.Labels)
		}
		bad := strings.Repeat("x", custodian.MaxDescriptionLength+1)
		_, err := c.UpdateKey(ctx, "upd/meta", custodian.KeyUpdate{Description: &bad})
		opExpect(t, err, custodian.ErrInvalidArgument)
		_, err = c.UpdateKey(ctx, "upd/meta", custodian.KeyUpdate{Labels: map[string]string{"9bad": "x"}})
		opExpect(t, err, custodian.ErrInvalidArgument)
		_, err = c.UpdateKey(ctx, "upd/missing", custodian.KeyUpdate{Description: &desc})
		opExpect(t, err, custodian.ErrKeyNotFound)
	})

	t.Run("min decryption version and rewrap", func(t *testing.T) {
		name := "upd/minver"
		opCreate(t, c, name, nil)
		aad := []byte("row 7")
		v1 := opMust(c.Encrypt(ctx, name, []byte("from v1"), &custodian.EncryptOptions{AssociatedData: aad}))(t)
		v1raw := opMust(c.EncryptRaw(ctx, name, []byte("raw v1"), nil))(t)
		opMust(c.RotateKey(ctx, name))(t)
		v2 := opMust(c.Encrypt(ctx, name, []byte("from v2"), nil))(t)
		opMust(c.RotateKey(ctx, name))(t)

		// Rewrap before raising the minimum: the old ciphertext moves to v3.
		re := opMust(c.Rewrap(ctx, v1, &custodian.RewrapOptions{AssociatedData: aad}))(t)
		for _, bad := range []int{0, 4, -1} {
			_, err := c.UpdateKey(ctx, name, custodian.KeyUpdate{MinDecryptionVersion: &bad})
			opExpect(t, err, custodian.ErrInvalidArgument)
		}
		three := 3
		k := opMust(c.UpdateKey(ctx, name, custodian.KeyUpdate{MinDecryptionVersion: &three}))(t)
		if k.MinDecryptionVersion != 3 || k.PrimaryVersion != 3 {
			t.Fatalf("min decryption version = %d, primary %d", k.MinDecryptionVersion, k.PrimaryVersion)
		}
		_, err := c.Decrypt(ctx, v1, &custodian.DecryptOptions{AssociatedData: aad})
		opExpect(t, err, custodian.ErrKeyVersionNotAllowed)
		_, err = c.Decrypt(ctx, v2, nil)
		opExpect(t, err, custodian.ErrKeyVersionNotAllowed)
		_, err = c.DecryptRaw(ctx, name, v1raw, &custodian.RawOptions{Version: 1})
		opExpect(t, err, custodian.ErrKeyVersionNotAllowed)
		// A tampered old ciphertext is still ErrInvalidCiphertext: policy
		// applies only to genuine ciphertexts.
		forged := slices.Clone(v1)
		forged[len(forged)-1] ^= 1
		_, err = c.Decrypt(ctx, forged, &custodian.DecryptOptions{AssociatedData: aad})
		opExpect(t, err, custodian.ErrInvalidCiphertext)
		// Rewrap of a ciphertext below the minimum is refused too.
		_, err = c.Rewrap(ctx, v2, nil)
		opExpect(t, err, custodian.ErrKeyVersionNotAllowed)

		if pt := opMust(c.Decrypt(ctx, re, &custodian.DecryptOptions{AssociatedData: aad}))(t); string(pt) != "from v1" {
			t.Errorf("rewrapped ciphertext decrypts to %q", pt)
		}
		_, err = c.Decrypt(ctx, re, nil)
		opExpect(t, err, custodian.ErrInvalidCiphertext) // Rewrap kept the associated data

		// Lowering the minimum makes old versions usable again.
		one := 1
		opMust(c.UpdateKey(ctx, name, custodian.KeyUpdate{MinDecryptionVersion: &one}))(t)
		if pt := opMust(c.Decrypt(ctx, v2, nil))(t); string(pt) != "from v2" {
			t.Errorf("v2 after lowering the minimum: %q", pt)
		}
		re2 := opMust(c.Rewrap(ctx, v2, nil))(t)
		opMust(c.UpdateKey(ctx, name, custodian.KeyUpdate{MinDecryptionVersion: &three}))(t)
		if pt := opMust(c.Decrypt(ctx, re2, nil))(t); string(pt) != "from v2" {
			t.Errorf("rewrapped v2 decrypts to %q", pt)
		}
	})

	t.Run("min decryption version for signatures and macs", func(t *testing.T) {
		for _, typ := range []custodian.KeyType{custodian.Ed25519, custodian.HMACSHA256} {
			name := "upd/minver-" + string(typ)
			opCreate(t, c, name, &custodian.CreateOptions{Type: typ})
			msg := []byte("m")
			var sig *custodian.Signature
			var mac *custodian.MAC
			if typ == custodian.Ed25519 {
				sig = opMust(c.Sign(ctx, name, msg, nil))(t)
			} else {
				mac = opMust(c.MAC(ctx, name, msg, nil))(t)
			}
			opMust(c.RotateKey(ctx, name))(t)
			two := 2
			opMust(c.UpdateKey(ctx, name, custodian.KeyUpdate{MinDecryptionVersion: &two}))(t)
			if sig != nil {
				err := c.Verify(ctx, name, msg, sig.Signature, &custodian.SignOptions{Version: 1})
				opExpect(t, err, custodian.ErrKeyVersionNotAllowed)
			} else {
				err := c.VerifyMAC(ctx, name, msg, mac.MAC, &custodian.MACOptions{Version: 1})
				opExpect(t, err, custodian.ErrKeyVersionNotAllowed)
			}
		}
	})

	t.Run("rotation period", func(t *testing.T) {
		name := "upd/period"
		created := clock()
		k := opCreate(t, c, name, &custodian.CreateOptions{RotationPeriod: 48 * time.Hour})
		if want := created.Add(48 * time.Hour); !k.NextRotation().Equal(want) {
			t.Errorf("NextRotation = %v, want %v", k.NextRotation(), want)
		}
		advance(5 * time.Hour)
		day := 24 * time.Hour
		k = opMust(c.UpdateKey(ctx, name, custodian.KeyUpdate{RotationPeriod: &day}))(t)
		if k.RotationPeriod != day || !k.NextRotation().Equal(created.Add(day)) {
			t.Errorf("after update: period %v next %v", k.RotationPeriod, k.NextRotation())
		}
		if !k.Updated.Equal(created.Add(5 * time.Hour)) {
			t.Errorf("Updated = %v, want the clock's time %v", k.Updated, created.Add(5*time.Hour))
		}
		advance(time.Hour)
		k = opMust(c.RotateKey(ctx, name))(t)
		if want := created.Add(6*time.Hour + day); !k.NextRotation().Equal(want) {
			t.Errorf("NextRotation after rotating = %v, want %v", k.NextRotation(), want)
		}
		short := custodian.MinRotationPeriod - time.Minute
		_, err := c.UpdateKey(ctx, name, custodian.KeyUpdate{RotationPeriod: &short})
		opExpect(t, err, custodian.ErrInvalidArgument)
		off := time.Duration(0)
		k = opMust(c.UpdateKey(ctx, name, custodian.KeyUpdate{RotationPeriod: &off}))(t)
		if k.RotationPeriod != 0 || !k.NextRotation().IsZero() {
			t.Errorf("rotation off: period %v next %v", k.RotationPeriod, k.NextRotation())
		}
	})
}

func opMapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// --- encrypt and decrypt -----------------------------------------------------

// opPayload returns n bytes of a recognisable pattern.
func opPayload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}
