package registry

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// patch sends a chunk to an upload with a Content-Range.
func (h *harness) patch(t testing.TB, loc string, start int64, chunk []byte) (*http.Response, []byte) {
	t.Helper()
	cr := fmt.Sprintf("%d-%d", start, start+int64(len(chunk))-1)
	return h.do(t, admin(http.MethodPatch, loc, chunk, "Content-Type", "application/octet-stream", "Content-Range", cr))
}

func TestChunkedUpload(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	data := randomBytes(3, 3*1000+7)
	d := sha256Digest(data)
	chunks := [][]byte{data[:1000], data[1000:2000], data[2000:]}

	for _, finalInPut := range []bool{false, true} {
		t.Run("final chunk in PUT "+strconv.FormatBool(finalInPut), func(t *testing.T) {
			repo := "a/chunked" + strconv.FormatBool(finalInPut)
			loc := h.startUpload(t, repo)
			var off int64
			n := len(chunks)
			if finalInPut {
				n--
			}
			for _, c := range chunks[:n] {
				resp, body := h.patch(t, loc, off, c)
				wantStatus(t, "PATCH", resp, body, http.StatusAccepted)
				off += int64(len(c))
				if got := resp.Header.Get("Range"); got != "0-"+strconv.FormatInt(off-1, 10) {
					t.Errorf("PATCH: Range = %q after %d bytes", got, off)
				}
				if got := resp.Header.Get("Location"); got != loc {
					t.Errorf("PATCH: Location = %q, want %q", got, loc)
				}
				resp, body = h.do(t, admin(http.MethodGet, loc, nil))
				wantStatus(t, "status", resp, body, http.StatusNoContent)
				if got := resp.Header.Get("Range"); got != "0-"+strconv.FormatInt(off-1, 10) {
					t.Errorf("status: Range = %q after %d bytes", got, off)
				}
			}
			c := admin(http.MethodPut, withQuery(loc, "digest="+d), nil)
			if finalInPut {
				last := chunks[n]
				c = admin(http.MethodPut, withQuery(loc, "digest="+d), last,
					"Content-Range", fmt.Sprintf("%d-%d", off, off+int64(len(last))-1))
			}
			resp, body := h.do(t, c)
			wantStatus(t, "PUT", resp, body, http.StatusCreated)
			if got := resp.Header.Get("Location"); got != "/v2/"+repo+"/blobs/"+d {
				t.Errorf("PUT: Location = %q", got)
			}
			if got := resp.Header.Get("Docker-Content-Digest"); got != d {
				t.Errorf("PUT: Docker-Content-Digest = %q", got)
			}
			resp, body = h.do(t, admin(http.MethodGet, "/v2/"+repo+"/blobs/"+d, nil))
			wantStatus(t, "GET", resp, body, http.StatusOK)
			if !bytes.Equal(body, data) {
				t.Errorf("GET: %d bytes differ from the %d pushed", len(body), len(data))
			}
			resp, body = h.do(t, admin(http.MethodGet, loc, nil))
			wantError(t, "status after commit", resp, body, http.StatusNotFound, codeBlobUploadUnknown)
		})
	}
	if keys := h.objects(t, "uploads/"); len(keys) != 0 {
		t.Errorf("upload parts left: %q", keys)
	}
}

func TestUploadOutOfOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	data := randomBytes(4, 30)
	loc := h.startUpload(t, "a/x")
	resp, body := h.patch(t, loc, 0, data[:10])
	wantStatus(t, "first chunk", resp, body, http.StatusAccepted)

	for _, start := range []int64{20, 5, 0, 11} {
		resp, body := h.patch(t, loc, start, data[start:start+10])
		wantError(t, "chunk at "+strconv.FormatInt(start, 10), resp, body, http.StatusRequestedRangeNotSatisfiable, codeBlobUploadInvalid)
		if got := resp.Header.Get("Range"); got != "0-9" {
			t.Errorf("chunk at %d: Range = %q, want 0-9", start, got)
		}
		if got := resp.Header.Get("Location"); got != loc {
			t.Errorf("chunk at %d: Location = %q, want %q", start, got, loc)
		}
	}
	for _, tt := range []struct{ name, cr, length string }{
		{"no dash", "10", ""},
		{"end before start", "19-10", ""},
		{"negative", "-1-5", ""},
		{"not numbers", "a-b", ""},
		{"length differs", "10-19", "5"},
	} {
		c := admin(http.MethodPatch, loc, data[10:20], "Content-Range", tt.cr)
		if tt.length != "" {
			n, _ := strconv.ParseInt(tt.length, 10, 64)
			c.body = bytes.NewReader(data[10 : 10+n])
		}
		resp, body := h.do(t, c)
		wantError(t, tt.name, resp, body, http.StatusBadRequest, codeBlobUploadInvalid)
	}
	// The upload is still usable from where it stands.
	resp, body = h.patch(t, loc, 10, data[10:20])
	wantStatus(t, "second chunk", resp, body, http.StatusAccepted)
	resp, body = h.do(t, admin(http.MethodPatch, loc, data[20:], "Content-Range", "bytes 20-29/*"))
	wantStatus(t, "third chunk (bytes prefix)", resp, body, http.StatusAccepted)
	resp, body = h.do(t, admin(http.MethodPut, withQuery(loc, "digest="+sha256Digest(data)), nil))
	wantStatus(t, "PUT", resp, body, http.StatusCreated)
	resp, body = h.do(t, admin(http.MethodGet, "/v2/a/x/blobs/"+sha256Digest(data), nil))
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("GET: %d %q, want %q", resp.StatusCode, body, data)
	}
}

func TestUploadDigestMismatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	data := []byte("the bytes actually sent")
	claimed := sha256Digest([]byte("the bytes claimed"))

	t.Run("PUT", func(t *testing.T) {
		loc := h.startUpload(t, "a/x")
		resp, body := h.patch(t, loc, 0, data)
		wantStatus(t, "PATCH", resp, body, http.StatusAccepted)
		// A malformed or missing digest is refused, and the upload stays.
		for _, q := range []string{"", "digest=sha256:abc", "digest=" + strings.ToUpper(claimed)} {
			resp, body := h.do(t, admin(http.MethodPut, withQuery(loc, q), nil))
			wantError(t, "PUT "+q, resp, body, http.StatusBadRequest, codeDigestInvalid)
		}
		resp, body = h.do(t, admin(http.MethodGet, loc, nil))
		wantStatus(t, "status", resp, body, http.StatusNoContent)

		resp, body = h.do(t, admin(http.MethodPut, withQuery(loc, "digest="+claimed), nil))
		wantError(t, "PUT wrong digest", resp, body, http.StatusBadRequest, codeDigestInvalid)
		for _, d := range []string{claimed, sha256Digest(data)} {
			resp, _ := h.do(t, admin(http.MethodHead, "/v2/a/x/blobs/"+d, nil))
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("HEAD %s: %d, want 404", d, resp.StatusCode)
			}
		}
		resp, body = h.do(t, admin(http.MethodGet, loc, nil))
		wantError(t, "status after mismatch", resp, body, http.StatusNotFound, codeBlobUploadUnknown)
		resp, body = h.do(t, admin(http.MethodPut, withQuery(loc, "digest="+sha256Digest(data)), nil))
		wantError(t, "PUT again", resp, body, http.StatusNotFound, codeBlobUploadUnknown)
	})
	t.Run("monolithic", func(t *testing.T) {
		resp, body := h.do(t, admin(http.MethodPost, "/v2/a/x/blobs/uploads/?digest="+claimed, data))
		wantError(t, "POST", resp, body, http.StatusBadRequest, codeDigestInvalid)
		resp, body = h.do(t, admin(http.MethodPost, "/v2/a/x/blobs/uploads/?digest=sha256:abc", data))
		wantError(t, "POST malformed digest", resp, body, http.StatusBadRequest, codeDigestInvalid)
		resp, _ = h.do(t, admin(http.MethodHead, "/v2/a/x/blobs/"+claimed, nil))
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("HEAD: %d, want 404", resp.StatusCode)
		}
	})
	if n := h.blobs.UploadsInProgress(); n != 0 {
		t.Errorf("uploads in progress = %d, want 0", n)
	}
	if keys := h.objects(t, ""); len(keys) != 0 {
		t.Errorf("objects left: %q", keys)
	}
	if v, _ := h.metric(t, "palisade_registry_blob_uploads_total", `outcome="rejected"`); v != 2 {
		t.Errorf("rejected uploads = %v, want 2", v)
	}
}

// TestMonolithicPushBrokenBody checks that a monolithic push whose body
// cannot be read (a client gone mid-push) leaves no upload session behind:
// nobody knows its ID, so nothing would ever end it.
func TestMonolithicPushBrokenBody(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	conn, err := net.Dial("tcp", h.host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	d := sha256Digest([]byte("hello world"))
	req := "POST /v2/a/x/blobs/uploads/?digest=" + d + " HTTP/1.1\r\nHost: " + h.host + "\r\n" +
		"Authorization: " + bearer(adminToken) + "\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"5\r\nhello\r\nzz-not-a-chunk-size\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 {
		t.Fatalf("status %d, want an error", resp.StatusCode)
	}
	if n := h.blobs.UploadsInProgress(); n != 0 {
		t.Errorf("uploads in progress = %d, want 0", n)
	}
	resp2, body := h.do(t, admin(http.MethodHead, "/v2/a/x/blobs/"+d, nil))
	if resp2.StatusCode != http.StatusNotFound {
		t.Errorf("HEAD: %d %q, want 404", resp2.StatusCode, body)
	}
}

func TestUploadCancel(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	loc := h.startUpload(t, "a/x")
	resp, body := h.patch(t, loc, 0, []byte("some data"))
	wantStatus(t, "PATCH", resp, body, http.StatusAccepted)
	if keys := h.objects(t, "uploads/a/"); len(keys) != 1 {
		t.Fatalf("parts = %q, want one", keys)
	}
	resp, body = h.do(t, admin(http.MethodDelete, loc, nil))
	wantStatus(t, "DELETE", resp, body, http.StatusNoContent)
	for _, c := range []call{
		admin(http.MethodGet, loc, nil),
		admin(http.MethodPatch, loc, []byte("more")),
		admin(http.MethodPut, withQuery(loc, "digest="+sha256Digest([]byte("some data"))), nil),
		admin(http.MethodDelete, loc, nil),
	} {
		resp, body := h.do(t, c)
		wantError(t, c.method+" after cancel", resp, body, http.StatusNotFound, codeBlobUploadUnknown)
	}
	if keys := h.objects(t, "uploads/"); len(keys) != 0 {
		t.Errorf("parts left after cancel: %q", keys)
	}
	if v, _ := h.metric(t, "palisade_registry_blob_uploads_total", `outcome="aborted"`); v != 1 {
		t.Errorf("aborted uploads = %v, want 1", v)
	}
	if n := h.blobs.UploadsInProgress(); n != 0 {
		t.Errorf("uploads in progress = %d, want 0", n)
	}
}

// TestStreamedPatchPastBodyLimit streams a chunk five times the server's
// default body limit: the upload routes lift the limit through the real
// middleware (server.SetBodyLimit), and other routes keep it.
func TestStreamedPatchPastBodyLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const size = 20 << 20
	data := randomBytes(5, size)
	d := sha256Digest(data)
	loc := h.startUpload(t, "a/x")
	resp, body := h.do(t, call{method: http.MethodPatch, path: loc, auth: bearer(adminToken),
		body: bytes.NewReader(data), length: -1, header: []string{"Content-Type", "application/octet-stream"}})
	wantStatus(t, "PATCH", resp, body, http.StatusAccepted)
	if got := resp.Header.Get("Range"); got != "0-"+strconv.Itoa(size-1) {
		t.Errorf("Range = %q", got)
	}
	resp, body = h.do(t, admin(http.MethodPut, withQuery(loc, "digest="+d), nil))
	wantStatus(t, "PUT", resp, body, http.StatusCreated)
	resp, body = h.do(t, admin(http.MethodHead, "/v2/a/x/blobs/"+d, nil))
	wantStatus(t, "HEAD", resp, body, http.StatusOK)
	if resp.ContentLength != size {
		t.Errorf("Content-Length = %d, want %d", resp.ContentLength, size)
	}
	if v, _ := h.metric(t, "palisade_http_request_bytes_total", `route="`+RouteUpload+`"`); v < size {
		t.Errorf("request bytes of %s = %v, want at least %d", RouteUpload, v, size)
	}
	// The token endpoint keeps the server's limit: a form over it is not
	// read (invalid_request), where a smaller one is (invalid_scope).
	form := "grant_type=password&password=" + adminToken + "&scope="
	for _, tt := range []struct {
		pad  int
		want string
	}{
		{4<<20 + 1, "invalid_request"},
		{1 << 10, "invalid_scope"},
	} {
		resp, body = h.do(t, call{method: http.MethodPost, path: "/v2/token",
			body:   strings.NewReader(form + strings.Repeat("a", tt.pad)),
			header: []string{"Content-Type", "application/x-www-form-urlencoded"}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), tt.want) {
			t.Errorf("token request of %d bytes: %d %s, want 400 %s", tt.pad, resp.StatusCode, body, tt.want)
		}
	}
}

func TestBlobDedup(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	data := randomBytes(6, 4096)
	d := sha256Digest(data)
	for i := range 2 {
		resp, body := h.do(t, admin(http.MethodPost, "/v2/a/x/blobs/uploads/?digest="+d, data))
		wantStatus(t, "push "+strconv.Itoa(i), resp, body, http.StatusCreated)
		if got := resp.Header.Get("Docker-Content-Digest"); got != d {
			t.Errorf("push %d: Docker-Content-Digest = %q", i, got)
		}
	}
	// The same content by chunks, to another repository of the project.
	loc := h.startUpload(t, "a/y")
	resp, body := h.patch(t, loc, 0, data[:100])
	wantStatus(t, "PATCH", resp, body, http.StatusAccepted)
	resp, body = h.do(t, admin(http.MethodPut, withQuery(loc, "digest="+d), data[100:]))
	wantStatus(t, "chunked push", resp, body, http.StatusCreated)
	// A push of the digest must still prove the content.
	resp, body = h.do(t, admin(http.MethodPost, "/v2/a/x/blobs/uploads/?digest="+d, data[1:]))
	wantError(t, "push with other content", resp, body, http.StatusBadRequest, codeDigestInvalid)

	if keys := h.objects(t, "blobs/"); len(keys) != 1 {
		t.Errorf("blob objects = %q, want one", keys)
	}
	if keys := h.objects(t, "uploads/"); len(keys) != 0 {
		t.Errorf("parts left: %q", keys)
	}
	if v, _ := h.metric(t, "palisade_registry_blob_uploads_total", `outcome="committed"`); v != 1 {
		t.Errorf("committed = %v, want 1", v)
	}
	if v, _ := h.metric(t, "palisade_registry_blob_uploads_total", `outcome="deduplicated"`); v != 2 {
		t.Errorf("deduplicated = %v, want 2", v)
	}
	resp, body = h.do(t, admin(http.MethodGet, "/v2/a/y/blobs/"+d, nil))
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("GET: %d, %d bytes", resp.StatusCode, len(body))
	}
	// The same content in project b is b's own blob.
	h.pushBlob(t, "b/x", data)
	if keys := h.objects(t, "blobs/"); len(keys) != 2 {
		t.Errorf("blob objects = %q, want one per project", keys)
	}
}

func TestParseContentRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in         string
		start, end int64
		ok, err    bool
	}{
		{"", 0, 0, false, false},
		{"0-0", 0, 0, true, false},
		{"0-9", 0, 9, true, false},
		{"bytes 10-19", 10, 19, true, false},
		{"10-19/*", 10, 19, true, false},
		{"bytes 10-19/*", 10, 19, true, false},
		{"10", 0, 0, true, true},
		{"19-10", 0, 0, true, true},
		{"-1-5", 0, 0, true, true},
		{"1--5", 0, 0, true, true},
		{"a-b", 0, 0, true, true},
		{"0-9223372036854775808", 0, 0, true, true},
		{"bytes=0-9", 0, 0, true, true},
		{" 0-9", 0, 0, true, true},
	}
	for _, tt := range tests {
		start, end, ok, err := parseContentRange(tt.in)
		if start != tt.start || end != tt.end || ok != tt.ok || (err != nil) != tt.err {
			t.Errorf("parseContentRange(%q) = %d, %d, %v, %v; want %d, %d, %v, error %v",
				tt.in, start, end, ok, err, tt.start, tt.end, tt.ok, tt.err)
		}
	}
}

// FuzzParseContentRange checks that parseContentRange never panics and
// that what it accepts is a range that prints and parses back the same.
func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"", "0-0", "0-9", "bytes 10-19", "10-19/*", "19-10", "-1-5", "a-b", "9223372036854775807-9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start, end, ok, err := parseContentRange(s)
		if !ok {
			if s != "" || err != nil {
				t.Fatalf("parseContentRange(%q): not ok with error %v", s, err)
			}
			return
		}
		if err != nil {
			if start != 0 || end != 0 {
				t.Fatalf("parseContentRange(%q) = %d, %d with error %v", s, start, end, err)
			}
			return
		}
		if start < 0 || end < start {
			t.Fatalf("parseContentRange(%q) = %d, %d", s, start, end)
		}
		s2 := strconv.FormatInt(start, 10) + "-" + strconv.FormatInt(end, 10)
		start2, end2, ok2, err2 := parseContentRange(s2)
		if start2 != start || end2 != end || !ok2 || err2 != nil {
			t.Fatalf("parseContentRange(%q) = %d, %d, %v, %v; want %d, %d", s2, start2, end2, ok2, err2, start, end)
		}
	})
}
