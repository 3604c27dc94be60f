package sso

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/access"
	"github.com/palisade-sec/palisade/internal/oidc"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
	"github.com/palisade-sec/palisade/internal/testutil"
	"github.com/palisade-sec/palisade/internal/testutil/oidctest"
)

// t0 is the injected clock's start: whole seconds, so that the store's
// microsecond timestamps read back equal.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

const issuer = "https://idp.example.com"

// lockedRand is a deterministic random source that is safe for the
// concurrent use the Service makes of it.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.ChaCha8
}

func (l *lockedRand) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// env is a Service on a fresh SQLite store that shares its clock.
type env struct {
	svc *Service
	st  *sqlite.Store
	clk *testutil.Clock
}

// newEnv opens a temp SQLite store with projects ml, web and ops, and a
// Service with cfg, the injected clock and a seeded random source.
func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	return newEnvStore(t, cfg, func(st *sqlite.Store) Store { return st })
}

// newEnvStore is newEnv with the Service's store wrapped by wrap.
func newEnvStore(t *testing.T, cfg Config, wrap func(*sqlite.Store) Store) *env {
	t.Helper()
	clk := testutil.NewClock(t0)
	st, err := sqlite.Open(t.Context(), sqlite.Options{Path: filepath.Join(t.TempDir(), "meta.db"), Now: clk.Now})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	for _, p := range []string{"ml", "web", "ops"} {
		if _, err := st.CreateProject(t.Context(), store.Project{Name: p, KeyID: "local:kek.key"}); err != nil {
			t.Fatalf("CreateProject(%s): %v", p, err)
		}
	}
	var seed [32]byte
	copy(seed[:], "palisade internal/sso unit tests")
	rnd := &lockedRand{r: rand.NewChaCha8(seed)}
	svc := New(cfg, wrap(st), Options{Now: clk.Now, Rand: rnd})
	return &env{svc: svc, st: st, clk: clk}
}

// ident returns an identity of the test issuer.
func ident(subject, username, email string, verified bool, groups ...string) oidc.Identity {
	return oidc.Identity{Issuer: issuer, Subject: subject, Username: username, Email: email, EmailVerified: verified, Groups: groups}
}

// roles returns the principal's memberships as project -> "role/source".
func roles(t *testing.T, st store.Store, principalID string) map[string]string {
	t.Helper()
	ms, err := st.MembershipsOf(t.Context(), principalID)
	if err != nil {
		t.Fatalf("MembershipsOf: %v", err)
	}
	out := map[string]string{}
	for _, m := range ms {
		out[m.Project] = m.Role + "/" + m.Source
	}
	return out
}

func TestUserName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		id   oidc.Identity
		want string
	}{
		{"preferred username", ident("s", "alice", "other@example.com", true), "alice"},
		{"e-mail local part", ident("s", "", "Bob.Smith@example.com", true), "bob.smith"},
		{"unverified e-mail still names", ident("s", "", "carol@example.com", false), "carol"},
		{"e-mail without at", ident("s", "", "frank", false), "frank"},
		{"lower-cased", ident("s", "Alice", "", false), "alice"},
		{"runs become one dash", ident("s", "Alice Smith (Ops)!", "", false), "alice-smith-ops"},
		{"plus address", ident("s", "", "dave+ci@example.com", true), "dave-ci"},
		{"non-ASCII", ident("s", "Jürgen", "", false), "j-rgen"},
		{"allowed punctuation kept", ident("s", "a.b_c-d", "", false), "a.b_c-d"},
		{"edges trimmed", ident("s", "..-_carol_-..", "", false), "carol"},
		{"long truncated", ident("s", strings.Repeat("x", 60), "", false), strings.Repeat("x", 48)},
		{"exactly 48 kept", ident("s", strings.Repeat("y", 48), "", false), strings.Repeat("y", 48)},
		{"only symbols", ident("s", "!!!", "", false), "user"},
		{"no local part", ident("s", "", "@example.com", true), "user"},
		{"nothing", ident("s", "", "", false), "user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := userName(tt.id); got != tt.want {
				t.Errorf("userName(%q, %q) = %q, want %q", tt.id.Username, tt.id.Email, got, tt.want)
			}
		})
	}
}

// TestUserNameTruncationLeavesNoSeparator: a long name is cut to 48
// bytes before separators are trimmed from its ends, so a cut after a
// '-', '.' or '_' never leaves a name ending in one (which the API's
// user-name grammar refuses).
func TestUserNameTruncationLeavesNoSeparator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		username string
	}{
		{"dot", strings.Repeat("a", 47) + ".b"},
		{"dash from a space", strings.Repeat("a", 47) + " bob"},
		{"underscore", strings.Repeat("a", 47) + "_c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := userName(ident("s", tt.username, "", false))
			if len(got) > 48 || strings.HasSuffix(got, "-") || strings.HasSuffix(got, ".") || strings.HasSuffix(got, "_") {
				t.Errorf("userName(%q) = %q, want at most 48 bytes not ending in '-', '.' or '_'", tt.username, got)
			}
		})
	}
}

func TestUserFirstLogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		clearance     store.Classification
		id            oidc.Identity
		wantName      string
		wantClearance store.Classification
		wantEmail     string
	}{
		{"verified e-mail kept", store.Confidential, ident("sub-a", "alice", "alice@example.com", true), "alice", store.Confidential, "alice@example.com"},
		{"unverified e-mail dropped", store.Restricted, ident("sub-b", "bob", "bob@example.com", false), "bob", store.Restricted, ""},
		{"default clearance internal", "", ident("sub-c", "", "carol@example.com", true), "carol", store.Internal, "carol@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Config{DefaultClearance: tt.clearance})
			got, created, err := e.svc.user(t.Context(), tt.id)
			if err != nil || !created {
				t.Fatalf("first user() = %+v, created %v, %v; want created", got, created, err)
			}
			want := store.Principal{ID: got.ID, Name: tt.wantName, Kind: store.KindUser, Clearance: tt.wantClearance,
				Email: tt.wantEmail, OIDCIssuer: issuer, OIDCSubject: tt.id.Subject, Created: t0}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("created user (-got +want):\n%s", diff)
			}
			stored, err := e.st.PrincipalByName(t.Context(), tt.wantName)
			if err != nil {
				t.Fatalf("PrincipalByName: %v", err)
			}
			if diff := cmp.Diff(stored, want); diff != "" {
				t.Errorf("stored user (-got +want):\n%s", diff)
			}

			again, created, err := e.svc.user(t.Context(), tt.id)
			if err != nil || created || again.ID != got.ID {
				t.Errorf("second user() = %+v, created %v, %v; want the same user %s, not created", again, created, err, got.ID)
			}
			if ps, err := e.st.ListPrincipals(t.Context()); err != nil || len(ps) != 1 {
				t.Errorf("principals after two logins: %d, %v; want 1", len(ps), err)
			}
		})
	}
}

// TestUserEmailUpdate: a later login takes a changed e-mail only when the
// provider verified it.
func TestUserEmailUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	ctx := t.Context()
	u, _, err := e.svc.user(ctx, ident("sub", "alice", "alice@old.example", true))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.user(ctx, ident("sub", "alice", "mallory@evil.example", false)); err != nil {
		t.Fatal(err)
	}
	if p, _ := e.st.Principal(ctx, u.ID); p.Email != "alice@old.example" {
		t.Errorf("e-mail after an unverified change = %q, want alice@old.example", p.Email)
	}
	got, _, err := e.svc.user(ctx, ident("sub", "alice", "alice@new.example", true))
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := e.st.Principal(ctx, u.ID); p.Email != "alice@new.example" || got.Email != "alice@new.example" {
		t.Errorf("e-mail after a verified change: stored %q, returned %q; want alice@new.example", p.Email, got.Email)
	}
}

// TestUserNameClash: a user name taken by a local user gets a suffix, and
// the identity never takes over the local user.
func TestUserNameClash(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	ctx := t.Context()
	local := store.Principal{ID: "p-local", Name: "alice", Kind: store.KindUser, Admin: true, Clearance: store.Restricted, Email: "alice@example.com"}
	local, err := e.st.CreatePrincipal(ctx, local)
	if err != nil {
		t.Fatal(err)
	}
	id := ident("sub-alice", "alice", "alice@example.com", true)
	u, created, err := e.svc.user(ctx, id)
	if err != nil || !created {
		t.Fatalf("user() = %+v, %v, %v", u, created, err)
	}
	if u.Name != "alice-2" || u.ID == local.ID || u.Admin || u.Clearance != store.Internal {
		t.Errorf("SSO user = %+v, want a new non-admin internal user alice-2", u)
	}
	got, err := e.st.Principal(ctx, local.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, local); diff != "" {
		t.Errorf("local user changed (-got +want):\n%s", diff)
	}
	again, created, err := e.svc.user(ctx, id)
	if err != nil || created || again.ID != u.ID || again.Name != "alice-2" {
		t.Errorf("second user() = %+v, %v, %v; want alice-2 again", again, created, err)
	}

	// With alice-2 taken too, another identity named alice gets alice-3.
	other, _, err := e.svc.user(ctx, ident("sub-other", "Alice", "", false))
	if err != nil || other.Name != "alice-3" {
		t.Errorf("third alice = %+v, %v; want alice-3", other, err)
	}
}

// missBarrier is the store with lookups by identity that, when they find
// nothing, wait until n of them have found nothing: n concurrent first
// logins all get past their first lookup before any creates the user.
type missBarrier struct {
	*sqlite.Store
	n      int
	mu     sync.Mutex
	missed int
	all    chan struct{}
}

func (b *missBarrier) PrincipalByOIDC(ctx context.Context, iss, sub string) (store.Principal, error) {
	p, err := b.Store.PrincipalByOIDC(ctx, iss, sub)
	if errors.Is(err, store.ErrNotFound) {
		b.mu.Lock()
		b.missed++
		if b.missed == b.n {
			close(b.all)
		}
		b.mu.Unlock()
		select {
		case <-b.all:
		case <-ctx.Done():
		}
	}
	return p, err
}

// TestUserConcurrentFirstLogin: concurrent first logins of one identity
// make one user, created by exactly one of them.
func TestUserConcurrentFirstLogin(t *testing.T) {
	t.Parallel()
	const n = 8
	e := newEnvStore(t, Config{}, func(st *sqlite.Store) Store {
		return &missBarrier{Store: st, n: n, all: make(chan struct{})}
	})
	id := ident("sub-alice", "alice", "alice@example.com", true)
	type result struct {
		u       store.Principal
		created bool
		err     error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			u, created, err := e.svc.user(t.Context(), id)
			results[i] = result{u, created, err}
		})
	}
	close(start)
	wg.Wait()
	creators := 0
	for i, r := range results {
		if r.err != nil {
			t.Errorf("login %d: %v", i, r.err)
			continue
		}
		if r.created {
			creators++
		}
		if r.u.ID != results[0].u.ID || r.u.Name != "alice" {
			t.Errorf("login %d got user %s %q, want %s \"alice\"", i, r.u.ID, r.u.Name, results[0].u.ID)
		}
	}
	if creators != 1 {
		t.Errorf("%d logins report creating the user, want 1", creators)
	}
	if ps, err := e.st.ListPrincipals(t.Context()); err != nil || len(ps) != 1 {
		t.Errorf("principals: %+v, %v; want one", ps, err)
	}
}

func TestApplyGroups(t *testing.T) {
	t.Parallel()
	groups := map[string][]Grant{
		"dev":     {{Project: "ml", Role: access.Developer}},
		"leads":   {{Project: "ml", Role: access.Maintainer}},
		"readers": {{Project: "ml", Role: access.Reader}, {Project: "web", Role: access.Reader}},
		"web":     {{Project: "web", Role: access.Developer}},
		"stale":   {{Project: "gone", Role: access.Owner}, {Project: "ops", Role: access.Auditor}},
	}
	// step is one login's groups, the roles expected after it and the
	// changes it reports ("set PROJECT ROLE", "removed PROJECT").
	type step struct {
		groups  []string
		want    map[string]string
		changes string
	}
	tests := []struct {
		name   string
		manual map[string]access.Role // set by hand before the first step
		steps  []step
	}{
		{"most privileged wins", nil, []step{
			{[]string{"dev", "leads", "readers"}, map[string]string{"ml": "maintainer/oidc", "web": "reader/oidc"}, "set ml maintainer, set web reader"},
			{[]string{"readers", "leads", "dev"}, map[string]string{"ml": "maintainer/oidc", "web": "reader/oidc"}, ""},
			{[]string{"readers", "web"}, map[string]string{"ml": "reader/oidc", "web": "developer/oidc"}, "set ml reader, set web developer"},
		}},
		{"group removed", nil, []step{
			{[]string{"dev", "web"}, map[string]string{"ml": "developer/oidc", "web": "developer/oidc"}, "set ml developer, set web developer"},
			{[]string{"dev"}, map[string]string{"ml": "developer/oidc"}, "removed web"},
			{nil, map[string]string{}, "removed ml"},
		}},
		{"role follows the group", nil, []step{
			{[]string{"leads"}, map[string]string{"ml": "maintainer/oidc"}, "set ml maintainer"},
			{[]string{"dev"}, map[string]string{"ml": "developer/oidc"}, "set ml developer"},
		}},
		{"manual role kept", map[string]access.Role{"ml": access.Reader, "ops": access.Owner}, []step{
			{[]string{"leads", "web"}, map[string]string{"ml": "reader/manual", "ops": "owner/manual", "web": "developer/oidc"}, "set web developer"},
			{nil, map[string]string{"ml": "reader/manual", "ops": "owner/manual"}, "removed web"},
		}},
		{"unknown project skipped", nil, []step{
			{[]string{"stale", "dev"}, map[string]string{"ml": "developer/oidc", "ops": "auditor/oidc"}, "set ml developer, set ops auditor"},
		}},
		{"unmapped groups ignored", nil, []step{
			{[]string{"nobody", "everyone"}, map[string]string{}, ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Config{Groups: groups})
			ctx := t.Context()
			u, _, err := e.svc.user(ctx, ident("sub", "alice", "", false))
			if err != nil {
				t.Fatal(err)
			}
			for project, role := range tt.manual {
				if err := e.st.SetMember(ctx, store.Member{Project: project, PrincipalID: u.ID, Role: string(role), Source: "manual"}); err != nil {
					t.Fatal(err)
				}
			}
			for i, s := range tt.steps {
				changes, err := e.svc.applyGroups(ctx, &u, s.groups)
				if err != nil {
					t.Fatalf("step %d: applyGroups(%v): %v", i, s.groups, err)
				}
				if diff := cmp.Diff(roles(t, e.st, u.ID), s.want); diff != "" {
					t.Errorf("step %d: roles after groups %v (-got +want):\n%s", i, s.groups, diff)
				}
				var got []string
				for _, c := range changes {
					switch c.Kind {
					case MemberSet:
						got = append(got, "set "+c.Project+" "+string(c.Role))
					case MemberRemoved:
						got = append(got, "removed "+c.Project)
					default:
						got = append(got, string(c.Kind))
					}
				}
				if strings.Join(got, ", ") != s.changes {
					t.Errorf("step %d: changes after groups %v: %q, want %q", i, s.groups, strings.Join(got, ", "), s.changes)
				}
			}
		})
	}
}

func TestApplyGroupsAdmin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		adminGroups []string
		wasAdmin    bool
		groups      []string
		wantAdmin   bool
		change      ChangeKind // "" for none
	}{
		{"member becomes admin", []string{"admins", "root"}, false, []string{"dev", "root"}, true, AdminGranted},
		{"admin stays admin", []string{"admins"}, true, []string{"admins"}, true, ""},
		{"leaving revokes", []string{"admins"}, true, []string{"dev"}, false, AdminRevoked},
		{"no groups revokes", []string{"admins"}, true, nil, false, AdminRevoked},
		{"non-member stays non-admin", []string{"admins"}, false, []string{"dev"}, false, ""},
		{"no admin groups keep admin", nil, true, nil, true, ""},
		{"no admin groups grant nothing", nil, false, []string{"admins"}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Config{AdminGroups: tt.adminGroups})
			ctx := t.Context()
			u, _, err := e.svc.user(ctx, ident("sub", "alice", "", false))
			if err != nil {
				t.Fatal(err)
			}
			u.Admin = tt.wasAdmin
			if err := e.st.UpdatePrincipal(ctx, u); err != nil {
				t.Fatal(err)
			}
			changes, err := e.svc.applyGroups(ctx, &u, tt.groups)
			if err != nil {
				t.Fatalf("applyGroups: %v", err)
			}
			var kinds []ChangeKind
			for _, c := range changes {
				kinds = append(kinds, c.Kind)
			}
			if want := []ChangeKind{tt.change}; tt.change == "" && len(kinds) != 0 || tt.change != "" && !slices.Equal(kinds, want) {
				t.Errorf("changes %v, want %q", kinds, tt.change)
			}
			stored, err := e.st.Principal(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if u.Admin != tt.wantAdmin || stored.Admin != tt.wantAdmin {
				t.Errorf("admin after groups %v: returned %v, stored %v; want %v", tt.groups, u.Admin, stored.Admin, tt.wantAdmin)
			}
		})
	}
}

func TestLogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ttl     time.Duration
		wantTTL time.Duration
	}{
		{"configured TTL", 2 * time.Hour, 2 * time.Hour},
		{"default TTL", 0, DefaultTokenTTL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Config{TokenTTL: tt.ttl, Groups: map[string][]Grant{"dev": {{Project: "ml", Role: access.Developer}}}})
			ctx := t.Context()
			id := ident("sub", "alice", "alice@example.com", true, "dev")
			l, err := e.svc.login(ctx, id)
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			if !l.Created || l.User != "alice" || !strings.HasPrefix(l.Token, "pal_") || !l.Expires.Equal(t0.Add(tt.wantTTL)) {
				t.Errorf("first login = %+v, want alice created, a pal_ token expiring at %v", l, t0.Add(tt.wantTTL))
			}
			u, err := e.st.PrincipalByName(ctx, "alice")
			if err != nil {
				t.Fatal(err)
			}
			tok, err := e.st.TokenByHash(ctx, sha256.Sum256([]byte(l.Token)))
			if err != nil {
				t.Fatalf("TokenByHash: %v", err)
			}
			want := store.Token{ID: l.TokenID, Name: "single sign-on", PrincipalID: u.ID, Hash: sha256.Sum256([]byte(l.Token)),
				Created: t0, Expires: t0.Add(tt.wantTTL)}
			if diff := cmp.Diff(tok, want); diff != "" {
				t.Errorf("stored token (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(roles(t, e.st, u.ID), map[string]string{"ml": "developer/oidc"}); diff != "" {
				t.Errorf("roles after login (-got +want):\n%s", diff)
			}

			e.clk.Advance(time.Hour)
			l2, err := e.svc.login(ctx, id)
			if err != nil {
				t.Fatalf("second login: %v", err)
			}
			if l2.Created || l2.User != "alice" || l2.TokenID == l.TokenID || l2.Token == l.Token || !l2.Expires.Equal(t0.Add(time.Hour+tt.wantTTL)) {
				t.Errorf("second login = %+v, want alice, not created, a new token expiring at %v", l2, t0.Add(time.Hour+tt.wantTTL))
			}
		})
	}
}

// TestLoginDisabled: a disabled user is refused, gets no token, and its
// roles are left as they are.
func TestLoginDisabled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{AdminGroups: []string{"admins"}, Groups: map[string][]Grant{"dev": {{Project: "ml", Role: access.Developer}}}})
	ctx := t.Context()
	u, err := e.st.CreatePrincipal(ctx, store.Principal{ID: "p-alice", Name: "alice", Kind: store.KindUser, Admin: true,
		Clearance: store.Internal, OIDCIssuer: issuer, OIDCSubject: "sub", Disabled: t0.Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.login(ctx, ident("sub", "alice", "", false, "dev"))
	if !errors.Is(err, ErrDisabled) {
		t.Fatalf("login of a disabled user: %v, want ErrDisabled", err)
	}
	if toks, err := e.st.ListTokens(ctx); err != nil || len(toks) != 0 {
		t.Errorf("tokens after a refused login: %+v, %v; want none", toks, err)
	}
	if got := roles(t, e.st, u.ID); len(got) != 0 {
		t.Errorf("roles after a refused login: %v, want none", got)
	}
	if p, err := e.st.Principal(ctx, u.ID); err != nil || !p.Admin || p.Enabled() {
		t.Errorf("user after a refused login: %+v, %v; want unchanged (admin, disabled)", p, err)
	}
}

// putRequest records a login in progress under handle.
func putRequest(t *testing.T, e *env, handle, kind string, ttl time.Duration) {
	t.Helper()
	r := store.SSORequest{HandleHash: sha256.Sum256([]byte(handle)), Kind: kind, Nonce: "nonce-" + handle, Verifier: "verifier-" + handle,
		Expires: e.clk.Now().Add(ttl)}
	if kind == "device" {
		r.Nonce, r.Verifier, r.Device = "", "", `{"device_code":"dc"}`
	}
	if err := e.st.CreateSSORequest(t.Context(), r); err != nil {
		t.Fatalf("CreateSSORequest: %v", err)
	}
}

func TestTake(t *testing.T) {
	t.Parallel()
	t.Run("single use", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, Config{})
		putRequest(t, e, "state-1", "code", time.Minute)
		r, err := e.svc.take(t.Context(), "state-1", "code")
		if err != nil || r.Kind != "code" || r.Nonce != "nonce-state-1" || r.Verifier != "verifier-state-1" {
			t.Fatalf("take = %+v, %v; want the code login", r, err)
		}
		if _, err := e.svc.take(t.Context(), "state-1", "code"); !errors.Is(err, ErrUnknownLogin) {
			t.Errorf("second take: %v, want ErrUnknownLogin", err)
		}
	})
	t.Run("kind checked", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, Config{})
		putRequest(t, e, "pald_dev", "device", time.Minute)
		putRequest(t, e, "state-2", "code", time.Minute)
		if _, err := e.svc.take(t.Context(), "pald_dev", "code"); !errors.Is(err, ErrUnknownLogin) {
			t.Errorf("device handle as a code state: %v, want ErrUnknownLogin", err)
		}
		if _, err := e.svc.take(t.Context(), "state-2", "device"); !errors.Is(err, ErrUnknownLogin) {
			t.Errorf("code state as a device handle: %v, want ErrUnknownLogin", err)
		}
		// A mistaken kind does not consume the login.
		if r, err := e.svc.take(t.Context(), "pald_dev", "device"); err != nil || r.Device == "" {
			t.Errorf("device take after the mistaken one = %+v, %v", r, err)
		}
		if _, err := e.svc.take(t.Context(), "state-2", "code"); err != nil {
			t.Errorf("code take after the mistaken one: %v", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, Config{})
		putRequest(t, e, "state-3", "code", time.Minute)
		e.clk.Advance(time.Minute)
		if _, err := e.svc.take(t.Context(), "state-3", "code"); !errors.Is(err, ErrUnknownLogin) {
			t.Errorf("take at expiry: %v, want ErrUnknownLogin", err)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, Config{})
		if _, err := e.svc.take(t.Context(), "never", "code"); !errors.Is(err, ErrUnknownLogin) {
			t.Errorf("take of an unknown handle: %v, want ErrUnknownLogin", err)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, Config{})
		putRequest(t, e, "state-4", "code", time.Minute)
		const n = 8
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				_, errs[i] = e.svc.take(t.Context(), "state-4", "code")
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, ErrUnknownLogin):
				t.Errorf("take %d: %v, want nil or ErrUnknownLogin", i, err)
			}
		}
		if ok != 1 {
			t.Errorf("%d concurrent takes succeeded, want 1", ok)
		}
	})
}

// TestBrowserLogin runs the browser flow against the real test provider
// (skipped when it is not installed). Its groups claim is the user name,
// as in internal/app's tests.
func TestBrowserLogin(t *testing.T) {
	t.Parallel()
	idp := oidctest.Start(t)
	c := idp.CodeClient()
	e := newEnv(t, Config{
		OIDC: oidc.Config{Issuer: idp.Issuer(), ClientID: c.ID, ClientSecret: c.Secret, RedirectURL: idp.RedirectURL(),
			GroupsClaim: "preferred_username"},
		DefaultClearance: store.Confidential,
		TokenTTL:         time.Hour,
		Groups:           map[string][]Grant{"alice": {{Project: "ml", Role: access.Developer}, {Project: "gone", Role: access.Reader}}},
	})
	ctx := t.Context()
	// browse begins a login and logs in at the provider as u: the state
	// and code of the callback.
	browse := func(t *testing.T, u oidctest.User) (state, code string) {
		t.Helper()
		authURL, err := e.svc.BeginBrowser(ctx)
		if err != nil {
			t.Fatalf("BeginBrowser: %v", err)
		}
		cb, err := idp.LoginCode(ctx, authURL, u.Username, u.Password)
		if err != nil {
			t.Fatalf("LoginCode: %v", err)
		}
		q := cb.Query()
		au, _ := url.Parse(authURL)
		if q.Get("state") == "" || q.Get("state") != au.Query().Get("state") || q.Get("code") == "" {
			t.Fatalf("callback %s for %s", cb, authURL)
		}
		return q.Get("state"), q.Get("code")
	}
	alice, bob := idp.Users()[0], idp.Users()[1]

	state, code := browse(t, alice)
	l, err := e.svc.FinishBrowser(ctx, state, code)
	if err != nil {
		t.Fatalf("FinishBrowser: %v", err)
	}
	if !l.Created || l.User != alice.Username || !l.Expires.Equal(t0.Add(time.Hour)) {
		t.Errorf("login = %+v, want %s created, expiring at %v", l, alice.Username, t0.Add(time.Hour))
	}
	u, err := e.st.PrincipalByOIDC(ctx, idp.Issuer(), alice.Subject)
	if err != nil || u.Name != alice.Username || u.Clearance != store.Confidential || u.Email != alice.Email {
		t.Errorf("user = %+v, %v; want %s, confidential, e-mail %s", u, err, alice.Username, alice.Email)
	}
	if diff := cmp.Diff(roles(t, e.st, u.ID), map[string]string{"ml": "developer/oidc"}); diff != "" {
		t.Errorf("roles (-got +want):\n%s", diff)
	}
	if _, err := e.svc.FinishBrowser(ctx, state, code); !errors.Is(err, ErrUnknownLogin) {
		t.Errorf("replayed callback: %v, want ErrUnknownLogin", err)
	}
	if _, err := e.svc.FinishBrowser(ctx, "forged", code); !errors.Is(err, ErrUnknownLogin) {
		t.Errorf("forged state: %v, want ErrUnknownLogin", err)
	}

	// Bob's e-mail is not verified: his user has none.
	state, code = browse(t, bob)
	l, err = e.svc.FinishBrowser(ctx, state, code)
	if err != nil {
		t.Fatalf("FinishBrowser(bob): %v", err)
	}
	ub, err := e.st.PrincipalByName(ctx, l.User)
	if err != nil || !l.Created || ub.Email != "" || ub.OIDCSubject != bob.Subject {
		t.Errorf("bob's login %+v: user %+v, %v; want created, no e-mail", l, ub, err)
	}

	// A browser state is not a device handle, and a state that has
	// expired is refused.
	state, _ = browse(t, alice)
	if _, err := e.svc.take(ctx, state, "device"); !errors.Is(err, ErrUnknownLogin) {
		t.Errorf("browser state taken as a device login: %v, want ErrUnknownLogin", err)
	}
	e.clk.Advance(codeLoginTTL)
	if _, err := e.svc.take(ctx, state, "code"); !errors.Is(err, ErrUnknownLogin) {
		t.Errorf("browser state after %v: %v, want ErrUnknownLogin", codeLoginTTL, err)
	}
}

// disableOnRead is the store with an administrator who disables a user
// right after single sign-on has read it (once).
type disableOnRead struct {
	*sqlite.Store
	once sync.Once
	err  error
}

func (d *disableOnRead) PrincipalByOIDC(ctx context.Context, iss, sub string) (store.Principal, error) {
	p, err := d.Store.PrincipalByOIDC(ctx, iss, sub)
	if err == nil {
		d.once.Do(func() {
			q := p
			q.Disabled = t0
			if uerr := d.Store.UpdatePrincipal(ctx, q); uerr != nil {
				d.err = fmt.Errorf("disable: %w", uerr)
			}
		})
	}
	return p, err
}

// TestLoginKeepsConcurrentDisable: a login changes only the fields it
// means to (e-mail, admin flag), so an administrator who disables the
// user while it logs in is not undone, and the token it gets does not
// work.
func TestLoginKeepsConcurrentDisable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		id   oidc.Identity
	}{
		{"admin group joined", ident("sub", "alice", "alice@example.com", true, "admins")},
		{"verified e-mail changed", ident("sub", "alice", "alice@new.example", true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var d *disableOnRead
			e := newEnvStore(t, Config{AdminGroups: []string{"admins"}}, func(st *sqlite.Store) Store {
				d = &disableOnRead{Store: st}
				return d
			})
			ctx := t.Context()
			u, err := e.st.CreatePrincipal(ctx, store.Principal{ID: "p-alice", Name: "alice", Kind: store.KindUser,
				Clearance: store.Internal, Email: "alice@example.com", OIDCIssuer: issuer, OIDCSubject: "sub"})
			if err != nil {
				t.Fatal(err)
			}
			_, _ = e.svc.login(ctx, tt.id) // may succeed: the disable raced it
			if d.err != nil {
				t.Fatal(d.err)
			}
			got, err := e.st.Principal(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Enabled() {
				t.Errorf("user disabled during its login is enabled afterwards: %+v", got)
			}
		})
	}
}

// TestLoginRecordsChangesFirst: each change a login makes is reported to
// Options.Record before it is made; when one cannot be recorded the login
// is refused, nothing after it is made, and what was recorded before it in
// the same step is reported as not made.
func TestLoginRecordsChangesFirst(t *testing.T) {
	t.Parallel()
	cfg := Config{AdminGroups: []string{"admins"}, Groups: map[string][]Grant{"dev": {{Project: "ml", Role: access.Developer}}}}
	e := newEnv(t, cfg)
	ctx := t.Context()
	var calls []string
	failOn := ChangeKind("")
	e.svc.record = func(ctx context.Context, principalID string, c Change) error {
		desc := string(c.Kind)
		if c.Project != "" {
			desc += " " + c.Project + " " + string(c.Role)
		}
		if c.NotMade {
			desc += " not made"
		}
		calls = append(calls, desc)
		if c.NotMade {
			return nil
		}
		if c.Kind == failOn {
			return errors.New("log unavailable")
		}
		// Not made yet.
		u, err := e.st.Principal(ctx, principalID)
		switch c.Kind {
		case UserCreated:
			if err == nil {
				t.Errorf("user.create reported after the user %s was created", principalID)
			}
		case AdminGranted:
			if err != nil || u.Admin {
				t.Errorf("admin_granted reported after it was made (%v)", err)
			}
		case MemberSet:
			if r := roles(t, e.st, principalID)[c.Project]; r != "" {
				t.Errorf("member_set %s reported after it was made: %s", c.Project, r)
			}
		}
		return nil
	}
	id := ident("sub", "alice", "", false, "dev", "admins")

	failOn = MemberSet
	if _, err := e.svc.login(ctx, id); !errors.Is(err, ErrUnrecorded) {
		t.Fatalf("login with a failing record: %v, want ErrUnrecorded", err)
	}
	if want := "user_created, admin_granted, member_set ml developer, admin_granted not made"; strings.Join(calls, ", ") != want {
		t.Errorf("reported %q, want %q", strings.Join(calls, ", "), want)
	}
	u, err := e.st.PrincipalByName(ctx, "alice")
	if err != nil {
		t.Fatalf("the user recorded before the failure: %v", err)
	}
	if u.Admin || len(roles(t, e.st, u.ID)) != 0 {
		t.Errorf("unrecorded changes were made: admin %v, roles %v", u.Admin, roles(t, e.st, u.ID))
	}
	if toks, err := e.st.ListTokens(ctx); err != nil || len(toks) != 0 {
		t.Errorf("a refused login issued tokens: %+v, %v", toks, err)
	}

	calls, failOn = nil, ""
	if _, err := e.svc.login(ctx, id); err != nil {
		t.Fatalf("login once the log works: %v", err)
	}
	if want := "admin_granted, member_set ml developer"; strings.Join(calls, ", ") != want {
		t.Errorf("reported %q, want %q", strings.Join(calls, ", "), want)
	}
	if u, _ := e.st.Principal(ctx, u.ID); !u.Admin || roles(t, e.st, u.ID)["ml"] != "developer/oidc" {
		t.Errorf("after the login: admin %v, roles %v", u.Admin, roles(t, e.st, u.ID))
	}

	// A refused first login creates nothing.
	calls, failOn = nil, UserCreated
	if _, err := e.svc.login(ctx, ident("sub-bob", "bob", "", false)); !errors.Is(err, ErrUnrecorded) {
		t.Fatalf("first login with a failing record: %v", err)
	}
	if _, err := e.st.PrincipalByName(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the user of a refused first login: %v, want not found", err)
	}
}
