package throttle

import "sync"

// Gate limits the number of operations each key may have in flight at once,
// such as concurrent uploads per token. A key's entry exists only while it
// holds at least one slot. The zero value is not usable; call NewGate.
type Gate struct {
	limit int // zero or less: unlimited

	mu    sync.Mutex // guards inUse
	inUse map[string]int
}

// NewGate returns a Gate that lets each key hold at most limit slots at once;
// a limit of zero or less means unlimited (slots are still counted for InUse).
func NewGate(limit int) *Gate {
	return &Gate{limit: limit, inUse: make(map[string]int)}
}

// Acquire takes a slot for key. ok is false when key already holds the
// maximum; release is then a no-op. Otherwise release gives the slot back;
// calling it more than once gives it back once. release is never nil, so
// callers may defer it before checking ok.
func (g *Gate) Acquire(key string) (release func(), ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.inUse[key]
	if g.limit > 0 && n >= g.limit {
		return func() {}, false
	}
	g.inUse[key] = n + 1
	var once sync.Once
	return func() { once.Do(func() { g.release(key) }) }, true
}

// InUse returns the number of slots key holds.
func (g *Gate) InUse(key string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.inUse[key]
}

// release gives back one of key's slots and drops the entry of a key that
// holds none, so that idle keys take no memory.
func (g *Gate) release(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if n := g.inUse[key]; n > 1 {
		g.inUse[key] = n - 1
	} else {
		delete(g.inUse, key)
	}
}
