package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

func testServerConfig(t *testing.T) config.Server {
	t.Helper()
	cfg := config.DefaultServer()
	cfg.DataDir = filepath.Join(t.TempDir(), "data") // created by the server
	cfg.Listen = "127.0.0.1:0"
	return cfg
}

// startOnce prepares a server with cfg, checks it is ready, and stops it.
func startOnce(t *testing.T, cfg config.Server) (out, logs string) {
	t.Helper()
	var o, l bytes.Buffer
	rt, err := New().newServer(t.Context(), cfg, &o, &l)
	if err != nil {
		t.Fatalf("newServer: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- rt.srv.Run(ctx) }()
	resp, err := http.Get("http://" + rt.srv.Addr().String() + "/readyz")
	if err != nil {
		t.Fatalf("GET /readyz: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /readyz = %d %s, want 200", resp.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	rt.close(context.Background())
	return o.String(), l.String()
}

// tokenIn checks the database holds an active admin token with the hash
// of token.
func tokenIn(t *testing.T, cfg config.Server, token string) store.Token {
	t.Helper()
	st, err := sqlite.Open(t.Context(), sqlite.Options{Path: cfg.SQLitePath()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tok, err := st.TokenByHash(t.Context(), sha256.Sum256([]byte(token)))
	if err != nil {
		t.Fatalf("TokenByHash(printed token): %v", err)
	}
	owner, err := st.Principal(t.Context(), tok.PrincipalID)
	if err != nil || !owner.Admin || owner.Name != AdminName || tok.Scope != "" || !tok.Active() {
		t.Errorf("token = %+v of %+v (%v), want an active unscoped token of the administrator", tok, owner, err)
	}
	all, err := st.ListTokens(t.Context())
	if err != nil || len(all) != 1 {
		t.Errorf("ListTokens = %d tokens, %v; want 1", len(all), err)
	}
	return tok
}

var printedToken = regexp.MustCompile(`(?m)^    (pal_[A-Za-z0-9_-]{43})$`)

func TestServerFirstStartPrintsTokenOnce(t *testing.T) {
	t.Parallel()
	cfg := testServerConfig(t)
	out, logs := startOnce(t, cfg)
	m := printedToken.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("first start printed no token:\n%s", out)
	}
	token := m[1]
	if !strings.Contains(out, "Store it now, it is not shown again") {
		t.Errorf("output lacks the warning:\n%s", out)
	}
	if strings.Contains(logs, token) {
		t.Error("the token was logged")
	}
	tokenIn(t, cfg, token)

	// Nothing but the hash is stored anywhere in the data directory.
	err := filepath.WalkDir(cfg.DataDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(token)) {
			t.Errorf("%s holds the token", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	out, _ = startOnce(t, cfg)
	if out != "" {
		t.Errorf("second start printed %q, want nothing", out)
	}
	tokenIn(t, cfg, token)

	// Permissions: data directory 0700, key file 0600.
	for _, c := range []struct {
		path string
		want os.FileMode
	}{{cfg.DataDir, 0o700}, {cfg.KEKFile(), 0o600}, {filepath.Join(cfg.DataDir, config.BlobsDirName), 0o700}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != c.want {
			t.Errorf("%s mode %04o, want %04o", c.path, fi.Mode().Perm(), c.want)
		}
	}
}

func TestServerAdminTokenFromEnv(t *testing.T) {
	t.Parallel()
	cfg := testServerConfig(t)
	token := strings.Repeat("t0k", 12)
	cfg.AdminToken = config.Secret(token)
	out, logs := startOnce(t, cfg)
	if out != "" {
		t.Errorf("start with PALISADE_ADMIN_TOKEN printed %q, want nothing", out)
	}
	if strings.Contains(logs, token) {
		t.Error("the token was logged")
	}
	tokenIn(t, cfg, token)

	// A later start with another token keeps the first and warns.
	cfg.AdminToken = config.Secret(strings.Repeat("x", 40))
	out, logs = startOnce(t, cfg)
	if out != "" || !strings.Contains(logs, "PALISADE_ADMIN_TOKEN is ignored") {
		t.Errorf("second start printed %q, logs %s; want nothing printed and a warning", out, logs)
	}
	tokenIn(t, cfg, token)
}

func TestServerInvalidConfig(t *testing.T) {
	t.Parallel()
	cfg := testServerConfig(t)
	cfg.LogLevel = "loud"
	cfg.AdminToken = "short"
	err := New().Server(t.Context(), cfg, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "log_level") || !strings.Contains(err.Error(), "PALISADE_ADMIN_TOKEN") {
		t.Errorf("Server = %v, want every configuration problem", err)
	}
	if _, err := os.Stat(cfg.DataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an invalid configuration created the data directory (%v)", err)
	}
}

func TestServerRunsUntilCancelled(t *testing.T) {
	t.Parallel()
	cfg := testServerConfig(t)
	ctx, cancel := context.WithCancel(t.Context())
	var logs lockedBuffer
	done := make(chan error, 1)
	go func() { done <- New().Server(ctx, cfg, io.Discard, &logs) }()
	// Stop the server once it listens.
	for {
		ch, ok := logs.contains(`"msg":"server listening"`)
		if ok {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("Server returned early: %v", err)
		case <-ch:
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Server = %v, want nil after cancel", err)
	}
	if !strings.Contains(logs.String(), `"msg":"server stopped"`) {
		t.Errorf("logs lack the stop line:\n%s", logs.String())
	}
}

func TestBootstrapAdminRandomFailure(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(t.Context(), sqlite.Options{Path: filepath.Join(t.TempDir(), "p.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out bytes.Buffer
	err = bootstrapAdmin(t.Context(), st, "", strings.NewReader("short"), &out, slog.New(slog.DiscardHandler))
	if err == nil || out.Len() != 0 {
		t.Errorf("bootstrapAdmin with a failing random source = %v, printed %q; want an error and nothing printed", err, out.String())
	}
	// A revoked bootstrap token is replaced under another ID.
	if err := bootstrapAdmin(t.Context(), st, strings.Repeat("a", 32), nil, &out, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if err := st.RevokeToken(t.Context(), BootstrapTokenID); err != nil {
		t.Fatal(err)
	}
	if err := bootstrapAdmin(t.Context(), st, strings.Repeat("b", 32), nil, &out, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.TokenByHash(t.Context(), sha256.Sum256([]byte(strings.Repeat("b", 32)))); err != nil {
		t.Errorf("replacement token not stored: %v", err)
	}
	// Once administrators have held tokens, a restart after they all
	// ended prints no new token (it would never expire and anyone reading
	// the output would have it); PALISADE_ADMIN_TOKEN still recovers.
	all, err := st.ListTokens(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range all {
		if err := st.RevokeToken(t.Context(), tk.ID); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	if err := bootstrapAdmin(t.Context(), st, "", rand.Reader, &out, slog.New(slog.DiscardHandler)); err != nil || out.Len() != 0 {
		t.Errorf("restart without an active admin token: %v, printed %q; want nothing printed", err, out.String())
	}
	if n, _ := st.ListTokens(t.Context()); len(n) != len(all) {
		t.Errorf("%d tokens after the restart, want %d (none created)", len(n), len(all))
	}
}

// lockedBuffer is a log sink safe for concurrent use.
type lockedBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	written chan struct{}
}

func (b *lockedBuffer) signal() chan struct{} {
	if b.written == nil {
		b.written = make(chan struct{})
	}
	return b.written
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.signal())
	b.written = nil
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// contains reports whether the buffer holds s and, if not, returns a
// channel closed by the next write.
func (b *lockedBuffer) contains(s string) (<-chan struct{}, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if strings.Contains(b.buf.String(), s) {
		return nil, true
	}
	return b.signal(), false
}
