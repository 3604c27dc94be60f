// Package sqlstore implements store.Store on database/sql for the SQLite and
// PostgreSQL drivers, which supply the connections, the dialect (migrations,
// placeholders, how a uniqueness violation looks) and nothing else, so that
// both run the same queries with the same semantics. It also owns the
// embedded, versioned goose migrations.
//
// Queries are written with ? placeholders and rewritten once for
// PostgreSQL ($1, $2, ...); none contains a literal question mark.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/palisade-sec/palisade/internal/store"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Migrations returns the embedded migration files of a dialect ("sqlite" or
// "postgres").
func Migrations(dialect string) (fs.FS, error) {
	return fs.Sub(migrations, "migrations/"+dialect)
}

// Migrate brings db up to the newest embedded schema of the dialect. It
// refuses (store.ErrSchemaNewer) a database that has a migration this binary
// does not know, before changing anything. On PostgreSQL, concurrent
// Migrate calls serialise on an advisory lock.
func Migrate(ctx context.Context, db *sql.DB, d *Dialect, log *slog.Logger) error {
	fsys, err := Migrations(d.Name)
	if err != nil {
		return fmt.Errorf("migrations of %s: %w", d.Name, err)
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	var dialect goose.Dialect
	switch d.Name {
	case "sqlite":
		dialect = goose.DialectSQLite3
	case "postgres":
		dialect = goose.DialectPostgres
		// Retry the advisory lock every second (goose's default is five)
		// for up to five minutes.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	default:
		return fmt.Errorf("migrate: unknown dialect %q", d.Name)
	}
	p, err := goose.NewProvider(dialect, db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	sources := p.ListSources()
	newest := sources[len(sources)-1].Version
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > newest {
		return fmt.Errorf("schema version %d, this binary knows up to %d: %w", current, newest, store.ErrSchemaNewer)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate schema from version %d to %d: %w", current, newest, err)
	}
	return nil
}

// SchemaVersion returns the newest schema version embedded for the dialect.
func SchemaVersion(dialect string) (int64, error) {
	fsys, err := Migrations(dialect)
	if err != nil {
		return 0, err
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return 0, err
	}
	var newest int64
	for _, n := range names {
		v, err := goose.NumericComponent(n)
		if err != nil {
			return 0, fmt.Errorf("migration %s: %w", n, err)
		}
		newest = max(newest, v)
	}
	return newest, nil
}
