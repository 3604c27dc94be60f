package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"

	"github.com/palisade-sec/palisade/internal/store"
)

// mkPrincipal creates a user whose ID and name are both name.
func mkPrincipal(t *testing.T, s store.Store, name string) store.Principal {
	t.Helper()
	return must(s.CreatePrincipal(t.Context(), store.Principal{ID: name, Name: name, Kind: store.KindUser, Clearance: store.Internal}))(t)
}

func testPrincipals(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := store.Principal{ID: "u1", Name: "alice", Kind: store.KindUser, Clearance: store.Confidential, Email: "alice@example.test",
		OIDCIssuer: "https://idp.example.test", OIDCSubject: "sub-1"}
	before := time.Now()
	created := must(s.CreatePrincipal(ctx, alice))(t)
	checkStamp(t, "Created", created.Created, before, time.Now())
	robot := must(s.CreatePrincipal(ctx, store.Principal{ID: "s1", Name: "ci-bot", Kind: store.KindService, Clearance: store.Internal, CertSubject: "CN=ci-bot,O=Example"}))(t)
	admin := must(s.CreatePrincipal(ctx, store.Principal{ID: "a1", Name: "root", Kind: store.KindUser, Admin: true, Clearance: store.Restricted}))(t)

	for name, get := range map[string]func() (store.Principal, error){
		"Principal":       func() (store.Principal, error) { return s.Principal(ctx, "u1") },
		"PrincipalByName": func() (store.Principal, error) { return s.PrincipalByName(ctx, "alice") },
		"PrincipalByOIDC": func() (store.Principal, error) { return s.PrincipalByOIDC(ctx, "https://idp.example.test", "sub-1") },
	} {
		if diff := cmp.Diff(must(get())(t), created); diff != "" {
			t.Errorf("%s (-got +want):\n%s", name, diff)
		}
	}
	if diff := cmp.Diff(must(s.PrincipalByCert(ctx, "CN=ci-bot,O=Example"))(t), robot); diff != "" {
		t.Errorf("PrincipalByCert (-got +want):\n%s", diff)
	}
	_, err := s.PrincipalByOIDC(ctx, "https://idp.example.test", "sub-2")
	wantErr(t, "PrincipalByOIDC unknown", err, store.ErrNotFound)
	_, err = s.PrincipalByName(ctx, "mallory")
	wantErr(t, "PrincipalByName unknown", err, store.ErrNotFound)

	for _, tc := range []struct {
		name string
		p    store.Principal
		want error
	}{
		{"duplicate ID", store.Principal{ID: "u1", Name: "bob", Kind: store.KindUser, Clearance: store.Public}, store.ErrExists},
		{"duplicate name", store.Principal{ID: "u2", Name: "alice", Kind: store.KindUser, Clearance: store.Public}, store.ErrExists},
		{"duplicate OIDC identity", store.Principal{ID: "u3", Name: "carol", Kind: store.KindUser, Clearance: store.Public, OIDCIssuer: "https://idp.example.test", OIDCSubject: "sub-1"}, store.ErrExists},
		{"duplicate certificate", store.Principal{ID: "s2", Name: "cd-bot", Kind: store.KindService, Clearance: store.Public, CertSubject: "CN=ci-bot,O=Example"}, store.ErrExists},
		{"no name", store.Principal{ID: "u4", Kind: store.KindUser, Clearance: store.Public}, store.ErrInvalid},
		{"bad kind", store.Principal{ID: "u5", Name: "dave", Kind: "robot", Clearance: store.Public}, store.ErrInvalid},
		{"bad clearance", store.Principal{ID: "u6", Name: "erin", Kind: store.KindUser, Clearance: "top-secret"}, store.ErrInvalid},
		{"half an OIDC identity", store.Principal{ID: "u7", Name: "frank", Kind: store.KindUser, Clearance: store.Public, OIDCIssuer: "https://idp"}, store.ErrInvalid},
	} {
		_, err := s.CreatePrincipal(ctx, tc.p)
		wantErr(t, "CreatePrincipal "+tc.name, err, tc.want)
	}

	updated := created
	updated.Clearance = store.Restricted
	updated.Admin = true
	updated.Disabled = time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	updated.Email = ""
	if err := s.UpdatePrincipal(ctx, updated); err != nil {
		t.Fatalf("UpdatePrincipal: %v", err)
	}
	got := must(s.Principal(ctx, "u1"))(t)
	if diff := cmp.Diff(got, updated); diff != "" {
		t.Errorf("after UpdatePrincipal (-got +want):\n%s", diff)
	}
	if got.Enabled() {
		t.Error("a disabled principal is Enabled")
	}
	clash := robot
	clash.CertSubject = ""
	clash.OIDCIssuer, clash.OIDCSubject = "https://idp.example.test", "sub-1"
	wantErr(t, "UpdatePrincipal to a taken OIDC identity", s.UpdatePrincipal(ctx, clash), store.ErrExists)
	wantErr(t, "UpdatePrincipal unknown", s.UpdatePrincipal(ctx, store.Principal{ID: "nope", Name: "x", Kind: store.KindUser, Clearance: store.Public}), store.ErrNotFound)

	list := must(s.ListPrincipals(ctx))(t)
	var names []string
	for _, p := range list {
		names = append(names, p.Name)
	}
	if diff := cmp.Diff(names, []string{"alice", "ci-bot", "root"}); diff != "" {
		t.Errorf("ListPrincipals (-got +want):\n%s", diff)
	}
	if !list[2].Admin || list[2].ID != admin.ID {
		t.Errorf("ListPrincipals lost the admin flag: %+v", list[2])
	}
}

func testMembers(t *testing.T, s store.Store) {
	ctx := t.Context()
	mkProject(t, s, "ml")
	mkProject(t, s, "hr")
	mkPrincipal(t, s, "alice")
	mkPrincipal(t, s, "bob")
	set := func(project, who, role string) {
		t.Helper()
		if err := s.SetMember(ctx, store.Member{Project: project, PrincipalID: who, Role: role, Source: "manual"}); err != nil {
			t.Fatalf("SetMember %s %s: %v", project, who, err)
		}
	}
	set("ml", "bob", "reader")
	set("ml", "alice", "developer")
	set("hr", "alice", "owner")
	set("ml", "alice", "maintainer") // replaces developer
	wantErr(t, "SetMember unknown project", s.SetMember(ctx, store.Member{Project: "nope", PrincipalID: "bob", Role: "reader", Source: "manual"}), store.ErrNotFound)
	wantErr(t, "SetMember unknown principal", s.SetMember(ctx, store.Member{Project: "ml", PrincipalID: "nobody", Role: "reader", Source: "manual"}), store.ErrNotFound)
	wantErr(t, "SetMember without role", s.SetMember(ctx, store.Member{Project: "ml", PrincipalID: "bob", Source: "manual"}), store.ErrInvalid)

	ignore := cmp.Options{ignoreTimes}
	got := must(s.Members(ctx, "ml"))(t)
	want := []store.Member{
		{Project: "ml", PrincipalID: "alice", PrincipalName: "alice", Role: "maintainer", Source: "manual"},
		{Project: "ml", PrincipalID: "bob", PrincipalName: "bob", Role: "reader", Source: "manual"},
	}
	if diff := cmp.Diff(got, want, ignore); diff != "" {
		t.Errorf("Members (-got +want):\n%s", diff)
	}
	got = must(s.MembershipsOf(ctx, "alice"))(t)
	want = []store.Member{
		{Project: "hr", PrincipalID: "alice", PrincipalName: "alice", Role: "owner", Source: "manual"},
		{Project: "ml", PrincipalID: "alice", PrincipalName: "alice", Role: "maintainer", Source: "manual"},
	}
	if diff := cmp.Diff(got, want, ignore); diff != "" {
		t.Errorf("MembershipsOf (-got +want):\n%s", diff)
	}
	if err := s.RemoveMember(ctx, "ml", "alice"); err != nil {
		t.Fatalf("RemoveMember: %v", err)
	}
	wantErr(t, "RemoveMember again", s.RemoveMember(ctx, "ml", "alice"), store.ErrNotFound)
	if n := len(must(s.MembershipsOf(ctx, "alice"))(t)); n != 1 {
		t.Errorf("alice has %d roles after removal, want 1", n)
	}
	_, err := s.Members(ctx, "nope")
	wantErr(t, "Members of an unknown project", err, store.ErrNotFound)
	// Deleting a project removes its members.
	if err := s.DeleteProject(ctx, "hr"); err != nil {
		t.Fatalf("DeleteProject: %v", err)
	}
	if n := len(must(s.MembershipsOf(ctx, "alice"))(t)); n != 0 {
		t.Errorf("alice has %d roles after her project was deleted, want 0", n)
	}
}

func testQuotas(t *testing.T, s store.Store) {
	ctx := t.Context()
	mkProject(t, s, "p")
	wantErr(t, "SetQuota unknown project", s.SetQuota(ctx, "nope", store.Quota{Bytes: 1}), store.ErrNotFound)
	wantErr(t, "SetQuota negative", s.SetQuota(ctx, "p", store.Quota{Bytes: -1}), store.ErrInvalid)
	if err := s.SetQuota(ctx, "p", store.Quota{Bytes: 10, Artifacts: 1}); err != nil {
		t.Fatalf("SetQuota: %v", err)
	}
	if q := must(s.Project(ctx, "p"))(t).Quota; q != (store.Quota{Bytes: 10, Artifacts: 1}) {
		t.Errorf("Project quota = %+v", q)
	}
	blob := func(content string) store.Blob {
		return store.Blob{Project: "p", Digest: digestOf([]byte(content)), Size: int64(len(content)), WrappedKey: []byte("k")}
	}
	must(s.CreateBlob(ctx, blob("123456")))(t)
	must(s.CreateBlob(ctx, blob("abcd")))(t) // exactly at the limit
	_, err := s.CreateBlob(ctx, blob("x"))
	var qe *store.QuotaError
	if !errors.As(err, &qe) || !errors.Is(err, store.ErrQuotaExceeded) {
		t.Fatalf("CreateBlob over the quota: %v, want a QuotaError", err)
	}
	if *qe != (store.QuotaError{Project: "p", What: "storage", Limit: 10, Usage: 10, Adding: 1}) {
		t.Errorf("QuotaError = %+v", *qe)
	}
	if _, err := s.Blob(ctx, "p", blob("x").Digest); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused blob was recorded: %v", err)
	}

	must(s.EnsureRepository(ctx, "p", "r"))(t)
	m1 := manifest("p", "r", `{"n":1}`)
	must(s.PutManifest(ctx, m1, "v1"))(t)
	must(s.PutManifest(ctx, m1, "again"))(t) // the same manifest is not a new artifact
	_, err = s.PutManifest(ctx, manifest("p", "r", `{"n":2}`), "v2")
	if !errors.As(err, &qe) || qe.What != "artifacts" || qe.Limit != 1 || qe.Usage != 1 {
		t.Fatalf("PutManifest over the artifact quota: %v", err)
	}
	if _, err := s.ManifestByTag(ctx, "p", "r", "v2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused manifest's tag exists: %v", err)
	}
	// Zero is unlimited.
	if err := s.SetQuota(ctx, "p", store.Quota{}); err != nil {
		t.Fatal(err)
	}
	must(s.CreateBlob(ctx, blob("x")))(t)
	must(s.PutManifest(ctx, manifest("p", "r", `{"n":2}`), "v2"))(t)
}

// testQuotaRace has many writers race for the last bytes of a quota:
// exactly as many as fit must win.
func testQuotaRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	mkProject(t, s, "p")
	const size, fit, writers = 100, 5, 16
	if err := s.SetQuota(ctx, "p", store.Quota{Bytes: size * fit}); err != nil {
		t.Fatal(err)
	}
	var won, refused atomic.Int64
	var g errgroup.Group
	for w := range writers {
		g.Go(func() error {
			content := fmt.Sprintf("%0100d", w)
			_, err := s.CreateBlob(ctx, store.Blob{Project: "p", Digest: digestOf([]byte(content)), Size: size, WrappedKey: []byte("k")})
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, store.ErrQuotaExceeded):
				refused.Add(1)
			default:
				return err
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if won.Load() != fit || refused.Load() != writers-fit {
		t.Errorf("%d writers won and %d were refused, want %d and %d", won.Load(), refused.Load(), fit, writers-fit)
	}
	if u := must(s.ProjectUsage(ctx, "p"))(t); u.BlobBytes != size*fit {
		t.Errorf("usage %d bytes, want %d", u.BlobBytes, size*fit)
	}
}

func testSSORequests(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now()
	live := store.SSORequest{HandleHash: sha256.Sum256([]byte("state-1")), Kind: "code", Nonce: "n", Verifier: "v", Expires: now.Add(10 * time.Minute).Truncate(time.Microsecond).UTC()}
	stale := store.SSORequest{HandleHash: sha256.Sum256([]byte("state-2")), Kind: "device", Device: `{"d":1}`, Expires: now.Add(-time.Second)}
	for _, r := range []store.SSORequest{stale, live} {
		if err := s.CreateSSORequest(ctx, r); err != nil {
			t.Fatalf("CreateSSORequest: %v", err)
		}
	}
	wantErr(t, "CreateSSORequest duplicate", s.CreateSSORequest(ctx, live), store.ErrExists)
	wantErr(t, "CreateSSORequest bad kind", s.CreateSSORequest(ctx, store.SSORequest{HandleHash: sha256.Sum256([]byte("x")), Kind: "saml"}), store.ErrInvalid)
	got := must(s.SSORequest(ctx, live.HandleHash, now))(t)
	if diff := cmp.Diff(got, live); diff != "" {
		t.Errorf("SSORequest (-got +want):\n%s", diff)
	}
	_, err := s.SSORequest(ctx, stale.HandleHash, now)
	wantErr(t, "SSORequest expired", err, store.ErrNotFound)
	_, err = s.SSORequest(ctx, live.HandleHash, live.Expires)
	wantErr(t, "SSORequest at its expiry", err, store.ErrNotFound)
	// Single use: of concurrent deletions exactly one succeeds.
	var won atomic.Int64
	var g errgroup.Group
	for range 8 {
		g.Go(func() error {
			err := s.DeleteSSORequest(ctx, live.HandleHash)
			switch {
			case err == nil:
				won.Add(1)
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if won.Load() != 1 {
		t.Errorf("%d deletions succeeded, want 1", won.Load())
	}
}

func testCredentials(t *testing.T, s store.Store) {
	ctx := t.Context()
	mkProject(t, s, "ml")
	mkProject(t, s, "hr")
	alice := mkPrincipal(t, s, "alice")
	bob := mkPrincipal(t, s, "bob")
	for _, m := range []store.Member{
		{Project: "ml", PrincipalID: "alice", Role: "developer", Source: "manual"},
		{Project: "hr", PrincipalID: "alice", Role: "reader", Source: "oidc"},
	} {
		if err := s.SetMember(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	secret := sha256.Sum256([]byte("pal_alice"))
	tok := must(s.CreateToken(ctx, store.Token{ID: "t1", Name: "ci", PrincipalID: "alice", Scope: "ml:reader", Hash: secret}))(t)
	must(s.CreateToken(ctx, store.Token{ID: "t2", PrincipalID: "bob", Hash: sha256.Sum256([]byte("pal_bob"))}))(t)

	c := must(s.CredentialByHash(ctx, secret))(t)
	want := store.Credential{Token: tok, Owner: alice, Roles: []store.Member{
		{Project: "hr", PrincipalID: "alice", PrincipalName: "alice", Role: "reader", Source: "oidc"},
		{Project: "ml", PrincipalID: "alice", PrincipalName: "alice", Role: "developer", Source: "manual"},
	}}
	if diff := cmp.Diff(c, want, ignoreTimes); diff != "" {
		t.Errorf("CredentialByHash (-got +want):\n%s", diff)
	}
	p, roles := func() (store.Principal, []store.Member) {
		p, r, err := s.PrincipalWithRoles(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		return p, r
	}()
	if diff := cmp.Diff(p, alice, ignoreTimes); diff != "" || len(roles) != 2 {
		t.Errorf("PrincipalWithRoles = %+v %+v", p, roles)
	}
	// A principal without roles: one read, no roles.
	c = must(s.CredentialByHash(ctx, sha256.Sum256([]byte("pal_bob"))))(t)
	if c.Owner.ID != bob.ID || len(c.Roles) != 0 || c.Token.ID != "t2" {
		t.Errorf("CredentialByHash of a principal without roles = %+v", c)
	}
	if _, r, err := s.PrincipalWithRoles(ctx, "bob"); err != nil || len(r) != 0 {
		t.Errorf("PrincipalWithRoles(bob) = %v, %v", r, err)
	}
	_, _, err := s.PrincipalWithRoles(ctx, "nobody")
	wantErr(t, "PrincipalWithRoles unknown", err, store.ErrNotFound)
	_, err = s.CredentialByHash(ctx, sha256.Sum256([]byte("pal_nobody")))
	wantErr(t, "CredentialByHash unknown", err, store.ErrNotFound)
	if err := s.RevokeToken(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	_, err = s.CredentialByHash(ctx, secret)
	wantErr(t, "CredentialByHash revoked", err, store.ErrRevoked)
}

func testPatchPrincipal(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := must(s.CreatePrincipal(ctx, store.Principal{ID: "s1", Name: "bot", Kind: store.KindService, Clearance: store.Internal, Email: "bot@example.test", CertSubject: "CN=bot"}))(t)
	yes, conf, off := true, store.Confidential, time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	if err := s.PatchPrincipal(ctx, "s1", store.PrincipalPatch{Admin: &yes, Disabled: &off}); err != nil {
		t.Fatalf("PatchPrincipal: %v", err)
	}
	want := u
	want.Admin, want.Disabled = true, off
	if diff := cmp.Diff(must(s.Principal(ctx, "s1"))(t), want); diff != "" {
		t.Errorf("after patching admin and disabled (-got +want):\n%s", diff)
	}
	empty, zero := "", time.Time{}
	if err := s.PatchPrincipal(ctx, "s1", store.PrincipalPatch{Clearance: &conf, CertSubject: &empty, Disabled: &zero}); err != nil {
		t.Fatal(err)
	}
	want.Clearance, want.CertSubject, want.Disabled = store.Confidential, "", time.Time{}
	if diff := cmp.Diff(must(s.Principal(ctx, "s1"))(t), want); diff != "" {
		t.Errorf("after patching clearance, certificate and enabling (-got +want):\n%s", diff)
	}
	bad := store.Classification("top-secret")
	wantErr(t, "PatchPrincipal bad clearance", s.PatchPrincipal(ctx, "s1", store.PrincipalPatch{Clearance: &bad}), store.ErrInvalid)
	wantErr(t, "PatchPrincipal unknown", s.PatchPrincipal(ctx, "nope", store.PrincipalPatch{Admin: &yes}), store.ErrNotFound)
	must(s.CreatePrincipal(ctx, store.Principal{ID: "s2", Name: "other", Kind: store.KindService, Clearance: store.Public, CertSubject: "CN=other"}))(t)
	taken := "CN=other"
	wantErr(t, "PatchPrincipal taken certificate", s.PatchPrincipal(ctx, "s1", store.PrincipalPatch{CertSubject: &taken}), store.ErrExists)
}
