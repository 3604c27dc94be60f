package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Defaults used when the corresponding Options field is zero.
const (
	DefaultShutdownTimeout = 30 * time.Second
	// DefaultMaxBodyBytes bounds request bodies of routes that do not set
	// their own limit (see Handle).
	DefaultMaxBodyBytes = 4 << 20
	// ReadyTimeout bounds all readiness checks of one /readyz request.
	ReadyTimeout = 5 * time.Second
)

// ErrShutdownTimeout means the shutdown timeout expired before every
// in-flight request finished; those still running were cut.
var ErrShutdownTimeout = errors.New("shutdown timeout expired; in-flight requests were cut")

// Check is a readiness check: /readyz answers 503 with Name and the error
// while Func fails.
type Check struct {
	Name string
	Func func(ctx context.Context) error
}

// Options configures a Server.
type Options struct {
	// Addr is the TCP address to listen on; ignored when Listener is set.
	Addr string
	// Listener, when not nil, is served instead of listening on Addr; the
	// Server closes it.
	Listener net.Listener
	// TLSCertFile and TLSKeyFile are PEM files; when both are set the
	// server speaks TLS 1.2 or later only.
	TLSCertFile string
	TLSKeyFile  string
	// TLSClientCAFile, when set, is a PEM file of the certificate
	// authorities whose client certificates the server verifies when a
	// client presents one (mutual TLS); clients without one still
	// connect.
	TLSClientCAFile string
	// Logger receives request and lifecycle lines; nil discards them. Its
	// handler is wrapped so that every line logged with a request's
	// context carries request_id.
	Logger *slog.Logger
	// Ready are the readiness checks of /readyz, run in order.
	Ready []Check
	// ShutdownTimeout bounds the graceful shutdown; 0 means
	// DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// Server is Palisade's HTTP server. Create it with New, add routes with
// Handle, then call Run once (or Close, to release the listener unused).
type Server struct {
	log      *slog.Logger
	ln       net.Listener
	tls      bool
	mux      *http.ServeMux
	patterns []string
	srv      *http.Server
	ready    []Check
	timeout  time.Duration
	maxBody  int64
	registry *prometheus.Registry
	metrics  *metrics

	closeOnce sync.Once
}

// New listens on opts.Addr (or takes opts.Listener) and loads the TLS
// certificate, so that both kinds of mistake show before Run.
func New(opts Options) (*Server, error) {
	log := slog.New(slog.DiscardHandler)
	if opts.Logger != nil {
		log = slog.New(&requestIDHandler{h: opts.Logger.Handler()})
	}
	if (opts.TLSCertFile == "") != (opts.TLSKeyFile == "") {
		return nil, errors.New("new server: TLS needs both a certificate and a key")
	}
	if opts.MaxBodyBytes < 0 || opts.ShutdownTimeout < 0 {
		return nil, errors.New("new server: negative body limit or shutdown timeout")
	}
	var tlsConfig *tls.Config
	if opts.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(opts.TLSCertFile, opts.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("new server: load TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		if opts.TLSClientCAFile != "" {
			pem, err := os.ReadFile(opts.TLSClientCAFile)
			if err != nil {
				return nil, fmt.Errorf("new server: read client CA file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("new server: client CA file %s holds no PEM certificate", opts.TLSClientCAFile)
			}
			tlsConfig.ClientCAs = pool
			tlsConfig.ClientAuth = tls.VerifyClientCertIfGiven
		}
	} else if opts.TLSClientCAFile != "" {
		return nil, errors.New("new server: client certificates need TLS: give a certificate and a key")
	}
	ln := opts.Listener
	if ln == nil {
		var err error
		ln, err = net.Listen("tcp", opts.Addr)
		if err != nil {
			return nil, fmt.Errorf("new server: %w", err)
		}
	}
	s := &Server{
		log:      log,
		ln:       ln,
		tls:      tlsConfig != nil,
		mux:      http.NewServeMux(),
		ready:    opts.Ready,
		timeout:  opts.ShutdownTimeout,
		maxBody:  opts.MaxBodyBytes,
		registry: prometheus.NewRegistry(),
	}
	if s.timeout == 0 {
		s.timeout = DefaultShutdownTimeout
	}
	if s.maxBody == 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.metrics = newMetrics(s.registry)
	s.Handle("GET /healthz", http.HandlerFunc(s.healthz))
	s.Handle("GET /readyz", http.HandlerFunc(s.readyz))
	s.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry}))
	s.srv = &http.Server{
		Handler:           s.middleware(s.mux),
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Addr returns the address the server listens on (useful with port 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// TLS reports whether the server speaks TLS.
func (s *Server) TLS() bool { return s.tls }

// Registry returns the server's metrics registry, for handlers that add
// their own collectors.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// Logger returns the server's logger; lines logged through it with a
// request's context carry the request's ID.
func (s *Server) Logger() *slog.Logger { return s.log }

// Handle registers h for pattern (http.ServeMux syntax, such as
// "GET /v2/"). Metrics are labelled with pattern. Call it before Run.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
	s.patterns = append(s.patterns, pattern)
}

// Patterns returns every pattern registered with Handle, in order: what
// the server routes (the access-control test holds them against its
// table).
func (s *Server) Patterns() []string { return slices.Clone(s.patterns) }

// Run serves until ctx is done, then shuts down gracefully: it stops
// accepting connections and waits for in-flight requests for at most the
// shutdown timeout; requests still running then are cut (their contexts
// are cancelled and their connections closed) and Run returns an error
// wrapping ErrShutdownTimeout. Run returns nil after a clean shutdown, or
// the error that stopped serving.
func (s *Server) Run(ctx context.Context) error {
	// Request contexts outlive ctx during the grace period, and are
	// cancelled when it expires.
	base, cut := context.WithCancel(context.WithoutCancel(ctx))
	defer cut()
	s.srv.BaseContext = func(net.Listener) context.Context { return base }

	errc := make(chan error, 1)
	go func() {
		var err error
		if s.tls {
			err = s.srv.ServeTLS(s.ln, "", "")
		} else {
			err = s.srv.Serve(s.ln)
		}
		errc <- err
	}()
	scheme := "http"
	if s.tls {
		scheme = "https"
	}
	s.log.InfoContext(ctx, "server listening", slog.String("addr", s.ln.Addr().String()), slog.String("scheme", scheme))

	select {
	case err := <-errc:
		// Serving failed before we were asked to stop.
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.InfoContext(ctx, "server shutting down", slog.Duration("timeout", s.timeout))
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	<-errc // Serve returns ErrServerClosed as soon as Shutdown begins
	if err != nil {
		cut()
		_ = s.srv.Close()
		s.log.WarnContext(ctx, "shutdown timeout expired; in-flight requests cut", slog.Duration("timeout", s.timeout))
		return fmt.Errorf("shut down server: %w", ErrShutdownTimeout)
	}
	s.log.InfoContext(ctx, "server stopped")
	return nil
}

// Close releases the listener of a Server that was never Run.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() { err = s.srv.Close() })
	if cerr := s.ln.Close(); err == nil && !errors.Is(cerr, net.ErrClosed) {
		err = cerr
	}
	return err
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz runs every check and answers 503 naming the ones that fail.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
	defer cancel()
	failed := map[string]string{}
	for _, c := range s.ready {
		if err := c.Func(ctx); err != nil {
			failed[c.Name] = err.Error()
			s.log.WarnContext(ctx, "readiness check failed", slog.String("check", c.Name), slog.String("error", err.Error()))
		}
	}
	if len(failed) > 0 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "failed": failed})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
