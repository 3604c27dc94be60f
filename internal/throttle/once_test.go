package throttle_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/throttle"
)

func TestOncePerInterval(t *testing.T) {
	t.Parallel()
	clock := newClock()
	o := throttle.NewOnce(throttle.OnceOptions{Interval: time.Minute, Now: clock.Now})
	if !o.Take("a") {
		t.Fatal("first Take of a refused")
	}
	if o.Take("a") {
		t.Error("second Take of a within the interval passed")
	}
	if !o.Take("b") {
		t.Error("first Take of another key refused")
	}
	clock.Advance(59 * time.Second)
	if o.Take("a") {
		t.Error("Take of a 59 s later passed")
	}
	clock.Advance(time.Second)
	if !o.Take("a") {
		t.Error("Take of a once the interval is over refused")
	}
	if o.Take("a") {
		t.Error("Take of a right after it passed again passed")
	}
}

func TestOnceRelease(t *testing.T) {
	t.Parallel()
	o := throttle.NewOnce(throttle.OnceOptions{Interval: time.Hour, Now: newClock().Now})
	if !o.Take("a") {
		t.Fatal("first Take refused")
	}
	o.Release("a")
	if !o.Take("a") {
		t.Error("Take after Release refused")
	}
	o.Release("never taken") // harmless
}

func TestOnceEveryCallWithoutInterval(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{0, -time.Second} {
		o := throttle.NewOnce(throttle.OnceOptions{Interval: d})
		for i := range 3 {
			if !o.Take("a") {
				t.Errorf("interval %s: Take %d refused", d, i+1)
			}
		}
	}
}

func TestOnceEvictsLeastRecent(t *testing.T) {
	t.Parallel()
	o := throttle.NewOnce(throttle.OnceOptions{Interval: time.Hour, MaxKeys: 2, Now: newClock().Now})
	for _, k := range []string{"a", "b", "c"} {
		if !o.Take(k) {
			t.Fatalf("first Take of %s refused", k)
		}
	}
	if !o.Take("a") {
		t.Error("the evicted key a was not let through again")
	}
	if o.Take("c") {
		t.Error("the kept key c passed again")
	}
}

// TestOnceConcurrent: of many goroutines taking one key at once, exactly
// one passes.
func TestOnceConcurrent(t *testing.T) {
	t.Parallel()
	o := throttle.NewOnce(throttle.OnceOptions{Interval: time.Hour})
	var passed atomic.Int32
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			if o.Take("k") {
				passed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := passed.Load(); n != 1 {
		t.Errorf("%d goroutines passed, want 1", n)
	}
}
