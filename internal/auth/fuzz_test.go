package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/access"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

// Tokens of the fuzz store: one valid, and others that must never
// authenticate. They are fake secrets.
const (
	fuzzValidSecret    = "pal_fuzz-valid-000000000000000000000000000000000"
	fuzzRevokedSecret  = "pal_fuzz-revoked-0000000000000000000000000000000"
	fuzzExpiredSecret  = "pal_fuzz-expired-0000000000000000000000000000000"
	fuzzDisabledSecret = "pal_fuzz-disabled-000000000000000000000000000000"
	fuzzValidTokenID   = "valid"
)

// newFuzzAuth returns an Authenticator over a real SQLite store holding
// exactly one valid API token (fuzzValidSecret), a revoked one, an
// expired one and one whose owner is disabled.
func newFuzzAuth(tb testing.TB) *Authenticator {
	tb.Helper()
	ctx := context.Background()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	clk := func() time.Time { return now }
	st, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(tb.TempDir(), "fuzz.db"), Now: clk})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	for _, p := range []store.Principal{
		{ID: "owner", Name: "owner", Kind: store.KindUser, Clearance: store.Internal},
		{ID: "gone", Name: "gone", Kind: store.KindUser, Clearance: store.Internal, Disabled: now},
	} {
		if _, err := st.CreatePrincipal(ctx, p); err != nil {
			tb.Fatal(err)
		}
	}
	for _, tk := range []struct {
		id, secret, owner string
		expires           time.Time
	}{
		{fuzzValidTokenID, fuzzValidSecret, "owner", time.Time{}},
		{"revoked", fuzzRevokedSecret, "owner", time.Time{}},
		{"expired", fuzzExpiredSecret, "owner", now},
		{"disabled", fuzzDisabledSecret, "gone", time.Time{}},
	} {
		if _, err := st.CreateToken(ctx, store.Token{ID: tk.id, Name: tk.id, PrincipalID: tk.owner, Expires: tk.expires,
			Hash: sha256.Sum256([]byte(tk.secret))}); err != nil {
			tb.Fatal(err)
		}
	}
	if err := st.RevokeToken(ctx, "revoked"); err != nil {
		tb.Fatal(err)
	}
	return New(Options{Store: st, Now: clk})
}

// FuzzAuthorizationHeader authenticates arbitrary Authorization header
// values against a real store: Authenticate never panics, fails only with
// ErrNoCredentials (no header) or ErrBadCredentials, and accepts nothing
// but the one valid token, presented whole (as a Bearer token or a Basic
// password).
func FuzzAuthorizationHeader(f *testing.F) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, s := range []string{
		"Bearer " + fuzzValidSecret,
		"bearer " + fuzzValidSecret,
		"BEARER  \t" + fuzzValidSecret + " \r\n",
		"Basic " + b64("robot:"+fuzzValidSecret),
		"Basic " + b64(":"+fuzzValidSecret),
		"Basic " + b64(fuzzValidSecret),
		"Basic " + b64("robot:"+fuzzValidSecret+"\x00"),
		"Bearer " + fuzzRevokedSecret,
		"Bearer " + fuzzExpiredSecret,
		"Basic " + b64("gone:"+fuzzDisabledSecret),
		"Bearer " + fuzzValidSecret[:len(fuzzValidSecret)-1],
		"Bearer " + fuzzValidSecret + "0",
		"Bearer " + SessionTokenPrefix + fuzzValidSecret,
		"Bearer " + SessionTokenPrefix,
		"Bearer " + strings.Repeat("a", maxTokenLen+1),
		"Bearer",
		"Bearer ",
		"Basic",
		"Basic !!!",
		"Basic " + b64(strings.Repeat("u", 1000)+":x"),
		"Token " + fuzzValidSecret,
		fuzzValidSecret,
		"",
		" ",
	} {
		f.Add(s)
	}
	a := newFuzzAuth(f)
	f.Fuzz(func(t *testing.T, h string) {
		r := request("")
		r.Header.Set("Authorization", h)
		p, err := a.Authenticate(r)
		switch {
		case h == "":
			if !errors.Is(err, ErrNoCredentials) {
				t.Fatalf("no header: error %v, want ErrNoCredentials", err)
			}
		case err != nil:
			if !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("Authenticate(%q) error %v, want ErrBadCredentials", h, err)
			}
			if p.Principal != nil {
				t.Fatalf("Authenticate(%q) failed with a principal: %+v", h, p)
			}
		default:
			_, pass, basic := r.BasicAuth()
			if !strings.Contains(h, fuzzValidSecret) && !(basic && pass == fuzzValidSecret) {
				t.Fatalf("Authenticate(%q) accepted a header that does not hold the valid token", h)
			}
			if p.Principal == nil || p.TokenID != fuzzValidTokenID || p.ID != "owner" || p.Admin || p.Via != "token" || p.Session() {
				t.Fatalf("Authenticate(%q) = %+v, want the valid token's owner", h, p)
			}
		}
	})
}

// FuzzParseTokenScope checks that ParseTokenScope never panics, that an
// error yields the zero scope (never a part of one), that a non-empty
// string never parses to the full scope, that String parses back to the
// same scope, and that Effective never grants more than the owner holds.
func FuzzParseTokenScope(f *testing.F) {
	for _, s := range []string{
		"", "admin", "a:reader", "a:reader,b:owner", "*:reader", "admin,*:owner", " a:developer , admin ",
		"a:Reader", "a:", ":reader", "a", "a:reader:owner", ",", "a:reader,", "admin,admin",
		"a b:reader", "a\t:reader", "\u00a0a:reader", "a:reader\x00", "a\n:reader", "*:deployer,a:auditor,b:maintainer",
		strings.Repeat("a:reader,", 63) + "admin", strings.Repeat("a:reader,", 64) + "admin",
	} {
		f.Add(s)
	}
	owners := []access.Principal{
		{ID: "dev", Projects: map[string]access.Perm{"a": access.Developer.Perms(), "b": access.Reader.Perms()}},
		{ID: "root", Admin: true, Projects: map[string]access.Perm{}},
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := ParseTokenScope(s)
		if err != nil {
			if ts.Admin || ts.Grants != nil {
				t.Fatalf("ParseTokenScope(%q) failed with a scope: %+v, %v", s, ts, err)
			}
			return
		}
		if s != "" && ts.Full() {
			t.Fatalf("ParseTokenScope(%q) = the full scope", s)
		}
		for _, g := range ts.Grants {
			if g.Project == "" || strings.ContainsAny(g.Project, ",:") {
				t.Fatalf("ParseTokenScope(%q): grant of project %q", s, g.Project)
			}
			if _, err := access.ParseRole(string(g.Role)); err != nil {
				t.Fatalf("ParseTokenScope(%q): grant of role %q", s, g.Role)
			}
		}
		again, err := ParseTokenScope(ts.String())
		if err != nil {
			t.Fatalf("ParseTokenScope(%q) of String() of %q: %v", ts.String(), s, err)
		}
		if diff := cmp.Diff(again, ts); diff != "" {
			t.Fatalf("String() %q of %q does not parse back (-got +want):\n%s", ts.String(), s, diff)
		}
		for _, owner := range owners {
			eff := Effective(owner, ts)
			if eff.Admin && !owner.Admin {
				t.Fatalf("scope %q makes %s an administrator", s, owner.ID)
			}
			if !owner.Admin && eff.AllProjects != 0 {
				t.Fatalf("scope %q gives %s %v on every project", s, owner.ID, eff.AllProjects)
			}
			projects := []string{"a", "b", "c", AllProjects}
			for _, g := range ts.Grants {
				projects = append(projects, g.Project)
			}
			for _, project := range projects {
				if extra := eff.PermsIn(project) &^ owner.PermsIn(project); extra != 0 {
					t.Fatalf("scope %q gives %s %v in %q beyond its own", s, owner.ID, extra, project)
				}
			}
		}
	})
}
