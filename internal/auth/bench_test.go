package auth

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/access"
	"github.com/palisade-sec/palisade/internal/throttle"
)

// BenchmarkAuthenticateAndDecide is the per-request cost of access control
// on the server: authenticate an API token against a real SQLite store
// (hash lookup, the owner and its roles), pace the audit record of the
// success as the server does (recorded once, then skipped), and decide a
// pull. Besides the mean it reports the 99th percentile of single
// iterations (p99-ns).
func BenchmarkAuthenticateAndDecide(b *testing.B) {
	a, _, _ := newTestAuth(b)
	a.recent = throttle.NewOnce(throttle.OnceOptions{Interval: 15 * time.Minute})
	a.onSuccess = func(*http.Request, Principal) error { return nil }
	r := request("Bearer " + devSecret)
	res := access.Resource{Project: "a", Classification: access.Internal}
	var took []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		p, err := a.Authenticate(r)
		if err != nil {
			b.Fatal(err)
		}
		if !access.Decide(p.Principal, access.ActPull, res).Allowed() {
			b.Fatal("denied")
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)*99/100].Nanoseconds()), "p99-ns")
}
