package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/palisade-sec/palisade/internal/auditlog"
	"github.com/palisade-sec/palisade/internal/auth"
	"github.com/palisade-sec/palisade/internal/store"
)

// AuditReader reads the audit log (the metadata store).
type AuditReader interface {
	auditlog.Reader
	AuditSearch(ctx context.Context, q store.AuditQuery) ([]store.AuditRecord, error)
}

// Eraser reads and destroys a principal's pseudonym key
// (auditlog.Subjects).
type Eraser interface {
	Current(ctx context.Context, principalID string) (pid string, epoch int, err error)
	Erase(ctx context.Context, principalID string) (pid string, epoch int, err error)
}

// AuditInfo is the body of GET /api/v1/audit: what verifiers pin and the
// latest checkpoint.
type AuditInfo struct {
	Origin      string `json:"origin"`
	VerifierKey string `json:"verifierKey"`
	Size        int64  `json:"size"`
	Checkpoint  string `json:"checkpoint,omitempty"`
	// Refusing, when set, says why the server refuses to extend the log
	// (its stored state does not match its latest checkpoint), and so
	// refuses every change: what a verifier reading only up to that
	// checkpoint cannot see for itself.
	Refusing string `json:"refusing,omitempty"`
}

// AuditEntry is one entry in API answers: its index, its exact bytes
// (base64 in JSON; what the tree hashes) and the same, readable.
type AuditEntry struct {
	Index int64           `json:"index"`
	Data  []byte          `json:"data"`
	Entry json.RawMessage `json:"entry"`
}

// AuditCheckpoint is a stored signed checkpoint.
type AuditCheckpoint struct {
	Size int64  `json:"size"`
	Note string `json:"note"`
}

func (a *API) auditOff(w http.ResponseWriter) bool {
	if a.auditRead == nil {
		writeError(w, http.StatusNotImplemented, "unavailable", "this server has no audit log")
		return true
	}
	return false
}

func (a *API) auditInfo(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	if a.auditOff(w) {
		return
	}
	info := AuditInfo{Origin: a.auditOrigin, VerifierKey: a.auditKey}
	if a.auditRefusing != nil {
		if err := a.auditRefusing(); err != nil {
			info.Refusing = err.Error()
		}
	}
	size, note, err := a.auditRead.AuditCheckpoint(r.Context())
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		a.internal(w, r, "read the audit checkpoint", err)
		return
	default:
		info.Size, info.Checkpoint = size, string(note)
	}
	writeJSON(w, http.StatusOK, info)
}

// auditQuery reads the search parameters.
func auditQuery(r *http.Request) (store.AuditQuery, error) {
	v := r.URL.Query()
	q := store.AuditQuery{After: -1, N: 100, Actor: v.Get("actor"), Action: v.Get("action"), Project: v.Get("project"),
		Repository: v.Get("repository"), Digest: v.Get("digest"), Outcome: v.Get("outcome")}
	if s := v.Get("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < -1 {
			return q, errors.New("after must be an entry index (or -1)")
		}
		q.After = n
	}
	if s := v.Get("n"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 10000 {
			return q, errors.New("n must be from 1 to 10000")
		}
		q.N = n
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if s := v.Get(f.name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return q, errors.New(f.name + " must be an RFC 3339 time, such as 2026-11-26T00:00:00Z")
			}
			*f.dst = t
		}
	}
	return q, nil
}

func (a *API) auditSearch(w http.ResponseWriter, r *http.Request, q store.AuditQuery) {
	recs, err := a.auditRead.AuditSearch(r.Context(), q)
	if err != nil {
		a.internal(w, r, "search the audit log", err)
		return
	}
	items := make([]AuditEntry, 0, len(recs))
	for _, rec := range recs {
		items = append(items, AuditEntry{Index: rec.Index, Data: rec.Data, Entry: json.RawMessage(rec.Data)})
	}
	next := int64(-1)
	if len(recs) == q.N {
		next = recs[len(recs)-1].Index
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next": next})
}

func (a *API) auditEntries(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	if a.auditOff(w) {
		return
	}
	q, err := auditQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	a.auditSearch(w, r, q)
}

// projectAuditEntries is a project's part of the log, for its auditors
// and owners.
func (a *API) projectAuditEntries(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	if a.auditOff(w) {
		return
	}
	q, err := auditQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	q.Project = r.PathValue("project")
	a.auditSearch(w, r, q)
}

func (a *API) auditCheckpoints(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	if a.auditOff(w) {
		return
	}
	after := int64(-1)
	if s := r.URL.Query().Get("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid", "after must be a tree size")
			return
		}
		after = n
	}
	cps, err := a.auditRead.AuditCheckpoints(r.Context(), after, 1000)
	if err != nil {
		a.internal(w, r, "read the audit checkpoints", err)
		return
	}
	items := make([]AuditCheckpoint, 0, len(cps))
	for _, c := range cps {
		items = append(items, AuditCheckpoint{Size: c.Size, Note: string(c.Note)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (a *API) auditProof(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	if a.auditOff(w) {
		return
	}
	idx, err := strconv.ParseInt(r.PathValue("index"), 10, 64)
	if err != nil || idx < 0 {
		writeError(w, http.StatusBadRequest, "invalid", "the index must be a whole number")
		return
	}
	p, err := auditlog.Prove(r.Context(), a.auditRead, idx)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no audit entry "+strconv.FormatInt(idx, 10)+" under the latest checkpoint")
		return
	}
	if err != nil {
		a.internal(w, r, "prove the audit entry", err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(p.Marshal())
}

func (a *API) auditTiles(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	if a.auditOff(w) {
		return
	}
	http.StripPrefix("/api/v1/audit/tiles/", auditlog.TileHandler(a.auditRead)).ServeHTTP(w, r)
}

// EraseRequest is the body of POST /api/v1/admin/erase-subject.
type EraseRequest struct {
	User string `json:"user"`
}

// eraseSubject destroys a user's pseudonym key: the log's entries can no
// longer be tied to that person. The erasure itself is recorded (the
// guard's entry) with the now unlinkable pseudonym.
func (a *API) eraseSubject(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if a.eraser == nil {
		writeError(w, http.StatusNotImplemented, "unavailable", "this server has no audit log")
		return
	}
	var req EraseRequest
	if !decodeBody(w, r, &req, false, `JSON like {"user": "NAME"}`) {
		return
	}
	u, err := a.st.PrincipalByName(r.Context(), req.User)
	if err != nil {
		a.storeError(w, r, "user "+truncate(req.User), err)
		return
	}
	pid, _, err := a.eraser.Current(r.Context(), u.ID)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "user "+truncate(req.User)+" has no pseudonym key: nothing in the audit log is tied to them")
		return
	}
	if err != nil {
		a.internal(w, r, "read the subject's pseudonym", err)
		return
	}
	// The erasure is recorded before it happens, naming only the
	// pseudonym that is about to become unlinkable.
	ev := a.event(r, p, auditlog.ActionSubjectErase, auditlog.OutcomeAllowed, "")
	ev.Object = auditlog.Object{Kind: auditlog.ObjectSubject, ID: pid}
	compensate, ok := a.recordChange(w, r, ev)
	if !ok {
		return
	}
	defer compensate()
	if _, _, err := a.eraser.Erase(r.Context(), u.ID); err != nil {
		a.internal(w, r, "erase the subject", err)
		return
	}
	a.log.InfoContext(r.Context(), "audit subject erased", "by", p.ID)
	writeJSON(w, http.StatusOK, map[string]string{"pseudonym": pid})
}
