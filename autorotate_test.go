package custodian_test

import (
	"sync"
	"testing"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/store/memory"
)

func TestRotateDueKeys(t *testing.T) {
	clock := lcNewClock()
	c := rrOpenKeyfile(t, memory.New(), rrKeyfile(t), custodian.Options{Now: clock.Now, RotationCheckInterval: -1}) // no background sweep: the test counts its own rotations
	hour := time.Hour
	for name, opts := range map[string]*custodian.CreateOptions{
		"hourly":   {RotationPeriod: hour},
		"daily":    {RotationPeriod: 24 * hour},
		"never":    {},
		"disabled": {RotationPeriod: hour},
		"revoked":  {RotationPeriod: hour},
		"signing":  {Type: custodian.Ed25519, RotationPeriod: hour},
	} {
		if _, err := c.CreateKey(bgCtx, name, opts); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DisableKey(bgCtx, "disabled"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RevokeKey(bgCtx, "revoked"); err != nil {
		t.Fatal(err)
	}
	latest := func(name string) int {
		t.Helper()
		k, err := c.GetKey(bgCtx, name)
		if err != nil {
			t.Fatal(err)
		}
		return k.LatestVersion
	}
	rotate := func(want int) {
		t.Helper()
		n, err := c.RotateDueKeys(bgCtx)
		if err != nil || n != want {
			t.Fatalf("RotateDueKeys at %s = %d, %v; want %d", clock.Now().Format(time.TimeOnly), n, err, want)
		}
	}

	clock.Advance(59 * time.Minute)
	rotate(0)
	clock.Advance(time.Minute)
	rotate(2) // hourly, signing
	rotate(0) // their new primaries are fresh
	if latest("hourly") != 2 || latest("signing") != 2 || latest("daily") != 1 || latest("never") != 1 ||
		latest("disabled") != 1 || latest("revoked") != 1 {
		t.Fatal("the wrong keys rotated")
	}
	// Overdue by many periods: one rotation, not one per missed period.
	clock.Advance(30 * time.Hour)
	rotate(3) // hourly, signing, daily
	if latest("hourly") != 3 || latest("daily") != 2 {
		t.Fatalf("after 30 hours: hourly v%d, daily v%d; want v3, v2", latest("hourly"), latest("daily"))
	}
	// A manual rotation resets the clock.
	clock.Advance(30 * time.Minute)
	if _, err := c.RotateKey(bgCtx, "hourly"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(45 * time.Minute)
	rotate(1) // signing only: hourly was rotated 45 minutes ago
}

// TestRotateDueKeysConcurrently: two custodians sharing a store rotate a
// due key once between them.
func TestRotateDueKeysConcurrently(t *testing.T) {
	clock := lcNewClock()
	st, kf := memory.New(), rrKeyfile(t)
	opts := custodian.Options{Now: clock.Now, RotationCheckInterval: -1} // the test counts its own rotations
	a := rrOpenKeyfile(t, st, kf, opts)
	b := rrOpenKeyfile(t, st, kf, opts)
	if _, err := a.CreateKey(bgCtx, "k", &custodian.CreateOptions{RotationPeriod: time.Hour}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour)
	var wg sync.WaitGroup
	total := make(chan int, 8)
	for _, c := range []*custodian.Custodian{a, b, a, b} {
		wg.Go(func() {
			n, err := c.RotateDueKeys(bgCtx)
			if err != nil {
				t.Error(err)
			}
			total <- n
		})
	}
	wg.Wait()
	close(total)
	sum := 0
	for n := range total {
		sum += n
	}
	k, err := b.GetKey(bgCtx, "k")
	if err != nil || k.LatestVersion != 2 || sum != 1 {
		t.Fatalf("after concurrent rotations: v%d (%v), %d reported; want v2 and 1", k.LatestVersion, err, sum)
	}
}

// TestAutomaticRotationAfterDowntime: a rotation due while the process was
// down happens once when it starts again, without waiting for the next
// periodic check.
func TestAutomaticRotationAfterDowntime(t *testing.T) {
	clock := lcNewClock()
	dir := t.TempDir()
	opts := custodian.Options{Now: clock.Now, RotationCheckInterval: time.Hour}
	c, err := custodian.OpenDir(bgCtx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateKey(bgCtx, "k", &custodian.CreateOptions{RotationPeriod: time.Hour}); err != nil {
		t.Fatal(err)
	}
	c.Close()

	clock.Advance(5 * time.Hour) // five periods missed
	c, err = custodian.OpenDir(bgCtx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		k, err := c.GetKey(bgCtx, "k")
		if err != nil {
			t.Fatal(err)
		}
		if k.LatestVersion == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the missed rotation did not happen at start: v%d", k.LatestVersion)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if k, _ := c.GetKey(bgCtx, "k"); k.LatestVersion != 2 {
		t.Fatalf("missed rotations happened more than once: v%d", k.LatestVersion)
	}
}

// TestBackgroundDestroysDueKeys: the background task destroys a key whose
// deletion window has passed, as AWS KMS does at the window's end.
func TestBackgroundDestroysDueKeys(t *testing.T) {
	clock := lcNewClock()
	c := rrOpenKeyfile(t, memory.New(), rrKeyfile(t), custodian.Options{Now: clock.Now, RotationCheckInterval: 5 * time.Millisecond})
	if _, err := c.CreateKey(bgCtx, "old", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ScheduleKeyDeletion(bgCtx, "old", custodian.MinDeletionWindow); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	if k, _ := c.GetKey(bgCtx, "old"); k.State != custodian.StatePendingDeletion {
		t.Fatalf("destroyed before its window ended: %s", k.State)
	}
	clock.Advance(custodian.MinDeletionWindow)
	deadline := time.Now().Add(10 * time.Second)
	for {
		k, err := c.GetKey(bgCtx, "old")
		if err != nil {
			t.Fatal(err)
		}
		if k.State == custodian.StateDestroyed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the due key was not destroyed in the background: %s", k.State)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
