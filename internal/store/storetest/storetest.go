// Package storetest is the conformance suite of the store.Store contract.
// Every driver runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
//	}
//
// newStore must return an empty, migrated store that the suite may write
// to, and close it in t.Cleanup. Subtests run in parallel, each on its own
// store.
package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/palisade-sec/palisade/internal/store"
	"golang.org/x/sync/errgroup"
)

// Run runs the suite against stores made by newStore.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Projects", testProjects},
		{"Repositories", testRepositories},
		{"Blobs", testBlobs},
		{"Manifests", testManifests},
		{"TagMove", testTagMove},
		{"ManifestAndTagAtomic", testAtomic},
		{"DeleteManifestRemovesTags", testDeleteManifest},
		{"Referrers", testReferrers},
		{"TagPagination", testTagPagination},
		{"Tokens", testTokens},
		{"SessionTokens", testSessionTokens},
		{"Artifacts", testArtifacts},
		{"ProjectKeys", testProjectKeys},
		{"References", testReferences},
		{"BlobKeysAndProjectDeletion", testBlobKeysAndProjectDeletion},
		{"ConcurrentWriters", testConcurrent},
		{"Principals", testPrincipals},
		{"Members", testMembers},
		{"Quotas", testQuotas},
		{"QuotaRace", testQuotaRace},
		{"SSORequests", testSSORequests},
		{"Credentials", testCredentials},
		{"PatchPrincipal", testPatchPrincipal},
		{"Audit", testAudit},
		{"AuditSequencer", testAuditSequencer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
}

// ignoreTimes ignores the store-set timestamps of every record type.
var ignoreTimes = cmp.Options{
	cmpopts.IgnoreFields(store.Project{}, "Created"),
	cmpopts.IgnoreFields(store.Repository{}, "Created"),
	cmpopts.IgnoreFields(store.Blob{}, "Created"),
	cmpopts.IgnoreFields(store.Manifest{}, "Created"),
	cmpopts.IgnoreFields(store.Token{}, "Created"),
	cmpopts.IgnoreFields(store.Principal{}, "Created"),
	cmpopts.IgnoreFields(store.Member{}, "Created"),
}

// checkStamp checks that a store-set time lies in [before, after] at
// microsecond precision and is UTC.
func checkStamp(t *testing.T, what string, got, before, after time.Time) {
	t.Helper()
	lo, hi := before.Truncate(time.Microsecond), after
	if got.Before(lo) || got.After(hi) || got.Location() != time.UTC {
		t.Errorf("%s = %v, want a UTC time in [%v, %v]", what, got, lo, hi)
	}
	if got.Nanosecond()%1000 != 0 {
		t.Errorf("%s = %v has sub-microsecond digits", what, got)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error = %v, want %v", what, err, want)
	}
}

// must returns v, failing the test when err is not nil:
// must(s.Project(ctx, "p"))(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func digestOf(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

func mkProject(t *testing.T, s store.Store, name string) {
	t.Helper()
	must(s.CreateProject(t.Context(), store.Project{Name: name, KeyID: "file://" + name + ".key"}))(t)
}

func mkRepo(t *testing.T, s store.Store, project, repo string) {
	t.Helper()
	mkProject(t, s, project)
	must(s.EnsureRepository(t.Context(), project, repo))(t)
}

func manifest(project, repo, body string) store.Manifest {
	return store.Manifest{
		Project: project, Repository: repo,
		Digest:    digestOf([]byte(body)),
		MediaType: "application/vnd.oci.image.manifest.v1+json",
		Body:      []byte(body),
		Size:      int64(len(body)),
		// The defaults the store fills in.
		Meta: store.ArtifactMeta{Kind: store.KindArtifact, Classification: store.Internal, Labels: map[string]string{}},
	}
}

func testProjects(t *testing.T, s store.Store) {
	ctx := t.Context()
	before := time.Now()
	p, err := s.CreateProject(ctx, store.Project{Name: "vision", KeyID: "file://vision.key"})
	if err != nil {
		t.Fatalf("CreateProject: %v", err)
	}
	checkStamp(t, "Created", p.Created, before, time.Now())
	got := must(s.Project(ctx, "vision"))(t)
	if diff := cmp.Diff(got, p); diff != "" {
		t.Errorf("Project (-got +want):\n%s", diff)
	}
	_, err = s.CreateProject(ctx, store.Project{Name: "vision", KeyID: "other"})
	wantErr(t, "CreateProject duplicate", err, store.ErrExists)
	wantErr(t, "CreateProject duplicate", err, store.ErrConflict)
	_, err = s.CreateProject(ctx, store.Project{})
	wantErr(t, "CreateProject empty", err, store.ErrInvalid)
	_, err = s.Project(ctx, "Vision")
	wantErr(t, "Project of another case", err, store.ErrNotFound)
	mkProject(t, s, "Audio")
	mkProject(t, s, "nlp")
	list := must(s.ListProjects(ctx))(t)
	var names []string
	for _, p := range list {
		names = append(names, p.Name)
	}
	if diff := cmp.Diff(names, []string{"Audio", "nlp", "vision"}); diff != "" {
		t.Errorf("ListProjects (-got +want):\n%s", diff)
	}
}

func testRepositories(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.EnsureRepository(ctx, "nope", "r")
	wantErr(t, "EnsureRepository in missing project", err, store.ErrNotFound)
	_, err = s.ListRepositories(ctx, "nope", store.Page{})
	wantErr(t, "ListRepositories of missing project", err, store.ErrNotFound)
	mkProject(t, s, "p")
	mkProject(t, s, "q")
	r1 := must(s.EnsureRepository(ctx, "p", "llama"))(t)
	r2 := must(s.EnsureRepository(ctx, "p", "llama"))(t)
	if diff := cmp.Diff(r2, r1); diff != "" {
		t.Errorf("second EnsureRepository (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(r1, store.Repository{Project: "p", Name: "llama"}, ignoreTimes); diff != "" {
		t.Errorf("EnsureRepository (-got +want):\n%s", diff)
	}
	_, err = s.EnsureRepository(ctx, "p", "")
	wantErr(t, "EnsureRepository empty", err, store.ErrInvalid)
	must(s.EnsureRepository(ctx, "p", "bert/base"))(t)
	must(s.EnsureRepository(ctx, "p", "Zeta"))(t)
	must(s.EnsureRepository(ctx, "q", "other"))(t)
	got := must(s.Repository(ctx, "p", "llama"))(t)
	if diff := cmp.Diff(got, r1); diff != "" {
		t.Errorf("Repository (-got +want):\n%s", diff)
	}
	_, err = s.Repository(ctx, "q", "llama")
	wantErr(t, "Repository in another project", err, store.ErrNotFound)
	names := func(rs []store.Repository) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return out
	}
	all := must(s.ListRepositories(ctx, "p", store.Page{}))(t)
	if diff := cmp.Diff(names(all), []string{"Zeta", "bert/base", "llama"}); diff != "" {
		t.Errorf("ListRepositories (-got +want):\n%s", diff)
	}
	page := must(s.ListRepositories(ctx, "p", store.Page{N: 1, Last: "Zeta"}))(t)
	if diff := cmp.Diff(names(page), []string{"bert/base"}); diff != "" {
		t.Errorf("ListRepositories page (-got +want):\n%s", diff)
	}
}

func testBlobs(t *testing.T, s store.Store) {
	ctx := t.Context()
	b := store.Blob{Project: "p", Digest: digestOf([]byte("weights")), Size: 7, MediaType: "application/octet-stream", WrappedKey: []byte("wrapped-1"), AADContext: "upload-1/final"}
	_, err := s.CreateBlob(ctx, b)
	wantErr(t, "CreateBlob in missing project", err, store.ErrNotFound)
	mkProject(t, s, "p")
	mkProject(t, s, "q")
	before := time.Now()
	created, err := s.CreateBlob(ctx, b)
	if err != nil {
		t.Fatalf("CreateBlob: %v", err)
	}
	checkStamp(t, "Created", created.Created, before, time.Now())
	got := must(s.Blob(ctx, "p", b.Digest))(t)
	if diff := cmp.Diff(got, created); diff != "" {
		t.Errorf("Blob (-got +want):\n%s", diff)
	}
	dup := b
	dup.WrappedKey = []byte("wrapped-2")
	_, err = s.CreateBlob(ctx, dup)
	wantErr(t, "CreateBlob duplicate", err, store.ErrExists)
	got = must(s.Blob(ctx, "p", b.Digest))(t)
	if diff := cmp.Diff(got, created); diff != "" {
		t.Errorf("Blob after duplicate CreateBlob (-got +want):\n%s", diff)
	}
	other := dup
	other.Project = "q"
	must(s.CreateBlob(ctx, other))(t)
	got = must(s.Blob(ctx, "q", b.Digest))(t)
	if diff := cmp.Diff(got, other, ignoreTimes); diff != "" {
		t.Errorf("same digest in another project (-got +want):\n%s", diff)
	}
	for _, bad := range []store.Blob{
		{Project: "p", Size: 1, WrappedKey: []byte("k")},
		{Project: "p", Digest: "sha256:00", Size: 1},
		{Project: "p", Digest: "sha256:00", Size: -1, WrappedKey: []byte("k")},
	} {
		_, err = s.CreateBlob(ctx, bad)
		wantErr(t, fmt.Sprintf("CreateBlob(%+v)", bad), err, store.ErrInvalid)
	}
	_, err = s.Blob(ctx, "p", digestOf(nil))
	wantErr(t, "Blob missing", err, store.ErrNotFound)
	if err := s.DeleteBlob(ctx, "p", b.Digest); err != nil {
		t.Fatalf("DeleteBlob: %v", err)
	}
	_, err = s.Blob(ctx, "p", b.Digest)
	wantErr(t, "Blob after delete", err, store.ErrNotFound)
	wantErr(t, "DeleteBlob again", s.DeleteBlob(ctx, "p", b.Digest), store.ErrNotFound)
	wantErr(t, "DeleteBlob in missing project", s.DeleteBlob(ctx, "nope", b.Digest), store.ErrNotFound)
	must(s.Blob(ctx, "q", b.Digest))(t) // the other project's copy stays
}

func testManifests(t *testing.T, s store.Store) {
	ctx := t.Context()
	m := manifest("p", "r", `{"schemaVersion":2}`)
	m.ArtifactType = "application/vnd.cncf.model.manifest.v1+json"
	_, err := s.PutManifest(ctx, m, "v1")
	wantErr(t, "PutManifest in missing repository", err, store.ErrNotFound)
	mkRepo(t, s, "p", "r")
	before := time.Now()
	put, err := s.PutManifest(ctx, m, "v1")
	if err != nil {
		t.Fatalf("PutManifest: %v", err)
	}
	checkStamp(t, "Created", put.Created, before, time.Now())
	if diff := cmp.Diff(put, m, ignoreTimes); diff != "" {
		t.Errorf("PutManifest (-got +want):\n%s", diff)
	}
	byDigest := must(s.Manifest(ctx, "p", "r", m.Digest))(t)
	if diff := cmp.Diff(byDigest, put); diff != "" {
		t.Errorf("Manifest (-got +want):\n%s", diff)
	}
	byTag := must(s.ManifestByTag(ctx, "p", "r", "v1"))(t)
	if diff := cmp.Diff(byTag, put); diff != "" {
		t.Errorf("ManifestByTag (-got +want):\n%s", diff)
	}
	again := must(s.PutManifest(ctx, m, ""))(t)
	if diff := cmp.Diff(again, put); diff != "" {
		t.Errorf("PutManifest again (-got +want):\n%s", diff)
	}
	noTag := manifest("p", "r", `{"untagged":true}`)
	must(s.PutManifest(ctx, noTag, ""))(t)
	tags := must(s.ListTags(ctx, "p", "r", store.Page{}))(t)
	if diff := cmp.Diff(tags, []string{"v1"}); diff != "" {
		t.Errorf("ListTags (-got +want):\n%s", diff)
	}
	_, err = s.Manifest(ctx, "p", "r", digestOf([]byte("x")))
	wantErr(t, "Manifest missing", err, store.ErrNotFound)
	_, err = s.Manifest(ctx, "p", "other", m.Digest)
	wantErr(t, "Manifest in missing repository", err, store.ErrNotFound)
	_, err = s.ManifestByTag(ctx, "p", "r", "v2")
	wantErr(t, "ManifestByTag missing", err, store.ErrNotFound)
	_, err = s.ListTags(ctx, "p", "other", store.Page{})
	wantErr(t, "ListTags of missing repository", err, store.ErrNotFound)
	_, err = s.PutManifest(ctx, store.Manifest{Project: "p", Repository: "r", MediaType: "x"}, "")
	wantErr(t, "PutManifest without digest", err, store.ErrInvalid)
	// A manifest is per repository: the same digest elsewhere is another record.
	must(s.EnsureRepository(ctx, "p", "r2"))(t)
	_, err = s.Manifest(ctx, "p", "r2", m.Digest)
	wantErr(t, "Manifest of another repository", err, store.ErrNotFound)
}

func testTagMove(t *testing.T, s store.Store) {
	ctx := t.Context()
	mkRepo(t, s, "p", "r")
	a := must(s.PutManifest(ctx, manifest("p", "r", "a"), "latest"))(t)
	b := must(s.PutManifest(ctx, manifest("p", "r", "b"), "latest"))(t)
	got := must(s.ManifestByTag(ctx, "p", "r", "latest"))(t)
	if got.Digest != b.Digest {
		t.Errorf("latest = %s after second push, want %s", got.Digest, b.Digest)
	}
	if err := s.SetTag(ctx, "p", "r", "latest", a.Digest); err != nil {
		t.Fatalf("SetTag: %v", err)
	}
	got = must(s.ManifestByTag(ctx, "p", "r", "latest"))(t)
	if got.Digest != a.Digest {
		t.Errorf("latest = %s after SetTag, want %s", got.Digest, a.Digest)
	}
	wantErr(t, "SetTag to missing manifest", s.SetTag(ctx, "p", "r", "latest", digestOf([]byte("c"))), store.ErrNotFound)
	wantErr(t, "SetTag in missing repository", s.SetTag(ctx, "p", "nope", "latest", a.Digest), store.ErrNotFound)
	wantErr(t, "SetTag empty", s.SetTag(ctx, "p", "r", "", a.Digest), store.ErrInvalid)
	got = must(s.ManifestByTag(ctx, "p", "r", "latest"))(t)
	if got.Digest != a.Digest {
		t.Errorf("latest = %s after failed SetTag, want %s", got.Digest, a.Digest)
	}
	if err := s.DeleteTag(ctx, "p", "r", "latest"); err != nil {
		t.Fatalf("DeleteTag: %v", err)
	}
	_, err := s.ManifestByTag(ctx, "p", "r", "latest")
	wantErr(t, "ManifestByTag after DeleteTag", err, store.ErrNotFound)
	must(s.Manifest(ctx, "p", "r", a.Digest))(t) // the manifest stays
	wantErr(t, "DeleteTag again", s.DeleteTag(ctx, "p", "r", "latest"), store.ErrNotFound)
	wantErr(t, "DeleteTag in missing repository", s.DeleteTag(ctx, "p", "nope", "latest"), store.ErrNotFound)
}

// testAtomic makes the tag write of PutManifest fail (a tag over the 128
// byte OCI limit) and checks that the manifest was not stored either.
func testAtomic(t *testing.T, s store.Store) {
	ctx := t.Context()
	mkRepo(t, s, "p", "r")
	m := manifest("p", "r", "atomic")
	_, err := s.PutManifest(ctx, m, strings.Repeat("t", 129))
	wantErr(t, "PutManifest with a 129-byte tag", err, store.ErrInvalid)
	_, err = s.Manifest(ctx, "p", "r", m.Digest)
	wantErr(t, "Manifest after failed PutManifest", err, store.ErrNotFound)
	must(s.PutManifest(ctx, m, strings.Repeat("t", 128)))(t)
}

func testDeleteManifest(t *testing.T, s store.Store) {
	ctx := t.Context()
	mkRepo(t, s, "p", "r")
	a := must(s.PutManifest(ctx, manifest("p", "r", "a"), "one"))(t)
	must(0, s.SetTag(ctx, "p", "r", "two", a.Digest))(t)
	b := must(s.PutManifest(ctx, manifest("p", "r", "b"), "three"))(t)
	if err := s.DeleteManifest(ctx, "p", "r", a.Digest); err != nil {
		t.Fatalf("DeleteManifest: %v", err)
	}
	_, err := s.Manifest(ctx, "p", "r", a.Digest)
	wantErr(t, "Manifest after delete", err, store.ErrNotFound)
	tags := must(s.ListTags(ctx, "p", "r", store.Page{}))(t)
	if diff := cmp.Diff(tags, []string{"three"}); diff != "" {
		t.Errorf("ListTags after DeleteManifest (-got +want):\n%s", diff)
	}
	must(s.Manifest(ctx, "p", "r", b.Digest))(t)
	wantErr(t, "DeleteManifest again", s.DeleteManifest(ctx, "p", "r", a.Digest), store.ErrNotFound)
	wantErr(t, "DeleteManifest in missing repository", s.DeleteManifest(ctx, "p", "x", a.Digest), store.ErrNotFound)
}

func testReferrers(t *testing.T, s store.Store) {
	ctx := t.Context()
	mkRepo(t, s, "p", "r")
	subject := must(s.PutManifest(ctx, manifest("p", "r", "model"), "v1"))(t)
	var want []store.Manifest
	for i, at := range []string{"application/vnd.dev.sigstore.bundle", "application/spdx+json", "application/vnd.dev.sigstore.bundle"} {
		m := manifest("p", "r", fmt.Sprintf("referrer-%d", i))
		m.ArtifactType = at
		m.Subject = subject.Digest
		want = append(want, must(s.PutManifest(ctx, m, ""))(t))
	}
	other := manifest("p", "r", "unrelated")
	other.Subject = digestOf([]byte("elsewhere"))
	must(s.PutManifest(ctx, other, ""))(t)
	byDigest := func(a, b store.Manifest) int { return strings.Compare(a.Digest, b.Digest) }
	slices.SortFunc(want, byDigest)
	got := must(s.Referrers(ctx, "p", "r", subject.Digest, ""))(t)
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("Referrers (-got +want):\n%s", diff)
	}
	var sigs []store.Manifest
	for _, m := range want {
		if m.ArtifactType == "application/vnd.dev.sigstore.bundle" {
			sigs = append(sigs, m)
		}
	}
	got = must(s.Referrers(ctx, "p", "r", subject.Digest, "application/vnd.dev.sigstore.bundle"))(t)
	if diff := cmp.Diff(got, sigs); diff != "" {
		t.Errorf("Referrers filtered (-got +want):\n%s", diff)
	}
	for _, q := range [][2]string{{"r", digestOf([]byte("none"))}, {"missing", subject.Digest}, {"r", ""}} {
		got = must(s.Referrers(ctx, "p", q[0], q[1], ""))(t)
		if len(got) != 0 {
			t.Errorf("Referrers(%q, %q) = %d manifests, want none", q[0], q[1], len(got))
		}
	}
}

func testTagPagination(t *testing.T, s store.Store) {
	ctx := t.Context()
	mkRepo(t, s, "p", "r")
	m := must(s.PutManifest(ctx, manifest("p", "r", "m"), ""))(t)
	// Byte order differs from most locales' collation: upper case before
	// "_" before lower case, "." and "-" before digits.
	tags := []string{"latest", "Latest", "v1.0", "v1-0", "v10", "v2", "_x", "a", "B", "0", "9", "v1.0.1"}
	for _, tag := range tags {
		if err := s.SetTag(ctx, "p", "r", tag, m.Digest); err != nil {
			t.Fatalf("SetTag %q: %v", tag, err)
		}
	}
	want := slices.Clone(tags)
	slices.Sort(want)
	all := must(s.ListTags(ctx, "p", "r", store.Page{}))(t)
	if diff := cmp.Diff(all, want); diff != "" {
		t.Errorf("ListTags (-got +want):\n%s", diff)
	}
	for _, n := range []int{1, 2, 5, 12, 100} {
		var got []string
		last := ""
		for range len(tags) + 1 {
			page := must(s.ListTags(ctx, "p", "r", store.Page{N: n, Last: last}))(t)
			if len(page) > n {
				t.Fatalf("n=%d: page of %d", n, len(page))
			}
			got = append(got, page...)
			if len(page) < n {
				break
			}
			last = page[len(page)-1]
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("paged by %d (-got +want):\n%s", n, diff)
		}
	}
	// last need not be a tag that exists.
	got := must(s.ListTags(ctx, "p", "r", store.Page{N: 2, Last: "v1"}))(t)
	if diff := cmp.Diff(got, []string{"v1-0", "v1.0"}); diff != "" {
		t.Errorf("ListTags after a missing last (-got +want):\n%s", diff)
	}
	got = must(s.ListTags(ctx, "p", "r", store.Page{Last: "v2"}))(t)
	if len(got) != 0 {
		t.Errorf("ListTags after the last tag = %q, want none", got)
	}
}

func testTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	secret := sha256.Sum256([]byte("pls_secret-1"))
	mkPrincipal(t, s, "alice")
	expires := time.Date(2027, 1, 2, 3, 4, 5, 6789, time.UTC)
	tok := store.Token{ID: "tok1", Name: "ci", PrincipalID: "alice", Scope: "ml:reader", Hash: secret, Expires: expires,
		LastUsed: time.Unix(1, 0), Revoked: time.Unix(2, 0)} // ignored by CreateToken
	before := time.Now()
	created, err := s.CreateToken(ctx, tok)
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	checkStamp(t, "Created", created.Created, before, time.Now())
	want := store.Token{ID: "tok1", Name: "ci", PrincipalID: "alice", Scope: "ml:reader", Hash: secret, Expires: expires.Truncate(time.Microsecond)}
	if diff := cmp.Diff(created, want, ignoreTimes); diff != "" {
		t.Errorf("CreateToken (-got +want):\n%s", diff)
	}
	got := must(s.TokenByHash(ctx, secret))(t)
	if diff := cmp.Diff(got, created); diff != "" {
		t.Errorf("TokenByHash (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(must(s.Token(ctx, "tok1"))(t), created); diff != "" {
		t.Errorf("Token (-got +want):\n%s", diff)
	}
	_, err = s.Token(ctx, "nope")
	wantErr(t, "Token unknown", err, store.ErrNotFound)
	_, err = s.CreateToken(ctx, store.Token{ID: "tok9", PrincipalID: "nobody", Hash: sha256.Sum256([]byte("y"))})
	wantErr(t, "CreateToken of an unknown owner", err, store.ErrNotFound)
	_, err = s.TokenByHash(ctx, sha256.Sum256([]byte("pls_other")))
	wantErr(t, "TokenByHash unknown", err, store.ErrNotFound)
	_, err = s.CreateToken(ctx, store.Token{ID: "tok1", PrincipalID: "alice", Hash: sha256.Sum256([]byte("x"))})
	wantErr(t, "CreateToken duplicate ID", err, store.ErrExists)
	_, err = s.CreateToken(ctx, store.Token{ID: "tok2", PrincipalID: "alice", Hash: secret})
	wantErr(t, "CreateToken duplicate hash", err, store.ErrExists)
	_, err = s.CreateToken(ctx, store.Token{PrincipalID: "alice", Hash: secret})
	wantErr(t, "CreateToken without ID", err, store.ErrInvalid)
	_, err = s.CreateToken(ctx, store.Token{ID: "tok3", Hash: secret})
	wantErr(t, "CreateToken without owner", err, store.ErrInvalid)

	used := time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC)
	if err := s.TouchToken(ctx, "tok1", used); err != nil {
		t.Fatalf("TouchToken: %v", err)
	}
	got = must(s.TokenByHash(ctx, secret))(t)
	if want := used.Truncate(time.Microsecond); !got.LastUsed.Equal(want) || got.LastUsed.Location() != time.UTC {
		t.Errorf("LastUsed = %v, want %v", got.LastUsed, want)
	}
	wantErr(t, "TouchToken unknown", s.TouchToken(ctx, "nope", used), store.ErrNotFound)

	reader := must(s.CreateToken(ctx, store.Token{ID: "tok0", Name: "pull", PrincipalID: "alice", Hash: sha256.Sum256([]byte("pls_reader"))}))(t)
	before = time.Now()
	if err := s.RevokeToken(ctx, "tok1"); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	after := time.Now()
	got, err = s.TokenByHash(ctx, secret)
	wantErr(t, "TokenByHash revoked", err, store.ErrRevoked)
	if diff := cmp.Diff(got, store.Token{}); diff != "" {
		t.Errorf("TokenByHash revoked returned a token (-got +want):\n%s", diff)
	}
	list := must(s.ListTokens(ctx))(t)
	if len(list) != 2 || list[0].ID != "tok0" || list[1].ID != "tok1" {
		t.Fatalf("ListTokens = %+v, want tok0 and tok1", list)
	}
	if diff := cmp.Diff(list[0], reader); diff != "" {
		t.Errorf("ListTokens[0] (-got +want):\n%s", diff)
	}
	revoked := list[1]
	if revoked.Active() {
		t.Errorf("revoked token is Active")
	}
	checkStamp(t, "Revoked", revoked.Revoked, before, after)
	if err := s.RevokeToken(ctx, "tok1"); err != nil {
		t.Fatalf("RevokeToken again: %v", err)
	}
	list = must(s.ListTokens(ctx))(t)
	if !list[1].Revoked.Equal(revoked.Revoked) {
		t.Errorf("second RevokeToken moved Revoked from %v to %v", revoked.Revoked, list[1].Revoked)
	}
	wantErr(t, "RevokeToken unknown", s.RevokeToken(ctx, "nope"), store.ErrNotFound)
	must(s.TokenByHash(ctx, reader.Hash))(t)
}

// testConcurrent runs writers against one store at once: they must all
// succeed (no SQLITE_BUSY, no serialization failures surfacing), the
// uniqueness rules must hold, and the tag must end on one winner.
func testConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	mkProject(t, s, "p")
	mkPrincipal(t, s, "alice")
	const writers = 8
	const rounds = 10
	var mu sync.Mutex
	blobWins := 0
	var pushed []string
	g, gctx := errgroup.WithContext(ctx)
	for w := range writers {
		g.Go(func() error {
			for i := range rounds {
				if _, err := s.EnsureRepository(gctx, "p", "shared"); err != nil {
					return fmt.Errorf("EnsureRepository: %w", err)
				}
				_, err := s.CreateBlob(gctx, store.Blob{Project: "p", Digest: digestOf([]byte(fmt.Sprint("same", i))), Size: 1, WrappedKey: []byte{byte(w)}})
				switch {
				case err == nil:
					mu.Lock()
					blobWins++
					mu.Unlock()
				case !errors.Is(err, store.ErrExists):
					return fmt.Errorf("CreateBlob: %w", err)
				}
				m := manifest("p", "shared", fmt.Sprintf("w%d-%d", w, i))
				if _, err := s.PutManifest(gctx, m, "latest"); err != nil {
					return fmt.Errorf("PutManifest: %w", err)
				}
				mu.Lock()
				pushed = append(pushed, m.Digest)
				mu.Unlock()
				if _, err := s.ManifestByTag(gctx, "p", "shared", "latest"); err != nil {
					return fmt.Errorf("ManifestByTag: %w", err)
				}
				if _, err := s.CreateToken(gctx, store.Token{ID: fmt.Sprintf("t%d-%d", w, i), PrincipalID: "alice", Hash: sha256.Sum256(fmt.Appendf(nil, "%d-%d", w, i))}); err != nil {
					return fmt.Errorf("CreateToken: %w", err)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if blobWins != rounds {
		t.Errorf("%d CreateBlob calls succeeded, want %d (one per digest)", blobWins, rounds)
	}
	latest := must(s.ManifestByTag(ctx, "p", "shared", "latest"))(t)
	if !slices.Contains(pushed, latest.Digest) {
		t.Errorf("latest = %s, not one of the pushed manifests", latest.Digest)
	}
	if toks := must(s.ListTokens(ctx))(t); len(toks) != writers*rounds {
		t.Errorf("%d tokens, want %d", len(toks), writers*rounds)
	}
	repos := must(s.ListRepositories(ctx, "p", store.Page{}))(t)
	if len(repos) != 1 {
		t.Errorf("%d repositories, want 1", len(repos))
	}
}

func testSessionTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	mkPrincipal(t, s, "alice")
	api := must(s.CreateToken(ctx, store.Token{ID: "ci", PrincipalID: "alice", Hash: sha256.Sum256([]byte("pal_ci"))}))(t)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	live := store.SessionToken{Hash: sha256.Sum256([]byte("palr_live")), TokenID: "ci", Scope: "repository:p/r:pull", Expires: now.Add(5 * time.Minute)}
	stale := store.SessionToken{Hash: sha256.Sum256([]byte("palr_stale")), TokenID: "ci", Scope: "", Expires: now.Add(-time.Second)}
	for _, st := range []store.SessionToken{live, stale} {
		if err := s.CreateSessionToken(ctx, st); err != nil {
			t.Fatalf("CreateSessionToken: %v", err)
		}
	}
	wantErr(t, "CreateSessionToken duplicate", s.CreateSessionToken(ctx, live), store.ErrExists)
	wantErr(t, "CreateSessionToken unknown API token",
		s.CreateSessionToken(ctx, store.SessionToken{Hash: sha256.Sum256([]byte("x")), TokenID: "nope", Expires: now}), store.ErrNotFound)
	wantErr(t, "CreateSessionToken without API token",
		s.CreateSessionToken(ctx, store.SessionToken{Hash: sha256.Sum256([]byte("y")), Expires: now}), store.ErrInvalid)

	got, tok, err := s.SessionToken(ctx, live.Hash, now)
	if err != nil {
		t.Fatalf("SessionToken: %v", err)
	}
	if diff := cmp.Diff(got, live); diff != "" {
		t.Errorf("SessionToken (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(tok, api); diff != "" {
		t.Errorf("SessionToken's API token (-got +want):\n%s", diff)
	}
	_, _, err = s.SessionToken(ctx, stale.Hash, now)
	wantErr(t, "SessionToken expired", err, store.ErrNotFound)
	_, _, err = s.SessionToken(ctx, live.Hash, live.Expires)
	wantErr(t, "SessionToken at its expiry", err, store.ErrNotFound)
	_, _, err = s.SessionToken(ctx, sha256.Sum256([]byte("palr_unknown")), now)
	wantErr(t, "SessionToken unknown", err, store.ErrNotFound)

	n := must(s.DeleteExpiredSessionTokens(ctx, now))(t)
	if n != 1 {
		t.Errorf("DeleteExpiredSessionTokens removed %d, want 1 (the stale one)", n)
	}
	if _, _, err := s.SessionToken(ctx, live.Hash, now); err != nil {
		t.Errorf("SessionToken after deleting expired ones: %v", err)
	}

	if err := s.RevokeToken(ctx, "ci"); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	_, _, err = s.SessionToken(ctx, live.Hash, now)
	wantErr(t, "SessionToken of a revoked API token", err, store.ErrRevoked)
}

func testArtifacts(t *testing.T, s store.Store) {
	ctx := t.Context()
	mkRepo(t, s, "p", "models/llm")
	must(s.EnsureRepository(ctx, "p", "data/reviews"))(t)
	mkRepo(t, s, "q", "models/llm")

	llm := manifest("p", "models/llm", `{"m":"llm-v1"}`)
	llm.Meta = store.ArtifactMeta{Kind: store.KindModel, Classification: store.Confidential, Owner: "ml-team",
		Description: "Support LLM fine-tune", Framework: "pytorch", Format: "safetensors", License: "Apache-2.0",
		ModelCard: digestOf([]byte("card")), Labels: map[string]string{"team": "support", "stage": "dev"}}
	llm = must(s.PutManifest(ctx, llm, "v1"))(t)
	llm2 := manifest("p", "models/llm", `{"m":"llm-v2"}`)
	llm2.Meta.Kind = store.KindModel
	llm2.Meta.Labels = map[string]string{"team": "support%"}
	llm2 = must(s.PutManifest(ctx, llm2, "v2"))(t)
	must(s.PutManifest(ctx, llm2, "latest"))(t)
	data := manifest("p", "data/reviews", `{"d":1}`)
	data.Meta = store.ArtifactMeta{Kind: store.KindDataset, Classification: store.Restricted, Description: "Customer reviews with PII"}
	data = must(s.PutManifest(ctx, data, ""))(t)
	must(s.PutManifest(ctx, manifest("q", "models/llm", `{"other":"project"}`), "v1"))(t)

	bad := manifest("p", "models/llm", `{"bad":1}`)
	bad.Meta.Classification = "secret"
	_, err := s.PutManifest(ctx, bad, "")
	wantErr(t, "PutManifest with unknown classification", err, store.ErrInvalid)

	got := must(s.Manifest(ctx, "p", "models/llm", llm.Digest))(t)
	if diff := cmp.Diff(got.Meta, llm.Meta); diff != "" {
		t.Errorf("stored metadata (-got +want):\n%s", diff)
	}
	names := func(as []store.Artifact) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.Repository+"@"+a.Digest[7:15]+":"+strings.Join(a.Tags, ","))
		}
		return out
	}
	id := func(m store.Manifest, tags string) string { return m.Repository + "@" + m.Digest[7:15] + ":" + tags }
	all := []string{id(data, ""), id(llm, "v1"), id(llm2, "latest,v2")}
	sort.Strings(all[1:])
	tests := []struct {
		name string
		f    store.ArtifactFilter
		want []string
	}{
		{"all", store.ArtifactFilter{}, all},
		{"repository", store.ArtifactFilter{Repository: "models/llm"}, all[1:]},
		{"kind", store.ArtifactFilter{Kind: store.KindDataset}, []string{id(data, "")}},
		{"classification", store.ArtifactFilter{Classification: store.Confidential}, []string{id(llm, "v1")}},
		{"at most confidential", store.ArtifactFilter{AtMost: []store.Classification{store.Public, store.Internal, store.Confidential}}, all[1:]},
		{"query, at most internal", store.ArtifactFilter{Query: "llm", AtMost: []store.Classification{store.Public, store.Internal}}, []string{id(llm2, "latest,v2")}},
		{"query in description, any case", store.ArtifactFilter{Query: "pii"}, []string{id(data, "")}},
		{"query in name", store.ArtifactFilter{Query: "LLM"}, all[1:]},
		{"query wildcard is literal", store.ArtifactFilter{Query: "%"}, nil},
		{"label", store.ArtifactFilter{Labels: map[string]string{"team": "support"}}, []string{id(llm, "v1")}},
		{"label with wildcard value", store.ArtifactFilter{Labels: map[string]string{"team": "support%"}}, []string{id(llm2, "latest,v2")}},
		{"two labels", store.ArtifactFilter{Labels: map[string]string{"team": "support", "stage": "dev"}}, []string{id(llm, "v1")}},
		{"label absent", store.ArtifactFilter{Labels: map[string]string{"stage": "prod"}}, nil},
	}
	for _, tt := range tests {
		list := must(s.ListArtifacts(ctx, "p", tt.f, store.Page{}))(t)
		if diff := cmp.Diff(names(list), tt.want); diff != "" {
			t.Errorf("ListArtifacts %s (-got +want):\n%s", tt.name, diff)
		}
	}
	// Pagination walks every artifact once, in order.
	var walked []string
	page := store.Page{N: 2}
	for range 5 {
		list := must(s.ListArtifacts(ctx, "p", store.ArtifactFilter{}, page))(t)
		walked = append(walked, names(list)...)
		if len(list) < page.N {
			break
		}
		last := list[len(list)-1]
		page.Last = last.Repository + "@" + last.Digest
	}
	if diff := cmp.Diff(walked, all); diff != "" {
		t.Errorf("paged ListArtifacts (-got +want):\n%s", diff)
	}
	_, err = s.ListArtifacts(ctx, "nope", store.ArtifactFilter{}, store.Page{})
	wantErr(t, "ListArtifacts of a missing project", err, store.ErrNotFound)

	meta := store.ArtifactMeta{Kind: store.KindDataset, Classification: store.Public, Labels: map[string]string{"a": "b"}}
	wantErr(t, "SetArtifactMeta lowering without an actor", s.SetArtifactMeta(ctx, "p", "data/reviews", data.Digest, meta, nil), store.ErrInvalid)
	meta.DataTags = []string{"pii", "phi", "pii"}
	change := &store.ClassificationChange{Actor: "alice", Reason: "anonymized"}
	if err := s.SetArtifactMeta(ctx, "p", "data/reviews", data.Digest, meta, change); err != nil {
		t.Fatalf("SetArtifactMeta: %v", err)
	}
	meta.DataTags = []string{"phi", "pii"}
	changes := must(s.ClassificationChanges(ctx, "p", "data/reviews", data.Digest))(t)
	if len(changes) != 1 || changes[0].From != store.Restricted || changes[0].To != store.Public || changes[0].Actor != "alice" || changes[0].Reason != "anonymized" || changes[0].At.IsZero() {
		t.Errorf("ClassificationChanges = %+v, want one change restricted -> public by alice", changes)
	}
	// A change decided on a stale classification writes nothing.
	stale := &store.ClassificationChange{From: store.Restricted, Actor: "bob"}
	wantErr(t, "SetArtifactMeta on a stale classification", s.SetArtifactMeta(ctx, "p", "data/reviews", data.Digest, meta, stale), store.ErrConflict)
	// The same classification again records nothing and needs no actor.
	if err := s.SetArtifactMeta(ctx, "p", "data/reviews", data.Digest, meta, nil); err != nil {
		t.Fatalf("SetArtifactMeta unchanged classification: %v", err)
	}
	if n := len(must(s.ClassificationChanges(ctx, "p", "data/reviews", data.Digest))(t)); n != 1 {
		t.Errorf("%d classification changes after an unchanged one, want 1", n)
	}
	got = must(s.Manifest(ctx, "p", "data/reviews", data.Digest))(t)
	if diff := cmp.Diff(got.Meta, meta); diff != "" {
		t.Errorf("metadata after SetArtifactMeta (-got +want):\n%s", diff)
	}
	wantErr(t, "SetArtifactMeta unknown manifest", s.SetArtifactMeta(ctx, "p", "data/reviews", llm.Digest, meta, change), store.ErrNotFound)
	meta.Classification = "top-secret"
	wantErr(t, "SetArtifactMeta bad classification", s.SetArtifactMeta(ctx, "p", "data/reviews", data.Digest, meta, change), store.ErrInvalid)
	tags := must(s.TagsOf(ctx, "p", "models/llm", llm2.Digest))(t)
	if diff := cmp.Diff(tags, []string{"latest", "v2"}); diff != "" {
		t.Errorf("TagsOf (-got +want):\n%s", diff)
	}
}

func testProjectKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	wantErr(t, "CreateProjectKey in missing project",
		s.CreateProjectKey(ctx, "p", store.ProjectKey{Version: 1, Wrapped: []byte("k1"), MasterKeyID: "m"}), store.ErrNotFound)
	_, err := s.ProjectKeys(ctx, "p")
	wantErr(t, "ProjectKeys of missing project", err, store.ErrNotFound)
	mkProject(t, s, "p")
	if keys := must(s.ProjectKeys(ctx, "p"))(t); len(keys) != 0 {
		t.Errorf("new project has keys %+v", keys)
	}
	for _, v := range []int{2, 1} {
		if err := s.CreateProjectKey(ctx, "p", store.ProjectKey{Version: v, Wrapped: []byte(fmt.Sprint("k", v)), MasterKeyID: "m"}); err != nil {
			t.Fatalf("CreateProjectKey v%d: %v", v, err)
		}
	}
	wantErr(t, "CreateProjectKey duplicate version",
		s.CreateProjectKey(ctx, "p", store.ProjectKey{Version: 1, Wrapped: []byte("again"), MasterKeyID: "m"}), store.ErrExists)
	wantErr(t, "CreateProjectKey version 0",
		s.CreateProjectKey(ctx, "p", store.ProjectKey{Version: 0, Wrapped: []byte("x")}), store.ErrInvalid)
	keys := must(s.ProjectKeys(ctx, "p"))(t)
	want := []store.ProjectKey{{Version: 1, Wrapped: []byte("k1"), MasterKeyID: "m"}, {Version: 2, Wrapped: []byte("k2"), MasterKeyID: "m"}}
	if diff := cmp.Diff(keys, want, cmpopts.IgnoreFields(store.ProjectKey{}, "Created")); diff != "" {
		t.Errorf("ProjectKeys (-got +want):\n%s", diff)
	}
	if err := s.UpdateProjectKey(ctx, "p", store.ProjectKey{Version: 2, Wrapped: []byte("k2'"), MasterKeyID: "m2"}); err != nil {
		t.Fatalf("UpdateProjectKey: %v", err)
	}
	wantErr(t, "UpdateProjectKey unknown version", s.UpdateProjectKey(ctx, "p", store.ProjectKey{Version: 9, Wrapped: []byte("x")}), store.ErrNotFound)
	if err := s.DeleteProjectKey(ctx, "p", 1); err != nil {
		t.Fatalf("DeleteProjectKey: %v", err)
	}
	wantErr(t, "DeleteProjectKey again", s.DeleteProjectKey(ctx, "p", 1), store.ErrNotFound)
	keys = must(s.ProjectKeys(ctx, "p"))(t)
	if len(keys) != 1 || keys[0].Version != 2 || string(keys[0].Wrapped) != "k2'" || keys[0].MasterKeyID != "m2" {
		t.Errorf("ProjectKeys after update and delete = %+v", keys)
	}
}

func testBlobKeysAndProjectDeletion(t *testing.T, s store.Store) {
	ctx := t.Context()
	mkRepo(t, s, "p", "r")
	mkProject(t, s, "q")
	var digests []string
	for i := range 5 {
		b := store.Blob{Project: "p", Digest: digestOf([]byte{byte(i)}), Size: int64(10 * (i + 1)), WrappedKey: []byte("old"), AADContext: "c"}
		must(s.CreateBlob(ctx, b))(t)
		digests = append(digests, b.Digest)
	}
	must(s.CreateBlob(ctx, store.Blob{Project: "q", Digest: digests[0], Size: 1, WrappedKey: []byte("q")}))(t)
	sort.Strings(digests)
	if _, err := s.CreateBlob(ctx, store.Blob{Project: "q", Digest: digests[0], Size: 1, WrappedKey: []byte("q")}); err != nil && !errors.Is(err, store.ErrExists) {
		t.Fatal(err)
	}
	var listed []string
	page := store.Page{N: 2}
	for range 5 {
		bs := must(s.ListBlobs(ctx, "p", page))(t)
		for _, b := range bs {
			listed = append(listed, b.Digest)
			if string(b.WrappedKey) != "old" || b.Project != "p" {
				t.Errorf("ListBlobs record = %+v", b)
			}
		}
		if len(bs) < page.N {
			break
		}
		page.Last = bs[len(bs)-1].Digest
	}
	if diff := cmp.Diff(listed, digests); diff != "" {
		t.Errorf("paged ListBlobs (-got +want):\n%s", diff)
	}
	_, err := s.ListBlobs(ctx, "nope", store.Page{})
	wantErr(t, "ListBlobs of missing project", err, store.ErrNotFound)

	if err := s.UpdateBlobKey(ctx, "p", digests[0], []byte("old"), []byte("new")); err != nil {
		t.Fatalf("UpdateBlobKey: %v", err)
	}
	if b := must(s.Blob(ctx, "p", digests[0]))(t); string(b.WrappedKey) != "new" {
		t.Errorf("wrapped key after UpdateBlobKey = %q", b.WrappedKey)
	}
	if b := must(s.Blob(ctx, "q", digests[0]))(t); string(b.WrappedKey) != "q" {
		t.Errorf("UpdateBlobKey changed another project's blob: %q", b.WrappedKey)
	}
	wantErr(t, "UpdateBlobKey with a stale old key", s.UpdateBlobKey(ctx, "p", digests[0], []byte("old"), []byte("newer")), store.ErrConflict)
	wantErr(t, "UpdateBlobKey unknown blob", s.UpdateBlobKey(ctx, "p", digestOf([]byte("x")), []byte("old"), []byte("new")), store.ErrNotFound)

	must(s.PutManifest(ctx, manifest("p", "r", `{"a":1}`), "v1"))(t)
	u := must(s.ProjectUsage(ctx, "p"))(t)
	if want := (store.Usage{Repositories: 1, Manifests: 1, Blobs: 5, BlobBytes: 150}); u != want {
		t.Errorf("ProjectUsage = %+v, want %+v", u, want)
	}
	if err := s.CreateProjectKey(ctx, "p", store.ProjectKey{Version: 1, Wrapped: []byte("k"), MasterKeyID: "m"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteProject(ctx, "p"); err != nil {
		t.Fatalf("DeleteProject: %v", err)
	}
	wantErr(t, "DeleteProject again", s.DeleteProject(ctx, "p"), store.ErrNotFound)
	_, err = s.Project(ctx, "p")
	wantErr(t, "Project after DeleteProject", err, store.ErrNotFound)
	_, err = s.Blob(ctx, "p", digests[1])
	wantErr(t, "Blob after DeleteProject", err, store.ErrNotFound)
	_, err = s.ProjectUsage(ctx, "p")
	wantErr(t, "ProjectUsage after DeleteProject", err, store.ErrNotFound)
	// Recreating the name starts empty: no keys, blobs or repositories.
	mkProject(t, s, "p")
	if keys := must(s.ProjectKeys(ctx, "p"))(t); len(keys) != 0 {
		t.Errorf("recreated project inherited keys %+v", keys)
	}
	if u := must(s.ProjectUsage(ctx, "p"))(t); u != (store.Usage{}) {
		t.Errorf("recreated project usage = %+v", u)
	}
	if b, err := s.Blob(ctx, "q", digests[0]); err != nil || string(b.WrappedKey) != "q" {
		t.Errorf("DeleteProject touched another project: %+v, %v", b, err)
	}
}

func testReferences(t *testing.T, s store.Store) {
	ctx := t.Context()
	mkRepo(t, s, "p", "r")
	mkProject(t, s, "q")
	blob := func(project, content string) string {
		d := digestOf([]byte(content))
		must(s.CreateBlob(ctx, store.Blob{Project: project, Digest: d, Size: int64(len(content)), WrappedKey: []byte("k")}))(t)
		return d
	}
	cfg, layer, loose := blob("p", "config"), blob("p", "layer"), blob("p", "loose")
	other := blob("q", "elsewhere")

	bad := manifest("p", "r", `{"refs":"missing"}`)
	bad.Blobs = []string{cfg, other} // other is in project q, not p
	_, err := s.PutManifest(ctx, bad, "v0")
	wantErr(t, "PutManifest referencing a blob of another project", err, store.ErrNotFound)
	_, err = s.Manifest(ctx, "p", "r", bad.Digest)
	wantErr(t, "manifest after a refused put", err, store.ErrNotFound)
	_, err = s.ManifestByTag(ctx, "p", "r", "v0")
	wantErr(t, "tag after a refused put", err, store.ErrNotFound)

	m := manifest("p", "r", `{"refs":"ok"}`)
	m.Blobs = []string{cfg, layer}
	must(s.PutManifest(ctx, m, "v1"))(t)
	if ms := must(s.ManifestsWithoutRefs(ctx, 10))(t); len(ms) != 0 {
		t.Errorf("ManifestsWithoutRefs after PutManifest = %d manifests", len(ms))
	}
	// A blob takes the highest classification of the manifests that
	// reference it; an unreferenced one has none.
	secret := manifest("p", "r", `{"refs":"secret"}`)
	secret.Blobs = []string{layer}
	secret.Meta.Classification = store.Confidential
	must(s.PutManifest(ctx, secret, "secret"))(t)
	for d, want := range map[string]store.Classification{cfg: store.Internal, layer: store.Confidential, loose: "", other: ""} {
		if got := must(s.BlobClassification(ctx, "p", d))(t); got != want {
			t.Errorf("BlobClassification(%s) = %q, want %q", d, got, want)
		}
	}
	if err := s.DeleteManifest(ctx, "p", "r", secret.Digest); err != nil {
		t.Fatal(err)
	}

	future := time.Now().Add(time.Hour)
	past := time.Now().Add(-time.Hour)
	names := func(bs []store.Blob) []string {
		var out []string
		for _, b := range bs {
			out = append(out, b.Digest)
		}
		return out
	}
	if got := names(must(s.UnreferencedBlobs(ctx, "p", future, 0))(t)); !slices.Equal(got, []string{loose}) {
		t.Errorf("UnreferencedBlobs = %v, want only the loose blob", got)
	}
	if got := must(s.UnreferencedBlobs(ctx, "p", past, 0))(t); len(got) != 0 {
		t.Errorf("UnreferencedBlobs before the blobs existed = %v", names(got))
	}
	if ok := must(s.DeleteBlobIfUnreferenced(ctx, "p", layer, future))(t); ok {
		t.Error("DeleteBlobIfUnreferenced deleted a referenced blob")
	}
	if ok := must(s.DeleteBlobIfUnreferenced(ctx, "p", loose, past))(t); ok {
		t.Error("DeleteBlobIfUnreferenced deleted a blob newer than the cutoff")
	}
	if ok := must(s.DeleteBlobIfUnreferenced(ctx, "p", loose, future))(t); !ok {
		t.Error("DeleteBlobIfUnreferenced kept an unreferenced blob")
	}
	if ok := must(s.DeleteBlobIfUnreferenced(ctx, "p", loose, future))(t); ok {
		t.Error("DeleteBlobIfUnreferenced of a missing blob reported a deletion")
	}
	// Deleting the manifest drops its references.
	if err := s.DeleteManifest(ctx, "p", "r", m.Digest); err != nil {
		t.Fatal(err)
	}
	if got := names(must(s.UnreferencedBlobs(ctx, "p", future, 0))(t)); len(got) != 2 {
		t.Errorf("UnreferencedBlobs after deleting the manifest = %v, want config and layer", got)
	}
	// References are per project: q's blob of the same content is not
	// protected by p's manifests and the other way round.
	if ok := must(s.DeleteBlobIfUnreferenced(ctx, "q", other, future))(t); !ok {
		t.Error("q's unreferenced blob was kept")
	}
	wantErr(t, "SetManifestRefs of a missing manifest", s.SetManifestRefs(ctx, "p", "r", m.Digest, []string{cfg}), store.ErrNotFound)
	again := must(s.PutManifest(ctx, m, ""))(t)
	if err := s.SetManifestRefs(ctx, "p", "r", again.Digest, []string{cfg, cfg}); err != nil {
		t.Errorf("SetManifestRefs: %v", err)
	}
}
