package custodian_test

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"log"

	"github.com/keycustodian/custodian"
)

func ExampleCustodian_Encrypt() {
	ctx := context.Background()
	kms, _ := custodian.New(custodian.Options{})
	if _, err := kms.CreateKey(ctx, "payments", nil); err != nil {
		log.Fatal(err)
	}

	aad := []byte("order=42")
	ct, err := kms.Encrypt(ctx, "payments", []byte("4111 1111 1111 1111"), &custodian.EncryptOptions{AssociatedData: aad})
	if err != nil {
		log.Fatal(err)
	}
	pt, err := kms.Decrypt(ctx, ct, &custodian.DecryptOptions{AssociatedData: aad})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", pt)

	_, err = kms.Decrypt(ctx, ct, &custodian.DecryptOptions{AssociatedData: []byte("order=43")})
	fmt.Println(errors.Is(err, custodian.ErrInvalidCiphertext))
	// Output:
	// 4111 1111 1111 1111
	// true
}

func ExampleCustodian_RotateKey() {
	ctx := context.Background()
	kms, _ := custodian.New(custodian.Options{})
	kms.CreateKey(ctx, "backups", nil)
	old, _ := kms.Encrypt(ctx, "backups", []byte("archive key"), nil)

	k, _ := kms.RotateKey(ctx, "backups")
	fmt.Println("primary version:", k.PrimaryVersion)

	// Bring old ciphertexts to the new version, then retire version 1.
	fresh, _ := kms.Rewrap(ctx, old, nil)
	v := 2
	kms.UpdateKey(ctx, "backups", custodian.KeyUpdate{MinDecryptionVersion: &v})

	_, err := kms.Decrypt(ctx, old, nil)
	fmt.Println("old:", errors.Is(err, custodian.ErrKeyVersionNotAllowed))
	pt, _ := kms.Decrypt(ctx, fresh, nil)
	fmt.Printf("rewrapped: %s\n", pt)
	// Output:
	// primary version: 2
	// old: true
	// rewrapped: archive key
}

func ExampleCustodian_GenerateDataKey() {
	ctx := context.Background()
	kms, _ := custodian.New(custodian.Options{})
	kms.CreateKey(ctx, "objects", nil)

	dk, err := kms.GenerateDataKey(ctx, "objects", nil)
	if err != nil {
		log.Fatal(err)
	}
	// Encrypt data locally with custodian.Reveal(dk.Plaintext), then forget
	// it; keep dk.Ciphertext beside the data. The plaintext never prints:
	fmt.Println(dk.Plaintext, dk.Plaintext.Len())

	again, _ := kms.Decrypt(ctx, dk.Ciphertext, nil)
	fmt.Println(len(again))
	// Output:
	// REDACTED 32
	// 32
}

func ExampleCustodian_Sign() {
	ctx := context.Background()
	kms, _ := custodian.New(custodian.Options{})
	kms.CreateKey(ctx, "release-signing", &custodian.CreateOptions{Type: custodian.Ed25519})

	msg := []byte("custodian_1.0.0_linux_amd64.tar.gz")
	sig, err := kms.Sign(ctx, "release-signing", msg, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sig.Algorithm, len(sig.Signature))
	fmt.Println(kms.Verify(ctx, "release-signing", msg, sig.Signature, nil))
	err = kms.Verify(ctx, "release-signing", []byte("tampered"), sig.Signature, nil)
	fmt.Println(errors.Is(err, custodian.ErrInvalidSignature))
	// Output:
	// ed25519 64
	// <nil>
	// true
}

func ExampleCustodian_DeriveKey() {
	ctx := context.Background()
	kms, _ := custodian.New(custodian.Options{})
	kms.CreateKey(ctx, "site-a", &custodian.CreateOptions{Type: custodian.X25519})

	// The peer's key pair lives elsewhere; we only see its public key.
	peer, _ := ecdh.X25519().GenerateKey(rand.Reader)
	peerPub, _ := x509.MarshalPKIXPublicKey(peer.PublicKey())

	k, err := kms.DeriveKey(ctx, "site-a", peerPub, "site-a-to-b", &custodian.DeriveOptions{Info: []byte("link v1")})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(k.Name, k.Type)
	// Output:
	// site-a-to-b aes256-gcm
}

func ExampleCustodian_CreateKey_usage() {
	ctx := context.Background()
	kms, _ := custodian.New(custodian.Options{})
	// An RSA key encrypts (the default) or signs, never both: choose at creation.
	k, err := kms.CreateKey(ctx, "code-signing", &custodian.CreateOptions{Type: custodian.RSA2048, Usage: custodian.UsageSign})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(k.Type, k.Usage)

	sig, err := kms.Sign(ctx, "code-signing", []byte("custodian_1.0.0.tar.gz"), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sig.Algorithm)
	_, err = kms.Encrypt(ctx, "code-signing", []byte("secret"), nil)
	fmt.Println(errors.Is(err, custodian.ErrUnsupportedOperation))
	// Output:
	// rsa-2048 sign
	// rsa-pss-sha256
	// true
}
