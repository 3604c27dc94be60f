package api

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/palisade-sec/palisade/internal/access"
	"github.com/palisade-sec/palisade/internal/auditlog"
	"github.com/palisade-sec/palisade/internal/auth"
	"github.com/palisade-sec/palisade/internal/registry"
	"github.com/palisade-sec/palisade/internal/server"
	"github.com/palisade-sec/palisade/internal/store"
)

// Route is one route of the API: its method and path pattern (OpenAPI
// syntax, which http.ServeMux also reads), and the access.Action it
// performs, which the guard decides before the handler runs (on the
// {project} of the path when there is one).
type Route struct {
	Method string
	Path   string
	Action access.Action
	// Classified routes read an artifact's bytes or detail: the guard
	// checks the permission, the handler the clearance once it knows the
	// artifact's classification.
	Classified bool
	// Public routes need no credentials (single sign-on): the guard only
	// applies the per-source rate limit.
	Public bool
	// Audit is the audit action of a route that changes state: the guard
	// records it before the handler runs (fail closed) and records the
	// change aborted when the handler fails.
	Audit auditlog.Action
	h     func(*API, http.ResponseWriter, *http.Request, auth.Principal)
}

// Routes returns every route the API serves.
func Routes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/auth/sso", Public: true, h: (*API).ssoInfo},
		{Method: "GET", Path: "/api/v1/auth/sso/login", Public: true, h: (*API).ssoLogin},
		{Method: "GET", Path: "/api/v1/auth/sso/callback", Public: true, h: (*API).ssoCallback},
		{Method: "POST", Path: "/api/v1/auth/sso/device", Public: true, h: (*API).ssoDevice},
		{Method: "POST", Path: "/api/v1/auth/sso/device/token", Public: true, h: (*API).ssoDeviceToken},
		{Method: "GET", Path: "/api/v1/whoami", Action: access.ActWhoami, h: (*API).whoami},
		{Method: "GET", Path: "/api/v1/tokens", Action: access.ActOwnTokens, h: (*API).listTokens},
		{Method: "POST", Path: "/api/v1/tokens", Action: access.ActOwnTokens, Audit: auditlog.ActionTokenCreate, h: (*API).createToken},
		{Method: "DELETE", Path: "/api/v1/tokens/{id}", Action: access.ActOwnTokens, Audit: auditlog.ActionTokenRevoke, h: (*API).revokeToken},
		{Method: "GET", Path: "/api/v1/users", Action: access.ActManageUsers, h: (*API).listUsers},
		{Method: "POST", Path: "/api/v1/users", Action: access.ActManageUsers, Audit: auditlog.ActionUserCreate, h: (*API).createUser},
		{Method: "GET", Path: "/api/v1/users/{name}", Action: access.ActManageUsers, h: (*API).getUser},
		{Method: "PATCH", Path: "/api/v1/users/{name}", Action: access.ActManageUsers, Audit: auditlog.ActionUserChange, h: (*API).patchUser},
		{Method: "GET", Path: "/api/v1/projects", Action: access.ActListProject, h: (*API).listProjects},
		// Recorded by the handler, which knows the project's name.
		{Method: "POST", Path: "/api/v1/projects", Action: access.ActCreateProject, h: (*API).createProject},
		{Method: "GET", Path: "/api/v1/projects/{project}", Action: access.ActReadProject, h: (*API).getProject},
		{Method: "GET", Path: "/api/v1/projects/{project}/members", Action: access.ActReadMembers, h: (*API).listMembers},
		{Method: "PUT", Path: "/api/v1/projects/{project}/members/{name}", Action: access.ActManageMembers, Audit: auditlog.ActionMemberSet, h: (*API).setMember},
		{Method: "DELETE", Path: "/api/v1/projects/{project}/members/{name}", Action: access.ActManageMembers, Audit: auditlog.ActionMemberRemove, h: (*API).removeMember},
		{Method: "GET", Path: "/api/v1/projects/{project}/usage", Action: access.ActReadUsage, h: (*API).getUsage},
		{Method: "PUT", Path: "/api/v1/projects/{project}/quota", Action: access.ActSetQuota, Audit: auditlog.ActionQuotaSet, h: (*API).setQuota},
		{Method: "GET", Path: "/api/v1/projects/{project}/repositories", Action: access.ActListArtifacts, h: (*API).listRepositories},
		{Method: "GET", Path: "/api/v1/projects/{project}/artifacts", Action: access.ActListArtifacts, h: (*API).listArtifacts},
		{Method: "GET", Path: "/api/v1/projects/{project}/artifacts/{digest}", Action: access.ActReadArtifact, Classified: true, h: (*API).getArtifact},
		{Method: "PATCH", Path: "/api/v1/projects/{project}/artifacts/{digest}", Action: access.ActEditMeta, Audit: auditlog.ActionMetadataChange, h: (*API).patchArtifact},
		{Method: "POST", Path: "/api/v1/admin/rotate-keys", Action: access.ActKeys, Audit: auditlog.ActionKeyRotate, h: (*API).rotateKeys},
		{Method: "POST", Path: "/api/v1/admin/projects/{project}/shred", Action: access.ActKeys, Audit: auditlog.ActionKeyShred, h: (*API).shredProject},
		{Method: "POST", Path: "/api/v1/admin/fsck", Action: access.ActMaintenance, Audit: auditlog.ActionMaintenanceFsck, h: (*API).fsck},
		{Method: "GET", Path: "/api/v1/audit", Action: access.ActAuditLog, h: (*API).auditInfo},
		{Method: "GET", Path: "/api/v1/audit/entries", Action: access.ActAuditLog, h: (*API).auditEntries},
		{Method: "GET", Path: "/api/v1/audit/entries/{index}/proof", Action: access.ActAuditLog, h: (*API).auditProof},
		{Method: "GET", Path: "/api/v1/audit/checkpoints", Action: access.ActAuditLog, h: (*API).auditCheckpoints},
		{Method: "GET", Path: "/api/v1/audit/tiles/{path...}", Action: access.ActAuditLog, h: (*API).auditTiles},
		{Method: "GET", Path: "/api/v1/projects/{project}/audit/entries", Action: access.ActReadAudit, h: (*API).projectAuditEntries},
		{Method: "POST", Path: "/api/v1/admin/erase-subject", Action: access.ActManageUsers, h: (*API).eraseSubject},
		{Method: "POST", Path: "/api/v1/admin/gc", Action: access.ActMaintenance, Audit: auditlog.ActionMaintenanceGC, h: (*API).gc},
	}
}

// Store is what the API needs from the metadata store.
type Store interface {
	CreateProject(ctx context.Context, p store.Project) (store.Project, error)
	Project(ctx context.Context, name string) (store.Project, error)
	ListProjects(ctx context.Context) ([]store.Project, error)
	ListRepositories(ctx context.Context, project string, page store.Page) ([]store.Repository, error)
	ListArtifacts(ctx context.Context, project string, f store.ArtifactFilter, page store.Page) ([]store.Artifact, error)
	Manifest(ctx context.Context, project, repo, digest string) (store.Manifest, error)
	ManifestByTag(ctx context.Context, project, repo, tag string) (store.Manifest, error)
	TagsOf(ctx context.Context, project, repo, digest string) ([]string, error)
	Referrers(ctx context.Context, project, repo, subject, artifactType string) ([]store.Manifest, error)
	SetArtifactMeta(ctx context.Context, project, repo, digest string, meta store.ArtifactMeta, change *store.ClassificationChange) error
	ClassificationChanges(ctx context.Context, project, repo, digest string) ([]store.ClassificationChange, error)
	ProjectUsage(ctx context.Context, name string) (store.Usage, error)
	SetQuota(ctx context.Context, project string, q store.Quota) error

	CreatePrincipal(ctx context.Context, p store.Principal) (store.Principal, error)
	Principal(ctx context.Context, id string) (store.Principal, error)
	PrincipalByName(ctx context.Context, name string) (store.Principal, error)
	ListPrincipals(ctx context.Context) ([]store.Principal, error)
	PatchPrincipal(ctx context.Context, id string, patch store.PrincipalPatch) error
	SetMember(ctx context.Context, m store.Member) error
	RemoveMember(ctx context.Context, project, principalID string) error
	Members(ctx context.Context, project string) ([]store.Member, error)
	MembershipsOf(ctx context.Context, principalID string) ([]store.Member, error)

	CreateToken(ctx context.Context, t store.Token) (store.Token, error)
	Token(ctx context.Context, id string) (store.Token, error)
	ListTokens(ctx context.Context) ([]store.Token, error)
	RevokeToken(ctx context.Context, id string) error
}

// Options configures an API.
type Options struct {
	Store Store
	Auth  *auth.Authenticator
	// ProjectKeyID is recorded as a new project's key-encryption key.
	ProjectKeyID string
	// Keys and Objects serve the admin key routes; nil answers 501.
	Keys    KeyAdmin
	Objects ObjectRemover
	// Maintenance serves fsck and gc; nil answers 501.
	Maintenance Maintainer
	// SSO serves single sign-on; nil when it is not configured.
	SSO SingleSignOn
	// Audit records denials and changes; nil records nothing (tests).
	Audit Recorder
	// AuditLog, AuditOrigin and AuditVerifierKey serve the audit log's
	// read routes; Eraser serves erase-subject. Nil answers 501.
	AuditLog         AuditReader
	AuditOrigin      string
	AuditVerifierKey string
	// AuditRefusing, when set, says why the log refuses appends
	// (auditlog.Log.Refusing), for GET /api/v1/audit.
	AuditRefusing func() error
	Eraser        Eraser
	Logger        *slog.Logger
	// Now and Rand default to time.Now and crypto/rand.Reader (token
	// expiry and generation).
	Now  func() time.Time
	Rand io.Reader
}

// API is the /api/v1 handler set.
type API struct {
	st      Store
	auth    *auth.Authenticator
	keyID   string
	keys    KeyAdmin
	objects ObjectRemover
	maint   Maintainer
	sso     SingleSignOn
	audit   Recorder
	// The audit log's read side.
	auditRead   AuditReader
	auditOrigin string
	auditKey    string
	// auditRefusing says why the log refuses appends; nil when unknown.
	auditRefusing func() error
	eraser        Eraser
	log           *slog.Logger
	now           func() time.Time
	rand          io.Reader
}

// New returns an API.
func New(opts Options) (*API, error) {
	if opts.Store == nil || opts.Auth == nil {
		return nil, errors.New("new API: store and authenticator are required")
	}
	a := &API{st: opts.Store, auth: opts.Auth, keyID: opts.ProjectKeyID, keys: opts.Keys, objects: opts.Objects, maint: opts.Maintenance, log: opts.Logger}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.now, a.rand, a.sso, a.audit = opts.Now, opts.Rand, opts.SSO, opts.Audit
	a.auditRead, a.auditOrigin, a.auditKey, a.eraser = opts.AuditLog, opts.AuditOrigin, opts.AuditVerifierKey, opts.Eraser
	a.auditRefusing = opts.AuditRefusing
	if a.now == nil {
		a.now = time.Now
	}
	if a.rand == nil {
		a.rand = rand.Reader
	}
	return a, nil
}

// Mount registers every route on srv, and a JSON 404 for the rest of
// /api/.
func (a *API) Mount(srv *server.Server) {
	for _, rt := range Routes() {
		srv.Handle(rt.Method+" "+rt.Path, a.guard(rt))
	}
	srv.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such API route: see docs/api/openapi.yaml")
	}))
}

// guard authenticates the request and decides the route's action before
// calling its handler: deny by default.
func (a *API) guard(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var wait *auth.WaitError
		if rt.Public {
			if err := a.auth.LimitSource(r); errors.As(err, &wait) {
				w.Header().Set("Retry-After", auth.RetryAfter(wait.RetryAfter))
				writeError(w, http.StatusTooManyRequests, "too_many_requests", wait.Error())
				return
			}
			rt.h(a, w, r, auth.Principal{})
			return
		}
		p, err := a.auth.Authenticate(r)
		switch {
		case errors.As(err, &wait):
			w.Header().Set("Retry-After", auth.RetryAfter(wait.RetryAfter))
			writeError(w, http.StatusTooManyRequests, "too_many_requests", wait.Error())
			return
		case errors.Is(err, auth.ErrNoCredentials):
			w.Header().Set("WWW-Authenticate", `Bearer realm="palisade"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "authentication required: send an API token as 'Authorization: Bearer TOKEN' (palisade login stores one)")
			return
		case errors.Is(err, auth.ErrBadCredentials):
			a.recordAuthFailure(r, "auth:bad_credentials")
			w.Header().Set("WWW-Authenticate", `Bearer realm="palisade"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "credentials not accepted: the token is unknown, revoked or expired, or its owner is disabled (palisade login with a valid token)")
			return
		case err != nil:
			a.internal(w, r, "authenticate", err)
			return
		}
		if p.Session() {
			writeError(w, http.StatusUnauthorized, "unauthorized", "registry session tokens are for /v2/ only: use the API token itself")
			return
		}
		res := access.Resource{Project: r.PathValue("project")}
		if rt.Classified {
			// The permission now, the clearance when the handler knows
			// the artifact's classification.
			res.Classification, res.Promoted = access.Public, true
		}
		if d := access.Decide(p.Principal, rt.Action, res); !d.Allowed() {
			a.recordDenial(r, p, res.Project, d)
			writeError(w, http.StatusForbidden, "forbidden", d.Reason())
			return
		}
		if rt.Audit == "" || a.audit == nil {
			rt.h(a, w, r, p)
			return
		}
		compensate, ok := a.recordChange(w, r, a.event(r, p, rt.Audit, auditlog.OutcomeAllowed, ""))
		if !ok {
			return
		}
		defer compensate()
		rt.h(a, w, r, p)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// apiError is the body of every error response.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, code int, kind, msg string) {
	var e apiError
	e.Error.Code, e.Error.Message = kind, msg
	writeJSON(w, code, e)
}

// internal logs err and answers 500 without its details.
func (a *API) internal(w http.ResponseWriter, r *http.Request, what string, err error) {
	if r.Context().Err() != nil {
		return
	}
	a.log.ErrorContext(r.Context(), "api: "+what, slog.String("error", err.Error()))
	writeError(w, http.StatusInternalServerError, "internal", "internal error while trying to "+what+"; the request ID in X-Request-ID finds it in the server log")
}

// storeError answers a store error: 404 for ErrNotFound (naming what),
// 409 for ErrExists, 400 for ErrInvalid, 500 otherwise.
func (a *API) storeError(w http.ResponseWriter, r *http.Request, what string, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", what+" not found")
	case errors.Is(err, store.ErrExists):
		writeError(w, http.StatusConflict, "conflict", what+" already exists")
	case errors.Is(err, store.ErrInvalid):
		writeError(w, http.StatusBadRequest, "invalid", err.Error())
	default:
		a.internal(w, r, "read "+what, err)
	}
}

// maxBody bounds a request body of the API.
const maxBody = 256 << 10

// decodeBody decodes the request's JSON body into dst, refusing unknown
// fields; an empty body is accepted when optional. On failure it answers
// 400 with want (the shape expected) and returns false.
func decodeBody(w http.ResponseWriter, r *http.Request, dst any, optional bool, want string) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil || optional && errors.Is(err, io.EOF) {
		return true
	}
	writeError(w, http.StatusBadRequest, "invalid", "the body must be "+want+": "+err.Error())
	return false
}

// Pagination defaults.
const (
	defaultPage = 100
	maxPage     = 1000
)

// page reads the n and last query parameters.
func page(r *http.Request) (store.Page, error) {
	p := store.Page{N: defaultPage, Last: r.URL.Query().Get("last")}
	if s := r.URL.Query().Get("n"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPage {
			return p, errors.New("n must be an integer from 1 to 1000")
		}
		p.N = n
	}
	return p, nil
}

// Recorder appends events to the audit log (auditlog.Recorder).
type Recorder interface {
	Record(ctx context.Context, ev auditlog.Event) (int64, error)
}

// event describes the request for the audit log: who, what, where.
func (a *API) event(r *http.Request, p auth.Principal, act auditlog.Action, outcome auditlog.Outcome, reason string) auditlog.Event {
	ev := auditlog.Event{RequestID: server.RequestID(r.Context()), Action: act, Outcome: outcome, Reason: reason,
		Project: r.PathValue("project"), Object: auditlog.Object{Kind: objectKind(act)}}
	if p.Principal != nil {
		ev.PrincipalID, ev.Service = p.ID, p.Kind == access.Service
	}
	if d, repo := r.PathValue("digest"), r.URL.Query().Get("repository"); d != "" && repo != "" && ev.Project != "" {
		switch {
		case registry.ValidDigest(d):
			ev.Object.Digest, ev.Object.Repository = d, ev.Project+"/"+repo
		case registry.ValidTag(d):
			// Named by tag (artifactRef resolves it the same way): the
			// entry names the digest the tag points at now.
			if m, err := a.st.ManifestByTag(r.Context(), ev.Project, repo, d); err == nil {
				ev.Object.Digest, ev.Object.Repository = m.Digest, ev.Project+"/"+repo
			}
		}
	}
	// Whom a change of a user, a member or a token is about: named by
	// pseudonym, never by name or token ID (an unknown one is left out;
	// the handler then refuses the change).
	switch ev.Object.Kind {
	case auditlog.ObjectUser, auditlog.ObjectMember:
		if name := r.PathValue("name"); name != "" {
			if u, err := a.st.PrincipalByName(r.Context(), name); err == nil {
				ev.Subject = u.ID
			}
		}
	case auditlog.ObjectToken:
		if id := r.PathValue("id"); id != "" {
			if t, err := a.st.Token(r.Context(), id); err == nil {
				ev.Subject, ev.Credential = t.PrincipalID, t.ID
			}
		}
	}
	return ev
}

// objectKind is what an action is done to.
func objectKind(act auditlog.Action) auditlog.ObjectKind {
	switch act {
	case auditlog.ActionTokenCreate, auditlog.ActionTokenRevoke:
		return auditlog.ObjectToken
	case auditlog.ActionUserCreate, auditlog.ActionUserChange:
		return auditlog.ObjectUser
	case auditlog.ActionProjectCreate:
		return auditlog.ObjectProject
	case auditlog.ActionMemberSet, auditlog.ActionMemberRemove:
		return auditlog.ObjectMember
	case auditlog.ActionQuotaSet:
		return auditlog.ObjectQuota
	case auditlog.ActionMetadataChange, auditlog.ActionClassificationChange:
		return auditlog.ObjectArtifact
	case auditlog.ActionKeyRotate, auditlog.ActionKeyShred, auditlog.ActionMasterRewrap:
		return auditlog.ObjectKey
	}
	return auditlog.ObjectStore
}

// recordChange records a change before it is made: if the audit log
// cannot take the entry, it answers 503 and returns false, and the change
// must not happen. The function it returns records the change aborted if
// the answer then is an error: defer it. With no audit log it does
// nothing.
func (a *API) recordChange(w http.ResponseWriter, r *http.Request, ev auditlog.Event) (func(), bool) {
	if a.audit == nil {
		return func() {}, true
	}
	if _, err := a.audit.Record(r.Context(), ev); err != nil {
		a.log.ErrorContext(r.Context(), "api: audit log", slog.String("error", err.Error()))
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the audit log cannot record this change, so it was not made: try again shortly")
		return nil, false
	}
	return func() {
		if status := server.Status(w); status >= 400 {
			ev.Outcome, ev.Reason = auditlog.OutcomeAfter(status), "status_"+strconv.Itoa(status)
			if _, err := a.audit.Record(context.WithoutCancel(r.Context()), ev); err != nil {
				a.log.ErrorContext(r.Context(), "api: audit log: record an aborted change", slog.String("error", err.Error()))
			}
		}
	}, true
}

// recordAuthFailure records credentials that were not accepted. The
// caller is unknown: the actor is the system, the reason says what failed.
func (a *API) recordAuthFailure(r *http.Request, reason string) {
	if a.audit == nil {
		return
	}
	ev := auditlog.Event{RequestID: server.RequestID(r.Context()), Action: auditlog.ActionAuthFailure,
		Outcome: auditlog.OutcomeDenied, Reason: reason, Object: auditlog.Object{Kind: auditlog.ObjectSession}}
	if _, err := a.audit.Record(r.Context(), ev); err != nil {
		a.log.ErrorContext(r.Context(), "api: audit log: record an authentication failure", slog.String("error", err.Error()))
	}
}

// recordDenial records a denied request. The denial stands whether or not
// the log takes it.
func (a *API) recordDenial(r *http.Request, p auth.Principal, project string, d access.Decision) {
	if a.audit == nil {
		return
	}
	ev := a.event(r, p, auditlog.ActionAccessDenied, auditlog.OutcomeDenied, d.Code())
	ev.Project, ev.Object = project, auditlog.Object{Kind: auditlog.ObjectProject}
	switch {
	case d.Action == access.ActAuditLog || d.Action == access.ActReadAudit:
		ev.Object.Kind = auditlog.ObjectLog
	case project == "":
		ev.Object.Kind = auditlog.ObjectStore
	}
	if _, err := a.audit.Record(r.Context(), ev); err != nil {
		a.log.ErrorContext(r.Context(), "api: audit log: record a denial", slog.String("error", err.Error()))
	}
}

// decide answers 403 with the decision's reason, and records the denial,
// unless p may do act to res; it reports whether the handler may go on.
func (a *API) decide(w http.ResponseWriter, r *http.Request, p auth.Principal, act access.Action, res access.Resource) bool {
	d := access.Decide(p.Principal, act, res)
	if !d.Allowed() {
		a.recordDenial(r, p, res.Project, d)
		writeError(w, http.StatusForbidden, "forbidden", d.Reason())
	}
	return d.Allowed()
}
