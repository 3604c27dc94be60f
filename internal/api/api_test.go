package api

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/palisade-sec/palisade/internal/auth"
	"github.com/palisade-sec/palisade/internal/server"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

// Fake tokens, test-only.
const (
	adminToken  = "pal_test-admin-token-000000000000000000000000"
	readerToken = "pal_test-reader-token-00000000000000000000000"
)

type env struct {
	url string
	st  store.Store
}

// start runs the API on a real server over a real SQLite store.
func start(t *testing.T) *env {
	t.Helper()
	return startWith(t, nil)
}

// startWith is start with options changed by set.
func startWith(t *testing.T, set func(*Options)) *env {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(t.TempDir(), "palisade.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.CreatePrincipal(ctx, store.Principal{ID: "root", Name: "root", Kind: store.KindUser, Admin: true, Clearance: store.Restricted}); err != nil {
		t.Fatal(err)
	}
	for _, tk := range []store.Token{
		{ID: "admin", PrincipalID: "root", Hash: sha256.Sum256([]byte(adminToken))},
		{ID: "reader", PrincipalID: "root", Scope: "*:reader", Hash: sha256.Sum256([]byte(readerToken))},
	} {
		if _, err := st.CreateToken(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	authn := auth.New(auth.Options{Store: st})
	opts := Options{Store: st, Auth: authn, ProjectKeyID: "local:kek.key"}
	if set != nil {
		set(&opts)
	}
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	a.Mount(srv)
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(sctx) }()
	t.Cleanup(func() { cancel(); <-done })
	e := &env{url: "http://" + ln.Addr().String(), st: st}
	for range 100 { // until it answers
		if resp, err := http.Get(e.url + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return e
}

// do sends a request with token (none when "") and decodes a JSON body
// into out when out is not nil.
func (e *env) do(t *testing.T, method, path, token, body string, out any) *http.Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
	return resp
}

// TestOpenAPIMatchesRoutes holds docs/api/openapi.yaml against the route
// table the router is built from: every route documented, every
// documented route served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../docs/api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                          `yaml:"openapi"`
		Paths   map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	var documented, served []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	for _, rt := range Routes() {
		// OpenAPI writes a ServeMux wildcard {path...} as {path}.
		served = append(served, rt.Method+" "+strings.ReplaceAll(rt.Path, "...}", "}"))
	}
	sort.Strings(documented)
	sort.Strings(served)
	if diff := cmp.Diff(documented, served); diff != "" {
		t.Errorf("openapi.yaml paths (-documented +served):\n%s", diff)
	}
}

// TestEveryRouteServed sends each route's method and path to a live
// server and checks that the router dispatches it (not the catch-all 404,
// not 405), and that each refuses a request without a token.
func TestEveryRouteServed(t *testing.T) {
	t.Parallel()
	e := start(t)
	d := "sha256:" + strings.Repeat("a", 64)
	for _, rt := range Routes() {
		path := strings.NewReplacer("{project}", "p", "{digest}", d).Replace(rt.Path) + "?repository=r"
		var body apiError
		resp := e.do(t, rt.Method, path, "", "", &body)
		switch {
		case rt.Public && resp.StatusCode == http.StatusUnauthorized:
			t.Errorf("public %s %s without a token = 401", rt.Method, rt.Path)
		case !rt.Public && resp.StatusCode != http.StatusUnauthorized:
			t.Errorf("%s %s without a token = %d, want 401", rt.Method, rt.Path, resp.StatusCode)
		}
		body = apiError{}
		resp = e.do(t, rt.Method, path, adminToken, "{}", &body)
		if resp.StatusCode == http.StatusMethodNotAllowed || strings.Contains(body.Error.Message, "no such API route") {
			t.Errorf("%s %s is not served: %d %+v", rt.Method, rt.Path, resp.StatusCode, body)
		}
	}
	var body apiError
	if resp := e.do(t, "GET", "/api/v1/nothing", adminToken, "", &body); resp.StatusCode != 404 || body.Error.Code != "not_found" {
		t.Errorf("unknown route = %d %+v, want a JSON 404", resp.StatusCode, body)
	}
}

func TestProjects(t *testing.T) {
	t.Parallel()
	e := start(t)
	tests := []struct {
		name, token, body string
		want              int
	}{
		{"admin creates", adminToken, `{"name":"vision"}`, 201},
		{"duplicate", adminToken, `{"name":"vision"}`, 409},
		{"invalid name", adminToken, `{"name":"Vision/x"}`, 400},
		{"unknown field", adminToken, `{"name":"a","quota":1}`, 400},
		{"not JSON", adminToken, `vision`, 400},
		{"read-only token", readerToken, `{"name":"nlp"}`, 403},
		{"no token", "", `{"name":"nlp"}`, 401},
		{"unknown token", "pal_not-a-real-token-0000000000000000000000000", `{"name":"nlp"}`, 401},
	}
	for _, tt := range tests {
		var body apiError
		resp := e.do(t, "POST", "/api/v1/projects", tt.token, tt.body, &body)
		if resp.StatusCode != tt.want {
			t.Errorf("%s: POST = %d %+v, want %d", tt.name, resp.StatusCode, body, tt.want)
		}
		if tt.want >= 400 && body.Error.Message == "" {
			t.Errorf("%s: error without a message", tt.name)
		}
	}
	var list struct{ Items []Project }
	e.do(t, "GET", "/api/v1/projects", readerToken, "", &list)
	if len(list.Items) != 1 || list.Items[0].Name != "vision" || list.Items[0].Created.IsZero() {
		t.Errorf("projects = %+v, want vision only", list.Items)
	}
	var p Project
	if resp := e.do(t, "GET", "/api/v1/projects/vision", readerToken, "", &p); resp.StatusCode != 200 || p.Name != "vision" {
		t.Errorf("GET project = %d %+v", resp.StatusCode, p)
	}
	if resp := e.do(t, "GET", "/api/v1/projects/nope", readerToken, "", nil); resp.StatusCode != 404 {
		t.Errorf("GET unknown project = %d, want 404", resp.StatusCode)
	}
	stored, err := e.st.Project(t.Context(), "vision")
	if err != nil || stored.KeyID != "local:kek.key" {
		t.Errorf("stored project = %+v, %v; want key local:kek.key", stored, err)
	}
}

func TestSessionTokenRefused(t *testing.T) {
	t.Parallel()
	e := start(t)
	authn := auth.New(auth.Options{Store: e.st})
	tok, _, err := authn.Issue(t.Context(), mustPrincipal(t, authn, adminToken), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp := e.do(t, "GET", "/api/v1/projects", tok, "", nil); resp.StatusCode != 401 {
		t.Errorf("session token on the API = %d, want 401", resp.StatusCode)
	}
}

func mustPrincipal(t *testing.T, a *auth.Authenticator, token string) auth.Principal {
	t.Helper()
	req, _ := http.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	p, err := a.Authenticate(req)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// putModel stores a ModelPack-style manifest with two files and returns
// its digest.
func putModel(t *testing.T, st store.Store, project, repo, tag string, meta store.ArtifactMeta, files ...string) string {
	t.Helper()
	ctx := t.Context()
	if _, err := st.EnsureRepository(ctx, project, repo); err != nil {
		t.Fatal(err)
	}
	var layers []string
	for i, f := range files {
		layers = append(layers, fmt.Sprintf(`{"mediaType":"application/vnd.cncf.model.weight.v1.raw","digest":"sha256:%064x","size":%d,"annotations":{"org.cncf.model.filepath":%q}}`, i+1, 100*(i+1), f))
	}
	body := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.cncf.model.manifest.v1+json","config":{"mediaType":"application/vnd.cncf.model.config.v1+json","digest":"sha256:%064x","size":2},"layers":[%s],"annotations":{"org.opencontainers.image.description":"%s"}}`,
		99, strings.Join(layers, ","), meta.Description)
	d := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(body)))
	_, err := st.PutManifest(ctx, store.Manifest{Project: project, Repository: repo, Digest: d,
		MediaType: "application/vnd.oci.image.manifest.v1+json", ArtifactType: "application/vnd.cncf.model.manifest.v1+json",
		Body: []byte(body), Meta: meta}, tag)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestArtifacts(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := t.Context()
	if _, err := e.st.CreateProject(ctx, store.Project{Name: "p", KeyID: "k"}); err != nil {
		t.Fatal(err)
	}
	llm := putModel(t, e.st, "p", "llm", "v1", store.ArtifactMeta{Kind: "model", Classification: store.Confidential,
		Description: "chat model", Framework: "pytorch", Labels: map[string]string{"team": "nlp"}}, "model.safetensors", "config.json")
	det := putModel(t, e.st, "p", "vision/detector", "", store.ArtifactMeta{Kind: "model", Description: "boxes"}, "weights.onnx")

	var repos struct {
		Items []Repository
		Next  string
	}
	e.do(t, "GET", "/api/v1/projects/p/repositories?n=1", readerToken, "", &repos)
	if len(repos.Items) != 1 || repos.Items[0].Name != "llm" || repos.Next != "llm" {
		t.Errorf("repositories page 1 = %+v", repos)
	}
	e.do(t, "GET", "/api/v1/projects/p/repositories?n=1&last=llm", readerToken, "", &repos)
	if len(repos.Items) != 1 || repos.Items[0].Name != "vision/detector" {
		t.Errorf("repositories page 2 = %+v", repos)
	}
	var list struct {
		Items []Artifact
		Next  string
	}
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"", []string{llm, det}},
		{"?repository=llm", []string{llm}},
		{"?classification=confidential", []string{llm}},
		{"?label=team=nlp", []string{llm}},
		{"?q=BOX", []string{det}},
		{"?kind=dataset", nil},
	} {
		list.Items = nil
		resp := e.do(t, "GET", "/api/v1/projects/p/artifacts"+tt.query, readerToken, "", &list)
		var got []string
		for _, a := range list.Items {
			got = append(got, a.Digest)
		}
		if resp.StatusCode != 200 || !slices.Equal(got, tt.want) {
			t.Errorf("artifacts%s = %d %v, want %v", tt.query, resp.StatusCode, got, tt.want)
		}
	}
	e.do(t, "GET", "/api/v1/projects/p/artifacts?n=1", readerToken, "", &list)
	if len(list.Items) != 1 || list.Next != "llm@"+llm {
		t.Errorf("first page = %d items, next %q; want 1 and llm@%s", len(list.Items), list.Next, llm)
	}
	e.do(t, "GET", "/api/v1/projects/p/artifacts?n=1&last="+list.Next, readerToken, "", &list)
	if len(list.Items) != 1 || list.Items[0].Digest != det {
		t.Errorf("second page = %+v, want the detector", list.Items)
	}
	for _, q := range []string{"?n=0", "?n=1001", "?classification=secret", "?label=novalue"} {
		if resp := e.do(t, "GET", "/api/v1/projects/p/artifacts"+q, readerToken, "", nil); resp.StatusCode != 400 {
			t.Errorf("artifacts%s = %d, want 400", q, resp.StatusCode)
		}
	}
	if resp := e.do(t, "GET", "/api/v1/projects/nope/artifacts", readerToken, "", nil); resp.StatusCode != 404 {
		t.Errorf("artifacts of an unknown project = %d, want 404", resp.StatusCode)
	}

	var d ArtifactDetail
	resp := e.do(t, "GET", "/api/v1/projects/p/artifacts/"+llm+"?repository=llm", readerToken, "", &d)
	if resp.StatusCode != 200 {
		t.Fatalf("detail = %d", resp.StatusCode)
	}
	wantFiles := []File{
		{Path: "model.safetensors", Digest: fmt.Sprintf("sha256:%064x", 1), Size: 100, MediaType: "application/vnd.cncf.model.weight.v1.raw"},
		{Path: "config.json", Digest: fmt.Sprintf("sha256:%064x", 2), Size: 200, MediaType: "application/vnd.cncf.model.weight.v1.raw"},
	}
	if diff := cmp.Diff(d.Files, wantFiles); diff != "" {
		t.Errorf("detail files (-got +want):\n%s", diff)
	}
	if d.Config == nil || d.Config.MediaType != "application/vnd.cncf.model.config.v1+json" || !slices.Equal(d.Tags, []string{"v1"}) ||
		d.Classification != "confidential" || d.Framework != "pytorch" || d.Annotations["org.opencontainers.image.description"] != "chat model" {
		t.Errorf("detail = %+v", d)
	}
	for _, path := range []string{
		"/api/v1/projects/p/artifacts/" + llm,                    // no repository
		"/api/v1/projects/p/artifacts/sha256:xyz?repository=llm", // bad digest
	} {
		if resp := e.do(t, "GET", path, readerToken, "", nil); resp.StatusCode != 400 {
			t.Errorf("GET %s = %d, want 400", path, resp.StatusCode)
		}
	}
	if resp := e.do(t, "GET", "/api/v1/projects/p/artifacts/"+det+"?repository=llm", readerToken, "", nil); resp.StatusCode != 404 {
		t.Errorf("artifact in the wrong repository = %d, want 404", resp.StatusCode)
	}

	patchPath := "/api/v1/projects/p/artifacts/" + det + "?repository=vision/detector"
	if resp := e.do(t, "PATCH", patchPath, readerToken, `{"owner":"x"}`, nil); resp.StatusCode != 403 {
		t.Errorf("PATCH with a read-only token = %d, want 403", resp.StatusCode)
	}
	var patched Artifact
	resp = e.do(t, "PATCH", patchPath, adminToken, `{"owner":"cv-team","classification":"restricted","labels":{"stage":"prod"}}`, &patched)
	if resp.StatusCode != 200 || patched.Owner != "cv-team" || patched.Classification != "restricted" ||
		patched.Description != "boxes" || patched.Labels["stage"] != "prod" {
		t.Errorf("PATCH = %d %+v", resp.StatusCode, patched)
	}
	stored, err := e.st.Manifest(ctx, "p", "vision/detector", det)
	if err != nil || stored.Meta.Owner != "cv-team" || stored.Meta.Classification != store.Restricted {
		t.Errorf("stored after PATCH = %+v, %v", stored.Meta, err)
	}
	for _, body := range []string{`{"classification":"secret"}`, `{"kind":"weights"}`, `{"color":"red"}`, `{"owner":"` + strings.Repeat("x", 5000) + `"}`} {
		if resp := e.do(t, "PATCH", patchPath, adminToken, body, nil); resp.StatusCode != 400 {
			t.Errorf("PATCH %.40s = %d, want 400", body, resp.StatusCode)
		}
	}
}
