package registry

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestNewRequiresDependencies(t *testing.T) {
	t.Parallel()
	if _, err := New(Options{}); err == nil {
		t.Error("New with no store, blobs or authenticator succeeded")
	}
}

// TestConcurrentTagPush pushes eight manifests to one tag at once: the
// tag ends naming exactly one of them, whole.
func TestConcurrentTagPush(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const n = 8
	bodies := make([][]byte, n)
	digests := map[string][]byte{}
	base := h.image(t, "a/x", nil)
	for i := range bodies {
		var m ocispec.Manifest
		if err := json.Unmarshal(base, &m); err != nil {
			t.Fatal(err)
		}
		m.Annotations = map[string]string{"writer": strconv.Itoa(i)}
		bodies[i] = []byte(mustJSON(t, m))
		digests[sha256Digest(bodies[i])] = bodies[i]
	}

	var (
		wg     sync.WaitGroup
		start  = make(chan struct{})
		status = make([]int, n)
		errs   = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			resp, err := h.try(admin(http.MethodPut, "/v2/a/x/manifests/latest", bodies[i], "Content-Type", ocispec.MediaTypeImageManifest))
			if err != nil {
				errs[i] = err
				return
			}
			resp.Body.Close()
			status[i] = resp.StatusCode
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || status[i] != http.StatusCreated {
			t.Errorf("writer %d: status %d, error %v", i, status[i], errs[i])
		}
	}

	resp, body := h.do(t, admin(http.MethodGet, "/v2/a/x/manifests/latest", nil))
	wantStatus(t, "GET latest", resp, body, http.StatusOK)
	d := resp.Header.Get("Docker-Content-Digest")
	want, ok := digests[d]
	if !ok {
		t.Fatalf("latest names %s, which no writer pushed", d)
	}
	if !bytes.Equal(body, want) || sha256Digest(body) != d {
		t.Errorf("GET latest: body is not the manifest of %s", d)
	}
	resp, body = h.do(t, admin(http.MethodGet, "/v2/a/x/tags/list", nil))
	wantStatus(t, "tags", resp, body, http.StatusOK)
	var tl struct{ Tags []string }
	if err := json.Unmarshal(body, &tl); err != nil || !slices.Equal(tl.Tags, []string{"latest"}) {
		t.Errorf("tags = %s", body)
	}
	// Every manifest was stored, whichever holds the tag.
	for d := range digests {
		resp, _ := h.do(t, admin(http.MethodHead, "/v2/a/x/manifests/"+d, nil))
		if resp.StatusCode != http.StatusOK {
			t.Errorf("HEAD %s: %d", d, resp.StatusCode)
		}
	}
}

// TestConcurrentBlobPush pushes one new blob from several clients at once:
// each gets 201 and one object and one record remain.
func TestConcurrentBlobPush(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	data := randomBytes(14, 200000)
	d := sha256Digest(data)
	const n = 6
	var (
		wg     sync.WaitGroup
		start  = make(chan struct{})
		status = make([]int, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			resp, err := h.try(admin(http.MethodPost, "/v2/a/x"+strconv.Itoa(i)+"/blobs/uploads/?digest="+d, data))
			if err != nil {
				t.Errorf("push %d: %v", i, err)
				return
			}
			resp.Body.Close()
			status[i] = resp.StatusCode
		})
	}
	close(start)
	wg.Wait()
	for i, s := range status {
		if s != http.StatusCreated {
			t.Errorf("push %d: status %d, want 201", i, s)
		}
	}
	if keys := h.objects(t, "blobs/"); len(keys) != 1 {
		t.Errorf("objects = %q, want one", keys)
	}
	resp, body := h.do(t, admin(http.MethodGet, "/v2/a/x/blobs/"+d, nil))
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("GET: %d, %d bytes", resp.StatusCode, len(body))
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.pushBlob(t, "a/x", []byte("counted"))
	loc := h.startUpload(t, "a/x")
	resp, body := h.do(t, admin(http.MethodDelete, loc, nil))
	wantStatus(t, "cancel", resp, body, http.StatusNoContent)

	for _, tt := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"palisade_registry_blob_uploads_total", []string{`outcome="committed"`}, 1},
		{"palisade_registry_blob_uploads_total", []string{`outcome="aborted"`}, 1},
		{"palisade_registry_blob_bytes_committed_total", nil, float64(len("counted"))},
		{"palisade_registry_blob_uploads_in_progress", nil, 0},
		{"palisade_storage_blobs", []string{`project="a"`}, 1},
		{"palisade_storage_blob_bytes", []string{`project="a"`}, float64(len("counted"))},
		{"palisade_storage_manifests", []string{`project="a"`}, 0},
		{"palisade_http_requests_total", []string{`route="/v2/{name}/blobs/uploads/"`, `method="POST"`, `code="201"`}, 1},
		{"palisade_http_requests_total", []string{`route="/v2/{name}/blobs/uploads/"`, `method="POST"`, `code="202"`}, 1},
		{"palisade_http_requests_total", []string{`route="/v2/{name}/blobs/uploads/{id}"`, `method="DELETE"`, `code="204"`}, 1},
	} {
		got, ok := h.metric(t, tt.name, tt.labels...)
		if !ok || got != tt.want {
			t.Errorf("%s%v = %v (found %v), want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}
	// Unmatched paths share one label; client-chosen paths never become
	// labels.
	h.do(t, admin(http.MethodGet, "/v2/a/x/no/such/route-12345", nil))
	if _, ok := h.metric(t, "palisade_http_requests_total", `route="/v2/ (unmatched)"`); !ok {
		t.Error("no sample for unmatched registry paths")
	}
	if _, ok := h.metric(t, "palisade_http_requests_total", "route-12345"); ok {
		t.Error("a request path became a metric label")
	}
}
