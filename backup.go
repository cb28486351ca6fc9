package custodian

import (
	"bufio"
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/keycustodian/custodian/internal/barrier"
	"github.com/keycustodian/custodian/internal/secret"
	"github.com/keycustodian/custodian/seal"
	"github.com/keycustodian/custodian/store"
)

// A backup file is:
//
//	"KCBACKUP" | 0x01 | uint32 len | header (JSON) | uint16 len | wrapped file key | digest | chunks
//
// The header says how to recover the root key (the seal kind, its check
// value, and for a wrapping seal the wrapped root key). The file key, 32
// random bytes, is sealed with AES-256-GCM under the root key with the
// magic, version and header as associated data, so that no byte of the
// header can change unnoticed. That check needs the root key, which the
// header itself helps recover; so the digest, SHA-256 of every byte
// before it, tells a damaged header apart from a wrong key file or wrong
// shares before the seal is asked. It is no defence against forgery: a
// forged header fails as a wrong key would. The rest is the STREAM
// construction (as in age, or Hoang et al. 2015) over AES-256-GCM with
// the file key: chunks of at most 64 KiB, each "uint32 len | sealed
// chunk", the nonce an 88-bit big-endian chunk counter and a last-chunk
// flag byte; a reordered, dropped, truncated or appended chunk fails to
// open.
//
// The plaintext is a sequence of records, "type byte | uint32 len | JSON":
// 'm' a meta record (the root record among them), 'k' a key with its
// versions, and last 'e' with the counts. Key material inside is sealed
// under the keyring, as in the store.

var backupMagic = []byte("KCBACKUP\x01")

const (
	backupChunk  = 64 << 10
	backupFormat = 1
)

// errBackupCorrupt is the one error for a backup that fails to open.
var errBackupCorrupt = fmt.Errorf("%w: the backup is damaged or was modified", ErrInvalidArgument)

type backupHeader struct {
	Format      int       `json:"format"`
	Created     time.Time `json:"created"`
	Seal        string    `json:"seal"`
	Shares      int       `json:"shares,omitempty"`
	Threshold   int       `json:"threshold,omitempty"`
	Check       []byte    `json:"check"`
	WrappedRoot []byte    `json:"wrapped_root,omitempty"`
}

type backupMeta struct {
	Name  string `json:"name"`
	Value []byte `json:"value"`
}

type backupKey struct {
	Key      backupKeyRecord    `json:"key"`
	Versions []backupKeyVersion `json:"versions"`
}

type backupKeyRecord struct {
	ID                   string            `json:"id"`
	Name                 string            `json:"name"`
	Type                 string            `json:"type"`
	Usage                string            `json:"usage"`
	Description          string            `json:"description"`
	Labels               map[string]string `json:"labels,omitempty"`
	Exportable           bool              `json:"exportable"`
	State                string            `json:"state"`
	StateBeforeDeletion  string            `json:"state_before_deletion,omitempty"`
	DeletionDate         time.Time         `json:"deletion_date"`
	Created              time.Time         `json:"created"`
	Updated              time.Time         `json:"updated"`
	PrimaryVersion       uint32            `json:"primary_version"`
	LatestVersion        uint32            `json:"latest_version"`
	MinDecryptionVersion uint32            `json:"min_decryption_version"`
	RotationPeriod       time.Duration     `json:"rotation_period"`
	Seal                 []byte            `json:"seal"`
}

type backupKeyVersion struct {
	Number   uint32    `json:"number"`
	Created  time.Time `json:"created"`
	State    string    `json:"state"`
	Material []byte    `json:"material,omitempty"`
}

type backupEnd struct {
	Meta int `json:"meta"`
	Keys int `json:"keys"`
}

// BackupResult counts what a backup holds.
type BackupResult struct {
	Meta int `json:"meta"`
	Keys int `json:"keys"`
}

// Backup writes a consistent backup of the whole store to w, while
// operations go on. The file is encrypted and authenticated: restoring it
// needs the root key (a quorum of shares, or the key file). It needs the
// Custodian unsealed; a Seal while it runs does not stop it, since it
// finishes under the root key it began with. If it fails, w holds part of
// a file that Restore refuses.
func (c *Custodian) Backup(ctx context.Context, w io.Writer) (*BackupResult, error) {
	res, err := c.backup(ctx, w)
	return res, opError("backup", "", err)
}

func (c *Custodian) backup(ctx context.Context, w io.Writer) (*BackupResult, error) {
	// A copy: Seal wipes the custodian's root key in place, and a backup
	// already running finishes with the key it began with, as other
	// operations do, rather than wrap its file key under zeros.
	c.sealing.Lock()
	root, ephemeral := secret.New(secret.Reveal(c.root.root)), c.root.ephemeral
	c.sealing.Unlock()
	defer root.Wipe()
	if ephemeral {
		return nil, fmt.Errorf("%w: an in-memory Custodian's root key dies with it; its backup could never be restored", ErrUnsupportedOperation)
	}
	if root.IsZero() {
		if c.closed.Load() {
			return nil, ErrClosed
		}
		return nil, ErrSealed
	}
	var (
		meta []backupMeta
		bw   *streamWriter
		res  BackupResult
	)
	start := func() error {
		var rec *rootRecord
		for _, m := range meta {
			if m.Name == rootMeta {
				var err error
				if rec, err = decodeRoot(m.Value); err != nil {
					return err
				}
			}
		}
		if rec == nil {
			return ErrNotInitialized
		}
		if barrier.VerifyRoot(root, rec.Check) != nil {
			return errors.New("the root key changed while the backup began; try again")
		}
		h := backupHeader{Format: backupFormat, Created: c.now().UTC(), Seal: rec.Seal,
			Shares: rec.Shares, Threshold: rec.Threshold, Check: rec.Check, WrappedRoot: rec.Wrapped}
		var err error
		if bw, err = newStreamWriter(w, root, h); err != nil {
			return err
		}
		for _, m := range meta {
			if err := bw.record('m', m); err != nil {
				return err
			}
		}
		res.Meta = len(meta)
		return nil
	}
	err := c.backend.Dump(ctx, func(name string, value []byte) error {
		meta = append(meta, backupMeta{Name: name, Value: value})
		return nil
	}, func(k store.Key, vs []store.Version) error {
		if bw == nil {
			if err := start(); err != nil {
				return err
			}
		}
		res.Keys++
		return bw.record('k', toBackupKey(k, vs))
	})
	if err == nil && bw == nil {
		err = start()
	}
	if err != nil {
		return nil, err
	}
	if err := bw.record('e', backupEnd(res)); err != nil {
		return nil, err
	}
	return &res, bw.close()
}

func toBackupKey(k store.Key, vs []store.Version) backupKey {
	out := backupKey{Key: backupKeyRecord{
		ID: k.ID, Name: k.Name, Type: k.Type, Usage: k.Usage, Description: k.Description,
		Labels: k.Labels, Exportable: k.Exportable, State: k.State, StateBeforeDeletion: k.StateBeforeDeletion,
		DeletionDate: k.DeletionDate, Created: k.Created, Updated: k.Updated,
		PrimaryVersion: k.PrimaryVersion, LatestVersion: k.LatestVersion,
		MinDecryptionVersion: k.MinDecryptionVersion, RotationPeriod: k.RotationPeriod, Seal: k.Seal,
	}}
	for _, v := range vs {
		out.Versions = append(out.Versions, backupKeyVersion{Number: v.Number, Created: v.Created, State: v.State, Material: v.Material})
	}
	return out
}

func (b backupKey) record() (store.Key, []store.Version) {
	r := b.Key
	k := store.Key{
		ID: r.ID, Name: r.Name, Type: r.Type, Usage: r.Usage, Description: r.Description,
		Labels: r.Labels, Exportable: r.Exportable, State: r.State, StateBeforeDeletion: r.StateBeforeDeletion,
		DeletionDate: r.DeletionDate, Created: r.Created, Updated: r.Updated,
		PrimaryVersion: r.PrimaryVersion, LatestVersion: r.LatestVersion,
		MinDecryptionVersion: r.MinDecryptionVersion, RotationPeriod: r.RotationPeriod, Seal: r.Seal,
	}
	vs := make([]store.Version, len(b.Versions))
	for i, v := range b.Versions {
		vs[i] = store.Version{KeyID: r.ID, Number: v.Number, Created: v.Created, State: v.State, Material: v.Material}
	}
	return k, vs
}

// RestoreOptions configure Restore.
type RestoreOptions struct {
	// Store receives the backup. It must be empty: a new data directory,
	// a new PostgreSQL schema.
	Store store.Store
	// Seal is of the backup's kind: the same key file for a key-file
	// seal, a shamir.Seal for a Shamir seal.
	Seal seal.Seal
	// Shares is a quorum of the root key's shares, for a Shamir seal.
	Shares [][]byte
}

// Restore writes the backup read from r into opts.Store, which must be
// empty, after checking that the root key opens it. Every chunk is
// authenticated, and every record and key version is checked against the
// keyring before it is written; a backup modified anywhere is refused.
// Afterwards, Open the store with the same seal. If Restore fails, the
// store may hold part of the backup: discard it.
func Restore(ctx context.Context, r io.Reader, opts RestoreOptions) (*BackupResult, error) {
	res, err := restore(ctx, r, opts)
	return res, opError("restore", "", err)
}

func restore(ctx context.Context, r io.Reader, opts RestoreOptions) (*BackupResult, error) {
	if opts.Store == nil || opts.Seal == nil {
		return nil, fmt.Errorf("%w: Restore needs a Store and a Seal", ErrInvalidArgument)
	}
	if err := checkEmpty(ctx, opts.Store); err != nil {
		return nil, err
	}
	br, err := newStreamReader(bufio.NewReader(r), func(h backupHeader) (secret.Bytes, error) {
		return backupRoot(ctx, h, opts)
	})
	if err != nil {
		return nil, err
	}
	defer br.root.Wipe()
	var (
		res BackupResult
		b   *barrier.Barrier
	)
	for {
		typ, body, err := br.record()
		if err != nil {
			return nil, err
		}
		switch typ {
		case 'm':
			var m backupMeta
			if err := json.Unmarshal(body, &m); err != nil || res.Keys > 0 {
				return nil, errBackupCorrupt
			}
			if m.Name == rootMeta {
				if b, err = restoredBarrier(br.root, m.Value); err != nil {
					return nil, err
				}
			}
			if err := opts.Store.PutMeta(ctx, m.Name, nil, m.Value); err != nil {
				return nil, err
			}
			res.Meta++
		case 'k':
			var bk backupKey
			if err := json.Unmarshal(body, &bk); err != nil || b == nil {
				return nil, errBackupCorrupt
			}
			k, vs := bk.record()
			if err := checkRestored(b, k, vs); err != nil {
				return nil, err
			}
			if _, err := opts.Store.Create(ctx, k, vs); err != nil {
				return nil, fmt.Errorf("key id %s: %w", k.ID, err)
			}
			res.Keys++
		case 'e':
			var end backupEnd
			if err := json.Unmarshal(body, &end); err != nil || end != backupEnd(res) || b == nil {
				return nil, errBackupCorrupt
			}
			if err := br.end(); err != nil {
				return nil, err
			}
			return &res, nil
		default:
			return nil, errBackupCorrupt
		}
	}
}

func checkEmpty(ctx context.Context, s store.Store) error {
	if _, err := s.GetMeta(ctx, rootMeta); !errors.Is(err, store.ErrNotFound) {
		if err == nil {
			err = fmt.Errorf("%w: the store to restore into is already initialized; restore into an empty one", ErrAlreadyInitialized)
		}
		return err
	}
	keys, err := s.Scan(ctx, "", 1)
	if err != nil {
		return err
	}
	if len(keys) > 0 {
		return fmt.Errorf("%w: the store to restore into holds keys; restore into an empty one", ErrInvalidArgument)
	}
	return nil
}

// backupRoot recovers the root key the header describes, from the seal.
func backupRoot(ctx context.Context, h backupHeader, opts RestoreOptions) (secret.Bytes, error) {
	if h.Seal != opts.Seal.Type() {
		return secret.Bytes{}, fmt.Errorf("%w: the backup was made under a %s seal, not %s", ErrInvalidArgument, h.Seal, opts.Seal.Type())
	}
	rec := &rootRecord{Seal: h.Seal, Threshold: h.Threshold, Check: h.Check, Wrapped: h.WrappedRoot}
	if w, ok := opts.Seal.(seal.Wrapper); ok {
		return unwrapRoot(ctx, w, rec)
	}
	return decodeQuorum(opts.Seal, opts.Shares, rec)
}

func restoredBarrier(root secret.Bytes, raw []byte) (*barrier.Barrier, error) {
	rec, err := decodeRoot(raw)
	if err != nil {
		return nil, errBackupCorrupt
	}
	if barrier.VerifyRoot(root, rec.Check) != nil {
		return nil, errBackupCorrupt
	}
	kr, err := barrier.OpenKeyring(root, rec.Keyring)
	if err != nil {
		return nil, errBackupCorrupt
	}
	return kr.Barrier()
}

// checkRestored opens a key's record seal and every version's material.
func checkRestored(b *barrier.Barrier, k store.Key, vs []store.Version) error {
	v := &vault{barrier: b}
	if err := v.checkRecord(k); err != nil {
		return errBackupCorrupt
	}
	for _, ver := range vs {
		if len(ver.Material) == 0 {
			continue
		}
		m, err := b.Open(barrier.KindMaterial, k.ID, ver.Number, materialBinding(k), ver.Material)
		if err != nil {
			return errBackupCorrupt
		}
		m.Wipe()
	}
	return nil
}

// streamWriter writes the backup's header and its chunks.
type streamWriter struct {
	w     io.Writer
	aead  cipher.AEAD
	buf   []byte
	count uint64
}

func newStreamWriter(w io.Writer, root secret.Bytes, h backupHeader) (*streamWriter, error) {
	hdr, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	prefix := binary.BigEndian.AppendUint32(append([]byte{}, backupMagic...), uint32(len(hdr)))
	prefix = append(prefix, hdr...)
	fileKey, err := barrier.NewKey()
	if err != nil {
		return nil, err
	}
	wrapped, err := gcmSeal(root, secret.Reveal(fileKey), prefix)
	if err != nil {
		return nil, err
	}
	out := append(binary.BigEndian.AppendUint16(prefix, uint16(len(wrapped))), wrapped...)
	digest := sha256.Sum256(out)
	if _, err := w.Write(append(out, digest[:]...)); err != nil {
		return nil, err
	}
	a, err := newGCM(fileKey)
	if err != nil {
		return nil, err
	}
	return &streamWriter{w: w, aead: a, buf: make([]byte, 0, backupChunk)}, nil
}

func (s *streamWriter) record(typ byte, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	rec := binary.BigEndian.AppendUint32([]byte{typ}, uint32(len(body)))
	for _, p := range [][]byte{rec, body} {
		for len(p) > 0 {
			if len(s.buf) == backupChunk {
				if err := s.flush(false); err != nil {
					return err
				}
			}
			n := min(len(p), backupChunk-len(s.buf))
			s.buf = append(s.buf, p[:n]...)
			p = p[n:]
		}
	}
	return nil
}

func (s *streamWriter) flush(last bool) error {
	sealed := s.aead.Seal(nil, chunkNonce(s.count, last), s.buf, nil)
	s.count++
	s.buf = s.buf[:0]
	_, err := s.w.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(sealed))), sealed...))
	return err
}

func (s *streamWriter) close() error { return s.flush(true) }

func chunkNonce(n uint64, last bool) []byte {
	nonce := make([]byte, 12)
	binary.BigEndian.PutUint64(nonce[3:11], n)
	if last {
		nonce[11] = 1
	}
	return nonce
}

// streamReader reads what streamWriter wrote.
type streamReader struct {
	r     *bufio.Reader
	aead  cipher.AEAD
	root  secret.Bytes
	plain []byte
	count uint64
	last  bool
}

func newStreamReader(r *bufio.Reader, rootFor func(backupHeader) (secret.Bytes, error)) (*streamReader, error) {
	var h backupHeader
	prefix := make([]byte, len(backupMagic)+4)
	if _, err := io.ReadFull(r, prefix); err != nil || string(prefix[:len(backupMagic)]) != string(backupMagic) {
		return nil, fmt.Errorf("%w: not a KeyCustodian backup (format 1)", ErrInvalidArgument)
	}
	n := binary.BigEndian.Uint32(prefix[len(backupMagic):])
	if n > 1<<20 {
		return nil, errBackupCorrupt
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, errBackupCorrupt
	}
	var wl [2]byte
	if _, err := io.ReadFull(r, wl[:]); err != nil {
		return nil, errBackupCorrupt
	}
	wrapped := make([]byte, binary.BigEndian.Uint16(wl[:]))
	if _, err := io.ReadFull(r, wrapped); err != nil {
		return nil, errBackupCorrupt
	}
	var digest [sha256.Size]byte
	if _, err := io.ReadFull(r, digest[:]); err != nil {
		return nil, errBackupCorrupt
	}
	d := sha256.New()
	for _, p := range [][]byte{prefix, hdr, wl[:], wrapped} {
		d.Write(p)
	}
	if !bytes.Equal(d.Sum(nil), digest[:]) {
		return nil, errBackupCorrupt
	}
	if err := json.Unmarshal(hdr, &h); err != nil || h.Format != backupFormat {
		return nil, errBackupCorrupt
	}
	root, err := rootFor(h)
	if err != nil {
		return nil, err
	}
	fileKey, err := gcmOpen(root, wrapped, append(prefix, hdr...))
	if err != nil {
		return nil, errBackupCorrupt
	}
	a, err := newGCM(secret.Own(fileKey))
	if err != nil {
		return nil, err
	}
	return &streamReader{r: r, aead: a, root: root}, nil
}

// next reads exactly n plaintext bytes, across chunks.
func (s *streamReader) next(n int) ([]byte, error) {
	out := make([]byte, 0, n)
	for len(out) < n {
		if len(s.plain) == 0 {
			if s.last {
				return nil, errBackupCorrupt
			}
			if err := s.chunk(); err != nil {
				return nil, err
			}
		}
		k := min(n-len(out), len(s.plain))
		out = append(out, s.plain[:k]...)
		s.plain = s.plain[k:]
	}
	return out, nil
}

func (s *streamReader) chunk() error {
	var l [4]byte
	if _, err := io.ReadFull(s.r, l[:]); err != nil {
		return errBackupCorrupt
	}
	n := binary.BigEndian.Uint32(l[:])
	if n > backupChunk+uint32(s.aead.Overhead()) {
		return errBackupCorrupt
	}
	sealed := make([]byte, n)
	if _, err := io.ReadFull(s.r, sealed); err != nil {
		return errBackupCorrupt
	}
	// A chunk opens either as a middle chunk or as the last one.
	plain, err := s.aead.Open(nil, chunkNonce(s.count, false), sealed, nil)
	if err != nil {
		if plain, err = s.aead.Open(nil, chunkNonce(s.count, true), sealed, nil); err != nil {
			return errBackupCorrupt
		}
		s.last = true
	}
	s.count++
	s.plain = plain
	return nil
}

func (s *streamReader) record() (byte, []byte, error) {
	hdr, err := s.next(5)
	if err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > 64<<20 {
		return 0, nil, errBackupCorrupt
	}
	body, err := s.next(int(n))
	return hdr[0], body, err
}

// end checks that nothing follows the last record.
func (s *streamReader) end() error {
	if len(s.plain) != 0 || !s.last {
		return errBackupCorrupt
	}
	if _, err := s.r.ReadByte(); err != io.EOF {
		return errBackupCorrupt
	}
	return nil
}

func newGCM(k secret.Bytes) (cipher.AEAD, error) {
	block, err := aes.NewCipher(secret.Reveal(k))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func gcmSeal(k secret.Bytes, plain, ad []byte) ([]byte, error) {
	a, err := newGCM(k)
	if err != nil {
		return nil, err
	}
	out := make([]byte, a.NonceSize(), a.NonceSize()+len(plain)+a.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	return a.Seal(out, out, plain, ad), nil
}

func gcmOpen(k secret.Bytes, sealed, ad []byte) ([]byte, error) {
	a, err := newGCM(k)
	if err != nil {
		return nil, err
	}
	if len(sealed) < a.NonceSize()+a.Overhead() {
		return nil, errBackupCorrupt
	}
	return a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], ad)
}
