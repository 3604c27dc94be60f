package sqlstore

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMigrationsInStep checks that both dialects have the same migration
// files and create the same tables and indexes.
func TestMigrationsInStep(t *testing.T) {
	t.Parallel()
	objects := regexp.MustCompile(`CREATE (?:TABLE|INDEX) (\w+)`)
	list := func(dialect string) (names, created []string) {
		fsys, err := Migrations(dialect)
		if err != nil {
			t.Fatal(err)
		}
		names, err = fs.Glob(fsys, "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			b, err := fs.ReadFile(fsys, n)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range objects.FindAllStringSubmatch(string(b), -1) {
				created = append(created, m[1])
			}
		}
		return names, created
	}
	sn, sc := list("sqlite")
	pn, pc := list("postgres")
	if len(sn) == 0 {
		t.Fatal("no migrations embedded")
	}
	if diff := cmp.Diff(sn, pn); diff != "" {
		t.Errorf("migration files, sqlite vs postgres (-sqlite +postgres):\n%s", diff)
	}
	if diff := cmp.Diff(sc, pc); diff != "" {
		t.Errorf("created objects (-sqlite +postgres):\n%s", diff)
	}
	for _, d := range []string{"sqlite", "postgres"} {
		// Versions are sequential from 1: the newest is the file count.
		v, err := SchemaVersion(d)
		if err != nil || int(v) != len(sn) {
			t.Errorf("SchemaVersion(%s) = %d, %v; want %d", d, v, err, len(sn))
		}
	}
}

func TestRebind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		numbered bool
		want     string
	}{
		{"SELECT a FROM t WHERE b = ? AND c > ?", true, "SELECT a FROM t WHERE b = $1 AND c > $2"},
		{"SELECT a FROM t WHERE b = ? AND c > ?", false, "SELECT a FROM t WHERE b = ? AND c > ?"},
		{"SELECT 1", true, "SELECT 1"},
	}
	for _, tt := range tests {
		if got := rebind(tt.in, tt.numbered); got != tt.want {
			t.Errorf("rebind(%q, %v) = %q, want %q", tt.in, tt.numbered, got, tt.want)
		}
	}
	// Every registered query must be free of literal question marks other
	// than placeholders: none has quotes around a ?.
	for _, q := range allQueries {
		if regexp.MustCompile(`'[^']*\?[^']*'`).MatchString(q) {
			t.Errorf("query has a ? inside a literal: %s", q)
		}
	}
}
