// Package throttle slows down clients of the Palisade server: it limits the
// request rate per key (Limiter), the number of concurrent operations per
// key (Gate), the pace of failed authentications per key (Lockout), and
// how often an event per key is worth recording (Once).
//
// A key is an opaque string chosen by the caller that names who is being
// throttled, such as "token:ID" or "ip:203.0.113.9". This package never
// parses keys and never logs them; callers should build them from values of
// bounded length (a token ID, a normalised IP address or prefix), never from
// raw request headers, since every tracked key is held in memory.
//
// # Invariants
//
//   - Memory is bounded by the number of keys. Limiter, Lockout and Once keep at
//     most MaxKeys entries (default 100,000) and evict the least recently
//     used one when full; Gate keeps an entry only while the key holds at
//     least one slot, so its size is bounded by the number of operations in
//     flight.
//   - Time comes only from the injected clock (the Now option), so every
//     decision is a pure function of the calls made and the times they were
//     made at. Nothing here sleeps, starts goroutines or blocks on I/O: a
//     refused caller is told how long to wait and decides what to do.
//   - All types are safe for concurrent use.
//   - A Lockout never shortens a lock that is in force: another failure
//     can only keep or extend it.
//
// # Threat assumptions
//
// The adversary sends requests as fast as the network allows, guesses
// credentials, and may control many keys (many addresses in an IPv6 prefix,
// several tokens). Throttling per key does not stop an adversary who spreads
// load over many keys; callers combine keys of different granularity (per
// token and per address, per account and per address) for that.
//
// Eviction forgets state: an evicted Limiter bucket comes back full and an
// evicted Lockout entry comes back with no failures and no lock. An adversary
// who can make MaxKeys other keys active between two of its own requests can
// therefore reset its own state; MaxKeys must be sized well above the number
// of keys that are active within a Lockout window. Lockout orders entries by
// their most recent failure (Wait does not refresh an entry), so the entry
// evicted first is the one whose lock is the most likely to be over.
//
// State lives in the memory of one process. Each replica of the server counts
// on its own, so behind a load balancer of n replicas a client may get up to
// n times the configured rate, concurrency or free failures, and a restart
// forgets everything. That is accepted: the limits protect the server's
// resources and slow down guessing; they are not an accounting or quota
// system.
package throttle
