package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Drivers wrap them with what they were doing; callers test
// them with errors.Is.
var (
	// ErrNotFound means the object asked for, or an object it needs (the
	// project of a repository, the manifest a tag should name), does not
	// exist.
	ErrNotFound = errors.New("not found")
	// ErrExists means an object with the same unique key already exists.
	ErrExists = errors.New("already exists")
	// ErrConflict is an alias of ErrExists, for callers that think of a
	// uniqueness violation as a conflict.
	ErrConflict = ErrExists
	// ErrRevoked means the API token exists but has been revoked.
	ErrRevoked = errors.New("token revoked")
	// ErrInvalid means an argument is missing or malformed (an empty name,
	// a negative size); nothing was written.
	ErrInvalid = errors.New("invalid argument")
	// ErrQuotaExceeded means the write would take a project over one of
	// its quotas; the error is a *QuotaError saying which. Nothing was
	// written.
	ErrQuotaExceeded = errors.New("quota exceeded")
	// ErrSchemaNewer means the database was migrated by a newer Palisade
	// than this binary; it is refused rather than used with a schema this
	// binary does not know.
	ErrSchemaNewer = errors.New("database schema is newer than this binary")
)

// Project is the unit of tenancy and of encryption: every blob in it has a
// data key wrapped by the project's key-encryption key.
type Project struct {
	Name string
	// KeyID references the project's key-encryption key (a keeper URL or
	// key file name); the key itself is never stored here.
	KeyID   string
	Quota   Quota
	Created time.Time
}

// Quota bounds what a project may hold; zero fields are unlimited.
type Quota struct {
	Bytes     int64 // plaintext bytes of the project's blobs
	Artifacts int64 // manifests
}

// QuotaError is the error of a write refused by a quota. It wraps
// ErrQuotaExceeded.
type QuotaError struct {
	Project string
	What    string // "storage" or "artifacts"
	Limit   int64
	Usage   int64 // what the project holds now
	Adding  int64 // what the refused write would add
}

func (e *QuotaError) Error() string {
	if e.What == "artifacts" {
		return fmt.Sprintf("project %s holds %d of its quota of %d artifacts: delete artifacts or ask an administrator to raise the quota", e.Project, e.Usage, e.Limit)
	}
	return fmt.Sprintf("project %s: storing %d more bytes would exceed its storage quota (%d of %d bytes used): delete artifacts or ask an administrator to raise the quota", e.Project, e.Adding, e.Usage, e.Limit)
}

// Unwrap makes errors.Is(err, ErrQuotaExceeded) hold.
func (e *QuotaError) Unwrap() error { return ErrQuotaExceeded }

// ProjectKey is one version of a project's key-encryption key, wrapped by
// the server's master key. The key itself is never stored in the clear.
type ProjectKey struct {
	Version     int
	Wrapped     []byte
	MasterKeyID string // names the master key that wrapped it
	Created     time.Time
}

// Usage counts what a project holds.
type Usage struct {
	Repositories int64
	Manifests    int64
	Blobs        int64
	BlobBytes    int64 // plaintext bytes
}

// Repository is a named collection of manifests and tags in a project.
type Repository struct {
	Project string
	Name    string
	Created time.Time
}

// Blob is the metadata of one encrypted, content-addressed blob. Digest and
// Size describe the plaintext.
type Blob struct {
	Project   string
	Digest    string // "sha256:<hex>" of the plaintext
	Size      int64  // plaintext size in bytes
	MediaType string // optional
	// WrappedKey is the blob's data key, encrypted by the project's
	// key-encryption key.
	WrappedKey []byte
	// AADContext is the associated-data context the blob object was
	// sealed with (internal/blob's Blob.AADContext); with WrappedKey it is
	// what decrypting the object needs.
	AADContext string
	Created    time.Time
}

// Classification is how sensitive an artifact is, from least to most.
type Classification string

// The classifications, in increasing order of sensitivity.
const (
	Public       Classification = "public"
	Internal     Classification = "internal"
	Confidential Classification = "confidential"
	Restricted   Classification = "restricted"
)

// Valid reports whether c is one of the four classifications.
func (c Classification) Valid() bool {
	switch c {
	case Public, Internal, Confidential, Restricted:
		return true
	}
	return false
}

// Kinds of artifact.
const (
	KindModel    = "model"
	KindDataset  = "dataset"
	KindImage    = "image"
	KindArtifact = "artifact" // anything else
)

// ArtifactMeta is the metadata of an artifact (a manifest): set from its
// annotations when pushed, edited through the API.
type ArtifactMeta struct {
	Kind           string // KindModel, KindDataset, KindImage or KindArtifact
	Classification Classification
	Owner          string
	Description    string
	Framework      string // pytorch, tensorflow, sklearn...
	Format         string // safetensors, gguf, onnx, parquet...
	License        string // SPDX expression
	// ModelCard is the digest of the artifact's model card (README.md
	// layer), or "".
	ModelCard string
	Labels    map[string]string
	// DataTags mark sensitive contents: pii, phi, pci...
	DataTags []string
}

// ClassificationChange records a change of an artifact's classification.
type ClassificationChange struct {
	Project, Repository, Digest string
	From, To                    Classification
	Actor                       string // principal ID
	Reason                      string
	At                          time.Time
}

// Artifact is a manifest with its tags, as listed by ListArtifacts.
type Artifact struct {
	Manifest
	Tags []string
}

// ArtifactFilter selects artifacts of a project. Empty fields match all.
type ArtifactFilter struct {
	Repository     string // exact repository name
	Kind           string
	Classification Classification
	// Query matches a substring of the repository name or description,
	// case-insensitively.
	Query string
	// Labels must all be present with these values.
	Labels map[string]string
	// AtMost, when not empty, lists the classifications an artifact may
	// have to be listed (a caller's clearance and those below it).
	AtMost []Classification
}

// Manifest is an OCI manifest (or index) stored in a repository.
type Manifest struct {
	Project      string
	Repository   string
	Digest       string // digest of Body
	MediaType    string
	ArtifactType string // optional
	Subject      string // digest of the subject manifest, or ""
	Size         int64  // len(Body); set by the store
	Body         []byte
	Meta         ArtifactMeta
	// Blobs are the digests of the blobs the manifest references (config
	// and layers), recorded by PutManifest so that garbage collection
	// never deletes a referenced blob. Not read back.
	Blobs   []string
	Created time.Time
}

// Principal kinds.
const (
	KindUser    = "user"
	KindService = "service"
)

// Principal is a user or a service account.
type Principal struct {
	ID        string // stable, unique
	Name      string // login name, unique
	Kind      string // KindUser or KindService
	Admin     bool   // system administrator
	Clearance Classification
	Email     string
	// OIDCIssuer and OIDCSubject tie a user to its single sign-on
	// identity; empty for others. The pair is unique.
	OIDCIssuer, OIDCSubject string
	// CertSubject is the subject of the client certificate that
	// authenticates this service account over mutual TLS, or "". Unique.
	CertSubject string
	Created     time.Time
	Disabled    time.Time // zero while enabled
}

// Enabled reports whether the principal may authenticate.
func (p Principal) Enabled() bool { return p.Disabled.IsZero() }

// PrincipalPatch lists the fields of a principal to change; nil fields
// keep their value.
type PrincipalPatch struct {
	Admin       *bool
	Clearance   *Classification
	Email       *string
	CertSubject *string // "" removes it
	// Disabled sets (a non-zero time) or clears (the zero time) the
	// disabled time.
	Disabled *time.Time
}

// Member is a principal's role in a project.
type Member struct {
	Project       string
	PrincipalID   string
	PrincipalName string // set when read
	Role          string // internal/access role name
	// Source says who granted it: "manual" (the API) or "oidc" (a group
	// mapping, refreshed at each single sign-on).
	Source  string
	Created time.Time
}

// Credential is an API token with its owner and the owner's roles.
type Credential struct {
	Token Token
	Owner Principal
	Roles []Member
}

// Token is an API token's record. The token secret is never stored: only its
// SHA-256 hash.
type Token struct {
	ID          string // public identifier, unique
	Name        string // human label, not unique
	PrincipalID string // the owner
	// Scope limits the token below its owner's access, in
	// internal/auth's encoding; "" means all of the owner's access.
	Scope    string
	Hash     [sha256.Size]byte // SHA-256 of the token secret, unique
	Created  time.Time
	Expires  time.Time // zero for a token that does not expire
	LastUsed time.Time // zero if never used
	Revoked  time.Time // zero while the token is valid
}

// Active reports whether the token has not been revoked.
func (t Token) Active() bool { return t.Revoked.IsZero() }

// SessionToken is a short-lived registry bearer token issued in exchange
// for an API token (the OCI token flow). Only its SHA-256 hash is stored.
type SessionToken struct {
	Hash    [sha256.Size]byte
	TokenID string // the API token it was issued for
	// Scope is what the token endpoint granted, in its own encoding
	// (internal/auth); the store keeps it opaque.
	Scope   string
	Expires time.Time
}

// SSORequest is a single sign-on login in progress: a browser login's
// nonce and PKCE verifier, or a device login's provider state. The client
// holds a random handle; only its SHA-256 is stored.
type SSORequest struct {
	HandleHash [sha256.Size]byte
	Kind       string // "code" or "device"
	Nonce      string
	Verifier   string
	// Device is the provider's device authorization, in internal/sso's
	// encoding; the store keeps it opaque.
	Device  string
	Expires time.Time
}

// AuditRecord is one stored audit entry: its index in the log, its exact
// bytes (what the tree hashes), and columns copied out of it for searching.
type AuditRecord struct {
	Index      int64
	Data       []byte
	Time       time.Time
	RequestID  string
	Action     string
	Actor      string // pseudonym
	Project    string
	Repository string
	Digest     string
	Outcome    string
}

// AuditHash is one stored hash of the audit log's Merkle tree, at its
// stored-hash index (internal/auditlog's layout; opaque to the store).
type AuditHash struct {
	ID   int64
	Hash [sha256.Size]byte
}

// AuditCheckpoint is a stored signed checkpoint of the audit log.
type AuditCheckpoint struct {
	Size int64
	Note []byte
}

// AuditQuery selects audit records; empty fields match all. Records come
// in index order, after After (-1 for from the start), at most N.
type AuditQuery struct {
	From, To   time.Time // time range, To exclusive; zero is open
	Actor      string
	Action     string
	Project    string
	Repository string
	Digest     string
	Outcome    string
	After      int64
	N          int
}

// AuditTx is the write side of the audit log inside one transaction that
// holds the log's sequencer lock: one appender at a time, across servers.
type AuditTx interface {
	// Size returns the number of entries.
	Size(ctx context.Context) (int64, error)
	// Hashes returns the stored hashes with these IDs, in order, or
	// ErrNotFound if one is missing.
	Hashes(ctx context.Context, ids []int64) ([][sha256.Size]byte, error)
	// Insert records entries (whose indexes must continue the log) and
	// stored hashes. ErrExists if an index or hash ID is taken.
	Insert(ctx context.Context, recs []AuditRecord, hashes []AuditHash) error
	// PutCheckpoint records the signed checkpoint of a tree size.
	PutCheckpoint(ctx context.Context, size int64, note []byte) error
	// Checkpoint returns the checkpoint of the largest size, or
	// ErrNotFound when there is none.
	Checkpoint(ctx context.Context) (size int64, note []byte, err error)
}

// Page selects a window of a lexically ordered list, like the OCI n and last
// query parameters: at most N entries (all when N <= 0) that sort strictly
// after Last (from the start when Last is "").
type Page struct {
	N    int
	Last string
}

// Store is the metadata store. Every method takes the request's context
// first and is safe for concurrent use. Errors wrap the sentinels above;
// any other error is a database failure.
type Store interface {
	// CreateProject creates a project and returns it with Created set.
	// ErrExists if the name is taken, ErrInvalid if it is empty.
	CreateProject(ctx context.Context, p Project) (Project, error)
	// Project returns the named project, or ErrNotFound.
	Project(ctx context.Context, name string) (Project, error)
	// ListProjects returns all projects in lexical order of name.
	ListProjects(ctx context.Context) ([]Project, error)

	// DeleteProject removes the project and everything recorded in it
	// (repositories, manifests, tags, blob records, keys), or returns
	// ErrNotFound.
	DeleteProject(ctx context.Context, name string) error
	// ProjectUsage counts the project's repositories, manifests and
	// blobs. ErrNotFound if it does not exist.
	ProjectUsage(ctx context.Context, name string) (Usage, error)
	// CreateProjectKey records a key version. ErrExists if the project
	// has that version, ErrNotFound if the project does not exist.
	CreateProjectKey(ctx context.Context, project string, k ProjectKey) error
	// ProjectKeys returns the project's key versions, oldest first.
	// ErrNotFound if the project does not exist.
	ProjectKeys(ctx context.Context, project string) ([]ProjectKey, error)
	// UpdateProjectKey replaces a key version's wrapped form (a master
	// key rotation), or returns ErrNotFound.
	UpdateProjectKey(ctx context.Context, project string, k ProjectKey) error
	// DeleteProjectKey removes a key version, or returns ErrNotFound.
	DeleteProjectKey(ctx context.Context, project string, version int) error

	// EnsureRepository returns the repository, creating it if it does not
	// exist (idempotent, safe under concurrent calls). ErrNotFound if the
	// project does not exist.
	EnsureRepository(ctx context.Context, project, name string) (Repository, error)
	// Repository returns the repository, or ErrNotFound.
	Repository(ctx context.Context, project, name string) (Repository, error)
	// ListRepositories returns a page of the project's repositories in
	// lexical order of name. ErrNotFound if the project does not exist.
	ListRepositories(ctx context.Context, project string, page Page) ([]Repository, error)

	// CreateBlob records a blob and returns it with Created set.
	// ErrExists if the project already has a blob with this digest (the
	// existing record is unchanged), ErrNotFound if the project does not
	// exist, a *QuotaError if the project's storage quota would be
	// exceeded (checked in the same transaction, so concurrent writers
	// cannot both take the last bytes).
	CreateBlob(ctx context.Context, b Blob) (Blob, error)
	// Blob returns the project's blob with this digest, or ErrNotFound.
	Blob(ctx context.Context, project, digest string) (Blob, error)
	// ListBlobs returns a page of the project's blob records in digest
	// order (Page.Last is the last digest of the previous page).
	// ErrNotFound if the project does not exist.
	ListBlobs(ctx context.Context, project string, page Page) ([]Blob, error)
	// UpdateBlobKey replaces the blob's wrapped key with wrapped if it is
	// still old (a key rotation); ErrConflict if it changed, ErrNotFound
	// if there is no such blob.
	UpdateBlobKey(ctx context.Context, project, digest string, old, wrapped []byte) error
	// UnreferencedBlobs returns up to n of the project's blobs created
	// before the cutoff that no manifest references, in digest order.
	UnreferencedBlobs(ctx context.Context, project string, before time.Time, n int) ([]Blob, error)
	// DeleteBlobIfUnreferenced removes the blob's record if, checked in
	// the same transaction as the deletion, it was created before the
	// cutoff and no manifest references it; it reports whether it did.
	DeleteBlobIfUnreferenced(ctx context.Context, project, digest string, before time.Time) (bool, error)
	// ManifestsWithoutRefs returns up to n manifests stored before their
	// references were recorded (schema version 6), with Project and
	// Repository set; SetManifestRefs records them.
	ManifestsWithoutRefs(ctx context.Context, n int) ([]Manifest, error)
	// SetManifestRefs records the blobs a stored manifest references.
	SetManifestRefs(ctx context.Context, project, repo, digest string, blobs []string) error
	// BlobClassification returns the highest classification among the
	// project's manifests that reference the blob, or "" when none does
	// (a blob uploaded but not yet part of an artifact).
	BlobClassification(ctx context.Context, project, digest string) (Classification, error)
	// DeleteBlob removes the blob's record, or returns ErrNotFound.
	DeleteBlob(ctx context.Context, project, digest string) error

	// PutManifest stores m in its repository and, when tag is not empty,
	// points tag at it, in one transaction. Storing a manifest that the
	// repository already has is not an error (the content is the same by
	// construction) and still moves the tag. A new manifest's Blobs are
	// recorded as its references, each checked (and, on PostgreSQL,
	// share-locked) in the same transaction: ErrNotFound if one is not in
	// the project, or if the repository does not exist. A new manifest
	// that would take the project over its artifact quota is refused
	// with a *QuotaError.
	PutManifest(ctx context.Context, m Manifest, tag string) (Manifest, error)
	// Manifest returns the repository's manifest with this digest, or
	// ErrNotFound.
	Manifest(ctx context.Context, project, repo, digest string) (Manifest, error)
	// ManifestByTag returns the manifest the tag names, or ErrNotFound.
	ManifestByTag(ctx context.Context, project, repo, tag string) (Manifest, error)
	// DeleteManifest removes the manifest and every tag naming it, or
	// returns ErrNotFound.
	DeleteManifest(ctx context.Context, project, repo, digest string) error
	// Referrers returns the repository's manifests whose subject is
	// subject, filtered by artifactType when it is not empty, in digest
	// order. An unknown repository or subject yields an empty list.
	Referrers(ctx context.Context, project, repo, subject, artifactType string) ([]Manifest, error)

	// ListArtifacts returns a page of the project's artifacts (manifests
	// with their tags) that match f, ordered by repository name then
	// digest; page.Last is the cursor "REPOSITORY@DIGEST" of the last
	// artifact of the previous page. ErrNotFound if the project does not
	// exist.
	ListArtifacts(ctx context.Context, project string, f ArtifactFilter, page Page) ([]Artifact, error)
	// SetArtifactMeta replaces the metadata of the repository's manifest,
	// or returns ErrNotFound. ErrInvalid for an unknown classification.
	// change carries the caller's view: when its From is set and differs
	// from the stored classification, nothing is written and the error is
	// ErrConflict (the caller decided on stale data). When the
	// classification changes, change (its Actor and Reason, the actor
	// required) is recorded in the same transaction; change may be nil
	// otherwise.
	SetArtifactMeta(ctx context.Context, project, repo, digest string, meta ArtifactMeta, change *ClassificationChange) error
	// ClassificationChanges returns the recorded changes of the
	// manifest's classification, oldest first.
	ClassificationChanges(ctx context.Context, project, repo, digest string) ([]ClassificationChange, error)
	// TagsOf returns the names of the tags naming the repository's
	// manifest, in lexical order.
	TagsOf(ctx context.Context, project, repo, digest string) ([]string, error)

	// SetTag points tag at the repository's manifest digest, creating or
	// moving it. ErrNotFound if the manifest is not in the repository.
	SetTag(ctx context.Context, project, repo, tag, digest string) error
	// DeleteTag removes the tag (not the manifest), or returns ErrNotFound.
	DeleteTag(ctx context.Context, project, repo, tag string) error
	// ListTags returns a page of the repository's tag names in lexical
	// order. ErrNotFound if the repository does not exist.
	ListTags(ctx context.Context, project, repo string, page Page) ([]string, error)

	// SetQuota sets the project's quota, or returns ErrNotFound.
	SetQuota(ctx context.Context, project string, q Quota) error

	// CreatePrincipal records a user or service account and returns it
	// with Created set. ErrExists if its ID, name, OIDC identity or
	// certificate subject is taken; ErrInvalid if ID, name, kind or
	// clearance is missing or unknown.
	CreatePrincipal(ctx context.Context, p Principal) (Principal, error)
	// Principal returns the principal with this ID, or ErrNotFound.
	Principal(ctx context.Context, id string) (Principal, error)
	// PrincipalByName returns the principal with this name, or
	// ErrNotFound.
	PrincipalByName(ctx context.Context, name string) (Principal, error)
	// PrincipalByOIDC returns the user tied to this single sign-on
	// identity, or ErrNotFound.
	PrincipalByOIDC(ctx context.Context, issuer, subject string) (Principal, error)
	// PrincipalByCert returns the service account with this client
	// certificate subject, or ErrNotFound.
	PrincipalByCert(ctx context.Context, subject string) (Principal, error)
	// ListPrincipals returns every principal ordered by name.
	ListPrincipals(ctx context.Context) ([]Principal, error)
	// UpdatePrincipal replaces the principal's admin flag, clearance,
	// email, OIDC identity, certificate subject and disabled time (not its
	// ID, name or kind). ErrNotFound, ErrExists as in CreatePrincipal.
	UpdatePrincipal(ctx context.Context, p Principal) error

	// PatchPrincipal changes only the fields patch sets, in one statement,
	// so that concurrent changes of other fields are not lost.
	// ErrNotFound, ErrExists (certificate subject) and ErrInvalid
	// (clearance) as in UpdatePrincipal.
	PatchPrincipal(ctx context.Context, id string, patch PrincipalPatch) error

	// SetMember gives the principal a role in the project, replacing its
	// previous one. ErrNotFound if either does not exist.
	SetMember(ctx context.Context, m Member) error
	// RemoveMember removes the principal from the project, or returns
	// ErrNotFound.
	RemoveMember(ctx context.Context, project, principalID string) error
	// Members returns the project's members ordered by principal name.
	// ErrNotFound if the project does not exist.
	Members(ctx context.Context, project string) ([]Member, error)
	// MembershipsOf returns the principal's roles, ordered by project.
	MembershipsOf(ctx context.Context, principalID string) ([]Member, error)

	// CreateToken records a token and returns it with Created set (and
	// LastUsed, Revoked cleared). ErrExists if the ID or the hash is
	// taken, ErrInvalid if the ID or the owner is empty, ErrNotFound if
	// the owner does not exist.
	CreateToken(ctx context.Context, t Token) (Token, error)
	// CredentialByHash returns the token whose hash is hash with its owner
	// and the owner's roles, in one read: what authenticating a request
	// needs. Errors as TokenByHash; a token without an owner is
	// ErrNotFound.
	CredentialByHash(ctx context.Context, hash [sha256.Size]byte) (Credential, error)
	// PrincipalWithRoles returns the principal and its roles in one read,
	// or ErrNotFound.
	PrincipalWithRoles(ctx context.Context, id string) (Principal, []Member, error)
	// Token returns the token with this ID (revoked or not), or
	// ErrNotFound.
	Token(ctx context.Context, id string) (Token, error)
	// TokenByHash returns the token whose hash is hash: ErrNotFound if
	// there is none, ErrRevoked (and the zero Token) if it was revoked.
	TokenByHash(ctx context.Context, hash [sha256.Size]byte) (Token, error)
	// TouchToken sets the token's LastUsed time, or returns ErrNotFound.
	TouchToken(ctx context.Context, id string, at time.Time) error
	// RevokeToken revokes the token; revoking a revoked token keeps the
	// first revocation time. ErrNotFound if there is no such token.
	RevokeToken(ctx context.Context, id string) error
	// ListTokens returns every token, revoked ones included, ordered by ID.
	ListTokens(ctx context.Context) ([]Token, error)

	// CreateSessionToken records a session token. ErrNotFound if its API
	// token does not exist, ErrExists if the hash is taken.
	CreateSessionToken(ctx context.Context, st SessionToken) error
	// SessionToken returns the unexpired session token whose hash is hash,
	// with the API token it was issued for: ErrNotFound if there is none
	// or it expired before now, ErrRevoked if the API token was revoked.
	SessionToken(ctx context.Context, hash [sha256.Size]byte, now time.Time) (SessionToken, Token, error)
	// DeleteExpiredSessionTokens removes session tokens that expired
	// before now and returns how many it removed.
	DeleteExpiredSessionTokens(ctx context.Context, now time.Time) (int64, error)

	// CreateSSORequest records a login in progress and removes expired
	// ones. ErrExists if the handle is taken.
	CreateSSORequest(ctx context.Context, r SSORequest) error
	// SSORequest returns the unexpired login whose handle hashes to hash,
	// or ErrNotFound.
	SSORequest(ctx context.Context, hash [sha256.Size]byte, now time.Time) (SSORequest, error)
	// DeleteSSORequest removes the login, or returns ErrNotFound when it
	// is gone: of concurrent callers exactly one succeeds, which makes a
	// login single-use.
	DeleteSSORequest(ctx context.Context, hash [sha256.Size]byte) error

	// AuditAppend runs fn in one write transaction holding the audit
	// log's sequencer lock and commits it when fn succeeds.
	AuditAppend(ctx context.Context, fn func(AuditTx) error) error
	// AuditSize returns the number of audit entries.
	AuditSize(ctx context.Context) (int64, error)
	// AuditEntries returns up to n records from index start, in order.
	AuditEntries(ctx context.Context, start int64, n int) ([]AuditRecord, error)
	// AuditHashes returns stored tree hashes by ID (ErrNotFound if one is
	// missing).
	AuditHashes(ctx context.Context, ids []int64) ([][sha256.Size]byte, error)
	// AuditCheckpoint returns the checkpoint of the largest tree size, or
	// ErrNotFound when there is none.
	AuditCheckpoint(ctx context.Context) (size int64, note []byte, err error)
	// AuditCheckpoints returns up to n checkpoints of sizes above after,
	// smallest first: (size, note) pairs.
	AuditCheckpoints(ctx context.Context, after int64, n int) ([]AuditCheckpoint, error)
	// AuditSearch returns the records q selects.
	AuditSearch(ctx context.Context, q AuditQuery) ([]AuditRecord, error)
	// AuditKey returns the wrapped checkpoint signing key and its verifier
	// key text, or ErrNotFound; CreateAuditKey records them (ErrExists if
	// another server did first).
	AuditKey(ctx context.Context, id string) (wrapped []byte, verifier string, err error)
	CreateAuditKey(ctx context.Context, id string, wrapped []byte, verifier string) error
	// AuditSubject returns a principal's wrapped pseudonym key and epoch,
	// or ErrNotFound; CreateAuditSubject records one (ErrExists if it has
	// one); DeleteAuditSubject destroys it (ErrNotFound if none).
	AuditSubject(ctx context.Context, principalID string) (wrapped []byte, epoch int, err error)
	CreateAuditSubject(ctx context.Context, principalID string, wrapped []byte, epoch int) error
	DeleteAuditSubject(ctx context.Context, principalID string) error
	// RewrapAudit passes every wrapped audit key (the checkpoint key and
	// the pseudonym keys) to rewrap and stores what it returns when it
	// reports a change, in one transaction; it returns how many changed.
	RewrapAudit(ctx context.Context, rewrap func(wrapped []byte) ([]byte, bool, error)) (int, error)

	// Close releases the database connections.
	Close() error
}
