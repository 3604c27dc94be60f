package registry

import (
	"net/http"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestTenancy(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	data := []byte("project a's secret layer")
	d := h.pushBlob(t, "a/x", data)

	t.Run("same project reads", func(t *testing.T) {
		resp, body := h.do(t, admin(http.MethodGet, "/v2/a/other/blobs/"+d, nil))
		wantStatus(t, "GET a/other", resp, body, http.StatusOK)
		if string(body) != string(data) {
			t.Errorf("body = %q, want %q", body, data)
		}
	})
	t.Run("other project does not", func(t *testing.T) {
		for _, m := range []string{http.MethodGet, http.MethodHead} {
			resp, body := h.do(t, admin(m, "/v2/b/x/blobs/"+d, nil))
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("%s b/x: status %d, want 404", m, resp.StatusCode)
			}
			if m == http.MethodGet {
				wantError(t, "GET b/x", resp, body, http.StatusNotFound, codeBlobUnknown)
			}
		}
		resp, body := h.do(t, admin(http.MethodDelete, "/v2/b/x/blobs/"+d, nil))
		wantError(t, "DELETE b/x", resp, body, http.StatusNotFound, codeBlobUnknown)
		resp, body = h.do(t, admin(http.MethodHead, "/v2/a/x/blobs/"+d, nil))
		wantStatus(t, "a's blob after b's delete", resp, body, http.StatusOK)
	})
	t.Run("mount across projects uploads", func(t *testing.T) {
		for _, q := range []string{"mount=" + d + "&from=a/x", "mount=" + d, "mount=" + d + "&from=b/x"} {
			resp, body := h.do(t, admin(http.MethodPost, "/v2/b/y/blobs/uploads/?"+q, nil))
			wantStatus(t, "mount "+q, resp, body, http.StatusAccepted)
			if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/v2/b/y/blobs/uploads/") {
				t.Errorf("mount %s: Location = %q, want an upload", q, loc)
			}
			if got := resp.Header.Get("Docker-Content-Digest"); got != "" {
				t.Errorf("mount %s: Docker-Content-Digest = %q reveals the blob", q, got)
			}
		}
		resp, body := h.do(t, admin(http.MethodHead, "/v2/b/y/blobs/"+d, nil))
		wantStatus(t, "HEAD after refused mount", resp, body, http.StatusNotFound)
	})
	t.Run("mount within the project", func(t *testing.T) {
		resp, body := h.do(t, admin(http.MethodPost, "/v2/a/y/blobs/uploads/?mount="+d+"&from=a/x", nil))
		wantStatus(t, "mount", resp, body, http.StatusCreated)
		if got := resp.Header.Get("Location"); got != "/v2/a/y/blobs/"+d {
			t.Errorf("Location = %q", got)
		}
	})
	t.Run("manifest naming another project's blob", func(t *testing.T) {
		cfg := []byte(`{"os":"linux"}`)
		h.pushBlob(t, "b/x", cfg)
		m := imageManifest(t, descriptor(ocispec.MediaTypeImageConfig, cfg),
			[]ocispec.Descriptor{descriptor(ocispec.MediaTypeImageLayer, data)}, nil)
		resp, body := h.putManifest(t, "b/x", "v1", ocispec.MediaTypeImageManifest, m)
		wantError(t, "PUT", resp, body, http.StatusBadRequest, codeManifestBlobUnknown)
	})
	t.Run("upload session of another project", func(t *testing.T) {
		loc := h.startUpload(t, "a/x")
		id := loc[strings.LastIndexByte(loc, '/')+1:]
		for _, c := range []call{
			admin(http.MethodGet, "/v2/b/x/blobs/uploads/"+id, nil),
			admin(http.MethodPatch, "/v2/b/x/blobs/uploads/"+id, []byte("data")),
			admin(http.MethodPut, "/v2/b/x/blobs/uploads/"+id+"?digest="+sha256Digest(nil), nil),
			admin(http.MethodDelete, "/v2/b/x/blobs/uploads/"+id, nil),
		} {
			resp, body := h.do(t, c)
			wantError(t, c.method+" "+c.path, resp, body, http.StatusNotFound, codeBlobUploadUnknown)
		}
		// Still usable in its own project, from any repository of it.
		resp, body := h.do(t, admin(http.MethodGet, "/v2/a/z/blobs/uploads/"+id, nil))
		wantStatus(t, "status in a/z", resp, body, http.StatusNoContent)
	})
	t.Run("referrers and tags stay in the repository", func(t *testing.T) {
		resp, body := h.do(t, admin(http.MethodGet, "/v2/b/x/tags/list", nil))
		wantError(t, "tags of b/x", resp, body, http.StatusNotFound, codeNameUnknown)
	})
}

func TestUnknownProject(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, c := range []call{
		admin(http.MethodPost, "/v2/nope/x/blobs/uploads/", nil),
		admin(http.MethodPost, "/v2/nope/x/blobs/uploads/?digest="+sha256Digest([]byte("x")), []byte("x")),
		admin(http.MethodPut, "/v2/nope/x/manifests/v1", h.image(t, "a/x", nil), "Content-Type", ocispec.MediaTypeImageManifest),
	} {
		resp, body := h.do(t, c)
		wantError(t, c.method+" "+c.path, resp, body, http.StatusNotFound, codeNameUnknown)
		if msg := errorMessage(t, body); !strings.Contains(msg, "palisade project create nope") {
			t.Errorf("message %q does not name palisade project create", msg)
		}
	}
	if n := h.blobs.UploadsInProgress(); n != 0 {
		t.Errorf("uploads in progress = %d, want 0", n)
	}
	resp, body := h.do(t, admin(http.MethodGet, "/v2/nope/x/manifests/v1", nil))
	wantError(t, "GET manifest", resp, body, http.StatusNotFound, codeManifestUnknown)
	resp, body = h.do(t, admin(http.MethodGet, "/v2/nope/x/tags/list", nil))
	wantError(t, "tags", resp, body, http.StatusNotFound, codeNameUnknown)
}
