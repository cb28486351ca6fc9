package custodian_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
)

func TestGenerateDHParametersHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	start := time.Now()
	_, err := custodian.GenerateDHParameters(ctx, custodian.DHGenerateOptions{
		Bits: 2048, SafePrime: true,
		Progress: func(p custodian.DHProgress) {
			calls++
			if p.Candidates >= 3 {
				cancel()
			}
		},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if calls < 3 {
		t.Errorf("progress called %d times, want at least 3", calls)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("cancellation took %s", d)
	}
}

func TestGenerateDHParametersRejectsSmallSizes(t *testing.T) {
	_, err := custodian.GenerateDHParameters(context.Background(), custodian.DHGenerateOptions{Bits: 1024})
	if !errors.Is(err, custodian.ErrInvalidArgument) {
		t.Fatalf("err = %v, want ErrInvalidArgument", err)
	}
}
