package sqlite_test

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
	"github.com/palisade-sec/palisade/internal/store/storetest"
)

func openTemp(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), sqlite.Options{Path: path})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTemp(t, filepath.Join(t.TempDir(), "meta.db"))
	})
}

// TestPragmas checks the settings the package promises.
func TestPragmas(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "meta.db")
	openTemp(t, path)
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
}

// TestReopen checks that Open on a migrated database keeps its data.
func TestReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := sqlite.Open(t.Context(), sqlite.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateProject(t.Context(), store.Project{Name: "p", KeyID: "k"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openTemp(t, path)
	if _, err := s2.Project(t.Context(), "p"); err != nil {
		t.Errorf("Project after reopen: %v", err)
	}
}

// TestNewDatabaseOwnerOnly: a database the store creates, and its WAL
// files, are readable by their owner only; an existing file keeps its
// mode (the operator's choice). Under the usual umask (022) SQLite alone
// would create them 0644.
func TestNewDatabaseOwnerOnly(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := sqlite.Open(t.Context(), sqlite.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateProject(t.Context(), store.Project{Name: "p", KeyID: "k"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), m)
		}
	}
	shared := filepath.Join(t.TempDir(), "shared.db")
	if err := os.WriteFile(shared, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	s2, err := sqlite.Open(t.Context(), sqlite.Options{Path: shared})
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if fi, err := os.Stat(shared); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("an existing database's mode changed: %v, %v", fi.Mode(), err)
	}
}

// TestNewerSchemaRefused checks that a database migrated by a newer binary
// is refused before anything is changed.
func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "meta.db")
	s := openTemp(t, path)
	_ = s
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), "INSERT INTO goose_db_version (version_id, is_applied) VALUES (999, 1)"); err != nil {
		t.Fatal(err)
	}
	_, err = sqlite.Open(t.Context(), sqlite.Options{Path: path})
	if !errors.Is(err, store.ErrSchemaNewer) {
		t.Fatalf("Open of a newer database: error = %v, want ErrSchemaNewer", err)
	}
}

func TestOpenWithoutPath(t *testing.T) {
	t.Parallel()
	_, err := sqlite.Open(t.Context(), sqlite.Options{})
	if !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Open without path: error = %v, want ErrInvalid", err)
	}
}

// TestManifestsWithoutRefs plays a database from before schema version 6,
// whose manifests have no recorded references, and fills them in.
func TestManifestsWithoutRefs(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "meta.db")
	s := openTemp(t, path)
	ctx := t.Context()
	if _, err := s.CreateProject(ctx, store.Project{Name: "p", KeyID: "k"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsureRepository(ctx, "p", "r"); err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"schemaVersion":2}`)
	m := store.Manifest{Project: "p", Repository: "r", Digest: "sha256:" + strings.Repeat("a", 64), MediaType: "application/vnd.oci.image.manifest.v1+json", Body: body}
	if _, err := s.PutManifest(ctx, m, "v1"); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `UPDATE manifests SET refs_recorded = FALSE`); err != nil {
		t.Fatal(err)
	}
	ms, err := s.ManifestsWithoutRefs(ctx, 10)
	if err != nil || len(ms) != 1 || ms[0].Project != "p" || ms[0].Repository != "r" || ms[0].Digest != m.Digest || string(ms[0].Body) != string(body) {
		t.Fatalf("ManifestsWithoutRefs = %+v, %v", ms, err)
	}
	if err := s.SetManifestRefs(ctx, "p", "r", m.Digest, nil); err != nil {
		t.Fatal(err)
	}
	if ms, err := s.ManifestsWithoutRefs(ctx, 10); err != nil || len(ms) != 0 {
		t.Errorf("after SetManifestRefs: %+v, %v", ms, err)
	}
}
