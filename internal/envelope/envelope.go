// Package envelope is KeyCustodian's ciphertext format: a small header that
// names the format version, algorithm, key id and key version, followed by
// the algorithm's body. Decryption needs nothing but the ciphertext and the
// caller's associated data.
//
// # Binary form
//
//	offset  size  field
//	0       1     format version, 0x01
//	1       1     algorithm code (see codes below)
//	2       12    key id
//	14      4     key version, big-endian, >= 1
//	18      ...   body: the algorithm's output
//
// The header is authenticated: every algorithm binds it (with the caller's
// associated data) into its AEAD associated data, OAEP label, HMAC or HPKE
// info. Changing any header byte makes decryption fail.
//
// # Text form
//
// [TextPrefix] followed by the binary form in unpadded base64url, for JSON,
// URLs and the CLI.
//
// docs/formats.md documents the format with a worked example.
package envelope

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"

	"github.com/keycustodian/custodian/internal/algo"
)

// Sizes of the header and its fields.
const (
	FormatV1   = 0x01
	KeyIDSize  = 12
	HeaderSize = 1 + 1 + KeyIDSize + 4
)

// TextPrefix starts the text form of a version 1 ciphertext.
const TextPrefix = "kc1:"

// ErrMalformed is returned for anything that is not a well-formed ciphertext.
// It deliberately carries no detail.
var ErrMalformed = errors.New("malformed ciphertext")

// KeyID is a key's immutable random identifier.
type KeyID [KeyIDSize]byte

// algorithm codes. These bytes are a wire format: never renumber one.
var codes = map[algo.Algorithm]byte{
	algo.EncAES256GCM:          0x01,
	algo.EncChaCha20Poly1305:   0x02,
	algo.EncAES256CBC:          0x03,
	algo.EncRSAOAEPSHA256:      0x10,
	algo.EncRSAOAEPSHA1:        0x11,
	algo.EncRSAPKCS1v15:        0x12,
	algo.EncHPKEX25519MLKEM768: 0x20,
}

var algorithms = func() map[byte]algo.Algorithm {
	m := make(map[byte]algo.Algorithm, len(codes))
	for a, c := range codes {
		m[c] = a
	}
	return m
}()

// Header is the parsed header of a ciphertext.
type Header struct {
	Algorithm algo.Algorithm
	KeyID     KeyID
	Version   uint32
}

// Code returns the wire code of an encryption algorithm.
func Code(a algo.Algorithm) (byte, bool) {
	c, ok := codes[a]
	return c, ok
}

// AppendHeader appends h's binary form to dst. It panics on an algorithm
// without a code or a zero version: both are programming errors.
func AppendHeader(dst []byte, h Header) []byte {
	c, ok := codes[h.Algorithm]
	if !ok || h.Version == 0 {
		panic("envelope: header with algorithm " + string(h.Algorithm) + " or version 0")
	}
	dst = append(dst, FormatV1, c)
	dst = append(dst, h.KeyID[:]...)
	return binary.BigEndian.AppendUint32(dst, h.Version)
}

// Parse splits a binary ciphertext into its header, the header's bytes
// (for binding) and the body.
func Parse(ct []byte) (h Header, header, body []byte, err error) {
	if len(ct) < HeaderSize || ct[0] != FormatV1 {
		return Header{}, nil, nil, ErrMalformed
	}
	alg, ok := algorithms[ct[1]]
	if !ok {
		return Header{}, nil, nil, ErrMalformed
	}
	h.Algorithm = alg
	copy(h.KeyID[:], ct[2:2+KeyIDSize])
	h.Version = binary.BigEndian.Uint32(ct[2+KeyIDSize : HeaderSize])
	if h.Version == 0 {
		return Header{}, nil, nil, ErrMalformed
	}
	return h, ct[:HeaderSize], ct[HeaderSize:], nil
}

// EncodeText returns the text form of a binary ciphertext.
func EncodeText(ct []byte) string {
	return TextPrefix + base64.RawURLEncoding.EncodeToString(ct)
}

// DecodeText returns the binary form of a text ciphertext.
func DecodeText(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, TextPrefix)
	// The base64 decoders skip \r and \n even in strict mode; refusing them
	// keeps exactly one text form per ciphertext.
	if !ok || strings.ContainsAny(rest, "\r\n") {
		return nil, ErrMalformed
	}
	ct, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	if err != nil {
		return nil, ErrMalformed
	}
	return ct, nil
}
