package app

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/api"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/testutil/oidctest"
)

// ssoServer runs a live Palisade server whose single sign-on uses the
// test provider with client c. The provider has no groups claim, so the
// user name stands in for the group: "alice" maps to developer on ml.
func ssoServer(t *testing.T, idp *oidctest.Server, c oidctest.Client) (base string, st store.Store) {
	t.Helper()
	cfg := testServerConfig(t)
	secret := t.TempDir() + "/oidc-secret"
	if err := os.WriteFile(secret, []byte(c.Secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.OIDC = config.OIDC{Issuer: idp.Issuer(), ClientID: c.ID, ClientSecretFile: secret, RedirectURL: idp.RedirectURL(),
		GroupsClaim: "preferred_username", DefaultClearance: "confidential", TokenTTL: time.Hour,
		Groups: map[string][]string{"alice": {"ml:developer", "gone:reader"}, "bob": {"ml:reader"}}}
	addr, st := liveServer(t, cfg)
	if _, err := st.CreateProject(t.Context(), store.Project{Name: "ml", KeyID: "local:kek.key"}); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr, st
}

func call(t *testing.T, method, u, token string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if p, ok := out.(*string); ok {
		*p = resp.Header.Get("Location") // a redirect's target
		return resp.StatusCode
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, u, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

// TestSSOBrowserLogin signs in through the real provider's login page,
// end to end: the first login creates the user with the default clearance
// and the roles its groups map to; a callback cannot be replayed; a role
// given by hand survives the next login; a disabled user is refused.
func TestSSOBrowserLogin(t *testing.T) {
	t.Parallel()
	idp := oidctest.Start(t)
	base, st := ssoServer(t, idp, idp.CodeClient())
	var info api.SSOInfo
	if code := call(t, "GET", base+"/api/v1/auth/sso", "", nil, &info); code != 200 || !info.Enabled || info.Issuer != idp.Issuer() {
		t.Fatalf("sso info: %d %+v", code, info)
	}
	alice := idp.Users()[0]

	login := func(t *testing.T) (api.LoginResponse, *url.URL) {
		t.Helper()
		var loc string
		if code := call(t, "GET", base+"/api/v1/auth/sso/login", "", nil, &loc); code != http.StatusFound || loc == "" {
			t.Fatalf("login: %d %q", code, loc)
		}
		cb, err := idp.LoginCode(t.Context(), loc, alice.Username, alice.Password)
		if err != nil {
			t.Fatalf("log in at the provider: %v", err)
		}
		var l api.LoginResponse
		if code := call(t, "GET", base+"/api/v1/auth/sso/callback?"+cb.RawQuery, "", nil, &l); code != 200 || !strings.HasPrefix(l.Token, "pal_") {
			t.Fatalf("callback: %d %+v", code, l)
		}
		return l, cb
	}
	size := auditSize(t, st)
	l, cb := login(t)
	if !l.Created || l.User != alice.Username {
		t.Errorf("first login = %+v, want user %s created", l, alice.Username)
	}
	// The login is recorded with what it changed: the user created, the
	// role its group maps to (the group's project "gone" does not exist).
	if got, want := auditSince(t, st, size), "user.create/allowed/sso ml:member.set/allowed/sso:developer auth.success/allowed/sso"; got != want {
		t.Errorf("audit entries of the first login: %q, want %q", got, want)
	}
	var who api.Whoami
	if code := call(t, "GET", base+"/api/v1/whoami", l.Token, nil, &who); code != 200 {
		t.Fatalf("whoami: %d", code)
	}
	if who.Name != alice.Username || who.Clearance != "confidential" || strings.Join(who.Projects["ml"], ",") != "read,read-detail,pull,push,edit-metadata,read-usage" {
		t.Errorf("whoami after SSO = %+v", who)
	}
	// A token made with the login's token expires with it at the latest,
	// so that leaving a group at the provider takes effect within the
	// login's lifetime.
	var made api.CreatedToken
	if code := call(t, "POST", base+"/api/v1/tokens", l.Token, api.CreateTokenRequest{Name: "long", ExpiresInDays: new(90)}, &made); code != 201 {
		t.Fatalf("create a token with the login's token: %d", code)
	}
	if made.Expires == nil || made.Expires.After(l.Expires) {
		t.Errorf("token made by a login's token expires %v, after the login's %v", made.Expires, l.Expires)
	}
	// The callback is single-use.
	var e struct{ Error struct{ Code string } }
	if code := call(t, "GET", base+"/api/v1/auth/sso/callback?"+cb.RawQuery, "", nil, &e); code != 400 || e.Error.Code != "expired_token" {
		t.Errorf("replayed callback: %d %+v", code, e)
	}
	if code := call(t, "GET", base+"/api/v1/auth/sso/callback?state=forged&code=x", "", nil, &e); code != 400 {
		t.Errorf("forged state: %d", code)
	}

	// A role given by hand wins over the group's and survives the next
	// login; the group's role elsewhere is refreshed.
	u, err := st.PrincipalByName(t.Context(), alice.Username)
	if err != nil || u.OIDCSubject != alice.Subject || u.Clearance != store.Confidential {
		t.Fatalf("user after SSO: %+v, %v", u, err)
	}
	if err := st.SetMember(t.Context(), store.Member{Project: "ml", PrincipalID: u.ID, Role: "owner", Source: "manual"}); err != nil {
		t.Fatal(err)
	}
	size = auditSize(t, st)
	l2, _ := login(t)
	if l2.Created || l2.User != alice.Username {
		t.Errorf("second login = %+v, want the same user", l2)
	}
	if got, want := auditSince(t, st, size), "auth.success/allowed/sso"; got != want {
		t.Errorf("audit entries of a login that changed nothing: %q, want %q", got, want)
	}
	ms, err := st.MembershipsOf(t.Context(), u.ID)
	if err != nil || len(ms) != 1 || ms[0].Role != "owner" || ms[0].Source != "manual" {
		t.Errorf("memberships after the second login: %+v, %v", ms, err)
	}

	// A disabled user is refused, and the tokens it holds stop working.
	u.Disabled = time.Now()
	if err := st.UpdatePrincipal(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if code := call(t, "GET", base+"/api/v1/whoami", l2.Token, nil, nil); code != http.StatusUnauthorized {
		t.Errorf("token of a disabled user: %d, want 401", code)
	}
	var loc string
	call(t, "GET", base+"/api/v1/auth/sso/login", "", nil, &loc)
	cb3, err := idp.LoginCode(t.Context(), loc, alice.Username, alice.Password)
	if err != nil {
		t.Fatal(err)
	}
	if code := call(t, "GET", base+"/api/v1/auth/sso/callback?"+cb3.RawQuery, "", nil, &e); code != http.StatusForbidden {
		t.Errorf("login of a disabled user: %d %+v, want 403", code, e)
	}
}

// TestSSODeviceLogin runs the device flow that 'palisade login --sso'
// uses: start, approve at the provider, poll until the token comes.
func TestSSODeviceLogin(t *testing.T) {
	t.Parallel()
	idp := oidctest.Start(t)
	idp.RequireDevice(t)
	base, _ := ssoServer(t, idp, idp.DeviceClient())
	var d api.DeviceResponse
	if code := call(t, "POST", base+"/api/v1/auth/sso/device", "", struct{}{}, &d); code != 200 || d.UserCode == "" || !strings.HasPrefix(d.Handle, "pald_") {
		t.Fatalf("device start: %d %+v", code, d)
	}
	var e struct{ Error struct{ Code string } }
	// Before approval: pending.
	if code := call(t, "POST", base+"/api/v1/auth/sso/device/token", "", api.DevicePollRequest{Handle: d.Handle}, &e); code != 400 || e.Error.Code != "authorization_pending" {
		t.Fatalf("poll before approval: %d %+v", code, e)
	}
	bob := idp.Users()[1]
	if err := idp.ApproveDevice(t.Context(), d.UserCode, bob.Username, bob.Password); err != nil {
		t.Fatalf("approve: %v", err)
	}
	var l api.LoginResponse
	deadline := time.Now().Add(time.Minute)
	for {
		code := call(t, "POST", base+"/api/v1/auth/sso/device/token", "", api.DevicePollRequest{Handle: d.Handle}, &l)
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("poll after approval: still %d", code)
		}
	}
	var who api.Whoami
	if code := call(t, "GET", base+"/api/v1/whoami", l.Token, nil, &who); code != 200 || who.Name != bob.Username || len(who.Projects["ml"]) == 0 {
		t.Errorf("whoami after device login: %d %+v", code, who)
	}
	// The handle is single-use.
	if code := call(t, "POST", base+"/api/v1/auth/sso/device/token", "", api.DevicePollRequest{Handle: d.Handle}, &e); code != 400 || e.Error.Code != "expired_token" {
		t.Errorf("poll after the login: %d %+v", code, e)
	}
}

// auditSize returns the number of entries in the server's audit log.
func auditSize(t *testing.T, st store.Store) int64 {
	t.Helper()
	n, err := st.AuditSize(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// auditSince describes the entries appended after the first size, as
// "[project:]action/outcome/reason", space-separated.
func auditSince(t *testing.T, st store.Store, size int64) string {
	t.Helper()
	var out []string
	for _, e := range auditEntriesSince(t, st, size) {
		d := string(e.Action) + "/" + string(e.Outcome) + "/" + e.Reason
		if e.Project != "" {
			d = e.Project + ":" + d
		}
		out = append(out, d)
	}
	return strings.Join(out, " ")
}
