package oidctest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/testutil/oidctest"
)

func TestStart(t *testing.T) {
	t.Parallel()
	s := oidctest.Start(t)
	if !regexp.MustCompile(`^http://localhost:\d+/$`).MatchString(s.Issuer()) {
		t.Errorf("Issuer() = %q, want http://localhost:<port>/", s.Issuer())
	}
	var doc struct {
		Issuer string `json:"issuer"`
		Device string `json:"device_authorization_endpoint"`
	}
	getJSON(t, s.Issuer()+".well-known/openid-configuration", &doc)
	if doc.Issuer != s.Issuer() || doc.Device == "" {
		t.Errorf("discovery = %+v, want issuer %q and a device endpoint", doc, s.Issuer())
	}
	users := s.Users()
	if len(users) != 2 || users[0].Password == "" || users[0].Password == users[1].Password || !users[0].EmailVerified || users[1].EmailVerified {
		t.Errorf("Users() = %+v, want alice (verified) and bob (not) with distinct passwords", users)
	}
	if other := oidctest.Start(t); other.Issuer() == s.Issuer() || other.Users()[0].Password == users[0].Password {
		t.Error("two servers share an issuer or passwords")
	}
}

// authURL is a hand-made authorization request for client.
func authURL(s *oidctest.Server, client oidctest.Client, redirect string) string {
	q := url.Values{
		"client_id":     {client.ID},
		"redirect_uri":  {redirect},
		"response_type": {"code"},
		"scope":         {"openid email"},
		"state":         {"st"},
		"nonce":         {"no"},
	}
	return s.Issuer() + "auth?" + q.Encode()
}

func TestLoginCode(t *testing.T) {
	t.Parallel()
	s := oidctest.Start(t)
	alice := s.Users()[0]
	tests := []struct {
		name     string
		url      string
		user     string
		password string
		wantErr  string // substring; "" for success
	}{
		{"right password", authURL(s, s.CodeClient(), s.RedirectURL()), alice.Username, alice.Password, ""},
		{"wrong password", authURL(s, s.CodeClient(), s.RedirectURL()), alice.Username, "wrong", "username or password wrong"},
		{"unknown user", authURL(s, s.CodeClient(), s.RedirectURL()), "mallory", alice.Password, "username or password wrong"},
		{"unregistered redirect", authURL(s, s.CodeClient(), "http://127.0.0.1/elsewhere"), alice.Username, alice.Password, "redirect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cb, err := s.LoginCode(t.Context(), tt.url, tt.user, tt.password)
			t.Logf("LoginCode error: %v", err)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoginCode = %v, %v; want an error mentioning %q", cb, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoginCode: %v", err)
			}
			if got := cb.Scheme + "://" + cb.Host + cb.Path; got != s.RedirectURL() || cb.Query().Get("code") == "" || cb.Query().Get("state") != "st" {
				t.Errorf("LoginCode = %s, want %s with a code and state st", cb, s.RedirectURL())
			}
		})
	}
}

func TestDeviceDecisions(t *testing.T) {
	t.Parallel()
	s := oidctest.Start(t)
	s.RequireDevice(t)
	bob := s.Users()[1]
	tests := []struct {
		name     string
		userCode func(real string) string
		password string
		deny     bool
		wantErr  bool
	}{
		{name: "approve", password: bob.Password},
		{name: "deny", password: bob.Password, deny: true},
		{name: "wrong password", password: "wrong", wantErr: true},
		{name: "unknown user code", userCode: func(string) string { return "NOPE-NOPE" }, password: bob.Password, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code := startDevice(t, s)
			if tt.userCode != nil {
				code = tt.userCode(code)
			}
			decide := s.ApproveDevice
			if tt.deny {
				decide = s.DenyDevice
			}
			err := decide(t.Context(), code, bob.Username, tt.password)
			t.Logf("device decision error: %v", err)
			if (err != nil) != tt.wantErr {
				t.Fatalf("device decision = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

// startDevice starts a device authorization by hand and returns its user
// code.
func startDevice(t *testing.T, s *oidctest.Server) string {
	t.Helper()
	c := s.DeviceClient()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.Issuer()+"device_authorization",
		strings.NewReader(url.Values{"client_id": {c.ID}, "scope": {"openid"}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.ID, c.Secret)
	var resp struct {
		UserCode string `json:"user_code"`
	}
	do(t, req, &resp)
	if resp.UserCode == "" {
		t.Fatal("device authorization without a user code")
	}
	return resp.UserCode
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	do(t, req, v)
}

func do(t *testing.T, req *http.Request, v any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s", req.Method, req.URL, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
}
