package custodian

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/keycustodian/custodian/internal/barrier"
	"github.com/keycustodian/custodian/internal/secret"
	"github.com/keycustodian/custodian/store"
)

// errCorruptRecord is wrapped by ErrIntegrity for a record that fails its
// check; it never says more than which record.
var errCorruptRecord = ErrIntegrity

// sealedStore is the store as the custodian's operations see it. Every key
// record written carries a Seal made with the current keyring, and every
// one read must open under it, so that a record edited in the database
// (a revoked key set back to enabled, a name pointed at another key's
// record) is detected. Version material is sealed by the operations
// (sealVersion) and re-sealed here if a root rotation changed the active
// term meanwhile. Meta records and Dump pass through: the seal itself
// uses them while sealed.
type sealedStore struct {
	store.Store
	c *Custodian
}

// Create implements store.Store.
func (s *sealedStore) Create(ctx context.Context, k store.Key, versions []store.Version) (store.Key, error) {
	return s.write(k, versions, func(k store.Key, vs []store.Version) (store.Key, error) {
		return s.Store.Create(ctx, k, vs)
	})
}

// Update implements store.Store.
func (s *sealedStore) Update(ctx context.Context, k store.Key, versions []store.Version) (store.Key, error) {
	return s.write(k, versions, func(k store.Key, vs []store.Version) (store.Key, error) {
		return s.Store.Update(ctx, k, vs)
	})
}

func (s *sealedStore) write(k store.Key, versions []store.Version, put func(store.Key, []store.Version) (store.Key, error)) (store.Key, error) {
	v, err := s.c.writeVault()
	if err != nil {
		return store.Key{}, err
	}
	defer v.writers.RUnlock()
	if versions, err = v.resealVersions(k, versions); err != nil {
		return store.Key{}, err
	}
	if k.Seal, err = v.sealRecord(k); err != nil {
		return store.Key{}, err
	}
	return put(k, versions)
}

// writeVault returns the current vault with its writers lock read-held.
// It checks, under the lock, that the vault is still current: a root
// rotation swaps the vault before it waits for the old one's writers, so
// a writer that locks the old vault after that wait would seal under the
// old term behind the re-sealing walk's back.
func (c *Custodian) writeVault() (*vault, error) {
	for {
		v, err := c.unsealed()
		if err != nil {
			return nil, err
		}
		v.writers.RLock()
		if c.vault.Load() == v {
			return v, nil
		}
		v.writers.RUnlock()
	}
}

// resealVersions returns versions with every material sealed under the
// vault's active term: material sealed by an operation that began before
// a root rotation is opened and sealed again, so no write brings an old
// term back.
func (v *vault) resealVersions(k store.Key, versions []store.Version) ([]store.Version, error) {
	active := v.barrier.Active()
	var out []store.Version
	for i, ver := range versions {
		if term, _ := barrier.TermOf(ver.Material); len(ver.Material) == 0 || term == active {
			continue
		}
		if out == nil {
			out = slices.Clone(versions)
		}
		binding := materialBinding(k)
		m, err := v.barrier.Open(barrier.KindMaterial, k.ID, ver.Number, binding, ver.Material)
		if err != nil {
			return nil, fmt.Errorf("the root key was rotated during the operation; try again: %w", err)
		}
		if out[i].Material, err = v.barrier.Seal(barrier.KindMaterial, k.ID, ver.Number, binding, m); err != nil {
			return nil, err
		}
	}
	if out == nil {
		return versions, nil
	}
	return out, nil
}

// Get implements store.Store.
func (s *sealedStore) Get(ctx context.Context, id string) (store.Key, error) {
	return s.checked(s.Store.Get(ctx, id))
}

// Lookup implements store.Store.
func (s *sealedStore) Lookup(ctx context.Context, name string) (store.Key, error) {
	return s.checked(s.Store.Lookup(ctx, name))
}

func (s *sealedStore) checked(k store.Key, err error) (store.Key, error) {
	if err != nil {
		return k, err
	}
	v, err := s.c.unsealed()
	if err != nil {
		return store.Key{}, err
	}
	if err := v.checkRecord(k); err != nil {
		return store.Key{}, err
	}
	return k, nil
}

// List implements store.Store.
func (s *sealedStore) List(ctx context.Context, opts store.ListOptions) ([]store.Key, error) {
	return s.checkedAll(s.Store.List(ctx, opts))
}

// Scan implements store.Store.
func (s *sealedStore) Scan(ctx context.Context, after string, limit int) ([]store.Key, error) {
	return s.checkedAll(s.Store.Scan(ctx, after, limit))
}

func (s *sealedStore) checkedAll(keys []store.Key, err error) ([]store.Key, error) {
	if err != nil {
		return nil, err
	}
	v, err := s.c.unsealed()
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if err := v.checkRecord(k); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// Version implements store.Store; the material is checked when opened.
func (s *sealedStore) Version(ctx context.Context, keyID string, n uint32) (store.Version, error) {
	if _, err := s.c.unsealed(); err != nil {
		return store.Version{}, err
	}
	return s.Store.Version(ctx, keyID, n)
}

// Versions implements store.Store; the material is checked when opened.
func (s *sealedStore) Versions(ctx context.Context, keyID string) ([]store.Version, error) {
	if _, err := s.c.unsealed(); err != nil {
		return nil, err
	}
	return s.Store.Versions(ctx, keyID)
}

// sealRecord returns the Seal of k: an AES-GCM tag, under the active
// term, over every field of the record but its revision and seal.
func (v *vault) sealRecord(k store.Key) ([]byte, error) {
	return v.barrier.Seal(barrier.KindKeyRecord, k.ID, 0, recordBinding(k), secret.Bytes{})
}

// checkRecord verifies k's Seal.
func (v *vault) checkRecord(k store.Key) error {
	if _, err := v.barrier.Open(barrier.KindKeyRecord, k.ID, 0, recordBinding(k), k.Seal); err != nil {
		if errors.Is(err, barrier.ErrOpen) {
			return fmt.Errorf("%w: key id %s", errCorruptRecord, k.ID)
		}
		return err
	}
	return nil
}

// recordBinding encodes the fields a record's Seal covers, each length-
// prefixed or fixed-width so that no two records encode alike.
func recordBinding(k store.Key) string {
	b := make([]byte, 0, 256)
	str := func(s string) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	u64 := func(n uint64) { b = binary.BigEndian.AppendUint64(b, n) }
	tm := func(t interface{ UnixNano() int64 }, zero bool) {
		if zero {
			u64(0)
			b = append(b, 0)
			return
		}
		u64(uint64(t.UnixNano()))
		b = append(b, 1)
	}
	str("keycustodian key record v1")
	for _, f := range []string{k.ID, k.Name, k.Type, k.Usage, k.Description, k.State, k.StateBeforeDeletion} {
		str(f)
	}
	u64(uint64(len(k.Labels)))
	for _, name := range slices.Sorted(maps.Keys(k.Labels)) {
		str(name)
		str(k.Labels[name])
	}
	if k.Exportable {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	tm(k.DeletionDate, k.DeletionDate.IsZero())
	tm(k.Created, k.Created.IsZero())
	tm(k.Updated, k.Updated.IsZero())
	for _, n := range []uint32{k.PrimaryVersion, k.LatestVersion, k.MinDecryptionVersion} {
		b = binary.BigEndian.AppendUint32(b, n)
	}
	u64(uint64(k.RotationPeriod))
	return string(b)
}
