package sqlite_test

import (
	"crypto/sha256"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/palisade-sec/palisade/internal/store/internal/sqlstore"
)

// TestUpgradeToIdentities plays a database of schema version 6, with an
// admin and a read-only token, and opens it with this binary: both tokens
// must belong to the system administrator "admin", the read-only one
// scoped to reader on every project.
func TestUpgradeToIdentities(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := sqlstore.Migrations("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(t.Context(), 6); err != nil {
		t.Fatal(err)
	}
	for i, role := range []string{"admin", "read-only"} {
		h := sha256.Sum256([]byte(role))
		if _, err := db.ExecContext(t.Context(), `INSERT INTO api_tokens (id, name, role, hash, created_at) VALUES (?, ?, ?, ?, ?)`,
			role, role, role, h[:], 1000+i); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s := openTemp(t, path)
	admin, err := s.Principal(t.Context(), "admin")
	if err != nil {
		t.Fatalf("the upgrade created no admin principal: %v", err)
	}
	if !admin.Admin || admin.Name != "admin" || admin.Clearance != "restricted" || admin.Created.UnixMicro() != 1000 {
		t.Errorf("admin principal = %+v", admin)
	}
	for id, scope := range map[string]string{"admin": "", "read-only": "*:reader"} {
		tok, err := s.Token(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if tok.PrincipalID != "admin" || tok.Scope != scope {
			t.Errorf("token %s: owner %q scope %q, want admin and %q", id, tok.PrincipalID, tok.Scope, scope)
		}
	}
}
