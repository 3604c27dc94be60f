package throttle_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/throttle"
)

// benchKeys returns n distinct keys shaped like the server's.
func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("ip:198.51.%d.%d", i/256, i%256)
	}
	return keys
}

// benchKeySets runs, for one key and for 10,000, op in parallel over the
// keys in turn; setup makes op once per key set, outside the timing.
func benchKeySets(b *testing.B, setup func() func(key string)) {
	for _, bc := range []struct {
		name string
		keys int
	}{{"one-key", 1}, {"many-keys", 10_000}} {
		b.Run(bc.name, func(b *testing.B) {
			keys := benchKeys(bc.keys)
			op := setup()
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(7919))
				for pb.Next() {
					op(keys[i%len(keys)])
					i++
				}
			})
		})
	}
}

func BenchmarkLimiterAllow(b *testing.B) {
	benchKeySets(b, func() func(string) {
		l := throttle.NewLimiter(throttle.LimiterOptions{Rate: 1e6, Burst: 1000, Now: time.Now})
		return func(key string) { l.Allow(key) }
	})
}

func BenchmarkLockoutWait(b *testing.B) {
	o := throttle.NewLockout(throttle.LockoutOptions{Free: -1, Base: time.Hour, Now: time.Now})
	o.Fail("user:locked")
	for _, key := range []string{"user:unknown", "user:locked"} {
		b.Run(key, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					o.Wait(key)
				}
			})
		})
	}
}

func BenchmarkGate(b *testing.B) {
	benchKeySets(b, func() func(string) {
		g := throttle.NewGate(0)
		return func(key string) {
			release, _ := g.Acquire(key)
			release()
		}
	})
}

// BenchmarkOnceTake is what pacing the audit of successful
// authentications adds to each authenticated request: one Take, almost
// always of a key already taken.
func BenchmarkOnceTake(b *testing.B) {
	benchKeySets(b, func() func(string) {
		o := throttle.NewOnce(throttle.OnceOptions{Interval: 15 * time.Minute, Now: time.Now})
		return func(key string) { o.Take(key) }
	})
}
