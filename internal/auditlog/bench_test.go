package auditlog

import (
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// BenchmarkAppend64Writers appends from 64 concurrent writers, each
// waiting for its entry to be durable (committed with its checkpoint), on
// SQLite and PostgreSQL; it reports durable entries per second and the
// 99th percentile of the writers' waits.
func BenchmarkAppend64Writers(b *testing.B) {
	for name, open := range backends() {
		b.Run(name, func(b *testing.B) {
			bk := open(b)
			signer, _ := testKey(b, "palisade-audit")
			l := newLog(b, bk.st, signer)
			const writers = 64
			var mu sync.Mutex
			var waits []time.Duration
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var mine []time.Duration
					for i := w; i < b.N; i += writers {
						t0 := time.Now()
						if _, err := l.Append(b.Context(), testEntry(i)); err != nil {
							b.Error(err)
							return
						}
						mine = append(mine, time.Since(t0))
					}
					mu.Lock()
					waits = append(waits, mine...)
					mu.Unlock()
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			slices.Sort(waits)
			if len(waits) > 0 {
				b.ReportMetric(float64(len(waits))/elapsed.Seconds(), "entries/s")
				b.ReportMetric(float64(waits[len(waits)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}

// BenchmarkVerify verifies a log of verifyEntries entries on SQLite (set
// PALISADE_BENCH_AUDIT_ENTRIES for another size, e.g. 1000000): reading
// every entry, recomputing the tree and checking every checkpoint. The log
// is filled once, outside the timer.
func BenchmarkVerify(b *testing.B) {
	n := 100_000
	if v := os.Getenv("PALISADE_BENCH_AUDIT_ENTRIES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	bk := backends()["sqlite"](b)
	signer, verifier := testKey(b, "palisade-audit")
	l := newLog(b, bk.st, signer)
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 64 {
				if _, err := l.Append(b.Context(), testEntry(i)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	l.Close()
	b.ResetTimer()
	for b.Loop() {
		rep, err := Verify(b.Context(), bk.st, testOrigin, verifier, nil)
		if err != nil || rep.Size != int64(n) {
			b.Fatalf("Verify: %+v, %v", rep, err)
		}
	}
	b.ReportMetric(float64(n), "entries")
}

// BenchmarkAppendAt1000PerSecond sends appends at a constant 1,000 per
// second for b.N entries (64 writers take them as they fall due) and
// reports the 99th percentile of their latency, measured from when each
// was due (so a stall delays the ones behind it too).
func BenchmarkAppendAt1000PerSecond(b *testing.B) {
	for name, open := range backends() {
		b.Run(name, func(b *testing.B) {
			bk := open(b)
			signer, _ := testKey(b, "palisade-audit")
			l := newLog(b, bk.st, signer)
			const rate = 1000
			due := make(chan int)
			lat := make([]time.Duration, b.N)
			start := time.Now()
			var wg sync.WaitGroup
			for range 64 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range due {
						at := start.Add(time.Duration(i) * time.Second / rate)
						if _, err := l.Append(b.Context(), testEntry(i)); err != nil {
							b.Error(err)
						}
						lat[i] = time.Since(at)
					}
				}()
			}
			b.ResetTimer()
			for i := range b.N {
				time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rate)))
				due <- i
			}
			close(due)
			wg.Wait()
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		})
	}
}
