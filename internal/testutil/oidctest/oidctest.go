package oidctest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/testutil/testenv"
)

// EnvServer names the environment variable that overrides the provider
// binary's path (by default <module root>/.tools/oidc/server).
const EnvServer = "PALISADE_TEST_OIDC_SERVER"

// installHint says how to get the provider binary.
const installHint = "run 'make tools', or: GOBIN=$PWD/.tools/oidc go -C internal/testutil/oidctest/server install ."

// readyTimeout bounds the provider's start.
const readyTimeout = 15 * time.Second

// Client is a client registered with the provider.
type Client struct {
	ID     string
	Secret string // "" for a public client
}

// User is a user registered with the provider. Subject equals Username:
// the example server's device flow puts the login name into sub, so its
// users are given IDs equal to their login names.
type User struct {
	Username      string
	Password      string
	Subject       string
	Email         string
	EmailVerified bool
	Name          string // given and family name, as the provider reports it
}

// Server is a running provider.
type Server struct {
	issuer      string
	redirectURL string
	device      bool
	users       []User
}

// Start runs the provider for the duration of t, or skips t (fails it
// when PALISADE_TEST_REQUIRE lists "oidc") when the binary is missing.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := os.Getenv(EnvServer)
	if bin == "" {
		root, err := moduleRoot()
		if err != nil {
			t.Fatalf("find the module root: %v", err)
		}
		bin = filepath.Join(root, ".tools", "oidc", "server")
	}
	if _, err := os.Stat(bin); err != nil {
		testenv.Missing(t, "oidc", "the test OpenID provider is not at "+bin+": "+installHint+"; or set "+EnvServer)
	}

	s := &Server{redirectURL: "http://127.0.0.1/palisade/callback"}
	s.users = []User{
		{Username: "alice", Subject: "alice", Email: "alice@example.com", EmailVerified: true, Name: "Alice Example"},
		{Username: "bob", Subject: "bob", Email: "bob@example.com", EmailVerified: false, Name: "Bob Example"},
	}
	type storedUser struct {
		ID, Username, Password, FirstName, LastName, Email string
		EmailVerified                                      bool
		PreferredLanguage                                  string
	}
	stored := map[string]storedUser{}
	for i := range s.users {
		u := &s.users[i]
		u.Password = rand.Text()
		first, last, _ := strings.Cut(u.Name, " ")
		stored[u.Subject] = storedUser{
			ID: u.Subject, Username: u.Username, Password: u.Password,
			FirstName: first, LastName: last, Email: u.Email, EmailVerified: u.EmailVerified,
			PreferredLanguage: "en",
		}
	}
	usersFile := filepath.Join(t.TempDir(), "users.json")
	b, err := json.Marshal(stored)
	if err != nil {
		t.Fatalf("encode the provider's users: %v", err)
	}
	if err := os.WriteFile(usersFile, b, 0o600); err != nil {
		t.Fatalf("write the provider's users: %v", err)
	}

	// The port is chosen free and then handed to the process, which may
	// lose it to another one in between: try a few times.
	var lastErr error
	for range 3 {
		if lastErr = s.run(t, bin, usersFile); lastErr == nil {
			return s
		}
	}
	t.Fatalf("start the test OpenID provider %s: %v", bin, lastErr)
	return nil
}

// run starts the provider process on a free port and waits for its
// discovery document.
func (s *Server) run(t testing.TB, bin, usersFile string) error {
	t.Helper()
	port, err := freePort()
	if err != nil {
		return err
	}
	out := &syncBuffer{}
	cmd := exec.Command(bin)
	cmd.Env = []string{
		"PORT=" + strconv.Itoa(port),
		"REDIRECT_URI=" + s.redirectURL,
		"USERS_FILE=" + usersFile,
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	issuer, err := waitReady(t.Context(), port, exited)
	if err != nil {
		stop()
		return fmt.Errorf("%w; its output:\n%s", err, out.String())
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("test OpenID provider output:\n%s", out.String())
		}
	})
	s.issuer = issuer
	s.device, err = probeDevice(t.Context(), issuer, s.DeviceClient())
	if err != nil {
		return err
	}
	return nil
}

// waitReady polls the provider's discovery document until it answers,
// the process exits or the deadline passes, and returns the issuer it
// advertises.
func waitReady(ctx context.Context, port int, exited <-chan struct{}) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	u := fmt.Sprintf("http://127.0.0.1:%d/.well-known/openid-configuration", port)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return "", err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			var doc struct {
				Issuer string `json:"issuer"`
			}
			err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && err == nil && doc.Issuer != "" {
				return doc.Issuer, nil
			}
		}
		select {
		case <-exited:
			return "", errors.New("the provider exited")
		case <-ctx.Done():
			return "", fmt.Errorf("no discovery document at %s: %w", u, ctx.Err())
		case <-tick.C:
		}
	}
}

// probeDevice reports whether the provider lets the device client start a
// device authorization: the upstream example server has no such client.
func probeDevice(ctx context.Context, issuer string, c Client) (bool, error) {
	form := url.Values{"client_id": {c.ID}, "scope": {"openid"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, issuer+"device_authorization", strings.NewReader(form.Encode()))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.ID, c.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, fmt.Errorf("probe the device authorization endpoint: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode == http.StatusOK, nil
}

// Issuer returns the issuer URL the provider advertises,
// http://localhost:<port>/ (with the trailing slash).
func (s *Server) Issuer() string { return s.issuer }

// RedirectURL returns the redirect URI registered for CodeClient and
// PublicClient. Nothing listens there: LoginCode returns the redirect
// instead of following it.
func (s *Server) RedirectURL() string { return s.redirectURL }

// CodeClient returns the confidential client for the authorization code
// flow (client_secret_basic or client_secret_post; PKCE optional but
// checked when used).
func (s *Server) CodeClient() Client { return Client{ID: "web", Secret: "secret"} }

// PublicClient returns the public (native) client for the authorization
// code flow, which must use PKCE.
func (s *Server) PublicClient() Client { return Client{ID: "native"} }

// DeviceClient returns the confidential client for the device
// authorization grant. Only the build in ./server registers it.
func (s *Server) DeviceClient() Client { return Client{ID: "device", Secret: "secret"} }

// DeviceSupported reports whether the running provider lets DeviceClient
// use the device grant (false for the upstream example server).
func (s *Server) DeviceSupported() bool { return s.device }

// RequireDevice skips t (fails it when PALISADE_TEST_REQUIRE lists "oidc")
// unless DeviceSupported.
func (s *Server) RequireDevice(t testing.TB) {
	t.Helper()
	if !s.device {
		testenv.Missing(t, "oidc", "the test OpenID provider has no device-grant client (the upstream example server?): "+installHint)
	}
}

// Users returns the provider's users: alice, whose e-mail is verified,
// then bob, whose e-mail is not.
func (s *Server) Users() []User { return append([]User(nil), s.users...) }

// LoginCode opens authURL (from the client's AuthCodeURL) like a browser,
// logs in as user with password on the provider's login form, and returns
// the redirect to the client's redirect URI, with its code and state (or
// error) parameters, without following it.
func (s *Server) LoginCode(ctx context.Context, authURL, user, password string) (*url.URL, error) {
	b := newBrowser()
	page, err := b.get(ctx, authURL, s.isCallback)
	if err != nil {
		return nil, fmt.Errorf("open the authorization URL: %w", err)
	}
	if page.callback != nil {
		return page.callback, nil // an error redirect, or a session without login
	}
	form, err := parseForm(page)
	if err != nil {
		return nil, fmt.Errorf("login page: %w", err)
	}
	form.values.Set("username", user)
	form.values.Set("password", password)
	page, err = b.post(ctx, form, s.isCallback)
	if err != nil {
		return nil, fmt.Errorf("submit the login form: %w", err)
	}
	if page.callback == nil {
		return nil, fmt.Errorf("login as %q refused: %s", user, pageError(page))
	}
	return page.callback, nil
}

// ApproveDevice logs in as user with password on the provider's
// device-login page for userCode and approves the device.
func (s *Server) ApproveDevice(ctx context.Context, userCode, user, password string) error {
	return s.decideDevice(ctx, userCode, user, password, "allowed")
}

// DenyDevice logs in as user with password on the provider's device-login
// page for userCode and denies the device.
func (s *Server) DenyDevice(ctx context.Context, userCode, user, password string) error {
	return s.decideDevice(ctx, userCode, user, password, "denied")
}

// decideDevice walks the device pages: /device?user_code= shows a login
// form, whose POST to /device/login answers with a confirmation page
// linking ./confirm?action=allowed and ./confirm?action=denied. Errors
// come back as a redirect to /device?prompt=<message>.
func (s *Server) decideDevice(ctx context.Context, userCode, user, password, action string) error {
	b := newBrowser()
	never := func(*url.URL) bool { return false }
	page, err := b.get(ctx, s.issuer+"device?user_code="+url.QueryEscape(userCode), never)
	if err != nil {
		return fmt.Errorf("open the device page: %w", err)
	}
	form, err := parseForm(page)
	if err != nil {
		return fmt.Errorf("device page: %w", err)
	}
	form.values.Set("username", user)
	form.values.Set("password", password)
	page, err = b.post(ctx, form, never)
	if err != nil {
		return fmt.Errorf("submit the device login form: %w", err)
	}
	m := regexp.MustCompile(`location\.href='([^']*action=` + regexp.QuoteMeta(action) + `)'`).FindSubmatch(page.body)
	if m == nil {
		return fmt.Errorf("device login as %q refused: %s", user, pageError(page))
	}
	confirm, err := page.url.Parse(html.UnescapeString(string(m[1])))
	if err != nil {
		return fmt.Errorf("confirmation link: %w", err)
	}
	page, err = b.get(ctx, confirm.String(), never)
	if err != nil {
		return fmt.Errorf("confirm the device: %w", err)
	}
	if !bytes.Contains(page.body, []byte("Device authorization "+action)) {
		return fmt.Errorf("confirm the device: %s", pageError(page))
	}
	return nil
}

// isCallback reports whether u is the client's redirect URI.
func (s *Server) isCallback(u *url.URL) bool {
	r, err := url.Parse(s.redirectURL)
	return err == nil && u.Scheme == r.Scheme && u.Host == r.Host && u.Path == r.Path
}

// browser is a cookie-keeping HTTP client that follows redirects itself.
type browser struct{ c *http.Client }

func newBrowser() *browser {
	jar, _ := cookiejar.New(nil) // never fails without options
	return &browser{c: &http.Client{
		Jar:           jar,
		Timeout:       readyTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is where a browser walk ended: a page with its final URL, or the
// redirect to the client's callback.
type page struct {
	url      *url.URL
	status   int
	body     []byte
	callback *url.URL
}

func (b *browser) get(ctx context.Context, u string, stop func(*url.URL) bool) (page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return page{}, err
	}
	return b.walk(req, stop)
}

func (b *browser) post(ctx context.Context, f form, stop func(*url.URL) bool) (page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.action.String(), strings.NewReader(f.values.Encode()))
	if err != nil {
		return page{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.walk(req, stop)
}

// walk sends req and follows redirects with GET until a page that is not
// a redirect, or a redirect for which stop is true.
func (b *browser) walk(req *http.Request, stop func(*url.URL) bool) (page, error) {
	for range 10 {
		resp, err := b.c.Do(req)
		if err != nil {
			return page{}, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return page{}, err
		}
		loc, err := resp.Location()
		switch {
		case errors.Is(err, http.ErrNoLocation):
			return page{url: req.URL, status: resp.StatusCode, body: body}, nil
		case err != nil:
			return page{}, err
		case stop(loc):
			return page{url: req.URL, status: resp.StatusCode, callback: loc}, nil
		}
		if req, err = http.NewRequestWithContext(req.Context(), http.MethodGet, loc.String(), nil); err != nil {
			return page{}, err
		}
	}
	return page{}, errors.New("too many redirects")
}

// form is an HTML form to submit.
type form struct {
	action *url.URL
	values url.Values
}

var (
	formAction  = regexp.MustCompile(`(?i)<form[^>]*\saction="([^"]*)"`)
	hiddenInput = regexp.MustCompile(`(?i)<input\s+type="hidden"\s+name="([^"]*)"\s+value="([^"]*)"`)
	errorPara   = regexp.MustCompile(`(?s)<p style="color:red[^"]*">(.*?)</p>`)
)

// parseForm finds the form on p (the example server's pages have one) and
// its hidden inputs.
func parseForm(p page) (form, error) {
	if p.status != http.StatusOK {
		return form{}, fmt.Errorf("unexpected page: %s", pageError(p))
	}
	m := formAction.FindSubmatch(p.body)
	if m == nil {
		return form{}, fmt.Errorf("no form on %s: %s", p.url, pageError(p))
	}
	action, err := p.url.Parse(html.UnescapeString(string(m[1])))
	if err != nil {
		return form{}, fmt.Errorf("form action: %w", err)
	}
	f := form{action: action, values: url.Values{}}
	for _, h := range hiddenInput.FindAllSubmatch(p.body, -1) {
		f.values.Set(html.UnescapeString(string(h[1])), html.UnescapeString(string(h[2])))
	}
	return f, nil
}

// pageError describes why p is not what was expected: the example
// server's red error paragraph, an error prompt in the URL, or the start
// of the body.
func pageError(p page) string {
	if m := errorPara.FindSubmatch(p.body); m != nil && len(bytes.TrimSpace(m[1])) > 0 {
		return html.UnescapeString(string(bytes.TrimSpace(m[1])))
	}
	if prompt := p.url.Query().Get("prompt"); prompt != "" {
		if u, err := url.QueryUnescape(prompt); err == nil {
			prompt = u
		}
		return prompt
	}
	body := p.body
	if len(body) > 200 {
		body = body[:200]
	}
	return fmt.Sprintf("status %d, body %q", p.status, body)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// moduleRoot returns the directory of the go.mod above the working
// directory (a test's package directory).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// syncBuffer collects a process's output from two goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 4<<20 {
		return len(p), nil // keep the start; the tests need no more
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
