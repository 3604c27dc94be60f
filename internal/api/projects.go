package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/palisade-sec/palisade/internal/access"
	"github.com/palisade-sec/palisade/internal/auditlog"
	"github.com/palisade-sec/palisade/internal/auth"
	"github.com/palisade-sec/palisade/internal/registry"
	"github.com/palisade-sec/palisade/internal/store"
)

// Project is a project in API responses.
type Project struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

func projectOf(p store.Project) Project { return Project{Name: p.Name, Created: p.Created} }

// listProjects lists the projects the caller can see: those it holds a
// role in (every project for an administrator).
func (a *API) listProjects(w http.ResponseWriter, r *http.Request, who auth.Principal) {
	ps, err := a.st.ListProjects(r.Context())
	if err != nil {
		a.internal(w, r, "list projects", err)
		return
	}
	items := make([]Project, 0, len(ps))
	for _, p := range ps {
		if who.Visible(p.Name) {
			items = append(items, projectOf(p))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// CreateProjectRequest is the body of POST /api/v1/projects.
type CreateProjectRequest struct {
	Name string `json:"name"`
	// Owner names a user made the project's owner.
	Owner string `json:"owner,omitempty"`
}

func (a *API) createProject(w http.ResponseWriter, r *http.Request, who auth.Principal) {
	var req CreateProjectRequest
	if !decodeBody(w, r, &req, false, `JSON like {"name": "PROJECT", "owner": "USER"}`) {
		return
	}
	var owner store.Principal
	if req.Owner != "" {
		o, err := a.st.PrincipalByName(r.Context(), req.Owner)
		if err != nil {
			a.storeError(w, r, "user "+truncate(req.Owner), err)
			return
		}
		owner = o
	}
	if !registry.ValidProjectName(req.Name) {
		writeError(w, http.StatusBadRequest, "invalid",
			"invalid project name: use lower-case letters and digits, separated by '.', '_', '__' or dashes, at most 64 characters")
		return
	}
	ev := a.event(r, who, auditlog.ActionProjectCreate, auditlog.OutcomeAllowed, "")
	ev.Project = req.Name
	compensate, ok := a.recordChange(w, r, ev)
	if !ok {
		return
	}
	defer compensate()
	p, err := a.st.CreateProject(r.Context(), store.Project{Name: req.Name, KeyID: a.keyID})
	if errors.Is(err, store.ErrExists) {
		writeError(w, http.StatusConflict, "conflict", "project "+req.Name+" already exists")
		return
	}
	if err != nil {
		a.internal(w, r, "create the project", err)
		return
	}
	if owner.ID != "" {
		if err := a.st.SetMember(r.Context(), store.Member{Project: p.Name, PrincipalID: owner.ID, Role: string(access.Owner), Source: "manual"}); err != nil {
			a.internal(w, r, "make "+owner.Name+" the project's owner", err)
			return
		}
	}
	a.log.InfoContext(r.Context(), "project created", "project", p.Name, "by", who.ID)
	w.Header().Set("Location", "/api/v1/projects/"+p.Name)
	writeJSON(w, http.StatusCreated, projectOf(p))
}

func (a *API) getProject(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	p, err := a.st.Project(r.Context(), r.PathValue("project"))
	if err != nil {
		a.storeError(w, r, "project "+truncate(r.PathValue("project")), err)
		return
	}
	writeJSON(w, http.StatusOK, projectOf(p))
}

// Repository is a repository in API responses.
type Repository struct {
	Project string    `json:"project"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

func (a *API) listRepositories(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	pg, err := page(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	project := r.PathValue("project")
	rs, err := a.st.ListRepositories(r.Context(), project, pg)
	if err != nil {
		a.storeError(w, r, "project "+truncate(project), err)
		return
	}
	items := make([]Repository, 0, len(rs))
	for _, rp := range rs {
		items = append(items, Repository{Project: rp.Project, Name: rp.Name, Created: rp.Created})
	}
	next := ""
	if len(rs) == pg.N {
		next = rs[len(rs)-1].Name
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next": next})
}

// truncate bounds client text echoed in messages.
func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
