package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/palisade-sec/palisade/internal/store"
)

// The audit log's tables. Entries and hashes are only ever inserted.

const (
	auditCols         = `idx, data, time, request_id, action, actor, project, repository, digest, outcome`
	qAuditMaxIdx      = `SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_entries`
	qAuditCheckpoint  = `INSERT INTO audit_checkpoints (size, note, created_at) VALUES (?, ?, ?) ON CONFLICT (size) DO UPDATE SET note = excluded.note, created_at = excluded.created_at`
	qAuditLatest      = `SELECT size, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1`
	qAuditCheckpoints = `SELECT size, note FROM audit_checkpoints WHERE size > ? ORDER BY size LIMIT ?`
	qAuditEntries     = `SELECT ` + auditCols + ` FROM audit_entries WHERE idx >= ? ORDER BY idx LIMIT ?`
	qAuditKey         = `SELECT wrapped, verifier FROM audit_keys WHERE id = ?`
	qAuditKeyInsert   = `INSERT INTO audit_keys (id, wrapped, verifier, created_at) VALUES (?, ?, ?, ?)`
	qAuditSubject     = `SELECT wrapped, epoch FROM audit_subjects WHERE principal_id = ?`
	qAuditSubjectIns  = `INSERT INTO audit_subjects (principal_id, wrapped, epoch, created_at) VALUES (?, ?, ?, ?)`
	qAuditSubjectDel  = `DELETE FROM audit_subjects WHERE principal_id = ?`
	qAuditSearchStart = `SELECT ` + auditCols + ` FROM audit_entries WHERE idx > ?`
	// auditLockKey is the PostgreSQL advisory lock of the sequencer.
	auditLockKey = 7_430_117_001
)

// maxAuditPage bounds one read of entries.
const maxAuditPage = 10_000

// AuditAppend implements store.Store. On PostgreSQL the transaction takes
// an advisory lock first, so that appenders on every server take turns;
// SQLite has one writer anyway.
func (s *Store) AuditAppend(ctx context.Context, fn func(store.AuditTx) error) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if s.d.Name == "postgres" {
			if _, err := tx.ExecContext(ctx, fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", auditLockKey)); err != nil {
				return fmt.Errorf("take the audit log's lock: %w", err)
			}
		}
		return fn(&auditTx{s: s, tx: tx})
	})
}

type auditTx struct {
	s  *Store
	tx *sql.Tx
}

func (a *auditTx) Size(ctx context.Context) (int64, error) {
	var n int64
	if err := a.tx.QueryRowContext(ctx, a.s.sqlOf(qAuditMaxIdx)).Scan(&n); err != nil {
		return 0, fmt.Errorf("audit log size: %w", err)
	}
	return n, nil
}

func (a *auditTx) Hashes(ctx context.Context, ids []int64) ([][sha256.Size]byte, error) {
	return a.s.hashesIn(ctx, a.tx, ids)
}

type rowsQueryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// hashesIn reads stored hashes in one query per 500 IDs.
func (s *Store) hashesIn(ctx context.Context, q rowsQueryer, ids []int64) ([][sha256.Size]byte, error) {
	found := make(map[int64][sha256.Size]byte, len(ids))
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		query := `SELECT id, hash FROM audit_hashes WHERE id IN (?` + strings.Repeat(`, ?`, len(chunk)-1) + `)`
		rows, err := q.QueryContext(ctx, rebind(query, s.d.Numbered), args...)
		if err != nil {
			return nil, fmt.Errorf("read audit hashes: %w", err)
		}
		for rows.Next() {
			var id int64
			var h []byte
			if err := rows.Scan(&id, &h); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read audit hashes: %w", err)
			}
			if len(h) != sha256.Size {
				rows.Close()
				return nil, fmt.Errorf("audit hash %d has %d bytes", id, len(h))
			}
			found[id] = [sha256.Size]byte(h)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("read audit hashes: %w", err)
		}
	}
	out := make([][sha256.Size]byte, len(ids))
	for i, id := range ids {
		h, ok := found[id]
		if !ok {
			return nil, fmt.Errorf("audit hash %d: %w", id, store.ErrNotFound)
		}
		out[i] = h
	}
	return out, nil
}

func (a *auditTx) Insert(ctx context.Context, recs []store.AuditRecord, hs []store.AuditHash) error {
	// One statement per kind and batch: a round trip per row would cap
	// the append rate on PostgreSQL.
	for start := 0; start < len(recs); start += 500 {
		chunk := recs[start:min(start+500, len(recs))]
		args := make([]any, 0, 10*len(chunk))
		for _, r := range chunk {
			args = append(args, r.Index, r.Data, micros(r.Time), r.RequestID, r.Action, r.Actor, r.Project, r.Repository, r.Digest, r.Outcome)
		}
		q := `INSERT INTO audit_entries (` + auditCols + `) VALUES ` + placeholders(len(chunk), 10)
		if _, err := a.tx.ExecContext(ctx, rebind(q, a.s.d.Numbered), args...); err != nil {
			if a.s.d.IsUnique(err) {
				return fmt.Errorf("audit entries from %d: %w", chunk[0].Index, store.ErrExists)
			}
			return fmt.Errorf("insert audit entries from %d: %w", chunk[0].Index, err)
		}
	}
	for start := 0; start < len(hs); start += 1000 {
		chunk := hs[start:min(start+1000, len(hs))]
		args := make([]any, 0, 2*len(chunk))
		for _, h := range chunk {
			args = append(args, h.ID, h.Hash[:])
		}
		q := `INSERT INTO audit_hashes (id, hash) VALUES ` + placeholders(len(chunk), 2)
		if _, err := a.tx.ExecContext(ctx, rebind(q, a.s.d.Numbered), args...); err != nil {
			if a.s.d.IsUnique(err) {
				return fmt.Errorf("audit hashes from %d: %w", chunk[0].ID, store.ErrExists)
			}
			return fmt.Errorf("insert audit hashes from %d: %w", chunk[0].ID, err)
		}
	}
	return nil
}

// placeholders returns rows groups of cols ? placeholders: "(?, ?), (?, ?)".
func placeholders(rows, cols int) string {
	one := "(?" + strings.Repeat(", ?", cols-1) + ")"
	return one + strings.Repeat(", "+one, rows-1)
}

func (a *auditTx) PutCheckpoint(ctx context.Context, size int64, note []byte) error {
	_, ts := a.s.stamp()
	if _, err := a.tx.ExecContext(ctx, a.s.sqlOf(qAuditCheckpoint), size, note, ts); err != nil {
		return fmt.Errorf("record audit checkpoint %d: %w", size, err)
	}
	return nil
}

func (a *auditTx) Checkpoint(ctx context.Context) (int64, []byte, error) {
	var size int64
	var note []byte
	err := a.tx.QueryRowContext(ctx, a.s.sqlOf(qAuditLatest)).Scan(&size, &note)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, fmt.Errorf("audit checkpoint: %w", store.ErrNotFound)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("read audit checkpoint: %w", err)
	}
	return size, note, nil
}

// AuditSize implements store.Store.
func (s *Store) AuditSize(ctx context.Context) (int64, error) {
	var n int64
	if err := s.read.QueryRowContext(ctx, s.sqlOf(qAuditMaxIdx)).Scan(&n); err != nil {
		return 0, fmt.Errorf("audit log size: %w", err)
	}
	return n, nil
}

// AuditEntries implements store.Store.
func (s *Store) AuditEntries(ctx context.Context, start int64, n int) ([]store.AuditRecord, error) {
	if n <= 0 || n > maxAuditPage {
		n = maxAuditPage
	}
	rows, err := s.read.QueryContext(ctx, s.sqlOf(qAuditEntries), start, n)
	if err != nil {
		return nil, fmt.Errorf("read audit entries from %d: %w", start, err)
	}
	return scanAudit(rows)
}

func scanAudit(rows *sql.Rows) ([]store.AuditRecord, error) {
	defer rows.Close()
	var out []store.AuditRecord
	for rows.Next() {
		var r store.AuditRecord
		var t int64
		if err := rows.Scan(&r.Index, &r.Data, &t, &r.RequestID, &r.Action, &r.Actor, &r.Project, &r.Repository, &r.Digest, &r.Outcome); err != nil {
			return nil, fmt.Errorf("read audit entries: %w", err)
		}
		r.Time = fromMicros(t)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit entries: %w", err)
	}
	return out, nil
}

// AuditHashes implements store.Store.
func (s *Store) AuditHashes(ctx context.Context, ids []int64) ([][sha256.Size]byte, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return s.hashesIn(ctx, s.readDB, ids)
}

// AuditCheckpoint implements store.Store.
func (s *Store) AuditCheckpoint(ctx context.Context) (int64, []byte, error) {
	var size int64
	var note []byte
	err := s.read.QueryRowContext(ctx, s.sqlOf(qAuditLatest)).Scan(&size, &note)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, fmt.Errorf("audit checkpoint: %w", store.ErrNotFound)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("read audit checkpoint: %w", err)
	}
	return size, note, nil
}

// AuditSearch implements store.Store.
func (s *Store) AuditSearch(ctx context.Context, q store.AuditQuery) ([]store.AuditRecord, error) {
	query := qAuditSearchStart
	args := []any{q.After}
	if !q.From.IsZero() {
		query += ` AND time >= ?`
		args = append(args, micros(q.From))
	}
	if !q.To.IsZero() {
		query += ` AND time < ?`
		args = append(args, micros(q.To))
	}
	for _, f := range []struct{ col, v string }{
		{"actor", q.Actor}, {"action", q.Action}, {"project", q.Project}, {"repository", q.Repository},
		{"digest", q.Digest}, {"outcome", q.Outcome},
	} {
		if f.v != "" {
			query += ` AND ` + f.col + ` = ?`
			args = append(args, f.v)
		}
	}
	n := q.N
	if n <= 0 || n > maxAuditPage {
		n = maxAuditPage
	}
	query += ` ORDER BY idx LIMIT ?`
	args = append(args, n)
	rows, err := s.read.QueryContext(ctx, rebind(query, s.d.Numbered), args...)
	if err != nil {
		return nil, fmt.Errorf("search the audit log: %w", err)
	}
	return scanAudit(rows)
}

// AuditKey implements store.Store.
func (s *Store) AuditKey(ctx context.Context, id string) ([]byte, string, error) {
	var w []byte
	var v string
	err := s.read.QueryRowContext(ctx, s.sqlOf(qAuditKey), id).Scan(&w, &v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", fmt.Errorf("audit key %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, "", fmt.Errorf("read audit key %q: %w", id, err)
	}
	return w, v, nil
}

// CreateAuditKey implements store.Store.
func (s *Store) CreateAuditKey(ctx context.Context, id string, wrapped []byte, verifier string) error {
	_, ts := s.stamp()
	if _, err := s.write.ExecContext(ctx, s.sqlOf(qAuditKeyInsert), id, wrapped, verifier, ts); err != nil {
		if s.d.IsUnique(err) {
			return fmt.Errorf("create audit key %q: %w", id, store.ErrExists)
		}
		return fmt.Errorf("create audit key %q: %w", id, err)
	}
	return nil
}

// AuditSubject implements store.Store.
func (s *Store) AuditSubject(ctx context.Context, principalID string) ([]byte, int, error) {
	var w []byte
	var epoch int
	err := s.read.QueryRowContext(ctx, s.sqlOf(qAuditSubject), principalID).Scan(&w, &epoch)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, fmt.Errorf("audit subject %q: %w", principalID, store.ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read audit subject %q: %w", principalID, err)
	}
	return w, epoch, nil
}

// CreateAuditSubject implements store.Store.
func (s *Store) CreateAuditSubject(ctx context.Context, principalID string, wrapped []byte, epoch int) error {
	_, ts := s.stamp()
	if _, err := s.write.ExecContext(ctx, s.sqlOf(qAuditSubjectIns), principalID, wrapped, epoch, ts); err != nil {
		if s.d.IsUnique(err) {
			return fmt.Errorf("create audit subject %q: %w", principalID, store.ErrExists)
		}
		return fmt.Errorf("create audit subject %q: %w", principalID, err)
	}
	return nil
}

// DeleteAuditSubject implements store.Store.
func (s *Store) DeleteAuditSubject(ctx context.Context, principalID string) error {
	res, err := s.write.ExecContext(ctx, s.sqlOf(qAuditSubjectDel), principalID)
	if err != nil {
		return fmt.Errorf("delete audit subject %q: %w", principalID, err)
	}
	return affected(res, fmt.Sprintf("audit subject %q", principalID))
}

// AuditCheckpoints implements store.Store.
func (s *Store) AuditCheckpoints(ctx context.Context, after int64, n int) ([]store.AuditCheckpoint, error) {
	if n <= 0 || n > maxAuditPage {
		n = maxAuditPage
	}
	rows, err := s.read.QueryContext(ctx, s.sqlOf(qAuditCheckpoints), after, n)
	if err != nil {
		return nil, fmt.Errorf("read audit checkpoints: %w", err)
	}
	defer rows.Close()
	var out []store.AuditCheckpoint
	for rows.Next() {
		var c store.AuditCheckpoint
		if err := rows.Scan(&c.Size, &c.Note); err != nil {
			return nil, fmt.Errorf("read audit checkpoints: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit checkpoints: %w", err)
	}
	return out, nil
}

// RewrapAudit implements store.Store.
func (s *Store) RewrapAudit(ctx context.Context, rewrap func([]byte) ([]byte, bool, error)) (int, error) {
	changed := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, t := range []struct{ table, key string }{{"audit_keys", "id"}, {"audit_subjects", "principal_id"}} {
			rows, err := tx.QueryContext(ctx, `SELECT `+t.key+`, wrapped FROM `+t.table)
			if err != nil {
				return fmt.Errorf("read %s: %w", t.table, err)
			}
			type row struct {
				id      string
				wrapped []byte
			}
			var all []row
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.id, &r.wrapped); err != nil {
					rows.Close()
					return fmt.Errorf("read %s: %w", t.table, err)
				}
				all = append(all, r)
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return fmt.Errorf("read %s: %w", t.table, err)
			}
			for _, r := range all {
				w, ok, err := rewrap(r.wrapped)
				if err != nil {
					return fmt.Errorf("rewrap %s %q: %w", t.table, r.id, err)
				}
				if !ok {
					continue
				}
				q := rebind(`UPDATE `+t.table+` SET wrapped = ? WHERE `+t.key+` = ?`, s.d.Numbered)
				if _, err := tx.ExecContext(ctx, q, w, r.id); err != nil {
					return fmt.Errorf("rewrap %s %q: %w", t.table, r.id, err)
				}
				changed++
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return changed, nil
}
