package memory_test

import (
	"testing"

	"github.com/keycustodian/custodian/store"
	"github.com/keycustodian/custodian/store/memory"
	"github.com/keycustodian/custodian/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memory.New() })
}
