package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// stmtCache runs the store's fixed queries as prepared statements, so
// that the database parses each once per connection rather than on every
// call (about 40% of a manifest GET's CPU on SQLite otherwise). Queries it
// was not told about (ListArtifacts builds its filters) run unprepared.
type stmtCache struct {
	db    *sql.DB
	fixed map[string]bool

	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB, fixed map[string]bool) *stmtCache {
	return &stmtCache{db: db, fixed: fixed, stmts: map[string]*sql.Stmt{}}
}

// stmt returns the prepared statement of q, preparing it on first use;
// nil for a query that is not fixed or that fails to prepare (the caller
// then runs it unprepared, which reports the error).
func (c *stmtCache) stmt(ctx context.Context, q string) *sql.Stmt {
	if !c.fixed[q] {
		return nil
	}
	c.mu.RLock()
	st := c.stmts[q]
	c.mu.RUnlock()
	if st != nil {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stmts[q]; st != nil {
		return st
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	c.stmts[q] = st
	return st
}

// QueryRowContext implements queryer.
func (c *stmtCache) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := c.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return c.db.QueryRowContext(ctx, q, args...)
}

// QueryContext runs a query that returns rows.
func (c *stmtCache) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := c.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return c.db.QueryContext(ctx, q, args...)
}

// Close closes the statements (not the database).
func (c *stmtCache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, st := range c.stmts {
		errs = append(errs, st.Close())
		delete(c.stmts, q)
	}
	return errors.Join(errs...)
}
