// Package postgres is store.Store on PostgreSQL through pgx v5 (its
// database/sql adapter), for deployments that run several servers or keep
// metadata in a managed database.
//
// Open migrates the schema up under a PostgreSQL advisory lock (so servers
// starting together migrate once) and refuses a database written by a newer
// Palisade (store.ErrSchemaNewer). Names are stored with the "C" collation,
// so lists are in byte order whatever the database's locale.
//
// The DSN may carry a password; it never appears in errors or logs from this
// package.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/internal/sqlstore"
)

// Options configures Open.
type Options struct {
	// DSN is a PostgreSQL URL or keyword/value connection string, as pgx
	// parses it (postgres://user:pass@host:5432/db?sslmode=verify-full).
	// Extra parameters such as search_path are sent to the server.
	DSN string
	// MaxConns bounds the connection pool; 0 means 10.
	MaxConns int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Logger receives migration progress; nil discards it.
	Logger *slog.Logger
}

// Store is the PostgreSQL metadata store.
type Store struct {
	*sqlstore.Store
}

var _ store.Store = (*Store)(nil)

// Codes from PostgreSQL's errcodes.
const (
	uniqueViolation = "23505"
	checkViolation  = "23514"
)

var dialect = &sqlstore.Dialect{
	Name:     "postgres",
	Numbered: true,
	IsUnique: func(err error) bool {
		var e *pgconn.PgError
		return errors.As(err, &e) && e.Code == uniqueViolation
	},
	IsCheck: func(err error) bool {
		var e *pgconn.PgError
		return errors.As(err, &e) && e.Code == checkViolation
	},
}

// Open connects to the database named by opts.DSN and migrates it.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.DSN == "" {
		return nil, fmt.Errorf("open postgres store: DSN is empty: %w", store.ErrInvalid)
	}
	cfg, err := pgx.ParseConfig(opts.DSN)
	if err != nil {
		// pgx's parse errors redact the password, but do not risk it.
		return nil, errors.New("open postgres store: cannot parse the DSN")
	}
	db := sql.OpenDB(stdlib.GetConnector(*cfg))
	conns := opts.MaxConns
	if conns <= 0 {
		conns = 10
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres store on %s: %w", where(cfg), err)
	}
	if err := sqlstore.Migrate(ctx, db, dialect, opts.Logger); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres store on %s: %w", where(cfg), err)
	}
	return &Store{sqlstore.New(sqlstore.Config{Write: db, Read: db, Dialect: dialect, Now: opts.Now})}, nil
}

// where names the server and database without credentials.
func where(cfg *pgx.ConnConfig) string {
	return fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
}
