package custodian

import (
	"maps"
	"time"

	"github.com/keycustodian/custodian/store"
)

// Key is a key's metadata. It never holds key material.
type Key struct {
	// ID is immutable and random: 24 hex digits. Ciphertexts name their key by it.
	ID string `json:"id"`
	// Name is unique among keys that are not destroyed.
	Name        string            `json:"name"`
	Type        KeyType           `json:"type"`
	Usage       KeyUsage          `json:"usage"`
	Description string            `json:"description,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	// Exportable is fixed at creation: only exportable keys leave through ExportKey.
	Exportable bool  `json:"exportable"`
	State      State `json:"state"`
	// DeletionDate is when a key pending deletion may be destroyed.
	DeletionDate time.Time `json:"deletion_date,omitzero"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
	// PrimaryVersion encrypts, signs and MACs; every version from
	// MinDecryptionVersion up decrypts and verifies.
	PrimaryVersion       int `json:"primary_version"`
	LatestVersion        int `json:"latest_version"`
	MinDecryptionVersion int `json:"min_decryption_version"`
	// RotationPeriod, when set, is how often the key should be rotated.
	RotationPeriod time.Duration `json:"rotation_period,omitempty"`
	// Versions lists the key's versions, oldest first.
	Versions []VersionInfo `json:"versions"`
}

// VersionInfo describes one key version.
type VersionInfo struct {
	Version int          `json:"version"`
	Created time.Time    `json:"created"`
	State   VersionState `json:"state"`
}

// NextRotation returns when the key is next due for rotation, or the zero
// time if it has no rotation period.
func (k *Key) NextRotation() time.Time {
	if k.RotationPeriod <= 0 || len(k.Versions) == 0 {
		return time.Time{}
	}
	return k.Versions[len(k.Versions)-1].Created.Add(k.RotationPeriod)
}

func keyFromRecord(r store.Key, versions []store.Version) *Key {
	k := &Key{
		ID: r.ID, Name: r.Name, Type: KeyType(r.Type), Usage: KeyUsage(r.Usage), Description: r.Description,
		Labels: maps.Clone(r.Labels), Exportable: r.Exportable, State: State(r.State),
		DeletionDate: r.DeletionDate, Created: r.Created, Updated: r.Updated,
		PrimaryVersion: int(r.PrimaryVersion), LatestVersion: int(r.LatestVersion),
		MinDecryptionVersion: int(r.MinDecryptionVersion), RotationPeriod: r.RotationPeriod,
		Versions: make([]VersionInfo, len(versions)),
	}
	for i, v := range versions {
		k.Versions[i] = VersionInfo{Version: int(v.Number), Created: v.Created, State: VersionState(v.State)}
	}
	return k
}
