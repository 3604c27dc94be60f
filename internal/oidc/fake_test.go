package oidc_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	gooidctest "github.com/coreos/go-oidc/v3/oidc/oidctest"
	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/oidc"
)

// fake is an in-process provider whose answers each test chooses, for
// what the real example provider never does: tokens signed with go-oidc's
// test helper from claims written here, and malformed or oversized
// responses.
type fake struct {
	srv    *httptest.Server
	key    *rsa.PrivateKey
	keys   gooidctest.Server
	issuer string

	discovery func(issuer string) map[string]any // nil: the default document
	token     func(f *fake) string               // token endpoint's body
	userinfo  string                             // UserInfo body
	device    string                             // device authorization body
	uiCalls   atomic.Int32
}

const fakeClient = "palisade"

func newFake(t *testing.T, setup func(f *fake)) *fake {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fake{key: key}
	f.keys.PublicKeys = []gooidctest.PublicKey{{PublicKey: key.Public(), KeyID: "k1", Algorithm: gooidc.RS256}}
	setup(f)
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	f.issuer = f.srv.URL
	f.keys.SetIssuer(f.issuer)
	return f
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		doc := map[string]any{
			"issuer":                        f.issuer,
			"authorization_endpoint":        f.issuer + "/auth",
			"token_endpoint":                f.issuer + "/token",
			"userinfo_endpoint":             f.issuer + "/userinfo",
			"device_authorization_endpoint": f.issuer + "/device",
			"jwks_uri":                      f.issuer + "/keys",
		}
		if f.discovery != nil {
			doc = f.discovery(f.issuer)
		}
		_ = json.NewEncoder(w).Encode(doc)
	case "/keys":
		f.keys.ServeHTTP(w, r)
	case "/token":
		body := f.token(f)
		if strings.Contains(body, `"error"`) {
			w.WriteHeader(http.StatusBadRequest)
		}
		fmt.Fprint(w, body)
	case "/userinfo":
		f.uiCalls.Add(1)
		fmt.Fprint(w, f.userinfo)
	case "/device":
		fmt.Fprint(w, f.device)
	default:
		http.NotFound(w, r)
	}
}

// sign returns an ID token with claims, signed by key (the fake's own when
// nil), after replacing ISSUER and EXP in claims.
func (f *fake) sign(claims string, key *rsa.PrivateKey) string {
	if key == nil {
		key = f.key
	}
	claims = strings.NewReplacer("ISSUER", f.issuer, "EXP", fmt.Sprint(time.Now().Add(time.Hour).Unix())).Replace(claims)
	return gooidctest.SignIDToken(key, "k1", gooidc.RS256, claims)
}

// tokenWith returns a token endpoint answering with an ID token of claims.
func tokenWith(claims string) func(*fake) string {
	return func(f *fake) string {
		return `{"access_token":"at","token_type":"Bearer","expires_in":60,"id_token":"` + f.sign(claims, nil) + `"}`
	}
}

func (f *fake) provider(t *testing.T) *oidc.Provider {
	t.Helper()
	p, err := oidc.New(t.Context(), oidc.Config{Issuer: f.issuer, ClientID: fakeClient, RedirectURL: "http://127.0.0.1/cb"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

const (
	fullClaims = `{"iss":"ISSUER","aud":"palisade","sub":"u1","exp":EXP,"nonce":"n",
		"email":"u1@example.com","email_verified":"true","name":"User One","preferred_username":"one",
		"groups":["ops","dev","ops"]}`
	thinClaims = `{"iss":"ISSUER","aud":"palisade","sub":"u1","exp":EXP,"nonce":"n","name":"Token Name"}`
)

func TestExchangeFake(t *testing.T) {
	t.Parallel()
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	many := `["` + strings.Repeat(`g","`, oidc.MaxGroups) + `g"]`
	tests := []struct {
		name     string
		token    func(*fake) string
		userinfo string
		want     oidc.Identity // Issuer filled in
		wantErr  error         // nil: success; errAny: any error
		wantUI   int32         // UserInfo calls
	}{
		{
			name:  "complete ID token",
			token: tokenWith(fullClaims),
			want:  oidc.Identity{Subject: "u1", Email: "u1@example.com", EmailVerified: true, Name: "User One", Username: "one", Groups: []string{"dev", "ops"}},
		},
		{
			name:     "UserInfo fills missing claims only",
			token:    tokenWith(thinClaims),
			userinfo: `{"sub":"u1","name":"UserInfo Name","email":"ui@example.com","email_verified":true,"preferred_username":"ui","groups":"admins"}`,
			want:     oidc.Identity{Subject: "u1", Email: "ui@example.com", EmailVerified: true, Name: "Token Name", Username: "ui", Groups: []string{"admins"}},
			wantUI:   1,
		},
		{name: "UserInfo of another subject", token: tokenWith(thinClaims), userinfo: `{"sub":"u2","email":"x@example.com"}`, wantErr: oidc.ErrInvalidToken, wantUI: 1},
		{name: "UserInfo with bad claims", token: tokenWith(thinClaims), userinfo: `{"sub":"u1","groups":{"a":1}}`, wantErr: oidc.ErrInvalidToken, wantUI: 1},
		{name: "UserInfo too large", token: tokenWith(thinClaims), userinfo: `{"sub":"u1","x":"` + strings.Repeat("a", 1<<20) + `"}`, wantErr: errAny, wantUI: 1},
		{name: "no subject", token: tokenWith(`{"iss":"ISSUER","aud":"palisade","exp":EXP,"nonce":"n"}`), wantErr: oidc.ErrInvalidToken},
		{name: "other audience", token: tokenWith(`{"iss":"ISSUER","aud":"other","sub":"u1","exp":EXP,"nonce":"n"}`), wantErr: oidc.ErrInvalidToken},
		{name: "other authorized party", token: tokenWith(`{"iss":"ISSUER","aud":["palisade","other"],"azp":"other","sub":"u1","exp":EXP,"nonce":"n"}`), wantErr: oidc.ErrInvalidToken},
		{name: "other issuer", token: tokenWith(`{"iss":"https://evil.example","aud":"palisade","sub":"u1","exp":EXP,"nonce":"n"}`), wantErr: oidc.ErrInvalidToken},
		{name: "expired", token: tokenWith(`{"iss":"ISSUER","aud":"palisade","sub":"u1","exp":1000,"nonce":"n"}`), wantErr: oidc.ErrInvalidToken},
		{name: "no nonce", token: tokenWith(`{"iss":"ISSUER","aud":"palisade","sub":"u1","exp":EXP}`), wantErr: oidc.ErrInvalidToken},
		{name: "too many groups", token: tokenWith(`{"iss":"ISSUER","aud":"palisade","sub":"u1","exp":EXP,"nonce":"n","groups":` + many + `}`), wantErr: oidc.ErrInvalidToken},
		{name: "control character in name", token: tokenWith(`{"iss":"ISSUER","aud":"palisade","sub":"u1","exp":EXP,"nonce":"n","name":"a\u001bb"}`), wantErr: oidc.ErrInvalidToken},
		{
			name: "at_hash mismatch",
			token: func(f *fake) string {
				return `{"access_token":"at","token_type":"Bearer","id_token":"` + f.sign(`{"iss":"ISSUER","aud":"palisade","sub":"u1","exp":EXP,"nonce":"n","at_hash":"AAAAAAAAAAAAAAAAAAAAAA"}`, nil) + `"}`
			},
			wantErr: oidc.ErrInvalidToken,
		},
		{
			name: "signed by another key",
			token: func(f *fake) string {
				return `{"access_token":"at","token_type":"Bearer","id_token":"` + f.sign(fullClaims, other) + `"}`
			},
			wantErr: oidc.ErrInvalidToken,
		},
		{name: "no ID token", token: func(*fake) string { return `{"access_token":"at","token_type":"Bearer"}` }, wantErr: oidc.ErrInvalidToken},
		{name: "invalid_grant", token: func(*fake) string { return `{"error":"invalid_grant","error_description":"bad code"}` }, wantErr: oidc.ErrRejected},
		{name: "token response too large", token: func(*fake) string { return `{"access_token":"` + strings.Repeat("a", 2<<20) + `"}` }, wantErr: errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(f *fake) { f.token, f.userinfo = tt.token, tt.userinfo })
			got, err := f.provider(t).Exchange(t.Context(), "code", "verifier", "n")
			t.Logf("Exchange error: %v", err)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Exchange: %v", err)
			case tt.wantErr == errAny && err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("Exchange = %+v, %v; want error %v", got, err, tt.wantErr)
			case tt.wantErr == nil:
				tt.want.Issuer = f.issuer
				if diff := cmp.Diff(got, tt.want); diff != "" {
					t.Errorf("Exchange identity (-got +want):\n%s", diff)
				}
			}
			if err != nil && len(err.Error()) > 1000 {
				t.Errorf("Exchange error is %d bytes long", len(err.Error()))
			}
			if n := f.uiCalls.Load(); n != tt.wantUI {
				t.Errorf("UserInfo called %d times, want %d", n, tt.wantUI)
			}
		})
	}
}

// errAny stands for any error in a table.
var errAny = errors.New("any error")

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	good := func(issuer string) map[string]any {
		return map[string]any{
			"issuer": issuer, "authorization_endpoint": issuer + "/auth",
			"token_endpoint": issuer + "/token", "jwks_uri": issuer + "/keys",
		}
	}
	tests := []struct {
		name      string
		discovery func(issuer string) map[string]any
		cfg       func(c *oidc.Config)
		want      string // substring of the error
	}{
		{name: "no client ID", cfg: func(c *oidc.Config) { c.ClientID = "" }, want: "client ID"},
		{name: "http redirect", cfg: func(c *oidc.Config) { c.RedirectURL = "http://palisade.example.com/cb" }, want: "redirect URL"},
		{name: "relative redirect", cfg: func(c *oidc.Config) { c.RedirectURL = "/cb" }, want: "redirect URL"},
		{name: "no openid scope", cfg: func(c *oidc.Config) { c.Scopes = []string{"email"} }, want: "openid"},
		{name: "issuer with credentials", cfg: func(c *oidc.Config) { c.Issuer = "https://u:p@idp.example.com" }, want: "user information"},
		{name: "issuer not http", cfg: func(c *oidc.Config) { c.Issuer = "ftp://idp.example.com" }, want: "https"},
		{
			name: "http token endpoint",
			discovery: func(issuer string) map[string]any {
				d := good(issuer)
				d["token_endpoint"] = "http://idp.example.com/token"
				return d
			},
			want: "token_endpoint",
		},
		{
			name: "no keys",
			discovery: func(issuer string) map[string]any {
				d := good(issuer)
				delete(d, "jwks_uri")
				return d
			},
			want: "jwks_uri",
		},
		{
			name: "discovery too large",
			discovery: func(issuer string) map[string]any {
				d := good(issuer)
				d["padding"] = strings.Repeat("a", 2<<20)
				return d
			},
			want: "exceeds",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(f *fake) { f.discovery = tt.discovery })
			cfg := oidc.Config{Issuer: f.issuer, ClientID: fakeClient, RedirectURL: "http://127.0.0.1/cb"}
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			_, err := oidc.New(t.Context(), cfg)
			t.Logf("New error: %v", err)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want an error mentioning %q", err, tt.want)
			}
			if len(err.Error()) > 1000 {
				t.Errorf("New error is %d bytes long", len(err.Error()))
			}
		})
	}
}

func TestDeviceFake(t *testing.T) {
	t.Parallel()
	const goodDevice = `{"device_code":"dc","user_code":"ABCD-EFGH","verification_uri":"https://idp.example.com/device","expires_in":60,"interval":1}`
	t.Run("unsupported", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(f *fake) {
			f.discovery = func(issuer string) map[string]any {
				return map[string]any{
					"issuer": issuer, "authorization_endpoint": issuer + "/auth",
					"token_endpoint": issuer + "/token", "jwks_uri": issuer + "/keys",
				}
			}
		})
		p := f.provider(t)
		if p.DeviceSupported() {
			t.Error("DeviceSupported() = true without a device endpoint")
		}
		if _, err := p.StartDevice(t.Context()); !errors.Is(err, oidc.ErrUnsupported) {
			t.Errorf("StartDevice = %v, want ErrUnsupported", err)
		}
		if _, err := p.PollDevice(t.Context(), oidc.Device{DeviceCode: "dc"}); !errors.Is(err, oidc.ErrUnsupported) {
			t.Errorf("PollDevice = %v, want ErrUnsupported", err)
		}
	})
	for _, tt := range []struct{ name, body string }{
		{"no user code", `{"device_code":"dc","verification_uri":"https://idp.example.com/device"}`},
		{"no device code", `{"user_code":"ABCD","verification_uri":"https://idp.example.com/device"}`},
		{"script verification URI", `{"device_code":"dc","user_code":"ABCD","verification_uri":"javascript:alert(1)"}`},
		{"http verification URI", `{"device_code":"dc","user_code":"ABCD","verification_uri":"http://idp.example.com/device"}`},
		{"control character in user code", `{"device_code":"dc","user_code":"AB\nCD","verification_uri":"https://idp.example.com/device"}`},
		{"long user code", `{"device_code":"dc","user_code":"` + strings.Repeat("A", 65) + `","verification_uri":"https://idp.example.com/device"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(f *fake) { f.device = tt.body })
			d, err := f.provider(t).StartDevice(t.Context())
			t.Logf("StartDevice error: %v", err)
			if err == nil {
				t.Errorf("StartDevice = %+v, want an error", d)
			}
		})
	}
	for _, tt := range []struct {
		name    string
		token   func(*fake) string
		expiry  time.Duration // from now, for the Device polled
		want    oidc.Identity
		wantErr error
	}{
		{name: "approved", token: tokenWith(`{"iss":"ISSUER","aud":"palisade","sub":"u1","exp":EXP,"email":"u1@example.com","name":"U","preferred_username":"u","groups":[]}`), expiry: time.Minute,
			want: oidc.Identity{Subject: "u1", Email: "u1@example.com", Name: "U", Username: "u", Groups: []string{}}},
		{name: "denied", token: func(*fake) string { return `{"error":"access_denied"}` }, expiry: time.Minute, wantErr: oidc.ErrDenied},
		{name: "expired at the provider", token: func(*fake) string { return `{"error":"expired_token"}` }, expiry: time.Minute, wantErr: oidc.ErrExpired},
		{name: "expired here", token: func(*fake) string { return `{"error":"authorization_pending"}` }, expiry: -time.Second, wantErr: oidc.ErrExpired},
		{name: "expires while polling", token: func(*fake) string { return `{"error":"authorization_pending"}` }, expiry: 1500 * time.Millisecond, wantErr: oidc.ErrExpired},
		{name: "other error", token: func(*fake) string { return `{"error":"invalid_grant"}` }, expiry: time.Minute, wantErr: oidc.ErrRejected},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(f *fake) { f.device, f.token = goodDevice, tt.token })
			p := f.provider(t)
			d, err := p.StartDevice(t.Context())
			if err != nil {
				t.Fatalf("StartDevice: %v", err)
			}
			want := oidc.Device{DeviceCode: "dc", UserCode: "ABCD-EFGH", VerificationURI: "https://idp.example.com/device", Interval: time.Second}
			if diff := cmp.Diff(d, want, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Expiry" }, cmp.Ignore())); diff != "" {
				t.Errorf("StartDevice (-got +want):\n%s", diff)
			}
			d.Expiry = time.Now().Add(tt.expiry)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			got, err := p.PollDevice(ctx, d)
			t.Logf("PollDevice error: %v", err)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("PollDevice = %+v, %v; want error %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("PollDevice: %v", err)
			}
			tt.want.Issuer = f.issuer
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("PollDevice identity (-got +want):\n%s", diff)
			}
		})
	}
}
