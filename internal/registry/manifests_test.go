package registry

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/palisade-sec/palisade/internal/ocimanifest"
)

// fixture is an image's blobs pushed to a/x and descriptors of them.
type fixture struct {
	config, layer           []byte
	configDesc, layerDesc   ocispec.Descriptor
	unpushed, unpushedLayer ocispec.Descriptor
}

func newFixture(t *testing.T, h *harness) fixture {
	t.Helper()
	f := fixture{config: []byte(`{"architecture":"amd64","os":"linux"}`), layer: randomBytes(2, 5000)}
	h.pushBlob(t, "a/x", f.config)
	h.pushBlob(t, "a/x", f.layer)
	f.configDesc = descriptor(ocispec.MediaTypeImageConfig, f.config)
	f.layerDesc = descriptor(ocispec.MediaTypeImageLayerGzip, f.layer)
	f.unpushed = descriptor(ocispec.MediaTypeImageConfig, []byte("never pushed"))
	f.unpushedLayer = descriptor(ocispec.MediaTypeImageLayerGzip, []byte("never pushed layer"))
	return f
}

// index returns an OCI image index of manifests.
func index(t testing.TB, manifests ...ocispec.Descriptor) []byte {
	t.Helper()
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: manifests}
	idx.SchemaVersion = 2
	b, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPutManifestRejects(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newFixture(t, h)
	layers := []ocispec.Descriptor{f.layerDesc}
	valid := imageManifest(t, f.configDesc, layers, nil)

	wrongSize := f.layerDesc
	wrongSize.Size++
	badData := f.configDesc
	badData.Data = []byte(`{"os":"plan9"}`)
	badDataSize := f.configDesc
	badDataSize.Data = f.config[:10]
	noMediaType := f.layerDesc
	noMediaType.MediaType = ""
	badDigest := f.layerDesc
	badDigest.Digest = "sha256:ABC"
	negative := f.layerDesc
	negative.Size = -1
	unknownChild := descriptor(ocispec.MediaTypeImageManifest, []byte("no such manifest"))

	tests := []struct {
		name     string
		ref      string // "" pushes by tag "v1"
		ct       string
		body     []byte
		status   int
		code     string
		contains string // in the message
	}{
		{"missing config", "", ocispec.MediaTypeImageManifest,
			imageManifest(t, f.unpushed, layers, nil), 400, codeManifestBlobUnknown, string(f.unpushed.Digest)},
		{"missing layer", "", ocispec.MediaTypeImageManifest,
			imageManifest(t, f.configDesc, []ocispec.Descriptor{f.layerDesc, f.unpushedLayer}, nil), 400, codeManifestBlobUnknown, string(f.unpushedLayer.Digest)},
		{"layer size differs", "", ocispec.MediaTypeImageManifest,
			imageManifest(t, f.configDesc, []ocispec.Descriptor{wrongSize}, nil), 400, codeManifestInvalid, "size"},
		{"config size differs", "", ocispec.MediaTypeImageManifest,
			imageManifest(t, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: f.configDesc.Digest, Size: 1}, layers, nil), 400, codeManifestInvalid, "size"},
		{"data field differs", "", ocispec.MediaTypeImageManifest,
			imageManifest(t, badData, layers, nil), 400, codeManifestInvalid, "data"},
		{"data field of another size", "", ocispec.MediaTypeImageManifest,
			imageManifest(t, badDataSize, layers, nil), 400, codeManifestInvalid, "data"},
		{"descriptor without media type", "", ocispec.MediaTypeImageManifest,
			imageManifest(t, f.configDesc, []ocispec.Descriptor{noMediaType}, nil), 400, codeManifestInvalid, "mediaType"},
		{"descriptor with bad digest", "", ocispec.MediaTypeImageManifest,
			imageManifest(t, f.configDesc, []ocispec.Descriptor{badDigest}, nil), 400, codeManifestInvalid, "digest"},
		{"negative size", "", ocispec.MediaTypeImageManifest,
			imageManifest(t, f.configDesc, []ocispec.Descriptor{negative}, nil), 400, codeManifestInvalid, "negative"},
		{"media type differs from Content-Type", "", ocispec.MediaTypeImageIndex,
			valid, 400, codeManifestInvalid, "Content-Type"},
		{"unknown media type", "", "application/vnd.example+json",
			bytes.Replace(valid, []byte(ocispec.MediaTypeImageManifest), []byte("application/vnd.example+json"), 1), 400, codeManifestInvalid, "unsupported"},
		{"no media type anywhere", "", "",
			bytes.Replace(valid, []byte(`"mediaType":"`+ocispec.MediaTypeImageManifest+`",`), nil, 1), 400, codeManifestInvalid, "unsupported"},
		{"schema 1", "", "application/vnd.docker.distribution.manifest.v1+prettyjws",
			[]byte(`{"schemaVersion":1,"name":"a/x","tag":"v1","fsLayers":[]}`), 400, codeManifestInvalid, "unsupported"},
		{"schemaVersion 3", "", ocispec.MediaTypeImageManifest,
			bytes.Replace(valid, []byte(`"schemaVersion":2`), []byte(`"schemaVersion":3`), 1), 400, codeManifestInvalid, "schemaVersion"},
		{"invalid JSON", "", ocispec.MediaTypeImageManifest,
			valid[:len(valid)-1], 400, codeManifestInvalid, "JSON"},
		{"not an object", "", ocispec.MediaTypeImageManifest,
			[]byte(`["schemaVersion", 2]`), 400, codeManifestInvalid, "JSON"},
		{"image manifest without config", "", ocispec.MediaTypeImageManifest,
			[]byte(`{"schemaVersion":2,"mediaType":"` + ocispec.MediaTypeImageManifest + `","layers":[]}`), 400, codeManifestInvalid, "config"},
		{"image manifest with manifests", "", ocispec.MediaTypeImageManifest,
			bytes.Replace(valid, []byte(`"layers":`), []byte(`"manifests":[],"layers":`), 1), 400, codeManifestInvalid, "not manifests"},
		{"index with layers", "", ocispec.MediaTypeImageIndex,
			[]byte(`{"schemaVersion":2,"mediaType":"` + ocispec.MediaTypeImageIndex + `","manifests":[],"layers":[]}`), 400, codeManifestInvalid, "index"},
		{"index naming an unknown manifest", "", ocispec.MediaTypeImageIndex,
			index(t, unknownChild), 400, codeManifestBlobUnknown, string(unknownChild.Digest)},
		{"digest reference mismatch", sha256Digest([]byte("other")), ocispec.MediaTypeImageManifest,
			valid, 400, codeDigestInvalid, sha256Digest(valid)},
		{"sha512 reference mismatch", d512, ocispec.MediaTypeImageManifest,
			valid, 400, codeDigestInvalid, "sha512:"},
		{"invalid reference", "v1:bad", ocispec.MediaTypeImageManifest,
			valid, 400, codeManifestInvalid, "reference"},
		{"invalid tag parameter", "v1?tag=ok&tag=-bad", ocispec.MediaTypeImageManifest,
			valid, 400, codeManifestInvalid, "tag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := tt.ref
			if ref == "" {
				ref = "v1"
			}
			resp, body := h.putManifest(t, "a/x", ref, tt.ct, tt.body)
			wantError(t, "PUT", resp, body, tt.status, tt.code)
			if msg := errorMessage(t, body); !strings.Contains(msg, tt.contains) {
				t.Errorf("message %q does not mention %q", msg, tt.contains)
			}
		})
	}
	// Nothing was stored: no repository, no tag, no manifest.
	resp, body := h.do(t, admin(http.MethodGet, "/v2/a/x/tags/list", nil))
	wantError(t, "tags", resp, body, http.StatusNotFound, codeNameUnknown)
	for _, tt := range tests {
		resp, body := h.do(t, admin(http.MethodHead, "/v2/a/x/manifests/"+sha256Digest(tt.body), nil))
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: manifest stored (HEAD %d %q)", tt.name, resp.StatusCode, body)
		}
	}
	if v, _ := h.metric(t, "palisade_registry_manifests_pushed_total"); v != 0 {
		t.Errorf("manifests_pushed_total = %v, want 0", v)
	}
}

func TestPutManifestTooLarge(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newFixture(t, h)
	// padded returns a manifest of exactly n bytes, padded in an
	// annotation (spliced in: marshalling megabytes is slow under -race).
	small := imageManifest(t, f.configDesc, []ocispec.Descriptor{f.layerDesc}, map[string]string{"pad": ""})
	padded := func(n int) []byte {
		at := bytes.Index(small, []byte(`"pad":""`)) + len(`"pad":"`)
		return slices.Concat(small[:at], bytes.Repeat([]byte("y"), n-len(small)), small[at:])
	}
	body := padded(DefaultMaxManifestBytes + 1)
	for _, tt := range []struct {
		name   string
		length int64
	}{
		{"Content-Length", 0},
		{"chunked", -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := h.do(t, call{method: http.MethodPut, path: "/v2/a/x/manifests/big", auth: bearer(adminToken),
				body: bytes.NewReader(body), length: tt.length, header: []string{"Content-Type", ocispec.MediaTypeImageManifest}})
			wantError(t, "PUT", resp, b, http.StatusRequestEntityTooLarge, codeSizeInvalid)
		})
	}
	resp, b := h.do(t, admin(http.MethodGet, "/v2/a/x/manifests/big", nil))
	wantError(t, "GET", resp, b, http.StatusNotFound, codeManifestUnknown)
	resp, b = h.do(t, admin(http.MethodGet, "/v2/a/x/manifests/"+sha256Digest(body), nil))
	wantError(t, "GET by digest", resp, b, http.StatusNotFound, codeManifestUnknown)

	// Exactly the limit is accepted, even with its length unknown (the
	// server's own body limit is 4 MiB too).
	exact := padded(DefaultMaxManifestBytes)
	if _, _, err := parseManifest(exact, ""); err != nil {
		t.Fatalf("padded manifest: %v", err)
	}
	resp, b = h.do(t, call{method: http.MethodPut, path: "/v2/a/x/manifests/exact", auth: bearer(adminToken),
		body: bytes.NewReader(exact), length: -1, header: []string{"Content-Type", ocispec.MediaTypeImageManifest}})
	wantStatus(t, "PUT at the limit", resp, b, http.StatusCreated)
	if got := resp.Header.Get("Docker-Content-Digest"); got != sha256Digest(exact) {
		t.Errorf("Docker-Content-Digest = %q", got)
	}
}

// TestMaxManifestBytes checks that the registry's manifest limit, not the
// server's default body limit, bounds manifests.
func TestMaxManifestBytes(t *testing.T) {
	t.Parallel()
	const limit = DefaultMaxManifestBytes + 64<<10
	h := newHarness(t, func(o *Options) { o.MaxManifestBytes = limit })
	f := newFixture(t, h)
	small := imageManifest(t, f.configDesc, []ocispec.Descriptor{f.layerDesc}, map[string]string{"pad": ""})
	at := bytes.Index(small, []byte(`"pad":""`)) + len(`"pad":"`)
	body := slices.Concat(small[:at], bytes.Repeat([]byte("z"), DefaultMaxManifestBytes+1024-len(small)), small[at:])
	resp, b := h.putManifest(t, "a/x", "big", ocispec.MediaTypeImageManifest, body)
	wantStatus(t, "PUT over the server's default limit", resp, b, http.StatusCreated)
	resp, b = h.do(t, admin(http.MethodGet, "/v2/a/x/manifests/big", nil))
	if resp.StatusCode != http.StatusOK || !bytes.Equal(b, body) {
		t.Errorf("GET: %d, %d bytes, want the %d pushed", resp.StatusCode, len(b), len(body))
	}
}

func TestPutManifestAccepts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newFixture(t, h)

	t.Run("by tag and by digest", func(t *testing.T) {
		m := imageManifest(t, f.configDesc, []ocispec.Descriptor{f.layerDesc}, nil)
		d := sha256Digest(m)
		resp, body := h.putManifest(t, "a/x", "v1", ocispec.MediaTypeImageManifest, m)
		wantStatus(t, "PUT", resp, body, http.StatusCreated)
		if got := resp.Header.Get("Docker-Content-Digest"); got != d {
			t.Errorf("Docker-Content-Digest = %q, want %q", got, d)
		}
		if got := resp.Header.Get("Location"); got != "/v2/a/x/manifests/"+d {
			t.Errorf("Location = %q", got)
		}
		for _, ref := range []string{"v1", d} {
			resp, body := h.do(t, admin(http.MethodGet, "/v2/a/x/manifests/"+ref, nil))
			wantStatus(t, "GET "+ref, resp, body, http.StatusOK)
			if !bytes.Equal(body, m) {
				t.Errorf("GET %s: body differs from the pushed manifest", ref)
			}
			if resp.Header.Get("Content-Type") != ocispec.MediaTypeImageManifest || resp.Header.Get("Docker-Content-Digest") != d {
				t.Errorf("GET %s: headers %v", ref, resp.Header)
			}
		}
		resp, body = h.putManifest(t, "a/x", d, ocispec.MediaTypeImageManifest, m)
		wantStatus(t, "PUT by digest", resp, body, http.StatusCreated)
	})
	t.Run("sha512 reference", func(t *testing.T) {
		m := imageManifest(t, f.configDesc, nil, map[string]string{"n": "512"})
		d := digestOf("sha512:", m)
		resp, body := h.putManifest(t, "a/x", d, ocispec.MediaTypeImageManifest, m)
		wantStatus(t, "PUT", resp, body, http.StatusCreated)
		if got := resp.Header.Get("Docker-Content-Digest"); got != d {
			t.Errorf("Docker-Content-Digest = %q, want %q", got, d)
		}
		resp, body = h.do(t, admin(http.MethodGet, "/v2/a/x/manifests/"+d, nil))
		wantStatus(t, "GET", resp, body, http.StatusOK)
	})
	t.Run("media type from Content-Type", func(t *testing.T) {
		m := []byte(`{"schemaVersion":2,"config":` + mustJSON(t, f.configDesc) + `,"layers":[]}`)
		resp, body := h.putManifest(t, "a/x", "noct", ocispec.MediaTypeImageManifest+"; charset=utf-8", m)
		wantStatus(t, "PUT", resp, body, http.StatusCreated)
		resp, body = h.do(t, admin(http.MethodGet, "/v2/a/x/manifests/noct", nil))
		wantStatus(t, "GET", resp, body, http.StatusOK)
		if got := resp.Header.Get("Content-Type"); got != ocispec.MediaTypeImageManifest {
			t.Errorf("Content-Type = %q", got)
		}
	})
	t.Run("non-distributable layer not pushed", func(t *testing.T) {
		foreign := descriptor(ocimanifest.MediaTypeDockerForeign, []byte("windows base layer"))
		nondist := descriptor("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", []byte("nondistributable"))
		withURL := descriptor(ocispec.MediaTypeImageLayerGzip, []byte("fetched from its URL"))
		withURL.URLs = []string{"https://example.com/layer"}
		m := imageManifest(t, f.configDesc, []ocispec.Descriptor{f.layerDesc, foreign, nondist, withURL}, nil)
		resp, body := h.putManifest(t, "a/x", "nondist", ocispec.MediaTypeImageManifest, m)
		wantStatus(t, "PUT", resp, body, http.StatusCreated)
	})
	t.Run("docker manifest and list", func(t *testing.T) {
		m := []byte(`{"schemaVersion":2,"mediaType":"` + mtDockerManifest + `","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":` +
			jsonInt(len(f.config)) + `,"digest":"` + string(f.configDesc.Digest) + `"},"layers":[]}`)
		resp, body := h.putManifest(t, "a/x", "docker", mtDockerManifest, m)
		wantStatus(t, "PUT manifest", resp, body, http.StatusCreated)
		list := []byte(`{"schemaVersion":2,"mediaType":"` + mtDockerList + `","manifests":[{"mediaType":"` + mtDockerManifest +
			`","size":` + jsonInt(len(m)) + `,"digest":"` + sha256Digest(m) + `","platform":{"architecture":"amd64","os":"linux"}}]}`)
		resp, body = h.putManifest(t, "a/x", "dockerlist", mtDockerList, list)
		wantStatus(t, "PUT list", resp, body, http.StatusCreated)
	})
	t.Run("index of pushed manifests", func(t *testing.T) {
		m := imageManifest(t, f.configDesc, []ocispec.Descriptor{f.layerDesc}, map[string]string{"arch": "arm64"})
		resp, body := h.putManifest(t, "a/x", sha256Digest(m), ocispec.MediaTypeImageManifest, m)
		wantStatus(t, "PUT child", resp, body, http.StatusCreated)
		idx := index(t, descriptor(ocispec.MediaTypeImageManifest, m))
		resp, body = h.putManifest(t, "a/x", "multi", ocispec.MediaTypeImageIndex, idx)
		wantStatus(t, "PUT index", resp, body, http.StatusCreated)
		// The child is in a/x only: another repository's index may not
		// name it.
		resp, body = h.putManifest(t, "a/y", "multi", ocispec.MediaTypeImageIndex, idx)
		wantError(t, "PUT index in a/y", resp, body, http.StatusBadRequest, codeManifestBlobUnknown)
	})
	t.Run("subject and referrers", func(t *testing.T) {
		subject := imageManifest(t, f.configDesc, []ocispec.Descriptor{f.layerDesc}, map[string]string{"role": "subject"})
		subjDesc := descriptor(ocispec.MediaTypeImageManifest, subject)
		resp, body := h.putManifest(t, "a/x", "subject", ocispec.MediaTypeImageManifest, subject)
		wantStatus(t, "PUT subject", resp, body, http.StatusCreated)

		empty := []byte("{}")
		h.pushBlob(t, "a/x", empty)
		sig := ocispec.Manifest{
			MediaType:    ocispec.MediaTypeImageManifest,
			ArtifactType: "application/vnd.example.signature",
			Config:       descriptor(ocispec.MediaTypeEmptyJSON, empty),
			Layers:       []ocispec.Descriptor{f.layerDesc},
			Subject:      &subjDesc,
			Annotations:  map[string]string{"org.example.kind": "signature"},
		}
		sig.SchemaVersion = 2
		sigBody := []byte(mustJSON(t, sig))
		resp, body = h.putManifest(t, "a/x", sha256Digest(sigBody), ocispec.MediaTypeImageManifest, sigBody)
		wantStatus(t, "PUT referrer", resp, body, http.StatusCreated)
		if got := resp.Header.Get("OCI-Subject"); got != string(subjDesc.Digest) {
			t.Errorf("OCI-Subject = %q, want %q", got, subjDesc.Digest)
		}
		// A subject need not exist yet.
		ghost := descriptor(ocispec.MediaTypeImageManifest, []byte("not pushed"))
		sig.Subject = &ghost
		resp, body = h.putManifest(t, "a/x", "ghost-sig", ocispec.MediaTypeImageManifest, []byte(mustJSON(t, sig)))
		wantStatus(t, "PUT referrer of a missing subject", resp, body, http.StatusCreated)
		if got := resp.Header.Get("OCI-Subject"); got != string(ghost.Digest) {
			t.Errorf("OCI-Subject = %q, want %q", got, ghost.Digest)
		}

		for _, q := range []string{"", "?artifactType=application/vnd.example.signature"} {
			resp, body = h.do(t, admin(http.MethodGet, "/v2/a/x/referrers/"+string(subjDesc.Digest)+q, nil))
			wantStatus(t, "referrers", resp, body, http.StatusOK)
			var idx ocispec.Index
			if err := json.Unmarshal(body, &idx); err != nil {
				t.Fatal(err)
			}
			want := []ocispec.Descriptor{{
				MediaType: ocispec.MediaTypeImageManifest, Digest: digestValue(sha256Digest(sigBody)), Size: int64(len(sigBody)),
				ArtifactType: "application/vnd.example.signature", Annotations: sig.Annotations,
			}}
			if diff := cmp.Diff(idx.Manifests, want); diff != "" {
				t.Errorf("referrers%s (-got +want):\n%s", q, diff)
			}
			if (q != "") != (resp.Header.Get("OCI-Filters-Applied") == "artifactType") {
				t.Errorf("referrers%s: OCI-Filters-Applied = %q", q, resp.Header.Get("OCI-Filters-Applied"))
			}
		}
		resp, body = h.do(t, admin(http.MethodGet, "/v2/a/x/referrers/"+string(subjDesc.Digest)+"?artifactType=application/other", nil))
		wantStatus(t, "filtered referrers", resp, body, http.StatusOK)
		var idx ocispec.Index
		if err := json.Unmarshal(body, &idx); err != nil || len(idx.Manifests) != 0 {
			t.Errorf("referrers filtered to nothing = %s (%v)", body, err)
		}
	})
	t.Run("tag parameters", func(t *testing.T) {
		m := imageManifest(t, f.configDesc, []ocispec.Descriptor{f.layerDesc}, map[string]string{"tags": "param"})
		d := sha256Digest(m)
		resp, body := h.putManifest(t, "a/t", d+"?tag=one&tag=two&tag=three", ocispec.MediaTypeImageManifest, m)
		wantStatus(t, "PUT", resp, body, http.StatusCreated)
		if got := resp.Header.Values("OCI-Tag"); !slices.Equal(got, []string{"one", "two", "three"}) {
			t.Errorf("OCI-Tag = %q", got)
		}
		resp, body = h.do(t, admin(http.MethodGet, "/v2/a/t/tags/list", nil))
		wantStatus(t, "tags", resp, body, http.StatusOK)
		var tl struct {
			Name string
			Tags []string
		}
		if err := json.Unmarshal(body, &tl); err != nil {
			t.Fatal(err)
		}
		if tl.Name != "a/t" || !slices.Equal(tl.Tags, []string{"one", "three", "two"}) {
			t.Errorf("tags list = %s", body)
		}
		for _, tag := range tl.Tags {
			resp, _ := h.do(t, admin(http.MethodHead, "/v2/a/t/manifests/"+tag, nil))
			if resp.Header.Get("Docker-Content-Digest") != d {
				t.Errorf("tag %s names %q, want %s", tag, resp.Header.Get("Docker-Content-Digest"), d)
			}
		}
		// Pagination.
		resp, body = h.do(t, admin(http.MethodGet, "/v2/a/t/tags/list?n=2", nil))
		wantStatus(t, "tags n=2", resp, body, http.StatusOK)
		if got := resp.Header.Get("Link"); got != `</v2/a/t/tags/list?n=2&last=three>; rel="next"` {
			t.Errorf("Link = %q", got)
		}
		resp, body = h.do(t, admin(http.MethodGet, "/v2/a/t/tags/list?n=2&last=three", nil))
		if err := json.Unmarshal(body, &tl); err != nil || !slices.Equal(tl.Tags, []string{"two"}) || resp.Header.Get("Link") != "" {
			t.Errorf("second page = %s, Link %q", body, resp.Header.Get("Link"))
		}
		resp, body = h.do(t, admin(http.MethodGet, "/v2/a/t/tags/list?n=-1", nil))
		wantError(t, "tags n=-1", resp, body, http.StatusBadRequest, codeUnsupported)
		// Deleting a tag leaves the manifest; deleting the manifest removes
		// its tags.
		resp, body = h.do(t, admin(http.MethodDelete, "/v2/a/t/manifests/one", nil))
		wantStatus(t, "DELETE tag", resp, body, http.StatusAccepted)
		resp, _ = h.do(t, admin(http.MethodHead, "/v2/a/t/manifests/"+d, nil))
		if resp.StatusCode != http.StatusOK {
			t.Errorf("manifest after tag delete: %d", resp.StatusCode)
		}
		resp, body = h.do(t, admin(http.MethodDelete, "/v2/a/t/manifests/"+d, nil))
		wantStatus(t, "DELETE manifest", resp, body, http.StatusAccepted)
		resp, body = h.do(t, admin(http.MethodGet, "/v2/a/t/manifests/two", nil))
		wantError(t, "GET deleted tag", resp, body, http.StatusNotFound, codeManifestUnknown)
		resp, body = h.do(t, admin(http.MethodDelete, "/v2/a/t/manifests/"+d, nil))
		wantError(t, "DELETE again", resp, body, http.StatusNotFound, codeManifestUnknown)
	})
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func jsonInt(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestParseManifestSeeds parses every manifest in testdata/manifests: the
// names say whether it must be accepted ("ok-") or rejected ("bad-").
func TestParseManifestSeeds(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "manifests", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in testdata/manifests (%v)", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, mt, err := parseManifest(b, "")
			switch {
			case strings.HasPrefix(name, "ok-") && err != nil:
				t.Errorf("rejected: %v", err)
			case strings.HasPrefix(name, "ok-") && !knownManifestType(mt):
				t.Errorf("accepted with media type %q", mt)
			case strings.HasPrefix(name, "bad-") && err == nil:
				t.Errorf("accepted as %s", mt)
			}
		})
	}
}

// FuzzParseManifest checks that parseManifest never panics, that what it
// accepts has a known media type and consistent fields, and that an
// accepted manifest re-marshals into one it accepts again as the same
// type.
func FuzzParseManifest(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "manifests", "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "")
		f.Add(b, ocispec.MediaTypeImageManifest)
		f.Add(b, ocispec.MediaTypeImageIndex)
	}
	f.Add([]byte(`{"schemaVersion":2,"config":{"mediaType":"a","digest":"`+d256+`","size":0,"data":""}}`), ocispec.MediaTypeImageManifest+"; x=y")
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		doc, mt, err := parseManifest(body, ct)
		if err != nil {
			return
		}
		if !knownManifestType(mt) {
			t.Fatalf("accepted unknown media type %q", mt)
		}
		if isIndex(mt) != (doc.Config == nil) {
			t.Fatalf("media type %s with config %v", mt, doc.Config)
		}
		if isIndex(mt) && doc.Layers != nil || !isIndex(mt) && doc.Manifests != nil {
			t.Fatalf("media type %s with layers %v and manifests %v", mt, doc.Layers, doc.Manifests)
		}
		again, err := json.Marshal(doc)
		if err != nil {
			t.Fatalf("accepted manifest does not re-marshal: %v", err)
		}
		_, mt2, err := parseManifest(again, ct)
		if err != nil || mt2 != mt {
			t.Fatalf("re-marshalled manifest %s: %q, %v; want %q", again, mt2, err, mt)
		}
		_ = artifactTypeOf(doc)
		seen := map[string]bool{}
		for _, b := range doc.Blobs() {
			if seen[b] {
				t.Fatalf("blob %s referenced twice", b)
			}
			seen[b] = true
		}
	})
}
