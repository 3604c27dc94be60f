package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/palisade-sec/palisade/internal/store"
)

// Names of the tenancy fixture: a project the developer has no role in,
// holding a repository, and a project that does not exist.
const (
	hiddenProject   = "secretproj"
	ghostProject    = "ghostproj"
	hiddenRepo      = "hidden-model"
	tenancyDevToken = "pal_test-developer-a-000000000000000000000000000"
)

// tenancyFixture is what the admin stored in hiddenProject.
type tenancyFixture struct {
	h                     *harness
	manifest              []byte
	manifestDigest        string
	configDigest          string
	layerDigest, uploadID string
	// secrets are strings only hiddenProject's members may learn.
	secrets []string
}

// newTenancyFixture fills hiddenProject/hiddenRepo (blobs, a tagged
// manifest, a referrer, an open upload) and creates the principal "dev",
// a developer in project a only, with the API token tenancyDevToken.
func newTenancyFixture(t *testing.T) *tenancyFixture {
	t.Helper()
	ctx := context.Background()
	h := newHarness(t)
	if _, err := h.st.CreateProject(ctx, store.Project{Name: hiddenProject, KeyID: "local:test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.CreatePrincipal(ctx, store.Principal{ID: "dev", Name: "dev", Kind: store.KindUser, Clearance: store.Restricted}); err != nil {
		t.Fatal(err)
	}
	if err := h.st.SetMember(ctx, store.Member{Project: "a", PrincipalID: "dev", Role: "developer", Source: "manual"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.CreateToken(ctx, store.Token{ID: "dev-token", Name: "dev", PrincipalID: "dev", Hash: sha256.Sum256([]byte(tenancyDevToken))}); err != nil {
		t.Fatal(err)
	}
	repo := hiddenProject + "/" + hiddenRepo
	f := &tenancyFixture{h: h}
	f.manifest = h.image(t, repo, map[string]string{"secret": "yes"})
	f.manifestDigest = sha256Digest(f.manifest)
	resp, body := h.putManifest(t, repo, "v1", ocispec.MediaTypeImageManifest, f.manifest)
	wantStatus(t, "push the hidden manifest", resp, body, http.StatusCreated)
	f.configDigest = sha256Digest([]byte(`{"architecture":"amd64","os":"linux"}`))
	f.layerDigest = sha256Digest(randomBytes(1, 3000)) // as h.image pushes it

	// A referrer of the manifest.
	cfg := []byte(`{}`)
	h.pushBlob(t, repo, cfg)
	m := ocispec.Manifest{
		MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.example.sbom",
		Config: descriptor("application/vnd.oci.empty.v1+json", cfg), Layers: []ocispec.Descriptor{},
		Subject: &ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digestValue(f.manifestDigest), Size: int64(len(f.manifest))},
	}
	m.SchemaVersion = 2
	ref, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	resp, body = h.putManifest(t, repo, "sbom", ocispec.MediaTypeImageManifest, ref)
	wantStatus(t, "push the referrer", resp, body, http.StatusCreated)
	refDigest := sha256Digest(ref)

	loc := h.startUpload(t, repo)
	f.uploadID = loc[strings.LastIndexByte(loc, '/')+1:]
	f.secrets = []string{hiddenProject, hiddenRepo, f.manifestDigest, f.configDigest, f.layerDigest, refDigest, f.uploadID, "sbom"}
	return f
}

// wantNoSecrets fails if the answer to c holds a string only members of
// hiddenProject may know that c did not itself send.
func (f *tenancyFixture) wantNoSecrets(t testing.TB, c call, sent []byte, resp *http.Response, body []byte) {
	t.Helper()
	asked := c.path + "\x00" + string(sent)
	var answer strings.Builder
	answer.Write(body)
	for k, vs := range resp.Header {
		answer.WriteString("\x00" + k + ": " + strings.Join(vs, ", "))
	}
	for _, s := range f.secrets {
		if !strings.Contains(asked, s) && strings.Contains(answer.String(), s) {
			t.Errorf("%s %s: the answer reveals %q: %s", c.method, c.path, s, truncate(answer.String(), 600))
		}
	}
}

// tenancyAnswer is the part of an answer that must not depend on whether
// what the request names exists: status, error and some headers, with the
// request's project and repository names replaced.
type tenancyAnswer struct {
	Status             int
	Code, Message      string
	WWWAuthenticate    string
	Location, Digest   string
	ContentType, Range string
}

// answerOf returns the tenancyAnswer of an answer; project "" replaces
// nothing.
func answerOf(t testing.TB, resp *http.Response, body []byte, project, repo string) tenancyAnswer {
	t.Helper()
	norm := func(s string) string {
		if project == "" {
			return s
		}
		s = strings.ReplaceAll(s, project+"/"+repo, "PROJECT/REPO")
		return strings.ReplaceAll(s, project, "PROJECT")
	}
	a := tenancyAnswer{
		Status:          resp.StatusCode,
		WWWAuthenticate: norm(resp.Header.Get("WWW-Authenticate")),
		Location:        norm(resp.Header.Get("Location")),
		Digest:          resp.Header.Get("Docker-Content-Digest"),
		ContentType:     resp.Header.Get("Content-Type"),
		Range:           resp.Header.Get("Range"),
	}
	if len(body) > 0 && resp.StatusCode >= 400 {
		a.Code, a.Message = errorCode(t, body), norm(errorMessage(t, body))
	}
	return a
}

// TestTenancyNoExistenceOracle sends every registry request of a
// principal with a role only in project a to a repository of a project it
// has no role in, to a repository that does not exist in that project,
// and to a project that does not exist: all are refused with 403 before
// anything is looked up, with the same answer.
func TestTenancyNoExistenceOracle(t *testing.T) {
	t.Parallel()
	f := newTenancyFixture(t)
	h := f.h
	session := h.getToken(t, tenancyDevToken,
		"repository:"+hiddenProject+"/"+hiddenRepo+":pull,push,delete",
		"repository:"+ghostProject+"/"+hiddenRepo+":pull,push,delete",
		"repository:a/y:pull,push").Token

	layer := randomBytes(1, 3000)
	type request struct {
		method, path string // path after /v2/PROJECT/REPO/
		body         []byte
		header       []string
	}
	requests := []request{
		{http.MethodGet, "manifests/v1", nil, nil},
		{http.MethodHead, "manifests/v1", nil, nil},
		{http.MethodGet, "manifests/" + f.manifestDigest, nil, nil},
		{http.MethodHead, "manifests/" + f.manifestDigest, nil, nil},
		{http.MethodPut, "manifests/v2", f.manifest, []string{"Content-Type", ocispec.MediaTypeImageManifest}},
		{http.MethodDelete, "manifests/" + f.manifestDigest, nil, nil},
		{http.MethodDelete, "manifests/v1", nil, nil},
		{http.MethodGet, "blobs/" + f.layerDigest, nil, nil},
		{http.MethodHead, "blobs/" + f.layerDigest, nil, nil},
		{http.MethodGet, "blobs/" + f.layerDigest, nil, []string{"Range", "bytes=0-9"}},
		{http.MethodDelete, "blobs/" + f.layerDigest, nil, nil},
		{http.MethodGet, "tags/list", nil, nil},
		{http.MethodGet, "tags/list?n=1&last=a", nil, nil},
		{http.MethodGet, "referrers/" + f.manifestDigest, nil, nil},
		{http.MethodGet, "referrers/" + f.manifestDigest + "?artifactType=application/vnd.example.sbom", nil, nil},
		{http.MethodPost, "blobs/uploads/", nil, nil},
		{http.MethodPost, "blobs/uploads/?digest=" + f.layerDigest, layer, nil},
		{http.MethodPost, "blobs/uploads/?mount=" + f.layerDigest + "&from=" + hiddenProject + "/" + hiddenRepo, nil, nil},
		{http.MethodGet, "blobs/uploads/" + f.uploadID, nil, nil},
		{http.MethodPatch, "blobs/uploads/" + f.uploadID, layer[:10], []string{"Content-Range", "0-9"}},
		{http.MethodPut, "blobs/uploads/" + f.uploadID + "?digest=" + f.layerDigest, layer, nil},
		{http.MethodDelete, "blobs/uploads/" + f.uploadID, nil, nil},
	}
	creds := []struct{ name, auth string }{
		{"API token", bearer(tenancyDevToken)},
		{"API token through Basic", basic("dev", tenancyDevToken)},
		{"session token", bearer(session)},
	}
	targets := []struct{ project, repo string }{
		{hiddenProject, hiddenRepo},
		{hiddenProject, "no-such-repo"},
		{ghostProject, hiddenRepo},
	}
	for _, cr := range creds {
		t.Run(cr.name, func(t *testing.T) {
			for _, rq := range requests {
				var first tenancyAnswer
				for i, tg := range targets {
					c := call{method: rq.method, path: "/v2/" + tg.project + "/" + tg.repo + "/" + rq.path, auth: cr.auth, header: rq.header}
					if rq.body != nil {
						c.body = bytes.NewReader(rq.body)
					}
					resp, body := h.do(t, c)
					f.wantNoSecrets(t, c, rq.body, resp, body)
					if resp.StatusCode != http.StatusForbidden {
						t.Errorf("%s %s: status %d, want 403; body %q", c.method, c.path, resp.StatusCode, body)
						continue
					}
					got := answerOf(t, resp, body, tg.project, tg.repo)
					if rq.method != http.MethodHead && got.Code != codeDenied {
						t.Errorf("%s %s: error code %q, want %s", c.method, c.path, got.Code, codeDenied)
					}
					if i == 0 {
						first = got
						continue
					}
					if got != first {
						t.Errorf("%s %s answers differently from %s/%s:\ngot  %+v\nwant %+v",
							c.method, c.path, targets[0].project, targets[0].repo, got, first)
					}
				}
			}
		})
	}
	// Nothing was changed in the hidden project.
	resp, body := h.do(t, admin(http.MethodGet, "/v2/"+hiddenProject+"/"+hiddenRepo+"/manifests/v1", nil))
	wantStatus(t, "hidden manifest", resp, body, http.StatusOK)
	resp, body = h.do(t, admin(http.MethodGet, "/v2/"+hiddenProject+"/"+hiddenRepo+"/blobs/uploads/"+f.uploadID, nil))
	wantStatus(t, "hidden upload", resp, body, http.StatusNoContent)
	resp, body = h.do(t, admin(http.MethodGet, "/v2/"+hiddenProject+"/"+hiddenRepo+"/tags/list", nil))
	wantStatus(t, "hidden tags", resp, body, http.StatusOK)
	if got, want := strings.TrimSpace(string(body)), `{"name":"`+hiddenProject+"/"+hiddenRepo+`","tags":["sbom","v1"]}`; got != want {
		t.Errorf("hidden tags = %s, want %s", got, want)
	}
}

// TestTenancyCrossProjectMount mounts the hidden project's blob into the
// developer's own project: it is never linked, and the answer is the one
// for a digest that exists nowhere (an upload session, 202).
func TestTenancyCrossProjectMount(t *testing.T) {
	t.Parallel()
	f := newTenancyFixture(t)
	h := f.h
	nowhere := sha256Digest([]byte("a blob no project holds"))
	for _, cr := range []struct{ name, auth string }{
		{"API token", bearer(tenancyDevToken)},
		{"admin", bearer(adminToken)}, // even one who may read both
	} {
		t.Run(cr.name, func(t *testing.T) {
			for _, from := range []string{hiddenProject + "/" + hiddenRepo, hiddenProject + "/no-such-repo", ghostProject + "/x", ""} {
				var answers []tenancyAnswer
				for _, d := range []string{f.layerDigest, nowhere} {
					q := "?mount=" + d
					if from != "" {
						q += "&from=" + from
					}
					c := call{method: http.MethodPost, path: "/v2/a/y/blobs/uploads/" + q, auth: cr.auth}
					resp, body := h.do(t, c)
					f.wantNoSecrets(t, c, nil, resp, body)
					wantStatus(t, "mount "+q, resp, body, http.StatusAccepted)
					loc := resp.Header.Get("Location")
					if !strings.HasPrefix(loc, "/v2/a/y/blobs/uploads/") {
						t.Fatalf("mount %s: Location = %q, want an upload session", q, loc)
					}
					a := answerOf(t, resp, body, "", "")
					a.Location = "/v2/a/y/blobs/uploads/ID" // each session has its own
					answers = append(answers, a)
					if got := resp.Header.Get("Docker-Upload-UUID"); got == "" || !strings.HasSuffix(loc, "/"+got) {
						t.Errorf("mount %s: Docker-Upload-UUID = %q, Location %q", q, got, loc)
					}
					resp, body = h.do(t, admin(http.MethodDelete, loc, nil))
					wantStatus(t, "cancel the session", resp, body, http.StatusNoContent)
				}
				if answers[0] != answers[1] {
					t.Errorf("mount from %q: the hidden blob answers %+v, a blob nowhere %+v", from, answers[0], answers[1])
				}
			}
			for _, path := range []string{"/v2/a/y/blobs/" + f.layerDigest, "/v2/a/x/blobs/" + f.layerDigest} {
				resp, body := h.do(t, call{method: http.MethodHead, path: path, auth: cr.auth})
				wantStatus(t, "HEAD "+path+" after the mounts", resp, body, http.StatusNotFound)
			}
			if _, err := h.st.Blob(context.Background(), "a", f.layerDigest); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("project a has a record of the hidden blob after the mounts (err %v)", err)
			}
			if u := h.quotaUsage(t, "a"); u.Blobs != 0 {
				t.Errorf("project a holds %d blobs after the mounts, want 0", u.Blobs)
			}
		})
	}
}

// TestTenancyMessagesInOwnProject makes requests in the developer's own
// project that name the hidden project's digests: the answers are those of
// digests that exist nowhere, and no message names the hidden project's
// repository or a digest the request did not send.
func TestTenancyMessagesInOwnProject(t *testing.T) {
	t.Parallel()
	f := newTenancyFixture(t)
	h := f.h
	nowhere := sha256Digest([]byte("nowhere"))
	dev := func(method, path string, body []byte, header ...string) call {
		c := call{method: method, path: path, auth: bearer(tenancyDevToken), header: header}
		if body != nil {
			c.body = bytes.NewReader(body)
		}
		return c
	}
	for _, tt := range []struct {
		name   string
		req    func(d string) (call, []byte)
		status int
	}{
		{"GET blob", func(d string) (call, []byte) { return dev(http.MethodGet, "/v2/a/y/blobs/"+d, nil), nil }, http.StatusNotFound},
		{"HEAD blob", func(d string) (call, []byte) { return dev(http.MethodHead, "/v2/a/y/blobs/"+d, nil), nil }, http.StatusNotFound},
		{"GET manifest", func(d string) (call, []byte) { return dev(http.MethodGet, "/v2/a/y/manifests/"+d, nil), nil }, http.StatusNotFound},
		{"referrers", func(d string) (call, []byte) { return dev(http.MethodGet, "/v2/a/y/referrers/"+d, nil), nil }, http.StatusOK},
		{"index naming the manifest", func(d string) (call, []byte) {
			b := []byte(`{"schemaVersion":2,"mediaType":"` + ocispec.MediaTypeImageIndex + `","manifests":[{"mediaType":"` +
				ocispec.MediaTypeImageManifest + `","digest":"` + d + `","size":100}]}`)
			return dev(http.MethodPut, "/v2/a/y/manifests/idx", b, "Content-Type", ocispec.MediaTypeImageIndex), b
		}, http.StatusBadRequest},
		{"manifest naming the blob", func(d string) (call, []byte) {
			b := imageManifest(t, descriptor(ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux"}`)),
				[]ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digestValue(d), Size: 3000}}, nil)
			return dev(http.MethodPut, "/v2/a/y/manifests/v1", b, "Content-Type", ocispec.MediaTypeImageManifest), b
		}, http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var answers []tenancyAnswer
			var bodies []string
			for _, d := range []string{f.layerDigest, nowhere, f.manifestDigest} {
				c, sent := tt.req(d)
				resp, body := h.do(t, c)
				f.wantNoSecrets(t, c, sent, resp, body)
				wantStatus(t, c.method+" "+c.path, resp, body, tt.status)
				a := answerOf(t, resp, body, "", "")
				a.Message = strings.ReplaceAll(a.Message, d, "DIGEST")
				answers = append(answers, a)
				bodies = append(bodies, strings.ReplaceAll(string(body), d, "DIGEST"))
			}
			for i := 1; i < len(answers); i++ {
				if answers[i] != answers[0] || bodies[i] != bodies[0] {
					t.Errorf("a hidden digest answers differently from one that exists nowhere:\n%+v %q\n%+v %q",
						answers[0], bodies[0], answers[i], bodies[i])
				}
			}
		})
	}
	// The catalogue of the developer's project stays its own.
	resp, body := h.do(t, dev(http.MethodGet, "/v2/a/y/tags/list", nil))
	f.wantNoSecrets(t, dev(http.MethodGet, "/v2/a/y/tags/list", nil), nil, resp, body)
	wantError(t, "tags of a/y", resp, body, http.StatusNotFound, codeNameUnknown)
}
