package projectkeys

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gocloud.dev/secrets"
	"gocloud.dev/secrets/localsecrets"

	"github.com/palisade-sec/palisade/internal/crypto"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

type env struct {
	st     store.Store
	m      *Manager
	master *secrets.Keeper
	legacy *crypto.Envelope
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), sqlite.Options{Path: filepath.Join(t.TempDir(), "db")})
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
	legacy, err := crypto.NewEnvelope(master, crypto.Options{KeyID: "local:kek.key"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Options{Store: st, Master: master, MasterKeyID: "local:kek.key", Legacy: legacy, Grace: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return &env{st: st, m: m, master: master, legacy: legacy}
}

func (e *env) project(t *testing.T, name string) {
	t.Helper()
	if _, err := e.st.CreateProject(t.Context(), store.Project{Name: name, KeyID: "k"}); err != nil {
		t.Fatal(err)
	}
}

// seal encrypts plaintext for the project and records it as a blob.
func (e *env) seal(t *testing.T, project, digest string, plaintext []byte) (ciphertext, wrapped []byte) {
	t.Helper()
	s, _ := e.m.Sealer(t.Context(), project)
	var buf bytes.Buffer
	wrapped, err := s.Encrypt(t.Context(), &buf, bytes.NewReader(plaintext), []byte(digest))
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	if _, err := e.st.CreateBlob(t.Context(), store.Blob{Project: project, Digest: digest, Size: int64(len(plaintext)), WrappedKey: wrapped}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), wrapped
}

// open decrypts a blob with its recorded key.
func (e *env) open(project, digest string, ciphertext []byte) ([]byte, error) {
	ctx := context.Background()
	b, err := e.st.Blob(ctx, project, digest)
	if err != nil {
		return nil, err
	}
	s, _ := e.m.Sealer(ctx, project)
	r, err := s.Decrypt(ctx, bytes.NewReader(ciphertext), b.WrappedKey, []byte(digest))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func TestFirstKeyCreatedOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.project(t, "p")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, _ := e.m.Sealer(t.Context(), "p")
			w, err := s.Encrypt(t.Context(), io.Discard, bytes.NewReader([]byte{byte(i)}), nil)
			if err == nil {
				var id string
				if id, err = crypto.WrappedKeyID(w); err == nil && id != "project-key:v1" {
					err = fmt.Errorf("data key names %q", id)
				}
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	keys, err := e.st.ProjectKeys(t.Context(), "p")
	if err != nil || len(keys) != 1 || keys[0].Version != 1 || keys[0].MasterKeyID != "local:kek.key" {
		t.Errorf("keys = %+v, %v; want exactly v1", keys, err)
	}
}

func TestProjectsHaveSeparateKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.project(t, "a")
	e.project(t, "b")
	ct, _ := e.seal(t, "a", "d1", []byte("secret weights"))
	got, err := e.open("a", "d1", ct)
	if err != nil || string(got) != "secret weights" {
		t.Fatalf("open = %q, %v", got, err)
	}
	// The same ciphertext and wrapped key, presented as project b's, do
	// not decrypt: b's key is another key.
	b, _ := e.st.Blob(t.Context(), "a", "d1")
	if _, err := e.st.CreateBlob(t.Context(), store.Blob{Project: "b", Digest: "d1", Size: b.Size, WrappedKey: b.WrappedKey}); err != nil {
		t.Fatal(err)
	}
	e.seal(t, "b", "d2", []byte("x")) // gives b its own key
	if _, err := e.open("b", "d1", ct); !errors.Is(err, crypto.ErrDecrypt) {
		t.Errorf("project a's blob opened as project b's: %v, want ErrDecrypt", err)
	}
}

func TestLegacyMasterWrappedKeysDecryptAndRotate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.project(t, "p")
	var buf bytes.Buffer
	wrapped, err := e.legacy.Encrypt(t.Context(), &buf, bytes.NewReader([]byte("old blob")), []byte("d"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.CreateBlob(t.Context(), store.Blob{Project: "p", Digest: "d", Size: 8, WrappedKey: wrapped}); err != nil {
		t.Fatal(err)
	}
	if got, err := e.open("p", "d", buf.Bytes()); err != nil || string(got) != "old blob" {
		t.Fatalf("legacy open = %q, %v", got, err)
	}
	rep, err := e.m.Rotate(t.Context(), "p")
	if err != nil {
		t.Fatal(err)
	}
	if rep.NewVersion != 1 || rep.Rewrapped != 1 {
		t.Errorf("rotation = %+v, want the legacy key moved to v1", rep)
	}
	b, _ := e.st.Blob(t.Context(), "p", "d")
	if id, _ := crypto.WrappedKeyID(b.WrappedKey); id != "project-key:v1" {
		t.Errorf("after rotation the data key names %q", id)
	}
	if got, err := e.open("p", "d", buf.Bytes()); err != nil || string(got) != "old blob" {
		t.Errorf("open after rotation = %q, %v", got, err)
	}
}

func TestRotate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.project(t, "p")
	e.m.page = 50
	cts := map[string][]byte{}
	for i := range 120 { // more than two scan pages
		d := fmt.Sprintf("d%04d", i)
		cts[d], _ = e.seal(t, "p", d, []byte(d))
	}
	before, _ := e.st.Blob(t.Context(), "p", "d0000")
	rep, err := e.m.Rotate(t.Context(), "p")
	if err != nil {
		t.Fatal(err)
	}
	if rep.NewVersion != 2 || rep.Rewrapped != 120 || len(rep.Destroyed) != 1 || rep.Destroyed[0] != 1 {
		t.Errorf("rotation = %+v", rep)
	}
	keys, _ := e.st.ProjectKeys(t.Context(), "p")
	if len(keys) != 1 || keys[0].Version != 2 {
		t.Errorf("keys after rotation = %+v, want only v2", keys)
	}
	for d, ct := range cts {
		if got, err := e.open("p", d, ct); err != nil || string(got) != d {
			t.Fatalf("open %s after rotation = %q, %v", d, got, err)
		}
	}
	// The old wrapped key is useless now: its key version is destroyed,
	// in the store and in memory.
	s, _ := e.m.Sealer(t.Context(), "p")
	if _, err := s.Decrypt(t.Context(), bytes.NewReader(cts["d0000"]), before.WrappedKey, []byte("d0000")); !errors.Is(err, ErrNoKey) {
		t.Errorf("decrypt with a pre-rotation data key = %v, want ErrNoKey", err)
	}
	// A second rotation goes to v3.
	if rep, err := e.m.Rotate(t.Context(), "p"); err != nil || rep.NewVersion != 3 {
		t.Errorf("second rotation = %+v, %v", rep, err)
	}
}

// TestCurrentRewrapsACommitThatStartedBeforeRotation: a blob encrypted
// under v1 whose record is written after v2 exists is moved to v2 by
// Current, so destroying v1 loses nothing.
func TestCurrentRewrapsACommitThatStartedBeforeRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.project(t, "p")
	s, _ := e.m.Sealer(t.Context(), "p")
	var buf bytes.Buffer
	wrapped, err := s.Encrypt(t.Context(), &buf, bytes.NewReader([]byte("in flight")), []byte("d"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Rotate(t.Context(), "p"); err != nil { // v1 -> v2, v1 destroyed
		t.Fatal(err)
	}
	if _, err := e.m.Current(t.Context(), "p", wrapped); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Current after v1 was destroyed = %v, want ErrNoKey (nothing can save it)", err)
	}
	// Within the grace period v1 still exists: Current moves the key.
	var buf2 bytes.Buffer
	wrapped2, err := s.Encrypt(t.Context(), &buf2, bytes.NewReader([]byte("in flight 2")), []byte("d2"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.newVersion(t.Context(), "p", 3); err != nil {
		t.Fatal(err)
	}
	cur, err := e.m.Current(t.Context(), "p", wrapped2)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := crypto.WrappedKeyID(cur); id != "project-key:v3" {
		t.Errorf("Current returned a key under %q, want v3", id)
	}
	if _, err := e.st.CreateBlob(t.Context(), store.Blob{Project: "p", Digest: "d2", Size: 11, WrappedKey: cur}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.DeleteProjectKey(t.Context(), "p", 2); err != nil {
		t.Fatal(err)
	}
	e.m.forget("p")
	if got, err := e.open("p", "d2", buf2.Bytes()); err != nil || string(got) != "in flight 2" {
		t.Errorf("open after the old version is gone = %q, %v", got, err)
	}
	if same, err := e.m.Current(t.Context(), "p", cur); err != nil || !bytes.Equal(same, cur) {
		t.Errorf("Current of a current key changed it: %v", err)
	}
}

func TestShred(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.project(t, "p")
	e.project(t, "q")
	ct, _ := e.seal(t, "p", "d", []byte("erase me"))
	qct, _ := e.seal(t, "q", "d", []byte("keep me"))
	b, _ := e.st.Blob(t.Context(), "p", "d")
	keys, _ := e.st.ProjectKeys(t.Context(), "p")
	rep, err := e.m.Shred(t.Context(), "p")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.KeyVersions) != 1 || rep.KeyVersions[0] != 1 || rep.Usage.Blobs != 1 || rep.Usage.BlobBytes != 8 {
		t.Errorf("shred report = %+v", rep)
	}
	if _, err := e.st.Project(t.Context(), "p"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("project after shred: %v", err)
	}
	// Even with the old records restored (a database backup), the data
	// does not decrypt under the project's new key.
	e.project(t, "p")
	if _, err := e.st.CreateBlob(t.Context(), store.Blob{Project: "p", Digest: "d", Size: 8, WrappedKey: b.WrappedKey}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.open("p", "d", ct); !errors.Is(err, ErrNoKey) {
		t.Errorf("shredded blob opened: %v, want ErrNoKey", err)
	}
	e.seal(t, "p", "d2", []byte("new life")) // creates a fresh v1
	if _, err := e.open("p", "d", ct); !errors.Is(err, crypto.ErrDecrypt) {
		t.Errorf("shredded blob opened under the recreated project's key: %v, want ErrDecrypt", err)
	}
	// Only a restored copy of the destroyed wrapped key could decrypt it,
	// which is why backups matter (docs/registry.md).
	if err := e.st.DeleteProjectKey(t.Context(), "p", 1); err != nil {
		t.Fatal(err)
	}
	if err := e.st.CreateProjectKey(t.Context(), "p", keys[0]); err != nil {
		t.Fatal(err)
	}
	e.m.forget("p")
	if got, err := e.open("p", "d", ct); err != nil || string(got) != "erase me" {
		t.Errorf("with the destroyed key restored from a backup: %q, %v", got, err)
	}
	if got, err := e.open("q", "d", qct); err != nil || string(got) != "keep me" {
		t.Errorf("another project after shred: %q, %v", got, err)
	}
	if _, err := e.m.Shred(t.Context(), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("shred unknown project = %v", err)
	}
}

func TestWrongMasterKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.project(t, "p")
	ct, _ := e.seal(t, "p", "d", []byte("x"))
	key, _ := localsecrets.NewRandomKey()
	other := localsecrets.NewKeeper(key)
	defer other.Close()
	m2, err := New(Options{Store: e.st, Master: other})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := e.st.Blob(t.Context(), "p", "d")
	s, _ := m2.Sealer(t.Context(), "p")
	if _, err := s.Decrypt(t.Context(), bytes.NewReader(ct), b.WrappedKey, []byte("d")); err == nil {
		t.Error("decrypted with another master key")
	}
}

// TestRewrapMaster replaces the master key: with the old one configured
// as previous every blob still opens, RewrapMaster moves the project keys
// under the new one, and then the old key is no longer needed.
func TestRewrapMaster(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.project(t, "p")
	e.project(t, "q")
	ctP, _ := e.seal(t, "p", "d", []byte("weights"))
	ctQ, _ := e.seal(t, "q", "d", []byte("dataset"))
	if _, err := e.m.Rotate(t.Context(), "p"); err != nil { // p has v2 only; q has v1
		t.Fatal(err)
	}
	key, err := localsecrets.NewRandomKey()
	if err != nil {
		t.Fatal(err)
	}
	newMaster := localsecrets.NewKeeper(key)
	defer newMaster.Close()
	open := func(m *Manager, project string, ct []byte) (string, error) {
		b, err := e.st.Blob(t.Context(), project, "d")
		if err != nil {
			return "", err
		}
		s, _ := m.Sealer(t.Context(), project)
		r, err := s.Decrypt(t.Context(), bytes.NewReader(ct), b.WrappedKey, []byte("d"))
		if err != nil {
			return "", err
		}
		got, err := io.ReadAll(r)
		return string(got), err
	}
	// Without the previous key the new master opens nothing.
	alone, err := New(Options{Store: e.st, Master: newMaster, MasterKeyID: "new"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := open(alone, "p", ctP); err == nil {
		t.Fatal("a project key opened with a master key that never wrapped it")
	}
	m, err := New(Options{Store: e.st, Master: newMaster, MasterKeyID: "new", Previous: e.master, PreviousKeyID: "local:kek.key"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := open(m, "p", ctP); err != nil || got != "weights" {
		t.Fatalf("open with the previous master configured = %q, %v", got, err)
	}
	rep, err := m.RewrapMaster(t.Context(), e.st)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Projects != 2 || rep.Rewrapped != 2 || rep.Current != 0 {
		t.Errorf("RewrapMaster = %+v, want 2 projects, 2 versions rewrapped", rep)
	}
	again, err := m.RewrapMaster(t.Context(), e.st)
	if err != nil || again.Rewrapped != 0 || again.Current != 2 {
		t.Errorf("second RewrapMaster = %+v, %v; want nothing left to do", again, err)
	}
	// Now the new master alone opens everything.
	fresh, err := New(Options{Store: e.st, Master: newMaster, MasterKeyID: "new"})
	if err != nil {
		t.Fatal(err)
	}
	for project, want := range map[string]string{"p": "weights", "q": "dataset"} {
		ct := ctP
		if project == "q" {
			ct = ctQ
		}
		if got, err := open(fresh, project, ct); err != nil || got != want {
			t.Errorf("%s after RewrapMaster with the new master only = %q, %v", project, got, err)
		}
	}
	keys, _ := e.st.ProjectKeys(t.Context(), "q")
	if len(keys) != 1 || keys[0].MasterKeyID != "new" {
		t.Errorf("q's key records master %+v, want new", keys)
	}
}
