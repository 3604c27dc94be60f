package throttle

import (
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// OnceOptions configures a Once.
type OnceOptions struct {
	// Interval is how long a key stays taken after Take let it through.
	// Zero or less lets every call through.
	Interval time.Duration
	// MaxKeys bounds the number of keys remembered; zero or less means
	// DefaultMaxKeys.
	MaxKeys int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Once lets each key through at most once per interval: the server uses it
// to record the first use of a credential from a source, not every request
// it authenticates. The zero value is not usable; call NewOnce.
type Once struct {
	interval time.Duration
	now      func() time.Time

	mu    sync.Mutex // guards taken, including its recency order
	taken *simplelru.LRU[string, time.Time]
}

// NewOnce returns a Once configured by opts.
func NewOnce(opts OnceOptions) *Once {
	o := &Once{interval: opts.Interval, now: opts.Now}
	if o.now == nil {
		o.now = time.Now
	}
	o.taken = newLRU[time.Time](opts.MaxKeys)
	return o
}

// Take reports whether key passes now: true when it has not passed within
// the interval (or was released since), and then it is taken until the
// interval is over. An evicted key passes again, early.
func (o *Once) Take(key string) bool {
	if o.interval <= 0 {
		return true
	}
	now := o.now()
	o.mu.Lock()
	defer o.mu.Unlock()
	if at, ok := o.taken.Get(key); ok && now.Sub(at) < o.interval && !now.Before(at) {
		return false
	}
	o.taken.Add(key, now)
	return true
}

// Release makes key pass again on its next Take: for a caller whose work
// after a successful Take failed and must be retried.
func (o *Once) Release(key string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.taken.Remove(key)
}
