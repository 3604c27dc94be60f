package auth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/testutil"
	"github.com/palisade-sec/palisade/internal/throttle"
)

// newLockoutAuth returns an Authenticator over newTestAuth's store with a
// throttle.Lockout of the server's defaults (5 free failures, then 1s
// doubling), both on the returned clock, and the limits it reported.
func newLockoutAuth(t *testing.T) (*Authenticator, *testutil.Clock, func() []string) {
	t.Helper()
	_, st, clk := newTestAuth(t)
	var mu sync.Mutex
	var limited []string
	a := New(Options{Store: st, Now: clk.Now, Lockout: throttle.NewLockout(throttle.LockoutOptions{Now: clk.Now}),
		OnLimited: func(l string) {
			mu.Lock()
			defer mu.Unlock()
			limited = append(limited, l)
		}})
	return a, clk, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), limited...)
	}
}

// fromSource is request with the source address addr.
func fromSource(addr, authz string) *http.Request {
	r := request(authz)
	r.RemoteAddr = addr + ":40000"
	return r
}

// wantLocked fails unless err is a lockout of wait.
func wantLocked(t *testing.T, what string, err error, wait time.Duration) {
	t.Helper()
	var we *WaitError
	if !errors.As(err, &we) {
		t.Fatalf("%s: error = %v, want a *WaitError", what, err)
	}
	if diff := cmp.Diff(*we, WaitError{Locked: true, RetryAfter: wait}); diff != "" {
		t.Fatalf("%s: WaitError (-got +want):\n%s", what, diff)
	}
}

// TestLockoutSource fails a source's attempts with a Bearer token: the
// first five failures are free, the sixth locks the source for 1s, and
// each failure after a lock doubles it. While locked, even a valid token
// is refused without being checked, and the refusal counts nothing.
func TestLockoutSource(t *testing.T) {
	t.Parallel()
	a, clk, limited := newLockoutAuth(t)
	const src = "198.51.100.7"
	bad := "Bearer pal_guess"
	for i := range 5 {
		if _, err := a.Authenticate(fromSource(src, bad)); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: error = %v, want ErrBadCredentials", i+1, err)
		}
	}
	// Five failures are free (throttle.DefaultFree): the sixth attempt
	// is still checked, and its failure locks the source.
	if _, err := a.Authenticate(fromSource(src, bad)); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("sixth attempt: error = %v, want ErrBadCredentials", err)
	}
	for _, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		for _, authz := range []string{"Bearer " + adminSecret, basicAuth("root", adminSecret), bad, "Bearer " + roSecret} {
			_, err := a.Authenticate(fromSource(src, authz))
			wantLocked(t, "attempt while locked", err, wait)
		}
		clk.Advance(wait / 2)
		_, err := a.Authenticate(fromSource(src, "Bearer "+adminSecret))
		wantLocked(t, "half way through the lock", err, wait-wait/2)
		clk.Advance(wait - wait/2)
		// The lock is over: the next failure doubles it.
		if _, err := a.Authenticate(fromSource(src, bad)); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure after a %v lock: error = %v, want ErrBadCredentials", wait, err)
		}
	}
	// Other sources are not locked.
	if p, err := a.Authenticate(fromSource("198.51.100.8", "Bearer "+adminSecret)); err != nil || p.TokenID != "admin" {
		t.Fatalf("another source: %+v, %v", p, err)
	}
	// Once the lock is over a valid token gets in, from the source too.
	_, err := a.Authenticate(fromSource(src, "Bearer "+adminSecret))
	wantLocked(t, "still locked", err, 8*time.Second)
	clk.Advance(8 * time.Second)
	p, err := a.Authenticate(fromSource(src, "Bearer "+adminSecret))
	if err != nil || p.TokenID != "admin" {
		t.Fatalf("valid token after the lock: %+v, %v", p, err)
	}
	got := limited()
	if len(got) != 3*5+1 {
		t.Errorf("OnLimited called %d times, want 16", len(got))
	}
	for _, l := range got {
		if l != "lockout" {
			t.Errorf("OnLimited(%q), want lockout", l)
		}
	}
}

// TestLockoutAccount counts failures per Basic user name, from a new
// source each time so that no source is locked: failures under a locked
// name are refused with the lock, valid credentials under it still get
// in (and reset the name's count), and an unknown name and the name of an
// existing principal are counted, locked and answered alike.
func TestLockoutAccount(t *testing.T) {
	t.Parallel()
	// run fails and tries the admin token with the Basic user name user
	// and returns each answer, described.
	run := func(user string) []string {
		a, clk, _ := newLockoutAuth(t)
		var steps []string
		n := 0
		try := func(u, pass string) {
			n++
			p, err := a.Authenticate(fromSource("203.0.113."+strconv.Itoa(n), basicAuth(u, pass)))
			steps = append(steps, describeAuth(p, err))
		}
		for range 6 {
			try(user, "pal_guess") // the sixth locks the name for 1s
		}
		try(user, "pal_guess") // refused under the lock, which grows to 2s
		try(user, adminSecret) // a valid token gets in, and resets the count
		for range 6 {
			try(user, "pal_guess") // five free again, the sixth locks
		}
		try(user, "pal_guess") // locked
		clk.Advance(2 * time.Second)
		try(user, "pal_guess")          // the lock is over: a plain failure (locks 4s)
		try(user+"-other", "pal_guess") // another name is not locked
		try(user+"-other", adminSecret)
		return steps
	}
	const (
		bad = "credentials not accepted"
		in  = "token admin"
	)
	want := []string{bad, bad, bad, bad, bad, bad,
		"locked for 2s",
		in,
		bad, bad, bad, bad, bad, bad,
		"locked for 2s",
		bad,
		bad,
		in,
	}
	known := run("root") // the name of an existing administrator
	unknown := run("no-such-user")
	if diff := cmp.Diff(known, want); diff != "" {
		t.Errorf("answers to an existing user name (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(unknown, known); diff != "" {
		t.Errorf("an unknown user name is answered differently from an existing one (-unknown +existing):\n%s", diff)
	}
}

// describeAuth names an answer of Authenticate: the token authenticated, the
// lock, or the error.
func describeAuth(p Principal, err error) string {
	var we *WaitError
	switch {
	case errors.As(err, &we) && we.Locked:
		return "locked for " + we.RetryAfter.String()
	case errors.As(err, &we):
		return "rate limited for " + we.RetryAfter.String()
	case err != nil:
		return err.Error()
	case p.Principal == nil:
		return "no principal"
	}
	return "token " + p.TokenID
}

// TestLockoutSuccessResetsAccountNotSource fails five times from one
// source with one user name, then succeeds: the account starts again
// from nothing, the source keeps its five failures.
func TestLockoutSuccessResetsAccountNotSource(t *testing.T) {
	t.Parallel()
	a, _, _ := newLockoutAuth(t)
	const src = "192.0.2.50"
	for range 5 {
		if _, err := a.Authenticate(fromSource(src, basicAuth("alice", "pal_guess"))); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("error = %v, want ErrBadCredentials", err)
		}
	}
	if p, err := a.Authenticate(fromSource(src, basicAuth("alice", adminSecret))); err != nil || p.TokenID != "admin" {
		t.Fatalf("valid token: %+v, %v", p, err)
	}
	// The account's count was reset: five failures from other sources
	// lock nothing.
	for i := range 5 {
		if _, err := a.Authenticate(fromSource("192.0.2."+strconv.Itoa(100+i), basicAuth("alice", "pal_guess"))); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("account failure %d after the reset: error = %v, want ErrBadCredentials", i+1, err)
		}
	}
	if p, err := a.Authenticate(fromSource("192.0.2.200", basicAuth("alice", adminSecret))); err != nil || p.TokenID != "admin" {
		t.Fatalf("account after five failures since its reset: %+v, %v", p, err)
	}
	// The source's count was not: one more failure (its sixth, under any
	// name or none) locks it.
	if _, err := a.Authenticate(fromSource(src, "Bearer pal_guess")); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("sixth source failure: error = %v, want ErrBadCredentials", err)
	}
	_, err := a.Authenticate(fromSource(src, basicAuth("bob", adminSecret)))
	wantLocked(t, "source after its sixth failure", err, time.Second)
}

// TestLockoutLongUserNames checks that user names are bounded before they
// become lockout keys: names that differ past maxUserLen share a count.
func TestLockoutLongUserNames(t *testing.T) {
	t.Parallel()
	a, _, _ := newLockoutAuth(t)
	long := strings.Repeat("u", maxUserLen)
	for i := range 6 {
		_, err := a.Authenticate(fromSource("203.0.113."+strconv.Itoa(i+1), basicAuth(long+strconv.Itoa(i), "pal_guess")))
		if !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: error = %v, want ErrBadCredentials", i+1, err)
		}
	}
	_, err := a.Authenticate(fromSource("203.0.113.99", basicAuth(long+"-else", "pal_guess")))
	wantLocked(t, "a name with the same first maxUserLen bytes", err, 2*time.Second)
}

// TestTokenPasswordGrantLockout: POST /v2/token with the password grant
// goes through the same lockout and limits as every other way of
// presenting a token, so that it cannot be used to guess tokens past a
// lock.
func TestTokenPasswordGrantLockout(t *testing.T) {
	t.Parallel()
	a, _, _ := newLockoutAuth(t)
	const src = "198.51.100.66"
	handler := a.TokenHandler()
	post := func(password string) *httptest.ResponseRecorder {
		form := url.Values{"grant_type": {"password"}, "password": {password}, "scope": {"repository:a/x:pull"}}
		r := httptest.NewRequest(http.MethodPost, "/v2/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.RemoteAddr = src + ":40000"
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		return w
	}
	// Failures through the password grant count against the source.
	for range 10 {
		if w := post("pal_guess"); w.Code != http.StatusUnauthorized && w.Code != http.StatusTooManyRequests {
			t.Fatalf("guess: status %d, want 401 or 429", w.Code)
		}
	}
	if _, err := a.Authenticate(fromSource(src, "Bearer "+adminSecret)); err == nil {
		t.Error("ten failed password grants from a source did not lock it: a valid Bearer token was accepted at once")
	}
	// And a locked source is refused by the password grant too.
	for range 6 {
		_, _ = a.Authenticate(fromSource(src, "Bearer pal_guess"))
	}
	if _, err := a.Authenticate(fromSource(src, "Bearer "+adminSecret)); err == nil {
		t.Fatal("the source is not locked after six failed Bearer attempts")
	}
	if w := post(adminSecret); w.Code != http.StatusTooManyRequests {
		t.Errorf("password grant from a locked source: status %d, want 429; body %s", w.Code, w.Body)
	}
}
