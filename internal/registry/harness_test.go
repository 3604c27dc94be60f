package registry

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/palisade-sec/palisade/internal/auth"
	"github.com/palisade-sec/palisade/internal/blob"
	"github.com/palisade-sec/palisade/internal/crypto"
	"github.com/palisade-sec/palisade/internal/server"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

// API tokens the harness creates. They are fake secrets: only their
// SHA-256 hashes reach the store.
const (
	adminToken    = "pal_test-admin-00000000000000000000000000000000"
	readOnlyToken = "pal_test-readonly-0000000000000000000000000000"
	adminTokenID  = "test-admin"
	roTokenID     = "test-readonly"
)

// harness is a real registry: SQLite in a temporary directory, an
// in-memory bucket sealed by a real envelope over a local key, the
// authenticator and the registry mounted on a running server.Server (so
// that its middleware, body limits and route labels are the real ones).
type harness struct {
	base   string // "http://127.0.0.1:PORT"
	host   string // "127.0.0.1:PORT"
	st     store.Store
	blobs  *blob.Store
	reg    *Registry
	client *http.Client
	logs   *syncBuffer
}

// newHarness starts a registry with the projects "a" and "b" and the
// admin and read-only tokens; opts adjust the registry's options.
func newHarness(t testing.TB, opts ...func(*Options)) *harness {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()

	st, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(dir, "palisade.db")})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })

	kekURL, err := crypto.LocalKEK(filepath.Join(dir, "kek"))
	if err != nil {
		t.Fatalf("local KEK: %v", err)
	}
	keeper, err := crypto.OpenKeeper(ctx, kekURL)
	if err != nil {
		t.Fatalf("open keeper: %v", err)
	}
	t.Cleanup(func() { _ = keeper.Close() })
	env, err := crypto.NewEnvelope(keeper, crypto.Options{KeyID: "local:test"})
	if err != nil {
		t.Fatalf("new envelope: %v", err)
	}
	blobs, err := blob.OpenURL(ctx, "mem://", blob.Options{Sealer: env})
	if err != nil {
		t.Fatalf("open blobs: %v", err)
	}
	t.Cleanup(func() { _ = blobs.Close(context.Background()) })

	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := server.New(server.Options{Addr: "127.0.0.1:0", Logger: log, ShutdownTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	authn := auth.New(auth.Options{Store: st, Logger: log})
	o := Options{Store: st, Blobs: blobs, Auth: authn, Logger: log, Metrics: srv.Registry()}
	for _, f := range opts {
		f(&o)
	}
	reg, err := New(o)
	if err != nil {
		t.Fatalf("new registry: %v", err)
	}
	reg.Mount(srv)

	for _, p := range []string{"a", "b"} {
		if _, err := st.CreateProject(ctx, store.Project{Name: p, KeyID: "local:test"}); err != nil {
			t.Fatalf("create project %s: %v", p, err)
		}
	}
	if _, err := st.CreatePrincipal(ctx, store.Principal{ID: "root", Name: "root", Kind: store.KindUser, Admin: true, Clearance: store.Restricted}); err != nil {
		t.Fatalf("create principal: %v", err)
	}
	for _, tk := range []struct {
		id, secret, scope string
	}{
		{adminTokenID, adminToken, ""},
		{roTokenID, readOnlyToken, "*:reader"},
	} {
		_, err := st.CreateToken(ctx, store.Token{ID: tk.id, Name: tk.id, PrincipalID: "root", Scope: tk.scope, Hash: sha256.Sum256([]byte(tk.secret))})
		if err != nil {
			t.Fatalf("create token %s: %v", tk.id, err)
		}
	}

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	// Registered last, so it runs first: the server stops before the
	// stores it uses are closed.
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("server stopped with %v", err)
		}
	})

	host := srv.Addr().String()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	t.Cleanup(tr.CloseIdleConnections)
	return &harness{
		base: "http://" + host, host: host, st: st, blobs: blobs, reg: reg,
		client: &http.Client{
			Transport: tr,
			// Registry answers carry Location; the tests read it.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		logs: logs,
	}
}

// call is one request: the zero value is an unauthenticated GET.
type call struct {
	method string
	path   string // absolute path, or a full URL
	auth   string // the Authorization header
	body   io.Reader
	// length is the Content-Length; -1 sends the body chunked. It is
	// taken from body when body is a *bytes.Reader and length is 0.
	length int64
	header []string // name, value pairs
}

// bearer returns an Authorization header value.
func bearer(token string) string { return "Bearer " + token }

// basic returns an HTTP Basic Authorization header value.
func basic(user, pass string) string {
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth(user, pass)
	return r.Header.Get("Authorization")
}

// do sends c and returns the response with its body read (and closed).
func (h *harness) do(t testing.TB, c call) (*http.Response, []byte) {
	t.Helper()
	resp := h.send(t, c)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", c.method, c.path, err)
	}
	return resp, b
}

// send sends c and returns the response with its body unread.
func (h *harness) send(t testing.TB, c call) *http.Response {
	t.Helper()
	resp, err := h.try(c)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	return resp
}

// try sends c and returns the client's error instead of failing.
func (h *harness) try(c call) (*http.Response, error) {
	req, err := h.newRequest(c)
	if err != nil {
		return nil, err
	}
	return h.client.Do(req)
}

func (h *harness) newRequest(c call) (*http.Request, error) {
	method := c.method
	if method == "" {
		method = http.MethodGet
	}
	u := c.path
	if strings.HasPrefix(u, "/") {
		u = h.base + u
	}
	req, err := http.NewRequest(method, u, c.body)
	if err != nil {
		return nil, err
	}
	switch {
	case c.length < 0:
		req.ContentLength = -1
		if c.body != nil {
			// Hide the concrete type so that the client streams it.
			req.Body = io.NopCloser(struct{ io.Reader }{c.body})
		}
	case c.length > 0:
		req.ContentLength = c.length
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	for i := 0; i+1 < len(c.header); i += 2 {
		req.Header.Set(c.header[i], c.header[i+1])
	}
	return req, nil
}

// admin is call with the admin token as Bearer credentials.
func admin(method, path string, body []byte, header ...string) call {
	c := call{method: method, path: path, auth: bearer(adminToken), header: header}
	if body != nil {
		c.body = bytes.NewReader(body)
	}
	return c
}

// errorCode returns the code of the first error of a spec error body.
func errorCode(t testing.TB, body []byte) string {
	t.Helper()
	var e struct {
		Errors []apiError `json:"errors"`
	}
	if err := json.Unmarshal(body, &e); err != nil || len(e.Errors) == 0 {
		t.Fatalf("not an error body: %q", body)
	}
	return e.Errors[0].Code
}

// errorMessage returns the message of the first error of a spec error body.
func errorMessage(t testing.TB, body []byte) string {
	t.Helper()
	var e struct {
		Errors []apiError `json:"errors"`
	}
	if err := json.Unmarshal(body, &e); err != nil || len(e.Errors) == 0 {
		t.Fatalf("not an error body: %q", body)
	}
	return e.Errors[0].Message
}

// wantStatus fails unless resp has status code, showing the body.
func wantStatus(t testing.TB, what string, resp *http.Response, body []byte, code int) {
	t.Helper()
	if resp.StatusCode != code {
		t.Fatalf("%s: status = %d, want %d; body %q", what, resp.StatusCode, code, truncate(string(body), 500))
	}
}

// wantError fails unless the answer has status code and error code.
func wantError(t testing.TB, what string, resp *http.Response, body []byte, code int, errCode string) {
	t.Helper()
	wantStatus(t, what, resp, body, code)
	if got := errorCode(t, body); got != errCode {
		t.Fatalf("%s: error code = %s, want %s; body %q", what, got, errCode, body)
	}
}

// sha256Digest returns the digest of b.
func sha256Digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	s[2] = byte(seed >> 16)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

// pushBlob pushes data to repo monolithically and returns its digest.
func (h *harness) pushBlob(t testing.TB, repo string, data []byte) string {
	t.Helper()
	d := sha256Digest(data)
	resp, body := h.do(t, admin(http.MethodPost, "/v2/"+repo+"/blobs/uploads/?digest="+d, data))
	wantStatus(t, "push blob", resp, body, http.StatusCreated)
	return d
}

// startUpload starts an upload session in repo and returns its Location.
func (h *harness) startUpload(t testing.TB, repo string) string {
	t.Helper()
	resp, body := h.do(t, admin(http.MethodPost, "/v2/"+repo+"/blobs/uploads/", nil))
	wantStatus(t, "start upload", resp, body, http.StatusAccepted)
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/v2/"+repo+"/blobs/uploads/") {
		t.Fatalf("start upload: Location = %q", loc)
	}
	return loc
}

// withQuery appends a query parameter to a Location.
func withQuery(loc, kv string) string {
	if strings.Contains(loc, "?") {
		return loc + "&" + kv
	}
	return loc + "?" + kv
}

// descriptor describes data as a blob of media type mt.
func descriptor(mt string, data []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: mt, Digest: digestValue(sha256Digest(data)), Size: int64(len(data))}
}

// imageManifest returns an OCI image manifest of config and layers; the
// annotations make manifests of the same blobs differ.
func imageManifest(t testing.TB, config ocispec.Descriptor, layers []ocispec.Descriptor, annotations map[string]string) []byte {
	t.Helper()
	m := ocispec.Manifest{
		MediaType: ocispec.MediaTypeImageManifest, Config: config, Layers: layers, Annotations: annotations,
	}
	m.SchemaVersion = 2
	if m.Layers == nil {
		m.Layers = []ocispec.Descriptor{}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// image pushes a config and a layer to repo and returns a manifest of
// them (not pushed).
func (h *harness) image(t testing.TB, repo string, annotations map[string]string) []byte {
	t.Helper()
	config := []byte(`{"architecture":"amd64","os":"linux"}`)
	layer := randomBytes(1, 3000)
	h.pushBlob(t, repo, config)
	h.pushBlob(t, repo, layer)
	return imageManifest(t,
		descriptor(ocispec.MediaTypeImageConfig, config),
		[]ocispec.Descriptor{descriptor(ocispec.MediaTypeImageLayerGzip, layer)},
		annotations)
}

// putManifest pushes a manifest body with Content-Type mt.
func (h *harness) putManifest(t testing.TB, repo, ref, mt string, body []byte) (*http.Response, []byte) {
	t.Helper()
	return h.do(t, admin(http.MethodPut, "/v2/"+repo+"/manifests/"+ref, body, "Content-Type", mt))
}

// metric returns the value of the sample of name whose labels include
// every label="value" pair given, from the server's /metrics; ok is
// false when there is none.
func (h *harness) metric(t testing.TB, name string, labels ...string) (float64, bool) {
	t.Helper()
	resp, body := h.do(t, call{path: "/metrics"})
	wantStatus(t, "metrics", resp, body, http.StatusOK)
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		match := true
		for _, l := range labels {
			if !strings.Contains(line, l) {
				match = false
			}
		}
		if !match {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		return v, true
	}
	return 0, false
}

// objects lists the bucket's keys under prefix.
func (h *harness) objects(t testing.TB, prefix string) []string {
	t.Helper()
	var keys []string
	it := h.blobs.Bucket().List(nil)
	for {
		obj, err := it.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return keys
		}
		if err != nil {
			t.Fatalf("list bucket: %v", err)
		}
		if strings.HasPrefix(obj.Key, prefix) {
			keys = append(keys, obj.Key)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes, for logs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
