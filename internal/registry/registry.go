package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/palisade-sec/palisade/internal/access"
	"github.com/palisade-sec/palisade/internal/auditlog"
	"github.com/palisade-sec/palisade/internal/auth"
	"github.com/palisade-sec/palisade/internal/blob"
	"github.com/palisade-sec/palisade/internal/server"
	"github.com/palisade-sec/palisade/internal/store"
)

// DefaultMaxManifestBytes bounds a manifest (the spec suggests at least 4
// MiB be accepted).
const DefaultMaxManifestBytes = 4 << 20

// Options configures a Registry.
type Options struct {
	Store store.Store
	Blobs *blob.Store
	Auth  *auth.Authenticator
	// Service names the registry in Bearer challenges ("palisade").
	Service string
	Logger  *slog.Logger
	// MaxManifestBytes bounds manifest bodies; 0 means the default.
	MaxManifestBytes int64
	// Metrics, when not nil, receives the registry's collectors.
	Metrics prometheus.Registerer
	// CurrentKey, when not nil, is given a committed blob's wrapped data
	// key before it is recorded and returns the key to record: the same,
	// or the key rewrapped under the project's newest key version when a
	// rotation began during the upload (projectkeys.Manager.Current).
	CurrentKey func(ctx context.Context, project string, wrapped []byte) ([]byte, error)
	// Uploads, when set, bounds the upload requests (blob bodies in
	// flight) of each token at once (throttle.Gate).
	Uploads UploadGate
	// OnLimited, when set, is told of each request the upload limit
	// refused ("uploads").
	OnLimited func(limit string)
	// Audit records denials, changes and reads of confidential bytes; nil
	// records nothing (tests).
	Audit Recorder
}

// Recorder appends events to the audit log (auditlog.Recorder).
type Recorder interface {
	Record(ctx context.Context, ev auditlog.Event) (int64, error)
}

// UploadGate bounds concurrent operations per key (throttle.Gate).
type UploadGate interface {
	Acquire(key string) (release func(), ok bool)
}

// Registry is the OCI Distribution API handler, mounted at /v2/.
type Registry struct {
	st      store.Store
	blobs   *blob.Store
	auth    *auth.Authenticator
	service string
	log     *slog.Logger
	maxMan  int64
	m       *registryMetrics
	current func(ctx context.Context, project string, wrapped []byte) ([]byte, error)
	uploads UploadGate
	limited func(string)
	audit   Recorder
}

// New returns a Registry.
func New(opts Options) (*Registry, error) {
	if opts.Store == nil || opts.Blobs == nil || opts.Auth == nil {
		return nil, errors.New("new registry: store, blobs and authenticator are required")
	}
	r := &Registry{
		st: opts.Store, blobs: opts.Blobs, auth: opts.Auth,
		service: opts.Service, log: opts.Logger, maxMan: opts.MaxManifestBytes,
		m: newRegistryMetrics(opts.Metrics), current: opts.CurrentKey, uploads: opts.Uploads, limited: opts.OnLimited, audit: opts.Audit,
	}
	if r.limited == nil {
		r.limited = func(string) {}
	}
	r.m.registerInProgress(opts.Metrics, func() float64 { return float64(opts.Blobs.UploadsInProgress()) })
	if opts.Metrics != nil {
		if err := opts.Metrics.Register(newStorageCollector(opts.Store)); err != nil {
			return nil, fmt.Errorf("new registry: %w", err)
		}
	}
	if r.service == "" {
		r.service = "palisade"
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.maxMan == 0 {
		r.maxMan = DefaultMaxManifestBytes
	}
	return r, nil
}

// Mount registers the registry's routes on srv: /v2/ and the token
// endpoint /v2/token.
func (reg *Registry) Mount(srv *server.Server) {
	srv.Handle("/v2/token", reg.auth.TokenHandler())
	srv.Handle("/v2/", reg)
}

// Route names, the label of the registry's requests in logs and metrics.
const (
	RouteBase      = "/v2/"
	RouteManifest  = "/v2/{name}/manifests/{reference}"
	RouteBlob      = "/v2/{name}/blobs/{digest}"
	RouteUploads   = "/v2/{name}/blobs/uploads/"
	RouteUpload    = "/v2/{name}/blobs/uploads/{id}"
	RouteTags      = "/v2/{name}/tags/list"
	RouteReferrers = "/v2/{name}/referrers/{digest}"
)

// Routes lists every route with the methods it serves.
func Routes() map[string][]string {
	return map[string][]string{
		RouteBase:      {"GET", "HEAD"},
		RouteManifest:  {"GET", "HEAD", "PUT", "DELETE"},
		RouteBlob:      {"GET", "HEAD", "DELETE"},
		RouteUploads:   {"POST"},
		RouteUpload:    {"GET", "PATCH", "PUT", "DELETE"},
		RouteTags:      {"GET"},
		RouteReferrers: {"GET"},
	}
}

// request is a routed registry request.
type request struct {
	route string
	name  repoName
	arg   string // reference, digest or upload ID
	p     auth.Principal
}

// route splits a /v2/ path into its route, repository name and argument.
// The name may hold slashes, so the route is found from the end.
func route(path string) (rt, name, arg string, ok bool) {
	rest, found := strings.CutPrefix(path, "/v2/")
	if !found {
		return "", "", "", false
	}
	if rest == "" {
		return RouteBase, "", "", true
	}
	segs := strings.Split(rest, "/")
	n := len(segs)
	join := func(k int) string { return strings.Join(segs[:k], "/") }
	switch {
	case n >= 3 && segs[n-2] == "tags" && segs[n-1] == "list":
		return RouteTags, join(n - 2), "", true
	case n >= 4 && segs[n-3] == "blobs" && segs[n-2] == "uploads":
		if segs[n-1] == "" {
			return RouteUploads, join(n - 3), "", true
		}
		return RouteUpload, join(n - 3), segs[n-1], true
	case n >= 3 && segs[n-2] == "manifests":
		return RouteManifest, join(n - 2), segs[n-1], true
	case n >= 3 && segs[n-2] == "blobs":
		return RouteBlob, join(n - 2), segs[n-1], true
	case n >= 3 && segs[n-2] == "referrers":
		return RouteReferrers, join(n - 2), segs[n-1], true
	}
	return "", "", "", false
}

// ServeHTTP routes a /v2/ request, authenticates and authorizes it, and
// calls its handler.
func (reg *Registry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	rt, name, arg, ok := route(r.URL.Path)
	if !ok {
		server.SetRoute(r, "/v2/ (unmatched)")
		writeError(w, http.StatusNotFound, codeUnsupported, "no such registry endpoint: the OCI distribution API serves /v2/PROJECT/NAME/{manifests,blobs,tags,referrers}/...")
		return
	}
	server.SetRoute(r, rt)
	if !methodAllowed(rt, r.Method) {
		w.Header().Set("Allow", strings.Join(Routes()[rt], ", "))
		writeError(w, http.StatusMethodNotAllowed, codeUnsupported, r.Method+" is not supported on "+rt)
		return
	}
	req := &request{route: rt, arg: arg}
	action := actionOf(rt, r.Method)
	p, err := reg.auth.Authenticate(r)
	if err != nil {
		reg.authFailed(w, r, err, name, action)
		return
	}
	req.p = p
	if rt == RouteBase {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}\n"))
		return
	}
	n, ok := parseName(name)
	if !ok {
		writeError(w, http.StatusBadRequest, codeNameInvalid,
			"invalid repository name: use PROJECT/NAME, lower-case letters, digits and separators (. _ __ -), at most 255 characters")
		return
	}
	req.name = n
	if !reg.authorize(w, r, req, action) {
		return
	}
	if reg.uploads != nil && carriesBlob(rt, r.Method) {
		key := "principal:" + p.ID
		if p.TokenID != "" {
			key = "token:" + p.TokenID
		}
		release, ok := reg.uploads.Acquire(key)
		if !ok {
			reg.limited("uploads")
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusTooManyRequests, codeTooManyRequests, "too many uploads at once with this token: wait for one to finish")
			return
		}
		defer release()
	}
	if act, ok := auditAction(rt, r); ok && reg.audit != nil {
		compensate, recorded := reg.recordChange(w, r, req, act, "")
		if !recorded {
			return
		}
		defer compensate()
	}
	switch rt {
	case RouteManifest:
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			reg.getManifest(w, r, req)
		case http.MethodPut:
			reg.putManifest(w, r, req)
		case http.MethodDelete:
			reg.deleteManifest(w, r, req)
		}
	case RouteBlob:
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			reg.getBlob(w, r, req)
		case http.MethodDelete:
			reg.deleteBlob(w, r, req)
		}
	case RouteUploads:
		reg.startUpload(w, r, req)
	case RouteUpload:
		switch r.Method {
		case http.MethodGet:
			reg.uploadStatus(w, r, req)
		case http.MethodPatch:
			reg.patchUpload(w, r, req)
		case http.MethodPut:
			reg.putUpload(w, r, req)
		case http.MethodDelete:
			reg.cancelUpload(w, r, req)
		}
	case RouteTags:
		reg.listTags(w, r, req)
	case RouteReferrers:
		reg.referrers(w, r, req)
	}
}

// carriesBlob reports whether a request sends blob data: what the upload
// limit counts.
func carriesBlob(rt, method string) bool {
	return rt == RouteUploads || rt == RouteUpload && (method == http.MethodPatch || method == http.MethodPut)
}

func methodAllowed(rt, method string) bool {
	for _, m := range Routes()[rt] {
		if m == method {
			return true
		}
	}
	return false
}

// scopeAction is the access action of each registry scope action.
var scopeAction = map[auth.Action]access.Action{
	auth.ActionPull: access.ActPull, auth.ActionPush: access.ActPush, auth.ActionDelete: access.ActDelete,
}

// actionOf is the action a route and method need.
func actionOf(rt, method string) auth.Action {
	switch method {
	case http.MethodGet, http.MethodHead:
		if rt == RouteUpload {
			return auth.ActionPush
		}
		return auth.ActionPull
	case http.MethodDelete:
		if rt == RouteUpload {
			return auth.ActionPush
		}
		return auth.ActionDelete
	}
	return auth.ActionPush
}

// authorize checks the request against the principal's credentials and
// permissions before anything about the repository is looked up, so that
// a project without a grant answers the same whether it exists or not.
// Pulls are checked again against the artifact's classification once it
// is loaded (allowPull). It returns false after answering.
func (reg *Registry) authorize(w http.ResponseWriter, r *http.Request, req *request, action auth.Action) bool {
	p, project := req.p, req.name.project
	if !p.ScopeCovers(action, req.name.full) {
		if auth.MayHold(p.Principal, action, project) {
			reg.authFailed(w, r, errInsufficientScope, req.name.full, action)
			return false
		}
		// Neither the session's scope nor the principal allows it: the
		// principal's decision says why, and the denial is recorded like
		// every other.
		d := access.Decide(p.Principal, scopeAction[action], access.Resource{Project: project, Classification: access.Public, Promoted: true})
		if d.Allowed() {
			d.Outcome = access.DeniedPermission // MayHold said no: the two must agree
		}
		reg.recordDenial(r, req, d)
		writeError(w, http.StatusForbidden, codeDenied, denial(d))
		return false
	}
	var d access.Decision
	switch {
	case action == auth.ActionPush:
		d = access.Decide(p.Principal, access.ActPush, access.Resource{Project: project})
	case action == auth.ActionDelete:
		d = access.Decide(p.Principal, access.ActDelete, access.Resource{Project: project})
	case req.route == RouteTags:
		d = access.Decide(p.Principal, access.ActListArtifacts, access.Resource{Project: project})
	case req.route == RouteReferrers:
		// The referrers' annotations are detail: the permission now, each
		// referrer's clearance as it is listed.
		d = access.Decide(p.Principal, access.ActReadArtifact, access.Resource{Project: project, Classification: access.Public})
	case auth.MayHold(p.Principal, auth.ActionPull, project):
		return true // the artifact's classification decides (allowPull)
	default:
		d = access.Decide(p.Principal, access.ActPull, access.Resource{Project: project, Classification: access.Public, Promoted: true})
	}
	if !d.Allowed() {
		reg.recordDenial(r, req, d)
		writeError(w, http.StatusForbidden, codeDenied, denial(d))
		return false
	}
	return true
}

// allowPull decides a pull of the bytes of digest, classified level (for
// a blob, the highest of the artifacts that reference it). A blob no artifact
// references ("": not yet pushed with its manifest, or left behind by a
// deleted one, whose classification is then unknown) is treated as
// restricted, and only those who may push to the project may read it. It
// returns false after answering 403.
func (reg *Registry) allowPull(w http.ResponseWriter, r *http.Request, req *request, level store.Classification, digest string) bool {
	res := access.Resource{Project: req.name.project, Classification: access.Restricted}
	if level != "" {
		l, err := access.ParseLevel(string(level))
		if err == nil {
			res.Classification = l
		}
	}
	d := access.Decide(req.p.Principal, access.ActPull, res)
	if d.Allowed() && level == "" {
		d = access.Decide(req.p.Principal, access.ActPush, access.Resource{Project: req.name.project})
	}
	if !d.Allowed() {
		msg := denial(d)
		if level == "" {
			msg = "the blob is not part of any artifact (yet, or any more), so its classification is unknown: only those who may push to project " +
				req.name.project + " and hold a restricted clearance may read it"
		}
		reg.recordDenial(r, req, d)
		writeError(w, http.StatusForbidden, codeDenied, msg)
		return false
	}
	// Reads of confidential and restricted bytes are recorded before they
	// are served.
	if reg.audit != nil && res.Classification >= access.Confidential && r.Method == http.MethodGet {
		ev := reg.event(r, req, auditlog.ActionArtifactPull, auditlog.OutcomeAllowed, "")
		// The digest read, also when the request named a tag.
		ev.Object.Digest = digest
		if req.route == RouteBlob {
			ev.Object.Kind = auditlog.ObjectBlob
		}
		if _, err := reg.audit.Record(r.Context(), ev); err != nil {
			reg.log.ErrorContext(r.Context(), "registry: audit log", "error", err.Error())
			w.Header().Set("Retry-After", "5")
			writeError(w, http.StatusServiceUnavailable, codeUnknown, "the audit log cannot record this read of "+res.Classification.String()+" data, so it is not served: try again shortly")
			return false
		}
	}
	return true
}

// auditAction is the audit action of a request that changes state.
func auditAction(rt string, r *http.Request) (auditlog.Action, bool) {
	switch {
	// A manifest PUT is recorded by putManifest, once it knows the digest.
	case rt == RouteManifest && r.Method == http.MethodDelete:
		// DELETE of a tag removes the tag only.
		ref := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		if !validDigest(ref) {
			return auditlog.ActionTagDelete, true
		}
		return auditlog.ActionArtifactDelete, true
	case rt == RouteBlob && r.Method == http.MethodDelete:
		return auditlog.ActionBlobDelete, true
	case rt == RouteUpload && r.Method == http.MethodPut,
		rt == RouteUploads && r.URL.Query().Has("digest"):
		return auditlog.ActionBlobPush, true
	}
	return "", false
}

// event describes a registry request for the audit log.
func (reg *Registry) event(r *http.Request, req *request, act auditlog.Action, outcome auditlog.Outcome, reason string) auditlog.Event {
	ev := auditlog.Event{RequestID: server.RequestID(r.Context()), Action: act, Outcome: outcome, Reason: reason,
		Project: req.name.project, Object: auditlog.Object{Kind: auditlog.ObjectArtifact, Repository: req.name.full}}
	if req.p.Principal != nil {
		ev.PrincipalID, ev.Service = req.p.ID, req.p.Kind == access.Service
	}
	if validDigest(req.arg) {
		ev.Object.Digest = req.arg
	} else if d := r.URL.Query().Get("digest"); validDigest(d) {
		ev.Object.Digest = d
	}
	switch act {
	case auditlog.ActionBlobPush, auditlog.ActionBlobDelete:
		ev.Object.Kind = auditlog.ObjectBlob
	case auditlog.ActionTagDelete:
		ev.Object.Kind = auditlog.ObjectTag
	}
	return ev
}

// recordDenial records a denied request; the denial stands whether or not
// the log takes it.
func (reg *Registry) recordDenial(r *http.Request, req *request, d access.Decision) {
	if reg.audit == nil {
		return
	}
	ev := reg.event(r, req, auditlog.ActionAccessDenied, auditlog.OutcomeDenied, d.Code())
	ev.Object = auditlog.Object{Kind: auditlog.ObjectRepository, Repository: req.name.full}
	if _, err := reg.audit.Record(r.Context(), ev); err != nil {
		reg.log.ErrorContext(r.Context(), "registry: audit log: record a denial", "error", err.Error())
	}
}

// recordChange records a change before it is made (fail closed: it
// answers 503 and returns false when the log cannot take it). The
// function it returns records the change aborted if the handler then
// answered an error: defer it.
func (reg *Registry) recordChange(w http.ResponseWriter, r *http.Request, req *request, act auditlog.Action, digest string) (func(), bool) {
	ev := reg.event(r, req, act, auditlog.OutcomeAllowed, "")
	if digest != "" {
		ev.Object.Digest = digest
	}
	if _, err := reg.audit.Record(r.Context(), ev); err != nil {
		reg.log.ErrorContext(r.Context(), "registry: audit log", "error", err.Error())
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, codeUnknown, "the audit log cannot record this change, so it was not made: try again shortly")
		return nil, false
	}
	return func() {
		status := server.Status(w)
		if status < 400 {
			return
		}
		ev.Outcome, ev.Reason = auditlog.OutcomeAfter(status), "status_"+strconv.Itoa(status)
		if _, err := reg.audit.Record(context.WithoutCancel(r.Context()), ev); err != nil {
			reg.log.ErrorContext(r.Context(), "registry: audit log: record an aborted change", "error", err.Error())
		}
	}, true
}

// denial is a decision's reason for a DENIED error, whose code already
// says "denied" (clients print both).
func denial(d access.Decision) string { return strings.TrimPrefix(d.Reason(), "denied: ") }

// authFailed answers a request whose credentials are missing or refused
// with 401 and a Bearer challenge, 429 while the caller must wait, or 500
// when the store failed.
func (reg *Registry) authFailed(w http.ResponseWriter, r *http.Request, err error, name string, action auth.Action) {
	var wait *auth.WaitError
	if errors.As(err, &wait) {
		w.Header().Set("Retry-After", auth.RetryAfter(wait.RetryAfter))
		writeError(w, http.StatusTooManyRequests, codeTooManyRequests, wait.Error())
		return
	}
	if !errors.Is(err, auth.ErrNoCredentials) && !errors.Is(err, auth.ErrBadCredentials) && !errors.Is(err, errInsufficientScope) {
		reg.internal(w, r, "authenticate", err)
		return
	}
	if errors.Is(err, auth.ErrBadCredentials) && reg.audit != nil {
		// Missing credentials are the normal start of the token flow;
		// refused ones are recorded. The caller is unknown.
		ev := auditlog.Event{RequestID: server.RequestID(r.Context()), Action: auditlog.ActionAuthFailure,
			Outcome: auditlog.OutcomeDenied, Reason: "auth:bad_credentials", Object: auditlog.Object{Kind: auditlog.ObjectSession}}
		if _, aerr := reg.audit.Record(r.Context(), ev); aerr != nil {
			reg.log.ErrorContext(r.Context(), "registry: audit log: record an authentication failure", "error", aerr.Error())
		}
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	challenge := `Bearer realm="` + scheme + "://" + r.Host + `/v2/token",service="` + reg.service + `"`
	if n, ok := parseName(name); ok {
		actions := string(action)
		if action == auth.ActionPush {
			actions = "pull,push"
		}
		challenge += `,scope="repository:` + n.full + `:` + actions + `"`
	}
	msg := "authentication required: log in with an API token as the password (palisade login, oras login or docker login)"
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		msg = "credentials not accepted: the token is unknown, revoked or expired; log in again"
	case errors.Is(err, errInsufficientScope):
		challenge += `,error="insufficient_scope"`
		msg = "the token does not cover this request: ask the token endpoint for the scope in the challenge"
	}
	w.Header().Set("WWW-Authenticate", challenge)
	writeError(w, http.StatusUnauthorized, codeUnauthorized, msg)
}

// errInsufficientScope means a session token lacks a scope its API token
// could grant.
var errInsufficientScope = errors.New("insufficient scope")

// internal logs err and answers 500 without its details.
func (reg *Registry) internal(w http.ResponseWriter, r *http.Request, what string, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away
	}
	reg.log.ErrorContext(r.Context(), "registry: "+what, slog.String("error", err.Error()))
	writeError(w, http.StatusInternalServerError, codeUnknown, "internal error while trying to "+what+"; the request ID in X-Request-ID finds it in the server log")
}

// project checks that the request's project exists, answering 404
// NAME_UNKNOWN if not.
func (reg *Registry) project(w http.ResponseWriter, r *http.Request, req *request) bool {
	_, err := reg.st.Project(r.Context(), req.name.project)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, codeNameUnknown,
			"project "+req.name.project+" does not exist: create it with 'palisade project create "+req.name.project+"'")
		return false
	case err != nil:
		reg.internal(w, r, "look up the project", err)
		return false
	}
	return true
}
