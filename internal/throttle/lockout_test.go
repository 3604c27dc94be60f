package throttle_test

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/throttle"
)

// sec is short for time.Second in the schedules below.
const sec = time.Second

func TestLockoutSchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts throttle.LockoutOptions
		// serve: before each failure, move the clock past the lock in
		// force, as a client that obeys the lock does.
		serve bool
		want  []time.Duration // Fail'sec result for each failure in turn
	}{
		{"defaults, failures at one instant", throttle.LockoutOptions{}, false,
			[]time.Duration{0, 0, 0, 0, 0, 1 * sec, 2 * sec, 4 * sec, 8 * sec, 16 * sec, 32 * sec}},
		{"defaults, client waits out each lock", throttle.LockoutOptions{}, true,
			[]time.Duration{0, 0, 0, 0, 0, 1 * sec, 2 * sec, 4 * sec, 8 * sec, 16 * sec, 32 * sec}},
		{"explicit Free=5", throttle.LockoutOptions{Free: 5, Base: sec, Max: time.Hour}, true,
			[]time.Duration{0, 0, 0, 0, 0, 1 * sec, 2 * sec, 4 * sec}},
		{"default cap is 15m", throttle.LockoutOptions{Free: -1}, true,
			[]time.Duration{1 * sec, 2 * sec, 4 * sec, 8 * sec, 16 * sec, 32 * sec, 64 * sec, 128 * sec, 256 * sec, 512 * sec,
				15 * time.Minute, 15 * time.Minute}},
		{"capped at Max", throttle.LockoutOptions{Free: 2, Base: sec, Max: 10 * sec}, true,
			[]time.Duration{0, 0, 1 * sec, 2 * sec, 4 * sec, 8 * sec, 10 * sec, 10 * sec, 10 * sec}},
		{"negative Free locks from the first failure", throttle.LockoutOptions{Free: -1, Base: 100 * time.Millisecond, Max: sec}, true,
			[]time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, sec, sec}},
		{"Max not a power-of-two multiple of Base", throttle.LockoutOptions{Free: -1, Base: 3 * sec, Max: 10 * sec}, false,
			[]time.Duration{3 * sec, 6 * sec, 10 * sec, 10 * sec}},
		{"Max below Base", throttle.LockoutOptions{Free: -1, Base: time.Minute, Max: 10 * sec}, false,
			[]time.Duration{10 * sec, 10 * sec}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newClock()
			opts := tt.opts
			opts.Now = clock.Now
			o := throttle.NewLockout(opts)
			var got []time.Duration
			for range tt.want {
				if tt.serve {
					clock.Advance(o.Wait("user:alice"))
				}
				got = append(got, o.Fail("user:alice"))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Fail results = %v, want %v", got, tt.want)
			}
			if w, last := o.Wait("user:alice"), tt.want[len(tt.want)-1]; w != last {
				t.Errorf("Wait after the last failure = %v, want %v", w, last)
			}
		})
	}
}

func TestLockoutNoOverflow(t *testing.T) {
	t.Parallel()
	o := throttle.NewLockout(throttle.LockoutOptions{Free: -1, Base: 1, Max: math.MaxInt64, Now: newClock().Now})
	prev := time.Duration(0)
	for i := range 200 {
		d := o.Fail("k")
		if d < prev {
			t.Fatalf("failure %d: lock %v, shorter than the previous %v", i+1, d, prev)
		}
		prev = d
	}
	if prev != math.MaxInt64 {
		t.Errorf("lock after 200 failures = %v, want Max %v", prev, time.Duration(math.MaxInt64))
	}
}

func TestLockoutWaitDecreases(t *testing.T) {
	t.Parallel()
	clock := newClock()
	o := throttle.NewLockout(throttle.LockoutOptions{Free: -1, Base: 4 * sec, Now: clock.Now})
	if got := o.Wait("k"); got != 0 {
		t.Fatalf("Wait before any failure = %v, want 0", got)
	}
	o.Fail("k")
	for _, c := range []struct{ advance, want time.Duration }{
		{0, 4 * sec},
		{sec, 3 * sec},
		{2500 * time.Millisecond, 500 * time.Millisecond},
		{499 * time.Millisecond, time.Millisecond},
		{time.Millisecond, 0},
		{time.Hour, 0},
	} {
		clock.Advance(c.advance)
		if got := o.Wait("k"); got != c.want {
			t.Errorf("Wait at +%v = %v, want %v", clock.Now().Sub(epoch), got, c.want)
		}
	}
}

func TestLockoutWindow(t *testing.T) {
	t.Parallel()
	const window = 15 * time.Minute
	tests := []struct {
		name     string
		failures int           // at one instant; 6 lock the key for 1s
		advance  time.Duration // then the clock moves this far
		want     time.Duration // Fail's result for the next failure
	}{
		{"unlocked: remembered within the window", 5, window - 1, sec},
		{"unlocked: forgotten a window after the last failure", 5, window, 0},
		{"locked: remembered within the window after the lock", 6, sec + window - 1, 2 * sec},
		{"locked: forgotten a window after the lock ends", 6, sec + window, 0},
		{"forgotten long after", 6, 24 * time.Hour, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newClock()
			o := throttle.NewLockout(throttle.LockoutOptions{Now: clock.Now})
			for range tt.failures {
				o.Fail("k")
			}
			clock.Advance(tt.advance)
			if got := o.Fail("k"); got != tt.want {
				t.Errorf("Fail = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestLockoutWindowCountsFromLastFailure checks that a steady trickle of
// failures, each within Window of the one before, is never forgotten.
func TestLockoutWindowCountsFromLastFailure(t *testing.T) {
	t.Parallel()
	clock := newClock()
	o := throttle.NewLockout(throttle.LockoutOptions{Free: 3, Base: sec, Window: 10 * time.Minute, Now: clock.Now})
	var got []time.Duration
	for range 6 {
		got = append(got, o.Fail("k"))
		clock.Advance(9 * time.Minute)
	}
	want := []time.Duration{0, 0, 0, 1 * sec, 2 * sec, 4 * sec}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Fail results = %v, want %v", got, want)
	}
}

// TestLockoutLockOutlivesWindow checks that a lock longer than Window is
// neither shortened nor its failures forgotten by a failure after Window.
func TestLockoutLockOutlivesWindow(t *testing.T) {
	t.Parallel()
	clock := newClock()
	o := throttle.NewLockout(throttle.LockoutOptions{Free: -1, Base: time.Hour, Max: 4 * time.Hour, Window: time.Minute, Now: clock.Now})
	if got, want := o.Fail("k"), time.Hour; got != want {
		t.Fatalf("first Fail = %v, want %v", got, want)
	}
	clock.Advance(2 * time.Minute)
	if got, want := o.Wait("k"), 58*time.Minute; got != want {
		t.Fatalf("Wait = %v, want %v", got, want)
	}
	if got, want := o.Fail("k"), 2*time.Hour; got != want {
		t.Errorf("Fail during the lock, after Window = %v, want %v (second failure)", got, want)
	}
}

// TestLockoutNeverShortens checks, over an irregular sequence of failures,
// that Fail never returns less than the lock in force before it.
func TestLockoutNeverShortens(t *testing.T) {
	t.Parallel()
	clock := newClock()
	o := throttle.NewLockout(throttle.LockoutOptions{Free: 1, Base: 10 * sec, Max: time.Minute, Window: 30 * sec, Now: clock.Now})
	for i, adv := range []time.Duration{0, 0, sec, 5 * sec, 0, 30 * sec, 59 * sec, 0, 2 * time.Minute, 31 * sec, 0, 1} {
		clock.Advance(adv)
		before := o.Wait("k")
		got := o.Fail("k")
		if got < before {
			t.Errorf("failure %d: Fail = %v, shorter than the lock in force %v", i, got, before)
		}
		if w := o.Wait("k"); w != got {
			t.Errorf("failure %d: Wait = %v after Fail returned %v", i, w, got)
		}
	}
}

func TestLockoutSucceed(t *testing.T) {
	t.Parallel()
	clock := newClock()
	o := throttle.NewLockout(throttle.LockoutOptions{Now: clock.Now})
	o.Succeed("unknown") // no effect, no panic
	for range 7 {
		o.Fail("k")
	}
	if got := o.Wait("k"); got != 2*sec {
		t.Fatalf("Wait after 7 failures = %v, want 2s", got)
	}
	o.Succeed("k")
	if got := o.Wait("k"); got != 0 {
		t.Errorf("Wait after Succeed = %v, want 0", got)
	}
	if got := o.Len(); got != 0 {
		t.Errorf("Len after Succeed = %d, want 0", got)
	}
	var got []time.Duration
	for range 6 {
		got = append(got, o.Fail("k"))
	}
	if want := []time.Duration{0, 0, 0, 0, 0, sec}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Fail results after Succeed = %v, want %v", got, want)
	}
}

func TestLockoutKeysAreIndependent(t *testing.T) {
	t.Parallel()
	o := throttle.NewLockout(throttle.LockoutOptions{Free: -1, Now: newClock().Now})
	o.Fail("user:alice")
	o.Fail("user:alice")
	if got := o.Wait("user:bob"); got != 0 {
		t.Errorf("Wait(bob) = %v, want 0", got)
	}
	if got := o.Fail("user:bob"); got != sec {
		t.Errorf("first Fail(bob) = %v, want 1s", got)
	}
	if got := o.Wait("user:alice"); got != 2*sec {
		t.Errorf("Wait(alice) = %v, want 2s", got)
	}
}

func TestLockoutEvictsOldestFailure(t *testing.T) {
	t.Parallel()
	o := throttle.NewLockout(throttle.LockoutOptions{Free: -1, Base: time.Minute, MaxKeys: 2, Now: newClock().Now})
	o.Fail("a")
	o.Fail("b")
	o.Wait("a") // Wait does not make a more recent
	o.Fail("c") // evicts a
	want := map[string]time.Duration{"a": 0, "b": time.Minute, "c": time.Minute}
	for k, w := range want {
		if got := o.Wait(k); got != w {
			t.Errorf("Wait(%sec) = %v, want %v", k, got, w)
		}
	}
	o.Fail("b") // b is now the most recent
	o.Fail("d") // evicts c
	want = map[string]time.Duration{"b": 2 * time.Minute, "c": 0, "d": time.Minute}
	for k, w := range want {
		if got := o.Wait(k); got != w {
			t.Errorf("Wait(%sec) = %v, want %v", k, got, w)
		}
	}
	if got := o.Len(); got != 2 {
		t.Errorf("Len = %d, want 2", got)
	}
}

func TestLockoutDefaultMaxKeys(t *testing.T) {
	t.Parallel()
	o := throttle.NewLockout(throttle.LockoutOptions{Free: -1, Now: newClock().Now})
	for i := range throttle.DefaultMaxKeys + 1 {
		o.Fail(fmt.Sprintf("ip:%d", i))
	}
	if got, want := o.Len(), throttle.DefaultMaxKeys; got != want {
		t.Errorf("Len = %d, want %d", got, want)
	}
	if got := o.Wait("ip:0"); got != 0 {
		t.Errorf("Wait of the evicted key = %v, want 0", got)
	}
}

// TestLockoutConcurrent counts failures of one key from many goroutines
// at a fixed time, while others use other keys.
func TestLockoutConcurrent(t *testing.T) {
	t.Parallel()
	o := throttle.NewLockout(throttle.LockoutOptions{Free: -1, Base: time.Nanosecond, Max: math.MaxInt64, MaxKeys: 16, Now: newClock().Now})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 5 {
				o.Fail("shared")
				o.Wait("shared")
				key := fmt.Sprintf("own:%d:%d", g, i)
				o.Fail(key)
				o.Wait(key)
				o.Succeed(key)
				o.Len()
			}
		})
	}
	wg.Wait()
	if got, want := o.Wait("shared"), time.Nanosecond<<39; got != want {
		t.Errorf("Wait after 40 failures = %v, want %v", got, want)
	}
}
