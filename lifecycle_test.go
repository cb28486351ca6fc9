package custodian_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/store"
)

// lcExpectedTable is the lifecycle table written out by hand, independently
// of lifecycle.go and of docs/lifecycle.md: a change to the table has to be
// made here too, on purpose. Rows are in the order of custodian.Operations,
// columns in the order of custodian.States.
const lcExpectedTable = `
operation          enabled  disabled  revoked  pending-deletion  destroyed
get                   ✓        ✓         ✓            ✓              ✓
encrypt               ✓        ✗         ✗            ✗              ✗
decrypt               ✓        ✗         ✗            ✗              ✗
sign                  ✓        ✗         ✗            ✗              ✗
verify                ✓        ✗         ✗            ✗              ✗
mac                   ✓        ✗         ✗            ✗              ✗
verify-mac            ✓        ✗         ✗            ✗              ✗
agree                 ✓        ✗         ✗            ✗              ✗
public-key            ✓        ✗         ✗            ✗              ✗
export                ✓        ✗         ✗            ✗              ✗
rotate                ✓        ✗         ✗            ✗              ✗
update                ✓        ✓         ✗            ✗              ✗
enable                ✓        ✓         ✗            ✗              ✗
disable               ✓        ✓         ✗            ✗              ✗
revoke                ✓        ✓         ✓            ✗              ✗
schedule-deletion     ✓        ✓         ✓            ✗              ✗
cancel-deletion       ✗        ✗         ✗            ✓              ✗
destroy               ✗        ✗         ✗            ✓              ✗
`

const lcDay = 24 * time.Hour

// lcClock is an injectable clock (custodian.Options.Now) that tests move.
type lcClock struct {
	mu  sync.Mutex
	now time.Time
}

func lcNewClock() *lcClock {
	return &lcClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *lcClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *lcClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// lcNewCustodian returns a Custodian over an in-memory store (or s) whose
// clock the test controls.
func lcNewCustodian(t testing.TB, s store.Store) (*custodian.Custodian, *lcClock) {
	t.Helper()
	clock := lcNewClock()
	// The tests move the clock and call each operation themselves: a
	// background sweep would race them (destroying a key whose window the
	// clock just passed, before the test's own DestroyKey).
	c, err := custodian.New(custodian.Options{Store: s, Now: clock.Now, RotationCheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, clock
}

// lcStateSentinel is the sentinel a refusal in each state wraps (besides
// ErrInvalidKeyState); nil for enabled, whose refusals wrap only
// ErrInvalidKeyState.
func lcStateSentinel(s custodian.State) error {
	switch s {
	case custodian.StateDisabled:
		return custodian.ErrKeyDisabled
	case custodian.StateRevoked:
		return custodian.ErrKeyRevoked
	case custodian.StatePendingDeletion:
		return custodian.ErrKeyPendingDeletion
	case custodian.StateDestroyed:
		return custodian.ErrKeyDestroyed
	}
	return nil
}

var lcStateSentinels = []error{
	custodian.ErrKeyDisabled, custodian.ErrKeyRevoked, custodian.ErrKeyPendingDeletion, custodian.ErrKeyDestroyed,
}

// lcCheckRefusal asserts that err is the refusal of op on key because the
// key is in state: ErrInvalidKeyState, the state's own sentinel and no other
// state's, inside a *custodian.Error naming op and key.
func lcCheckRefusal(t *testing.T, err error, state custodian.State, op, key string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s in state %s succeeded, want refusal", op, state)
		return
	}
	if !errors.Is(err, custodian.ErrInvalidKeyState) {
		t.Errorf("%s in state %s: error %q does not wrap ErrInvalidKeyState", op, state, err)
	}
	want := lcStateSentinel(state)
	for _, s := range lcStateSentinels {
		if got := errors.Is(err, s); got != (s == want) {
			t.Errorf("%s in state %s: errors.Is(%q, %q) = %v, want %v", op, state, err, s, got, s == want)
		}
	}
	var e *custodian.Error
	if !errors.As(err, &e) {
		t.Errorf("%s in state %s: error %q is not a *custodian.Error", op, state, err)
		return
	}
	if e.Op != op || e.Key != key {
		t.Errorf("%s in state %s: *custodian.Error{Op: %q, Key: %q}, want {%q, %q}", op, state, e.Op, e.Key, op, key)
	}
}

// lcFixture is one key for one cell of the walk, with what was made with it
// while it was enabled.
type lcFixture struct {
	c      *custodian.Custodian
	clock  *lcClock
	name   string
	state  custodian.State
	msg    []byte
	aad    []byte
	ct     custodian.Ciphertext // aes256-gcm: Encrypt(msg, aad)
	raw    []byte               // aes256-gcm: EncryptRaw(msg)
	sig    *custodian.Signature // ecdsa-p256: Sign(msg)
	pub    *ecdsa.PublicKey     // ecdsa-p256: the public key
	mac    *custodian.MAC       // hmac-sha256: MAC(msg)
	peer   *ecdh.PrivateKey     // x25519: a peer made by crypto/ecdh
	shared []byte               // x25519: the secret the peer computes
	xpub   *ecdh.PublicKey      // x25519: the key's public key
	key    *custodian.Key       // the key as it was put into state
	opts   custodian.CreateOptions
}

// lcSetup creates an exportable key of typ, makes what the walk's
// operations need with it, and puts it into state through the public API.
func lcSetup(t *testing.T, typ custodian.KeyType, state custodian.State) *lcFixture {
	t.Helper()
	ctx := context.Background()
	c, clock := lcNewCustodian(t, nil)
	f := &lcFixture{
		c: c, clock: clock, name: "walk/" + string(typ), state: state,
		msg: []byte("lifecycle walk message"), aad: []byte("walk aad"),
		opts: custodian.CreateOptions{Type: typ, Exportable: true, Description: "walk"},
	}
	if _, err := c.CreateKey(ctx, f.name, &f.opts); err != nil {
		t.Fatal(err)
	}
	var err error
	switch typ {
	case custodian.AES256GCM:
		if f.ct, err = c.Encrypt(ctx, f.name, f.msg, &custodian.EncryptOptions{AssociatedData: f.aad}); err != nil {
			t.Fatal(err)
		}
		if f.raw, err = c.EncryptRaw(ctx, f.name, f.msg, nil); err != nil {
			t.Fatal(err)
		}
	case custodian.ECDSAP256:
		if f.sig, err = c.Sign(ctx, f.name, f.msg, nil); err != nil {
			t.Fatal(err)
		}
		der, err := c.PublicKey(ctx, f.name, &custodian.PublicKeyOptions{Format: custodian.DER})
		if err != nil {
			t.Fatal(err)
		}
		pub, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			t.Fatal(err)
		}
		f.pub = pub.(*ecdsa.PublicKey)
	case custodian.HMACSHA256:
		if f.mac, err = c.MAC(ctx, f.name, f.msg, nil); err != nil {
			t.Fatal(err)
		}
	case custodian.X25519:
		if f.peer, err = ecdh.X25519().GenerateKey(rand.Reader); err != nil {
			t.Fatal(err)
		}
		der, err := c.PublicKey(ctx, f.name, &custodian.PublicKeyOptions{Format: custodian.DER})
		if err != nil {
			t.Fatal(err)
		}
		pub, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			t.Fatal(err)
		}
		f.xpub = pub.(*ecdh.PublicKey)
		if f.shared, err = f.peer.ECDH(f.xpub); err != nil {
			t.Fatal(err)
		}
	}
	f.key = lcPutInState(t, c, clock, f.name, state)
	return f
}

// lcPutInState moves an enabled key into state through the public API and
// returns it as GetKey then reports it.
func lcPutInState(t *testing.T, c *custodian.Custodian, clock *lcClock, name string, state custodian.State) *custodian.Key {
	t.Helper()
	ctx := context.Background()
	var err error
	switch state {
	case custodian.StateEnabled:
	case custodian.StateDisabled:
		_, err = c.DisableKey(ctx, name)
	case custodian.StateRevoked:
		_, err = c.RevokeKey(ctx, name)
	case custodian.StatePendingDeletion:
		_, err = c.ScheduleKeyDeletion(ctx, name, custodian.MinDeletionWindow)
	case custodian.StateDestroyed:
		if _, err = c.ScheduleKeyDeletion(ctx, name, custodian.MinDeletionWindow); err == nil {
			clock.Advance(custodian.MinDeletionWindow + time.Second)
			_, err = c.DestroyKey(ctx, name)
		}
	default:
		t.Fatalf("no way to reach state %q", state)
	}
	if err != nil {
		t.Fatalf("putting %s into state %s: %v", name, state, err)
	}
	k, err := c.GetKey(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if k.State != state {
		t.Fatalf("%s is %s, want %s", name, k.State, state)
	}
	return k
}

// lcMethod is one public method that performs an operation of the table.
type lcMethod struct {
	method string              // the public method, for test names
	op     custodian.Operation // the table's row
	errOp  string              // the Op its *custodian.Error names
	typ    custodian.KeyType   // a key type that supports the operation
	// run performs the operation and, when it succeeds, checks its result.
	run func(t *testing.T, f *lcFixture) error
}

// lcMethods lists, for every operation of the table, the public methods that
// perform it.
func lcMethods() []lcMethod {
	ctx := context.Background()
	const (
		tAES  = custodian.AES256GCM
		tEC   = custodian.ECDSAP256
		tHMAC = custodian.HMACSHA256
		tX    = custodian.X25519
	)
	return []lcMethod{
		{"GetKey", custodian.OpGet, "get", tAES, func(t *testing.T, f *lcFixture) error {
			k, err := f.c.GetKey(ctx, f.name)
			if err == nil && (k.Name != f.name || k.State != f.state || k.ID != f.key.ID) {
				t.Errorf("GetKey = %s %s %s, want %s %s %s", k.Name, k.ID, k.State, f.name, f.key.ID, f.state)
			}
			return err
		}},

		{"Encrypt", custodian.OpEncrypt, "encrypt", tAES, func(t *testing.T, f *lcFixture) error {
			ct, err := f.c.Encrypt(ctx, f.name, f.msg, &custodian.EncryptOptions{AssociatedData: f.aad})
			if err == nil {
				lcCheckDecrypts(t, f, ct, f.aad, f.msg)
			}
			return err
		}},
		{"EncryptRaw", custodian.OpEncrypt, "encrypt", tAES, func(t *testing.T, f *lcFixture) error {
			raw, err := f.c.EncryptRaw(ctx, f.name, f.msg, nil)
			if err == nil {
				if pt, err := f.c.DecryptRaw(ctx, f.name, raw, nil); err != nil || !bytes.Equal(pt, f.msg) {
					t.Errorf("DecryptRaw(EncryptRaw) = %q, %v", pt, err)
				}
			}
			return err
		}},
		{"GenerateDataKey", custodian.OpEncrypt, "generate-data-key", tAES, func(t *testing.T, f *lcFixture) error {
			dk, err := f.c.GenerateDataKey(ctx, f.name, nil)
			if err == nil {
				if dk.Plaintext.Len() != 32 {
					t.Errorf("data key has %d bytes, want 32", dk.Plaintext.Len())
				}
				lcCheckDecrypts(t, f, dk.Ciphertext, nil, custodian.Reveal(dk.Plaintext))
			}
			return err
		}},
		{"GenerateDataKeyWithoutPlaintext", custodian.OpEncrypt, "generate-data-key", tAES, func(t *testing.T, f *lcFixture) error {
			ct, err := f.c.GenerateDataKeyWithoutPlaintext(ctx, f.name, &custodian.DataKeyOptions{Bytes: 16})
			if err == nil {
				if pt, err := f.c.Decrypt(ctx, ct, nil); err != nil || len(pt) != 16 {
					t.Errorf("Decrypt(data key) = %d bytes, %v; want 16 bytes", len(pt), err)
				}
			}
			return err
		}},
		{"EncryptBatch", custodian.OpEncrypt, "encrypt", tAES, func(t *testing.T, f *lcFixture) error {
			res, err := f.c.EncryptBatch(ctx, []custodian.BatchEncryptItem{{Key: f.name, Plaintext: f.msg}})
			if err != nil {
				t.Fatalf("EncryptBatch refused the batch: %v", err)
			}
			if res[0].Err == nil {
				lcCheckDecrypts(t, f, res[0].Ciphertext, nil, f.msg)
			}
			return res[0].Err
		}},

		{"Decrypt", custodian.OpDecrypt, "decrypt", tAES, func(t *testing.T, f *lcFixture) error {
			pt, err := f.c.Decrypt(ctx, f.ct, &custodian.DecryptOptions{AssociatedData: f.aad, Key: f.name})
			if err == nil && !bytes.Equal(pt, f.msg) {
				t.Errorf("Decrypt = %q, want %q", pt, f.msg)
			}
			return err
		}},
		{"DecryptRaw", custodian.OpDecrypt, "decrypt", tAES, func(t *testing.T, f *lcFixture) error {
			pt, err := f.c.DecryptRaw(ctx, f.name, f.raw, nil)
			if err == nil && !bytes.Equal(pt, f.msg) {
				t.Errorf("DecryptRaw = %q, want %q", pt, f.msg)
			}
			return err
		}},
		{"Rewrap", custodian.OpDecrypt, "rewrap", tAES, func(t *testing.T, f *lcFixture) error {
			ct, err := f.c.Rewrap(ctx, f.ct, &custodian.RewrapOptions{AssociatedData: f.aad})
			if err == nil {
				lcCheckDecrypts(t, f, ct, f.aad, f.msg)
			}
			return err
		}},
		{"DecryptBatch", custodian.OpDecrypt, "decrypt", tAES, func(t *testing.T, f *lcFixture) error {
			res, err := f.c.DecryptBatch(ctx, []custodian.BatchDecryptItem{{Ciphertext: f.ct, AssociatedData: f.aad}})
			if err != nil {
				t.Fatalf("DecryptBatch refused the batch: %v", err)
			}
			if res[0].Err == nil && !bytes.Equal(res[0].Plaintext, f.msg) {
				t.Errorf("DecryptBatch = %q, want %q", res[0].Plaintext, f.msg)
			}
			return res[0].Err
		}},

		{"Sign", custodian.OpSign, "sign", tEC, func(t *testing.T, f *lcFixture) error {
			sig, err := f.c.Sign(ctx, f.name, f.msg, nil)
			if err == nil {
				digest := sha256.Sum256(f.msg)
				if !ecdsa.VerifyASN1(f.pub, digest[:], sig.Signature) {
					t.Errorf("crypto/ecdsa rejects the signature")
				}
			}
			return err
		}},
		{"Verify", custodian.OpVerify, "verify", tEC, func(t *testing.T, f *lcFixture) error {
			return f.c.Verify(ctx, f.name, f.msg, f.sig.Signature, nil)
		}},

		{"MAC", custodian.OpMAC, "mac", tHMAC, func(t *testing.T, f *lcFixture) error {
			m, err := f.c.MAC(ctx, f.name, f.msg, nil)
			if err == nil && !bytes.Equal(m.MAC, f.mac.MAC) {
				t.Errorf("MAC differs from the MAC of the same message made before")
			}
			return err
		}},
		{"VerifyMAC", custodian.OpVerifyMAC, "verify-mac", tHMAC, func(t *testing.T, f *lcFixture) error {
			return f.c.VerifyMAC(ctx, f.name, f.msg, f.mac.MAC, nil)
		}},

		{"Agree", custodian.OpAgree, "agree", tX, func(t *testing.T, f *lcFixture) error {
			s, err := f.c.Agree(ctx, f.name, f.peer.PublicKey().Bytes(), nil)
			if err == nil && !bytes.Equal(custodian.Reveal(s), f.shared) {
				t.Errorf("Agree differs from the secret crypto/ecdh computes on the peer's side")
			}
			return err
		}},
		{"DeriveKey", custodian.OpAgree, "derive-key", tX, func(t *testing.T, f *lcFixture) error {
			k, err := f.c.DeriveKey(ctx, f.name, f.peer.PublicKey().Bytes(), f.name+"-derived", nil)
			if err == nil && (k.Type != custodian.AES256GCM || k.State != custodian.StateEnabled) {
				t.Errorf("DeriveKey made a %s key in state %s", k.Type, k.State)
			}
			return err
		}},

		{"PublicKey", custodian.OpPublicKey, "public-key", tEC, func(t *testing.T, f *lcFixture) error {
			p, err := f.c.PublicKey(ctx, f.name, nil)
			if err == nil {
				b, _ := pem.Decode(p)
				if b == nil {
					t.Fatalf("PublicKey is not PEM: %q", p)
				}
				pub, perr := x509.ParsePKIXPublicKey(b.Bytes)
				if ec, ok := pub.(*ecdsa.PublicKey); perr != nil || !ok || !ec.Equal(f.pub) {
					t.Errorf("PublicKey gives another key (%v)", perr)
				}
			}
			return err
		}},

		{"ExportKey", custodian.OpExport, "export", tAES, func(t *testing.T, f *lcFixture) error {
			s, err := f.c.ExportKey(ctx, f.name, nil)
			if err == nil {
				lcCheckExported(t, custodian.Reveal(s), f.raw, f.msg)
			}
			return err
		}},

		{"RotateKey", custodian.OpRotate, "rotate", tAES, func(t *testing.T, f *lcFixture) error {
			k, err := f.c.RotateKey(ctx, f.name)
			if err == nil && (k.LatestVersion != 2 || k.PrimaryVersion != 2 || len(k.Versions) != 2) {
				t.Errorf("after one rotation: latest %d, primary %d, %d versions", k.LatestVersion, k.PrimaryVersion, len(k.Versions))
			}
			return err
		}},
		{"UpdateKey", custodian.OpUpdate, "update", tAES, func(t *testing.T, f *lcFixture) error {
			d := "updated"
			k, err := f.c.UpdateKey(ctx, f.name, custodian.KeyUpdate{Description: &d, Labels: map[string]string{"team": "sec"}})
			if err == nil && (k.Description != d || k.Labels["team"] != "sec") {
				t.Errorf("UpdateKey: description %q, labels %v", k.Description, k.Labels)
			}
			return err
		}},
		{"EnableKey", custodian.OpEnable, "enable", tAES, func(t *testing.T, f *lcFixture) error {
			_, err := f.c.EnableKey(ctx, f.name)
			return err
		}},
		{"DisableKey", custodian.OpDisable, "disable", tAES, func(t *testing.T, f *lcFixture) error {
			_, err := f.c.DisableKey(ctx, f.name)
			return err
		}},
		{"RevokeKey", custodian.OpRevoke, "revoke", tAES, func(t *testing.T, f *lcFixture) error {
			_, err := f.c.RevokeKey(ctx, f.name)
			return err
		}},
		{"ScheduleKeyDeletion", custodian.OpScheduleDeletion, "schedule-deletion", tAES, func(t *testing.T, f *lcFixture) error {
			k, err := f.c.ScheduleKeyDeletion(ctx, f.name, 0)
			if err == nil && !k.DeletionDate.Equal(f.clock.Now().Add(custodian.DefaultDeletionWindow)) {
				t.Errorf("deletion date %s, want now + %s", k.DeletionDate, custodian.DefaultDeletionWindow)
			}
			return err
		}},
		{"CancelKeyDeletion", custodian.OpCancelDeletion, "cancel-deletion", tAES, func(t *testing.T, f *lcFixture) error {
			k, err := f.c.CancelKeyDeletion(ctx, f.name)
			if err == nil && !k.DeletionDate.IsZero() {
				t.Errorf("deletion date %s remains after cancelling", k.DeletionDate)
			}
			return err
		}},
		{"DestroyKey", custodian.OpDestroy, "destroy", tAES, func(t *testing.T, f *lcFixture) error {
			// Past any deletion window, so that only the state decides.
			f.clock.Advance(custodian.MaxDeletionWindow + time.Hour)
			_, err := f.c.DestroyKey(ctx, f.name)
			return err
		}},
	}
}

func lcCheckDecrypts(t *testing.T, f *lcFixture, ct custodian.Ciphertext, aad, want []byte) {
	t.Helper()
	pt, err := f.c.Decrypt(context.Background(), ct, &custodian.DecryptOptions{AssociatedData: aad})
	if err != nil || !bytes.Equal(pt, want) {
		t.Errorf("Decrypt = %q, %v; want %q", pt, err, want)
	}
}

// lcCheckExported opens raw (nonce || ciphertext || tag, from EncryptRaw)
// with the exported key and crypto/cipher, outside the Custodian.
func lcCheckExported(t *testing.T, key, raw, want []byte) {
	t.Helper()
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatalf("exported key: %v", err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := g.Open(nil, raw[:g.NonceSize()], raw[g.NonceSize():], nil)
	if err != nil || !bytes.Equal(pt, want) {
		t.Errorf("the exported key does not open EncryptRaw's output: %q, %v", pt, err)
	}
}

// lcStateAfter is the state a key in state from is in after op succeeded.
// The walk's pending-deletion keys were enabled before.
func lcStateAfter(from custodian.State, op custodian.Operation) custodian.State {
	switch op {
	case custodian.OpEnable:
		return custodian.StateEnabled
	case custodian.OpDisable, custodian.OpCancelDeletion:
		return custodian.StateDisabled
	case custodian.OpRevoke:
		return custodian.StateRevoked
	case custodian.OpScheduleDeletion:
		return custodian.StatePendingDeletion
	case custodian.OpDestroy:
		return custodian.StateDestroyed
	}
	return from
}

// TestLifecycleEveryCell walks every cell of the lifecycle table: for each
// state and each operation, a fresh key is put into the state and every
// public method performing the operation is called. It must succeed exactly
// when State.Allows says so; a refusal must wrap the state's sentinel and
// ErrInvalidKeyState and leave the key as it was.
func TestLifecycleEveryCell(t *testing.T) {
	methods := lcMethods()
	for _, op := range custodian.Operations() {
		if !slices.ContainsFunc(methods, func(m lcMethod) bool { return m.op == op }) {
			t.Errorf("operation %q has no method in the walk", op)
		}
	}
	for _, state := range custodian.States() {
		for _, m := range methods {
			t.Run(string(state)+"/"+string(m.op)+"/"+m.method, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				f := lcSetup(t, m.typ, state)
				allowed := state.Allows(m.op)
				err := m.run(t, f)
				if allowed {
					if err != nil {
						t.Fatalf("%s on a %s key: %v; the table allows it", m.method, state, err)
					}
				} else {
					lcCheckRefusal(t, err, state, m.errOp, f.name)
				}

				k, err := f.c.GetKey(ctx, f.name)
				if err != nil {
					t.Fatal(err)
				}
				want := state
				if allowed {
					want = lcStateAfter(state, m.op)
				}
				if k.State != want || k.ID != f.key.ID {
					t.Errorf("afterwards the key is %s (id %s), want %s (id %s)", k.State, k.ID, want, f.key.ID)
				}
				if !allowed && (k.LatestVersion != f.key.LatestVersion || k.Description != f.key.Description ||
					!k.DeletionDate.Equal(f.key.DeletionDate)) {
					t.Errorf("a refused %s changed the key: %+v, was %+v", m.op, k, f.key)
				}
			})
		}
	}
}

// lcParseGrid parses lcExpectedTable.
func lcParseGrid(t *testing.T) (ops []string, states []string, cells map[string]map[string]bool) {
	t.Helper()
	cells = map[string]map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(lcExpectedTable))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) == 0:
			continue
		case fields[0] == "operation":
			states = fields[1:]
			continue
		case len(fields) != len(states)+1:
			t.Fatalf("malformed row %q", sc.Text())
		}
		ops = append(ops, fields[0])
		cells[fields[0]] = map[string]bool{}
		for i, c := range fields[1:] {
			cells[fields[0]][states[i]] = c == "✓"
		}
	}
	return ops, states, cells
}

// TestLifecycleTableMatchesHardCoded compares State.Allows, Operations and
// States with the table written out in this file.
func TestLifecycleTableMatchesHardCoded(t *testing.T) {
	ops, states, cells := lcParseGrid(t)
	var gotOps, gotStates []string
	for _, op := range custodian.Operations() {
		gotOps = append(gotOps, string(op))
	}
	for _, s := range custodian.States() {
		gotStates = append(gotStates, string(s))
	}
	if !slices.Equal(gotOps, ops) {
		t.Errorf("Operations() = %v\nhard-coded    %v", gotOps, ops)
	}
	if !slices.Equal(gotStates, states) {
		t.Errorf("States() = %v\nhard-coded %v", gotStates, states)
	}
	for _, op := range custodian.Operations() {
		for _, s := range custodian.States() {
			if got, want := s.Allows(op), cells[string(op)][string(s)]; got != want {
				t.Errorf("State(%q).Allows(%q) = %v, hard-coded table says %v", s, op, got, want)
			}
		}
	}
	// Nothing outside the table is allowed.
	for _, op := range custodian.Operations() {
		if custodian.State("").Allows(op) || custodian.State("Enabled").Allows(op) {
			t.Errorf("a state outside the table allows %q", op)
		}
	}
	for _, s := range custodian.States() {
		if s.Allows("") || s.Allows("create") || s.Allows("GET") {
			t.Errorf("state %q allows an operation outside the table", s)
		}
	}
}

// TestLifecycleDocMatchesTable checks that the table in docs/lifecycle.md
// says what State.Allows says, and names the right error in each ✗ cell.
func TestLifecycleDocMatchesTable(t *testing.T) {
	doc, err := os.ReadFile("docs/lifecycle.md")
	if err != nil {
		t.Fatal(err)
	}
	sentinelName := map[custodian.State]string{
		custodian.StateEnabled:         "ErrInvalidKeyState",
		custodian.StateDisabled:        "ErrKeyDisabled",
		custodian.StateRevoked:         "ErrKeyRevoked",
		custodian.StatePendingDeletion: "ErrKeyPendingDeletion",
		custodian.StateDestroyed:       "ErrKeyDestroyed",
	}
	backticked := func(s string) string {
		_, after, ok := strings.Cut(s, "`")
		if !ok {
			return ""
		}
		in, _, _ := strings.Cut(after, "`")
		return in
	}
	var states []custodian.State
	seen := map[custodian.Operation]bool{}
	for line := range strings.Lines(string(doc)) {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if cells[0] == "Operation" && states == nil {
			for _, c := range cells[1:] {
				states = append(states, custodian.State(strings.Trim(c, "`")))
			}
			if !slices.Equal(states, custodian.States()) {
				t.Fatalf("doc table columns %v, want %v", states, custodian.States())
			}
			continue
		}
		op := custodian.Operation(backticked(cells[0]))
		if states == nil || op == "" || !slices.Contains(custodian.Operations(), op) || seen[op] {
			continue
		}
		seen[op] = true
		if len(cells) != len(states)+1 {
			t.Errorf("doc row %q has %d cells, want %d", line, len(cells), len(states)+1)
			continue
		}
		for i, s := range states {
			cell := cells[i+1]
			docAllows := strings.HasPrefix(cell, "✓")
			if !docAllows && !strings.HasPrefix(cell, "✗") {
				t.Errorf("doc cell %s/%s = %q, want ✓ or ✗", op, s, cell)
				continue
			}
			if docAllows != s.Allows(op) {
				t.Errorf("doc says %s in %s is %q; State.Allows says %v", op, s, cell, s.Allows(op))
			}
			if !docAllows && backticked(cell) != sentinelName[s] {
				t.Errorf("doc cell %s/%s = %q, want the error %s", op, s, cell, sentinelName[s])
			}
		}
	}
	for _, op := range custodian.Operations() {
		if !seen[op] {
			t.Errorf("docs/lifecycle.md has no table row for %q", op)
		}
	}
	if !strings.Contains(string(doc), "TestLifecycleEveryCell") {
		t.Errorf("docs/lifecycle.md does not name the test that walks the table")
	}
}

// TestLifecycleCancelDeletion checks where a cancelled deletion returns a
// key: to disabled, or to revoked if it was revoked, never to enabled.
func TestLifecycleCancelDeletion(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ from, want custodian.State }{
		{custodian.StateEnabled, custodian.StateDisabled},
		{custodian.StateDisabled, custodian.StateDisabled},
		{custodian.StateRevoked, custodian.StateRevoked},
	} {
		t.Run(string(tc.from), func(t *testing.T) {
			c, clock := lcNewCustodian(t, nil)
			if _, err := c.CreateKey(ctx, "k", nil); err != nil {
				t.Fatal(err)
			}
			lcPutInState(t, c, clock, "k", tc.from)
			k, err := c.ScheduleKeyDeletion(ctx, "k", 10*lcDay)
			if err != nil {
				t.Fatal(err)
			}
			if k.State != custodian.StatePendingDeletion || !k.DeletionDate.Equal(clock.Now().Add(10*lcDay)) {
				t.Fatalf("scheduled: state %s, deletion date %s", k.State, k.DeletionDate)
			}
			clock.Advance(3 * lcDay)
			if k, err = c.CancelKeyDeletion(ctx, "k"); err != nil {
				t.Fatal(err)
			}
			if k.State != tc.want || !k.DeletionDate.IsZero() {
				t.Fatalf("cancelled: state %s, deletion date %s; want %s and none", k.State, k.DeletionDate, tc.want)
			}
			// Scheduling again and cancelling again lands in the same place.
			if _, err := c.ScheduleKeyDeletion(ctx, "k", 0); err != nil {
				t.Fatal(err)
			}
			if k, err = c.CancelKeyDeletion(ctx, "k"); err != nil || k.State != tc.want {
				t.Fatalf("second cancel: %v, state %v, want %s", err, k, tc.want)
			}
			_, err = c.Encrypt(ctx, "k", []byte("x"), nil)
			lcCheckRefusal(t, err, tc.want, "encrypt", "k")
		})
	}
}

// TestLifecycleRevocationIsIrreversible checks that nothing brings a revoked
// key back.
func TestLifecycleRevocationIsIrreversible(t *testing.T) {
	ctx := context.Background()
	c, _ := lcNewCustodian(t, nil)
	if _, err := c.CreateKey(ctx, "k", nil); err != nil {
		t.Fatal(err)
	}
	ct, err := c.Encrypt(ctx, "k", []byte("before"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RevokeKey(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	_, err = c.EnableKey(ctx, "k")
	lcCheckRefusal(t, err, custodian.StateRevoked, "enable", "k")
	_, err = c.DisableKey(ctx, "k")
	lcCheckRefusal(t, err, custodian.StateRevoked, "disable", "k")
	if k, err := c.RevokeKey(ctx, "k"); err != nil || k.State != custodian.StateRevoked {
		t.Fatalf("revoking again: %v; it is a no-op", err)
	}
	if _, err := c.ScheduleKeyDeletion(ctx, "k", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CancelKeyDeletion(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	_, err = c.EnableKey(ctx, "k")
	lcCheckRefusal(t, err, custodian.StateRevoked, "enable", "k")
	_, err = c.Decrypt(ctx, ct, nil)
	lcCheckRefusal(t, err, custodian.StateRevoked, "decrypt", "k")
	if got, err := c.InvalidateKey(ctx, "k"); err != nil || got != "Key Revocation Successful" {
		t.Fatalf("InvalidateKey on a revoked key = %q, %v", got, err)
	}
	if k, err := c.GetKey(ctx, "k"); err != nil || k.State != custodian.StateRevoked {
		t.Fatalf("GetKey = %v, %v; want revoked", k, err)
	}
}

// TestLifecycleDeletionWindow checks the window's bounds: the default is 30
// days, 7 to 30 days are accepted, anything else is ErrInvalidArgument and
// leaves the key alone.
func TestLifecycleDeletionWindow(t *testing.T) {
	ctx := context.Background()
	if custodian.DefaultDeletionWindow != 30*lcDay || custodian.MinDeletionWindow != 7*lcDay || custodian.MaxDeletionWindow != 30*lcDay {
		t.Fatalf("deletion window constants %s %s %s, want 30, 7 and 30 days",
			custodian.DefaultDeletionWindow, custodian.MinDeletionWindow, custodian.MaxDeletionWindow)
	}
	for _, tc := range []struct {
		window time.Duration
		want   time.Duration // 0: rejected
	}{
		{0, 30 * lcDay},
		{7 * lcDay, 7 * lcDay},
		{8*lcDay + time.Hour, 8*lcDay + time.Hour},
		{30 * lcDay, 30 * lcDay},
		{6 * lcDay, 0},
		{31 * lcDay, 0},
		{7*lcDay - time.Nanosecond, 0},
		{30*lcDay + time.Nanosecond, 0},
		{-7 * lcDay, 0},
		{time.Second, 0},
	} {
		t.Run(tc.window.String(), func(t *testing.T) {
			c, clock := lcNewCustodian(t, nil)
			if _, err := c.CreateKey(ctx, "k", nil); err != nil {
				t.Fatal(err)
			}
			k, err := c.ScheduleKeyDeletion(ctx, "k", tc.window)
			if tc.want == 0 {
				if !errors.Is(err, custodian.ErrInvalidArgument) {
					t.Fatalf("window %s: err = %v, want ErrInvalidArgument", tc.window, err)
				}
				if msg := err.Error(); !strings.Contains(msg, "between 7 and 30 days") || !strings.HasPrefix(msg, `schedule-deletion "k": `) {
					t.Errorf("message %q does not say the allowed window", msg)
				}
				if k, err := c.GetKey(ctx, "k"); err != nil || k.State != custodian.StateEnabled {
					t.Errorf("a rejected window changed the key: %v, %v", k, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("window %s: %v", tc.window, err)
			}
			if k.State != custodian.StatePendingDeletion || !k.DeletionDate.Equal(clock.Now().Add(tc.want)) {
				t.Fatalf("window %s: state %s, deletion date %s; want now + %s", tc.window, k.State, k.DeletionDate, tc.want)
			}

			// Destroying before the window ends is refused, at its end allowed.
			clock.Advance(tc.want - time.Nanosecond)
			_, err = c.DestroyKey(ctx, "k")
			if !errors.Is(err, custodian.ErrInvalidKeyState) {
				t.Fatalf("destroy 1ns before the window ends: err = %v, want ErrInvalidKeyState", err)
			}
			if n, err := c.DestroyDueKeys(ctx); err != nil || n != 0 {
				t.Fatalf("DestroyDueKeys 1ns early = %d, %v; want 0", n, err)
			}
			if k, err := c.GetKey(ctx, "k"); err != nil || k.State != custodian.StatePendingDeletion {
				t.Fatalf("after early destroy: %v, %v; want pending-deletion", k, err)
			}
			clock.Advance(time.Nanosecond)
			if k, err := c.DestroyKey(ctx, "k"); err != nil || k.State != custodian.StateDestroyed {
				t.Fatalf("destroy at the end of the window: %v, %v", k, err)
			}
		})
	}
}

// TestLifecycleDestroyDueKeys checks that DestroyDueKeys destroys exactly the
// keys whose deletion window has passed, and counts them.
func TestLifecycleDestroyDueKeys(t *testing.T) {
	ctx := context.Background()
	c, clock := lcNewCustodian(t, nil)
	windows := map[string]time.Duration{"due-7": 7 * lcDay, "due-10": 10 * lcDay, "later-11": 11 * lcDay, "later-30": 30 * lcDay}
	for name, w := range windows {
		if _, err := c.CreateKey(ctx, name, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ScheduleKeyDeletion(ctx, name, w); err != nil {
			t.Fatal(err)
		}
	}
	// A revoked key scheduled for deletion is destroyed like any other.
	if _, err := c.CreateKey(ctx, "revoked-due", nil); err != nil {
		t.Fatal(err)
	}
	lcPutInState(t, c, clock, "revoked-due", custodian.StateRevoked)
	if _, err := c.ScheduleKeyDeletion(ctx, "revoked-due", 7*lcDay); err != nil {
		t.Fatal(err)
	}
	for _, s := range []custodian.State{custodian.StateEnabled, custodian.StateDisabled, custodian.StateRevoked} {
		if _, err := c.CreateKey(ctx, "idle-"+string(s), nil); err != nil {
			t.Fatal(err)
		}
		lcPutInState(t, c, clock, "idle-"+string(s), s)
	}
	want := map[string]custodian.State{
		"due-7": custodian.StateDestroyed, "due-10": custodian.StateDestroyed, "revoked-due": custodian.StateDestroyed,
		"later-11": custodian.StatePendingDeletion, "later-30": custodian.StatePendingDeletion,
		"idle-enabled": custodian.StateEnabled, "idle-disabled": custodian.StateDisabled, "idle-revoked": custodian.StateRevoked,
	}
	check := func(wantN, gotN int) {
		t.Helper()
		if gotN != wantN {
			t.Errorf("DestroyDueKeys = %d, want %d", gotN, wantN)
		}
		for name, s := range want {
			if k, err := c.GetKey(ctx, name); err != nil || k.State != s {
				t.Errorf("%s: %v, %v; want state %s", name, k, err, s)
			}
		}
	}

	if n, err := c.DestroyDueKeys(ctx); err != nil || n != 0 {
		t.Fatalf("DestroyDueKeys before any window ends = %d, %v", n, err)
	}
	clock.Advance(10 * lcDay)
	n, err := c.DestroyDueKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check(3, n)
	n, err = c.DestroyDueKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check(0, n)
	clock.Advance(20 * lcDay)
	want["later-11"], want["later-30"] = custodian.StateDestroyed, custodian.StateDestroyed
	n, err = c.DestroyDueKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check(2, n)
}

// TestLifecycleDestroyedTombstone checks what remains of a destroyed key:
// a tombstone whose versions are destroyed, ciphertexts that fail with
// ErrKeyDestroyed, and a name free for a new key.
func TestLifecycleDestroyedTombstone(t *testing.T) {
	ctx := context.Background()
	c, clock := lcNewCustodian(t, nil)
	const name = "tomb"
	old, err := c.CreateKey(ctx, name, &custodian.CreateOptions{Description: "old", Exportable: true})
	if err != nil {
		t.Fatal(err)
	}
	var cts []custodian.Ciphertext
	for i := range 3 {
		if i > 0 {
			if _, err := c.RotateKey(ctx, name); err != nil {
				t.Fatal(err)
			}
		}
		ct, err := c.Encrypt(ctx, name, []byte("secret"), nil)
		if err != nil {
			t.Fatal(err)
		}
		cts = append(cts, ct)
	}
	// Names are not released before destruction.
	for _, s := range []custodian.State{custodian.StateDisabled, custodian.StateRevoked, custodian.StatePendingDeletion} {
		c2, clock2 := lcNewCustodian(t, nil)
		if _, err := c2.CreateKey(ctx, name, nil); err != nil {
			t.Fatal(err)
		}
		lcPutInState(t, c2, clock2, name, s)
		if _, err := c2.CreateKey(ctx, name, nil); !errors.Is(err, custodian.ErrKeyExists) {
			t.Errorf("CreateKey over a %s key: err = %v, want ErrKeyExists", s, err)
		}
	}

	lcPutInState(t, c, clock, name, custodian.StateDestroyed)
	k, err := c.GetKey(ctx, name)
	if err != nil {
		t.Fatalf("GetKey of the tombstone: %v", err)
	}
	if k.ID != old.ID || k.State != custodian.StateDestroyed || k.Description != "old" || k.LatestVersion != 3 {
		t.Errorf("tombstone = id %s state %s description %q latest %d", k.ID, k.State, k.Description, k.LatestVersion)
	}
	if len(k.Versions) != 3 {
		t.Fatalf("tombstone lists %d versions, want 3", len(k.Versions))
	}
	for i, v := range k.Versions {
		if v.Version != i+1 || v.State != custodian.VersionDestroyed {
			t.Errorf("version %d: number %d, state %s; want destroyed", i+1, v.Version, v.State)
		}
	}
	page, err := c.ListKeys(ctx, &custodian.ListOptions{Prefix: name})
	if err != nil || len(page.Keys) != 1 || page.Keys[0].State != custodian.StateDestroyed {
		t.Errorf("ListKeys = %v, %v; want the tombstone", page, err)
	}
	for i, ct := range cts {
		_, err := c.Decrypt(ctx, ct, nil)
		lcCheckRefusal(t, err, custodian.StateDestroyed, "decrypt", name)
		_, err = c.DecryptRaw(ctx, name, []byte("0123456789abcdef0123456789abcdef"), &custodian.RawOptions{Version: i + 1})
		lcCheckRefusal(t, err, custodian.StateDestroyed, "decrypt", name)
	}
	_, err = c.ExportKey(ctx, name, &custodian.ExportOptions{Version: 1})
	lcCheckRefusal(t, err, custodian.StateDestroyed, "export", name)

	// The name is free again; the old ciphertexts stay dead.
	fresh, err := c.CreateKey(ctx, name, &custodian.CreateOptions{Description: "new"})
	if err != nil {
		t.Fatalf("reusing the name of a destroyed key: %v", err)
	}
	if fresh.ID == old.ID || fresh.State != custodian.StateEnabled || fresh.LatestVersion != 1 {
		t.Errorf("new key: id %s (old %s), state %s, latest %d", fresh.ID, old.ID, fresh.State, fresh.LatestVersion)
	}
	if k, err := c.GetKey(ctx, name); err != nil || k.ID != fresh.ID || k.Description != "new" {
		t.Errorf("GetKey after reuse = %v, %v; want the new key", k, err)
	}
	if _, err := c.CreateKey(ctx, name, nil); !errors.Is(err, custodian.ErrKeyExists) {
		t.Errorf("a third CreateKey: err = %v, want ErrKeyExists", err)
	}
	for _, ct := range cts {
		_, err := c.Decrypt(ctx, ct, nil)
		lcCheckRefusal(t, err, custodian.StateDestroyed, "decrypt", name)
		if _, err := c.Decrypt(ctx, ct, &custodian.DecryptOptions{Key: name}); !errors.Is(err, custodian.ErrKeyDestroyed) {
			t.Errorf("Decrypt naming the reused name: err = %v, want ErrKeyDestroyed", err)
		}
		if _, err := c.Rewrap(ctx, ct, nil); !errors.Is(err, custodian.ErrKeyDestroyed) {
			t.Errorf("Rewrap of a destroyed key's ciphertext: err = %v, want ErrKeyDestroyed", err)
		}
	}
	ct, err := c.Encrypt(ctx, name, []byte("new secret"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := c.Decrypt(ctx, ct, nil); err != nil || string(pt) != "new secret" {
		t.Errorf("the new key: Decrypt = %q, %v", pt, err)
	}
}

// TestLifecycleNoOpCells checks the three allowed cells that change
// nothing: they succeed, and leave the key untouched (not even Updated).
func TestLifecycleNoOpCells(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		state custodian.State
		call  func(*custodian.Custodian) (*custodian.Key, error)
	}{
		{custodian.StateEnabled, func(c *custodian.Custodian) (*custodian.Key, error) { return c.EnableKey(ctx, "k") }},
		{custodian.StateDisabled, func(c *custodian.Custodian) (*custodian.Key, error) { return c.DisableKey(ctx, "k") }},
		{custodian.StateRevoked, func(c *custodian.Custodian) (*custodian.Key, error) { return c.RevokeKey(ctx, "k") }},
	} {
		t.Run(string(tc.state), func(t *testing.T) {
			c, clock := lcNewCustodian(t, nil)
			if _, err := c.CreateKey(ctx, "k", nil); err != nil {
				t.Fatal(err)
			}
			before := lcPutInState(t, c, clock, "k", tc.state)
			clock.Advance(time.Hour)
			k, err := tc.call(c)
			if err != nil {
				t.Fatalf("no-op in state %s: %v", tc.state, err)
			}
			if k.State != tc.state || !k.Updated.Equal(before.Updated) {
				t.Errorf("no-op: state %s, updated %s; want %s, %s", k.State, k.Updated, tc.state, before.Updated)
			}
		})
	}
}
