package custodian

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/keycustodian/custodian/internal/barrier"
	"github.com/keycustodian/custodian/internal/secret"
	"github.com/keycustodian/custodian/seal"
	"github.com/keycustodian/custodian/seal/shamir"
	"github.com/keycustodian/custodian/store"
)

// rootMeta is the meta record that holds the root record.
const rootMeta = "root"

// rootRecord is what the store keeps about the root key: how the seal
// protects it, a check value that proves a candidate key, and the keyring
// sealed under it. One record, so that every change of root key or
// keyring is one atomic compare-and-swap. Nothing in it is secret.
type rootRecord struct {
	Format    int    `json:"format"`
	Seal      string `json:"seal"`
	Shares    int    `json:"shares,omitempty"`
	Threshold int    `json:"threshold,omitempty"`
	// Wrapped is the root key wrapped by a seal.Wrapper.
	Wrapped []byte `json:"wrapped_root,omitempty"`
	// Check is barrier.Check of the root key.
	Check []byte `json:"check"`
	// Keyring is the keyring sealed under the root key.
	Keyring []byte `json:"keyring"`
	// ActiveTerm and Terms describe the keyring: more than one term means
	// a root rotation is still re-sealing records.
	ActiveTerm  uint32    `json:"active_term"`
	Terms       []uint32  `json:"terms"`
	Initialized time.Time `json:"initialized"`
	RootChanged time.Time `json:"root_changed"`
	// TokenHash is SHA-256 of the root token, and TokenMAC an HMAC of it
	// under the root key, so that whoever can write to the store cannot
	// put in a token of their own.
	TokenHash []byte `json:"token_hash,omitempty"`
	TokenMAC  []byte `json:"token_mac,omitempty"`
}

const rootFormat = 1

// rootState is the custodian's view of the root key. It is guarded by
// Custodian.sealing.
type rootState struct {
	// ephemeral: New's mode, a root key that only this process knows.
	ephemeral bool
	// root is the root key while unsealed.
	root secret.Bytes
	// keyring is the keyring while unsealed.
	keyring barrier.Keyring
	// pending holds the shares given so far toward unsealing.
	pending []secret.Bytes
	// token is the root token's hash, verified against its MAC at
	// unseal; nil if the store has none, or a forged one.
	token []byte
	// tokenReload is when the token was last read again from the store.
	tokenReload time.Time
}

// Status describes the seal.
type Status struct {
	Initialized bool   `json:"initialized"`
	Sealed      bool   `json:"sealed"`
	SealType    string `json:"seal_type,omitempty"`
	// Shares and Threshold describe a Shamir seal: how many shares exist
	// and how many unseal. Progress is how many have been given.
	Shares    int `json:"shares,omitempty"`
	Threshold int `json:"threshold,omitempty"`
	Progress  int `json:"progress"`
	// ActiveTerm is the keyring term that seals new records; Terms counts
	// the terms, more than one while a root rotation re-seals records.
	ActiveTerm uint32 `json:"active_term,omitempty"`
	Terms      int    `json:"terms,omitempty"`
}

// Open returns a Custodian over opts.Store, protected by opts.Seal. A
// store that was never initialised needs Init; an initialised one opens
// sealed, except under a seal that can unseal by itself (a key file),
// which Open uses at once. OpenDir is the embedded default in one call.
func Open(ctx context.Context, opts Options) (*Custodian, error) {
	if opts.Store == nil || opts.Seal == nil {
		return nil, fmt.Errorf("%w: Open needs a Store and a Seal (New is the in-memory mode)", ErrInvalidArgument)
	}
	if err := checkSealKind(opts.Seal); err != nil {
		return nil, err
	}
	c, err := newCustodian(opts)
	if err != nil {
		return nil, err
	}
	rec, _, err := c.readRoot(ctx)
	switch {
	case errors.Is(err, ErrNotInitialized):
	case err != nil:
		return nil, err
	case rec.Seal != opts.Seal.Type():
		return nil, fmt.Errorf("%w: the store was initialized with a %s seal, not %s", ErrInvalidArgument, rec.Seal, opts.Seal.Type())
	default:
		if _, ok := opts.Seal.(seal.Wrapper); ok {
			if _, err := c.Unseal(ctx, nil); err != nil {
				return nil, err
			}
		}
	}
	c.startTasks()
	return c, nil
}

func checkSealKind(s seal.Seal) error {
	_, split := s.(seal.Splitter)
	_, wrap := s.(seal.Wrapper)
	if split == wrap {
		return fmt.Errorf("%w: seal %s must be either a seal.Splitter or a seal.Wrapper", ErrInvalidArgument, s.Type())
	}
	return nil
}

// readRoot returns the root record and its stored bytes, or
// ErrNotInitialized.
func (c *Custodian) readRoot(ctx context.Context) (*rootRecord, []byte, error) {
	raw, err := c.backend.GetMeta(ctx, rootMeta)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrNotInitialized
	}
	if err != nil {
		return nil, nil, err
	}
	c.initialized.Store(true)
	rec, err := decodeRoot(raw)
	return rec, raw, err
}

func decodeRoot(raw []byte) (*rootRecord, error) {
	var rec rootRecord
	if err := json.Unmarshal(raw, &rec); err != nil || rec.Format != rootFormat {
		return nil, fmt.Errorf("%w: root record is unreadable (format %d)", ErrIntegrity, rec.Format)
	}
	return &rec, nil
}

// writeRoot replaces the root record old (its stored bytes; nil when
// there is none) with rec.
func (c *Custodian) writeRoot(ctx context.Context, old []byte, rec *rootRecord) error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	err = c.backend.PutMeta(ctx, rootMeta, old, raw)
	if errors.Is(err, store.ErrConflict) {
		if old == nil {
			return ErrAlreadyInitialized
		}
		return fmt.Errorf("the root record was changed by another process meanwhile; try again: %w", err)
	}
	return err
}

// InitOptions configure Init. Shares and Threshold apply to a Shamir
// seal: zero means 5 and 3.
type InitOptions struct {
	Shares    int
	Threshold int
}

// InitResult is what Init and Rekey hand out once and never store.
type InitResult struct {
	// Shares are the unseal shares, in text form ("kcshare1:…"), for a
	// Shamir seal: give each to a different person. Empty for a seal
	// that unseals by itself.
	Shares    []Secret `json:"shares,omitempty"`
	Threshold int      `json:"threshold,omitempty"`
	// RootToken (Init only) authenticates the server's administrator; see
	// CheckRootToken. It is shown this once and stored only as a hash.
	RootToken Secret `json:"root_token,omitzero"`
}

// Init generates the root key and the keyring, and protects the root key
// with the seal: split into shares (returned once, never stored) or
// wrapped by the seal's own key. A Custodian with a Shamir seal stays
// sealed after Init; one whose seal unseals by itself is unsealed.
func (c *Custodian) Init(ctx context.Context, opts InitOptions) (*InitResult, error) {
	c.sealing.Lock()
	defer c.sealing.Unlock()
	if c.root.ephemeral {
		return nil, opError("init", "", fmt.Errorf("%w: an in-memory Custodian has no seal to initialize", ErrUnsupportedOperation))
	}
	if _, _, err := c.readRoot(ctx); !errors.Is(err, ErrNotInitialized) {
		if err == nil {
			err = ErrAlreadyInitialized
		}
		return nil, opError("init", "", err)
	}
	root, err := barrier.NewKey()
	if err != nil {
		return nil, err
	}
	kr, err := barrier.NewKeyring()
	if err != nil {
		return nil, err
	}
	now := c.now().UTC()
	token, err := newRootToken()
	if err != nil {
		return nil, err
	}
	rec := &rootRecord{Format: rootFormat, Seal: c.seal.Type(), Initialized: now, TokenHash: tokenHash(token)}
	res, err := c.protectRoot(ctx, rec, root, kr, opts.Shares, opts.Threshold)
	if err != nil {
		return nil, opError("init", "", err)
	}
	res.RootToken = token
	if err := c.writeRoot(ctx, nil, rec); err != nil {
		return nil, opError("init", "", err)
	}
	c.initialized.Store(true)
	if _, ok := c.seal.(seal.Wrapper); ok {
		if err := c.install(root, kr, true); err != nil {
			return nil, opError("init", "", err)
		}
		c.root.token = rec.TokenHash
	}
	return res, nil
}

// protectRoot fills rec for a new root key and keyring: check value,
// sealed keyring, and the seal's protection of root (shares, returned, or
// a wrapped copy, stored).
func (c *Custodian) protectRoot(ctx context.Context, rec *rootRecord, root secret.Bytes, kr barrier.Keyring, n, threshold int) (*InitResult, error) {
	sealed, err := barrier.SealKeyring(root, kr)
	if err != nil {
		return nil, err
	}
	rec.Check, rec.Keyring, rec.ActiveTerm = barrier.Check(root), sealed, kr.Active
	rec.Terms = rec.Terms[:0]
	for _, t := range kr.Terms {
		rec.Terms = append(rec.Terms, t.Number)
	}
	rec.RootChanged = c.now().UTC()
	if rec.TokenHash != nil {
		rec.TokenMAC = tokenMAC(root, rec.TokenHash)
	}
	res := &InitResult{}
	switch s := c.seal.(type) {
	case seal.Splitter:
		if n == 0 && threshold == 0 {
			n, threshold = shamir.DefaultShares, shamir.DefaultThreshold
		}
		if err := shamir.CheckSplit(n, threshold); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
		}
		shares, err := s.Split(secret.Reveal(root), n, threshold)
		if err != nil {
			return nil, err
		}
		for _, sh := range shares {
			res.Shares = append(res.Shares, secret.New([]byte(shamir.EncodeShare(sh))))
			clear(sh)
		}
		rec.Shares, rec.Threshold, res.Threshold = n, threshold, threshold
	case seal.Wrapper:
		if n != 0 || threshold != 0 {
			return nil, fmt.Errorf("%w: shares and threshold apply to a Shamir seal, not %s", ErrInvalidArgument, c.seal.Type())
		}
		if rec.Wrapped, err = s.Wrap(ctx, secret.Reveal(root)); err != nil {
			return nil, fmt.Errorf("seal %s: wrap the root key: %w", c.seal.Type(), err)
		}
	}
	return res, nil
}

// Unseal gives the Custodian a share of the root key, and returns the
// seal's status: sealed until the threshold of shares is reached. Shares
// are in text form ("kcshare1:…"). Wrong or mixed shares are refused with
// ErrInvalidShares once the threshold is reached, and the shares given so
// far are forgotten. Under a seal that unseals by itself, share is nil.
func (c *Custodian) Unseal(ctx context.Context, share []byte) (*Status, error) {
	c.sealing.Lock()
	defer c.sealing.Unlock()
	st, err := c.unseal(ctx, share)
	return st, opError("unseal", "", err)
}

func (c *Custodian) unseal(ctx context.Context, share []byte) (*Status, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	rec, _, err := c.readRoot(ctx)
	if err != nil {
		return nil, err
	}
	if c.vault.Load() != nil {
		return c.statusLocked(rec), nil
	}
	var root secret.Bytes
	switch s := c.seal.(type) {
	case seal.Wrapper:
		if share != nil {
			return nil, fmt.Errorf("%w: a %s seal unseals by itself; give no share", ErrInvalidArgument, s.Type())
		}
		if root, err = unwrapRoot(ctx, s, rec); err != nil {
			return nil, err
		}
	case seal.Splitter:
		if err := c.addShare(share); err != nil {
			return nil, err
		}
		if len(c.root.pending) < rec.Threshold {
			return c.statusLocked(rec), nil
		}
		shares := make([][]byte, len(c.root.pending))
		for i, p := range c.root.pending {
			shares[i] = secret.Reveal(p)
		}
		root, err = combineShares(s, shares, rec)
		c.forgetShares()
		if err != nil {
			return nil, err
		}
	}
	kr, err := barrier.OpenKeyring(root, rec.Keyring)
	if err != nil {
		return nil, ErrInvalidShares
	}
	if err := c.install(root, kr, true); err != nil {
		return nil, err
	}
	c.root.token = verifiedToken(root, rec)
	return c.statusLocked(rec), nil
}

func unwrapRoot(ctx context.Context, s seal.Wrapper, rec *rootRecord) (secret.Bytes, error) {
	raw, err := s.Unwrap(ctx, rec.Wrapped)
	if err != nil {
		return secret.Bytes{}, fmt.Errorf("seal %s: %w: %w", s.Type(), ErrInvalidShares, err)
	}
	root := secret.Own(raw)
	if err := barrier.VerifyRoot(root, rec.Check); err != nil {
		return secret.Bytes{}, fmt.Errorf("seal %s: %w", s.Type(), ErrInvalidShares)
	}
	return root, nil
}

// addShare decodes a share and adds it to those pending, refusing one
// already given.
func (c *Custodian) addShare(text []byte) error {
	sh, err := shamir.DecodeShare(string(text))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	for _, given := range c.root.pending {
		p := secret.Reveal(given)
		if len(p) != len(sh) {
			return fmt.Errorf("%w: this share is not the length of the shares given before it", ErrInvalidArgument)
		}
		if p[len(p)-1] == sh[len(sh)-1] {
			return fmt.Errorf("%w: a share with this index was already given", ErrInvalidArgument)
		}
	}
	c.root.pending = append(c.root.pending, secret.Own(sh))
	return nil
}

// forgetShares wipes the shares given toward unsealing.
func (c *Custodian) forgetShares() {
	for _, p := range c.root.pending {
		p.Wipe()
	}
	c.root.pending = nil
}

// combineShares recombines shares and verifies the result against the
// check value, in constant time.
func combineShares(s seal.Splitter, shares [][]byte, rec *rootRecord) (secret.Bytes, error) {
	raw, err := s.Combine(shares)
	if err != nil {
		return secret.Bytes{}, ErrInvalidShares
	}
	root := secret.Own(raw)
	if err := barrier.VerifyRoot(root, rec.Check); err != nil {
		root.Wipe()
		return secret.Bytes{}, ErrInvalidShares
	}
	return root, nil
}

// decodeQuorum decodes and recombines a quorum of shares given at once,
// for Rekey, RotateRoot and Restore.
func decodeQuorum(sl seal.Seal, texts [][]byte, rec *rootRecord) (secret.Bytes, error) {
	s, ok := sl.(seal.Splitter)
	if !ok {
		return secret.Bytes{}, fmt.Errorf("%w: a %s seal has no shares", ErrUnsupportedOperation, sl.Type())
	}
	if len(texts) < rec.Threshold {
		return secret.Bytes{}, fmt.Errorf("%w: %d shares given, %d needed", ErrInvalidArgument, len(texts), rec.Threshold)
	}
	shares := make([][]byte, 0, len(texts))
	for _, t := range texts {
		sh, err := shamir.DecodeShare(string(t))
		if err != nil {
			return secret.Bytes{}, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
		}
		shares = append(shares, sh)
	}
	defer func() {
		for _, sh := range shares {
			clear(sh)
		}
	}()
	return combineShares(s, shares, rec)
}

// install makes the Custodian unsealed with root and kr. On unsealing
// (wake), it resumes a root rotation that an earlier process left
// unfinished and looks for keys due for rotation. The caller holds
// c.sealing.
func (c *Custodian) install(root secret.Bytes, kr barrier.Keyring, wake bool) error {
	b, err := kr.Barrier()
	if err != nil {
		return err
	}
	v, err := newVault(b, c.opts.CacheSize)
	if err != nil {
		return err
	}
	c.root.root, c.root.keyring = root, kr
	if old := c.vault.Swap(v); old != nil {
		old.drop()
	}
	if wake {
		if len(kr.Terms) > 1 {
			c.resumeReseal()
		}
		c.kickRotation()
	}
	return nil
}

// Seal drops the root key and the keyring from memory, and with them
// every loaded key: until unsealed again the Custodian refuses every key
// operation with ErrSealed. Operations already running finish.
func (c *Custodian) Seal(ctx context.Context) error {
	c.sealing.Lock()
	defer c.sealing.Unlock()
	if c.root.ephemeral {
		return opError("seal", "", fmt.Errorf("%w: an in-memory Custodian would lose its root key for good", ErrUnsupportedOperation))
	}
	c.dropVault()
	c.root.keyring = barrier.Keyring{}
	c.forgetShares()
	return nil
}

// Status returns the seal's status. It works sealed.
func (c *Custodian) Status(ctx context.Context) (*Status, error) {
	c.sealing.Lock()
	defer c.sealing.Unlock()
	if c.root.ephemeral {
		b := c.vault.Load()
		return &Status{Initialized: true, Sealed: b == nil, SealType: "ephemeral", ActiveTerm: 1, Terms: 1}, nil
	}
	rec, _, err := c.readRoot(ctx)
	if errors.Is(err, ErrNotInitialized) {
		return &Status{Sealed: true, SealType: c.seal.Type()}, nil
	}
	if err != nil {
		return nil, opError("status", "", err)
	}
	return c.statusLocked(rec), nil
}

func (c *Custodian) statusLocked(rec *rootRecord) *Status {
	return &Status{
		Initialized: true, Sealed: c.vault.Load() == nil, SealType: rec.Seal,
		Shares: rec.Shares, Threshold: rec.Threshold, Progress: len(c.root.pending),
		ActiveTerm: rec.ActiveTerm, Terms: len(rec.Terms),
	}
}

// RekeyOptions configure Rekey: a quorum of the current shares, and the
// new split (zero means the current one).
type RekeyOptions struct {
	Shares       [][]byte
	NewShares    int
	NewThreshold int
}

// Rekey replaces the root key of a Shamir seal and returns a new set of
// shares; the old shares stop working. It needs a threshold of the
// current shares, and works sealed or unsealed. The keyring is re-sealed
// under the new root key in one atomic write; the records keep their
// data-encryption keys (RotateRoot replaces those).
func (c *Custodian) Rekey(ctx context.Context, opts RekeyOptions) (*InitResult, error) {
	c.sealing.Lock()
	defer c.sealing.Unlock()
	res, err := c.rekey(ctx, opts)
	return res, opError("rekey", "", err)
}

func (c *Custodian) rekey(ctx context.Context, opts RekeyOptions) (*InitResult, error) {
	rec, raw, err := c.readRoot(ctx)
	if err != nil {
		return nil, err
	}
	old, err := decodeQuorum(c.seal, opts.Shares, rec)
	if err != nil {
		return nil, err
	}
	kr, err := barrier.OpenKeyring(old, rec.Keyring)
	if err != nil {
		return nil, ErrInvalidShares
	}
	root, err := barrier.NewKey()
	if err != nil {
		return nil, err
	}
	n, t := opts.NewShares, opts.NewThreshold
	if n == 0 && t == 0 {
		n, t = rec.Shares, rec.Threshold
	}
	next := *rec
	res, err := c.protectRoot(ctx, &next, root, kr, n, t)
	if err != nil {
		return nil, err
	}
	if err := c.writeRoot(ctx, raw, &next); err != nil {
		return nil, err
	}
	if c.vault.Load() != nil {
		c.root.root = root
	}
	c.forgetShares()
	return res, nil
}
