package auth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/access"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
	"github.com/palisade-sec/palisade/internal/testutil"
)

const (
	adminSecret    = "pal_test-admin-00000000000000000000000000000000"
	roSecret       = "pal_test-readonly-0000000000000000000000000000"
	revokedSecret  = "pal_test-revoked-00000000000000000000000000000"
	devSecret      = "pal_test-developer-000000000000000000000000000"
	devReadSecret  = "pal_test-dev-reader-00000000000000000000000000"
	expiredSecret  = "pal_test-expired-00000000000000000000000000000"
	disabledSecret = "pal_test-disabled-0000000000000000000000000000"
)

// roleOf names what a test principal may do: "admin", "read-only"
// (reader on every project), or the permissions it holds in project a.
func roleOf(p Principal) string {
	switch {
	case p.Principal == nil:
		return ""
	case p.Principal.Admin:
		return "admin"
	case p.AllProjects == access.Reader.Perms():
		return "read-only"
	}
	return p.PermsIn("a").String()
}

// newTestAuth returns an Authenticator over a real SQLite store holding
// an admin, a read-only and a revoked token, and the clock it reads.
func newTestAuth(t testing.TB) (*Authenticator, store.Store, *testutil.Clock) {
	t.Helper()
	ctx := context.Background()
	clk := testutil.NewClock(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	st, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(t.TempDir(), "auth.db"), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	for _, p := range []store.Principal{
		{ID: "root", Name: "root", Kind: store.KindUser, Admin: true, Clearance: store.Restricted},
		{ID: "dev", Name: "dev", Kind: store.KindUser, Clearance: store.Internal},
		{ID: "gone", Name: "gone", Kind: store.KindUser, Clearance: store.Internal, Disabled: clk.Now()},
	} {
		if _, err := st.CreatePrincipal(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.CreateProject(ctx, store.Project{Name: "a", KeyID: "k"}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetMember(ctx, store.Member{Project: "a", PrincipalID: "dev", Role: "developer", Source: "manual"}); err != nil {
		t.Fatal(err)
	}
	for _, tk := range []struct {
		id, secret, owner, scope string
		expires                  time.Time
	}{
		{"admin", adminSecret, "root", "", time.Time{}},
		{"ro", roSecret, "root", "*:reader", time.Time{}},
		{"revoked", revokedSecret, "root", "", time.Time{}},
		{"dev", devSecret, "dev", "", clk.Now().Add(time.Hour)},
		{"dev-read", devReadSecret, "dev", "a:reader,b:owner", time.Time{}},
		{"expired", expiredSecret, "dev", "", clk.Now()},
		{"disabled", disabledSecret, "gone", "", time.Time{}},
	} {
		if _, err := st.CreateToken(ctx, store.Token{ID: tk.id, Name: tk.id, PrincipalID: tk.owner, Scope: tk.scope, Expires: tk.expires, Hash: sha256.Sum256([]byte(tk.secret))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.RevokeToken(ctx, "revoked"); err != nil {
		t.Fatal(err)
	}
	return New(Options{Store: st, Now: clk.Now}), st, clk
}

func request(authz string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/v2/", nil)
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	return r
}

func basicAuth(user, pass string) string {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth(user, pass)
	return r.Header.Get("Authorization")
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	a, _, _ := newTestAuth(t)
	tests := []struct {
		name    string
		authz   string
		wantID  string
		role    string
		wantErr error
	}{
		{"bearer admin", "Bearer " + adminSecret, "admin", "admin", nil},
		{"bearer read-only", "Bearer " + roSecret, "ro", "read-only", nil},
		{"bearer extra spaces", "Bearer   " + adminSecret + " ", "admin", "admin", nil},
		{"basic", basicAuth("robot", adminSecret), "admin", "admin", nil},
		{"basic no user", basicAuth("", roSecret), "ro", "read-only", nil},
		{"developer until its expiry", "Bearer " + devSecret, "dev", access.Developer.Perms().String(), nil},
		{"scoped below its owner", "Bearer " + devReadSecret, "dev-read", access.Reader.Perms().String(), nil},
		{"expired", "Bearer " + expiredSecret, "", "", ErrBadCredentials},
		{"disabled owner", basicAuth("gone", disabledSecret), "", "", ErrBadCredentials},
		{"none", "", "", "", ErrNoCredentials},
		{"unknown", "Bearer pal_unknown", "", "", ErrBadCredentials},
		{"revoked", "Bearer " + revokedSecret, "", "", ErrBadCredentials},
		{"revoked basic", basicAuth("u", revokedSecret), "", "", ErrBadCredentials},
		{"empty bearer", "Bearer ", "", "", ErrBadCredentials},
		{"empty basic password", basicAuth("u", ""), "", "", ErrBadCredentials},
		{"no scheme", adminSecret, "", "", ErrBadCredentials},
		{"other scheme", "Token " + adminSecret, "", "", ErrBadCredentials},
		{"too long", "Bearer " + strings.Repeat("a", maxTokenLen+1), "", "", ErrBadCredentials},
		{"too long session", "Bearer " + SessionTokenPrefix + strings.Repeat("a", maxTokenLen), "", "", ErrBadCredentials},
		{"unknown session", "Bearer " + SessionTokenPrefix + "nope", "", "", ErrBadCredentials},
		{"session token as basic password", basicAuth("u", SessionTokenPrefix+"nope"), "", "", ErrBadCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := a.Authenticate(request(tt.authz))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Authenticate error = %v, want %v", err, tt.wantErr)
			}
			id := ""
			if p.Principal != nil {
				id = p.TokenID
			}
			if id != tt.wantID || roleOf(p) != tt.role || p.session {
				t.Errorf("Authenticate = %+v, want %s %s", p, tt.wantID, tt.role)
			}
		})
	}
}

func TestScopeCovers(t *testing.T) {
	t.Parallel()
	scoped := []Scope{{Repository: "a/x", Actions: []Action{ActionPull, ActionPush}}}
	api := Principal{Principal: &access.Principal{Admin: true}}
	session := Principal{Principal: &access.Principal{Admin: true}, scopes: scoped, session: true}
	tests := []struct {
		name   string
		p      Principal
		action Action
		repo   string
		want   bool
	}{
		{"API token", api, ActionDelete, "b/y", true},
		{"session in scope", session, ActionPush, "a/x", true},
		{"session other action", session, ActionDelete, "a/x", false},
		{"session other repo", session, ActionPull, "a/y", false},
		{"session sub-repo", session, ActionPull, "a/x/y", false},
		{"session no scopes", Principal{Principal: &access.Principal{}, session: true}, ActionPull, "a/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.ScopeCovers(tt.action, tt.repo); got != tt.want {
				t.Errorf("ScopeCovers(%s, %s) = %v, want %v", tt.action, tt.repo, got, tt.want)
			}
		})
	}
	dev := &access.Principal{Projects: map[string]access.Perm{"a": access.Developer.Perms(), "d": access.Deployer.Perms()}}
	for _, tc := range []struct {
		action  Action
		project string
		want    bool
	}{
		{ActionPull, "a", true}, {ActionPush, "a", true}, {ActionDelete, "a", false},
		{ActionPull, "b", false}, {ActionPull, "d", true}, {ActionPush, "d", false},
	} {
		if got := MayHold(dev, tc.action, tc.project); got != tc.want {
			t.Errorf("MayHold(%s, %s) = %v, want %v", tc.action, tc.project, got, tc.want)
		}
	}
}

func TestIssue(t *testing.T) {
	t.Parallel()
	a, _, clk := newTestAuth(t)
	ctx := context.Background()
	pAdmin, err := a.Authenticate(request("Bearer " + adminSecret))
	if err != nil {
		t.Fatal(err)
	}
	pRO, err := a.Authenticate(request("Bearer " + roSecret))
	if err != nil {
		t.Fatal(err)
	}
	all := []Action{ActionPull, ActionPush, ActionDelete}
	requested := []Scope{{"a/x", all}, {"b/y", []Action{ActionPush}}}
	tests := []struct {
		name string
		p    Principal
		want []Scope
	}{
		{"admin gets what it asks", pAdmin, requested},
		{"read-only gets pull only", pRO, []Scope{{"a/x", []Action{ActionPull}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, exp, err := a.Issue(ctx, tt.p, requested)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(tok, SessionTokenPrefix) || len(tok) != len(SessionTokenPrefix)+43 {
				t.Errorf("token %q", tok)
			}
			if want := clk.Now().Add(SessionTTL); !exp.Equal(want) {
				t.Errorf("expires %v, want %v", exp, want)
			}
			p, err := a.Authenticate(request("Bearer " + tok))
			if err != nil {
				t.Fatal(err)
			}
			if !p.session || p.TokenID != tt.p.TokenID || roleOf(p) != roleOf(tt.p) {
				t.Errorf("session principal %+v", p)
			}
			if diff := cmp.Diff(p.scopes, tt.want); diff != "" {
				t.Errorf("granted scopes (-got +want):\n%s", diff)
			}
			// A session principal cannot widen its scopes by issuing.
			tok2, _, err := a.Issue(ctx, p, []Scope{{"c/z", all}, {"a/x", all}})
			if err != nil {
				t.Fatal(err)
			}
			p2, err := a.Authenticate(request("Bearer " + tok2))
			if err != nil {
				t.Fatal(err)
			}
			if p2.ScopeCovers(ActionPull, "c/z") {
				t.Error("a session token issued from a session token gained a scope")
			}
		})
	}
}

func TestSessionTokenExpires(t *testing.T) {
	t.Parallel()
	a, st, clk := newTestAuth(t)
	ctx := context.Background()
	p, err := a.Authenticate(request(basicAuth("u", adminSecret)))
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.Issue(ctx, p, []Scope{{"a/x", []Action{ActionPull}}})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(SessionTTL - time.Second)
	if _, err := a.Authenticate(request("Bearer " + tok)); err != nil {
		t.Fatalf("just before expiry: %v", err)
	}
	clk.Advance(2 * time.Second)
	if _, err := a.Authenticate(request("Bearer " + tok)); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("after expiry: %v, want ErrBadCredentials", err)
	}
	if n, err := st.DeleteExpiredSessionTokens(ctx, clk.Now()); err != nil || n != 1 {
		t.Errorf("DeleteExpiredSessionTokens = %d, %v; want 1", n, err)
	}
}

func TestSessionTokenRevoked(t *testing.T) {
	t.Parallel()
	a, st, _ := newTestAuth(t)
	ctx := context.Background()
	p, err := a.Authenticate(request("Bearer " + adminSecret))
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.Issue(ctx, p, []Scope{{"a/x", []Action{ActionPull}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.RevokeToken(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(request("Bearer " + tok)); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("session token of a revoked API token: %v, want ErrBadCredentials", err)
	}
}

func TestTouchThrottled(t *testing.T) {
	t.Parallel()
	a, st, clk := newTestAuth(t)
	lastUsed := func() time.Time {
		t.Helper()
		tk, err := st.TokenByHash(context.Background(), sha256.Sum256([]byte(adminSecret)))
		if err != nil {
			t.Fatal(err)
		}
		return tk.LastUsed
	}
	t0 := clk.Now()
	auth := func() {
		t.Helper()
		if _, err := a.Authenticate(request("Bearer " + adminSecret)); err != nil {
			t.Fatal(err)
		}
	}
	auth()
	if got := lastUsed(); !got.Equal(t0) {
		t.Fatalf("LastUsed after first use = %v, want %v", got, t0)
	}
	clk.Advance(30 * time.Second)
	auth()
	if got := lastUsed(); !got.Equal(t0) {
		t.Errorf("LastUsed within a minute = %v, want unchanged %v", got, t0)
	}
	clk.Advance(time.Minute)
	auth()
	if got := lastUsed(); !got.Equal(clk.Now()) {
		t.Errorf("LastUsed after a minute = %v, want %v", got, clk.Now())
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestIssueRandomFailure(t *testing.T) {
	t.Parallel()
	_, st, _ := newTestAuth(t)
	a := New(Options{Store: st, Rand: failingReader{}})
	if _, _, err := a.Issue(context.Background(), Principal{Principal: &access.Principal{TokenID: "admin", Admin: true}}, nil); err == nil {
		t.Error("Issue succeeded without randomness")
	}
}

// brokenStore fails token lookups as a database would.
type brokenStore struct{ Store }

var errDatabase = errors.New("database is on fire: dsn=postgres://user:hunter2@db")

func (brokenStore) CredentialByHash(context.Context, [sha256.Size]byte) (store.Credential, error) {
	return store.Credential{}, errDatabase
}

func TestStoreFailureIsNotBadCredentials(t *testing.T) {
	t.Parallel()
	_, st, _ := newTestAuth(t)
	a := New(Options{Store: brokenStore{st}})
	_, err := a.Authenticate(request("Bearer " + adminSecret))
	if !errors.Is(err, errDatabase) || errors.Is(err, ErrBadCredentials) {
		t.Errorf("Authenticate = %v, want the store's error", err)
	}
	rec := httptest.NewRecorder()
	a.TokenHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v2/token?scope=repository:a/x:pull", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("no credentials: %d, want 401", rec.Code)
	}
	req := httptest.NewRequest(http.MethodGet, "/v2/token?scope=repository:a/x:pull", nil)
	req.SetBasicAuth("u", adminSecret)
	rec = httptest.NewRecorder()
	a.TokenHandler().ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "hunter2") {
		t.Errorf("store failure: %d %s, want 500 without details", rec.Code, rec.Body.String())
	}
}

func TestTokenHandler(t *testing.T) {
	t.Parallel()
	a, _, clk := newTestAuth(t)
	serve := func(r *http.Request) (*httptest.ResponseRecorder, map[string]any) {
		rec := httptest.NewRecorder()
		a.TokenHandler().ServeHTTP(rec, r)
		var body map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		return rec, body
	}
	q := url.Values{"service": {"palisade"}, "scope": {"repository:a/x:pull,push", "registry:catalog:*"}}
	r := httptest.NewRequest(http.MethodGet, "/v2/token?"+q.Encode(), nil)
	r.SetBasicAuth("robot", roSecret)
	rec, body := serve(r)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET: %d %s", rec.Code, rec.Body)
	}
	if body["expires_in"] != float64(300) || body["issued_at"] != clk.Now().Format(time.RFC3339) || body["token"] != body["access_token"] {
		t.Errorf("GET: %s", rec.Body)
	}
	p, err := a.Authenticate(request("Bearer " + body["token"].(string)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p.scopes, []Scope{{"a/x", []Action{ActionPull}}}); diff != "" {
		t.Errorf("granted (-got +want):\n%s", diff)
	}
	// The session token is not exchanged for another.
	r = httptest.NewRequest(http.MethodGet, "/v2/token?"+q.Encode(), nil)
	r.Header.Set("Authorization", "Bearer "+body["token"].(string))
	if rec, _ := serve(r); rec.Code != http.StatusUnauthorized {
		t.Errorf("session token at the token endpoint: %d, want 401", rec.Code)
	}
	// POST with the password grant.
	form := url.Values{"grant_type": {"password"}, "password": {adminSecret}, "scope": {"repository:a/x:push repository:b/y:delete"}}
	r = httptest.NewRequest(http.MethodPost, "/v2/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec, body = serve(r)
	if rec.Code != http.StatusOK {
		t.Fatalf("POST: %d %s", rec.Code, rec.Body)
	}
	p, err = a.Authenticate(request("Bearer " + body["access_token"].(string)))
	if err != nil {
		t.Fatal(err)
	}
	if !p.ScopeCovers(ActionPush, "a/x") || !p.ScopeCovers(ActionDelete, "b/y") || p.ScopeCovers(ActionPull, "a/x") {
		t.Errorf("POST scopes %v", p.scopes)
	}
	// A form that cannot be read.
	r = httptest.NewRequest(http.MethodPost, "/v2/token", io.NopCloser(strings.NewReader("%zz")))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if rec, _ := serve(r); rec.Code != http.StatusBadRequest {
		t.Errorf("bad form: %d, want 400", rec.Code)
	}
}

// TestWaitErrorAgreesWithRetryAfter: the message names the wait the
// Retry-After header gives, never less than a second.
func TestWaitErrorAgreesWithRetryAfter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		wait   time.Duration
		locked bool
		want   string
		header string
	}{
		{300 * time.Millisecond, false, "too many requests: try again in 1s", "1"},
		{0, false, "too many requests: try again in 1s", "1"},
		{2500 * time.Millisecond, false, "too many requests: try again in 3s", "3"},
		{10 * time.Minute, true, "too many failed attempts: try again in 10m0s", "600"},
	} {
		e := &WaitError{Locked: tc.locked, RetryAfter: tc.wait}
		if e.Error() != tc.want || RetryAfter(tc.wait) != tc.header {
			t.Errorf("wait %s: %q with Retry-After %s, want %q with %s", tc.wait, e.Error(), RetryAfter(tc.wait), tc.want, tc.header)
		}
	}
}
