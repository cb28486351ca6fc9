package custodian_test

// Benchmarks of the public API, each beside what the standard library does
// for the same job with the same key, so that the ratio of the two
// measures the library's own overhead: key lookup, state checks, the
// ciphertext header, allocation. Sub-benchmarks are named impl=stdlib,
// impl=custodian, ... so that
//
//	for i in $(seq 8); do go test -run '^$' -bench . -benchmem -benchtime 0.5s .; done | tee bench.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /impl bench.txt
//
// prints them side by side with the ratio. The loop, rather than -count 8,
// takes each stdlib sample right before its custodian sample: -count runs
// all samples of one sub-benchmark before the next, so a change of load
// between the two blocks skews the ratio. docs/performance.md has the
// figures and the exact command (which leaves out the storage benchmarks).

import (
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/hpke"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"hash"
	"math/big"
	"sync"
	"testing"

	"filippo.io/bigmod"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/internal/dh"
)

const bnSize = 1024 // bytes of plaintext, message or MAC input

// bnNew returns a Custodian holding the given material as a key named for
// its type, for the type's default usage or the one given. Keys are
// imported, so the stdlib baseline uses the same key.
func bnNew(b *testing.B, typ custodian.KeyType, material []byte, usage ...custodian.KeyUsage) *custodian.Custodian {
	b.Helper()
	c, err := custodian.New(custodian.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	opts := &custodian.CreateOptions{Type: typ, Exportable: true}
	if len(usage) > 0 {
		opts.Usage = usage[0]
	}
	if _, err := c.ImportKey(context.Background(), string(typ), material, opts); err != nil {
		b.Fatalf("import %s: %v", typ, err)
	}
	return c
}

func bnRandom(b *testing.B, n int) []byte {
	b.Helper()
	p := make([]byte, n)
	if _, err := rand.Read(p); err != nil {
		b.Fatal(err)
	}
	return p
}

func bnPKCS8(b *testing.B, k any) []byte {
	b.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		b.Fatal(err)
	}
	return der
}

// bnAEAD returns the standard library AEAD of a symmetric AEAD key type.
func bnAEAD(b *testing.B, typ custodian.KeyType, key []byte) cipher.AEAD {
	b.Helper()
	if typ == custodian.ChaCha20Poly1305 {
		a, err := chacha20poly1305.New(key)
		if err != nil {
			b.Fatal(err)
		}
		return a
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		b.Fatal(err)
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// bnSealFresh is the baseline of Encrypt: a random nonce from crypto/rand
// and Seal with a cached AEAD into a fresh slice, nonce || ciphertext.
func bnSealFresh(a cipher.AEAD, pt []byte) []byte {
	ns := a.NonceSize()
	out := make([]byte, ns, ns+len(pt)+a.Overhead())
	if _, err := rand.Read(out); err != nil {
		panic(err)
	}
	return a.Seal(out, out[:ns], pt, nil)
}

// bnCBC is the aes256-cbc baseline: PKCS#7 padding and CBC under a random
// IV into a fresh slice, IV || ciphertext, and optionally the HMAC-SHA-256
// tag the self-describing form adds (encrypt-then-MAC). The self-describing
// form encrypts under a key derived from the material rather than the
// material itself; that changes nothing of the cost.
type bnCBC struct {
	block  cipher.Block
	macKey []byte
}

func (k bnCBC) seal(pt []byte, mac bool) []byte {
	n := aes.BlockSize - len(pt)%aes.BlockSize
	out := make([]byte, aes.BlockSize+len(pt)+n, aes.BlockSize+len(pt)+n+sha256.Size)
	if _, err := rand.Read(out[:aes.BlockSize]); err != nil {
		panic(err)
	}
	body := out[aes.BlockSize:]
	copy(body, pt)
	for i := len(pt); i < len(body); i++ {
		body[i] = byte(n)
	}
	cipher.NewCBCEncrypter(k.block, out[:aes.BlockSize]).CryptBlocks(body, body)
	if !mac {
		return out
	}
	m := hmac.New(sha256.New, k.macKey)
	m.Write(out)
	return m.Sum(out)
}

func (k bnCBC) open(ct []byte, mac bool) []byte {
	if mac {
		ct, tag := ct[:len(ct)-sha256.Size], ct[len(ct)-sha256.Size:]
		m := hmac.New(sha256.New, k.macKey)
		m.Write(ct)
		if !hmac.Equal(m.Sum(nil), tag) {
			panic("bad tag")
		}
		return k.open(ct, false)
	}
	pt := make([]byte, len(ct)-aes.BlockSize)
	cipher.NewCBCDecrypter(k.block, ct[:aes.BlockSize]).CryptBlocks(pt, ct[aes.BlockSize:])
	return pt[:len(pt)-int(pt[len(pt)-1])]
}

func bnNewCBC(b *testing.B, key []byte) bnCBC {
	b.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		b.Fatal(err)
	}
	mac, err := hkdf.Key(sha256.New, key, nil, sxCBCMACInfo, sha256.Size)
	if err != nil {
		b.Fatal(err)
	}
	return bnCBC{block: block, macKey: mac}
}

var bnSymmetric = []custodian.KeyType{custodian.AES256GCM, custodian.ChaCha20Poly1305, custodian.AES256CBC}

func BenchmarkEncrypt1KiB(b *testing.B) {
	ctx := context.Background()
	for _, typ := range bnSymmetric {
		b.Run(string(typ), func(b *testing.B) {
			key := bnRandom(b, 32)
			pt := bnRandom(b, bnSize)
			c := bnNew(b, typ, key)
			if typ == custodian.AES256CBC {
				k := bnNewCBC(b, key)
				b.Run("impl=stdlib", func(b *testing.B) {
					b.SetBytes(bnSize)
					b.ReportAllocs()
					for b.Loop() {
						k.seal(pt, false)
					}
				})
				b.Run("impl=stdlib-with-hmac", func(b *testing.B) {
					b.SetBytes(bnSize)
					b.ReportAllocs()
					for b.Loop() {
						k.seal(pt, true)
					}
				})
			} else {
				a := bnAEAD(b, typ, key)
				b.Run("impl=stdlib", func(b *testing.B) {
					b.SetBytes(bnSize)
					b.ReportAllocs()
					for b.Loop() {
						bnSealFresh(a, pt)
					}
				})
				// For transparency: Seal into a reused buffer, which the
				// API cannot do since it returns the ciphertext.
				b.Run("impl=stdlib-reuse", func(b *testing.B) {
					buf := make([]byte, a.NonceSize(), a.NonceSize()+bnSize+a.Overhead())
					b.SetBytes(bnSize)
					b.ReportAllocs()
					for b.Loop() {
						if _, err := rand.Read(buf[:a.NonceSize()]); err != nil {
							b.Fatal(err)
						}
						a.Seal(buf[:a.NonceSize()], buf[:a.NonceSize()], pt, nil)
					}
				})
			}
			b.Run("impl=custodian", func(b *testing.B) {
				b.SetBytes(bnSize)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.Encrypt(ctx, string(typ), pt, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func BenchmarkDecrypt1KiB(b *testing.B) {
	ctx := context.Background()
	for _, typ := range bnSymmetric {
		b.Run(string(typ), func(b *testing.B) {
			key := bnRandom(b, 32)
			pt := bnRandom(b, bnSize)
			c := bnNew(b, typ, key)
			if typ == custodian.AES256CBC {
				k := bnNewCBC(b, key)
				for _, mac := range []bool{false, true} {
					name := "impl=stdlib"
					if mac {
						name = "impl=stdlib-with-hmac"
					}
					ct := k.seal(pt, mac)
					b.Run(name, func(b *testing.B) {
						b.SetBytes(bnSize)
						b.ReportAllocs()
						for b.Loop() {
							k.open(ct, mac)
						}
					})
				}
			} else {
				a := bnAEAD(b, typ, key)
				ct := bnSealFresh(a, pt)
				ns := a.NonceSize()
				b.Run("impl=stdlib", func(b *testing.B) {
					b.SetBytes(bnSize)
					b.ReportAllocs()
					for b.Loop() {
						if _, err := a.Open(nil, ct[:ns], ct[ns:], nil); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
			ct, err := c.Encrypt(ctx, string(typ), pt, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Run("impl=custodian", func(b *testing.B) {
				b.SetBytes(bnSize)
				b.ReportAllocs()
				for b.Loop() {
					got, err := c.Decrypt(ctx, ct, nil)
					if err != nil || len(got) != bnSize {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func BenchmarkGenerateDataKey(b *testing.B) {
	ctx := context.Background()
	key := bnRandom(b, 32)
	c := bnNew(b, custodian.AES256GCM, key)
	a := bnAEAD(b, custodian.AES256GCM, key)
	b.Run("impl=stdlib", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			dk := make([]byte, 32)
			if _, err := rand.Read(dk); err != nil {
				b.Fatal(err)
			}
			bnSealFresh(a, dk)
		}
	})
	b.Run("impl=custodian", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.GenerateDataKey(ctx, string(custodian.AES256GCM), nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// bnSigner is a signature key type and algorithm with its standard library
// operations; name is the sub-benchmark's name.
type bnSigner struct {
	name   string
	typ    custodian.KeyType
	alg    custodian.Algorithm // "" for the type's default
	der    []byte
	sign   func(msg []byte) []byte
	verify func(msg, sig []byte) bool
}

var (
	bnRSAOnce sync.Once
	bnRSAKeys map[int]*rsa.PrivateKey
)

// bnRSAKey returns an RSA key of the given size, generated once per
// process: a 4096-bit key takes seconds, and Sign and Verify share them.
func bnRSAKey(b *testing.B, bits int) *rsa.PrivateKey {
	b.Helper()
	bnRSAOnce.Do(func() {
		bnRSAKeys = map[int]*rsa.PrivateKey{}
		for _, n := range []int{2048, 3072, 4096} {
			k, err := rsa.GenerateKey(rand.Reader, n)
			if err != nil {
				panic(err)
			}
			bnRSAKeys[n] = k
		}
	})
	return bnRSAKeys[bits]
}

// bnRSASigner is an RSA signer: PSS with salt = hash length, or PKCS #1
// v1.5, over the given hash, as the library's algorithms of those names.
func bnRSASigner(b *testing.B, name string, typ custodian.KeyType, bits int, alg custodian.Algorithm, h crypto.Hash, pss bool) bnSigner {
	rk := bnRSAKey(b, bits)
	opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}
	digest := func(msg []byte) []byte {
		d := h.New()
		d.Write(msg)
		return d.Sum(nil)
	}
	return bnSigner{
		name: name, typ: typ, alg: alg, der: bnPKCS8(b, rk),
		sign: func(msg []byte) []byte {
			var sig []byte
			var err error
			if pss {
				sig, err = rsa.SignPSS(rand.Reader, rk, h, digest(msg), opts)
			} else {
				sig, err = rsa.SignPKCS1v15(nil, rk, h, digest(msg))
			}
			if err != nil {
				panic(err)
			}
			return sig
		},
		verify: func(msg, sig []byte) bool {
			if pss {
				return rsa.VerifyPSS(&rk.PublicKey, h, digest(msg), sig, opts) == nil
			}
			return rsa.VerifyPKCS1v15(&rk.PublicKey, h, digest(msg), sig) == nil
		},
	}
}

func bnSigners(b *testing.B) []bnSigner {
	b.Helper()
	var out []bnSigner
	for _, t := range []struct {
		typ   custodian.KeyType
		curve elliptic.Curve
		hash  crypto.Hash
	}{
		{custodian.ECDSAP256, elliptic.P256(), crypto.SHA256},
		{custodian.ECDSAP384, elliptic.P384(), crypto.SHA384},
		{custodian.ECDSAP521, elliptic.P521(), crypto.SHA512},
	} {
		k, err := ecdsa.GenerateKey(t.curve, rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		h := t.hash
		out = append(out, bnSigner{
			name: string(t.typ), typ: t.typ, der: bnPKCS8(b, k),
			sign: func(msg []byte) []byte {
				d := h.New()
				d.Write(msg)
				sig, err := ecdsa.SignASN1(rand.Reader, k, d.Sum(nil))
				if err != nil {
					panic(err)
				}
				return sig
			},
			verify: func(msg, sig []byte) bool {
				d := h.New()
				d.Write(msg)
				return ecdsa.VerifyASN1(&k.PublicKey, d.Sum(nil), sig)
			},
		})
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	out = append(out, bnSigner{
		name: string(custodian.Ed25519), typ: custodian.Ed25519, der: bnPKCS8(b, ed),
		sign:   func(msg []byte) []byte { return ed25519.Sign(ed, msg) },
		verify: func(msg, sig []byte) bool { return ed25519.Verify(ed.Public().(ed25519.PublicKey), msg, sig) },
	})
	// rsa-2048 under each hash and padding; the larger sizes with the
	// default, rsa-pss-sha256. Unsuffixed names are the default algorithm.
	return append(out,
		bnRSASigner(b, "rsa-2048", custodian.RSA2048, 2048, "", crypto.SHA256, true),
		bnRSASigner(b, "rsa-2048-pss-sha384", custodian.RSA2048, 2048, custodian.AlgRSAPSSSHA384, crypto.SHA384, true),
		bnRSASigner(b, "rsa-2048-pss-sha512", custodian.RSA2048, 2048, custodian.AlgRSAPSSSHA512, crypto.SHA512, true),
		bnRSASigner(b, "rsa-2048-pkcs1v15-sha256", custodian.RSA2048, 2048, custodian.AlgRSAPKCS1v15SHA256, crypto.SHA256, false),
		bnRSASigner(b, "rsa-3072", custodian.RSA3072, 3072, "", crypto.SHA256, true),
		bnRSASigner(b, "rsa-4096", custodian.RSA4096, 4096, "", crypto.SHA256, true),
	)
}

func BenchmarkSign(b *testing.B) {
	ctx := context.Background()
	msg := bnRandom(b, bnSize)
	for _, s := range bnSigners(b) {
		b.Run(s.name, func(b *testing.B) {
			c := bnNew(b, s.typ, s.der, custodian.UsageSign)
			opts := &custodian.SignOptions{Algorithm: s.alg}
			b.Run("impl=stdlib", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					s.sign(msg)
				}
			})
			b.Run("impl=custodian", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.Sign(ctx, string(s.typ), msg, opts); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	msg := bnRandom(b, bnSize)
	for _, s := range bnSigners(b) {
		b.Run(s.name, func(b *testing.B) {
			c := bnNew(b, s.typ, s.der, custodian.UsageSign)
			opts := &custodian.SignOptions{Algorithm: s.alg}
			sig := s.sign(msg)
			b.Run("impl=stdlib", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if !s.verify(msg, sig) {
						b.Fatal("does not verify")
					}
				}
			})
			b.Run("impl=custodian", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := c.Verify(ctx, string(s.typ), msg, sig, opts); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func BenchmarkAgree(b *testing.B) {
	ctx := context.Background()
	for _, t := range []struct {
		typ   custodian.KeyType
		curve ecdh.Curve
	}{
		{custodian.X25519, ecdh.X25519()},
		{custodian.ECDHP256, ecdh.P256()},
		{custodian.ECDHP384, ecdh.P384()},
		{custodian.ECDHP521, ecdh.P521()},
	} {
		b.Run(string(t.typ), func(b *testing.B) {
			priv, err := t.curve.GenerateKey(rand.Reader)
			if err != nil {
				b.Fatal(err)
			}
			peer, err := t.curve.GenerateKey(rand.Reader)
			if err != nil {
				b.Fatal(err)
			}
			peerRaw := peer.PublicKey().Bytes()
			peerSPKI, err := x509.MarshalPKIXPublicKey(peer.PublicKey())
			if err != nil {
				b.Fatal(err)
			}
			c := bnNew(b, t.typ, bnPKCS8(b, priv))
			// The baseline parses and validates the peer's raw point too.
			b.Run("impl=stdlib", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					pub, err := t.curve.NewPublicKey(peerRaw)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := priv.ECDH(pub); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("impl=custodian", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.Agree(ctx, string(t.typ), peerRaw, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("impl=custodian-spki", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.Agree(ctx, string(t.typ), peerSPKI, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
	for _, t := range []struct {
		typ custodian.KeyType
		p   *big.Int
	}{
		{custodian.DHFFDHE2048, bnFFDHE2048()},
		// The larger primes come from internal/dh, whose tests check them
		// against RFC 7919; the baseline's agreement with Agree below
		// checks them again.
		{custodian.DHFFDHE3072, dh.FFDHE3072().P()},
		{custodian.DHFFDHE4096, dh.FFDHE4096().P()},
	} {
		b.Run(string(t.typ), func(b *testing.B) { bnAgreeDH(b, t.typ, t.p) })
	}
}

// bnAgreeDH benchmarks an RFC 7919 group against math/big's Exp (variable
// time, the naive baseline) and filippo.io/bigmod's constant-time Exp (what
// the library uses) of the same peer value and exponent.
func bnAgreeDH(b *testing.B, typ custodian.KeyType, p *big.Int) {
	ctx := context.Background()
	c, err := custodian.New(custodian.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	for _, name := range []string{"ours", "peer"} {
		if _, err := c.CreateKey(ctx, name, &custodian.CreateOptions{Type: typ, Exportable: true}); err != nil {
			b.Fatal(err)
		}
	}
	peerPEM, err := c.PublicKey(ctx, "peer", nil)
	if err != nil {
		b.Fatal(err)
	}
	exported, err := c.ExportKey(ctx, "ours", nil)
	if err != nil {
		b.Fatal(err)
	}
	x := new(big.Int).SetBytes(bnDHExponent(b, custodian.Reveal(exported)))
	y := bnDHPublic(b, peerPEM)
	size := (p.BitLen() + 7) / 8
	want, err := c.Agree(ctx, "ours", peerPEM, nil)
	if err != nil {
		b.Fatal(err)
	}
	if z := new(big.Int).Exp(y, x, p); !bytes.Equal(z.FillBytes(make([]byte, size)), custodian.Reveal(want)) {
		b.Fatal("the math/big baseline disagrees with Agree")
	}
	b.Run("impl=stdlib-math-big", func(b *testing.B) {
		b.ReportAllocs()
		z := new(big.Int)
		for b.Loop() {
			z.Exp(y, x, p)
		}
	})
	b.Run("impl=bigmod", func(b *testing.B) {
		m, err := bigmod.NewModulus(p.Bytes())
		if err != nil {
			b.Fatal(err)
		}
		// Padded as the library pads it: to the byte length of the
		// group's exponent bound, so Exp's time does not depend on x.
		xb := x.FillBytes(make([]byte, (bnDHGroup(typ).ExponentBits()+7)/8))
		b.ReportAllocs()
		for b.Loop() {
			yn, err := bigmod.NewNat().SetBytes(y.Bytes(), m)
			if err != nil {
				b.Fatal(err)
			}
			bigmod.NewNat().Exp(yn, xb, m)
		}
	})
	b.Run("impl=custodian", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Agree(ctx, "ours", peerPEM, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// bnDHGroup is the internal/dh group of a DH key type.
func bnDHGroup(typ custodian.KeyType) *dh.Group {
	switch typ {
	case custodian.DHFFDHE3072:
		return dh.FFDHE3072()
	case custodian.DHFFDHE4096:
		return dh.FFDHE4096()
	}
	return dh.FFDHE2048()
}

// bnFFDHE2048 is the prime of RFC 7919 appendix A.1.
func bnFFDHE2048() *big.Int {
	p, _ := new(big.Int).SetString(
		"FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695"+
			"A9E13641146433FBCC939DCE249B3EF97D2FE363630C75D8F681B202AEC4617A"+
			"D3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E7F57C935"+
			"984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797A"+
			"BC0AB182B324FB61D108A94BB2C8E3FBB96ADAB760D7F4681D4F42A3DE394DF4"+
			"AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F61"+
			"9172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005"+
			"C58EF1837D1683B2C6F34A26C1B2EFFA886B423861285C97FFFFFFFFFFFFFFFF", 16)
	return p
}

// bnDHExponent returns x from DH PKCS#8, whose privateKey is INTEGER x.
func bnDHExponent(b *testing.B, der []byte) []byte {
	b.Helper()
	var info struct {
		Version    int
		Algo       asn1.RawValue
		PrivateKey []byte
	}
	var x *big.Int
	if _, err := asn1.Unmarshal(der, &info); err != nil {
		b.Fatal(err)
	}
	if _, err := asn1.Unmarshal(info.PrivateKey, &x); err != nil {
		b.Fatal(err)
	}
	return x.Bytes()
}

// bnDHPublic returns y from a DH SubjectPublicKeyInfo PEM, whose BIT
// STRING is INTEGER y.
func bnDHPublic(b *testing.B, pemBytes []byte) *big.Int {
	b.Helper()
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		b.Fatal("public key is not PEM")
	}
	var spki struct {
		Algo asn1.RawValue
		Key  asn1.BitString
	}
	var y *big.Int
	if _, err := asn1.Unmarshal(block.Bytes, &spki); err != nil {
		b.Fatal(err)
	}
	if _, err := asn1.Unmarshal(spki.Key.Bytes, &y); err != nil {
		b.Fatal(err)
	}
	return y
}

func BenchmarkMAC1KiB(b *testing.B) {
	ctx := context.Background()
	msg := bnRandom(b, bnSize)
	for _, t := range []struct {
		typ  custodian.KeyType
		size int
		h    func() hash.Hash
	}{{custodian.HMACSHA256, 32, sha256.New}, {custodian.HMACSHA512, 64, sha512.New}} {
		b.Run(string(t.typ), func(b *testing.B) {
			key := bnRandom(b, t.size)
			c := bnNew(b, t.typ, key)
			b.Run("impl=stdlib", func(b *testing.B) {
				b.SetBytes(bnSize)
				b.ReportAllocs()
				for b.Loop() {
					m := hmac.New(t.h, key)
					m.Write(msg)
					m.Sum(nil)
				}
			})
			b.Run("impl=custodian", func(b *testing.B) {
				b.SetBytes(bnSize)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.MAC(ctx, string(t.typ), msg, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func BenchmarkHPKESeal1KiB(b *testing.B) {
	ctx := context.Background()
	kem, kdf, aead := hpke.MLKEM768X25519(), hpke.HKDFSHA256(), hpke.AES256GCM()
	priv, err := kem.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	seed, err := priv.Bytes()
	if err != nil {
		b.Fatal(err)
	}
	pub := priv.PublicKey()
	typ := custodian.HPKEX25519MLKEM768
	c := bnNew(b, typ, seed)
	pt := bnRandom(b, bnSize)
	info := make([]byte, 18) // the ciphertext header is the info of the custodian's seal
	b.Run("impl=stdlib", func(b *testing.B) {
		b.SetBytes(bnSize)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := hpke.Seal(pub, kdf, aead, info, pt); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=custodian", func(b *testing.B) {
		b.SetBytes(bnSize)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Encrypt(ctx, string(typ), pt, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkHPKEOpen1KiB(b *testing.B) {
	ctx := context.Background()
	kem, kdf, aead := hpke.MLKEM768X25519(), hpke.HKDFSHA256(), hpke.AES256GCM()
	priv, err := kem.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	seed, err := priv.Bytes()
	if err != nil {
		b.Fatal(err)
	}
	typ := custodian.HPKEX25519MLKEM768
	c := bnNew(b, typ, seed)
	pt := bnRandom(b, bnSize)
	// The baseline opens a ciphertext sealed by the custodian, with the
	// ciphertext header as HPKE info, as the custodian does.
	ct, err := c.Encrypt(ctx, string(typ), pt, nil)
	if err != nil {
		b.Fatal(err)
	}
	info, body := ct[:18], ct[18:]
	if got, err := hpke.Open(priv, kdf, aead, info, body); err != nil || !bytes.Equal(got, pt) {
		b.Fatalf("hpke.Open of the custodian's ciphertext: %v", err)
	}
	b.Run("impl=stdlib", func(b *testing.B) {
		b.SetBytes(bnSize)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := hpke.Open(priv, kdf, aead, info, body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=custodian", func(b *testing.B) {
		b.SetBytes(bnSize)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Decrypt(ctx, ct, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
