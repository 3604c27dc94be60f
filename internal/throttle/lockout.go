package throttle

import (
	"math"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Lockout defaults, used where LockoutOptions leaves a field at zero.
const (
	DefaultFree   = 5
	DefaultBase   = time.Second
	DefaultMax    = 15 * time.Minute
	DefaultWindow = 15 * time.Minute
)

// LockoutOptions configures a Lockout.
type LockoutOptions struct {
	// Free is the number of failures a key may have before any delay.
	// Zero means DefaultFree; a negative number means none, so the first
	// failure already locks the key.
	Free int
	// Base is the lock after the first failure beyond Free; each further
	// failure doubles it. Zero or less means DefaultBase.
	Base time.Duration
	// Max caps the lock. Zero or less means DefaultMax.
	Max time.Duration
	// Window is how long failures are remembered. It runs from the key's
	// most recent failure or, when the key is locked, from the end of the
	// lock: a key that stays quiet for Window after it may try again
	// starts again with no failures. Zero or less means DefaultWindow.
	Window time.Duration
	// MaxKeys bounds the number of keys tracked; zero or less means
	// DefaultMaxKeys.
	MaxKeys int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Lockout slows down guessing of credentials. It counts failed
// authentications per key and, once a key has more than Free of them,
// locks it for Base, 2*Base, 4*Base and so on, at most Max.
//
// Callers ask Wait before checking credentials and refuse without checking
// while the key is locked; they call Fail when the check fails and Succeed
// when it passes. Failures reported while a key is locked still count and
// extend the lock.
//
// State is per process: each replica of the server counts on its own (see
// the package documentation). The zero value is not usable; call NewLockout.
type Lockout struct {
	free   int
	base   time.Duration
	max    time.Duration
	window time.Duration
	now    func() time.Time

	// mu guards entries and the fields of every entry in it. Fail takes it
	// exclusively; Wait only reads (Peek does not reorder) and shares it.
	mu      sync.RWMutex
	entries *simplelru.LRU[string, *lockEntry]
}

// lockEntry is the state of one key.
type lockEntry struct {
	failures int       // failures remembered, at most math.MaxInt32
	last     time.Time // time of the most recent failure
	until    time.Time // the key is locked before this time
}

// NewLockout returns a Lockout configured by opts.
func NewLockout(opts LockoutOptions) *Lockout {
	o := &Lockout{
		free:   opts.Free,
		base:   opts.Base,
		max:    opts.Max,
		window: opts.Window,
		now:    opts.Now,
	}
	switch {
	case o.free == 0:
		o.free = DefaultFree
	case o.free < 0:
		o.free = 0
	}
	if o.base <= 0 {
		o.base = DefaultBase
	}
	if o.max <= 0 {
		o.max = DefaultMax
	}
	if o.window <= 0 {
		o.window = DefaultWindow
	}
	if o.now == nil {
		o.now = time.Now
	}
	o.entries = newLRU[*lockEntry](opts.MaxKeys)
	return o
}

// Wait returns zero when key may try to authenticate now, and otherwise how
// long it stays locked.
func (o *Lockout) Wait(key string) time.Duration {
	now := o.now()
	o.mu.RLock()
	defer o.mu.RUnlock()
	e, ok := o.entries.Peek(key)
	if !ok {
		return 0
	}
	return max(e.until.Sub(now), 0)
}

// Fail records a failed authentication for key and returns the lock now in
// force for it: zero while the key has at most Free failures, otherwise the
// longer of the lock already in force and Base * 2^(failures-Free-1),
// capped at Max.
func (o *Lockout) Fail(key string) time.Duration {
	now := o.now()
	o.mu.Lock()
	defer o.mu.Unlock()
	e, ok := o.entries.Get(key)
	if !ok {
		e = &lockEntry{}
		o.entries.Add(key, e)
	} else if o.expired(e, now) {
		*e = lockEntry{}
	}
	if e.failures < math.MaxInt32 {
		e.failures++
	}
	e.last = now
	if until := now.Add(o.delay(e.failures)); until.After(e.until) {
		e.until = until
	}
	return max(e.until.Sub(now), 0)
}

// Succeed forgets key's failures and any lock, as after a successful
// authentication.
func (o *Lockout) Succeed(key string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.entries.Remove(key)
}

// Len returns the number of keys tracked, for metrics.
func (o *Lockout) Len() int {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.entries.Len()
}

// expired reports whether e's failures are to be forgotten at now: Window
// has passed since its most recent failure and since the end of its lock.
//
// Counting from the most recent failure, rather than keeping a sliding
// window of every failure's time, forgets no failure sooner than the
// sliding window would and needs no list of timestamps. Counting from the
// end of the lock as well matters when a lock is as long as Window (the
// defaults: 15 minutes each): otherwise every lock at Max would end with
// the failures forgotten, and a guesser who waits out the lock would get
// Free failures and the whole schedule again.
func (o *Lockout) expired(e *lockEntry, now time.Time) bool {
	since := e.last
	if e.until.After(since) {
		since = e.until
	}
	return now.Sub(since) >= o.window
}

// delay returns the lock that the given number of failures earns:
// Base * 2^(failures-Free-1) capped at Max, or zero within Free.
func (o *Lockout) delay(failures int) time.Duration {
	if failures <= o.free {
		return 0
	}
	d := o.base
	for range failures - o.free - 1 {
		if d > o.max-d { // 2d would pass Max (or overflow)
			return o.max
		}
		d *= 2
	}
	return min(d, o.max)
}
