package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/palisade-sec/palisade/internal/auth"
	"github.com/palisade-sec/palisade/internal/maintenance"
	"github.com/palisade-sec/palisade/internal/projectkeys"
	"github.com/palisade-sec/palisade/internal/store"
)

// KeyAdmin rotates and destroys project keys (projectkeys.Manager).
type KeyAdmin interface {
	Rotate(ctx context.Context, project string) (projectkeys.RotateReport, error)
	Shred(ctx context.Context, project string) (projectkeys.ShredReport, error)
	RewrapMaster(ctx context.Context, ps projectkeys.Projects) (projectkeys.MasterReport, error)
}

// ObjectRemover removes a project's objects from blob storage
// (blob.Store).
type ObjectRemover interface {
	DeleteProject(ctx context.Context, project string) (objects int, bytes int64, err error)
}

// RotateRequest is the body of POST /api/v1/admin/rotate-keys.
type RotateRequest struct {
	// Project limits the rotation to one project; empty rotates all.
	Project string `json:"project,omitempty"`
	// Master rewraps the project keys under the current master key
	// (after kek_previous was configured) instead of rotating them.
	Master bool `json:"master,omitempty"`
}

func (a *API) rotateKeys(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	if a.keys == nil {
		writeError(w, http.StatusNotImplemented, "unavailable", "key management is not configured on this server")
		return
	}
	var req RotateRequest
	if !decodeBody(w, r, &req, true, `{}, {"project": "NAME"} or {"master": true}`) {
		return
	}
	if req.Master {
		if req.Project != "" {
			writeError(w, http.StatusBadRequest, "invalid", "the master key wraps every project's key: give master or project, not both")
			return
		}
		rep, err := a.keys.RewrapMaster(r.Context(), a.st)
		if err != nil {
			a.internal(w, r, "rewrap the project keys", err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"master": rep})
		return
	}
	var projects []string
	if req.Project != "" {
		projects = []string{req.Project}
	} else {
		ps, err := a.st.ListProjects(r.Context())
		if err != nil {
			a.internal(w, r, "list projects", err)
			return
		}
		for _, p := range ps {
			projects = append(projects, p.Name)
		}
	}
	reports := []projectkeys.RotateReport{}
	for _, p := range projects {
		rep, err := a.keys.Rotate(r.Context(), p)
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusNotFound, "not_found", "project "+truncate(p)+" not found")
			return
		}
		if err != nil {
			a.internal(w, r, "rotate the keys of project "+p, err)
			return
		}
		reports = append(reports, rep)
	}
	writeJSON(w, http.StatusOK, map[string]any{"rotated": reports})
}

// ShredRequest is the body of POST /api/v1/admin/projects/{project}/shred:
// Confirm must repeat the project's name.
type ShredRequest struct {
	Confirm string `json:"confirm"`
}

// ShredResponse says what a shred destroyed.
type ShredResponse struct {
	Project string `json:"project"`
	// KeyVersions are the project key versions destroyed.
	KeyVersions []int `json:"key_versions"`
	// What the project held; its blobs can no longer be decrypted.
	Repositories int64 `json:"repositories"`
	Manifests    int64 `json:"manifests"`
	Blobs        int64 `json:"blobs"`
	BlobBytes    int64 `json:"blob_bytes"`
	// ObjectsRemoved and BytesRemoved count the ciphertext objects removed
	// from blob storage (undecryptable already).
	ObjectsRemoved int   `json:"objects_removed"`
	BytesRemoved   int64 `json:"bytes_removed"`
	// Warning is set when removing the objects failed; they stay
	// undecryptable.
	Warning string `json:"warning,omitempty"`
}

func (a *API) shredProject(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	if a.keys == nil {
		writeError(w, http.StatusNotImplemented, "unavailable", "key management is not configured on this server")
		return
	}
	project := r.PathValue("project")
	var req ShredRequest
	if !decodeBody(w, r, &req, true, `{"confirm": "<project name>"}`) {
		return
	}
	if req.Confirm != project {
		writeError(w, http.StatusBadRequest, "invalid", "shredding cannot be undone: confirm with {\"confirm\": \"<project name>\"}")
		return
	}
	rep, err := a.keys.Shred(r.Context(), project)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "project "+truncate(project)+" not found")
		return
	}
	if err != nil {
		a.internal(w, r, "shred the project", err)
		return
	}
	resp := ShredResponse{
		Project: rep.Project, KeyVersions: rep.KeyVersions, Repositories: rep.Usage.Repositories,
		Manifests: rep.Usage.Manifests, Blobs: rep.Usage.Blobs, BlobBytes: rep.Usage.BlobBytes,
	}
	if resp.KeyVersions == nil {
		resp.KeyVersions = []int{}
	}
	if a.objects != nil {
		n, b, err := a.objects.DeleteProject(context.WithoutCancel(r.Context()), project)
		resp.ObjectsRemoved, resp.BytesRemoved = n, b
		if err != nil {
			a.log.WarnContext(r.Context(), "api: remove objects of a shredded project", "project", project, "error", err.Error())
			resp.Warning = "some ciphertext objects could not be removed from storage; they cannot be decrypted"
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// Maintainer checks and cleans storage (package maintenance, bound to the
// server's store and blobs).
type Maintainer interface {
	Fsck(ctx context.Context) (maintenance.FsckReport, error)
	GC(ctx context.Context, opts maintenance.GCOptions) (maintenance.GCReport, error)
}

func (a *API) fsck(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	if a.maint == nil {
		writeError(w, http.StatusNotImplemented, "unavailable", "maintenance is not configured on this server")
		return
	}
	rep, err := a.maint.Fsck(r.Context())
	if err != nil {
		a.internal(w, r, "check storage", err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// GCRequest is the body of POST /api/v1/admin/gc.
type GCRequest struct {
	// MinAge is a Go duration ("1h", "30m"); empty means the default.
	MinAge string `json:"min_age,omitempty"`
	DryRun bool   `json:"dry_run,omitempty"`
}

func (a *API) gc(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	if a.maint == nil {
		writeError(w, http.StatusNotImplemented, "unavailable", "maintenance is not configured on this server")
		return
	}
	var req GCRequest
	if !decodeBody(w, r, &req, true, `{"min_age": "1h", "dry_run": false}`) {
		return
	}
	opts := maintenance.GCOptions{DryRun: req.DryRun}
	if req.MinAge != "" {
		d, err := time.ParseDuration(req.MinAge)
		if err != nil || d <= 0 {
			writeError(w, http.StatusBadRequest, "invalid", "min_age must be a positive duration such as 1h or 30m")
			return
		}
		opts.MinAge = d
	}
	rep, err := a.maint.GC(r.Context(), opts)
	if err != nil {
		a.internal(w, r, "collect garbage", err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
