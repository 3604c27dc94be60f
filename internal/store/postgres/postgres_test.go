package postgres_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/postgres"
	"github.com/palisade-sec/palisade/internal/store/storetest"
	"github.com/palisade-sec/palisade/internal/testutil/testenv"
)

// dsn returns the test PostgreSQL's DSN, or skips (testenv).
func dsn(t *testing.T) string { return testenv.PostgresDSN(t) }

// schemaDSN returns a DSN of a fresh schema (testenv).
func schemaDSN(t *testing.T) string { return testenv.PostgresSchema(t) }

func admin(t *testing.T, dsn, sql string) {
	t.Helper()
	ctx := context.Background() // also used in Cleanup, after t.Context is done
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func open(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), postgres.Options{DSN: dsn})
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
	dsn(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, schemaDSN(t)) })
}

// TestReopen checks that Open on a migrated database keeps its data, and
// that concurrent Opens of a fresh database migrate it once.
func TestReopen(t *testing.T) {
	t.Parallel()
	d := schemaDSN(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := postgres.Open(t.Context(), postgres.Options{DSN: d})
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Open: %v", err)
		}
	}
	s := open(t, d)
	if _, err := s.CreateProject(t.Context(), store.Project{Name: "p", KeyID: "k"}); err != nil {
		t.Fatal(err)
	}
	s2 := open(t, d)
	if _, err := s2.Project(t.Context(), "p"); err != nil {
		t.Errorf("Project after reopen: %v", err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	d := schemaDSN(t)
	open(t, d)
	admin(t, d, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (999, true)")
	_, err := postgres.Open(t.Context(), postgres.Options{DSN: d})
	if !errors.Is(err, store.ErrSchemaNewer) {
		t.Fatalf("Open of a newer database: error = %v, want ErrSchemaNewer", err)
	}
}

// TestErrorsHidePassword checks that a failed Open does not echo the DSN's
// password.
func TestErrorsHidePassword(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("nobody", "hunter2-secret")
	u.Path = "/no_such_db"
	for _, d := range []string{u.String(), "postgres://x:hunter2-secret@[::1"} {
		_, err := postgres.Open(t.Context(), postgres.Options{DSN: d})
		if err == nil {
			t.Fatalf("Open(%s) succeeded", d)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestOpenWithoutDSN(t *testing.T) {
	t.Parallel()
	_, err := postgres.Open(t.Context(), postgres.Options{})
	if !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Open without DSN: error = %v, want ErrInvalid", err)
	}
}
