package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/throttle"
)

// TestOnSuccess: a successful authentication with an API token is
// reported once per token and source address per interval; failures and
// session tokens are not reported as successes; a report that fails is
// tried again on the next request.
func TestOnSuccess(t *testing.T) {
	t.Parallel()
	a, _, clk := newTestAuth(t)
	var got []string
	var fail error
	a.recent = throttle.NewOnce(throttle.OnceOptions{Interval: 15 * time.Minute, Now: clk.Now})
	a.onSuccess = func(r *http.Request, p Principal) error {
		if fail != nil {
			return fail
		}
		got = append(got, p.Via+":"+p.Credential+"@"+sourcePrefix(r))
		return nil
	}
	from := func(authz, addr string) *http.Request {
		r := request(authz)
		r.RemoteAddr = addr
		return r
	}
	// step authenticates r, expecting wantErr, and checks what was
	// reported.
	step := func(name string, r *http.Request, wantErr error, want ...string) {
		t.Helper()
		got = nil
		if _, err := a.Authenticate(r); !errors.Is(err, wantErr) {
			t.Fatalf("%s: Authenticate error %v, want %v", name, err, wantErr)
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: reported %v, want %v", name, got, want)
		}
	}
	step("first use", from("Bearer "+adminSecret, "192.0.2.1:1000"), nil, "token:admin@ip:192.0.2.1")
	step("again from the same address", from("Bearer "+adminSecret, "192.0.2.1:1001"), nil)
	step("as Basic from the same address", from(basicAuth("robot", adminSecret), "192.0.2.1:1002"), nil)
	step("from another address", from("Bearer "+adminSecret, "192.0.2.2:1000"), nil, "token:admin@ip:192.0.2.2")
	step("another token", from("Bearer "+roSecret, "192.0.2.1:1000"), nil, "token:ro@ip:192.0.2.1")
	step("a revoked token", from("Bearer "+revokedSecret, "192.0.2.1:1000"), ErrBadCredentials)
	step("no credentials", from("", "192.0.2.1:1000"), ErrNoCredentials)
	step("from IPv6", from("Bearer "+adminSecret, "[2001:db8::1]:1000"), nil, "token:admin@ip:2001:db8::/64")
	step("from another address of the /64", from("Bearer "+adminSecret, "[2001:db8::ffff:2]:1000"), nil)
	step("from another /64", from("Bearer "+adminSecret, "[2001:db8:0:1::1]:1000"), nil, "token:admin@ip:2001:db8:0:1::/64")
	step("from the first address mapped in IPv6", from("Bearer "+adminSecret, "[::ffff:192.0.2.1]:1000"), nil)

	p, err := a.Authenticate(request("Bearer " + devSecret))
	if err != nil {
		t.Fatal(err)
	}
	session, _, err := a.Issue(context.Background(), p, []Scope{{"a/x", []Action{ActionPull}}})
	if err != nil {
		t.Fatal(err)
	}
	step("a session token", from("Bearer "+session, "192.0.2.9:1000"), nil)

	clk.Advance(15 * time.Minute)
	step("once the interval is over", from("Bearer "+adminSecret, "192.0.2.1:1000"), nil, "token:admin@ip:192.0.2.1")

	fail = errors.New("log unavailable")
	step("a failing report", from("Bearer "+roSecret, "192.0.2.7:1000"), nil)
	fail = nil
	step("after a failed report", from("Bearer "+roSecret, "192.0.2.7:1000"), nil, "token:ro@ip:192.0.2.7")
}

// TestOnSuccessEveryTime: without Recent every success is reported.
func TestOnSuccessEveryTime(t *testing.T) {
	t.Parallel()
	a, _, _ := newTestAuth(t)
	n := 0
	a.onSuccess = func(*http.Request, Principal) error { n++; return nil }
	for range 3 {
		if _, err := a.Authenticate(request("Bearer " + adminSecret)); err != nil {
			t.Fatal(err)
		}
	}
	if n != 3 {
		t.Errorf("reported %d successes of 3", n)
	}
}
