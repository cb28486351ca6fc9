package custodian_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"github.com/keycustodian/custodian"
)

func TestOpAgreeECDH(t *testing.T) {
	f := opShared(t)
	ctx := t.Context()
	for _, typ := range []custodian.KeyType{custodian.X25519, custodian.ECDHP256, custodian.ECDHP384, custodian.ECDHP521} {
		t.Run(string(typ), func(t *testing.T) {
			name := f.key(t, typ)
			curve := opCurve(typ)
			ours := opECDHPublic(t, f.c, name, 0)
			if ours.Curve() != curve {
				t.Fatalf("public key is on %v, want %v", ours.Curve(), curve)
			}
			peer := opMust(curve.GenerateKey(rand.Reader))(t)
			want := opMust(peer.ECDH(ours))(t)
			for form, b := range opPeerForms(t, peer.PublicKey()) {
				s := opMust(f.c.Agree(ctx, name, b, nil))(t)
				if !bytes.Equal(custodian.Reveal(s), want) {
					t.Errorf("peer as %s: shared secret differs from crypto/ecdh's", form)
				}
				if strings.Contains(fmt.Sprintf("%v %+v %#v %x", s, s, s, s), hex.EncodeToString(want)[:16]) {
					t.Errorf("formatting the shared secret reveals it")
				}
			}
			other := ecdh.P256()
			if typ == custodian.ECDHP256 {
				other = ecdh.P384()
			}
			otherKey := opMust(other.GenerateKey(rand.Reader))(t)
			edPub, _, _ := ed25519.GenerateKey(rand.Reader)
			edDER := opMust(x509.MarshalPKIXPublicKey(edPub))(t)
			badPeers := map[string][]byte{
				"other curve der": opMust(x509.MarshalPKIXPublicKey(otherKey.PublicKey()))(t),
				"other curve raw": otherKey.PublicKey().Bytes(),
				"ed25519 spki":    edDER,
				"garbage":         opPayload(33),
				"empty":           nil,
				"private pem":     pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: opPayload(40)}),
			}
			if typ == custodian.X25519 {
				badPeers["low order point"] = make([]byte, 32) // all-zero shared secret
			} else {
				ident := make([]byte, len(peer.PublicKey().Bytes()))
				ident[0] = 4
				badPeers["off-curve point"] = ident
			}
			for what, b := range badPeers {
				_, err := f.c.Agree(ctx, name, b, nil)
				if err == nil {
					t.Errorf("Agree accepted a peer key that is %s", what)
					continue
				}
				opExpect(t, err, custodian.ErrInvalidArgument)
			}
		})
	}
}

// TestOpAgreeBothSides: two Custodian keys of one type agree on the same
// secret, ECDH and DH alike.
func TestOpAgreeBothSides(t *testing.T) {
	f := opShared(t)
	ctx := t.Context()
	c := opNewCustodian(t, nil)
	for _, typ := range opFixtureTypes() {
		if !opTypes[typ].agree {
			continue
		}
		t.Run(string(typ), func(t *testing.T) {
			a := f.key(t, typ)
			b := "bob/" + string(typ)
			opCreate(t, c, b, &custodian.CreateOptions{Type: typ})
			pubA := opMust(f.c.PublicKey(ctx, a, nil))(t)
			pubB := opMust(c.PublicKey(ctx, b, &custodian.PublicKeyOptions{Format: custodian.DER}))(t)
			sAB := custodian.Reveal(opMust(f.c.Agree(ctx, a, pubB, nil))(t))
			sBA := custodian.Reveal(opMust(c.Agree(ctx, b, pubA, nil))(t))
			if !bytes.Equal(sAB, sBA) || len(sAB) == 0 {
				t.Fatalf("the two sides disagree: %d and %d bytes", len(sAB), len(sBA))
			}
			if opIsDH(typ) && len(sAB) != opDHBytes(typ) {
				t.Errorf("DH secret is %d bytes, want the prime's length %d", len(sAB), opDHBytes(typ))
			}
			// A key agreeing with a key of another type is refused.
			otherType := custodian.X25519
			if typ == custodian.X25519 {
				otherType = custodian.ECDHP256
			}
			if opIsDH(typ) {
				otherType = custodian.DHFFDHE3072
				if typ == custodian.DHFFDHE3072 {
					otherType = custodian.DHFFDHE2048
				}
			}
			otherPub := opMust(f.c.PublicKey(ctx, f.key(t, otherType), nil))(t)
			_, err := f.c.Agree(ctx, a, otherPub, nil)
			opExpect(t, err, custodian.ErrInvalidArgument)
			_, err = f.c.Agree(ctx, a, []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), nil)
			opExpect(t, err, custodian.ErrInvalidArgument)
		})
	}
}

func TestOpDeriveKey(t *testing.T) {
	ctx := t.Context()
	for _, typ := range []custodian.KeyType{custodian.X25519, custodian.ECDHP384, custodian.DHFFDHE2048} {
		t.Run(string(typ), func(t *testing.T) {
			c := opNewCustodian(t, nil)
			opCreate(t, c, "alice", &custodian.CreateOptions{Type: typ})
			opCreate(t, c, "bob", &custodian.CreateOptions{Type: typ})
			pubA := opMust(c.PublicKey(ctx, "alice", nil))(t)
			pubB := opMust(c.PublicKey(ctx, "bob", nil))(t)
			salt, info := []byte("salt"), []byte("app v1 session")
			ka := opMust(c.DeriveKey(ctx, "alice", pubB, "alice/session", &custodian.DeriveOptions{
				Salt: salt, Info: info, Key: custodian.CreateOptions{Exportable: true, Description: "derived"},
			}))(t)
			if ka.Type != custodian.AES256GCM || !ka.Exportable || ka.Description != "derived" {
				t.Errorf("derived key: %s exportable %v %q", ka.Type, ka.Exportable, ka.Description)
			}
			opMust(c.DeriveKey(ctx, "bob", pubA, "bob/session", &custodian.DeriveOptions{
				Salt: salt, Info: info, Key: custodian.CreateOptions{Type: custodian.AES256GCM, Exportable: true},
			}))(t)
			// The derived key encrypts.
			ct := opMust(c.Encrypt(ctx, "alice/session", []byte("hello bob"), nil))(t)
			if pt := opMust(c.Decrypt(ctx, ct, nil))(t); string(pt) != "hello bob" {
				t.Errorf("derived key round trip: %q", pt)
			}
			// Both sides hold the same key: what one encrypts the other decrypts.
			raw := opMust(c.EncryptRaw(ctx, "alice/session", []byte("hello bob"), &custodian.RawOptions{AssociatedData: info}))(t)
			if pt := opMust(c.DecryptRaw(ctx, "bob/session", raw, &custodian.RawOptions{AssociatedData: info}))(t); string(pt) != "hello bob" {
				t.Errorf("bob decrypts alice's message as %q", pt)
			}
			ea := opMust(c.ExportKey(ctx, "alice/session", nil))(t)
			eb := opMust(c.ExportKey(ctx, "bob/session", nil))(t)
			if !ea.Equal(eb) || ea.Len() != 32 {
				t.Errorf("derived keys differ or are not 32 bytes")
			}
			// And it is HKDF-SHA-256 of the shared secret (RFC 5869).
			shared := custodian.Reveal(opMust(c.Agree(ctx, "alice", pubB, nil))(t))
			want := opMust(hkdf.Key(sha256.New, shared, salt, string(info), 32))(t)
			if !bytes.Equal(custodian.Reveal(ea), want) {
				t.Error("derived key is not HKDF-SHA-256(shared, salt, info)")
			}
			// Other salt or info, other key.
			opMust(c.DeriveKey(ctx, "bob", pubA, "bob/other", &custodian.DeriveOptions{Info: []byte("v2"), Key: custodian.CreateOptions{Exportable: true}}))(t)
			if opMust(c.ExportKey(ctx, "bob/other", nil))(t).Equal(eb) {
				t.Error("a different info derived the same key")
			}

			_, err := c.DeriveKey(ctx, "alice", pubB, "alice/cbc", &custodian.DeriveOptions{Key: custodian.CreateOptions{Type: custodian.AES256CBC}})
			opExpect(t, err, custodian.ErrInvalidArgument)
			_, err = c.DeriveKey(ctx, "alice", pubB, "alice/session", nil)
			opExpect(t, err, custodian.ErrKeyExists)
			_, err = c.DeriveKey(ctx, "alice", []byte("junk"), "alice/junk", nil)
			opExpect(t, err, custodian.ErrInvalidArgument)
			_, err = c.GetKey(ctx, "alice/junk")
			opExpect(t, err, custodian.ErrKeyNotFound)
			_, err = c.DeriveKey(ctx, "alice", pubB, "bad name!", nil)
			opExpect(t, err, custodian.ErrInvalidArgument)
		})
	}
}

// --- public keys ----------------------------------------------------------------------
