package custodian

import (
	"fmt"
	"log/slog"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/keycustodian/custodian/seal"
	"github.com/keycustodian/custodian/store"
	"github.com/keycustodian/custodian/store/memory"
)

// Options configure a Custodian. For New, the zero value is the original
// module's mode: an in-memory store whose contents die with the process,
// sealed under a random root key that never leaves it. Open needs a Store
// and a Seal.
type Options struct {
	// Store keeps key records; New takes nil as a new in-memory store.
	Store store.Store
	// Seal protects the root key (Open only): a seal/shamir.Seal or a
	// seal/keyfile.Seal.
	Seal seal.Seal
	// CacheSize bounds the keys, and the loaded key versions, kept in
	// memory. Zero means DefaultCacheSize.
	CacheSize int
	// RotationCheckInterval is how often keys with a rotation period are
	// checked and, when due, rotated. Zero means
	// DefaultRotationCheckInterval; negative turns automatic rotation off.
	RotationCheckInterval time.Duration
	// ResealBatch is how many keys a root rotation re-seals between
	// checks of its context. Zero means DefaultResealBatch.
	ResealBatch int
	// Now is the clock; nil means time.Now. Tests use it to move time.
	Now func() time.Time
	// Logger receives what background tasks cannot return (a failed
	// automatic rotation); nil means slog.Default(). Nothing secret is
	// ever logged.
	Logger *slog.Logger
}

func (o Options) logError(what string, err error) {
	o.Logger.Error("custodian: "+what+" failed", "err", err)
}

// DefaultRotationCheckInterval is how often automatic rotation looks for
// due keys when Options.RotationCheckInterval is zero. A check reads every
// key record (about 1.4 s of CPU for a million keys), and rotation periods
// are at least an hour, so a key rotates at most ten minutes late.
const DefaultRotationCheckInterval = 10 * time.Minute

// DefaultResealBatch is Options.ResealBatch when zero.
const DefaultResealBatch = 100

func (o Options) check() (Options, error) {
	if o.CacheSize < 0 {
		return o, fmt.Errorf("%w: cache size %d is negative", ErrInvalidArgument, o.CacheSize)
	}
	if o.ResealBatch < 0 {
		return o, fmt.Errorf("%w: reseal batch %d is negative", ErrInvalidArgument, o.ResealBatch)
	}
	if o.CacheSize == 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.ResealBatch == 0 {
		o.ResealBatch = DefaultResealBatch
	}
	if o.RotationCheckInterval == 0 {
		o.RotationCheckInterval = DefaultRotationCheckInterval
	}
	if o.Store == nil {
		o.Store = memory.New()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// Limits on caller input.
const (
	MaxNameLength        = 128
	MaxDescriptionLength = 1024
	MaxLabels            = 64
	MaxLabelValueLength  = 256
	// MinDeletionWindow and MaxDeletionWindow bound a scheduled deletion's
	// waiting period; DefaultDeletionWindow is used when none is given.
	MinDeletionWindow     = 7 * 24 * time.Hour
	MaxDeletionWindow     = 30 * 24 * time.Hour
	DefaultDeletionWindow = 30 * 24 * time.Hour
	// MinRotationPeriod is the shortest automatic rotation period.
	MinRotationPeriod = time.Hour
	// MaxRandomBytes bounds one Random call and one data key.
	MaxRandomBytes = 1 << 16
	// MaxBatch bounds the items of one batch call.
	MaxBatch = 1 << 14
)

var (
	nameRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]*$`)
	labelRE = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,62}$`)
)

// CreateOptions are the settings of a new key. The zero value creates a
// non-exportable aes256-gcm key.
type CreateOptions struct {
	Type KeyType
	// Usage is what the key is for. Empty means the type's default; only
	// RSA types offer a choice: UsageEncrypt (default) or UsageSign.
	Usage       KeyUsage
	Description string
	Labels      map[string]string
	// Exportable allows ExportKey. It is fixed at creation.
	Exportable bool
	// RotationPeriod, if non-zero, is how often the key is rotated (at
	// least MinRotationPeriod).
	RotationPeriod time.Duration
}

// KeyUpdate changes a key's mutable settings; nil fields stay as they are.
type KeyUpdate struct {
	Description *string
	// Labels replaces every label when non-nil; an empty map removes them all.
	Labels map[string]string
	// MinDecryptionVersion raises or lowers the oldest version that may
	// decrypt and verify; it must lie between 1 and the primary version.
	MinDecryptionVersion *int
	// RotationPeriod sets the rotation period; zero turns rotation off.
	RotationPeriod *time.Duration
}

// ListOptions selects a page of keys, in name order.
type ListOptions struct {
	Prefix string
	// PageToken continues a listing: the NextPageToken of the previous page.
	PageToken string
	// PageSize is at most 1000; zero means 100.
	PageSize int
}

// KeyPage is one page of a key listing.
type KeyPage struct {
	Keys []*Key
	// NextPageToken is empty on the last page.
	NextPageToken string
}

func validateName(name string) error {
	if name == "" || len(name) > MaxNameLength || !nameRE.MatchString(name) {
		return fmt.Errorf("%w: key name must be 1 to %d characters of A-Z a-z 0-9 . _ / -, starting with a letter or digit", ErrInvalidArgument, MaxNameLength)
	}
	return nil
}

func validateDescription(d string) error {
	if len(d) > MaxDescriptionLength || !utf8.ValidString(d) {
		return fmt.Errorf("%w: description must be valid UTF-8 of at most %d bytes", ErrInvalidArgument, MaxDescriptionLength)
	}
	return nil
}

func validateLabels(labels map[string]string) error {
	if len(labels) > MaxLabels {
		return fmt.Errorf("%w: %d labels, at most %d allowed", ErrInvalidArgument, len(labels), MaxLabels)
	}
	for k, v := range labels {
		if !labelRE.MatchString(k) {
			return fmt.Errorf("%w: label name %q must be 1 to 63 characters of a-z 0-9 _ . -, starting with a letter", ErrInvalidArgument, k)
		}
		if len(v) > MaxLabelValueLength || !utf8.ValidString(v) {
			return fmt.Errorf("%w: label %q value must be valid UTF-8 of at most %d bytes", ErrInvalidArgument, k, MaxLabelValueLength)
		}
	}
	return nil
}

func validateRotationPeriod(p time.Duration) error {
	if p != 0 && p < MinRotationPeriod {
		return fmt.Errorf("%w: rotation period %s is shorter than the minimum %s (or 0 for none)", ErrInvalidArgument, p, MinRotationPeriod)
	}
	return nil
}
