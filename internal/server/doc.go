// Package server runs Palisade's HTTP server: the listener, TLS, graceful
// shutdown, the middleware every request passes through, and the
// operational endpoints /healthz, /readyz and /metrics. The registry and
// API handlers are mounted on it with Handle.
//
// Every request gets an ID: a sane X-Request-ID header from the client is
// kept, anything else is replaced by a random one. The ID is sent back in
// the X-Request-ID response header and added to every log line written
// with a request's context through the logger the caller gives (see
// Server.Logger). Request log lines carry the method, the route pattern,
// the path without its query string, the status, sizes and duration: never
// headers (Authorization), query strings (which may carry tokens) or the
// client's address. A handler that panics gets a 500 response and an
// error log line; the server keeps running.
//
// Metrics are kept in a registry of the Server's own (not the global
// one), labelled by route pattern rather than path so that their number
// stays bounded whatever clients ask for.
//
// The package is delivery: it knows nothing of storage. Readiness checks
// are functions the composition root passes in.
package server
