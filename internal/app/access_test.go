package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/palisade-sec/palisade/internal/access"
	"github.com/palisade-sec/palisade/internal/api"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/registry"
	"github.com/palisade-sec/palisade/internal/store"
)

// Who may call each route: the route x role x clearance table of
// docs/access-control.md. Every route the server routes must have an
// entry (TestAccessTableCoversEveryRoute), and every entry is played
// against a live server for every role at two clearances
// (TestAccessTable).
//
// Roles: the six project roles in project "ml", "admin" (a system
// administrator without a role in ml) and "stranger" (a user with a role
// in another project only). The fixture artifact is classified
// confidential: "cleared" entries allow only principals whose clearance
// is confidential, not those at internal.
type rule struct {
	roles   string // space-separated roles allowed; "*" for every authenticated principal
	cleared bool   // and only at a clearance covering the fixture (confidential)
	// pushers are allowed whatever their clearance (HEAD of a blob: a
	// pusher checks what the registry has).
	pushersAnyClearance bool
}

const (
	pushers   = "owner maintainer developer admin"
	pullers   = "owner maintainer developer reader admin"
	deleters  = "owner maintainer admin"
	listers   = "owner maintainer developer reader auditor deployer admin"
	readers   = "owner maintainer developer reader auditor admin"
	adminOnly = "admin"
)

var accessTable = map[string]rule{
	// The registry (OCI distribution API).
	"GET /v2/":                                {roles: "*"},
	"HEAD /v2/":                               {roles: "*"},
	"GET /v2/{name}/manifests/{reference}":    {roles: pullers, cleared: true},
	"HEAD /v2/{name}/manifests/{reference}":   {roles: pullers + " deployer"},
	"PUT /v2/{name}/manifests/{reference}":    {roles: pushers},
	"DELETE /v2/{name}/manifests/{reference}": {roles: deleters},
	"GET /v2/{name}/blobs/{digest}":           {roles: pullers, cleared: true},
	"HEAD /v2/{name}/blobs/{digest}":          {roles: pullers, cleared: true, pushersAnyClearance: true},
	"DELETE /v2/{name}/blobs/{digest}":        {roles: deleters},
	"POST /v2/{name}/blobs/uploads/":          {roles: pushers},
	"GET /v2/{name}/blobs/uploads/{id}":       {roles: pushers},
	"PATCH /v2/{name}/blobs/uploads/{id}":     {roles: pushers},
	"PUT /v2/{name}/blobs/uploads/{id}":       {roles: pushers},
	"DELETE /v2/{name}/blobs/uploads/{id}":    {roles: pushers},
	"GET /v2/{name}/tags/list":                {roles: listers},
	"GET /v2/{name}/referrers/{digest}":       {roles: readers},

	// The native API.
	"GET /api/v1/whoami":                                  {roles: "*"},
	"GET /api/v1/tokens":                                  {roles: "*"},
	"POST /api/v1/tokens":                                 {roles: "*"},
	"DELETE /api/v1/tokens/{id}":                          {roles: "*"},
	"GET /api/v1/users":                                   {roles: adminOnly},
	"POST /api/v1/users":                                  {roles: adminOnly},
	"GET /api/v1/users/{name}":                            {roles: adminOnly},
	"PATCH /api/v1/users/{name}":                          {roles: adminOnly},
	"GET /api/v1/projects":                                {roles: "*"},
	"POST /api/v1/projects":                               {roles: adminOnly},
	"GET /api/v1/projects/{project}":                      {roles: listers},
	"GET /api/v1/projects/{project}/members":              {roles: "owner maintainer auditor admin"},
	"PUT /api/v1/projects/{project}/members/{name}":       {roles: "owner admin"},
	"DELETE /api/v1/projects/{project}/members/{name}":    {roles: "owner admin"},
	"GET /api/v1/projects/{project}/usage":                {roles: "owner maintainer developer auditor admin"},
	"PUT /api/v1/projects/{project}/quota":                {roles: adminOnly},
	"GET /api/v1/projects/{project}/repositories":         {roles: listers},
	"GET /api/v1/projects/{project}/artifacts":            {roles: listers},
	"GET /api/v1/projects/{project}/artifacts/{digest}":   {roles: readers, cleared: true},
	"PATCH /api/v1/projects/{project}/artifacts/{digest}": {roles: pushers, cleared: true},
	"POST /api/v1/admin/rotate-keys":                      {roles: adminOnly},
	"POST /api/v1/admin/projects/{project}/shred":         {roles: adminOnly},
	"POST /api/v1/admin/fsck":                             {roles: adminOnly},
	"POST /api/v1/admin/gc":                               {roles: adminOnly},
	"GET /api/v1/audit":                                   {roles: adminOnly},
	"GET /api/v1/audit/entries":                           {roles: adminOnly},
	"GET /api/v1/audit/entries/{index}/proof":             {roles: adminOnly},
	"GET /api/v1/audit/checkpoints":                       {roles: adminOnly},
	"GET /api/v1/audit/tiles/{path...}":                   {roles: adminOnly},
	"GET /api/v1/projects/{project}/audit/entries":        {roles: "owner auditor admin"},
	"POST /api/v1/admin/erase-subject":                    {roles: adminOnly},
}

// publicRoutes need no credentials at all.
var publicRoutes = []string{"GET /healthz", "GET /readyz", "GET /metrics", "/v2/token",
	"GET /api/v1/auth/sso", "GET /api/v1/auth/sso/login", "GET /api/v1/auth/sso/callback",
	"POST /api/v1/auth/sso/device", "POST /api/v1/auth/sso/device/token"}

// servedRoutes expands what the server routes into METHOD PATH entries:
// the registry's "/v2/" and the API's "/api/" catch-alls become the routes
// behind them.
func servedRoutes(t *testing.T, patterns []string) []string {
	t.Helper()
	var out []string
	for _, p := range patterns {
		switch p {
		case "/v2/":
			for rt, methods := range registry.Routes() {
				for _, m := range methods {
					out = append(out, m+" "+rt)
				}
			}
		case "/api/":
			// The JSON 404 for the rest of /api/: serves nothing.
		default:
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func TestAccessTableCoversEveryRoute(t *testing.T) {
	t.Parallel()
	cfg := testServerConfig(t)
	cfg.AdminToken = e2eToken
	rt, err := New().newServer(t.Context(), cfg, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.close(context.Background())
	served := servedRoutes(t, rt.srv.Patterns())
	var missing, public []string
	for _, r := range served {
		if slices.Contains(publicRoutes, r) {
			public = append(public, r)
			continue
		}
		if _, ok := accessTable[r]; !ok {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		t.Errorf("routes served without an entry in accessTable (add one, and to docs/access-control.md):\n  %s", strings.Join(missing, "\n  "))
	}
	for r := range accessTable {
		if !slices.Contains(served, r) {
			t.Errorf("accessTable has %q, which the server does not route", r)
		}
	}
	if len(public) != len(publicRoutes) {
		t.Errorf("public routes served: %v, want %v", public, publicRoutes)
	}
	// Every API route names its action in the one decision function.
	for _, r := range api.Routes() {
		if r.Action == "" && !r.Public {
			t.Errorf("%s %s has no access.Action", r.Method, r.Path)
		}
		if r.Public && !slices.Contains(publicRoutes, r.Method+" "+r.Path) {
			t.Errorf("%s %s is public but not in publicRoutes", r.Method, r.Path)
		}
	}
}

// principal is one caller of the table test.
type principal struct {
	role      string // a project role in ml, "admin" or "stranger"
	clearance store.Classification
	token     string
}

func (p principal) String() string { return p.role + "@" + string(p.clearance) }

// allowedBy reports what the table says of p calling route.
func (r rule) allowedBy(p principal) bool {
	if r.roles == "*" {
		return true
	}
	if !slices.Contains(strings.Fields(r.roles), p.role) {
		return false
	}
	if r.pushersAnyClearance && slices.Contains(strings.Fields(pushers), p.role) {
		return true
	}
	return !r.cleared || p.clearance == store.Confidential
}

// accessFixture is the state every request of the table test starts from.
type accessFixture struct {
	base     string
	st       store.Store
	client   *http.Client
	manifest []byte
	digest   string // the manifest's
	layer    string // a blob it references
}

func (f *accessFixture) send(t *testing.T, method, path, token string, body []byte, header ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, f.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// newAccessFixture returns the fixture of a server at base: an image
// manifest of a config and a layer, classified classification.
func newAccessFixture(t *testing.T, base string, st store.Store, classification string) *accessFixture {
	t.Helper()
	f := &accessFixture{base: base, st: st, client: &http.Client{}}
	config := []byte(`{"architecture":"amd64","os":"linux"}`)
	layer := []byte("weights of the fixture model")
	f.layer = fmt.Sprintf("sha256:%x", sha256.Sum256(layer))
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest,
		Config:      ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digestOf(config), Size: int64(len(config))},
		Layers:      []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageLayer, Digest: digestOf(layer), Size: int64(len(layer))}},
		Annotations: map[string]string{"org.palisade.classification": classification}}
	m.SchemaVersion = 2
	var err error
	if f.manifest, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	f.digest = fmt.Sprintf("sha256:%x", sha256.Sum256(f.manifest))
	return f
}

// reset brings the fixture back: project ml with its members, the
// confidential artifact ml/model:v1, and the user "target".
func (f *accessFixture) reset(t *testing.T, members map[string]string) {
	t.Helper()
	ctx := t.Context()
	if _, err := f.st.CreateProject(ctx, store.Project{Name: "ml", KeyID: "local:kek.key"}); err != nil && !isExists(err) {
		t.Fatal(err)
	}
	for id, role := range members {
		if err := f.st.SetMember(ctx, store.Member{Project: "ml", PrincipalID: id, Role: role, Source: "manual"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.st.SetQuota(ctx, "ml", store.Quota{}); err != nil {
		t.Fatal(err)
	}
	config := []byte(`{"architecture":"amd64","os":"linux"}`)
	layer := []byte("weights of the fixture model")
	for _, b := range [][]byte{config, layer} {
		d := fmt.Sprintf("sha256:%x", sha256.Sum256(b))
		if code, body := f.send(t, "POST", "/v2/ml/model/blobs/uploads/?digest="+d, e2eToken, b); code != http.StatusCreated {
			t.Fatalf("push blob: %d %s", code, body)
		}
	}
	if code, body := f.send(t, "PUT", "/v2/ml/model/manifests/v1", e2eToken, f.manifest, "Content-Type", ocispec.MediaTypeImageManifest); code != http.StatusCreated {
		t.Fatalf("push manifest: %d %s", code, body)
	}
	if _, err := f.st.PrincipalByName(ctx, "target"); err != nil {
		if _, err := f.st.CreatePrincipal(ctx, store.Principal{ID: "target", Name: "target", Kind: store.KindUser, Clearance: store.Public}); err != nil {
			t.Fatal(err)
		}
	}
}

func isExists(err error) bool {
	return err != nil && strings.Contains(err.Error(), store.ErrExists.Error())
}

// startUpload begins an upload session as the admin and returns its ID.
func (f *accessFixture) startUpload(t *testing.T) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", f.base+"/v2/ml/model/blobs/uploads/", nil)
	req.Header.Set("Authorization", "Bearer "+e2eToken)
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusAccepted || loc == "" {
		t.Fatalf("start upload: %d", resp.StatusCode)
	}
	return loc[strings.LastIndex(loc, "/")+1:]
}

// request builds the concrete request of a route for the fixture.
func (f *accessFixture) request(t *testing.T, route string) (method, path string, body []byte, header []string) {
	t.Helper()
	method, pattern, _ := strings.Cut(route, " ")
	path = strings.ReplaceAll(pattern, "{project}", "ml")
	if strings.HasPrefix(pattern, "/v2/") {
		path = strings.NewReplacer("{name}", "ml/model", "{reference}", "v1").Replace(path)
	}
	switch {
	case strings.Contains(pattern, "/blobs/{digest}"):
		path = strings.Replace(path, "{digest}", f.layer, 1)
	case strings.Contains(pattern, "{digest}"):
		path = strings.Replace(path, "{digest}", f.digest, 1)
	}
	if strings.Contains(path, "/uploads/{id}") {
		path = strings.Replace(path, "{id}", f.startUpload(t), 1)
	}
	switch route {
	case "PUT /v2/{name}/manifests/{reference}":
		body, header = f.manifest, []string{"Content-Type", ocispec.MediaTypeImageManifest}
	case "PATCH /v2/{name}/blobs/uploads/{id}":
		body = []byte("chunk")
	case "PUT /v2/{name}/blobs/uploads/{id}":
		body = []byte("chunk")
		path += fmt.Sprintf("?digest=sha256:%x", sha256.Sum256(body))
	case "POST /api/v1/tokens":
		body = []byte(`{"name": "table"}`)
	case "DELETE /api/v1/tokens/{id}":
		path = strings.Replace(path, "{id}", "victim", 1)
	case "POST /api/v1/users":
		body = []byte(`{"name": "new-user"}`)
	case "GET /api/v1/users/{name}", "PATCH /api/v1/users/{name}":
		path = strings.Replace(path, "{name}", "target", 1)
		if method == "PATCH" {
			body = []byte(`{"clearance": "internal"}`)
		}
	case "POST /api/v1/projects":
		body = []byte(`{"name": "created"}`)
	case "PUT /api/v1/projects/{project}/members/{name}":
		path = strings.Replace(path, "{name}", "target", 1)
		body = []byte(`{"role": "reader"}`)
	case "DELETE /api/v1/projects/{project}/members/{name}":
		path = strings.Replace(path, "{name}", "target", 1)
	case "PUT /api/v1/projects/{project}/quota":
		body = []byte(`{"bytes": 0, "artifacts": 0}`)
	case "GET /api/v1/projects/{project}/artifacts/{digest}", "PATCH /api/v1/projects/{project}/artifacts/{digest}":
		path += "?repository=model"
		if method == "PATCH" {
			body = []byte(`{"description": "edited"}`)
		}
	case "POST /api/v1/admin/rotate-keys":
		// A rotation waits out a grace period: the admin's call is
		// refused after the guard, as a bad request, which is all the
		// table needs.
		body = []byte(`{"project": "ml", "master": true}`)
	case "GET /api/v1/audit/entries/{index}/proof":
		path = strings.Replace(path, "{index}", "0", 1)
	case "GET /api/v1/audit/tiles/{path...}":
		path = strings.Replace(path, "{path...}", "checkpoint", 1)
	case "POST /api/v1/admin/erase-subject":
		body = []byte(`{"user": "target"}`)
	case "POST /api/v1/admin/gc":
		body = []byte(`{"dry_run": true}`)
	}
	return method, path, body, header
}

// TestAccessTable plays every route of accessTable for every role at two
// clearances against a live server: a denial must be 403, an allowed call
// anything but 401, 403 or 429.
func TestAccessTable(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			cfg := testServerConfig(t)
			if db == "postgres" {
				cfg.Database = postgresDSN(t)
			}
			playAccessTable(t, cfg)
		})
	}
}

func playAccessTable(t *testing.T, cfg config.Server) {
	addr, st := liveServer(t, cfg)
	ctx := t.Context()
	f := newAccessFixture(t, "http://"+addr, st, "confidential")

	// The principals, each with an unscoped token.
	if _, err := st.CreateProject(ctx, store.Project{Name: "other", KeyID: "local:kek.key"}); err != nil {
		t.Fatal(err)
	}
	members := map[string]string{}
	var principals []principal
	roles := append([]string{"admin", "stranger"}, func() []string {
		var rs []string
		for _, r := range access.Roles() {
			rs = append(rs, string(r))
		}
		return rs
	}()...)
	for _, role := range roles {
		for _, c := range []store.Classification{store.Internal, store.Confidential} {
			id := role + "-" + string(c)
			if _, err := st.CreatePrincipal(ctx, store.Principal{ID: id, Name: id, Kind: store.KindUser, Admin: role == "admin", Clearance: c}); err != nil {
				t.Fatal(err)
			}
			switch role {
			case "admin":
			case "stranger":
				if err := st.SetMember(ctx, store.Member{Project: "other", PrincipalID: id, Role: "owner", Source: "manual"}); err != nil {
					t.Fatal(err)
				}
			default:
				members[id] = role
			}
			token := "pal_table-" + id + strings.Repeat("0", 20)
			if _, err := st.CreateToken(ctx, store.Token{ID: id, Name: id, PrincipalID: id, Hash: sha256.Sum256([]byte(token))}); err != nil {
				t.Fatal(err)
			}
			principals = append(principals, principal{role: role, clearance: c, token: token})
		}
	}
	if _, err := st.CreateToken(ctx, store.Token{ID: "victim", Name: "victim", PrincipalID: "admin", Hash: sha256.Sum256([]byte("pal_victim"))}); err != nil {
		t.Fatal(err)
	}

	routes := make([]string, 0, len(accessTable))
	for r := range accessTable {
		routes = append(routes, r)
	}
	// Destructive routes last, the shredding of the fixture's project
	// very last; each route starts from a fresh fixture anyway.
	sort.SliceStable(routes, func(i, j int) bool {
		return weight(routes[i]) < weight(routes[j]) || weight(routes[i]) == weight(routes[j]) && routes[i] < routes[j]
	})
	for _, route := range routes {
		rule := accessTable[route]
		f.reset(t, members)
		// Denials first: they must not depend on what allowed calls did.
		ordered := slices.Clone(principals)
		sort.SliceStable(ordered, func(i, j int) bool { return !rule.allowedBy(ordered[i]) && rule.allowedBy(ordered[j]) })
		for _, p := range ordered {
			method, path, body, header := f.request(t, route)
			code, resp := f.send(t, method, path, p.token, body, header...)
			want := rule.allowedBy(p)
			switch {
			case want && (code == http.StatusUnauthorized || code == http.StatusForbidden || code == http.StatusTooManyRequests):
				t.Errorf("%s as %s: %d %s, want allowed", route, p, code, resp)
			case !want && code != http.StatusForbidden:
				t.Errorf("%s as %s: %d %s, want 403", route, p, code, resp)
			}
		}
	}
}

func digestOf(b []byte) digest.Digest { return digest.FromBytes(b) }

func weight(route string) int {
	switch {
	case strings.HasSuffix(route, "/shred"):
		return 3
	case strings.HasPrefix(route, "DELETE "):
		return 2
	case strings.HasPrefix(route, "GET ") || strings.HasPrefix(route, "HEAD "):
		return 0
	}
	return 1
}

const (
	accessBegin = "<!-- routes:begin (generated by: go test ./internal/app -run TestDocsAccessTable -update) -->"
	accessEnd   = "<!-- routes:end -->"
)

// accessDoc renders accessTable as the Markdown table of
// docs/access-control.md: a column per role, "yes", "cleared" (with a
// clearance at or above the artifact's classification) or "-".
func accessDoc() string {
	cols := []string{"admin", "owner", "maintainer", "developer", "reader", "auditor", "deployer", "other"}
	var b strings.Builder
	b.WriteString("| route | " + strings.Join(cols, " | ") + " |\n|---|" + strings.Repeat("---|", len(cols)) + "\n")
	routes := make([]string, 0, len(accessTable))
	for r := range accessTable {
		routes = append(routes, r)
	}
	sort.Slice(routes, func(i, j int) bool {
		pi, pj := strings.SplitN(routes[i], " ", 2)[1], strings.SplitN(routes[j], " ", 2)[1]
		return pi < pj || pi == pj && routes[i] < routes[j]
	})
	for _, r := range routes {
		rule := accessTable[r]
		b.WriteString("| `" + r + "` |")
		for _, c := range cols {
			role := c
			if c == "other" {
				role = "stranger"
			}
			low := rule.allowedBy(principal{role: role, clearance: store.Internal})
			high := rule.allowedBy(principal{role: role, clearance: store.Confidential})
			switch {
			case low:
				b.WriteString(" yes |")
			case high:
				b.WriteString(" cleared |")
			default:
				b.WriteString(" - |")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestDocsAccessTable keeps the route table of docs/access-control.md
// identical to accessTable, which TestAccessTable plays against a live
// server.
func TestDocsAccessTable(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "docs", "access-control.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	i, j := strings.Index(text, accessBegin), strings.Index(text, accessEnd)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the %q and %q markers", path, accessBegin, accessEnd)
	}
	want := text[:i+len(accessBegin)] + "\n" + accessDoc() + text[j:]
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want != text {
		t.Errorf("%s is out of date with accessTable; run: go test ./internal/app -run TestDocsAccessTable -update", path)
	}
}
