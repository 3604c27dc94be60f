package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/palisade-sec/palisade/internal/store"
)

// setQuota sets project's quota in the harness's store.
func (h *harness) setQuota(t testing.TB, project string, q store.Quota) {
	t.Helper()
	if err := h.st.SetQuota(context.Background(), project, q); err != nil {
		t.Fatalf("set quota of %s: %v", project, err)
	}
}

// quotaUsage returns what project holds according to the store.
func (h *harness) quotaUsage(t testing.TB, project string) store.Usage {
	t.Helper()
	u, err := h.st.ProjectUsage(context.Background(), project)
	if err != nil {
		t.Fatalf("usage of %s: %v", project, err)
	}
	return u
}

// wantQuotaRefusal fails unless the answer is 403 DENIED with a message
// naming the storage quota, the usage and the size refused.
func wantQuotaRefusal(t testing.TB, what string, resp *http.Response, body []byte, limit, usage, adding int64) {
	t.Helper()
	wantError(t, what, resp, body, http.StatusForbidden, codeDenied)
	msg := errorMessage(t, body)
	for _, s := range []string{
		"storage quota",
		fmt.Sprintf("(%d of %d bytes used)", usage, limit),
		fmt.Sprintf("storing %d more bytes", adding),
	} {
		if !strings.Contains(msg, s) {
			t.Errorf("%s: message %q does not contain %q", what, msg, s)
		}
	}
}

// wantNothingStored fails if the project has a record or an object of the
// blob, or if any upload part is left.
func (h *harness) wantNothingStored(t testing.TB, project, digest string) {
	t.Helper()
	if _, err := h.st.Blob(context.Background(), project, digest); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("blob %s recorded after a quota refusal (err %v)", digest, err)
	}
	key, err := h.blobs.Key(project, digest)
	if err != nil {
		t.Fatal(err)
	}
	if keys := h.objects(t, key); len(keys) != 0 {
		t.Errorf("blob object left after a quota refusal: %q", keys)
	}
	if keys := h.objects(t, "uploads/"); len(keys) != 0 {
		t.Errorf("upload parts left after a quota refusal: %q", keys)
	}
	if n := h.blobs.UploadsInProgress(); n != 0 {
		t.Errorf("uploads in progress after a quota refusal = %d, want 0", n)
	}
}

func TestStorageQuotaExactLimit(t *testing.T) {
	t.Parallel()
	const limit = 3000
	h := newHarness(t)
	h.setQuota(t, "a", store.Quota{Bytes: limit})

	full := randomBytes(100, limit)
	resp, body := h.do(t, admin(http.MethodPost, "/v2/a/x/blobs/uploads/?digest="+sha256Digest(full), full))
	wantStatus(t, "blob exactly at the quota", resp, body, http.StatusCreated)
	if u := h.quotaUsage(t, "a"); u.BlobBytes != limit {
		t.Fatalf("usage = %d bytes, want %d", u.BlobBytes, limit)
	}

	one := []byte{42}
	d := sha256Digest(one)
	resp, body = h.do(t, admin(http.MethodPost, "/v2/a/x/blobs/uploads/?digest="+d, one))
	wantQuotaRefusal(t, "one byte over a full quota", resp, body, limit, limit, 1)
	h.wantNothingStored(t, "a", d)
	if u := h.quotaUsage(t, "a"); u.BlobBytes != limit || u.Blobs != 1 {
		t.Errorf("usage after the refusal = %+v, want %d bytes in 1 blob", u, limit)
	}
	// The other project has no quota.
	resp, body = h.do(t, admin(http.MethodPost, "/v2/b/x/blobs/uploads/?digest="+d, one))
	wantStatus(t, "the same byte in project b", resp, body, http.StatusCreated)
}

// TestStorageQuotaRefusedBeforeStored pushes a blob one byte over an empty
// project's quota in each way a client may: every one is refused with 403
// and leaves no object, no upload part and no record.
func TestStorageQuotaRefusedBeforeStored(t *testing.T) {
	t.Parallel()
	const limit = 3000
	data := randomBytes(101, limit+1)
	d := sha256Digest(data)
	octet := []string{"Content-Type", "application/octet-stream"}

	tests := []struct {
		name string
		// push returns the refused answer, which must name adding bytes.
		push   func(t *testing.T, h *harness) (*http.Response, []byte)
		adding int64
	}{
		{"monolithic POST with Content-Length", func(t *testing.T, h *harness) (*http.Response, []byte) {
			return h.do(t, admin(http.MethodPost, "/v2/a/x/blobs/uploads/?digest="+d, data))
		}, limit + 1},
		{"monolithic POST streamed", func(t *testing.T, h *harness) (*http.Response, []byte) {
			return h.do(t, call{method: http.MethodPost, path: "/v2/a/x/blobs/uploads/?digest=" + d,
				auth: bearer(adminToken), body: bytes.NewReader(data), length: -1, header: octet})
		}, limit + 1},
		{"chunked PATCH then PUT with the last chunk", func(t *testing.T, h *harness) (*http.Response, []byte) {
			loc := h.startUpload(t, "a/x")
			resp, body := h.patch(t, loc, 0, data[:2000])
			wantStatus(t, "first chunk", resp, body, http.StatusAccepted)
			resp, body = h.do(t, admin(http.MethodPut, withQuery(loc, "digest="+d), data[2000:],
				"Content-Range", fmt.Sprintf("2000-%d", len(data)-1)))
			h.wantUploadGone(t, loc)
			return resp, body
		}, limit + 1},
		{"chunked PATCH over the quota", func(t *testing.T, h *harness) (*http.Response, []byte) {
			loc := h.startUpload(t, "a/x")
			resp, body := h.patch(t, loc, 0, data[:2000])
			wantStatus(t, "first chunk", resp, body, http.StatusAccepted)
			resp, body = h.patch(t, loc, 2000, data[2000:])
			h.wantUploadGone(t, loc)
			return resp, body
		}, limit + 1},
		{"streamed PATCH without Content-Length", func(t *testing.T, h *harness) (*http.Response, []byte) {
			loc := h.startUpload(t, "a/x")
			resp, body := h.do(t, call{method: http.MethodPatch, path: loc, auth: bearer(adminToken),
				body: bytes.NewReader(data), length: -1, header: octet})
			h.wantUploadGone(t, loc)
			return resp, body
		}, limit + 1},
		{"streamed PATCH after a chunk", func(t *testing.T, h *harness) (*http.Response, []byte) {
			loc := h.startUpload(t, "a/x")
			resp, body := h.patch(t, loc, 0, data[:1000])
			wantStatus(t, "first chunk", resp, body, http.StatusAccepted)
			resp, body = h.do(t, call{method: http.MethodPatch, path: loc, auth: bearer(adminToken),
				body: bytes.NewReader(data[1000:]), length: -1, header: octet})
			h.wantUploadGone(t, loc)
			return resp, body
		}, limit + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.setQuota(t, "a", store.Quota{Bytes: limit})
			resp, body := tt.push(t, h)
			wantQuotaRefusal(t, tt.name, resp, body, limit, 0, tt.adding)
			h.wantNothingStored(t, "a", d)
			if u := h.quotaUsage(t, "a"); u != (store.Usage{}) {
				t.Errorf("usage after the refusal = %+v, want none", u)
			}
			if v, _ := h.metric(t, "palisade_registry_blob_uploads_total", `outcome="rejected"`); v != 1 {
				t.Errorf("rejected uploads = %v, want 1", v)
			}
			// The project takes a blob that fits, in the same way.
			fits := data[:limit]
			resp, body = h.do(t, admin(http.MethodPost, "/v2/a/x/blobs/uploads/?digest="+sha256Digest(fits), fits))
			wantStatus(t, "a blob that fits", resp, body, http.StatusCreated)
		})
	}
}

// wantUploadGone fails unless the upload session at loc is unknown.
func (h *harness) wantUploadGone(t testing.TB, loc string) {
	t.Helper()
	resp, body := h.do(t, admin(http.MethodGet, loc, nil))
	wantError(t, "upload status after a quota refusal", resp, body, http.StatusNotFound, codeBlobUploadUnknown)
}

// TestStorageQuotaConcurrent races eight uploads of distinct 1000-byte
// blobs for a quota of 3000 bytes: the store's check in the transaction
// lets exactly three in, and the others leave nothing behind.
func TestStorageQuotaConcurrent(t *testing.T) {
	t.Parallel()
	const (
		n     = 8
		size  = 1000
		limit = 3 * size
	)
	for _, mode := range []string{"monolithic", "chunked"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.setQuota(t, "a", store.Quota{Bytes: limit})
			codes := make([]int, n)
			bodies := make([][]byte, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					data := randomBytes(uint64(200+i), size)
					d := sha256Digest(data)
					var c call
					if mode == "monolithic" {
						c = admin(http.MethodPost, "/v2/a/r"+strconv.Itoa(i)+"/blobs/uploads/?digest="+d, data)
					} else {
						resp, err := h.try(admin(http.MethodPost, "/v2/a/r"+strconv.Itoa(i)+"/blobs/uploads/", nil))
						if err != nil {
							t.Errorf("start upload %d: %v", i, err)
							return
						}
						resp.Body.Close()
						c = admin(http.MethodPut, withQuery(resp.Header.Get("Location"), "digest="+d), data)
					}
					resp, err := h.try(c)
					if err != nil {
						t.Errorf("upload %d: %v", i, err)
						return
					}
					defer resp.Body.Close()
					var buf bytes.Buffer
					_, _ = buf.ReadFrom(resp.Body)
					codes[i], bodies[i] = resp.StatusCode, buf.Bytes()
				})
			}
			wg.Wait()
			created := 0
			for i, code := range codes {
				switch code {
				case http.StatusCreated:
					created++
				case http.StatusForbidden:
					if got := errorCode(t, bodies[i]); got != codeDenied {
						t.Errorf("upload %d: error code %s, want %s", i, got, codeDenied)
					}
					if msg := errorMessage(t, bodies[i]); !strings.Contains(msg, "storage quota") {
						t.Errorf("upload %d: message %q does not name the storage quota", i, msg)
					}
				default:
					t.Errorf("upload %d: status %d, want 201 or 403; body %q", i, code, bodies[i])
				}
			}
			if created != limit/size {
				t.Errorf("%d uploads created, want %d; statuses %v", created, limit/size, codes)
			}
			if u := h.quotaUsage(t, "a"); u.BlobBytes != limit || u.Blobs != limit/size {
				t.Errorf("usage = %+v, want %d bytes in %d blobs", u, limit, limit/size)
			}
			if keys := h.objects(t, "blobs/a/"); len(keys) != limit/size {
				t.Errorf("blob objects = %q, want %d (no orphan)", keys, limit/size)
			}
			if keys := h.objects(t, "uploads/"); len(keys) != 0 {
				t.Errorf("upload parts left: %q", keys)
			}
			if n := h.blobs.UploadsInProgress(); n != 0 {
				t.Errorf("uploads in progress = %d, want 0", n)
			}
		})
	}
}

func TestArtifactQuota(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setQuota(t, "a", store.Quota{Artifacts: 1})
	m1 := h.image(t, "a/x", map[string]string{"n": "1"})
	m2 := h.image(t, "a/x", map[string]string{"n": "2"})

	resp, body := h.putManifest(t, "a/x", "v1", ocispec.MediaTypeImageManifest, m1)
	wantStatus(t, "first manifest", resp, body, http.StatusCreated)

	t.Run("beyond the quota", func(t *testing.T) {
		for _, c := range []call{
			admin(http.MethodPut, "/v2/a/x/manifests/v2", m2, "Content-Type", ocispec.MediaTypeImageManifest),
			admin(http.MethodPut, "/v2/a/x/manifests/v3?tag=v4", m2, "Content-Type", ocispec.MediaTypeImageManifest),
			admin(http.MethodPut, "/v2/a/y/manifests/"+sha256Digest(m2)+"?tag=v2", m2, "Content-Type", ocispec.MediaTypeImageManifest),
		} {
			resp, body := h.do(t, c)
			wantError(t, c.path, resp, body, http.StatusForbidden, codeDenied)
			if msg := errorMessage(t, body); !strings.Contains(msg, "holds 1 of its quota of 1 artifacts") {
				t.Errorf("%s: message %q does not name the artifact quota and usage", c.path, msg)
			}
		}
		for _, ref := range []string{"a/x/manifests/v2", "a/x/manifests/v3", "a/x/manifests/v4", "a/y/manifests/v2",
			"a/x/manifests/" + sha256Digest(m2), "a/y/manifests/" + sha256Digest(m2)} {
			resp, body := h.do(t, admin(http.MethodGet, "/v2/"+ref, nil))
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s after the refusal: status %d, want 404; body %q", ref, resp.StatusCode, body)
			}
		}
		resp, body := h.do(t, admin(http.MethodGet, "/v2/a/x/tags/list", nil))
		wantStatus(t, "tags", resp, body, http.StatusOK)
		if got, want := string(bytes.TrimSpace(body)), `{"name":"a/x","tags":["v1"]}`; got != want {
			t.Errorf("tags = %s, want %s", got, want)
		}
		if u := h.quotaUsage(t, "a"); u.Manifests != 1 {
			t.Errorf("manifests = %d, want 1", u.Manifests)
		}
	})
	t.Run("re-push is not a new artifact", func(t *testing.T) {
		for _, c := range []call{
			admin(http.MethodPut, "/v2/a/x/manifests/v1", m1, "Content-Type", ocispec.MediaTypeImageManifest),
			admin(http.MethodPut, "/v2/a/x/manifests/latest", m1, "Content-Type", ocispec.MediaTypeImageManifest),
			admin(http.MethodPut, "/v2/a/x/manifests/"+sha256Digest(m1)+"?tag=stable", m1, "Content-Type", ocispec.MediaTypeImageManifest),
		} {
			resp, body := h.do(t, c)
			wantStatus(t, "re-push "+c.path, resp, body, http.StatusCreated)
		}
		resp, body := h.do(t, admin(http.MethodGet, "/v2/a/x/tags/list", nil))
		wantStatus(t, "tags", resp, body, http.StatusOK)
		if got, want := string(bytes.TrimSpace(body)), `{"name":"a/x","tags":["latest","stable","v1"]}`; got != want {
			t.Errorf("tags = %s, want %s", got, want)
		}
		if u := h.quotaUsage(t, "a"); u.Manifests != 1 {
			t.Errorf("manifests = %d, want 1", u.Manifests)
		}
	})
	t.Run("room again after a delete", func(t *testing.T) {
		resp, body := h.do(t, admin(http.MethodDelete, "/v2/a/x/manifests/"+sha256Digest(m1), nil))
		wantStatus(t, "delete", resp, body, http.StatusAccepted)
		resp, body = h.putManifest(t, "a/x", "v2", ocispec.MediaTypeImageManifest, m2)
		wantStatus(t, "manifest after the delete", resp, body, http.StatusCreated)
	})
}

// TestStorageQuotaRepushOfExistingBlob pushes again, at a full quota, a
// blob the project holds: it stores nothing, so the quota does not refuse
// it. (This suite found it refused with 403 "storing N more bytes"; the
// early check in commit now skips blobs the project holds.)
func TestStorageQuotaRepushOfExistingBlob(t *testing.T) {
	t.Parallel()
	const limit = 3000
	h := newHarness(t)
	h.setQuota(t, "a", store.Quota{Bytes: limit})
	data := randomBytes(102, limit)
	d := h.pushBlob(t, "a/x", data)
	for _, c := range []call{
		admin(http.MethodPost, "/v2/a/x/blobs/uploads/?digest="+d, data),
		admin(http.MethodPost, "/v2/a/y/blobs/uploads/?digest="+d, data),
		{method: http.MethodPost, path: "/v2/a/z/blobs/uploads/?digest=" + d, auth: bearer(adminToken),
			body: bytes.NewReader(data), length: -1},
	} {
		resp, body := h.do(t, c)
		wantStatus(t, "re-push at a full quota to "+c.path, resp, body, http.StatusCreated)
	}
	// Different bytes under the blob's digest are still refused.
	resp, body := h.do(t, admin(http.MethodPost, "/v2/a/x/blobs/uploads/?digest="+d, randomBytes(103, limit)))
	wantError(t, "other bytes under the digest", resp, body, http.StatusBadRequest, codeDigestInvalid)
	if u := h.quotaUsage(t, "a"); u.BlobBytes != limit || u.Blobs != 1 {
		t.Errorf("usage = %+v, want %d bytes in 1 blob", u, limit)
	}
	h.wantNothingStored(t, "a", sha256Digest(randomBytes(103, limit)))
}

// TestStorageQuotaCountsOpenUploads: bytes held by the project's open
// upload sessions count against the room left, so that many sessions
// cannot each stage up to the whole quota.
func TestStorageQuotaCountsOpenUploads(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setQuota(t, "a", store.Quota{Bytes: 100})
	first := h.startUpload(t, "a/x")
	resp, body := h.do(t, admin(http.MethodPatch, first, randomBytes(400, 90), "Content-Range", "0-89"))
	wantStatus(t, "first session's 90 bytes", resp, body, http.StatusAccepted)
	second := h.startUpload(t, "a/x")
	resp, body = h.do(t, admin(http.MethodPatch, second, randomBytes(401, 90), "Content-Range", "0-89"))
	wantError(t, "second session's 90 bytes with 10 left", resp, body, http.StatusForbidden, codeDenied)
	resp, body = h.do(t, admin(http.MethodPatch, second, randomBytes(402, 10), "Content-Range", "0-9"))
	wantError(t, "the refused session is gone", resp, body, http.StatusNotFound, codeBlobUploadUnknown)
	third := h.startUpload(t, "a/x")
	resp, body = h.do(t, admin(http.MethodPatch, third, randomBytes(403, 10), "Content-Range", "0-9"))
	wantStatus(t, "a third session's 10 bytes fit", resp, body, http.StatusAccepted)
}
