package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"
)

// RequestIDHeader is the header that carries a request's ID both ways.
const RequestIDHeader = "X-Request-ID"

// maxRequestIDLen bounds a client's request ID.
const maxRequestIDLen = 128

type ctxKey struct{}

// RequestID returns the ID of the request whose context is ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// saneRequestID accepts 1..128 bytes of [A-Za-z0-9._:-], so that a
// client's ID can neither forge log lines nor blow up their size.
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// requestIDHandler adds request_id to every record logged with a
// request's context.
type requestIDHandler struct{ h slog.Handler }

func (h *requestIDHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.h.Enabled(ctx, l)
}

func (h *requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.h.Handle(ctx, r)
}

func (h *requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &requestIDHandler{h: h.h.WithAttrs(as)}
}

func (h *requestIDHandler) WithGroup(name string) slog.Handler {
	return &requestIDHandler{h: h.h.WithGroup(name)}
}

// recorder captures the status and the bytes written.
type recorder struct {
	http.ResponseWriter
	status  int
	written int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.written += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush, deadlines and the like.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Status returns the status a handler has answered through w (a
// response writer the server gave it, or one wrapping it), or 0 when it
// has not answered yet or w is not the server's.
func Status(w http.ResponseWriter) int {
	for {
		switch v := w.(type) {
		case *recorder:
			return v.status
		case interface{ Unwrap() http.ResponseWriter }:
			w = v.Unwrap()
		default:
			return 0
		}
	}
}

// Flush passes through, for streaming handlers that type-assert.
func (r *recorder) Flush() {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	_ = http.NewResponseController(r.ResponseWriter).Flush()
}

// countingBody counts the request body bytes read and enforces the
// request's body limit, which a handler may change (SetBodyLimit) before
// reading.
type countingBody struct {
	io.ReadCloser
	n     int64
	limit int64 // < 0: none
}

func (c *countingBody) Read(p []byte) (int, error) {
	if c.limit >= 0 {
		if c.n > c.limit {
			return 0, &http.MaxBytesError{Limit: c.limit}
		}
		// Read one byte past the limit to tell "exactly at" from "over".
		if left := c.limit - c.n + 1; int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err := c.ReadCloser.Read(p)
	c.n += int64(n)
	if c.limit >= 0 && c.n > c.limit {
		n -= int(c.n - c.limit)
		return n, &http.MaxBytesError{Limit: c.limit}
	}
	return n, err
}

// requestState is what handlers may tell the middleware about their
// request: the route label and the body limit.
type requestState struct {
	route string
	body  *countingBody
}

type stateKey struct{}

// SetRoute names the request's route in logs and metrics, for handlers
// that route below a mux pattern (the OCI API under /v2/). name must come
// from a fixed set, never from the request, so that metric labels stay
// few.
func SetRoute(r *http.Request, name string) {
	if st, ok := r.Context().Value(stateKey{}).(*requestState); ok {
		st.route = name
	}
}

// SetBodyLimit replaces the request's body limit (the server's
// MaxBodyBytes) by n bytes; n < 0 removes it, for routes such as blob
// uploads that stream bodies of any size to storage. Call it before
// reading the body.
func SetBodyLimit(r *http.Request, n int64) {
	if st, ok := r.Context().Value(stateKey{}).(*requestState); ok && st.body != nil {
		st.body.limit = n
	}
}

// middleware gives every request an ID, bounds its body, recovers panics,
// and logs and measures it.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(RequestIDHeader)
		if !saneRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		body := &countingBody{ReadCloser: r.Body, limit: s.maxBody}
		st := &requestState{body: body}
		ctx := context.WithValue(r.Context(), ctxKey{}, id)
		r = r.WithContext(context.WithValue(ctx, stateKey{}, st))
		r.Body = body
		rec := &recorder{ResponseWriter: w}

		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler { //nolint:errorlint // a sentinel panic value, compared as net/http does
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "handler panicked",
					slog.String("panic", truncate(fmt.Sprint(v), 512)),
					slog.String("stack", string(debug.Stack())))
				if rec.status == 0 {
					http.Error(rec, "internal server error", http.StatusInternalServerError)
				} else {
					rec.status = http.StatusInternalServerError // for the log and metrics
				}
			}
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			// r.Pattern is set by the mux on this very request.
			route := r.Pattern
			if st.route != "" {
				route = st.route
			}
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			s.metrics.observe(route, r.Method, rec.status, elapsed, body.n, rec.written)
			level := slog.LevelInfo
			if rec.status >= 500 {
				level = slog.LevelWarn
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.String("path", truncate(r.URL.Path, 256)),
				slog.Int("status", rec.status),
				slog.Int64("bytes_in", body.n),
				slog.Int64("bytes_out", rec.written),
				slog.Duration("duration", elapsed),
			}
			s.log.LogAttrs(r.Context(), level, "request", attrs...)
		}()
		next.ServeHTTP(rec, r)
	})
}

// truncate bounds untrusted text in log lines.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..." + strconv.Itoa(len(s)-n) + " more bytes"
	}
	return s
}
