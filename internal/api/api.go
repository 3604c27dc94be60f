package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/palisade-sec/palisade/internal/auth"
	"github.com/palisade-sec/palisade/internal/server"
	"github.com/palisade-sec/palisade/internal/store"
)

// Route is one route of the API: its method and path pattern (OpenAPI
// syntax, which http.ServeMux also reads), and whether it needs an admin.
type Route struct {
	Method string
	Path   string
	Admin  bool
	h      func(*API, http.ResponseWriter, *http.Request, auth.Principal)
}

// Routes returns every route the API serves.
func Routes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/whoami", h: (*API).whoami},
		{Method: "GET", Path: "/api/v1/projects", h: (*API).listProjects},
		{Method: "POST", Path: "/api/v1/projects", Admin: true, h: (*API).createProject},
		{Method: "GET", Path: "/api/v1/projects/{project}", h: (*API).getProject},
		{Method: "GET", Path: "/api/v1/projects/{project}/repositories", h: (*API).listRepositories},
		{Method: "GET", Path: "/api/v1/projects/{project}/artifacts", h: (*API).listArtifacts},
		{Method: "GET", Path: "/api/v1/projects/{project}/artifacts/{digest}", h: (*API).getArtifact},
		{Method: "PATCH", Path: "/api/v1/projects/{project}/artifacts/{digest}", Admin: true, h: (*API).patchArtifact},
		{Method: "POST", Path: "/api/v1/admin/rotate-keys", Admin: true, h: (*API).rotateKeys},
		{Method: "POST", Path: "/api/v1/admin/projects/{project}/shred", Admin: true, h: (*API).shredProject},
		{Method: "POST", Path: "/api/v1/admin/fsck", Admin: true, h: (*API).fsck},
		{Method: "POST", Path: "/api/v1/admin/gc", Admin: true, h: (*API).gc},
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
	TagsOf(ctx context.Context, project, repo, digest string) ([]string, error)
	Referrers(ctx context.Context, project, repo, subject, artifactType string) ([]store.Manifest, error)
	SetArtifactMeta(ctx context.Context, project, repo, digest string, meta store.ArtifactMeta) error
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
	Logger      *slog.Logger
}

// API is the /api/v1 handler set.
type API struct {
	st      Store
	auth    *auth.Authenticator
	keyID   string
	keys    KeyAdmin
	objects ObjectRemover
	maint   Maintainer
	log     *slog.Logger
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

// guard authenticates the request and checks the route's privilege
// before calling its handler: deny by default.
func (a *API) guard(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.auth.Authenticate(r)
		switch {
		case errors.Is(err, auth.ErrNoCredentials):
			w.Header().Set("WWW-Authenticate", `Bearer realm="palisade"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "authentication required: send an API token as 'Authorization: Bearer TOKEN' (palisade login stores one)")
			return
		case errors.Is(err, auth.ErrBadCredentials):
			w.Header().Set("WWW-Authenticate", `Bearer realm="palisade"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "credentials not accepted: the token is unknown or revoked")
			return
		case err != nil:
			a.internal(w, r, "authenticate", err)
			return
		}
		if p.Session() {
			writeError(w, http.StatusUnauthorized, "unauthorized", "registry session tokens are for /v2/ only: use the API token itself")
			return
		}
		if rt.Admin && !p.Admin() {
			writeError(w, http.StatusForbidden, "forbidden", "this needs an admin token")
			return
		}
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

func (a *API) whoami(w http.ResponseWriter, _ *http.Request, p auth.Principal) {
	writeJSON(w, http.StatusOK, map[string]string{"token_id": p.TokenID, "role": string(p.Role)})
}
