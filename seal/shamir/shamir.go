// Package shamir is the seal that splits the root key into shares with
// Shamir's secret sharing over GF(2^8): any threshold of the shares
// recombine it, fewer reveal nothing about it.
//
// The arithmetic is OpenBao's (github.com/openbao/openbao/sdk/v2/helper/
// shamir, MPL-2.0), the implementation Vault and OpenBao have unsealed
// with for a decade; this package only checks its inputs and gives shares
// a text form.
//
// # Share format
//
// A share is the secret's length plus one bytes: one byte of each
// polynomial's value, then the x coordinate (1 to 255). Its text form is
// "kcshare1:" followed by the bytes in unpadded base64url.
package shamir

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	bao "github.com/openbao/openbao/sdk/v2/helper/shamir"
)

// Type is the seal's name as recorded in the store.
const Type = "shamir"

// Limits on a split.
const (
	MaxShares        = 255
	DefaultShares    = 5
	DefaultThreshold = 3
)

// Seal is the Shamir seal. The zero value is ready to use.
type Seal struct{}

// Type implements seal.Seal.
func (Seal) Type() string { return Type }

// Split implements seal.Splitter: n shares, any threshold of which
// recombine root. It requires 1 <= threshold <= n <= 255. A threshold of
// one gives n copies of the secret (with x coordinates), as OpenBao does.
func (Seal) Split(root []byte, n, threshold int) ([][]byte, error) {
	if err := CheckSplit(n, threshold); err != nil {
		return nil, err
	}
	if len(root) == 0 {
		return nil, errors.New("shamir: cannot split an empty secret")
	}
	if threshold == 1 {
		return splitOne(root, n), nil
	}
	return bao.Split(root, n, threshold)
}

// splitOne returns n shares of a threshold-1 split: a constant polynomial
// is the secret itself at every x. OpenBao's Split needs a threshold of 2.
func splitOne(root []byte, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = append(append([]byte{}, root...), byte(i+1))
	}
	return out
}

// CheckSplit checks a share count and threshold.
func CheckSplit(n, threshold int) error {
	if threshold < 1 || threshold > n || n > MaxShares {
		return fmt.Errorf("shamir: %d shares with threshold %d: need 1 <= threshold <= shares <= %d", n, threshold, MaxShares)
	}
	return nil
}

// Combine implements seal.Splitter. It refuses shares that no Split
// makes: shorter than two bytes, of different lengths, with x coordinate
// 0, or two with the same x coordinate. Shares of different splits
// combine to garbage without error; the caller checks the result.
func (Seal) Combine(shares [][]byte) ([]byte, error) {
	if err := checkShares(shares); err != nil {
		return nil, err
	}
	if len(shares) == 1 {
		return append([]byte{}, shares[0][:len(shares[0])-1]...), nil
	}
	secret, err := bao.Combine(shares)
	if err != nil {
		return nil, fmt.Errorf("shamir: combine: %w", err)
	}
	return secret, nil
}

// checkShares refuses what Split cannot have made. The x coordinate 0 is
// checked here because OpenBao's Combine accepts it, and a share at x = 0
// alone decides the result: whoever hands one in chooses the root key the
// others combine to. Messages name shares by position, never by content.
func checkShares(shares [][]byte) error {
	if len(shares) == 0 {
		return errors.New("shamir: no shares")
	}
	var seen [256]int // position+1 of the share with each x coordinate
	for i, s := range shares {
		switch {
		case len(s) < 2 || len(s) != len(shares[0]):
			return fmt.Errorf("shamir: share %d of %d is malformed (shares are all the same length, at least 2 bytes)", i+1, len(shares))
		case s[len(s)-1] == 0:
			return fmt.Errorf("shamir: share %d of %d is malformed (x coordinate 0)", i+1, len(shares))
		case seen[s[len(s)-1]] != 0:
			return fmt.Errorf("shamir: shares %d and %d have the same x coordinate (the same share given twice?)", seen[s[len(s)-1]], i+1)
		}
		seen[s[len(s)-1]] = i + 1
	}
	return nil
}

const sharePrefix = "kcshare1:"

// EncodeShare returns the text form of a share.
func EncodeShare(share []byte) string {
	return sharePrefix + base64.RawURLEncoding.EncodeToString(share)
}

// DecodeShare parses the text form of a share. Surrounding white space is
// ignored, so a share pasted with its newline works.
func DecodeShare(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, sharePrefix)
	if !ok {
		return nil, fmt.Errorf("shamir: a share starts with %q", sharePrefix)
	}
	// The base64 decoders skip \r and \n inside the text, and without
	// Strict accept any value in the last character's unused bits; refusing
	// both keeps exactly one text form per share.
	if strings.ContainsAny(rest, "\r\n") {
		return nil, errors.New("shamir: malformed share")
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	if err != nil || len(b) < 2 || b[len(b)-1] == 0 {
		return nil, errors.New("shamir: malformed share")
	}
	return b, nil
}
