package throttle

// GateKeys returns the number of keys g keeps an entry for, so that tests
// can check that idle keys are dropped.
func GateKeys(g *Gate) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.inUse)
}
