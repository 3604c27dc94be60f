package throttle

import (
	"math"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"
)

// DefaultMaxKeys is the number of keys a Limiter or Lockout tracks when its
// options leave MaxKeys at zero.
const DefaultMaxKeys = 100_000

// LimiterOptions configures a Limiter.
type LimiterOptions struct {
	// Rate is the number of requests per second a key may make on average.
	// Zero, a negative number, NaN or +Inf means unlimited.
	Rate float64
	// Burst is the number of requests a key may make at once, the size of
	// its token bucket. Values below 1 mean 1.
	Burst int
	// MaxKeys bounds the number of buckets kept; zero or less means
	// DefaultMaxKeys.
	MaxKeys int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Limiter limits the request rate of each key with a token bucket
// (golang.org/x/time/rate). A bucket is created full on a key's first
// request. The zero value is not usable; call NewLimiter.
type Limiter struct {
	limit     rate.Limit
	burst     int
	unlimited bool
	now       func() time.Time

	mu      sync.Mutex // guards buckets, including its recency order
	buckets *simplelru.LRU[string, *rate.Limiter]
}

// NewLimiter returns a Limiter configured by opts.
func NewLimiter(opts LimiterOptions) *Limiter {
	l := &Limiter{
		limit: rate.Limit(opts.Rate),
		burst: max(opts.Burst, 1),
		// !(Rate > 0) also catches NaN, which rate.Limiter does not handle.
		unlimited: !(opts.Rate > 0) || math.IsInf(opts.Rate, 1),
		now:       opts.Now,
	}
	if l.now == nil {
		l.now = time.Now
	}
	l.buckets = newLRU[*rate.Limiter](opts.MaxKeys)
	return l
}

// Allow reports whether key may make a request now and, if so, takes one
// token from its bucket. When it may not, retryAfter is the exact time until
// the bucket holds a whole token again, to the nearest nanosecond; a request
// made that long after now passes (unless other requests took the token).
// Rounding it up to whole seconds for a Retry-After header is the caller's
// job. A refused request takes nothing from the bucket.
//
// retryAfter is advice: requests from other goroutines for the same key may
// take the token first.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	if l.unlimited {
		return true, 0
	}
	now := l.now()
	b := l.bucket(key)
	// AllowN, unlike ReserveN followed by CancelAt, leaves the bucket
	// untouched when it refuses: cancelling reservations out of order
	// under concurrency can leave the bucket in debt.
	if b.AllowN(now, 1) {
		return true, 0
	}
	return false, l.untilToken(b, now)
}

// Len returns the number of keys that have a bucket, for metrics.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buckets.Len()
}

// bucket returns key's bucket, creating a full one (and perhaps evicting
// the least recently used) when key has none.
func (l *Limiter) bucket(key string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets.Get(key)
	if !ok {
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets.Add(key, b)
	}
	return b
}

// untilToken returns how long after now b will hold one whole token, to
// the nearest nanosecond and at least one nanosecond, so that a refusal
// always comes with a wait.
//
// The arithmetic is rate's own (Limit.durationFromTokens on the missing
// part of a token), so a request made at now plus the result passes:
// rate.Limiter admits a request once less than a nanosecond's worth of
// token is missing, and rounding to the nearest nanosecond leaves at most
// half a nanosecond's worth. Under concurrency the bucket may have been
// used at a later time than now; the wait is then only an estimate.
func (l *Limiter) untilToken(b *rate.Limiter, now time.Time) time.Duration {
	ns := math.Round((1 - b.TokensAt(now)) / float64(l.limit) * float64(time.Second))
	switch {
	case !(ns >= 1): // also NaN
		return time.Nanosecond
	case ns >= math.MaxInt64:
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(ns)
}

// newLRU returns an LRU holding at most maxKeys entries, or DefaultMaxKeys
// when maxKeys is zero or less.
func newLRU[V any](maxKeys int) *simplelru.LRU[string, V] {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	c, err := simplelru.NewLRU[string, V](maxKeys, nil)
	if err != nil {
		// NewLRU fails only for a size below 1, which was ruled out above.
		panic("throttle: " + err.Error())
	}
	return c
}
