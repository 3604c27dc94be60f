package sqlstore

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/palisade-sec/palisade/internal/store"
)

// Principals, members, quotas and classification changes.

const (
	principalCols       = `id, name, kind, admin, clearance, email, oidc_issuer, oidc_subject, cert_subject, created_at, disabled_at`
	qPrincipalExists    = `SELECT 1 FROM principals WHERE id = ?`
	qInsertPrincipal    = `INSERT INTO principals (` + principalCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qPrincipal          = `SELECT ` + principalCols + ` FROM principals WHERE id = ?`
	qPrincipalByName    = `SELECT ` + principalCols + ` FROM principals WHERE name = ?`
	qPrincipalByOIDC    = `SELECT ` + principalCols + ` FROM principals WHERE oidc_issuer = ? AND oidc_subject = ?`
	qPrincipalByCert    = `SELECT ` + principalCols + ` FROM principals WHERE cert_subject = ?`
	qPrincipals         = `SELECT ` + principalCols + ` FROM principals ORDER BY name`
	qUpdatePrincipal    = `UPDATE principals SET admin = ?, clearance = ?, email = ?, oidc_issuer = ?, oidc_subject = ?, cert_subject = ?, disabled_at = ? WHERE id = ?`
	qUpsertMember       = `INSERT INTO members (project_id, principal_id, role, source, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (project_id, principal_id) DO UPDATE SET role = excluded.role, source = excluded.source`
	qDeleteMember       = `DELETE FROM members WHERE project_id = (SELECT id FROM projects WHERE name = ?) AND principal_id = ?`
	qMembers            = `SELECT x.name, m.principal_id, x.name, m.role, m.source, m.created_at FROM members m JOIN principals x ON x.id = m.principal_id WHERE m.project_id = ? ORDER BY x.name`
	qMembershipsOf      = `SELECT p.name, m.principal_id, x.name, m.role, m.source, m.created_at FROM members m JOIN projects p ON p.id = m.project_id JOIN principals x ON x.id = m.principal_id WHERE m.principal_id = ? ORDER BY p.name`
	qQuotaOf            = `SELECT quota_bytes, quota_artifacts FROM projects WHERE id = ?`
	qQuotaOfRepo        = `SELECT p.id, p.quota_artifacts FROM projects p JOIN repositories r ON r.project_id = p.id WHERE r.id = ?`
	qBlobClass          = `SELECT COALESCE(MAX(CASE m.classification WHEN 'public' THEN 1 WHEN 'internal' THEN 2 WHEN 'confidential' THEN 3 ELSE 4 END), 0) FROM manifest_refs f JOIN manifests m ON m.repository_id = f.repository_id AND m.digest = f.manifest_digest WHERE f.project_id = (SELECT id FROM projects WHERE name = ?) AND f.blob_digest = ?`
	qInsertSSO          = `INSERT INTO sso_requests (handle_hash, kind, nonce, verifier, device, expires_at) VALUES (?, ?, ?, ?, ?, ?)`
	qSSO                = `SELECT kind, nonce, verifier, device, expires_at FROM sso_requests WHERE handle_hash = ? AND expires_at > ?`
	qDeleteSSO          = `DELETE FROM sso_requests WHERE handle_hash = ?`
	qExpireSSO          = `DELETE FROM sso_requests WHERE expires_at <= ?`
	principalColsX      = `x.id, x.name, x.kind, x.admin, x.clearance, x.email, x.oidc_issuer, x.oidc_subject, x.cert_subject, x.created_at, x.disabled_at`
	rolesJoin           = ` LEFT JOIN members m ON m.principal_id = x.id LEFT JOIN projects pr ON pr.id = m.project_id`
	qCredential         = `SELECT ` + tokenColsT + `, ` + principalColsX + `, COALESCE(pr.name, ''), COALESCE(m.role, ''), COALESCE(m.source, '') FROM api_tokens t JOIN principals x ON x.id = t.principal_id` + rolesJoin + ` WHERE t.hash = ?`
	qPrincipalRoles     = `SELECT ` + principalColsX + `, COALESCE(pr.name, ''), COALESCE(m.role, ''), COALESCE(m.source, '') FROM principals x` + rolesJoin + ` WHERE x.id = ?`
	qPatchPrincipal     = `UPDATE principals SET admin = COALESCE(?, admin), clearance = COALESCE(?, clearance), email = COALESCE(?, email), cert_subject = CASE WHEN ? THEN ? ELSE cert_subject END, disabled_at = CASE WHEN ? THEN ? ELSE disabled_at END WHERE id = ?`
	qUsageManifestsByID = `SELECT COUNT(*) FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE r.project_id = ?`
)

// nullString stores "" as NULL, so that unique columns hold many empty
// values.
func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func nullMicros(t interface{ IsZero() bool }, v int64) sql.NullInt64 {
	return sql.NullInt64{Int64: v, Valid: !t.IsZero()}
}

func checkPrincipal(p store.Principal) error {
	switch {
	case p.ID == "":
		return invalid("principal ID")
	case p.Name == "":
		return invalid("principal name")
	case p.Kind != store.KindUser && p.Kind != store.KindService:
		return fmt.Errorf("principal kind %.20q: want user or service: %w", p.Kind, store.ErrInvalid)
	case !p.Clearance.Valid():
		return fmt.Errorf("clearance %.40q: want public, internal, confidential or restricted: %w", p.Clearance, store.ErrInvalid)
	case (p.OIDCIssuer == "") != (p.OIDCSubject == ""):
		return fmt.Errorf("an OIDC identity needs both issuer and subject: %w", store.ErrInvalid)
	}
	return nil
}

// CreatePrincipal implements store.Store.
func (s *Store) CreatePrincipal(ctx context.Context, p store.Principal) (store.Principal, error) {
	if err := checkPrincipal(p); err != nil {
		return store.Principal{}, fmt.Errorf("create principal: %w", err)
	}
	created, ts := s.stamp()
	var disabled sql.NullInt64
	if !p.Disabled.IsZero() {
		disabled = sql.NullInt64{Int64: micros(p.Disabled), Valid: true}
	}
	_, err := s.write.ExecContext(ctx, s.sqlOf(qInsertPrincipal), p.ID, p.Name, p.Kind, p.Admin, string(p.Clearance), p.Email,
		nullString(p.OIDCIssuer), nullString(p.OIDCSubject), nullString(p.CertSubject), ts, disabled)
	if err != nil {
		if s.d.IsUnique(err) {
			return store.Principal{}, fmt.Errorf("create principal %q: %w", p.Name, store.ErrExists)
		}
		return store.Principal{}, fmt.Errorf("create principal %q: %w", p.Name, err)
	}
	p.Created = created
	return p, nil
}

func scanPrincipal(sc interface{ Scan(...any) error }) (store.Principal, error) {
	var (
		p              store.Principal
		clearance      string
		iss, sub, cert sql.NullString
		created        int64
		disabled       sql.NullInt64
	)
	if err := sc.Scan(&p.ID, &p.Name, &p.Kind, &p.Admin, &clearance, &p.Email, &iss, &sub, &cert, &created, &disabled); err != nil {
		return store.Principal{}, err
	}
	p.Clearance = store.Classification(clearance)
	p.OIDCIssuer, p.OIDCSubject, p.CertSubject = iss.String, sub.String, cert.String
	p.Created = fromMicros(created)
	p.Disabled = fromNullMicros(disabled)
	return p, nil
}

func (s *Store) principalBy(ctx context.Context, what, q string, args ...any) (store.Principal, error) {
	p, err := scanPrincipal(s.read.QueryRowContext(ctx, s.sqlOf(q), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Principal{}, fmt.Errorf("principal %s: %w", what, store.ErrNotFound)
	}
	if err != nil {
		return store.Principal{}, fmt.Errorf("read principal %s: %w", what, err)
	}
	return p, nil
}

// Principal implements store.Store.
func (s *Store) Principal(ctx context.Context, id string) (store.Principal, error) {
	return s.principalBy(ctx, fmt.Sprintf("%q", id), qPrincipal, id)
}

// PrincipalByName implements store.Store.
func (s *Store) PrincipalByName(ctx context.Context, name string) (store.Principal, error) {
	return s.principalBy(ctx, fmt.Sprintf("named %q", name), qPrincipalByName, name)
}

// PrincipalByOIDC implements store.Store.
func (s *Store) PrincipalByOIDC(ctx context.Context, issuer, subject string) (store.Principal, error) {
	return s.principalBy(ctx, "of this single sign-on identity", qPrincipalByOIDC, issuer, subject)
}

// PrincipalByCert implements store.Store.
func (s *Store) PrincipalByCert(ctx context.Context, subject string) (store.Principal, error) {
	return s.principalBy(ctx, "of this certificate subject", qPrincipalByCert, subject)
}

// ListPrincipals implements store.Store.
func (s *Store) ListPrincipals(ctx context.Context) ([]store.Principal, error) {
	rows, err := s.read.QueryContext(ctx, s.sqlOf(qPrincipals))
	if err != nil {
		return nil, fmt.Errorf("list principals: %w", err)
	}
	defer rows.Close()
	var out []store.Principal
	for rows.Next() {
		p, err := scanPrincipal(rows)
		if err != nil {
			return nil, fmt.Errorf("list principals: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list principals: %w", err)
	}
	return out, nil
}

// UpdatePrincipal implements store.Store.
func (s *Store) UpdatePrincipal(ctx context.Context, p store.Principal) error {
	if err := checkPrincipal(p); err != nil {
		return fmt.Errorf("update principal: %w", err)
	}
	res, err := s.write.ExecContext(ctx, s.sqlOf(qUpdatePrincipal), p.Admin, string(p.Clearance), p.Email,
		nullString(p.OIDCIssuer), nullString(p.OIDCSubject), nullString(p.CertSubject), nullMicros(p.Disabled, micros(p.Disabled)), p.ID)
	if err != nil {
		if s.d.IsUnique(err) {
			return fmt.Errorf("update principal %q: %w", p.Name, store.ErrExists)
		}
		return fmt.Errorf("update principal %q: %w", p.Name, err)
	}
	return affected(res, fmt.Sprintf("principal %q", p.ID))
}

// SetMember implements store.Store.
func (s *Store) SetMember(ctx context.Context, m store.Member) error {
	switch {
	case m.Role == "":
		return invalid("member role")
	case m.Source == "":
		return invalid("member source")
	}
	_, ts := s.stamp()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		pid, err := s.projectID(ctx, tx, m.Project)
		if err != nil {
			return err
		}
		var one int
		err = tx.QueryRowContext(ctx, s.sqlOf(qPrincipalExists), m.PrincipalID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("principal %q: %w", m.PrincipalID, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.sqlOf(qUpsertMember), pid, m.PrincipalID, m.Role, m.Source, ts)
		return err
	})
	if err != nil {
		return fmt.Errorf("set member %q of project %q: %w", m.PrincipalID, m.Project, err)
	}
	return nil
}

// RemoveMember implements store.Store.
func (s *Store) RemoveMember(ctx context.Context, project, principalID string) error {
	res, err := s.write.ExecContext(ctx, s.sqlOf(qDeleteMember), project, principalID)
	if err != nil {
		return fmt.Errorf("remove member %q of project %q: %w", principalID, project, err)
	}
	return affected(res, fmt.Sprintf("member %q of project %q", principalID, project))
}

func (s *Store) members(ctx context.Context, what, q string, arg any) ([]store.Member, error) {
	rows, err := s.read.QueryContext(ctx, s.sqlOf(q), arg)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	defer rows.Close()
	var out []store.Member
	for rows.Next() {
		var m store.Member
		var created int64
		if err := rows.Scan(&m.Project, &m.PrincipalID, &m.PrincipalName, &m.Role, &m.Source, &created); err != nil {
			return nil, fmt.Errorf("list %s: %w", what, err)
		}
		m.Created = fromMicros(created)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	return out, nil
}

// Members implements store.Store.
func (s *Store) Members(ctx context.Context, project string) ([]store.Member, error) {
	pid, err := s.projectID(ctx, s.read, project)
	if err != nil {
		return nil, err
	}
	ms, err := s.members(ctx, fmt.Sprintf("members of %q", project), qMembers, pid)
	for i := range ms {
		ms[i].Project = project
	}
	return ms, err
}

// MembershipsOf implements store.Store.
func (s *Store) MembershipsOf(ctx context.Context, principalID string) ([]store.Member, error) {
	return s.members(ctx, fmt.Sprintf("roles of %q", principalID), qMembershipsOf, principalID)
}

// checkBytesQuota refuses a blob that would take its project over its
// storage quota. On PostgreSQL the project row is locked until the
// transaction ends, so concurrent writers check one after the other;
// SQLite serializes writers anyway.
func (s *Store) checkBytesQuota(ctx context.Context, tx *sql.Tx, pid int64, b store.Blob) error {
	var quota, artifacts int64
	if err := tx.QueryRowContext(ctx, s.lock(qQuotaOf, "UPDATE"), pid).Scan(&quota, &artifacts); err != nil {
		return fmt.Errorf("read quota of %q: %w", b.Project, err)
	}
	if quota <= 0 {
		return nil
	}
	var n, used int64
	if err := tx.QueryRowContext(ctx, s.sqlOf(qUsageBlobs), pid).Scan(&n, &used); err != nil {
		return fmt.Errorf("read usage of %q: %w", b.Project, err)
	}
	if used+b.Size > quota {
		return &store.QuotaError{Project: b.Project, What: "storage", Limit: quota, Usage: used, Adding: b.Size}
	}
	return nil
}

// checkArtifactQuota refuses a new manifest (already inserted in tx) that
// takes its project over its artifact quota.
func (s *Store) checkArtifactQuota(ctx context.Context, tx *sql.Tx, rid int64, project string) error {
	var pid, quota int64
	if err := tx.QueryRowContext(ctx, s.lock(qQuotaOfRepo, "UPDATE OF p"), rid).Scan(&pid, &quota); err != nil {
		return fmt.Errorf("read quota of %q: %w", project, err)
	}
	if quota <= 0 {
		return nil
	}
	var n int64
	if err := tx.QueryRowContext(ctx, s.sqlOf(qUsageManifestsByID), pid).Scan(&n); err != nil {
		return fmt.Errorf("read usage of %q: %w", project, err)
	}
	if n > quota {
		return &store.QuotaError{Project: project, What: "artifacts", Limit: quota, Usage: n - 1, Adding: 1}
	}
	return nil
}

// ClassificationChanges implements store.Store.
func (s *Store) ClassificationChanges(ctx context.Context, project, repo, digest string) ([]store.ClassificationChange, error) {
	rid, err := s.repoID(ctx, s.read, project, repo)
	if err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, s.sqlOf(qChanges), rid, digest)
	if err != nil {
		return nil, fmt.Errorf("list classification changes: %w", err)
	}
	defer rows.Close()
	var out []store.ClassificationChange
	for rows.Next() {
		c := store.ClassificationChange{Project: project, Repository: repo, Digest: digest}
		var from, to string
		var at int64
		if err := rows.Scan(&from, &to, &c.Actor, &c.Reason, &at); err != nil {
			return nil, fmt.Errorf("list classification changes: %w", err)
		}
		c.From, c.To, c.At = store.Classification(from), store.Classification(to), fromMicros(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list classification changes: %w", err)
	}
	return out, nil
}

// BlobClassification implements store.Store.
func (s *Store) BlobClassification(ctx context.Context, project, digest string) (store.Classification, error) {
	var level int
	if err := s.read.QueryRowContext(ctx, s.sqlOf(qBlobClass), project, digest).Scan(&level); err != nil {
		return "", fmt.Errorf("classification of blob %s in %q: %w", digest, project, err)
	}
	return [...]store.Classification{"", store.Public, store.Internal, store.Confidential, store.Restricted}[level], nil
}

// CreateSSORequest implements store.Store.
func (s *Store) CreateSSORequest(ctx context.Context, r store.SSORequest) error {
	if r.Kind != "code" && r.Kind != "device" {
		return fmt.Errorf("create login in progress: kind %.20q: %w", r.Kind, store.ErrInvalid)
	}
	_, ts := s.stamp()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.sqlOf(qExpireSSO), ts); err != nil {
			return fmt.Errorf("remove expired logins: %w", err)
		}
		_, err := tx.ExecContext(ctx, s.sqlOf(qInsertSSO), r.HandleHash[:], r.Kind, r.Nonce, r.Verifier, r.Device, micros(r.Expires))
		if err != nil {
			if s.d.IsUnique(err) {
				return fmt.Errorf("create login in progress: %w", store.ErrExists)
			}
			return fmt.Errorf("create login in progress: %w", err)
		}
		return nil
	})
}

// SSORequest implements store.Store.
func (s *Store) SSORequest(ctx context.Context, hash [sha256.Size]byte, now time.Time) (store.SSORequest, error) {
	r := store.SSORequest{HandleHash: hash}
	var expires int64
	err := s.read.QueryRowContext(ctx, s.sqlOf(qSSO), hash[:], micros(now)).Scan(&r.Kind, &r.Nonce, &r.Verifier, &r.Device, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.SSORequest{}, fmt.Errorf("login in progress: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.SSORequest{}, fmt.Errorf("read login in progress: %w", err)
	}
	r.Expires = fromMicros(expires)
	return r, nil
}

// DeleteSSORequest implements store.Store.
func (s *Store) DeleteSSORequest(ctx context.Context, hash [sha256.Size]byte) error {
	res, err := s.write.ExecContext(ctx, s.sqlOf(qDeleteSSO), hash[:])
	if err != nil {
		return fmt.Errorf("delete login in progress: %w", err)
	}
	return affected(res, "login in progress")
}

// CredentialByHash implements store.Store. As in TokenByHash, the hash
// found is compared again in constant time.
func (s *Store) CredentialByHash(ctx context.Context, hash [sha256.Size]byte) (store.Credential, error) {
	rows, err := s.read.QueryContext(ctx, s.sqlOf(qCredential), hash[:])
	if err != nil {
		return store.Credential{}, fmt.Errorf("look up token: %w", err)
	}
	defer rows.Close()
	var c store.Credential
	found := false
	for rows.Next() {
		var (
			t                    store.Token
			th                   []byte
			owner                sql.NullString
			created              int64
			expires, used, revok sql.NullInt64
		)
		dst := []any{&t.ID, &t.Name, &owner, &t.Scope, &th, &created, &expires, &used, &revok}
		p, m, err := scanPrincipalRole(rows, dst...)
		if err != nil {
			return store.Credential{}, fmt.Errorf("look up token: %w", err)
		}
		if !found {
			if len(th) != sha256.Size || subtle.ConstantTimeCompare(th, hash[:]) != 1 {
				return store.Credential{}, fmt.Errorf("token: %w", store.ErrNotFound)
			}
			copy(t.Hash[:], th)
			t.PrincipalID = owner.String
			t.Created, t.Expires = fromMicros(created), fromNullMicros(expires)
			t.LastUsed, t.Revoked = fromNullMicros(used), fromNullMicros(revok)
			c.Token, c.Owner, found = t, p, true
		}
		if m.Project != "" {
			c.Roles = append(c.Roles, m)
		}
	}
	if err := rows.Err(); err != nil {
		return store.Credential{}, fmt.Errorf("look up token: %w", err)
	}
	if !found {
		return store.Credential{}, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	sortRoles(c.Roles)
	if !c.Token.Active() {
		return store.Credential{}, fmt.Errorf("token %q: %w", c.Token.ID, store.ErrRevoked)
	}
	return c, nil
}

// PrincipalWithRoles implements store.Store.
func (s *Store) PrincipalWithRoles(ctx context.Context, id string) (store.Principal, []store.Member, error) {
	rows, err := s.read.QueryContext(ctx, s.sqlOf(qPrincipalRoles), id)
	if err != nil {
		return store.Principal{}, nil, fmt.Errorf("read principal %q: %w", id, err)
	}
	defer rows.Close()
	var (
		p     store.Principal
		roles []store.Member
		found bool
	)
	for rows.Next() {
		pp, m, err := scanPrincipalRole(rows)
		if err != nil {
			return store.Principal{}, nil, fmt.Errorf("read principal %q: %w", id, err)
		}
		p, found = pp, true
		if m.Project != "" {
			roles = append(roles, m)
		}
	}
	if err := rows.Err(); err != nil {
		return store.Principal{}, nil, fmt.Errorf("read principal %q: %w", id, err)
	}
	if !found {
		return store.Principal{}, nil, fmt.Errorf("principal %q: %w", id, store.ErrNotFound)
	}
	sortRoles(roles)
	return p, roles, nil
}

// scanPrincipalRole scans leading columns into lead, then a principal and
// one of its roles (project "" when it has none).
func scanPrincipalRole(sc interface{ Scan(...any) error }, lead ...any) (store.Principal, store.Member, error) {
	var (
		p              store.Principal
		m              store.Member
		clearance      string
		iss, sub, cert sql.NullString
		created        int64
		disabled       sql.NullInt64
	)
	dst := append(lead, &p.ID, &p.Name, &p.Kind, &p.Admin, &clearance, &p.Email, &iss, &sub, &cert, &created, &disabled,
		&m.Project, &m.Role, &m.Source)
	if err := sc.Scan(dst...); err != nil {
		return p, m, err
	}
	p.Clearance = store.Classification(clearance)
	p.OIDCIssuer, p.OIDCSubject, p.CertSubject = iss.String, sub.String, cert.String
	p.Created = fromMicros(created)
	p.Disabled = fromNullMicros(disabled)
	m.PrincipalID, m.PrincipalName = p.ID, p.Name
	return p, m, nil
}

// PatchPrincipal implements store.Store.
func (s *Store) PatchPrincipal(ctx context.Context, id string, p store.PrincipalPatch) error {
	var (
		admin     sql.NullBool
		clearance sql.NullString
		email     sql.NullString
		cert      sql.NullString
		disabled  sql.NullInt64
	)
	if p.Admin != nil {
		admin = sql.NullBool{Bool: *p.Admin, Valid: true}
	}
	if p.Clearance != nil {
		if !p.Clearance.Valid() {
			return fmt.Errorf("patch principal %q: clearance %.40q: %w", id, *p.Clearance, store.ErrInvalid)
		}
		clearance = sql.NullString{String: string(*p.Clearance), Valid: true}
	}
	if p.Email != nil {
		email = sql.NullString{String: *p.Email, Valid: true}
	}
	if p.CertSubject != nil {
		cert = nullString(*p.CertSubject)
	}
	if p.Disabled != nil && !p.Disabled.IsZero() {
		disabled = sql.NullInt64{Int64: micros(*p.Disabled), Valid: true}
	}
	res, err := s.write.ExecContext(ctx, s.sqlOf(qPatchPrincipal), admin, clearance, email,
		p.CertSubject != nil, cert, p.Disabled != nil, disabled, id)
	if err != nil {
		if s.d.IsUnique(err) {
			return fmt.Errorf("patch principal %q: %w", id, store.ErrExists)
		}
		return fmt.Errorf("patch principal %q: %w", id, err)
	}
	return affected(res, fmt.Sprintf("principal %q", id))
}

// sortRoles orders roles by project, in Go rather than SQL: a sort step
// in the query of every authenticated request costs more.
func sortRoles(ms []store.Member) {
	slices.SortFunc(ms, func(a, b store.Member) int { return strings.Compare(a.Project, b.Project) })
}
