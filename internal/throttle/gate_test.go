package throttle_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/palisade-sec/palisade/internal/throttle"
)

func TestGateLimits(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{1, 2, 3} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			t.Parallel()
			g := throttle.NewGate(limit)
			var releases []func()
			for i := range limit {
				release, ok := g.Acquire("token:1")
				if !ok {
					t.Fatalf("Acquire %d of %d refused", i+1, limit)
				}
				releases = append(releases, release)
			}
			if _, ok := g.Acquire("token:1"); ok {
				t.Fatalf("Acquire beyond the limit %d allowed", limit)
			}
			if got := g.InUse("token:1"); got != limit {
				t.Errorf("InUse = %d, want %d", got, limit)
			}
			if _, ok := g.Acquire("token:2"); !ok {
				t.Error("another key was refused")
			}
			releases[0]()
			if got := g.InUse("token:1"); got != limit-1 {
				t.Errorf("InUse after one release = %d, want %d", got, limit-1)
			}
			if _, ok := g.Acquire("token:1"); !ok {
				t.Error("Acquire after a release refused")
			}
		})
	}
}

func TestGateUnlimited(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{0, -1} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			t.Parallel()
			g := throttle.NewGate(limit)
			var releases []func()
			for i := range 1000 {
				release, ok := g.Acquire("k")
				if !ok {
					t.Fatalf("Acquire %d refused", i+1)
				}
				releases = append(releases, release)
			}
			if got := g.InUse("k"); got != 1000 {
				t.Errorf("InUse = %d, want 1000", got)
			}
			for _, r := range releases {
				r()
			}
			if got := g.InUse("k"); got != 0 {
				t.Errorf("InUse after releases = %d, want 0", got)
			}
			if got := throttle.GateKeys(g); got != 0 {
				t.Errorf("Gate keeps %d keys after all releases, want 0", got)
			}
		})
	}
}

func TestGateReleaseIsIdempotent(t *testing.T) {
	t.Parallel()
	g := throttle.NewGate(2)
	r1, _ := g.Acquire("k")
	r2, _ := g.Acquire("k")
	r1()
	r1()
	r1()
	if got := g.InUse("k"); got != 1 {
		t.Fatalf("InUse after releasing one slot three times = %d, want 1", got)
	}
	if _, ok := g.Acquire("k"); !ok {
		t.Fatal("Acquire of the released slot refused")
	}
	if _, ok := g.Acquire("k"); ok {
		t.Fatal("repeated release gave back more than one slot")
	}
	r2()
	r2()
	if got := g.InUse("k"); got != 1 {
		t.Errorf("InUse = %d, want 1", got)
	}
}

func TestGateRefusedReleaseIsNoOp(t *testing.T) {
	t.Parallel()
	g := throttle.NewGate(1)
	held, _ := g.Acquire("k")
	release, ok := g.Acquire("k")
	if ok {
		t.Fatal("second Acquire allowed with limit 1")
	}
	if release == nil {
		t.Fatal("refused Acquire returned a nil release")
	}
	release()
	if got := g.InUse("k"); got != 1 {
		t.Errorf("InUse after a refused release = %d, want 1", got)
	}
	held()
}

func TestGateDropsIdleKeys(t *testing.T) {
	t.Parallel()
	g := throttle.NewGate(2)
	for i := range 1000 {
		key := fmt.Sprint("token:", i)
		r1, _ := g.Acquire(key)
		r2, _ := g.Acquire(key)
		g.Acquire(key) // refused
		r2()
		r1()
		r1()
	}
	if got := g.InUse("never-used"); got != 0 {
		t.Errorf("InUse of an unknown key = %d, want 0", got)
	}
	if got := throttle.GateKeys(g); got != 0 {
		t.Errorf("Gate keeps %d keys with no holders, want 0", got)
	}
}

// TestGateConcurrent checks that many goroutines never hold more than the
// limit at once and that everything is released in the end.
func TestGateConcurrent(t *testing.T) {
	t.Parallel()
	const limit = 3
	g := throttle.NewGate(limit)
	var holders, most, admitted atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 200 {
				release, ok := g.Acquire("shared")
				if !ok {
					continue
				}
				admitted.Add(1)
				n := holders.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				holders.Add(-1)
				release()
				release()
			}
		})
	}
	wg.Wait()
	if m := most.Load(); m > limit {
		t.Errorf("%d holders at once, limit %d", m, limit)
	}
	if admitted.Load() == 0 {
		t.Error("no Acquire succeeded")
	}
	if got := g.InUse("shared"); got != 0 {
		t.Errorf("InUse at the end = %d, want 0", got)
	}
	if got := throttle.GateKeys(g); got != 0 {
		t.Errorf("Gate keeps %d keys at the end, want 0", got)
	}
}
