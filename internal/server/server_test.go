package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

// logBuffer collects JSON log lines and signals when a line with a given
// message is written.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	waiters map[string]chan struct{}
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var rec struct{ Msg string }
	if json.Unmarshal(p, &rec) == nil {
		if ch, ok := l.waiters[rec.Msg]; ok {
			close(ch)
			delete(l.waiters, rec.Msg)
		}
	}
	return l.buf.Write(p)
}

// on returns a channel closed when a line with message msg is written.
func (l *logBuffer) on(msg string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.waiters == nil {
		l.waiters = map[string]chan struct{}{}
	}
	ch := make(chan struct{})
	l.waiters[msg] = ch
	return ch
}

// lines returns the decoded log lines.
func (l *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type testServer struct {
	*Server
	logs   *logBuffer
	url    string
	client *http.Client
	cancel context.CancelFunc
	done   chan error
}

// start creates a server on a loopback port with opts (Listener and
// Logger are set here), lets setup add routes, and runs it until the test
// ends or stop is called.
func start(t *testing.T, opts Options, setup func(*Server)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	opts.Listener = ln
	opts.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(opts)
	if err != nil {
		ln.Close()
		t.Fatalf("New: %v", err)
	}
	if setup != nil {
		setup(s)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ts := &testServer{Server: s, logs: logs, url: "http://" + ln.Addr().String(), client: &http.Client{}, cancel: cancel, done: make(chan error, 1)}
	listening := logs.on("server listening")
	go func() { ts.done <- s.Run(ctx) }()
	<-listening
	t.Cleanup(func() {
		cancel()
		<-ts.done
	})
	return ts
}

// stop cancels Run and returns its result.
func (ts *testServer) stop() error {
	ts.cancel()
	err := <-ts.done
	ts.done <- err // for the cleanup
	return err
}

func (ts *testServer) get(t *testing.T, path string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	ts := start(t, Options{}, nil)
	resp, body := ts.get(t, "/healthz", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"ok"`) {
		t.Errorf("GET /healthz = %d %q, want 200 ok", resp.StatusCode, body)
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	ts := start(t, Options{}, func(s *Server) {
		s.Handle("GET /work", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.Logger().InfoContext(r.Context(), "handler line")
		}))
	})
	tests := []struct {
		name string
		sent string
		keep bool
	}{
		{"client ID kept", "abc-123_x.y:z", true},
		{"none", "", false},
		{"spaces replaced", "a b", false},
		{"too long replaced", strings.Repeat("a", 129), false},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.sent != "" {
			h.Set(RequestIDHeader, tt.sent)
		}
		resp, _ := ts.get(t, "/work", h)
		id := resp.Header.Get(RequestIDHeader)
		switch {
		case tt.keep && id != tt.sent:
			t.Errorf("%s: response ID %q, want %q", tt.name, id, tt.sent)
		case !tt.keep && (len(id) != 32 || id == tt.sent):
			t.Errorf("%s: response ID %q, want a fresh random ID", tt.name, id)
		}
		// Both the handler's line and the request line carry the ID.
		var found []string
		for _, l := range ts.logs.lines(t) {
			if l["request_id"] == id {
				found = append(found, l["msg"].(string))
			}
		}
		if strings.Join(found, ",") != "handler line,request" {
			t.Errorf("%s: lines with request_id %q: %v, want [handler line request]", tt.name, id, found)
		}
	}
}

func TestRequestLogHasNoSecrets(t *testing.T) {
	t.Parallel()
	ts := start(t, Options{}, nil)
	h := http.Header{"Authorization": {"Bearer header-secret"}}
	ts.get(t, "/healthz?token=query-secret", h)
	logs := ts.logs.String()
	for _, secret := range []string{"header-secret", "query-secret"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log reveals %q:\n%s", secret, logs)
		}
	}
	var req map[string]any
	for _, l := range ts.logs.lines(t) {
		if l["msg"] == "request" {
			req = l
		}
	}
	if req == nil || req["path"] != "/healthz" || req["route"] != "GET /healthz" || req["status"] != float64(200) {
		t.Errorf("request line = %v, want path /healthz, route GET /healthz, status 200", req)
	}
	for _, l := range ts.logs.lines(t) {
		if l["msg"] == "request" && strings.Contains(strings.ToLower(strings.Join(keys(l), ",")), "remote") {
			t.Errorf("request line logs the client address: %v", l)
		}
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(t.Context(), sqlite.Options{Path: filepath.Join(t.TempDir(), "p.db")})
	if err != nil {
		t.Fatal(err)
	}
	storeCheck := Check{Name: "store", Func: func(ctx context.Context) error {
		_, err := st.ListProjects(ctx)
		return err
	}}
	ts := start(t, Options{Ready: []Check{storeCheck, {Name: "blobs", Func: func(context.Context) error { return nil }}}}, nil)
	if resp, body := ts.get(t, "/readyz", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /readyz = %d %q, want 200", resp.StatusCode, body)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	resp, body := ts.get(t, "/readyz", nil)
	var got struct {
		Status string
		Failed map[string]string
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("GET /readyz body %q: %v", body, err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || got.Status != "unavailable" || !strings.Contains(got.Failed["store"], "closed") || len(got.Failed) != 1 {
		t.Errorf("GET /readyz with the store closed = %d %q, want 503 naming the store", resp.StatusCode, body)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	ts := start(t, Options{}, func(s *Server) {
		s.Handle("POST /echo", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(w, r.Body)
		}))
	})
	ts.get(t, "/healthz", nil)
	ts.get(t, "/nowhere/"+strings.Repeat("x", 10), nil)
	resp, err := ts.client.Post(ts.url+"/echo", "text/plain", strings.NewReader("12345"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, body := ts.get(t, "/metrics", nil)
	for _, want := range []string{
		`palisade_http_requests_total{code="200",method="GET",route="GET /healthz"} 1`,
		`palisade_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`palisade_http_request_duration_seconds_count{code="200",method="GET",route="GET /healthz"} 1`,
		`palisade_http_request_bytes_total{route="POST /echo"} 5`,
		`palisade_http_response_bytes_total{route="POST /echo"} 5`,
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "xxxxxxxxxx") {
		t.Error("/metrics labels a raw path")
	}
}

func TestPanicRecovered(t *testing.T) {
	t.Parallel()
	ts := start(t, Options{}, func(s *Server) {
		s.Handle("GET /boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("kaboom") }))
	})
	resp, _ := ts.get(t, "/boom", nil)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("GET /boom = %d, want 500", resp.StatusCode)
	}
	id := resp.Header.Get(RequestIDHeader)
	var logged bool
	for _, l := range ts.logs.lines(t) {
		if l["msg"] == "handler panicked" && l["request_id"] == id && l["level"] == "ERROR" && l["panic"] == "kaboom" {
			logged = true
		}
	}
	if !logged {
		t.Errorf("no error line for the panic:\n%s", ts.logs.String())
	}
	if resp, _ := ts.get(t, "/healthz", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("server unhealthy after a panic: %d", resp.StatusCode)
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	ts := start(t, Options{MaxBodyBytes: 10}, func(s *Server) {
		s.Handle("POST /read", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.ReadAll(r.Body); err != nil {
				var tooLarge *http.MaxBytesError
				if errors.As(err, &tooLarge) {
					http.Error(w, "too large", http.StatusRequestEntityTooLarge)
					return
				}
				http.Error(w, err.Error(), http.StatusBadRequest)
			}
		}))
	})
	for _, tt := range []struct {
		body string
		want int
	}{{"0123456789", 200}, {"0123456789a", 413}} {
		resp, err := ts.client.Post(ts.url+"/read", "text/plain", strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("POST %d bytes = %d, want %d", len(tt.body), resp.StatusCode, tt.want)
		}
	}
}

// TestSetBodyLimitAndRoute checks that a handler can lift the body limit
// for its request only, and name its route for logs and metrics.
func TestSetBodyLimitAndRoute(t *testing.T) {
	t.Parallel()
	ts := start(t, Options{MaxBodyBytes: 10}, func(s *Server) {
		s.Handle("POST /any/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/any/big" {
				SetBodyLimit(r, -1)
				SetRoute(r, "/any/{big}")
			}
			n, err := io.Copy(io.Discard, r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
				return
			}
			fmt.Fprint(w, n)
		}))
	})
	big := strings.Repeat("x", 1<<20)
	for _, tt := range []struct {
		path, body string
		want       int
	}{{"/any/small", big, 413}, {"/any/big", big, 200}, {"/any/small", "0123456789", 200}} {
		resp, err := ts.client.Post(ts.url+tt.path, "text/plain", strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("POST %s %d bytes = %d %s, want %d", tt.path, len(tt.body), resp.StatusCode, got, tt.want)
		}
		if tt.want == 200 && string(got) != strconv.Itoa(len(tt.body)) {
			t.Errorf("POST %s read %s bytes, want %d", tt.path, got, len(tt.body))
		}
	}
	_, metrics := ts.get(t, "/metrics", nil)
	if !strings.Contains(metrics, `route="/any/{big}"`) || !strings.Contains(metrics, `route="POST /any/"`) {
		t.Errorf("metrics lack the handler-set and the mux route labels:\n%s", metrics)
	}
}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	t.Parallel()
	started, release := make(chan struct{}), make(chan struct{})
	ts := start(t, Options{ShutdownTimeout: time.Minute}, func(s *Server) {
		s.Handle("GET /slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(started)
			<-release
			_, _ = io.WriteString(w, "finished")
		}))
	})
	type result struct {
		code int
		body string
		err  error
	}
	resc := make(chan result, 1)
	go func() {
		resp, err := http.Get(ts.url + "/slow")
		if err != nil {
			resc <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		resc <- result{resp.StatusCode, string(b), err}
	}()
	<-started
	shutting := ts.logs.on("server shutting down")
	ts.cancel()
	<-shutting
	select {
	case err := <-ts.done:
		t.Fatalf("Run returned %v with a request in flight", err)
	default:
	}
	close(release)
	r := <-resc
	if r.err != nil || r.code != http.StatusOK || r.body != "finished" {
		t.Errorf("in-flight request = %d %q %v, want 200 finished", r.code, r.body, r.err)
	}
	if err := <-ts.done; err != nil {
		t.Errorf("Run = %v, want nil after a clean shutdown", err)
	}
	ts.done <- nil
	if _, err := net.Dial("tcp", strings.TrimPrefix(ts.url, "http://")); err == nil {
		t.Error("server still accepts connections after Run returned")
	}
}

func TestShutdownTimeoutCutsRequests(t *testing.T) {
	t.Parallel()
	started, cut := make(chan struct{}), make(chan struct{})
	ts := start(t, Options{ShutdownTimeout: 20 * time.Millisecond}, func(s *Server) {
		s.Handle("GET /stuck", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(started)
			<-r.Context().Done()
			close(cut)
		}))
	})
	type result struct {
		body string
		err  error
	}
	resc := make(chan result, 1)
	go func() {
		resp, err := http.Get(ts.url + "/stuck")
		if err != nil {
			resc <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		resc <- result{body: string(b), err: err}
	}()
	<-started
	if err := ts.stop(); !errors.Is(err, ErrShutdownTimeout) {
		t.Errorf("Run = %v, want ErrShutdownTimeout", err)
	}
	<-cut // the handler saw its request cancelled
	// The client sees the connection closed, or, when net/http finished
	// the response of the returning handler first, an empty one: never a
	// completed body.
	if r := <-resc; r.err == nil && r.body != "" {
		t.Errorf("the cut request got a body: %q", r.body)
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and returns
// the file paths and a pool trusting it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "palisade test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, pool := selfSigned(t)
	ts := start(t, Options{TLSCertFile: certFile, TLSKeyFile: keyFile}, nil)
	if !ts.TLS() {
		t.Fatal("TLS() = false")
	}
	ts.url = strings.Replace(ts.url, "http://", "https://", 1)
	ts.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, body := ts.get(t, "/healthz", nil)
	if resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Errorf("GET https /healthz = %d %q, TLS %v; want 200 over TLS", resp.StatusCode, body, resp.TLS != nil)
	}
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}}
	if resp, err := old.Get(ts.url + "/healthz"); err == nil {
		resp.Body.Close()
		t.Error("a TLS 1.1 client was served")
	}
	plain := &http.Client{}
	if resp, err := plain.Get(strings.Replace(ts.url, "https://", "http://", 1) + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP was served on the TLS port")
		}
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	certFile, _, _ := selfSigned(t)
	tests := []struct {
		name string
		opts Options
	}{
		{"cert without key", Options{Addr: "127.0.0.1:0", TLSCertFile: certFile}},
		{"unreadable key", Options{Addr: "127.0.0.1:0", TLSCertFile: certFile, TLSKeyFile: filepath.Join(t.TempDir(), "missing")}},
		{"bad address", Options{Addr: "127.0.0.1:notaport"}},
		{"negative limit", Options{Addr: "127.0.0.1:0", MaxBodyBytes: -1}},
	}
	for _, tt := range tests {
		if s, err := New(tt.opts); err == nil {
			s.Close()
			t.Errorf("%s: New succeeded", tt.name)
		}
	}
	s, err := New(Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close of an unused server: %v", err)
	}
}

// unwrapper wraps a response writer the way handlers' middleware does.
type unwrapper struct{ http.ResponseWriter }

func (u unwrapper) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// TestStatus: a handler learns the status it (or what it called)
// answered through the server's writer, also through wrappers.
func TestStatus(t *testing.T) {
	t.Parallel()
	seen := make(chan [3]int, 1)
	ts := start(t, Options{}, func(s *Server) {
		s.Handle("GET /teapot", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			before := Status(w)
			unwrapper{w}.WriteHeader(http.StatusTeapot)
			seen <- [3]int{before, Status(w), Status(unwrapper{w})}
		}))
	})
	resp, _ := ts.get(t, "/teapot", nil)
	if resp.StatusCode != http.StatusTeapot {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := <-seen; got != [3]int{0, http.StatusTeapot, http.StatusTeapot} {
		t.Errorf("Status before, after and through a wrapper = %v", got)
	}
	if Status(httptest.NewRecorder()) != 0 {
		t.Error("Status of a writer the server did not make is not 0")
	}
}
