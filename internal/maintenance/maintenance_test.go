package maintenance

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gocloud.dev/secrets/localsecrets"
	"golang.org/x/mod/sumdb/note"

	"github.com/palisade-sec/palisade/internal/auditlog"
	"github.com/palisade-sec/palisade/internal/blob"
	"github.com/palisade-sec/palisade/internal/projectkeys"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

// world is a real store, blob storage in memory and per-project keys.
type world struct {
	st    store.Store
	blobs *blob.Store
	path  string // of the SQLite database
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "db")
	st, err := sqlite.Open(ctx, sqlite.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, err := localsecrets.NewRandomKey()
	if err != nil {
		t.Fatal(err)
	}
	master := localsecrets.NewKeeper(key)
	t.Cleanup(func() { master.Close() })
	keys, err := projectkeys.New(projectkeys.Options{Store: st, Master: master})
	if err != nil {
		t.Fatal(err)
	}
	bs, err := blob.OpenURL(ctx, "mem://", blob.Options{SealerFor: keys.Sealer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close(context.Background()) })
	for _, p := range []string{"p", "q"} {
		if _, err := st.CreateProject(ctx, store.Project{Name: p, KeyID: "k"}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.EnsureRepository(ctx, p, "r"); err != nil {
			t.Fatal(err)
		}
	}
	return &world{st: st, blobs: bs, path: path}
}

func digestOf(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

// push stores content as a blob of the project and records it.
func (w *world) push(t *testing.T, project, content string) store.Blob {
	t.Helper()
	d := digestOf([]byte(content))
	b, err := w.blobs.Put(t.Context(), project, d, int64(len(content)), bytes.NewReader([]byte(content)))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := w.st.CreateBlob(t.Context(), store.Blob{Project: project, Digest: d, Size: b.Size, WrappedKey: b.WrappedKey, AADContext: b.AADContext})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// manifest stores an image manifest referencing blobs (the first is the
// config) and returns its digest.
func (w *world) manifest(t *testing.T, project string, blobs ...store.Blob) string {
	t.Helper()
	desc := func(b store.Blob) string {
		return fmt.Sprintf(`{"mediaType":"application/octet-stream","digest":%q,"size":%d}`, b.Digest, b.Size)
	}
	var layers []string
	for _, b := range blobs[1:] {
		layers = append(layers, desc(b))
	}
	body := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":%s,"layers":[%s]}`,
		desc(blobs[0]), join(layers))
	var refs []string
	for _, b := range blobs {
		refs = append(refs, b.Digest)
	}
	m := store.Manifest{Project: project, Repository: "r", Digest: digestOf([]byte(body)),
		MediaType: "application/vnd.oci.image.manifest.v1+json", Body: []byte(body), Blobs: refs}
	if _, err := w.st.PutManifest(t.Context(), m, ""); err != nil {
		t.Fatal(err)
	}
	return m.Digest
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

func kinds(rep FsckReport) []string {
	var out []string
	for _, p := range rep.Problems {
		out = append(out, p.Kind+" "+p.Project+" "+p.Digest[:15])
	}
	sort.Strings(out)
	return out
}

func TestFsck(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	cfg, layer := w.push(t, "p", "config"), w.push(t, "p", "layer")
	w.manifest(t, "p", cfg, layer)
	rep, err := Fsck(ctx, w.st, w.blobs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 0 || rep.Blobs != 2 || rep.Manifests != 1 || rep.Objects != 2 || rep.Projects != 2 || rep.BlobBytes != 11 {
		t.Fatalf("clean fsck = %+v", rep)
	}

	bucket := w.blobs.Bucket()
	key := func(b store.Blob) string {
		k, err := w.blobs.Key(b.Project, b.Digest)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	// missing: the data of a recorded blob is gone.
	missing := w.push(t, "p", "missing")
	if err := bucket.Delete(ctx, key(missing)); err != nil {
		t.Fatal(err)
	}
	// corrupt: one byte of the ciphertext flipped.
	corrupt := w.push(t, "p", "corrupt me please")
	ct, err := bucket.ReadAll(ctx, key(corrupt))
	if err != nil {
		t.Fatal(err)
	}
	ct[len(ct)/2] ^= 1
	if err := bucket.WriteAll(ctx, key(corrupt), ct, nil); err != nil {
		t.Fatal(err)
	}
	// tampered: another blob's ciphertext, key and context swapped in.
	victim, donor := w.push(t, "p", "victim"), w.push(t, "p", "donor!")
	dct, err := bucket.ReadAll(ctx, key(donor))
	if err != nil {
		t.Fatal(err)
	}
	if err := bucket.WriteAll(ctx, key(victim), dct, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.st.DeleteBlob(ctx, "p", victim.Digest); err != nil {
		t.Fatal(err)
	}
	if _, err := w.st.CreateBlob(ctx, store.Blob{Project: "p", Digest: victim.Digest, Size: donor.Size, WrappedKey: donor.WrappedKey, AADContext: donor.AADContext}); err != nil {
		t.Fatal(err)
	}
	// orphaned: data whose record is gone.
	orphan := w.push(t, "q", "orphan")
	if err := w.st.DeleteBlob(ctx, "q", orphan.Digest); err != nil {
		t.Fatal(err)
	}
	// dangling: a manifest naming a blob whose record (and data) is gone.
	gone := w.push(t, "q", "gone")
	w.manifest(t, "q", gone)
	if err := w.st.DeleteBlob(ctx, "q", gone.Digest); err != nil {
		t.Fatal(err)
	}
	if err := bucket.Delete(ctx, key(gone)); err != nil {
		t.Fatal(err)
	}

	rep, err = Fsck(ctx, w.st, w.blobs, nil)
	if err != nil {
		t.Fatal(err)
	}
	var dangling string
	for _, p := range rep.Problems {
		if p.Kind == Dangling {
			dangling = p.Detail
		}
	}
	want := []string{
		"corrupt p " + corrupt.Digest[:15],
		"dangling q " + rep.Problems[0].Digest[:0], // filled below
		"missing p " + missing.Digest[:15],
		"orphaned q " + orphan.Digest[:15],
		"tampered p " + victim.Digest[:15],
	}
	got := kinds(rep)
	// The dangling problem is reported on the manifest; check it by kind.
	want[1] = ""
	for _, g := range got {
		if len(g) > 9 && g[:9] == "dangling " {
			want[1] = g
		}
	}
	sort.Strings(want)
	if !slices.Equal(got, want) || want[0] == "" && want[1] == "" {
		t.Errorf("fsck problems = %v, want %v", got, want)
	}
	if dangling == "" || !bytes.Contains([]byte(dangling), []byte(gone.Digest)) {
		t.Errorf("dangling detail = %q, want it to name %s", dangling, gone.Digest)
	}
}

func TestGC(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	cfg, layer := w.push(t, "p", "config"), w.push(t, "p", "layer")
	w.manifest(t, "p", cfg, layer)
	loose := w.push(t, "p", "loose")
	shared := w.push(t, "q", "layer") // same content, other project, unreferenced there
	orphan := w.push(t, "q", "orphan")
	if err := w.st.DeleteBlob(ctx, "q", orphan.Digest); err != nil {
		t.Fatal(err)
	}
	later := func() time.Time { return time.Now().Add(2 * time.Hour) }

	// Young blobs survive the default minimum age.
	rep, err := GC(ctx, w.st, w.blobs, GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.BlobsDeleted != 0 || rep.OrphansDeleted != 0 {
		t.Errorf("gc of young blobs = %+v, want nothing deleted", rep)
	}
	// A dry run counts without deleting.
	rep, err = GC(ctx, w.st, w.blobs, GCOptions{Now: later, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.BlobsDeleted != 2 || rep.OrphansDeleted != 1 || !rep.DryRun {
		t.Errorf("dry run = %+v, want 2 blobs and 1 orphan counted", rep)
	}
	if _, err := w.st.Blob(ctx, "p", loose.Digest); err != nil {
		t.Errorf("dry run deleted a record: %v", err)
	}
	rep, err = GC(ctx, w.st, w.blobs, GCOptions{Now: later})
	if err != nil {
		t.Fatal(err)
	}
	if rep.BlobsDeleted != 2 || rep.BytesFreed != loose.Size+shared.Size || rep.OrphansDeleted != 1 {
		t.Errorf("gc = %+v", rep)
	}
	for _, b := range []store.Blob{loose, shared} {
		if _, err := w.st.Blob(ctx, b.Project, b.Digest); err == nil {
			t.Errorf("record of unreferenced %s/%s kept", b.Project, b.Digest)
		}
		if ok, _ := w.blobs.Exists(ctx, b.Project, b.Digest); ok {
			t.Errorf("data of unreferenced %s/%s kept", b.Project, b.Digest)
		}
	}
	if ok, _ := w.blobs.Exists(ctx, "q", orphan.Digest); ok {
		t.Error("orphaned data kept")
	}
	for _, b := range []store.Blob{cfg, layer} {
		rec, err := w.st.Blob(ctx, "p", b.Digest)
		if err != nil {
			t.Fatalf("referenced blob deleted: %v", err)
		}
		rc, err := w.blobs.Open(ctx, "p", b.Digest, rec.WrappedKey, rec.AADContext)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Errorf("referenced blob unreadable after gc: %v", err)
		}
		rc.Close()
	}
	if _, err := GC(ctx, w.st, w.blobs, GCOptions{MinAge: -time.Second}); err == nil {
		t.Error("negative minimum age accepted")
	}
}

// legacyStore reports one manifest as stored before references were
// recorded, as a database from schema version 5 would.
type legacyStore struct {
	store.Store
	pending []store.Manifest
}

func (l *legacyStore) ManifestsWithoutRefs(context.Context, int) ([]store.Manifest, error) {
	out := l.pending
	l.pending = nil
	return out, nil
}

func TestGCRecordsReferencesOfOlderManifestsFirst(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	cfg := w.push(t, "p", "old config")
	body := fmt.Sprintf(`{"schemaVersion":2,"config":{"mediaType":"application/octet-stream","digest":%q,"size":%d},"layers":[]}`, cfg.Digest, cfg.Size)
	m := store.Manifest{Project: "p", Repository: "r", Digest: digestOf([]byte(body)), MediaType: "application/vnd.oci.image.manifest.v1+json", Body: []byte(body)}
	// Stored without references, as before schema version 6.
	if _, err := w.st.PutManifest(ctx, m, "v1"); err != nil {
		t.Fatal(err)
	}
	ls := &legacyStore{Store: w.st, pending: []store.Manifest{m}}
	rep, err := GC(ctx, ls, w.blobs, GCOptions{Now: func() time.Time { return time.Now().Add(2 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ManifestsIndexed != 1 || rep.BlobsDeleted != 0 {
		t.Errorf("gc = %+v, want the manifest indexed and its config kept", rep)
	}
	if _, err := w.st.Blob(ctx, "p", cfg.Digest); err != nil {
		t.Errorf("config of an older manifest deleted: %v", err)
	}
}

// TestFsckAuditIndex: with the audit log's storage, fsck counts its
// entries and reports an entry whose search columns were changed in the
// database, naming the entry and the column.
func TestFsckAuditIndex(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	skey, _, err := note.GenerateKey(rand.Reader, "palisade-audit")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	l, err := auditlog.New(auditlog.Options{Store: w.st, Signer: signer, Origin: "palisade.example.test/audit/1"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 3 {
		e := auditlog.Entry{V: auditlog.SchemaVersion, Time: time.Now().UTC().Truncate(time.Millisecond), RequestID: fmt.Sprint("r", i),
			Node: "n", Project: "p", Actor: auditlog.Actor{Kind: auditlog.ActorSystem}, Action: auditlog.ActionMaintenanceGC,
			Object: auditlog.Object{Kind: auditlog.ObjectStore}, Outcome: auditlog.OutcomeAllowed}
		if _, err := l.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	svc := Service{Store: w.st, Blobs: w.blobs, Audit: w.st}
	rep, err := svc.Fsck(ctx)
	if err != nil || len(rep.Problems) != 0 || rep.AuditEntries != 3 {
		t.Fatalf("fsck of an untouched log: %+v, %v", rep, err)
	}
	db, err := sql.Open("sqlite", "file:"+w.path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "UPDATE audit_entries SET project = 'q' WHERE idx = 1"); err != nil {
		t.Fatal(err)
	}
	rep, err = svc.Fsck(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 1 {
		t.Fatalf("problems %+v, want one", rep.Problems)
	}
	p := rep.Problems[0]
	if p.Kind != AuditIndex || p.AuditEntry == nil || *p.AuditEntry != 1 || !strings.Contains(p.Detail, `column project: the index says "q", the entry "p"`) {
		t.Errorf("problem %+v (entry %v)", p, p.AuditEntry)
	}
}
