package algo

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
)

// VerifySignature checks sig over msg (or, with prehashed, over the digest
// msg) with a public key alone: *rsa.PublicKey, *ecdsa.PublicKey or
// ed25519.PublicKey. Every key type's Verify goes through it, and so can a
// caller that holds only the public key.
func VerifySignature(pub crypto.PublicKey, alg Algorithm, msg, sig []byte, prehashed bool) error {
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		h, pss, err := rsaSignature("rsa", alg)
		if err != nil {
			return err
		}
		digest, err := digestOf(h, msg, prehashed)
		if err != nil {
			return err
		}
		if pss {
			err = rsa.VerifyPSS(pub, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			err = rsa.VerifyPKCS1v15(pub, h, digest, sig)
		}
		if err != nil {
			return ErrVerify
		}
		return nil
	case *ecdsa.PublicKey:
		h, err := ecdsaHash(alg)
		if err != nil {
			return err
		}
		digest, err := digestOf(h, msg, prehashed)
		if err != nil {
			return err
		}
		if !ecdsa.VerifyASN1(pub, digest, sig) {
			return ErrVerify
		}
		return nil
	case ed25519.PublicKey:
		if alg != SigEd25519 || prehashed {
			return fmt.Errorf("%w: ed25519 keys verify %q over the message itself", ErrUnsupported, SigEd25519)
		}
		if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, msg, sig) {
			return ErrVerify
		}
		return nil
	}
	return fmt.Errorf("%w: public key of type %T", ErrUnsupported, pub)
}

// ecdsaHash maps an ECDSA signature algorithm to its hash.
func ecdsaHash(alg Algorithm) (crypto.Hash, error) {
	switch alg {
	case SigECDSASHA256:
		return crypto.SHA256, nil
	case SigECDSASHA384:
		return crypto.SHA384, nil
	case SigECDSASHA512:
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("%w: algorithm %q is not an ECDSA signature", ErrUnsupported, alg)
}
