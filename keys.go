package custodian

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/keycustodian/custodian/internal/algo"
	"github.com/keycustodian/custodian/internal/secret"
	"github.com/keycustodian/custodian/store"
)

// CreateKey creates a key with fresh material from crypto/rand. opts may
// be nil for a non-exportable aes256-gcm key.
func (c *Custodian) CreateKey(ctx context.Context, name string, opts *CreateOptions) (*Key, error) {
	k, err := c.create(ctx, name, opts, nil)
	return k, opError("create", name, err)
}

// ImportKey creates a key from external material: raw bytes for symmetric
// and HMAC keys, PKCS#8 (DER or PEM) for asymmetric keys, the KEM's private
// key bytes for HPKE. opts.Type is required.
//
// This is how data from the original Python module migrates: import its
// AES key as aes256-cbc, decrypt with DecryptRaw, encrypt again under an
// aes256-gcm key.
func (c *Custodian) ImportKey(ctx context.Context, name string, material []byte, opts *CreateOptions) (*Key, error) {
	if opts == nil || opts.Type == "" {
		return nil, opError("import", name, fmt.Errorf("%w: importing needs a key type", ErrInvalidArgument))
	}
	spec, err := specFor(opts.Type)
	if err != nil {
		return nil, opError("import", name, err)
	}
	m, err := spec.Import(material)
	if err != nil {
		return nil, opError("import", name, fmt.Errorf("%w: %w", ErrInvalidArgument, err))
	}
	k, err := c.create(ctx, name, opts, &m)
	return k, opError("import", name, err)
}

func specFor(t KeyType) (*algo.Spec, error) {
	if t == "" {
		t = DefaultKeyType
	}
	spec, ok := algo.Lookup(t)
	if !ok {
		return nil, fmt.Errorf("%w: unknown key type %q; see custodian.KeyTypes", ErrInvalidArgument, t)
	}
	return spec, nil
}

// usageFor checks a requested usage against the type; empty means the
// type's default.
func usageFor(spec *algo.Spec, u KeyUsage) (KeyUsage, error) {
	if u == "" {
		return spec.Purposes[0], nil
	}
	if !spec.AllowsPurpose(u) {
		allowed := make([]string, len(spec.Purposes))
		for i, p := range spec.Purposes {
			allowed[i] = string(p)
		}
		return "", fmt.Errorf("%w: key type %s cannot have usage %q; allowed: %s", ErrInvalidArgument, spec.Type, u, strings.Join(allowed, ", "))
	}
	return u, nil
}

// requireUsage refuses an operation the key was not created for.
func (e *entry) requireUsage(u KeyUsage) error {
	if KeyUsage(e.rec.Usage) != u {
		return fmt.Errorf("%w: key of type %s has usage %q; the operation needs %q", ErrUnsupportedOperation, e.spec.Type, e.rec.Usage, u)
	}
	return nil
}

// create stores a new key; material nil means generate it.
func (c *Custodian) create(ctx context.Context, name string, opts *CreateOptions, material *secret.Bytes) (*Key, error) {
	if opts == nil {
		opts = &CreateOptions{}
	}
	spec, err := specFor(opts.Type)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(validateName(name), validateDescription(opts.Description),
		validateLabels(opts.Labels), validateRotationPeriod(opts.RotationPeriod)); err != nil {
		return nil, err
	}
	usage, err := usageFor(spec, opts.Usage)
	if err != nil {
		return nil, err
	}
	var m secret.Bytes
	if material != nil {
		m = *material
	} else if m, err = spec.Generate(); err != nil {
		return nil, err
	}
	id, err := newKeyID()
	if err != nil {
		return nil, err
	}
	now := c.now().UTC()
	rec := store.Key{
		ID: id, Name: name, Type: string(spec.Type), Usage: string(usage), Description: opts.Description,
		Labels: maps.Clone(opts.Labels), Exportable: opts.Exportable, State: string(StateEnabled),
		Created: now, Updated: now, PrimaryVersion: 1, LatestVersion: 1, MinDecryptionVersion: 1,
		RotationPeriod: opts.RotationPeriod,
	}
	v1, err := c.sealVersion(&rec, 1, m, now)
	if err != nil {
		return nil, err
	}
	out, err := c.store.Create(ctx, rec, []store.Version{v1})
	if errors.Is(err, store.ErrExists) {
		return nil, ErrKeyExists
	}
	if err != nil {
		return nil, err
	}
	if _, err := c.publishEntry(out); err != nil {
		return nil, err
	}
	return keyFromRecord(out, []store.Version{v1}), nil
}

// GetKey returns a key's metadata, in any state.
func (c *Custodian) GetKey(ctx context.Context, name string) (*Key, error) {
	if err := validateName(name); err != nil {
		return nil, opError("get", name, err)
	}
	rec, err := c.store.Lookup(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		err = ErrKeyNotFound
	}
	if err != nil {
		return nil, opError("get", name, err)
	}
	k, err := c.describe(ctx, rec)
	return k, opError("get", name, err)
}

// ListKeys returns a page of keys whose names start with opts.Prefix, in
// name order. opts may be nil.
func (c *Custodian) ListKeys(ctx context.Context, opts *ListOptions) (*KeyPage, error) {
	if opts == nil {
		opts = &ListOptions{}
	}
	size := opts.PageSize
	switch {
	case size == 0:
		size = 100
	case size < 0 || size > 1000:
		return nil, opError("list", "", fmt.Errorf("%w: page size %d must be between 1 and 1000", ErrInvalidArgument, size))
	}
	after, err := decodePageToken(opts.PageToken)
	if err != nil {
		return nil, opError("list", "", err)
	}
	recs, err := c.store.List(ctx, store.ListOptions{Prefix: opts.Prefix, After: after, Limit: size + 1})
	if err != nil {
		return nil, opError("list", "", err)
	}
	page := &KeyPage{}
	if len(recs) > size {
		recs = recs[:size]
		page.NextPageToken = encodePageToken(recs[size-1].Name)
	}
	for _, rec := range recs {
		k, err := c.describe(ctx, rec)
		if err != nil {
			return nil, opError("list", rec.Name, err)
		}
		page.Keys = append(page.Keys, k)
	}
	return page, nil
}

// RotateKey adds a new version with fresh material and makes it primary.
// Older versions keep decrypting and verifying.
func (c *Custodian) RotateKey(ctx context.Context, name string) (*Key, error) {
	k, err := c.rotate(ctx, name, nil)
	return k, opError("rotate", name, err)
}

// rotate rotates the key holding name. If due is not nil, it decides on
// the freshly read record whether to rotate at all, so that of several
// processes rotating a due key at once only the first does.
func (c *Custodian) rotate(ctx context.Context, name string, due func(*store.Key, time.Time) (bool, error)) (*Key, error) {
	e, err := c.resolve(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := checkState(State(e.rec.State), OpRotate); err != nil {
		return nil, err
	}
	// Generate once: RSA-4096 takes seconds, and a retry after a conflict
	// only needs the material sealed again under the new version number.
	m, err := e.spec.Generate()
	if err != nil {
		return nil, err
	}
	rec, err := c.mutate(ctx, name, func(rec *store.Key, now time.Time) ([]store.Version, error) {
		if rec.ID != e.rec.ID {
			return nil, ErrKeyNotFound // the name now belongs to another key
		}
		if err := checkState(State(rec.State), OpRotate); err != nil {
			return nil, err
		}
		if due != nil {
			if ok, err := due(rec, now); err != nil || !ok {
				return nil, cmp.Or(err, errUnchanged)
			}
		}
		rec.LatestVersion++
		rec.PrimaryVersion = rec.LatestVersion
		v, err := c.sealVersion(rec, rec.LatestVersion, m, now)
		return []store.Version{v}, err
	})
	if err != nil {
		return nil, err
	}
	return c.describe(ctx, rec)
}

// UpdateKey changes a key's description, labels, minimum decryption version
// or rotation period.
func (c *Custodian) UpdateKey(ctx context.Context, name string, u KeyUpdate) (*Key, error) {
	rec, err := c.mutate(ctx, name, func(rec *store.Key, _ time.Time) ([]store.Version, error) {
		if err := checkState(State(rec.State), OpUpdate); err != nil {
			return nil, err
		}
		return nil, u.apply(rec)
	})
	if err != nil {
		return nil, opError("update", name, err)
	}
	k, err := c.describe(ctx, rec)
	return k, opError("update", name, err)
}

func (u KeyUpdate) apply(rec *store.Key) error {
	if u.Description != nil {
		if err := validateDescription(*u.Description); err != nil {
			return err
		}
		rec.Description = *u.Description
	}
	if u.Labels != nil {
		if err := validateLabels(u.Labels); err != nil {
			return err
		}
		rec.Labels = maps.Clone(u.Labels)
	}
	if u.MinDecryptionVersion != nil {
		v := *u.MinDecryptionVersion
		if v < 1 || v > int(rec.PrimaryVersion) {
			return fmt.Errorf("%w: minimum decryption version %d must be between 1 and the primary version %d", ErrInvalidArgument, v, rec.PrimaryVersion)
		}
		rec.MinDecryptionVersion = uint32(v)
	}
	if u.RotationPeriod != nil {
		if err := validateRotationPeriod(*u.RotationPeriod); err != nil {
			return err
		}
		rec.RotationPeriod = *u.RotationPeriod
	}
	return nil
}

// EnableKey returns a disabled key to use. Enabling an enabled key does nothing.
func (c *Custodian) EnableKey(ctx context.Context, name string) (*Key, error) {
	return c.transition(ctx, name, OpEnable, func(rec *store.Key, _ time.Time) error {
		return setState(rec, StateEnabled)
	})
}

// DisableKey stops every use of a key until it is enabled again.
func (c *Custodian) DisableKey(ctx context.Context, name string) (*Key, error) {
	return c.transition(ctx, name, OpDisable, func(rec *store.Key, _ time.Time) error {
		return setState(rec, StateDisabled)
	})
}

// RevokeKey makes a key unusable for good: every later operation on it
// fails with ErrKeyRevoked, including decryption of what it encrypted. This
// is the seed's invalidate_key. A revoked key can still be scheduled for
// deletion and destroyed.
func (c *Custodian) RevokeKey(ctx context.Context, name string) (*Key, error) {
	return c.transition(ctx, name, OpRevoke, func(rec *store.Key, _ time.Time) error {
		return setState(rec, StateRevoked)
	})
}

// ScheduleKeyDeletion stops every use of a key and schedules its
// destruction after window (zero means DefaultDeletionWindow; between 7
// and 30 days). CancelKeyDeletion undoes it until then.
func (c *Custodian) ScheduleKeyDeletion(ctx context.Context, name string, window time.Duration) (*Key, error) {
	if window == 0 {
		window = DefaultDeletionWindow
	}
	if err := validateDeletionWindow(window); err != nil {
		return nil, opError(string(OpScheduleDeletion), name, err)
	}
	return c.transition(ctx, name, OpScheduleDeletion, func(rec *store.Key, now time.Time) error {
		rec.StateBeforeDeletion = rec.State
		rec.DeletionDate = now.Add(window)
		return setState(rec, StatePendingDeletion)
	})
}

// CancelKeyDeletion cancels a scheduled deletion. The key returns to
// disabled, or to revoked if it was revoked: revocation is never undone.
func (c *Custodian) CancelKeyDeletion(ctx context.Context, name string) (*Key, error) {
	return c.transition(ctx, name, OpCancelDeletion, func(rec *store.Key, _ time.Time) error {
		back := StateDisabled
		if rec.StateBeforeDeletion == string(StateRevoked) {
			back = StateRevoked
		}
		rec.StateBeforeDeletion, rec.DeletionDate = "", time.Time{}
		return setState(rec, back)
	})
}

// DestroyKey wipes the material of every version of a key whose deletion
// window has passed. Its metadata remains as a tombstone, and its name may
// be given to a new key.
func (c *Custodian) DestroyKey(ctx context.Context, name string) (*Key, error) {
	var destroyed store.Key
	k, err := c.transitionVersions(ctx, name, OpDestroy, func(rec *store.Key, now time.Time) ([]store.Version, error) {
		if now.Before(rec.DeletionDate) {
			return nil, fmt.Errorf("%w: deletion window ends at %s", ErrInvalidKeyState, rec.DeletionDate.Format(time.RFC3339))
		}
		destroyed = *rec
		rec.StateBeforeDeletion = ""
		if err := setState(rec, StateDestroyed); err != nil {
			return nil, err
		}
		vs, err := c.store.Versions(ctx, rec.ID)
		for i := range vs {
			vs[i].State, vs[i].Material = string(VersionDestroyed), nil
		}
		return vs, err
	})
	if err == nil {
		c.forgetVersions(destroyed)
	}
	return k, err
}

// forgetVersions drops a destroyed key's loaded versions from the cache,
// each by its exact entry: a walk of the whole cache would cost every
// destruction time in proportion to the cache size.
func (c *Custodian) forgetVersions(rec store.Key) {
	v := c.vault.Load()
	if v == nil {
		return
	}
	binding := materialBinding(rec)
	for n := uint32(1); n <= rec.LatestVersion; n++ {
		v.versions.Remove(versionRef{id: rec.ID, version: n, binding: binding})
	}
}

// transition applies a state change allowed by the lifecycle table.
func (c *Custodian) transition(ctx context.Context, name string, op Operation, change func(*store.Key, time.Time) error) (*Key, error) {
	return c.transitionVersions(ctx, name, op, func(rec *store.Key, now time.Time) ([]store.Version, error) {
		return nil, change(rec, now)
	})
}

func (c *Custodian) transitionVersions(ctx context.Context, name string, op Operation, change func(*store.Key, time.Time) ([]store.Version, error)) (*Key, error) {
	rec, err := c.mutate(ctx, name, func(rec *store.Key, now time.Time) ([]store.Version, error) {
		if err := checkState(State(rec.State), op); err != nil {
			return nil, err
		}
		return change(rec, now)
	})
	if err != nil {
		return nil, opError(string(op), name, err)
	}
	k, err := c.describe(ctx, rec)
	return k, opError(string(op), name, err)
}

// setState moves rec to s, or reports errUnchanged if it is already there.
func setState(rec *store.Key, s State) error {
	if rec.State == string(s) {
		return errUnchanged
	}
	rec.State = string(s)
	return nil
}
