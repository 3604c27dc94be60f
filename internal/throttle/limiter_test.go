package throttle_test

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/throttle"
)

// step is one call in a Limiter scenario: move the clock by advance, then
// call Allow and expect ok and retryAfter.
type step struct {
	advance    time.Duration
	ok         bool
	retryAfter time.Duration
}

func TestLimiterAllow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rate  float64
		burst int
		steps []step
	}{
		{"burst then refused", 1, 3, []step{
			{0, true, 0}, {0, true, 0}, {0, true, 0},
			{0, false, time.Second}, {0, false, time.Second},
		}},
		{"refill over time", 2, 1, []step{
			{0, true, 0},
			{0, false, 500 * time.Millisecond},
			{250 * time.Millisecond, false, 250 * time.Millisecond},
			{250 * time.Millisecond, true, 0},
			{0, false, 500 * time.Millisecond},
		}},
		{"refused requests take no token", 1, 1, []step{
			{0, true, 0},
			{0, false, time.Second}, {0, false, time.Second}, {0, false, time.Second},
			{time.Second, true, 0},
		}},
		{"refill capped at burst", 10, 2, []step{
			{0, true, 0}, {0, true, 0},
			{10 * time.Second, true, 0}, {0, true, 0},
			{0, false, 100 * time.Millisecond},
		}},
		{"rate below one per second", 0.5, 1, []step{
			{0, true, 0},
			{0, false, 2 * time.Second},
			{time.Second, false, time.Second},
			{time.Second, true, 0},
		}},
		{"token interval not a whole number of nanoseconds", 3, 1, []step{
			{0, true, 0},
			{0, false, 333333333 * time.Nanosecond}, // 333333333.3ns
			{333333331 * time.Nanosecond, false, 2 * time.Nanosecond},
			{2 * time.Nanosecond, true, 0},
		}},
		{"wait longer than a Duration is capped", 1e-12, 1, []step{
			{0, true, 0},
			{0, false, math.MaxInt64},
		}},
		{"burst below one means one", 1, 0, []step{
			{0, true, 0},
			{0, false, time.Second},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newClock()
			l := throttle.NewLimiter(throttle.LimiterOptions{Rate: tt.rate, Burst: tt.burst, Now: clock.Now})
			for i, s := range tt.steps {
				clock.Advance(s.advance)
				ok, retry := l.Allow("token:1")
				if ok != s.ok || retry != s.retryAfter {
					t.Fatalf("step %d: Allow = %v, %v; want %v, %v", i, ok, retry, s.ok, s.retryAfter)
				}
			}
		})
	}
}

// TestLimiterRetryAfterIsExact checks that a request waiting retryAfter
// passes and one waiting two nanoseconds less does not (rate.Limiter admits
// a request when less than a nanosecond's worth of token is missing), for
// rates whose token interval is not a whole number of nanoseconds and for
// partly refilled buckets.
func TestLimiterRetryAfterIsExact(t *testing.T) {
	t.Parallel()
	rates := []float64{0.1, 0.3, 1, 3, 7, 33.3, 1000, 123456.789}
	offsets := []time.Duration{0, 1, 7 * time.Microsecond, 12345678, 333 * time.Millisecond}
	for _, r := range rates {
		for _, off := range offsets {
			t.Run(fmt.Sprintf("rate %v offset %v", r, off), func(t *testing.T) {
				t.Parallel()
				clock := newClock()
				l := throttle.NewLimiter(throttle.LimiterOptions{Rate: r, Burst: 2, Now: clock.Now})
				l.Allow("k")
				l.Allow("k")
				clock.Advance(off)
				for !mustRefuse(l) {
				}
				_, retry := l.Allow("k")
				if retry <= 0 {
					t.Fatalf("refused with retryAfter %v", retry)
				}
				if retry > 2*time.Nanosecond {
					clock.Advance(retry - 2*time.Nanosecond)
					if ok, _ := l.Allow("k"); ok {
						t.Fatalf("allowed 2ns before retryAfter %v", retry)
					}
					clock.Advance(2 * time.Nanosecond)
				} else {
					clock.Advance(retry)
				}
				if ok, again := l.Allow("k"); !ok {
					t.Fatalf("refused at retryAfter %v; wait again %v", retry, again)
				}
			})
		}
	}
}

// mustRefuse calls Allow once and reports whether it refused.
func mustRefuse(l *throttle.Limiter) bool {
	ok, _ := l.Allow("k")
	return !ok
}

func TestLimiterKeysAreIndependent(t *testing.T) {
	t.Parallel()
	clock := newClock()
	l := throttle.NewLimiter(throttle.LimiterOptions{Rate: 1, Burst: 1, Now: clock.Now})
	if ok, _ := l.Allow("ip:203.0.113.9"); !ok {
		t.Fatal("first request of ip refused")
	}
	if ok, _ := l.Allow("ip:203.0.113.9"); ok {
		t.Fatal("second request of ip allowed")
	}
	if ok, _ := l.Allow("token:1"); !ok {
		t.Fatal("first request of another key refused")
	}
	if got, want := l.Len(), 2; got != want {
		t.Errorf("Len = %d, want %d", got, want)
	}
}

func TestLimiterUnlimited(t *testing.T) {
	t.Parallel()
	for _, r := range []float64{0, -1, math.NaN(), math.Inf(1), math.Inf(-1)} {
		t.Run(fmt.Sprint(r), func(t *testing.T) {
			t.Parallel()
			l := throttle.NewLimiter(throttle.LimiterOptions{Rate: r, Now: newClock().Now})
			for i := range 1000 {
				if ok, retry := l.Allow("k"); !ok || retry != 0 {
					t.Fatalf("request %d: Allow = %v, %v; want true, 0", i, ok, retry)
				}
			}
			if got := l.Len(); got != 0 {
				t.Errorf("Len = %d, want 0: unlimited keys need no bucket", got)
			}
		})
	}
}

func TestLimiterEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	l := throttle.NewLimiter(throttle.LimiterOptions{Rate: 1, Burst: 1, MaxKeys: 2, Now: newClock().Now})
	// Each entry: key, whether Allow should pass (a fresh bucket does, a
	// used one does not: the clock never moves).
	calls := []struct {
		key  string
		want bool
	}{
		{"a", true},
		{"b", true},
		{"a", false}, // a is now the most recently used
		{"c", true},  // evicts b
		{"c", false},
		{"b", true},  // b was forgotten: full bucket again; evicts a
		{"c", false}, // c was kept
		{"a", true},  // a was forgotten
	}
	for i, c := range calls {
		if ok, _ := l.Allow(c.key); ok != c.want {
			t.Fatalf("call %d: Allow(%q) = %v, want %v", i, c.key, ok, c.want)
		}
		if n := l.Len(); n > 2 {
			t.Fatalf("call %d: Len = %d, above MaxKeys 2", i, n)
		}
	}
}

func TestLimiterDefaultMaxKeys(t *testing.T) {
	t.Parallel()
	l := throttle.NewLimiter(throttle.LimiterOptions{Rate: 1, Burst: 1, Now: newClock().Now})
	for i := range throttle.DefaultMaxKeys + 1 {
		l.Allow(fmt.Sprintf("ip:%d", i))
	}
	if got, want := l.Len(), throttle.DefaultMaxKeys; got != want {
		t.Errorf("Len = %d, want %d", got, want)
	}
	if ok, _ := l.Allow("ip:0"); !ok {
		t.Error("oldest key was not evicted: its bucket is still empty")
	}
}

// TestLimiterConcurrent hammers one key from many goroutines at a fixed
// time: exactly Burst requests may pass, no more, no fewer.
func TestLimiterConcurrent(t *testing.T) {
	t.Parallel()
	clock := newClock()
	const burst = 100
	l := throttle.NewLimiter(throttle.LimiterOptions{Rate: 1e-3, Burst: burst, MaxKeys: 8, Now: clock.Now})
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				if ok, _ := l.Allow("shared"); ok {
					allowed.Add(1)
				}
				l.Allow(fmt.Sprintf("own:%d:%d", g, i%20)) // churns the LRU
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != burst {
		t.Errorf("allowed %d requests of one key, want exactly %d", got, burst)
	}
}

// TestDefaultClock checks that a nil Now means the real clock. The real
// clock only moves forward, so the bounds below hold without sleeping.
func TestDefaultClock(t *testing.T) {
	t.Parallel()
	l := throttle.NewLimiter(throttle.LimiterOptions{Rate: 1e-3, Burst: 1})
	if ok, _ := l.Allow("k"); !ok {
		t.Fatal("first request refused")
	}
	if ok, retry := l.Allow("k"); ok || retry <= 0 || retry > 1000*time.Second {
		t.Errorf("second request: Allow = %v, %v; want false, within (0, 1000s]", ok, retry)
	}
	o := throttle.NewLockout(throttle.LockoutOptions{Free: -1, Base: time.Hour, Max: time.Hour})
	if got := o.Fail("k"); got != time.Hour {
		t.Errorf("Fail = %v, want 1h", got)
	}
	if got := o.Wait("k"); got <= 0 || got > time.Hour {
		t.Errorf("Wait = %v, want within (0, 1h]", got)
	}
}
