package sqlstore

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/palisade-sec/palisade/internal/store"
)

// Dialect is what a driver tells the shared implementation about its
// database.
type Dialect struct {
	// Name is "sqlite" or "postgres": it picks the migrations.
	Name string
	// Numbered rewrites ? placeholders as $1, $2, ... (PostgreSQL).
	Numbered bool
	// IsUnique reports whether err is a uniqueness (unique or primary key)
	// violation.
	IsUnique func(err error) bool
	// IsCheck reports whether err is a CHECK constraint violation.
	IsCheck func(err error) bool
}

// Config configures a Store.
type Config struct {
	// Write runs every transaction and write. For SQLite it is a pool of
	// one connection, so writers queue in Go instead of failing with
	// SQLITE_BUSY.
	Write *sql.DB
	// Read runs single-statement reads; it may be Write.
	Read    *sql.DB
	Dialect *Dialect
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Store implements store.Store on database/sql.
type Store struct {
	write, readDB *sql.DB
	// read runs single-statement reads on readDB, prepared.
	read *stmtCache
	d    *Dialect
	now  func() time.Time
	q    map[string]string // rewritten queries, by their ? form
}

var _ store.Store = (*Store)(nil)

// New returns a Store on already migrated databases.
func New(c Config) *Store {
	now := c.Now
	if now == nil {
		now = time.Now
	}
	s := &Store{write: c.Write, readDB: c.Read, d: c.Dialect, now: now, q: map[string]string{}}
	if s.readDB == nil {
		s.readDB = s.write
	}
	fixed := map[string]bool{}
	for _, q := range allQueries {
		s.q[q] = rebind(q, c.Dialect.Numbered)
		fixed[s.q[q]] = true
	}
	s.read = newStmtCache(s.readDB, fixed)
	return s
}

// Close closes the prepared statements and both pools.
func (s *Store) Close() error {
	err := errors.Join(s.read.Close(), s.write.Close())
	if s.readDB != s.write {
		err = errors.Join(err, s.readDB.Close())
	}
	return err
}

func rebind(q string, numbered bool) string {
	if !numbered {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// sqlOf returns the dialect's form of query q, which must be in allQueries.
func (s *Store) sqlOf(q string) string {
	r, ok := s.q[q]
	if !ok {
		panic("sqlstore: query not registered: " + q)
	}
	return r
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromNullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

func (s *Store) stamp() (time.Time, int64) {
	t := s.now().UTC().Truncate(time.Microsecond)
	return t, micros(t)
}

// inTx runs fn in a write transaction and commits it when fn succeeds.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const (
	qProjectID = `SELECT id FROM projects WHERE name = ?`
	qRepoID    = `SELECT r.id FROM repositories r JOIN projects p ON p.id = r.project_id WHERE p.name = ? AND r.name = ?`
)

func (s *Store) projectID(ctx context.Context, q queryer, project string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, s.sqlOf(qProjectID), project).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("project %q: %w", project, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("look up project %q: %w", project, err)
	}
	return id, nil
}

func (s *Store) repoID(ctx context.Context, q queryer, project, repo string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, s.sqlOf(qRepoID), project, repo).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("repository %q in project %q: %w", repo, project, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("look up repository %q in project %q: %w", repo, project, err)
	}
	return id, nil
}

func invalid(what string) error { return fmt.Errorf("%s is empty: %w", what, store.ErrInvalid) }

// Projects.

const (
	qInsertProject = `INSERT INTO projects (name, key_id, created_at) VALUES (?, ?, ?)`
	projectCols    = `name, key_id, quota_bytes, quota_artifacts, created_at`
	qProject       = `SELECT ` + projectCols + ` FROM projects WHERE name = ?`
	qProjects      = `SELECT ` + projectCols + ` FROM projects ORDER BY name`
	qSetQuota      = `UPDATE projects SET quota_bytes = ?, quota_artifacts = ? WHERE name = ?`
)

// CreateProject implements store.Store.
func (s *Store) CreateProject(ctx context.Context, p store.Project) (store.Project, error) {
	if p.Name == "" {
		return store.Project{}, invalid("project name")
	}
	t, ts := s.stamp()
	_, err := s.write.ExecContext(ctx, s.sqlOf(qInsertProject), p.Name, p.KeyID, ts)
	if err != nil {
		if s.d.IsUnique(err) {
			return store.Project{}, fmt.Errorf("create project %q: %w", p.Name, store.ErrExists)
		}
		return store.Project{}, fmt.Errorf("create project %q: %w", p.Name, err)
	}
	p.Created = t
	return p, nil
}

// Project implements store.Store.
func (s *Store) Project(ctx context.Context, name string) (store.Project, error) {
	var p store.Project
	var created int64
	err := s.read.QueryRowContext(ctx, s.sqlOf(qProject), name).Scan(&p.Name, &p.KeyID, &p.Quota.Bytes, &p.Quota.Artifacts, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Project{}, fmt.Errorf("project %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return store.Project{}, fmt.Errorf("read project %q: %w", name, err)
	}
	p.Created = fromMicros(created)
	return p, nil
}

// ListProjects implements store.Store.
func (s *Store) ListProjects(ctx context.Context) ([]store.Project, error) {
	rows, err := s.read.QueryContext(ctx, s.sqlOf(qProjects))
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	defer rows.Close()
	var out []store.Project
	for rows.Next() {
		var p store.Project
		var created int64
		if err := rows.Scan(&p.Name, &p.KeyID, &p.Quota.Bytes, &p.Quota.Artifacts, &created); err != nil {
			return nil, fmt.Errorf("list projects: %w", err)
		}
		p.Created = fromMicros(created)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	return out, nil
}

// SetQuota implements store.Store.
func (s *Store) SetQuota(ctx context.Context, project string, q store.Quota) error {
	if q.Bytes < 0 || q.Artifacts < 0 {
		return fmt.Errorf("set quota of %q: a quota is zero (unlimited) or positive: %w", project, store.ErrInvalid)
	}
	res, err := s.write.ExecContext(ctx, s.sqlOf(qSetQuota), q.Bytes, q.Artifacts, project)
	if err != nil {
		return fmt.Errorf("set quota of %q: %w", project, err)
	}
	return affected(res, fmt.Sprintf("project %q", project))
}

// Repositories.

const (
	qInsertRepo = `INSERT INTO repositories (project_id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (project_id, name) DO NOTHING`
	qRepo       = `SELECT r.created_at FROM repositories r JOIN projects p ON p.id = r.project_id WHERE p.name = ? AND r.name = ?`
	qRepos      = `SELECT name, created_at FROM repositories WHERE project_id = ? AND name > ? ORDER BY name LIMIT ?`
)

// EnsureRepository implements store.Store.
func (s *Store) EnsureRepository(ctx context.Context, project, name string) (store.Repository, error) {
	if name == "" {
		return store.Repository{}, invalid("repository name")
	}
	var r store.Repository
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		pid, err := s.projectID(ctx, tx, project)
		if err != nil {
			return err
		}
		_, ts := s.stamp()
		if _, err := tx.ExecContext(ctx, s.sqlOf(qInsertRepo), pid, name, ts); err != nil {
			return fmt.Errorf("create repository %q in project %q: %w", name, project, err)
		}
		r, err = s.repository(ctx, tx, project, name)
		return err
	})
	if err != nil {
		return store.Repository{}, err
	}
	return r, nil
}

func (s *Store) repository(ctx context.Context, q queryer, project, name string) (store.Repository, error) {
	var created int64
	err := q.QueryRowContext(ctx, s.sqlOf(qRepo), project, name).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Repository{}, fmt.Errorf("repository %q in project %q: %w", name, project, store.ErrNotFound)
	}
	if err != nil {
		return store.Repository{}, fmt.Errorf("read repository %q in project %q: %w", name, project, err)
	}
	return store.Repository{Project: project, Name: name, Created: fromMicros(created)}, nil
}

// Repository implements store.Store.
func (s *Store) Repository(ctx context.Context, project, name string) (store.Repository, error) {
	return s.repository(ctx, s.read, project, name)
}

// limit turns Page.N into a LIMIT value (-1 is "no limit" for SQLite but
// an error for PostgreSQL, so use the largest int64 instead).
func limit(n int) int64 {
	if n <= 0 {
		return 1<<63 - 1
	}
	return int64(n)
}

// ListRepositories implements store.Store.
func (s *Store) ListRepositories(ctx context.Context, project string, page store.Page) ([]store.Repository, error) {
	pid, err := s.projectID(ctx, s.read, project)
	if err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, s.sqlOf(qRepos), pid, page.Last, limit(page.N))
	if err != nil {
		return nil, fmt.Errorf("list repositories of project %q: %w", project, err)
	}
	defer rows.Close()
	var out []store.Repository
	for rows.Next() {
		r := store.Repository{Project: project}
		var created int64
		if err := rows.Scan(&r.Name, &created); err != nil {
			return nil, fmt.Errorf("list repositories of project %q: %w", project, err)
		}
		r.Created = fromMicros(created)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list repositories of project %q: %w", project, err)
	}
	return out, nil
}

// Blobs.

const (
	qInsertBlob = `INSERT INTO blobs (project_id, digest, size, media_type, wrapped_key, aad_context, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`
	qBlob       = `SELECT b.size, b.media_type, b.wrapped_key, b.aad_context, b.created_at FROM blobs b JOIN projects p ON p.id = b.project_id WHERE p.name = ? AND b.digest = ?`
	qDeleteBlob = `DELETE FROM blobs WHERE project_id = (SELECT id FROM projects WHERE name = ?) AND digest = ?`
)

// CreateBlob implements store.Store.
func (s *Store) CreateBlob(ctx context.Context, b store.Blob) (store.Blob, error) {
	switch {
	case b.Digest == "":
		return store.Blob{}, invalid("blob digest")
	case len(b.WrappedKey) == 0:
		return store.Blob{}, invalid("wrapped data key")
	case b.Size < 0:
		return store.Blob{}, fmt.Errorf("blob size %d is negative: %w", b.Size, store.ErrInvalid)
	}
	t, ts := s.stamp()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		pid, err := s.projectID(ctx, tx, b.Project)
		if err != nil {
			return err
		}
		if err := s.checkBytesQuota(ctx, tx, pid, b); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.sqlOf(qInsertBlob), pid, b.Digest, b.Size, b.MediaType, b.WrappedKey, b.AADContext, ts)
		if err != nil {
			if s.d.IsUnique(err) {
				return fmt.Errorf("create blob %s in project %q: %w", b.Digest, b.Project, store.ErrExists)
			}
			return fmt.Errorf("create blob %s in project %q: %w", b.Digest, b.Project, err)
		}
		return nil
	})
	if err != nil {
		return store.Blob{}, err
	}
	b.Created = t
	b.WrappedKey = append([]byte(nil), b.WrappedKey...)
	return b, nil
}

// Blob implements store.Store.
func (s *Store) Blob(ctx context.Context, project, digest string) (store.Blob, error) {
	b := store.Blob{Project: project, Digest: digest}
	var created int64
	err := s.read.QueryRowContext(ctx, s.sqlOf(qBlob), project, digest).Scan(&b.Size, &b.MediaType, &b.WrappedKey, &b.AADContext, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Blob{}, fmt.Errorf("blob %s in project %q: %w", digest, project, store.ErrNotFound)
	}
	if err != nil {
		return store.Blob{}, fmt.Errorf("read blob %s in project %q: %w", digest, project, err)
	}
	b.Created = fromMicros(created)
	return b, nil
}

// DeleteBlob implements store.Store.
func (s *Store) DeleteBlob(ctx context.Context, project, digest string) error {
	res, err := s.write.ExecContext(ctx, s.sqlOf(qDeleteBlob), project, digest)
	if err != nil {
		return fmt.Errorf("delete blob %s in project %q: %w", digest, project, err)
	}
	return affected(res, fmt.Sprintf("blob %s in project %q", digest, project))
}

func affected(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: rows affected: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}

// Manifests and tags.

const (
	qInsertManifest = `INSERT INTO manifests (repository_id, digest, media_type, artifact_type, subject, size, body, created_at, kind, classification, owner, description, framework, format, license, model_card, labels, data_tags, refs_recorded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, TRUE) ON CONFLICT (repository_id, digest) DO NOTHING`
	qUpsertTag      = `INSERT INTO tags (repository_id, name, manifest_digest, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (repository_id, name) DO UPDATE SET manifest_digest = excluded.manifest_digest, updated_at = excluded.updated_at`
	manifestCols    = `m.digest, m.media_type, m.artifact_type, m.subject, m.size, m.body, m.created_at, ` + metaCols
	metaCols        = `m.kind, m.classification, m.owner, m.description, m.framework, m.format, m.license, m.model_card, m.labels, m.data_tags`
	qManifest       = `SELECT ` + manifestCols + ` FROM manifests m WHERE m.repository_id = ? AND m.digest = ?`
	qManifestByTag  = `SELECT ` + manifestCols + ` FROM tags t JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.manifest_digest WHERE t.repository_id = ? AND t.name = ?`
	qReferrers      = `SELECT ` + manifestCols + ` FROM manifests m WHERE m.repository_id = ? AND m.subject = ? AND m.subject <> '' ORDER BY m.digest`
	qReferrersType  = `SELECT ` + manifestCols + ` FROM manifests m WHERE m.repository_id = ? AND m.subject = ? AND m.subject <> '' AND m.artifact_type = ? ORDER BY m.digest`
	qHasManifest    = `SELECT 1 FROM manifests WHERE repository_id = ? AND digest = ?`
	qDeleteManifest = `DELETE FROM manifests WHERE repository_id = ? AND digest = ?`
	qDeleteTag      = `DELETE FROM tags WHERE repository_id = ? AND name = ?`
	qTags           = `SELECT name FROM tags WHERE repository_id = ? AND name > ? ORDER BY name LIMIT ?`
)

// PutManifest implements store.Store.
func (s *Store) PutManifest(ctx context.Context, m store.Manifest, tag string) (store.Manifest, error) {
	switch {
	case m.Digest == "":
		return store.Manifest{}, invalid("manifest digest")
	case m.MediaType == "":
		return store.Manifest{}, invalid("manifest media type")
	}
	meta, labels, err := normalizeMeta(m.Meta)
	if err != nil {
		return store.Manifest{}, fmt.Errorf("put manifest %s in %s/%s: %w", m.Digest, m.Project, m.Repository, err)
	}
	_, ts := s.stamp()
	m.Size = int64(len(m.Body))
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		rid, err := s.repoID(ctx, tx, m.Project, m.Repository)
		if err != nil {
			return err
		}
		args := append([]any{rid, m.Digest, m.MediaType, m.ArtifactType, m.Subject, m.Size, m.Body, ts}, metaArgs(meta, labels)...)
		res, err := tx.ExecContext(ctx, s.sqlOf(qInsertManifest), args...)
		if err != nil {
			return fmt.Errorf("put manifest %s in %s/%s: %w", m.Digest, m.Project, m.Repository, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("put manifest %s in %s/%s: %w", m.Digest, m.Project, m.Repository, err)
		} else if n == 1 {
			if err := s.checkArtifactQuota(ctx, tx, rid, m.Project); err != nil {
				return err
			}
			if err := s.insertRefs(ctx, tx, rid, m.Project, m.Digest, m.Blobs, true); err != nil {
				return fmt.Errorf("put manifest %s in %s/%s: %w", m.Digest, m.Project, m.Repository, err)
			}
		}
		if tag != "" {
			if _, err := tx.ExecContext(ctx, s.sqlOf(qUpsertTag), rid, tag, m.Digest, ts); err != nil {
				return s.tagError(err, m.Project, m.Repository, tag)
			}
		}
		stored, err := s.manifest(ctx, tx, rid, m.Project, m.Repository, m.Digest)
		m = stored
		return err
	})
	if err != nil {
		return store.Manifest{}, err
	}
	return m, nil
}

func scanManifest(sc interface{ Scan(...any) error }, project, repo string) (store.Manifest, error) {
	m := store.Manifest{Project: project, Repository: repo}
	var (
		created int64
		class   string
		labels  string
		tags    string
	)
	mt := &m.Meta
	if err := sc.Scan(&m.Digest, &m.MediaType, &m.ArtifactType, &m.Subject, &m.Size, &m.Body, &created,
		&mt.Kind, &class, &mt.Owner, &mt.Description, &mt.Framework, &mt.Format, &mt.License, &mt.ModelCard, &labels, &tags); err != nil {
		return store.Manifest{}, err
	}
	if tags != "" {
		mt.DataTags = strings.Split(tags, ",")
	}
	mt.Classification = store.Classification(class)
	if err := json.Unmarshal([]byte(labels), &mt.Labels); err != nil {
		return store.Manifest{}, fmt.Errorf("manifest %s: labels: %w", m.Digest, err)
	}
	if m.Body == nil {
		m.Body = []byte{}
	}
	m.Created = fromMicros(created)
	return m, nil
}

func (s *Store) manifest(ctx context.Context, q queryer, rid int64, project, repo, digest string) (store.Manifest, error) {
	m, err := scanManifest(q.QueryRowContext(ctx, s.sqlOf(qManifest), rid, digest), project, repo)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Manifest{}, fmt.Errorf("manifest %s in %s/%s: %w", digest, project, repo, store.ErrNotFound)
	}
	if err != nil {
		return store.Manifest{}, fmt.Errorf("read manifest %s in %s/%s: %w", digest, project, repo, err)
	}
	return m, nil
}

// Manifest implements store.Store.
func (s *Store) Manifest(ctx context.Context, project, repo, digest string) (store.Manifest, error) {
	rid, err := s.repoID(ctx, s.read, project, repo)
	if err != nil {
		return store.Manifest{}, err
	}
	return s.manifest(ctx, s.read, rid, project, repo, digest)
}

// ManifestByTag implements store.Store.
func (s *Store) ManifestByTag(ctx context.Context, project, repo, tag string) (store.Manifest, error) {
	rid, err := s.repoID(ctx, s.read, project, repo)
	if err != nil {
		return store.Manifest{}, err
	}
	m, err := scanManifest(s.read.QueryRowContext(ctx, s.sqlOf(qManifestByTag), rid, tag), project, repo)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Manifest{}, fmt.Errorf("tag %s/%s:%s: %w", project, repo, tag, store.ErrNotFound)
	}
	if err != nil {
		return store.Manifest{}, fmt.Errorf("resolve tag %s/%s:%s: %w", project, repo, tag, err)
	}
	return m, nil
}

// DeleteManifest implements store.Store. Tags naming the manifest go with it
// (ON DELETE CASCADE).
func (s *Store) DeleteManifest(ctx context.Context, project, repo, digest string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		rid, err := s.repoID(ctx, tx, project, repo)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.sqlOf(qDeleteManifest), rid, digest)
		if err != nil {
			return fmt.Errorf("delete manifest %s in %s/%s: %w", digest, project, repo, err)
		}
		return affected(res, fmt.Sprintf("manifest %s in %s/%s", digest, project, repo))
	})
}

// Referrers implements store.Store.
func (s *Store) Referrers(ctx context.Context, project, repo, subject, artifactType string) ([]store.Manifest, error) {
	rid, err := s.repoID(ctx, s.read, project, repo)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rows *sql.Rows
	if artifactType == "" {
		rows, err = s.read.QueryContext(ctx, s.sqlOf(qReferrers), rid, subject)
	} else {
		rows, err = s.read.QueryContext(ctx, s.sqlOf(qReferrersType), rid, subject, artifactType)
	}
	if err != nil {
		return nil, fmt.Errorf("list referrers of %s in %s/%s: %w", subject, project, repo, err)
	}
	defer rows.Close()
	var out []store.Manifest
	for rows.Next() {
		m, err := scanManifest(rows, project, repo)
		if err != nil {
			return nil, fmt.Errorf("list referrers of %s in %s/%s: %w", subject, project, repo, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list referrers of %s in %s/%s: %w", subject, project, repo, err)
	}
	return out, nil
}

// normalizeMeta fills metadata defaults, checks the classification and
// encodes the labels (JSON with sorted keys, so that label filters can
// match the text).
func normalizeMeta(meta store.ArtifactMeta) (store.ArtifactMeta, string, error) {
	if meta.Kind == "" {
		meta.Kind = store.KindArtifact
	}
	if meta.Classification == "" {
		meta.Classification = store.Internal
	}
	if !meta.Classification.Valid() {
		return meta, "", fmt.Errorf("classification %.40q: want public, internal, confidential or restricted: %w", meta.Classification, store.ErrInvalid)
	}
	if meta.Labels == nil {
		meta.Labels = map[string]string{}
	}
	for _, t := range meta.DataTags {
		if t == "" || strings.ContainsAny(t, ", ") {
			return meta, "", fmt.Errorf("data tag %.40q: want a word without commas or spaces: %w", t, store.ErrInvalid)
		}
	}
	meta.DataTags = slices.Compact(slices.Sorted(slices.Values(meta.DataTags)))
	b, err := json.Marshal(meta.Labels)
	if err != nil {
		return meta, "", fmt.Errorf("encode labels: %w", err)
	}
	return meta, string(b), nil
}

func metaArgs(m store.ArtifactMeta, labels string) []any {
	return []any{m.Kind, string(m.Classification), m.Owner, m.Description, m.Framework, m.Format, m.License, m.ModelCard, labels, strings.Join(m.DataTags, ",")}
}

const (
	qSetMeta      = `UPDATE manifests SET kind = ?, classification = ?, owner = ?, description = ?, framework = ?, format = ?, license = ?, model_card = ?, labels = ?, data_tags = ? WHERE repository_id = ? AND digest = ?`
	qClassOf      = `SELECT classification FROM manifests WHERE repository_id = ? AND digest = ?`
	qInsertChange = `INSERT INTO classification_changes (repository_id, digest, old_level, new_level, actor, reason, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)`
	qChanges      = `SELECT old_level, new_level, actor, reason, changed_at FROM classification_changes WHERE repository_id = ? AND digest = ? ORDER BY id`
	qTagsOf       = `SELECT name FROM tags WHERE repository_id = ? AND manifest_digest = ? ORDER BY name`
	// qArtifacts lists a project's manifests after a cursor; the filters
	// are appended by ListArtifacts.
	qArtifacts = `SELECT r.name, ` + manifestCols + ` FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE r.project_id = ? AND (r.name > ? OR (r.name = ? AND m.digest > ?))`
)

// SetArtifactMeta implements store.Store.
func (s *Store) SetArtifactMeta(ctx context.Context, project, repo, digest string, meta store.ArtifactMeta, change *store.ClassificationChange) error {
	meta, labels, err := normalizeMeta(meta)
	if err != nil {
		return fmt.Errorf("set metadata of %s in %s/%s: %w", digest, project, repo, err)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		rid, err := s.repoID(ctx, tx, project, repo)
		if err != nil {
			return err
		}
		var old string
		err = tx.QueryRowContext(ctx, s.lock(qClassOf, "UPDATE"), rid, digest).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("manifest %s in %s/%s: %w", digest, project, repo, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("set metadata of %s in %s/%s: %w", digest, project, repo, err)
		}
		if change != nil && change.From != "" && string(change.From) != old {
			// The caller decided on a classification that has changed
			// since: writing now could lower what someone else raised.
			return fmt.Errorf("set metadata of %s in %s/%s: its classification changed to %s meanwhile: %w", digest, project, repo, old, store.ErrConflict)
		}
		if old != string(meta.Classification) {
			if change == nil || change.Actor == "" {
				return fmt.Errorf("set metadata of %s in %s/%s: a classification change needs its actor: %w", digest, project, repo, store.ErrInvalid)
			}
			_, ts := s.stamp()
			if _, err := tx.ExecContext(ctx, s.sqlOf(qInsertChange), rid, digest, old, string(meta.Classification), change.Actor, change.Reason, ts); err != nil {
				return fmt.Errorf("record classification change of %s in %s/%s: %w", digest, project, repo, err)
			}
		}
		args := append(metaArgs(meta, labels), rid, digest)
		res, err := tx.ExecContext(ctx, s.sqlOf(qSetMeta), args...)
		if err != nil {
			return fmt.Errorf("set metadata of %s in %s/%s: %w", digest, project, repo, err)
		}
		return affected(res, fmt.Sprintf("manifest %s in %s/%s", digest, project, repo))
	})
}

// TagsOf implements store.Store.
func (s *Store) TagsOf(ctx context.Context, project, repo, digest string) ([]string, error) {
	rid, err := s.repoID(ctx, s.read, project, repo)
	if err != nil {
		return nil, err
	}
	return s.tagsOf(ctx, rid, digest)
}

func (s *Store) tagsOf(ctx context.Context, rid int64, digest string) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, s.sqlOf(qTagsOf), rid, digest)
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", digest, err)
	}
	defer rows.Close()
	tags := []string{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("list tags of %s: %w", digest, err)
		}
		tags = append(tags, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", digest, err)
	}
	return tags, nil
}

// likeEscape escapes LIKE's wildcards in s (with \ as the escape).
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ListArtifacts implements store.Store.
func (s *Store) ListArtifacts(ctx context.Context, project string, f store.ArtifactFilter, page store.Page) ([]store.Artifact, error) {
	pid, err := s.projectID(ctx, s.read, project)
	if err != nil {
		return nil, err
	}
	lastRepo, lastDigest, _ := strings.Cut(page.Last, "@")
	q := qArtifacts
	args := []any{pid, lastRepo, lastRepo, lastDigest}
	if f.Repository != "" {
		q += ` AND r.name = ?`
		args = append(args, f.Repository)
	}
	if f.Kind != "" {
		q += ` AND m.kind = ?`
		args = append(args, f.Kind)
	}
	if f.Classification != "" {
		q += ` AND m.classification = ?`
		args = append(args, string(f.Classification))
	}
	if len(f.AtMost) > 0 {
		q += ` AND m.classification IN (?` + strings.Repeat(`, ?`, len(f.AtMost)-1) + `)`
		for _, c := range f.AtMost {
			args = append(args, string(c))
		}
	}
	if f.Query != "" {
		pat := "%" + likeEscape(strings.ToLower(f.Query)) + "%"
		q += ` AND (LOWER(r.name) LIKE ? ESCAPE '\' OR LOWER(m.description) LIKE ? ESCAPE '\')`
		args = append(args, pat, pat)
	}
	keys := make([]string, 0, len(f.Labels))
	for k := range f.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kv, err := json.Marshal(map[string]string{k: f.Labels[k]})
		if err != nil {
			return nil, fmt.Errorf("list artifacts: %w", err)
		}
		// {"k":"v"} -> match "k":"v" followed by , or } in the stored object.
		pair := string(kv[1 : len(kv)-1])
		q += ` AND (m.labels LIKE ? ESCAPE '\' OR m.labels LIKE ? ESCAPE '\')`
		args = append(args, "%"+likeEscape(pair)+",%", "%"+likeEscape(pair)+"}")
	}
	q += ` ORDER BY r.name, m.digest LIMIT ?`
	args = append(args, limit(page.N))
	rows, err := s.read.QueryContext(ctx, rebind(q, s.d.Numbered), args...)
	if err != nil {
		return nil, fmt.Errorf("list artifacts of %s: %w", project, err)
	}
	var out []store.Artifact
	var rids []string
	func() {
		defer rows.Close()
		for rows.Next() {
			var repo string
			sc := scanFunc(func(dest ...any) error { return rows.Scan(append([]any{&repo}, dest...)...) })
			var m store.Manifest
			if m, err = scanManifest(sc, project, ""); err != nil {
				return
			}
			m.Repository = repo
			out = append(out, store.Artifact{Manifest: m})
			rids = append(rids, repo)
		}
		err = rows.Err()
	}()
	if err != nil {
		return nil, fmt.Errorf("list artifacts of %s: %w", project, err)
	}
	for i := range out {
		if out[i].Tags, err = s.TagsOf(ctx, project, rids[i], out[i].Digest); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scanFunc adapts a function to the Scan method scanManifest wants.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// tagError reports a failed tag write; the schema refuses tags longer than
// 128 bytes (the OCI limit) with a CHECK constraint.
func (s *Store) tagError(err error, project, repo, tag string) error {
	if s.d.IsCheck(err) {
		return fmt.Errorf("tag %s/%s: %d bytes long, at most 128: %w", project, repo, len(tag), store.ErrInvalid)
	}
	return fmt.Errorf("tag %s/%s:%s: %w", project, repo, tag, err)
}

// SetTag implements store.Store.
func (s *Store) SetTag(ctx context.Context, project, repo, tag, digest string) error {
	if tag == "" {
		return invalid("tag")
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		rid, err := s.repoID(ctx, tx, project, repo)
		if err != nil {
			return err
		}
		var one int
		err = tx.QueryRowContext(ctx, s.sqlOf(qHasManifest), rid, digest).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("manifest %s in %s/%s: %w", digest, project, repo, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("look up manifest %s in %s/%s: %w", digest, project, repo, err)
		}
		_, ts := s.stamp()
		if _, err := tx.ExecContext(ctx, s.sqlOf(qUpsertTag), rid, tag, digest, ts); err != nil {
			return s.tagError(err, project, repo, tag)
		}
		return nil
	})
}

// DeleteTag implements store.Store.
func (s *Store) DeleteTag(ctx context.Context, project, repo, tag string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		rid, err := s.repoID(ctx, tx, project, repo)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.sqlOf(qDeleteTag), rid, tag)
		if err != nil {
			return fmt.Errorf("delete tag %s/%s:%s: %w", project, repo, tag, err)
		}
		return affected(res, fmt.Sprintf("tag %s/%s:%s", project, repo, tag))
	})
}

// ListTags implements store.Store.
func (s *Store) ListTags(ctx context.Context, project, repo string, page store.Page) ([]string, error) {
	rid, err := s.repoID(ctx, s.read, project, repo)
	if err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, s.sqlOf(qTags), rid, page.Last, limit(page.N))
	if err != nil {
		return nil, fmt.Errorf("list tags of %s/%s: %w", project, repo, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("list tags of %s/%s: %w", project, repo, err)
		}
		out = append(out, name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tags of %s/%s: %w", project, repo, err)
	}
	return out, nil
}

// API tokens.

const (
	qInsertToken = `INSERT INTO api_tokens (id, name, principal_id, scope, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`
	tokenCols    = `id, name, principal_id, scope, hash, created_at, expires_at, last_used_at, revoked_at`
	qToken       = `SELECT ` + tokenCols + ` FROM api_tokens WHERE id = ?`
	qTokenByHash = `SELECT ` + tokenCols + ` FROM api_tokens WHERE hash = ?`
	qTokens      = `SELECT ` + tokenCols + ` FROM api_tokens ORDER BY id`
	qTouchToken  = `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`
	qRevokeToken = `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`
	qTokenExists = `SELECT 1 FROM api_tokens WHERE id = ?`
)

// CreateToken implements store.Store.
func (s *Store) CreateToken(ctx context.Context, t store.Token) (store.Token, error) {
	switch {
	case t.ID == "":
		return store.Token{}, invalid("token ID")
	case t.PrincipalID == "":
		return store.Token{}, invalid("token owner")
	}
	created, ts := s.stamp()
	var expires sql.NullInt64
	if !t.Expires.IsZero() {
		expires = sql.NullInt64{Int64: micros(t.Expires), Valid: true}
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, s.sqlOf(qPrincipalExists), t.PrincipalID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("principal %q: %w", t.PrincipalID, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.sqlOf(qInsertToken), t.ID, t.Name, t.PrincipalID, t.Scope, t.Hash[:], ts, expires)
		return err
	})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Token{}, fmt.Errorf("create token %q: %w", t.ID, err)
		}
		// The message names the token ID only: never the hash.
		if s.d.IsUnique(err) {
			return store.Token{}, fmt.Errorf("create token %q: %w", t.ID, store.ErrExists)
		}
		return store.Token{}, fmt.Errorf("create token %q: %w", t.ID, err)
	}
	t.Created, t.LastUsed, t.Revoked = created, time.Time{}, time.Time{}
	if !t.Expires.IsZero() {
		t.Expires = fromMicros(micros(t.Expires))
	}
	return t, nil
}

func scanToken(sc interface{ Scan(...any) error }) (store.Token, error) {
	var t store.Token
	var hash []byte
	var created int64
	var owner sql.NullString
	var expires, used, revoked sql.NullInt64
	if err := sc.Scan(&t.ID, &t.Name, &owner, &t.Scope, &hash, &created, &expires, &used, &revoked); err != nil {
		return store.Token{}, err
	}
	t.PrincipalID = owner.String
	t.Expires = fromNullMicros(expires)
	if len(hash) != sha256.Size {
		return store.Token{}, fmt.Errorf("token %q has a %d-byte hash", t.ID, len(hash))
	}
	copy(t.Hash[:], hash)
	t.Created = fromMicros(created)
	t.LastUsed = fromNullMicros(used)
	t.Revoked = fromNullMicros(revoked)
	return t, nil
}

// TokenByHash implements store.Store. The database finds the row by an
// index on the hash; the hash it returns is compared again here in constant
// time, so that a collation or driver quirk can never match a different
// token.
func (s *Store) TokenByHash(ctx context.Context, hash [sha256.Size]byte) (store.Token, error) {
	t, err := scanToken(s.read.QueryRowContext(ctx, s.sqlOf(qTokenByHash), hash[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("look up token: %w", err)
	}
	if subtle.ConstantTimeCompare(t.Hash[:], hash[:]) != 1 {
		return store.Token{}, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	if !t.Active() {
		return store.Token{}, fmt.Errorf("token %q: %w", t.ID, store.ErrRevoked)
	}
	return t, nil
}

// Token implements store.Store.
func (s *Store) Token(ctx context.Context, id string) (store.Token, error) {
	t, err := scanToken(s.read.QueryRowContext(ctx, s.sqlOf(qToken), id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, fmt.Errorf("token %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("read token %q: %w", id, err)
	}
	return t, nil
}

// TouchToken implements store.Store.
func (s *Store) TouchToken(ctx context.Context, id string, at time.Time) error {
	res, err := s.write.ExecContext(ctx, s.sqlOf(qTouchToken), micros(at), id)
	if err != nil {
		return fmt.Errorf("touch token %q: %w", id, err)
	}
	return affected(res, fmt.Sprintf("token %q", id))
}

// RevokeToken implements store.Store.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	_, ts := s.stamp()
	res, err := s.write.ExecContext(ctx, s.sqlOf(qRevokeToken), ts, id)
	if err != nil {
		return fmt.Errorf("revoke token %q: %w", id, err)
	}
	return affected(res, fmt.Sprintf("token %q", id))
}

// ListTokens implements store.Store.
func (s *Store) ListTokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.read.QueryContext(ctx, s.sqlOf(qTokens))
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

const (
	qInsertSession = `INSERT INTO session_tokens (hash, token_id, scope, expires_at) VALUES (?, ?, ?, ?)`
	qSession       = `SELECT s.hash, s.scope, s.expires_at, ` + tokenColsT + ` FROM session_tokens s JOIN api_tokens t ON t.id = s.token_id WHERE s.hash = ? AND s.expires_at > ?`
	tokenColsT     = `t.id, t.name, t.principal_id, t.scope, t.hash, t.created_at, t.expires_at, t.last_used_at, t.revoked_at`
	qDeleteExpired = `DELETE FROM session_tokens WHERE expires_at <= ?`
)

// CreateSessionToken implements store.Store.
func (s *Store) CreateSessionToken(ctx context.Context, st store.SessionToken) error {
	if st.TokenID == "" {
		return invalid("session token's API token ID")
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// Checked inside the transaction so that a missing API token is
		// ErrNotFound on both dialects, whatever their foreign key errors.
		var one int
		err := tx.QueryRowContext(ctx, s.sqlOf(qTokenExists), st.TokenID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("token %q: %w", st.TokenID, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.sqlOf(qInsertSession), st.Hash[:], st.TokenID, st.Scope, micros(st.Expires))
		if err != nil && s.d.IsUnique(err) {
			return fmt.Errorf("session token: %w", store.ErrExists)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create session token for %q: %w", st.TokenID, err)
	}
	return nil
}

// SessionToken implements store.Store. As in TokenByHash, the hash found
// is compared again in constant time.
func (s *Store) SessionToken(ctx context.Context, hash [sha256.Size]byte, now time.Time) (store.SessionToken, store.Token, error) {
	var (
		st       store.SessionToken
		sh       []byte
		expires  int64
		t        store.Token
		owner    sql.NullString
		th       []byte
		created  int64
		texpires sql.NullInt64
		used     sql.NullInt64
		revoked  sql.NullInt64
	)
	err := s.read.QueryRowContext(ctx, s.sqlOf(qSession), hash[:], micros(now)).Scan(
		&sh, &st.Scope, &expires, &t.ID, &t.Name, &owner, &t.Scope, &th, &created, &texpires, &used, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return store.SessionToken{}, store.Token{}, fmt.Errorf("session token: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.SessionToken{}, store.Token{}, fmt.Errorf("look up session token: %w", err)
	}
	if len(sh) != sha256.Size || len(th) != sha256.Size || subtle.ConstantTimeCompare(sh, hash[:]) != 1 {
		return store.SessionToken{}, store.Token{}, fmt.Errorf("session token: %w", store.ErrNotFound)
	}
	copy(st.Hash[:], sh)
	copy(t.Hash[:], th)
	st.TokenID = t.ID
	st.Expires = fromMicros(expires)
	t.PrincipalID = owner.String
	t.Expires = fromNullMicros(texpires)
	t.Created = fromMicros(created)
	t.LastUsed = fromNullMicros(used)
	t.Revoked = fromNullMicros(revoked)
	if !t.Active() {
		return store.SessionToken{}, store.Token{}, fmt.Errorf("session token of token %q: %w", t.ID, store.ErrRevoked)
	}
	return st, t, nil
}

// DeleteExpiredSessionTokens implements store.Store.
func (s *Store) DeleteExpiredSessionTokens(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.write.ExecContext(ctx, s.sqlOf(qDeleteExpired), micros(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired session tokens: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired session tokens: %w", err)
	}
	return n, nil
}

const (
	qDeleteProject  = `DELETE FROM projects WHERE name = ?`
	qUsageRepos     = `SELECT COUNT(*) FROM repositories WHERE project_id = ?`
	qUsageManifests = `SELECT COUNT(*) FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE r.project_id = ?`
	qUsageBlobs     = `SELECT COUNT(*), COALESCE(SUM(size), 0) FROM blobs WHERE project_id = ?`
	qInsertPKey     = `INSERT INTO project_keys (project_id, version, wrapped_key, master_key_id, created_at) VALUES (?, ?, ?, ?, ?)`
	qPKeys          = `SELECT version, wrapped_key, master_key_id, created_at FROM project_keys WHERE project_id = ? ORDER BY version`
	qUpdatePKey     = `UPDATE project_keys SET wrapped_key = ?, master_key_id = ? WHERE project_id = (SELECT id FROM projects WHERE name = ?) AND version = ?`
	qDeletePKey     = `DELETE FROM project_keys WHERE project_id = (SELECT id FROM projects WHERE name = ?) AND version = ?`
	qBlobs          = `SELECT digest, size, media_type, wrapped_key, aad_context, created_at FROM blobs WHERE project_id = ? AND digest > ? ORDER BY digest LIMIT ?`
	qUpdateBlobKey  = `UPDATE blobs SET wrapped_key = ? WHERE project_id = (SELECT id FROM projects WHERE name = ?) AND digest = ? AND wrapped_key = ?`
	qHasBlob        = `SELECT 1 FROM blobs WHERE project_id = (SELECT id FROM projects WHERE name = ?) AND digest = ?`
)

// DeleteProject implements store.Store. Everything in the project goes
// with it (ON DELETE CASCADE).
func (s *Store) DeleteProject(ctx context.Context, name string) error {
	res, err := s.write.ExecContext(ctx, s.sqlOf(qDeleteProject), name)
	if err != nil {
		return fmt.Errorf("delete project %q: %w", name, err)
	}
	return affected(res, fmt.Sprintf("project %q", name))
}

// ProjectUsage implements store.Store.
func (s *Store) ProjectUsage(ctx context.Context, name string) (store.Usage, error) {
	var u store.Usage
	pid, err := s.projectID(ctx, s.read, name)
	if err != nil {
		return u, err
	}
	err = s.read.QueryRowContext(ctx, s.sqlOf(qUsageRepos), pid).Scan(&u.Repositories)
	if err == nil {
		err = s.read.QueryRowContext(ctx, s.sqlOf(qUsageManifests), pid).Scan(&u.Manifests)
	}
	if err == nil {
		err = s.read.QueryRowContext(ctx, s.sqlOf(qUsageBlobs), pid).Scan(&u.Blobs, &u.BlobBytes)
	}
	if err != nil {
		return u, fmt.Errorf("usage of project %q: %w", name, err)
	}
	return u, nil
}

// CreateProjectKey implements store.Store.
func (s *Store) CreateProjectKey(ctx context.Context, project string, k store.ProjectKey) error {
	if k.Version < 1 || len(k.Wrapped) == 0 {
		return fmt.Errorf("project key of %q: version below 1 or no key: %w", project, store.ErrInvalid)
	}
	_, ts := s.stamp()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		pid, err := s.projectID(ctx, tx, project)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.sqlOf(qInsertPKey), pid, k.Version, k.Wrapped, k.MasterKeyID, ts)
		if err != nil && s.d.IsUnique(err) {
			return fmt.Errorf("key version %d of project %q: %w", k.Version, project, store.ErrExists)
		}
		if err != nil {
			return fmt.Errorf("create key version %d of project %q: %w", k.Version, project, err)
		}
		return nil
	})
}

// ProjectKeys implements store.Store.
func (s *Store) ProjectKeys(ctx context.Context, project string) ([]store.ProjectKey, error) {
	pid, err := s.projectID(ctx, s.read, project)
	if err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, s.sqlOf(qPKeys), pid)
	if err != nil {
		return nil, fmt.Errorf("keys of project %q: %w", project, err)
	}
	defer rows.Close()
	var out []store.ProjectKey
	for rows.Next() {
		var k store.ProjectKey
		var created int64
		if err := rows.Scan(&k.Version, &k.Wrapped, &k.MasterKeyID, &created); err != nil {
			return nil, fmt.Errorf("keys of project %q: %w", project, err)
		}
		k.Created = fromMicros(created)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("keys of project %q: %w", project, err)
	}
	return out, nil
}

// UpdateProjectKey implements store.Store.
func (s *Store) UpdateProjectKey(ctx context.Context, project string, k store.ProjectKey) error {
	res, err := s.write.ExecContext(ctx, s.sqlOf(qUpdatePKey), k.Wrapped, k.MasterKeyID, project, k.Version)
	if err != nil {
		return fmt.Errorf("update key version %d of project %q: %w", k.Version, project, err)
	}
	return affected(res, fmt.Sprintf("key version %d of project %q", k.Version, project))
}

// DeleteProjectKey implements store.Store.
func (s *Store) DeleteProjectKey(ctx context.Context, project string, version int) error {
	res, err := s.write.ExecContext(ctx, s.sqlOf(qDeletePKey), project, version)
	if err != nil {
		return fmt.Errorf("delete key version %d of project %q: %w", version, project, err)
	}
	return affected(res, fmt.Sprintf("key version %d of project %q", version, project))
}

// ListBlobs implements store.Store.
func (s *Store) ListBlobs(ctx context.Context, project string, page store.Page) ([]store.Blob, error) {
	pid, err := s.projectID(ctx, s.read, project)
	if err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, s.sqlOf(qBlobs), pid, page.Last, limit(page.N))
	if err != nil {
		return nil, fmt.Errorf("list blobs of project %q: %w", project, err)
	}
	out, err := scanBlobs(rows, project)
	if err != nil {
		return nil, fmt.Errorf("list blobs of project %q: %w", project, err)
	}
	return out, nil
}

// scanBlobs reads and closes rows of digest, size, media type, wrapped
// key, associated-data context and creation time.
func scanBlobs(rows *sql.Rows, project string) ([]store.Blob, error) {
	defer rows.Close()
	var out []store.Blob
	for rows.Next() {
		b := store.Blob{Project: project}
		var created int64
		if err := rows.Scan(&b.Digest, &b.Size, &b.MediaType, &b.WrappedKey, &b.AADContext, &created); err != nil {
			return nil, err
		}
		b.Created = fromMicros(created)
		out = append(out, b)
	}
	return out, rows.Err()
}

// UpdateBlobKey implements store.Store.
func (s *Store) UpdateBlobKey(ctx context.Context, project, digest string, old, wrapped []byte) error {
	if len(wrapped) == 0 {
		return invalid("wrapped data key")
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.sqlOf(qUpdateBlobKey), wrapped, project, digest, old)
		if err != nil {
			return fmt.Errorf("update key of blob %s in %q: %w", digest, project, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("update key of blob %s in %q: %w", digest, project, err)
		}
		if n == 1 {
			return nil
		}
		var one int
		err = tx.QueryRowContext(ctx, s.sqlOf(qHasBlob), project, digest).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("blob %s in project %q: %w", digest, project, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("update key of blob %s in %q: %w", digest, project, err)
		}
		return fmt.Errorf("key of blob %s in project %q changed meanwhile: %w", digest, project, store.ErrConflict)
	})
}

const (
	qProjectOfRepo  = `SELECT project_id FROM repositories WHERE id = ?`
	qInsertRef      = `INSERT INTO manifest_refs (repository_id, manifest_digest, project_id, blob_digest) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`
	qBlobExists     = `SELECT 1 FROM blobs WHERE project_id = ? AND digest = ?`
	qRefsRecorded   = `UPDATE manifests SET refs_recorded = TRUE WHERE repository_id = ? AND digest = ?`
	qNoRefs         = `SELECT p.name, r.name, ` + manifestCols + ` FROM manifests m JOIN repositories r ON r.id = m.repository_id JOIN projects p ON p.id = r.project_id WHERE m.refs_recorded = FALSE ORDER BY r.id, m.digest LIMIT ?`
	qUnreferenced   = `SELECT b.digest, b.size, b.media_type, b.wrapped_key, b.aad_context, b.created_at FROM blobs b WHERE b.project_id = ? AND b.created_at < ? AND NOT EXISTS (SELECT 1 FROM manifest_refs f WHERE f.project_id = b.project_id AND f.blob_digest = b.digest) ORDER BY b.digest LIMIT ?`
	qBlobCreated    = `SELECT created_at FROM blobs WHERE project_id = ? AND digest = ?`
	qBlobReferenced = `SELECT 1 FROM manifest_refs WHERE project_id = ? AND blob_digest = ? LIMIT 1`
	qDeleteBlobByID = `DELETE FROM blobs WHERE project_id = ? AND digest = ?`
)

// lock returns q with a row-lock clause on PostgreSQL (FOR SHARE or FOR
// UPDATE); SQLite serializes writers and needs none.
func (s *Store) lock(q, mode string) string {
	if s.d.Name == "postgres" {
		return s.sqlOf(q) + " FOR " + mode
	}
	return s.sqlOf(q)
}

// insertRefs records the blobs a manifest references; with check, each
// must exist in the project, share-locked until the transaction ends so
// that garbage collection cannot delete it meanwhile.
func (s *Store) insertRefs(ctx context.Context, tx *sql.Tx, rid int64, project, digest string, blobs []string, check bool) error {
	var pid int64
	if err := tx.QueryRowContext(ctx, s.sqlOf(qProjectOfRepo), rid).Scan(&pid); err != nil {
		return err
	}
	for _, b := range blobs {
		if check {
			var one int
			err := tx.QueryRowContext(ctx, s.lock(qBlobExists, "SHARE"), pid, b).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("blob %s is not in project %q: %w", b, project, store.ErrNotFound)
			}
			if err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.sqlOf(qInsertRef), rid, digest, pid, b); err != nil {
			return fmt.Errorf("record reference to %s: %w", b, err)
		}
	}
	return nil
}

// ManifestsWithoutRefs implements store.Store.
func (s *Store) ManifestsWithoutRefs(ctx context.Context, n int) ([]store.Manifest, error) {
	rows, err := s.read.QueryContext(ctx, s.sqlOf(qNoRefs), limit(n))
	if err != nil {
		return nil, fmt.Errorf("list manifests without references: %w", err)
	}
	defer rows.Close()
	var out []store.Manifest
	for rows.Next() {
		var project, repo string
		sc := scanFunc(func(dest ...any) error { return rows.Scan(append([]any{&project, &repo}, dest...)...) })
		m, err := scanManifest(sc, "", "")
		if err != nil {
			return nil, fmt.Errorf("list manifests without references: %w", err)
		}
		m.Project, m.Repository = project, repo
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list manifests without references: %w", err)
	}
	return out, nil
}

// SetManifestRefs implements store.Store.
func (s *Store) SetManifestRefs(ctx context.Context, project, repo, digest string, blobs []string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		rid, err := s.repoID(ctx, tx, project, repo)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.sqlOf(qRefsRecorded), rid, digest)
		if err != nil {
			return fmt.Errorf("record references of %s: %w", digest, err)
		}
		if err := affected(res, fmt.Sprintf("manifest %s in %s/%s", digest, project, repo)); err != nil {
			return err
		}
		if err := s.insertRefs(ctx, tx, rid, project, digest, blobs, false); err != nil {
			return fmt.Errorf("record references of %s: %w", digest, err)
		}
		return nil
	})
}

// UnreferencedBlobs implements store.Store.
func (s *Store) UnreferencedBlobs(ctx context.Context, project string, before time.Time, n int) ([]store.Blob, error) {
	pid, err := s.projectID(ctx, s.read, project)
	if err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, s.sqlOf(qUnreferenced), pid, micros(before), limit(n))
	if err != nil {
		return nil, fmt.Errorf("list unreferenced blobs of %q: %w", project, err)
	}
	out, err := scanBlobs(rows, project)
	if err != nil {
		return nil, fmt.Errorf("list unreferenced blobs of %q: %w", project, err)
	}
	return out, nil
}

// DeleteBlobIfUnreferenced implements store.Store. The blob row is locked
// first (FOR UPDATE on PostgreSQL), so a manifest push that share-locked
// it commits its reference before the check here runs, or waits.
func (s *Store) DeleteBlobIfUnreferenced(ctx context.Context, project, digest string, before time.Time) (bool, error) {
	deleted := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		pid, err := s.projectID(ctx, tx, project)
		if err != nil {
			return err
		}
		var created int64
		err = tx.QueryRowContext(ctx, s.lock(qBlobCreated, "UPDATE"), pid, digest).Scan(&created)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if created >= micros(before) {
			return nil
		}
		var one int
		err = tx.QueryRowContext(ctx, s.sqlOf(qBlobReferenced), pid, digest).Scan(&one)
		if err == nil {
			return nil // referenced
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.sqlOf(qDeleteBlobByID), pid, digest); err != nil {
			return err
		}
		deleted = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("collect blob %s of %q: %w", digest, project, err)
	}
	return deleted, nil
}

// allQueries lists every query, so New rewrites each once.
var allQueries = []string{
	qProjectID, qRepoID,
	qInsertProject, qProject, qProjects,
	qInsertRepo, qRepo, qRepos,
	qInsertBlob, qBlob, qDeleteBlob,
	qInsertManifest, qUpsertTag, qManifest, qManifestByTag, qReferrers, qReferrersType,
	qHasManifest, qDeleteManifest, qDeleteTag, qTags,
	qInsertToken, qTokenByHash, qTokens, qTouchToken, qRevokeToken, qTokenExists,
	qInsertSession, qSession, qDeleteExpired,
	qSetMeta, qTagsOf,
	qDeleteProject, qUsageRepos, qUsageManifests, qUsageBlobs,
	qInsertPKey, qPKeys, qUpdatePKey, qDeletePKey, qBlobs, qUpdateBlobKey, qHasBlob,
	qProjectOfRepo, qInsertRef, qBlobExists, qRefsRecorded, qNoRefs, qUnreferenced,
	qBlobCreated, qBlobReferenced, qDeleteBlobByID,
	qToken, qSetQuota, qBlobClass, qAuditMaxIdx, qAuditCheckpoints, qAuditCheckpoint, qAuditLatest, qAuditEntries, qAuditKey, qAuditKeyInsert, qAuditSubject, qAuditSubjectIns, qAuditSubjectDel, qPatchPrincipal, qCredential, qPrincipalRoles, qInsertSSO, qSSO, qDeleteSSO, qExpireSSO, qClassOf, qInsertChange, qChanges, qQuotaOf, qQuotaOfRepo, qUsageManifestsByID,
	qPrincipalExists, qInsertPrincipal, qPrincipal, qPrincipalByName, qPrincipalByOIDC, qPrincipalByCert, qPrincipals, qUpdatePrincipal,
	qUpsertMember, qDeleteMember, qMembers, qMembershipsOf,
}
