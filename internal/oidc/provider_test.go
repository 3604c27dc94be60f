package oidc_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/oidc"
	"github.com/palisade-sec/palisade/internal/testutil/oidctest"
)

// These tests run the real example OpenID provider (oidctest) and skip
// when it is not installed.

// newProvider discovers s with client c.
func newProvider(t *testing.T, s *oidctest.Server, c oidctest.Client, mod func(*oidc.Config)) *oidc.Provider {
	t.Helper()
	cfg := oidc.Config{
		Issuer:       s.Issuer(),
		ClientID:     c.ID,
		ClientSecret: c.Secret,
		RedirectURL:  s.RedirectURL(),
	}
	if mod != nil {
		mod(&cfg)
	}
	p, err := oidc.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// wantIdentity is what the provider says about u.
func wantIdentity(s *oidctest.Server, u oidctest.User, groups []string) oidc.Identity {
	return oidc.Identity{
		Issuer:        s.Issuer(),
		Subject:       u.Subject,
		Email:         u.Email,
		EmailVerified: u.EmailVerified,
		Name:          u.Name,
		Username:      u.Username,
		Groups:        groups,
	}
}

// login runs the browser half of the code flow as u and returns the code.
func login(t *testing.T, s *oidctest.Server, p *oidc.Provider, u oidctest.User, nonce, verifier string) string {
	t.Helper()
	state := rand.Text()
	authURL := p.AuthCodeURL(state, nonce, verifier)
	q := mustParse(t, authURL).Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") != nonce || q.Get("state") != state {
		t.Fatalf("AuthCodeURL = %s, want state, nonce and an S256 code challenge", authURL)
	}
	cb, err := s.LoginCode(t.Context(), authURL, u.Username, u.Password)
	if err != nil {
		t.Fatalf("LoginCode: %v", err)
	}
	if got := cb.Query().Get("state"); got != state {
		t.Fatalf("callback %s: state = %q, want %q", cb, got, state)
	}
	code := cb.Query().Get("code")
	if code == "" {
		t.Fatalf("callback %s has no code", cb)
	}
	return code
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	s := oidctest.Start(t)
	p := newProvider(t, s, s.CodeClient(), nil)
	if got, want := p.DeviceSupported(), true; got != want {
		t.Errorf("DeviceSupported() = %v, want %v (the example server advertises the endpoint)", got, want)
	}
}

func TestCodeFlow(t *testing.T) {
	t.Parallel()
	s := oidctest.Start(t)
	users := s.Users()
	tests := []struct {
		name   string
		client oidctest.Client
		user   oidctest.User
		groups string // Config.GroupsClaim
		want   []string
	}{
		{"confidential client", s.CodeClient(), users[0], "", nil},
		{"public client", s.PublicClient(), users[1], "", nil},
		// The example server sends no groups claim; amr is a list of strings
		// in its ID tokens and preferred_username a per-user string.
		{"amr as groups", s.CodeClient(), users[0], "amr", []string{"pwd"}},
		{"username as groups", s.CodeClient(), users[1], "preferred_username", []string{users[1].Username}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newProvider(t, s, tt.client, func(c *oidc.Config) { c.GroupsClaim = tt.groups })
			nonce, verifier := rand.Text(), oidc.NewVerifier()
			code := login(t, s, p, tt.user, nonce, verifier)
			got, err := p.Exchange(t.Context(), code, verifier, nonce)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if diff := cmp.Diff(got, wantIdentity(s, tt.user, tt.want)); diff != "" {
				t.Errorf("Exchange identity (-got +want):\n%s", diff)
			}
		})
	}
}

func TestCodeFlowRefused(t *testing.T) {
	t.Parallel()
	s := oidctest.Start(t)
	alice := s.Users()[0]
	tests := []struct {
		name     string
		mod      func(*oidc.Config)
		verifier func(good string) string
		nonce    func(good string) string
		twice    bool // redeem the code a second time
		wantErr  error
	}{
		{name: "wrong nonce", nonce: func(string) string { return rand.Text() }, wantErr: oidc.ErrInvalidToken},
		{name: "wrong verifier", verifier: func(string) string { return oidc.NewVerifier() }, wantErr: oidc.ErrRejected},
		{name: "code reused", twice: true, wantErr: oidc.ErrRejected},
		{name: "wrong client secret", mod: func(c *oidc.Config) { c.ClientSecret = "wrong" }, wantErr: oidc.ErrRejected},
		{
			name:    "expired ID token",
			mod:     func(c *oidc.Config) { c.Now = func() time.Time { return time.Now().Add(2 * time.Hour) } },
			wantErr: oidc.ErrInvalidToken,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newProvider(t, s, s.CodeClient(), tt.mod)
			nonce, verifier := rand.Text(), oidc.NewVerifier()
			code := login(t, s, p, alice, nonce, verifier)
			if tt.verifier != nil {
				verifier = tt.verifier(verifier)
			}
			if tt.nonce != nil {
				nonce = tt.nonce(nonce)
			}
			if tt.twice {
				if _, err := p.Exchange(t.Context(), code, verifier, nonce); err != nil {
					t.Fatalf("first Exchange: %v", err)
				}
			}
			got, err := p.Exchange(t.Context(), code, verifier, nonce)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Exchange = %+v, %v; want error %v", got, err, tt.wantErr)
			}
		})
	}
}

func TestLoginCodeWrongPassword(t *testing.T) {
	t.Parallel()
	s := oidctest.Start(t)
	p := newProvider(t, s, s.CodeClient(), nil)
	authURL := p.AuthCodeURL(rand.Text(), rand.Text(), oidc.NewVerifier())
	_, err := s.LoginCode(t.Context(), authURL, s.Users()[0].Username, "wrong")
	if err == nil || !strings.Contains(err.Error(), "username or password wrong") {
		t.Fatalf("LoginCode with a wrong password: error = %v, want the provider's refusal", err)
	}
}

// startDevice starts a provider with a device client and a device login
// at it.
func startDevice(t *testing.T) (*oidctest.Server, *oidc.Provider, oidc.Device) {
	t.Helper()
	s := oidctest.Start(t)
	s.RequireDevice(t)
	p := newProvider(t, s, s.DeviceClient(), nil)
	d, err := p.StartDevice(t.Context())
	if err != nil {
		t.Fatalf("StartDevice: %v", err)
	}
	return s, p, d
}

func TestDeviceFlow(t *testing.T) {
	t.Parallel()
	s, p, d := startDevice(t)
	alice := s.Users()[0]
	if d.UserCode == "" || d.DeviceCode == "" || d.Interval <= 0 || d.Expiry.Before(time.Now()) {
		t.Fatalf("StartDevice = %+v, want codes, an interval and a future expiry", d)
	}
	if !strings.HasPrefix(d.VerificationURI, s.Issuer()) || !strings.Contains(d.VerificationURIComplete, url.QueryEscape(d.UserCode)) {
		t.Errorf("StartDevice verification URIs %q, %q; want them at the issuer, the complete one with the user code", d.VerificationURI, d.VerificationURIComplete)
	}
	approveAndPoll(t, s, p, d, alice)
}

// TestDeviceFlowPending polls before the user approves: the poll reaches
// the provider, which answers authorization_pending, and ends with
// ErrPending at the context's deadline; after approval a second poll with
// the same Device succeeds.
func TestDeviceFlowPending(t *testing.T) {
	t.Parallel()
	s, p, d := startDevice(t)
	bob := s.Users()[1]

	short, cancel := context.WithTimeout(t.Context(), d.Interval+time.Second)
	defer cancel()
	if got, err := p.PollDevice(short, d); !errors.Is(err, oidc.ErrPending) {
		t.Fatalf("PollDevice before approval = %+v, %v; want ErrPending", got, err)
	}

	approveAndPoll(t, s, p, d, bob)
}

// approveAndPoll approves the device login d as user at the provider,
// then polls it to its end and checks the identity it yields.
func approveAndPoll(t *testing.T, s *oidctest.Server, p *oidc.Provider, d oidc.Device, user oidctest.User) {
	t.Helper()
	if err := s.ApproveDevice(t.Context(), d.UserCode, user.Username, user.Password); err != nil {
		t.Fatalf("ApproveDevice: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), d.Interval+30*time.Second)
	defer cancel()
	got, err := p.PollDevice(ctx, d)
	if err != nil {
		t.Fatalf("PollDevice after approval: %v", err)
	}
	if diff := cmp.Diff(got, wantIdentity(s, user, nil)); diff != "" {
		t.Errorf("PollDevice identity (-got +want):\n%s", diff)
	}
}

func TestDeviceFlowDenied(t *testing.T) {
	t.Parallel()
	s, p, d := startDevice(t)
	alice := s.Users()[0]
	if err := s.DenyDevice(t.Context(), d.UserCode, alice.Username, alice.Password); err != nil {
		t.Fatalf("DenyDevice: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), d.Interval+30*time.Second)
	defer cancel()
	if got, err := p.PollDevice(ctx, d); !errors.Is(err, oidc.ErrDenied) {
		t.Fatalf("PollDevice after denial = %+v, %v; want ErrDenied", got, err)
	}
}

// TestDeviceClientRefused starts a device authorization with a client the
// provider does not allow the device grant.
func TestDeviceClientRefused(t *testing.T) {
	t.Parallel()
	s := oidctest.Start(t)
	p := newProvider(t, s, s.CodeClient(), nil)
	if d, err := p.StartDevice(t.Context()); !errors.Is(err, oidc.ErrRejected) {
		t.Fatalf("StartDevice with the code-flow client = %+v, %v; want ErrRejected", d, err)
	}
}

func TestBadIssuer(t *testing.T) {
	t.Parallel()
	s := oidctest.Start(t)
	loopback := strings.Replace(s.Issuer(), "localhost", "127.0.0.1", 1)
	tests := []struct {
		name   string
		issuer string
		want   []string // substrings of the error
	}{
		{"advertised issuer differs", loopback, []string{loopback, s.Issuer()}},
		{"trailing slash missing", strings.TrimSuffix(s.Issuer(), "/"), []string{strings.TrimSuffix(s.Issuer(), "/"), "issuer"}},
		{"nothing there", "http://127.0.0.1:1/", []string{"http://127.0.0.1:1/", "discover"}},
		{"plain http", "http://idp.example.com/", []string{"http://idp.example.com/", "https"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := oidc.New(t.Context(), oidc.Config{Issuer: tt.issuer, ClientID: "web", RedirectURL: s.RedirectURL()})
			if err == nil {
				t.Fatalf("New(%q) succeeded", tt.issuer)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New(%q) error %q does not mention %q", tt.issuer, err, w)
				}
			}
		})
	}
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return u
}
