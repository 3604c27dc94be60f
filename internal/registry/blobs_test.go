package registry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
)

func TestBlobGet(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	data := randomBytes(7, 3<<20+123) // several 1 MiB ciphertext segments
	d := h.pushBlob(t, "a/x", data)

	t.Run("GET", func(t *testing.T) {
		resp, body := h.do(t, admin(http.MethodGet, "/v2/a/x/blobs/"+d, nil))
		wantStatus(t, "GET", resp, body, http.StatusOK)
		if !bytes.Equal(body, data) {
			t.Fatalf("GET: %d bytes differ from the %d pushed", len(body), len(data))
		}
		if resp.ContentLength != int64(len(data)) || resp.Header.Get("Docker-Content-Digest") != d ||
			resp.Header.Get("Content-Type") != "application/octet-stream" || resp.Header.Get("ETag") != `"`+d+`"` {
			t.Errorf("GET headers %v", resp.Header)
		}
	})
	t.Run("HEAD", func(t *testing.T) {
		resp, body := h.do(t, admin(http.MethodHead, "/v2/a/x/blobs/"+d, nil))
		wantStatus(t, "HEAD", resp, body, http.StatusOK)
		if resp.ContentLength != int64(len(data)) {
			t.Errorf("HEAD Content-Length = %d, want %d", resp.ContentLength, len(data))
		}
		if got := resp.Header.Get("Docker-Content-Digest"); got != d {
			t.Errorf("HEAD Docker-Content-Digest = %q", got)
		}
		if len(body) != 0 {
			t.Errorf("HEAD body of %d bytes", len(body))
		}
	})
	t.Run("Range", func(t *testing.T) {
		n := int64(len(data))
		seg := int64(1048520) // plaintext of the first segment
		for _, tt := range []struct {
			rng        string
			start, end int64 // inclusive
		}{
			{"bytes=10-19", 10, 19},
			{"bytes=0-0", 0, 0},
			{"bytes=-5", n - 5, n - 1},
			{"bytes=" + strconv.FormatInt(n-3, 10) + "-", n - 3, n - 1},
			{"bytes=" + strconv.FormatInt(seg-5, 10) + "-" + strconv.FormatInt(seg+5, 10), seg - 5, seg + 5},
			{"bytes=2097000-2097200", 2097000, 2097200},
		} {
			resp, body := h.do(t, admin(http.MethodGet, "/v2/a/x/blobs/"+d, nil, "Range", tt.rng))
			wantStatus(t, tt.rng, resp, body, http.StatusPartialContent)
			if !bytes.Equal(body, data[tt.start:tt.end+1]) {
				t.Errorf("%s: got %d bytes, want bytes %d-%d", tt.rng, len(body), tt.start, tt.end)
			}
			want := "bytes " + strconv.FormatInt(tt.start, 10) + "-" + strconv.FormatInt(tt.end, 10) + "/" + strconv.FormatInt(n, 10)
			if got := resp.Header.Get("Content-Range"); got != want {
				t.Errorf("%s: Content-Range = %q, want %q", tt.rng, got, want)
			}
		}
		resp, body := h.do(t, admin(http.MethodGet, "/v2/a/x/blobs/"+d, nil, "Range", "bytes="+strconv.FormatInt(n, 10)+"-"))
		wantStatus(t, "range past the end", resp, body, http.StatusRequestedRangeNotSatisfiable)
	})
	t.Run("invalid and unknown digests", func(t *testing.T) {
		resp, body := h.do(t, admin(http.MethodGet, "/v2/a/x/blobs/sha256:abc", nil))
		wantError(t, "invalid", resp, body, http.StatusBadRequest, codeDigestInvalid)
		resp, body = h.do(t, admin(http.MethodGet, "/v2/a/x/blobs/"+d256, nil))
		wantError(t, "unknown", resp, body, http.StatusNotFound, codeBlobUnknown)
	})
	if v, _ := h.metric(t, "palisade_registry_blob_bytes_served_total"); v < float64(len(data)) {
		t.Errorf("blob_bytes_served_total = %v, want at least %d", v, len(data))
	}
}

// flipByte changes one byte of the blob's stored ciphertext, writing the
// object straight to the bucket.
func (h *harness) flipByte(t testing.TB, project, digest string, at int) {
	t.Helper()
	ctx := context.Background()
	key, err := h.blobs.Key(project, digest)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := h.blobs.Bucket().ReadAll(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if at < 0 {
		at += len(ct)
	}
	ct[at] ^= 0x40
	if err := h.blobs.Bucket().WriteAll(ctx, key, ct, nil); err != nil {
		t.Fatal(err)
	}
}

// wantNoCleanBody fails if the request gets a successful, complete
// response: a tampered blob must cut the response or fail it.
func (h *harness) wantNoCleanBody(t testing.TB, c call, data []byte) {
	t.Helper()
	resp, err := h.try(c)
	if err != nil {
		return // connection cut before the headers
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Logf("body read error: %v", err)
		}
		return // cut mid-body
	}
	if resp.StatusCode < 300 {
		t.Errorf("tampered blob served cleanly: status %d, %d bytes (same as pushed: %v)",
			resp.StatusCode, len(body), bytes.Equal(body, data))
	}
}

func TestBlobTampered(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	small := randomBytes(8, 1000)
	large := randomBytes(9, 3<<20)
	tests := []struct {
		name string
		data []byte
		at   int // byte of the ciphertext to flip; negative from the end
		rng  string
	}{
		{"small, body", small, 100, ""},
		{"small, header", small, 5, ""},
		{"small, tag", small, -3, ""},
		{"large, first segment", large, 5000, ""},
		{"large, last segment", large, -100, ""},
		{"large, range over the flipped segment", large, 2<<20 + 100, "bytes=2097000-2097200"},
		{"large, range after it", large, 1<<20 + 100, "bytes=3000000-3000100"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := "a/t" + strconv.Itoa(i)
			// Each case tampers with a blob of its own (its own digest).
			data := append(bytes.Clone(tt.data), byte(i))
			d := h.pushBlob(t, repo, data)
			h.flipByte(t, "a", d, tt.at)
			c := admin(http.MethodGet, "/v2/"+repo+"/blobs/"+d, nil)
			if tt.rng != "" {
				c.header = []string{"Range", tt.rng}
			}
			h.wantNoCleanBody(t, c, data)
		})
	}
}

// TestBlobSwapped replaces one blob's object by another's ciphertext (both
// authentic, but not for this record): the record's wrapped key and AAD
// do not open it.
func TestBlobSwapped(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	one, two := randomBytes(10, 5000), randomBytes(11, 5000)
	d1 := h.pushBlob(t, "a/x", one)
	d2 := h.pushBlob(t, "a/x", two)
	k1, _ := h.blobs.Key("a", d1)
	k2, _ := h.blobs.Key("a", d2)
	ct2, err := h.blobs.Bucket().ReadAll(ctx, k2)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.blobs.Bucket().WriteAll(ctx, k1, ct2, nil); err != nil {
		t.Fatal(err)
	}
	h.wantNoCleanBody(t, admin(http.MethodGet, "/v2/a/x/blobs/"+d1, nil), one)
}

func TestBlobDelete(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	data := []byte("to be deleted")
	d := h.pushBlob(t, "a/x", data)
	resp, body := h.do(t, admin(http.MethodDelete, "/v2/a/y/blobs/"+d, nil))
	wantStatus(t, "DELETE", resp, body, http.StatusAccepted)
	resp, body = h.do(t, admin(http.MethodGet, "/v2/a/x/blobs/"+d, nil))
	wantError(t, "GET after delete", resp, body, http.StatusNotFound, codeBlobUnknown)
	if keys := h.objects(t, "blobs/"); len(keys) != 0 {
		t.Errorf("objects after delete: %q", keys)
	}
	resp, body = h.do(t, admin(http.MethodDelete, "/v2/a/x/blobs/"+d, nil))
	wantError(t, "DELETE again", resp, body, http.StatusNotFound, codeBlobUnknown)
	resp, body = h.do(t, admin(http.MethodDelete, "/v2/a/x/blobs/sha256:zz", nil))
	wantError(t, "DELETE invalid", resp, body, http.StatusBadRequest, codeDigestInvalid)
}

// TestOrphanObjectReplaced is a crash between committing a blob's object
// and recording it: the object without a record is never served, and the
// next push of the digest replaces it and reads back.
func TestOrphanObjectReplaced(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the orphan timeout")
	}
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	data := randomBytes(12, 2<<20)
	d := h.pushBlob(t, "a/x", data)
	if err := h.st.DeleteBlob(ctx, "a", d); err != nil {
		t.Fatal(err)
	}
	if ok, err := h.blobs.Exists(ctx, "a", d); err != nil || !ok {
		t.Fatalf("object exists = %v, %v; want the orphan", ok, err)
	}
	resp, body := h.do(t, admin(http.MethodGet, "/v2/a/x/blobs/"+d, nil))
	wantError(t, "GET orphan", resp, body, http.StatusNotFound, codeBlobUnknown)
	resp, body = h.do(t, admin(http.MethodPost, "/v2/a/x/blobs/uploads/?mount="+d, nil))
	wantStatus(t, "mount orphan", resp, body, http.StatusAccepted)

	resp, body = h.do(t, admin(http.MethodPost, "/v2/a/x/blobs/uploads/?digest="+d, data))
	wantStatus(t, "push again", resp, body, http.StatusCreated)
	resp, body = h.do(t, admin(http.MethodGet, "/v2/a/x/blobs/"+d, nil))
	wantStatus(t, "GET", resp, body, http.StatusOK)
	if !bytes.Equal(body, data) {
		t.Errorf("GET after repair: %d bytes differ from the %d pushed", len(body), len(data))
	}
}

// TestMissingObjectRepaired is a record whose object is gone (a deletion
// cut short, a lost file): reads fail as a server error, never as an
// empty blob, and the next push stores the data again.
func TestMissingObjectRepaired(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	data := randomBytes(13, 10000)
	d := h.pushBlob(t, "a/x", data)
	before, err := h.st.Blob(ctx, "a", d)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.blobs.Delete(ctx, "a", d); err != nil {
		t.Fatal(err)
	}
	resp, body := h.do(t, admin(http.MethodGet, "/v2/a/x/blobs/"+d, nil))
	wantError(t, "GET without data", resp, body, http.StatusInternalServerError, codeUnknown)
	if resp.Header.Get("Docker-Content-Digest") != "" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("GET without data: headers of the blob kept: %v", resp.Header)
	}
	h.wantNoCleanBody(t, admin(http.MethodGet, "/v2/a/x/blobs/"+d, nil, "Range", "bytes=0-9"), data)

	for _, chunked := range []bool{false, true} {
		if chunked {
			if err := h.blobs.Delete(ctx, "a", d); err != nil {
				t.Fatal(err)
			}
			loc := h.startUpload(t, "a/x")
			resp, body := h.patch(t, loc, 0, data[:5000])
			wantStatus(t, "PATCH", resp, body, http.StatusAccepted)
			resp, body = h.do(t, admin(http.MethodPut, withQuery(loc, "digest="+d), data[5000:]))
			wantStatus(t, "chunked push", resp, body, http.StatusCreated)
		} else {
			h.pushBlob(t, "a/x", data)
		}
		resp, body = h.do(t, admin(http.MethodGet, "/v2/a/x/blobs/"+d, nil))
		wantStatus(t, "GET after repair", resp, body, http.StatusOK)
		if !bytes.Equal(body, data) {
			t.Errorf("GET after repair: %d bytes differ", len(body))
		}
	}
	after, err := h.st.Blob(ctx, "a", d)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(after.WrappedKey, before.WrappedKey) {
		t.Error("the repaired record kept the lost object's data key")
	}
}
