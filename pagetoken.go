package custodian

import (
	"encoding/base64"
	"fmt"
)

// Page tokens are opaque to callers: the last name of the previous page,
// base64url-encoded so that names never appear to be an API of their own.

func encodePageToken(lastName string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(lastName))
}

func decodePageToken(tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || validateName(string(b)) != nil {
		return "", fmt.Errorf("%w: malformed page token; pass the NextPageToken of the previous page", ErrInvalidArgument)
	}
	return string(b), nil
}
