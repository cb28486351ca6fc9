package custodian

import (
	"fmt"
	"time"
)

// Operation names an operation for errors and for the lifecycle table.
type Operation string

// Operations, grouped as the lifecycle table groups them.
const (
	OpGet              Operation = "get"
	OpEncrypt          Operation = "encrypt" // also generate-data-key
	OpDecrypt          Operation = "decrypt" // also rewrap
	OpSign             Operation = "sign"
	OpVerify           Operation = "verify"
	OpMAC              Operation = "mac"
	OpVerifyMAC        Operation = "verify-mac"
	OpAgree            Operation = "agree" // also derive-key
	OpPublicKey        Operation = "public-key"
	OpExport           Operation = "export"
	OpRotate           Operation = "rotate"
	OpUpdate           Operation = "update"
	OpEnable           Operation = "enable"
	OpDisable          Operation = "disable"
	OpRevoke           Operation = "revoke"
	OpScheduleDeletion Operation = "schedule-deletion"
	OpCancelDeletion   Operation = "cancel-deletion"
	OpDestroy          Operation = "destroy"
)

// lifecycle is the table of which operation each state allows: the
// single source of truth that the code enforces, docs/lifecycle.md shows and
// the tests walk cell by cell. An operation absent from a state's set is
// refused with the state's sentinel error (or ErrInvalidKeyState for an
// enabled key).
//
// A few allowed cells are no-ops: enabling an enabled key, disabling a
// disabled one, revoking a revoked one.
var lifecycle = map[State][]Operation{
	StateEnabled: {
		OpGet, OpEncrypt, OpDecrypt, OpSign, OpVerify, OpMAC, OpVerifyMAC, OpAgree, OpPublicKey, OpExport,
		OpRotate, OpUpdate, OpEnable, OpDisable, OpRevoke, OpScheduleDeletion,
	},
	StateDisabled:        {OpGet, OpUpdate, OpEnable, OpDisable, OpRevoke, OpScheduleDeletion},
	StateRevoked:         {OpGet, OpRevoke, OpScheduleDeletion},
	StatePendingDeletion: {OpGet, OpCancelDeletion, OpDestroy},
	StateDestroyed:       {OpGet},
}

// Operations lists every operation in the order of the lifecycle table's rows.
func Operations() []Operation {
	return []Operation{
		OpGet, OpEncrypt, OpDecrypt, OpSign, OpVerify, OpMAC, OpVerifyMAC, OpAgree, OpPublicKey, OpExport,
		OpRotate, OpUpdate, OpEnable, OpDisable, OpRevoke, OpScheduleDeletion, OpCancelDeletion, OpDestroy,
	}
}

// States lists every state, in lifecycle order.
func States() []State {
	return []State{StateEnabled, StateDisabled, StateRevoked, StatePendingDeletion, StateDestroyed}
}

// allowedSets is lifecycle as sets, for constant-time checks.
var allowedSets = func() map[State]map[Operation]bool {
	m := make(map[State]map[Operation]bool, len(lifecycle))
	for s, ops := range lifecycle {
		m[s] = make(map[Operation]bool, len(ops))
		for _, op := range ops {
			m[s][op] = true
		}
	}
	return m
}()

// Allows reports whether a key in state s may perform op.
func (s State) Allows(op Operation) bool { return allowedSets[s][op] }

// checkState returns nil if state allows op, else the refusal.
func checkState(state State, op Operation) error {
	if state.Allows(op) {
		return nil
	}
	return stateError{state: state}
}

// stateError is a refusal because of a key's state. It matches
// ErrInvalidKeyState and the state's own sentinel.
type stateError struct {
	state  State
	detail string
}

func (e stateError) sentinel() error {
	switch e.state {
	case StateDisabled:
		return ErrKeyDisabled
	case StateRevoked:
		return ErrKeyRevoked
	case StatePendingDeletion:
		return ErrKeyPendingDeletion
	case StateDestroyed:
		return ErrKeyDestroyed
	}
	return nil
}

func (e stateError) Error() string {
	msg := ErrInvalidKeyState.Error() + " " + string(e.state)
	if s := e.sentinel(); s != nil {
		msg = s.Error()
	}
	if e.detail != "" {
		msg += ": " + e.detail
	}
	return msg
}

func (e stateError) Unwrap() []error {
	if s := e.sentinel(); s != nil {
		return []error{s, ErrInvalidKeyState}
	}
	return []error{ErrInvalidKeyState}
}

func validateDeletionWindow(w time.Duration) error {
	if w < MinDeletionWindow || w > MaxDeletionWindow {
		return fmt.Errorf("%w: deletion window %s must be between %d and %d days", ErrInvalidArgument, w,
			MinDeletionWindow/(24*time.Hour), MaxDeletionWindow/(24*time.Hour))
	}
	return nil
}
