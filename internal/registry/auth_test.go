package registry

import (
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/auth"
)

func TestChallenge(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	realm := `Bearer realm="http://` + h.host + `/v2/token",service="palisade"`
	tests := []struct {
		name, method, path string
		want               string
	}{
		{"base", http.MethodGet, "/v2/", realm},
		{"pull manifest", http.MethodGet, "/v2/a/x/manifests/latest", realm + `,scope="repository:a/x:pull"`},
		{"head blob", http.MethodHead, "/v2/a/x/blobs/" + d256, realm + `,scope="repository:a/x:pull"`},
		{"tags", http.MethodGet, "/v2/a/x/y/tags/list", realm + `,scope="repository:a/x/y:pull"`},
		{"referrers", http.MethodGet, "/v2/a/x/referrers/" + d256, realm + `,scope="repository:a/x:pull"`},
		{"start upload", http.MethodPost, "/v2/a/x/blobs/uploads/", realm + `,scope="repository:a/x:pull,push"`},
		{"upload status", http.MethodGet, "/v2/a/x/blobs/uploads/0123", realm + `,scope="repository:a/x:pull,push"`},
		{"cancel upload", http.MethodDelete, "/v2/a/x/blobs/uploads/0123", realm + `,scope="repository:a/x:pull,push"`},
		{"put manifest", http.MethodPut, "/v2/a/x/manifests/latest", realm + `,scope="repository:a/x:pull,push"`},
		{"delete manifest", http.MethodDelete, "/v2/a/x/manifests/latest", realm + `,scope="repository:a/x:delete"`},
		{"delete blob", http.MethodDelete, "/v2/a/x/blobs/" + d256, realm + `,scope="repository:a/x:delete"`},
		{"invalid name", http.MethodGet, "/v2/a/X/manifests/latest", realm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := h.do(t, call{method: tt.method, path: tt.path})
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status = %d, want 401; body %q", resp.StatusCode, body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tt.want {
				t.Errorf("WWW-Authenticate = %s, want %s", got, tt.want)
			}
			if tt.method != http.MethodHead {
				if got := errorCode(t, body); got != codeUnauthorized {
					t.Errorf("error code = %s, want %s", got, codeUnauthorized)
				}
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	resp, body := h.do(t, admin(http.MethodPost, "/v2/a/x/manifests/latest", nil))
	wantError(t, "POST manifest", resp, body, http.StatusMethodNotAllowed, codeUnsupported)
	if got := resp.Header.Get("Allow"); got != "GET, HEAD, PUT, DELETE" {
		t.Errorf("Allow = %q", got)
	}
	resp, body = h.do(t, admin(http.MethodGet, "/v2/a/x/unknown/route", nil))
	wantError(t, "unmatched", resp, body, http.StatusNotFound, codeUnsupported)
	resp, body = h.do(t, admin(http.MethodGet, "/v2/a/X/tags/list", nil))
	wantError(t, "invalid name", resp, body, http.StatusBadRequest, codeNameInvalid)
}

func TestBadCredentials(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const secret = "pal_not-a-real-token-but-secret-9f8e7d6c5b4a"
	for _, authz := range []string{
		bearer(secret),
		bearer(auth.SessionTokenPrefix + "forgedsession0123456789"),
		basic("user", secret),
		"Token " + secret,
		"Bearer " + strings.Repeat("x", 600),
		"Basic !!!" + secret,
	} {
		t.Run(truncate(authz, 30), func(t *testing.T) {
			resp, body := h.do(t, call{path: "/v2/a/x/tags/list", auth: authz})
			wantError(t, "bad token", resp, body, http.StatusUnauthorized, codeUnauthorized)
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer realm=") {
				t.Errorf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
			}
			if strings.Contains(string(body), "secret") || strings.Contains(string(body), "forged") {
				t.Errorf("body echoes the token: %s", body)
			}
		})
	}
	if logs := h.logs.String(); strings.Contains(logs, secret) || strings.Contains(logs, "forgedsession") {
		t.Errorf("the log holds a presented token: %s", logs)
	}
}

func TestAPITokenDirect(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tt := range []struct {
		name, authz string
	}{
		{"basic", basic("anyone", adminToken)},
		{"basic read-only", basic("", readOnlyToken)},
		{"bearer", bearer(adminToken)},
		{"bearer read-only", bearer(readOnlyToken)},
		{"bearer lower case scheme", "bearer " + adminToken},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := h.do(t, call{path: "/v2/", auth: tt.authz})
			wantStatus(t, "GET /v2/", resp, body, http.StatusOK)
			if got := resp.Header.Get("Docker-Distribution-API-Version"); got != "registry/2.0" {
				t.Errorf("Docker-Distribution-API-Version = %q", got)
			}
			resp, body = h.do(t, call{path: "/v2/a/x/manifests/latest", auth: tt.authz})
			wantError(t, "pull", resp, body, http.StatusNotFound, codeManifestUnknown)
		})
	}
	// A read-only token may not push, and is told so (403, not 401: no
	// token would help).
	resp, body := h.do(t, call{method: http.MethodPost, path: "/v2/a/x/blobs/uploads/", auth: bearer(readOnlyToken)})
	wantError(t, "read-only push", resp, body, http.StatusForbidden, codeDenied)
	resp, body = h.do(t, call{method: http.MethodDelete, path: "/v2/a/x/manifests/latest", auth: basic("u", readOnlyToken)})
	wantError(t, "read-only delete", resp, body, http.StatusForbidden, codeDenied)
}

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	Token       string `json:"token"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	IssuedAt    string `json:"issued_at"`
}

// getToken asks the token endpoint for scopes with GET and Basic
// credentials.
func (h *harness) getToken(t testing.TB, apiToken string, scopes ...string) tokenResponse {
	t.Helper()
	q := url.Values{"service": {"palisade"}, "scope": scopes}
	resp, body := h.do(t, call{path: "/v2/token?" + q.Encode(), auth: basic("robot", apiToken)})
	wantStatus(t, "token", resp, body, http.StatusOK)
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatalf("token response %q: %v", body, err)
	}
	return tr
}

func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tr := h.getToken(t, adminToken, "repository:a/x:pull,push", "registry:catalog:*")
	if !strings.HasPrefix(tr.Token, auth.SessionTokenPrefix) || tr.AccessToken != tr.Token {
		t.Errorf("token = %q, access_token = %q; want one palr_ token", tr.Token, tr.AccessToken)
	}
	if tr.ExpiresIn != 300 {
		t.Errorf("expires_in = %d, want 300", tr.ExpiresIn)
	}
	if tr.IssuedAt == "" {
		t.Error("issued_at missing")
	}
	tok := bearer(tr.Token)

	// The session token pushes and pulls a/x.
	d := sha256Digest([]byte("hello"))
	resp, body := h.do(t, call{method: http.MethodPost, path: "/v2/a/x/blobs/uploads/?digest=" + d, auth: tok, body: strings.NewReader("hello"), length: 5})
	wantStatus(t, "push with session token", resp, body, http.StatusCreated)
	resp, body = h.do(t, call{path: "/v2/a/x/blobs/" + d, auth: tok})
	wantStatus(t, "pull with session token", resp, body, http.StatusOK)

	// It is not an admin credential for anything else: a scope its role
	// allows but it lacks is a new challenge (401 insufficient_scope).
	for _, c := range []call{
		{path: "/v2/a/y/blobs/" + d, auth: tok},
		{method: http.MethodDelete, path: "/v2/a/x/blobs/" + d, auth: tok},
		{path: "/v2/b/x/tags/list", auth: tok},
	} {
		resp, body := h.do(t, c)
		wantError(t, c.method+" "+c.path, resp, body, http.StatusUnauthorized, codeUnauthorized)
		if got := resp.Header.Get("WWW-Authenticate"); !strings.HasSuffix(got, `,error="insufficient_scope"`) {
			t.Errorf("%s: WWW-Authenticate = %q, want insufficient_scope", c.path, got)
		}
	}
}

func TestTokenEndpointIntersectsRole(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	d := h.pushBlob(t, "a/x", []byte("config"))
	tr := h.getToken(t, readOnlyToken, "repository:a/x:pull,push,delete")
	tok := bearer(tr.Token)
	// A blob no artifact references yet is for those who may push.
	resp, body := h.do(t, call{path: "/v2/a/x/blobs/" + d, auth: tok})
	wantError(t, "pull an unreferenced blob", resp, body, http.StatusForbidden, codeDenied)
	if resp, body := h.putManifest(t, "a/x", "v0", ocispec.MediaTypeImageManifest, h.image(t, "a/x", nil)); resp.StatusCode != http.StatusCreated {
		t.Fatalf("push manifest: %d %s", resp.StatusCode, body)
	}
	layer := sha256Digest(randomBytes(1, 3000))
	resp, body = h.do(t, call{method: http.MethodGet, path: "/v2/a/x/blobs/" + layer, auth: tok})
	wantStatus(t, "pull", resp, body, http.StatusOK)
	resp, body = h.do(t, call{method: http.MethodPost, path: "/v2/a/x/blobs/uploads/", auth: tok})
	wantError(t, "push", resp, body, http.StatusForbidden, codeDenied)
	resp, body = h.do(t, call{method: http.MethodDelete, path: "/v2/a/x/blobs/" + d, auth: tok})
	wantError(t, "delete", resp, body, http.StatusForbidden, codeDenied)
	// Wildcard actions are intersected the same way.
	tr = h.getToken(t, readOnlyToken, "repository:a/x:*")
	resp, body = h.do(t, call{method: http.MethodPut, path: "/v2/a/x/manifests/v1", auth: bearer(tr.Token), body: strings.NewReader("{}"), length: 2})
	wantError(t, "push with *", resp, body, http.StatusForbidden, codeDenied)
}

func TestRevokedTokenKillsSessions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tr := h.getToken(t, adminToken, "repository:a/x:pull")
	tok := bearer(tr.Token)
	resp, body := h.do(t, call{path: "/v2/a/x/tags/list", auth: tok})
	wantError(t, "before revocation", resp, body, http.StatusNotFound, codeNameUnknown)
	if err := h.st.RevokeToken(t.Context(), adminTokenID); err != nil {
		t.Fatal(err)
	}
	for _, authz := range []string{tok, bearer(adminToken), basic("u", adminToken)} {
		resp, body = h.do(t, call{path: "/v2/a/x/tags/list", auth: authz})
		wantError(t, "after revocation", resp, body, http.StatusUnauthorized, codeUnauthorized)
	}
	q := url.Values{"scope": {"repository:a/x:pull"}}
	resp, _ = h.do(t, call{path: "/v2/token?" + q.Encode(), auth: basic("u", adminToken)})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token endpoint after revocation: status %d, want 401", resp.StatusCode)
	}
}

func TestTokenEndpointPasswordGrant(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	form := url.Values{
		"grant_type": {"password"}, "username": {"robot"}, "password": {adminToken},
		"scope": {"repository:a/x:pull repository:a/y:pull,push"}, "service": {"palisade"},
	}
	resp, body := h.do(t, call{method: http.MethodPost, path: "/v2/token", body: strings.NewReader(form.Encode()),
		header: []string{"Content-Type", "application/x-www-form-urlencoded"}})
	wantStatus(t, "password grant", resp, body, http.StatusOK)
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tr.AccessToken, auth.SessionTokenPrefix) || tr.ExpiresIn != 300 {
		t.Fatalf("token response %s", body)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	resp, body = h.do(t, call{method: http.MethodPost, path: "/v2/a/y/blobs/uploads/", auth: bearer(tr.AccessToken)})
	wantStatus(t, "push a/y", resp, body, http.StatusAccepted)
	resp, body = h.do(t, call{method: http.MethodPost, path: "/v2/a/x/blobs/uploads/", auth: bearer(tr.AccessToken)})
	wantError(t, "push a/x", resp, body, http.StatusUnauthorized, codeUnauthorized)

	for _, tt := range []struct {
		name string
		form url.Values
		code int
		kind string
	}{
		{"wrong password", url.Values{"grant_type": {"password"}, "password": {"pal_wrong"}}, http.StatusUnauthorized, "invalid_grant"},
		{"no password", url.Values{"grant_type": {"password"}}, http.StatusUnauthorized, "invalid_grant"},
		{"refresh grant", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {adminToken}}, http.StatusBadRequest, "unsupported_grant_type"},
		{"bad scope", url.Values{"grant_type": {"password"}, "password": {adminToken}, "scope": {"repository"}}, http.StatusBadRequest, "invalid_scope"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := h.do(t, call{method: http.MethodPost, path: "/v2/token", body: strings.NewReader(tt.form.Encode()),
				header: []string{"Content-Type", "application/x-www-form-urlencoded"}})
			var e struct{ Error string }
			_ = json.Unmarshal(body, &e)
			if resp.StatusCode != tt.code || e.Error != tt.kind {
				t.Errorf("status %d error %q, want %d %q; body %s", resp.StatusCode, e.Error, tt.code, tt.kind, body)
			}
			if strings.Contains(string(body), adminToken) {
				t.Errorf("body echoes the token: %s", body)
			}
		})
	}
}

func TestTokenEndpointLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	scopes := func(n int) url.Values {
		q := url.Values{}
		for i := range n {
			q.Add("scope", "repository:a/r"+strconv.Itoa(i)+":pull")
		}
		return q
	}
	resp, body := h.do(t, call{path: "/v2/token?" + scopes(32).Encode(), auth: basic("u", adminToken)})
	wantStatus(t, "32 scopes", resp, body, http.StatusOK)
	resp, body = h.do(t, call{path: "/v2/token?" + scopes(33).Encode(), auth: basic("u", adminToken)})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "invalid_scope") {
		t.Errorf("33 scopes: status %d body %s, want 400 invalid_scope", resp.StatusCode, body)
	}
	// No credentials, and a method the endpoint does not serve.
	resp, _ = h.do(t, call{path: "/v2/token?scope=repository:a/x:pull"})
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Basic realm="palisade"` {
		t.Errorf("no credentials: status %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	resp, _ = h.do(t, call{method: http.MethodPut, path: "/v2/token", auth: basic("u", adminToken)})
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT: status %d, want 405", resp.StatusCode)
	}
	// A scope whose name smuggles a line break must not reach the stored
	// scope list, where it would read as two scopes.
	q := url.Values{"scope": {"repository:a/x\nrepository:b/y:pull"}}
	resp, body = h.do(t, call{path: "/v2/token?" + q.Encode(), auth: basic("u", adminToken)})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("scope with a line break: status %d body %s, want 400", resp.StatusCode, body)
	}
}

// TestSessionTokenCannotRenewItself checks that a session token cannot be
// exchanged for another: otherwise one leaked session token would live as
// long as its API token, not five minutes.
func TestSessionTokenCannotRenewItself(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tr := h.getToken(t, adminToken, "repository:a/x:pull")
	q := url.Values{"scope": {"repository:a/x:pull"}}
	resp, body := h.do(t, call{path: "/v2/token?" + q.Encode(), auth: bearer(tr.Token)})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("session token at the token endpoint: status %d body %s, want 401", resp.StatusCode, body)
	}
	form := url.Values{"grant_type": {"password"}, "password": {tr.Token}, "scope": {"repository:a/x:pull"}}
	resp, body = h.do(t, call{method: http.MethodPost, path: "/v2/token", body: strings.NewReader(form.Encode()),
		header: []string{"Content-Type", "application/x-www-form-urlencoded"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("session token as password: status %d body %s, want 401", resp.StatusCode, body)
	}
}

func TestTokenInQueryNotAccepted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tr := h.getToken(t, adminToken, "repository:a/x:pull")
	for _, q := range []string{
		"access_token=" + tr.Token, "access_token=" + adminToken, "token=" + adminToken, "password=" + adminToken,
	} {
		resp, body := h.do(t, call{path: "/v2/a/x/tags/list?" + q})
		wantError(t, q, resp, body, http.StatusUnauthorized, codeUnauthorized)
	}
	resp, _ := h.do(t, call{path: "/v2/token?scope=repository:a/x:pull&password=" + adminToken})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token endpoint with the token in the query: status %d, want 401", resp.StatusCode)
	}
}
