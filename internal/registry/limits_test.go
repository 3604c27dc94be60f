package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/auth"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/testutil"
	"github.com/palisade-sec/palisade/internal/throttle"
)

// withAuth replaces the harness's authenticator by one over the same store
// with the limits of opts (its Store is set here).
func withAuth(opts auth.Options) func(*Options) {
	return func(o *Options) {
		opts.Store = o.Store
		o.Auth = auth.New(opts)
	}
}

// secondAdminToken is another full-scope API token of the harness's admin.
const secondAdminToken = "pal_test-admin2-0000000000000000000000000000000"

// addAdminToken creates secondAdminToken.
func (h *harness) addAdminToken(t testing.TB) {
	t.Helper()
	_, err := h.st.CreateToken(context.Background(), store.Token{ID: "test-admin-2", Name: "admin 2", PrincipalID: "root",
		Hash: sha256.Sum256([]byte(secondAdminToken))})
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
}

// wantTooMany fails unless the answer is 429 TOOMANYREQUESTS with a
// Retry-After of want whole seconds.
func wantTooMany(t testing.TB, what string, resp *http.Response, body []byte, want int) {
	t.Helper()
	wantError(t, what, resp, body, http.StatusTooManyRequests, codeTooManyRequests)
	ra := resp.Header.Get("Retry-After")
	n, err := strconv.Atoi(ra)
	if err != nil || n < 1 {
		t.Fatalf("%s: Retry-After = %q, want whole seconds >= 1", what, ra)
	}
	if n != want {
		t.Errorf("%s: Retry-After = %d, want %d", what, n, want)
	}
}

func TestPerTokenRateLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rate  float64
		burst int
		// retry is the Retry-After of the first refusal: the exact wait
		// rounded up to whole seconds, at least one.
		retry int
	}{
		{"sub-second wait rounds up to 1", 10, 3, 1},
		{"one second", 1, 2, 1},
		{"fraction rounds up", 0.4, 1, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := testutil.NewClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
			var limited []string
			var mu sync.Mutex
			lim := throttle.NewLimiter(throttle.LimiterOptions{Rate: tt.rate, Burst: tt.burst, Now: clk.Now})
			h := newHarness(t, withAuth(auth.Options{PerToken: lim, Now: clk.Now, OnLimited: func(l string) {
				mu.Lock()
				defer mu.Unlock()
				limited = append(limited, l)
			}}))
			h.addAdminToken(t)
			get := func(token string) call { return call{path: "/v2/a/x/tags/list", auth: bearer(token)} }
			for i := range tt.burst {
				resp, body := h.do(t, get(adminToken))
				if resp.StatusCode == http.StatusTooManyRequests {
					t.Fatalf("request %d of a burst of %d refused: %q", i+1, tt.burst, body)
				}
			}
			resp, body := h.do(t, get(adminToken))
			wantTooMany(t, "request past the burst", resp, body, tt.retry)
			// The same token through Basic, and a session token of it,
			// count against the same token.
			resp, body = h.do(t, call{path: "/v2/a/x/tags/list", auth: basic("anyone", adminToken)})
			wantTooMany(t, "same token through Basic", resp, body, tt.retry)
			resp, body = h.do(t, call{path: "/v2/token?scope=repository:a/x:pull", auth: basic("anyone", adminToken)})
			if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != strconv.Itoa(tt.retry) {
				t.Errorf("token endpoint: status %d, Retry-After %q, want 429 and %d; body %q",
					resp.StatusCode, resp.Header.Get("Retry-After"), tt.retry, body)
			}
			// Another token and the read-only token are not affected.
			for _, tok := range []string{secondAdminToken, readOnlyToken} {
				resp, body = h.do(t, get(tok))
				if resp.StatusCode == http.StatusTooManyRequests {
					t.Errorf("another token refused: %q", body)
				}
			}
			// Wrong credentials are answered 401, not counted.
			resp, body = h.do(t, get("pal_wrong"))
			wantError(t, "unknown token", resp, body, http.StatusUnauthorized, codeUnauthorized)
			// Once the wait is over, the token may go on.
			clk.Advance(time.Duration(float64(time.Second) / tt.rate))
			resp, body = h.do(t, get(adminToken))
			wantStatus(t, "after the wait", resp, body, http.StatusNotFound) // a/x has no tags
			mu.Lock()
			defer mu.Unlock()
			for _, l := range limited {
				if l != "token" {
					t.Errorf("OnLimited(%q), want token", l)
				}
			}
			if len(limited) != 3 {
				t.Errorf("OnLimited called %d times, want 3", len(limited))
			}
		})
	}
}

func TestPerSourceRateLimit(t *testing.T) {
	t.Parallel()
	clk := testutil.NewClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	lim := throttle.NewLimiter(throttle.LimiterOptions{Rate: 0.5, Burst: 3, Now: clk.Now})
	h := newHarness(t, withAuth(auth.Options{PerSource: lim, Now: clk.Now}))
	// The harness's requests all come from 127.0.0.1: one source, whatever
	// the credentials, or none.
	for i, c := range []call{
		{path: "/v2/", auth: bearer(adminToken)},
		{path: "/v2/", auth: bearer(readOnlyToken)},
		{path: "/v2/"},
	} {
		resp, body := h.do(t, c)
		if resp.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("request %d of the burst refused: %q", i+1, body)
		}
	}
	for _, c := range []call{
		{path: "/v2/", auth: bearer(adminToken)},
		{path: "/v2/a/x/tags/list", auth: bearer(readOnlyToken)},
		{path: "/v2/a/x/manifests/v1"},
		{path: "/v2/a/x/tags/list", auth: bearer("pal_wrong")},
	} {
		resp, body := h.do(t, c)
		wantTooMany(t, "past the burst: "+c.path, resp, body, 2)
	}
	resp, body := h.do(t, call{path: "/v2/token?scope=repository:a/x:pull", auth: basic("u", adminToken)})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("token endpoint: status %d, Retry-After %q, want 429 and 2; body %q", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	clk.Advance(1500 * time.Millisecond)
	resp, body = h.do(t, call{path: "/v2/", auth: bearer(adminToken)})
	wantTooMany(t, "half a second before the token", resp, body, 1)
	clk.Advance(500 * time.Millisecond)
	resp, body = h.do(t, call{path: "/v2/", auth: bearer(adminToken)})
	wantStatus(t, "after the wait", resp, body, http.StatusOK)
}

// signalGate is a throttle.Gate that tells, on acquired, each key it lets
// take a slot.
type signalGate struct {
	*throttle.Gate
	acquired chan string
}

func (g signalGate) Acquire(key string) (func(), bool) {
	release, ok := g.Gate.Acquire(key)
	if ok {
		g.acquired <- key
	}
	return release, ok
}

// TestUploadGate holds one upload request of the admin token open (a
// streamed PATCH whose body the test has not finished) and checks that
// the token's other upload requests are refused with 429 while another
// token's, and the token's reads, are not.
func TestUploadGate(t *testing.T) {
	t.Parallel()
	gate := signalGate{throttle.NewGate(1), make(chan string, 64)}
	var limitedMu sync.Mutex
	var limited []string
	h := newHarness(t, func(o *Options) {
		o.Uploads = gate
		o.OnLimited = func(l string) {
			limitedMu.Lock()
			defer limitedMu.Unlock()
			limited = append(limited, l)
		}
	})
	h.addAdminToken(t)
	loc := h.startUpload(t, "a/x")
	if key := within(t, gate.acquired); key != "token:"+adminTokenID {
		t.Fatalf("gate key = %q, want token:%s", key, adminTokenID)
	}
	data := randomBytes(300, 4096)

	pr, pw := io.Pipe()
	done := make(chan *http.Response, 1)
	go func() {
		resp, err := h.try(call{method: http.MethodPatch, path: loc, auth: bearer(adminToken), body: pr, length: -1,
			header: []string{"Content-Type", "application/octet-stream"}})
		if err != nil {
			t.Errorf("held PATCH: %v", err)
			done <- nil
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- resp
	}()
	if _, err := pw.Write(data[:1024]); err != nil {
		t.Fatal(err)
	}
	if key := within(t, gate.acquired); key != "token:"+adminTokenID {
		t.Fatalf("gate key = %q, want token:%s", key, adminTokenID)
	}

	other := randomBytes(301, 100)
	for _, c := range []call{
		admin(http.MethodPost, "/v2/a/y/blobs/uploads/", nil),
		admin(http.MethodPost, "/v2/a/y/blobs/uploads/?digest="+sha256Digest(other), other),
		admin(http.MethodPatch, loc, data[1024:2048], "Content-Range", "1024-2047"),
		admin(http.MethodPut, withQuery(loc, "digest="+sha256Digest(data)), nil),
		{method: http.MethodPost, path: "/v2/b/y/blobs/uploads/", auth: basic("u", adminToken)},
	} {
		resp, body := h.do(t, c)
		wantTooMany(t, "second upload request "+c.method+" "+c.path, resp, body, 1)
	}
	// Reads of the same token pass, and so do another token's uploads.
	// (Not the held upload's status: it waits for the chunk in flight.)
	resp, body := h.do(t, admin(http.MethodGet, "/v2/a/x/tags/list", nil))
	wantError(t, "read", resp, body, http.StatusNotFound, codeNameUnknown)
	resp, body = h.do(t, call{method: http.MethodPost, path: "/v2/a/y/blobs/uploads/?digest=" + sha256Digest(other),
		auth: bearer(secondAdminToken), body: bytes.NewReader(other)})
	wantStatus(t, "another token's upload", resp, body, http.StatusCreated)
	if key := within(t, gate.acquired); key != "token:test-admin-2" {
		t.Errorf("gate key = %q, want token:test-admin-2", key)
	}

	// The held request ends; its slot is free again.
	if _, err := pw.Write(data[1024:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if resp := within(t, done); resp == nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("held PATCH: %v, want 202", resp)
	}
	resp, body = h.do(t, admin(http.MethodPut, withQuery(loc, "digest="+sha256Digest(data)), nil))
	wantStatus(t, "PUT after the PATCH ended", resp, body, http.StatusCreated)
	if got := gate.InUse("token:" + adminTokenID); got != 0 {
		t.Errorf("slots held at the end = %d, want 0", got)
	}
	limitedMu.Lock()
	defer limitedMu.Unlock()
	if len(limited) != 5 {
		t.Errorf("OnLimited calls = %q, want 5 uploads", limited)
	}
	for _, l := range limited {
		if l != "uploads" {
			t.Errorf("OnLimited(%q), want uploads", l)
		}
	}
}

// within receives from ch, failing the test instead of hanging when
// nothing comes for a minute (a deadlock would otherwise hold the whole
// package until go test's timeout).
func within[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(time.Minute):
		t.Fatal("nothing received for a minute: the request is stuck")
		panic("unreachable")
	}
}
