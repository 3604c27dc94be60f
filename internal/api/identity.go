package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/palisade-sec/palisade/internal/access"
	"github.com/palisade-sec/palisade/internal/auth"
	"github.com/palisade-sec/palisade/internal/registry"
	"github.com/palisade-sec/palisade/internal/store"
)

// Whoami is the body of GET /api/v1/whoami.
type Whoami struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Admin     bool   `json:"admin"`
	Clearance string `json:"clearance"`
	TokenID   string `json:"tokenId,omitempty"`
	// Via says how the request authenticated: token or certificate.
	Via string `json:"via"`
	// Projects maps each project the caller can see to its permissions
	// there.
	Projects map[string][]string `json:"projects"`
	// Roles names the role of each project whose permissions are exactly
	// a role's ("*" for AllProjects); a project left out holds a set no
	// role has (a scope cutting across roles).
	Roles map[string]string `json:"roles"`
	// AllProjects lists the permissions held on every project (a token
	// scoped to a role on "*").
	AllProjects []string `json:"allProjects,omitempty"`
}

func permNames(p access.Perm) []string {
	if p == 0 {
		return nil
	}
	var out []string
	for b := access.Perm(1); b <= access.AllPerms; b <<= 1 {
		if p&b != 0 {
			out = append(out, b.String())
		}
	}
	return out
}

func (a *API) whoami(w http.ResponseWriter, _ *http.Request, p auth.Principal) {
	out := Whoami{ID: p.ID, Name: p.Name, Kind: string(p.Kind), Admin: p.Admin, Clearance: p.Clearance.String(),
		TokenID: p.TokenID, Via: p.Via, Projects: map[string][]string{}, Roles: map[string]string{}, AllProjects: permNames(p.AllProjects)}
	for project, perm := range p.Projects {
		if perm != 0 {
			out.Projects[project] = permNames(perm)
			if r, ok := access.RoleWith(perm); ok {
				out.Roles[project] = string(r)
			}
		}
	}
	if r, ok := access.RoleWith(p.AllProjects); ok && p.AllProjects != 0 {
		out.Roles["*"] = string(r)
	}
	writeJSON(w, http.StatusOK, out)
}

// Token is an API token in API responses; the secret is only in
// CreatedToken, once.
type Token struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Owner    string     `json:"owner"` // principal name
	Scope    []Grant    `json:"scope"`
	Admin    bool       `json:"admin,omitempty"`
	Created  time.Time  `json:"created"`
	Expires  *time.Time `json:"expires,omitempty"`
	LastUsed *time.Time `json:"lastUsed,omitempty"`
	Revoked  *time.Time `json:"revoked,omitempty"`
}

// Grant is a role on a project ("*" for every project).
type Grant struct {
	Project string `json:"project"`
	Role    string `json:"role"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func tokenOf(t store.Token, owner string) Token {
	out := Token{ID: t.ID, Name: t.Name, Owner: owner, Scope: []Grant{}, Created: t.Created,
		Expires: timePtr(t.Expires), LastUsed: timePtr(t.LastUsed), Revoked: timePtr(t.Revoked)}
	if scope, err := auth.ParseTokenScope(t.Scope); err == nil {
		out.Admin = scope.Admin
		for _, g := range scope.Grants {
			out.Scope = append(out.Scope, Grant{Project: g.Project, Role: string(g.Role)})
		}
	}
	return out
}

// ownerNames maps principal IDs to names for token listings.
func (a *API) ownerNames(r *http.Request) (map[string]string, error) {
	ps, err := a.st.ListPrincipals(r.Context())
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(ps))
	for _, p := range ps {
		names[p.ID] = p.Name
	}
	return names, nil
}

// listTokens lists the caller's tokens; an administrator sees every
// token with ?all=true.
func (a *API) listTokens(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	all := r.URL.Query().Get("all") == "true"
	if all && !a.decide(w, r, p, access.ActManageUsers, access.Resource{}) {
		return
	}
	tokens, err := a.st.ListTokens(r.Context())
	if err != nil {
		a.internal(w, r, "list tokens", err)
		return
	}
	names, err := a.ownerNames(r)
	if err != nil {
		a.internal(w, r, "list tokens", err)
		return
	}
	items := []Token{}
	for _, t := range tokens {
		switch {
		case all:
		case !p.FullScope && t.ID != p.TokenID:
			continue // a scoped token sees itself, not its owner's others
		case t.PrincipalID != p.ID:
			continue
		}
		items = append(items, tokenOf(t, names[t.PrincipalID]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// CreateTokenRequest is the body of POST /api/v1/tokens.
type CreateTokenRequest struct {
	Name string `json:"name"`
	// Owner names the principal the token is for; empty for the caller.
	// Only administrators create tokens for others (service accounts).
	Owner string `json:"owner,omitempty"`
	// Scope limits the token to roles on projects; empty for all of the
	// owner's access.
	Scope []Grant `json:"scope,omitempty"`
	// Admin keeps an administrator owner's system administration in a
	// scoped token.
	Admin bool `json:"admin,omitempty"`
	// ExpiresInDays is the token's lifetime: 1 to 366 days, 90 when
	// absent.
	ExpiresInDays *int `json:"expiresInDays,omitempty"`
}

// CreatedToken is the answer to POST /api/v1/tokens: the token's record
// and its secret, shown this once.
type CreatedToken struct {
	Token
	Secret string `json:"secret"`
}

// Token lifetimes.
const (
	defaultTokenDays = 90
	maxTokenDays     = 366
	maxTokenName     = 128
)

func (a *API) createToken(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	var req CreateTokenRequest
	if !decodeBody(w, r, &req, false, `JSON like {"name": "ci", "scope": [{"project": "ml", "role": "developer"}], "expiresInDays": 30}`) {
		return
	}
	if !p.FullScope {
		// A scoped token must not mint a broader one for its owner.
		writeError(w, http.StatusForbidden, "forbidden", "denied: a scoped token cannot create tokens; use an unscoped token of yours (palisade login)")
		return
	}
	switch {
	case req.Name == "" || len(req.Name) > maxTokenName:
		writeError(w, http.StatusBadRequest, "invalid", "name the token (1 to 128 characters), e.g. after the pipeline that uses it")
		return
	case req.ExpiresInDays != nil && (*req.ExpiresInDays < 1 || *req.ExpiresInDays > maxTokenDays):
		writeError(w, http.StatusBadRequest, "invalid", "expiresInDays must be from 1 to 366 (90 when absent)")
		return
	}
	owner := store.Principal{ID: p.ID, Name: p.Name, Admin: p.Admin}
	if req.Owner != "" && req.Owner != p.Name {
		if !a.decide(w, r, p, access.ActManageUsers, access.Resource{}) {
			return
		}
		o, err := a.st.PrincipalByName(r.Context(), req.Owner)
		if err != nil {
			a.storeError(w, r, "user "+truncate(req.Owner), err)
			return
		}
		owner = o
	}
	if req.Admin && !owner.Admin {
		writeError(w, http.StatusBadRequest, "invalid", "admin keeps the owner's system administration in a scoped token, and "+truncate(owner.Name)+" is not a system administrator: leave it out")
		return
	}
	scope := auth.TokenScope{Admin: req.Admin}
	for _, g := range req.Scope {
		role, err := access.ParseRole(g.Role)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid", err.Error())
			return
		}
		if g.Project != auth.AllProjects && !registry.ValidProjectName(g.Project) {
			writeError(w, http.StatusBadRequest, "invalid", "scope project "+truncate(g.Project)+" is not a project name (or * for every project)")
			return
		}
		scope.Grants = append(scope.Grants, auth.Grant{Project: g.Project, Role: role})
	}
	if len(scope.Grants) > 64 {
		writeError(w, http.StatusBadRequest, "invalid", "at most 64 scope entries")
		return
	}
	days := defaultTokenDays
	if req.ExpiresInDays != nil {
		days = *req.ExpiresInDays
	}
	id, secret, hash, err := auth.NewToken(a.rand)
	if err != nil {
		a.internal(w, r, "create the token", err)
		return
	}
	// A token never outlives the token that made it: a single sign-on
	// login's token (hours) cannot mint one that keeps the roles of groups
	// the user has since left.
	expires := a.now().Add(time.Duration(days) * 24 * time.Hour)
	if !p.TokenExpires.IsZero() && p.TokenExpires.Before(expires) {
		expires = p.TokenExpires
	}
	t, err := a.st.CreateToken(r.Context(), store.Token{ID: id, Name: req.Name, PrincipalID: owner.ID, Scope: scope.String(),
		Hash: hash, Expires: expires})
	if err != nil {
		a.storeError(w, r, "token", err)
		return
	}
	a.log.InfoContext(r.Context(), "token created", "token_id", t.ID, "owner_id", owner.ID, "by", p.ID)
	writeJSON(w, http.StatusCreated, CreatedToken{Token: tokenOf(t, owner.Name), Secret: secret})
}

// revokeToken revokes one of the caller's tokens, or any token for an
// administrator. Another's token answers 404, as an unknown one does.
func (a *API) revokeToken(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	id := r.PathValue("id")
	if !p.FullScope && id != p.TokenID {
		writeError(w, http.StatusForbidden, "forbidden", "denied: a scoped token may revoke only itself; use an unscoped token of yours")
		return
	}
	t, err := a.st.Token(r.Context(), id)
	if err == nil && t.PrincipalID != p.ID && !access.Decide(p.Principal, access.ActManageUsers, access.Resource{}).Allowed() {
		err = store.ErrNotFound
	}
	if err != nil {
		a.storeError(w, r, "token "+truncate(id), err)
		return
	}
	if err := a.st.RevokeToken(r.Context(), id); err != nil {
		a.storeError(w, r, "token "+truncate(id), err)
		return
	}
	a.log.InfoContext(r.Context(), "token revoked", "token_id", id, "by", p.ID)
	w.WriteHeader(http.StatusNoContent)
}

// User is a principal in API responses.
type User struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Kind        string            `json:"kind"`
	Admin       bool              `json:"admin"`
	Clearance   string            `json:"clearance"`
	Email       string            `json:"email,omitempty"`
	OIDC        bool              `json:"sso,omitempty"`
	CertSubject string            `json:"certSubject,omitempty"`
	Created     time.Time         `json:"created"`
	Disabled    *time.Time        `json:"disabled,omitempty"`
	Roles       map[string]string `json:"roles,omitempty"` // project -> role
	// AuditPseudonym is how the audit log names the user (GET of one
	// user, by an administrator; absent when nothing in the log is tied
	// to them).
	AuditPseudonym string `json:"auditPseudonym,omitempty"`
}

func userOf(p store.Principal) User {
	return User{ID: p.ID, Name: p.Name, Kind: p.Kind, Admin: p.Admin, Clearance: string(p.Clearance), Email: p.Email,
		OIDC: p.OIDCSubject != "", CertSubject: p.CertSubject, Created: p.Created, Disabled: timePtr(p.Disabled)}
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	ps, err := a.st.ListPrincipals(r.Context())
	if err != nil {
		a.internal(w, r, "list users", err)
		return
	}
	items := make([]User, 0, len(ps))
	for _, p := range ps {
		items = append(items, userOf(p))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// CreateUserRequest is the body of POST /api/v1/users.
type CreateUserRequest struct {
	Name string `json:"name"`
	// Kind is user or service (a robot account); user when absent.
	Kind string `json:"kind,omitempty"`
	// Clearance is public, internal, confidential or restricted;
	// internal when absent.
	Clearance   string `json:"clearance,omitempty"`
	Admin       bool   `json:"admin,omitempty"`
	Email       string `json:"email,omitempty"`
	CertSubject string `json:"certSubject,omitempty"`
}

// maxFieldLen bounds a user's text fields.
const maxFieldLen = 256

func validUserName(s string) bool { return registry.ValidProjectName(s) }

func (a *API) createUser(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	var req CreateUserRequest
	if !decodeBody(w, r, &req, false, `JSON like {"name": "ci-bot", "kind": "service", "clearance": "internal"}`) {
		return
	}
	if req.Kind == "" {
		req.Kind = store.KindUser
	}
	if req.Clearance == "" {
		req.Clearance = string(store.Internal)
	}
	switch {
	case !validUserName(req.Name):
		writeError(w, http.StatusBadRequest, "invalid", "invalid user name: use lower-case letters and digits, separated by '.', '_' or '-', at most 64 characters")
		return
	case req.Kind != store.KindUser && req.Kind != store.KindService:
		writeError(w, http.StatusBadRequest, "invalid", "kind must be user or service")
		return
	case !store.Classification(req.Clearance).Valid():
		writeError(w, http.StatusBadRequest, "invalid", "clearance must be public, internal, confidential or restricted")
		return
	case len(req.Email) > maxFieldLen || len(req.CertSubject) > maxFieldLen:
		writeError(w, http.StatusBadRequest, "invalid", "email and certSubject are at most 256 characters")
		return
	case req.CertSubject != "" && req.Kind != store.KindService:
		writeError(w, http.StatusBadRequest, "invalid", "only service accounts authenticate with client certificates")
		return
	}
	id, err := auth.NewPrincipalID(a.rand)
	if err != nil {
		a.internal(w, r, "create the user", err)
		return
	}
	u, err := a.st.CreatePrincipal(r.Context(), store.Principal{ID: id, Name: req.Name, Kind: req.Kind, Admin: req.Admin,
		Clearance: store.Classification(req.Clearance), Email: req.Email, CertSubject: req.CertSubject})
	if errors.Is(err, store.ErrExists) {
		writeError(w, http.StatusConflict, "conflict", "a user named "+req.Name+" (or with this certificate subject) already exists")
		return
	}
	if err != nil {
		a.internal(w, r, "create the user", err)
		return
	}
	a.log.InfoContext(r.Context(), "user created", "principal_id", u.ID, "by", p.ID)
	w.Header().Set("Location", "/api/v1/users/"+u.Name)
	writeJSON(w, http.StatusCreated, userOf(u))
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	name := r.PathValue("name")
	u, err := a.st.PrincipalByName(r.Context(), name)
	if err != nil {
		a.storeError(w, r, "user "+truncate(name), err)
		return
	}
	ms, err := a.st.MembershipsOf(r.Context(), u.ID)
	if err != nil {
		a.internal(w, r, "list the user's roles", err)
		return
	}
	out := userOf(u)
	out.Roles = map[string]string{}
	for _, m := range ms {
		out.Roles[m.Project] = m.Role
	}
	if a.eraser != nil {
		pid, _, err := a.eraser.Current(r.Context(), u.ID)
		switch {
		case err == nil:
			out.AuditPseudonym = pid
		case !errors.Is(err, store.ErrNotFound):
			a.internal(w, r, "read the user's audit pseudonym", err)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// UserPatch is the body of PATCH /api/v1/users/{name}: the fields given
// replace the stored ones.
type UserPatch struct {
	Clearance   *string `json:"clearance,omitempty"`
	Admin       *bool   `json:"admin,omitempty"`
	Disabled    *bool   `json:"disabled,omitempty"`
	Email       *string `json:"email,omitempty"`
	CertSubject *string `json:"certSubject,omitempty"`
}

func (a *API) patchUser(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	name := r.PathValue("name")
	var patch UserPatch
	if !decodeBody(w, r, &patch, false, `JSON like {"clearance": "confidential"} or {"disabled": true}`) {
		return
	}
	u, err := a.st.PrincipalByName(r.Context(), name)
	if err != nil {
		a.storeError(w, r, "user "+truncate(name), err)
		return
	}
	// Only the fields given are written, in one statement, so that a
	// concurrent change of another field (a login's, another
	// administrator's) is kept.
	var sp store.PrincipalPatch
	if patch.Clearance != nil {
		c := store.Classification(*patch.Clearance)
		if !c.Valid() {
			writeError(w, http.StatusBadRequest, "invalid", "clearance must be public, internal, confidential or restricted")
			return
		}
		sp.Clearance = &c
	}
	if patch.Admin != nil {
		if u.ID == p.ID && !*patch.Admin {
			writeError(w, http.StatusBadRequest, "invalid", "an administrator cannot remove their own administration: ask another administrator")
			return
		}
		sp.Admin = patch.Admin
	}
	if patch.Disabled != nil {
		if u.ID == p.ID && *patch.Disabled {
			writeError(w, http.StatusBadRequest, "invalid", "you cannot disable yourself")
			return
		}
		var at time.Time
		if *patch.Disabled {
			at = a.now()
		}
		sp.Disabled = &at
	}
	if patch.Email != nil {
		if len(*patch.Email) > maxFieldLen {
			writeError(w, http.StatusBadRequest, "invalid", "email is at most 256 characters")
			return
		}
		sp.Email = patch.Email
	}
	if patch.CertSubject != nil {
		if *patch.CertSubject != "" && u.Kind != store.KindService {
			writeError(w, http.StatusBadRequest, "invalid", "only service accounts authenticate with client certificates")
			return
		}
		if len(*patch.CertSubject) > maxFieldLen {
			writeError(w, http.StatusBadRequest, "invalid", "certSubject is at most 256 characters")
			return
		}
		sp.CertSubject = patch.CertSubject
	}
	if err := a.st.PatchPrincipal(r.Context(), u.ID, sp); err != nil {
		if errors.Is(err, store.ErrExists) {
			writeError(w, http.StatusConflict, "conflict", "another service account has this certificate subject")
			return
		}
		a.storeError(w, r, "user "+truncate(name), err)
		return
	}
	a.log.InfoContext(r.Context(), "user changed", "principal_id", u.ID, "by", p.ID)
	a.getUser(w, r, p)
}

// Member is a project member in API responses.
type Member struct {
	Name    string    `json:"name"`
	Kind    string    `json:"kind,omitempty"`
	Role    string    `json:"role"`
	Source  string    `json:"source"`
	Created time.Time `json:"created"`
}

func (a *API) listMembers(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	project := r.PathValue("project")
	ms, err := a.st.Members(r.Context(), project)
	if err != nil {
		a.storeError(w, r, "project "+truncate(project), err)
		return
	}
	items := make([]Member, 0, len(ms))
	for _, m := range ms {
		items = append(items, Member{Name: m.PrincipalName, Role: m.Role, Source: m.Source, Created: m.Created})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// SetMemberRequest is the body of PUT .../members/{name}.
type SetMemberRequest struct {
	Role string `json:"role"`
}

func (a *API) setMember(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	project, name := r.PathValue("project"), r.PathValue("name")
	var req SetMemberRequest
	if !decodeBody(w, r, &req, false, `JSON like {"role": "developer"}`) {
		return
	}
	if _, err := access.ParseRole(req.Role); err != nil {
		writeError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	u, err := a.st.PrincipalByName(r.Context(), name)
	if err != nil {
		a.storeError(w, r, "user "+truncate(name), err)
		return
	}
	if req.Role != string(access.Owner) && !a.keepsAnOwner(w, r, project, u) {
		return
	}
	if err := a.st.SetMember(r.Context(), store.Member{Project: project, PrincipalID: u.ID, Role: req.Role, Source: "manual"}); err != nil {
		a.storeError(w, r, "project "+truncate(project), err)
		return
	}
	a.log.InfoContext(r.Context(), "member set", "project", project, "principal_id", u.ID, "role", req.Role, "by", p.ID)
	writeJSON(w, http.StatusOK, Member{Name: u.Name, Kind: u.Kind, Role: req.Role, Source: "manual", Created: a.now().UTC()})
}

func (a *API) removeMember(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	project, name := r.PathValue("project"), r.PathValue("name")
	u, err := a.st.PrincipalByName(r.Context(), name)
	if err == nil && !a.keepsAnOwner(w, r, project, u) {
		return
	}
	if err == nil {
		err = a.st.RemoveMember(r.Context(), project, u.ID)
	}
	if err != nil {
		a.storeError(w, r, "member "+truncate(name)+" of project "+truncate(project), err)
		return
	}
	a.log.InfoContext(r.Context(), "member removed", "project", project, "principal_id", u.ID, "by", p.ID)
	w.WriteHeader(http.StatusNoContent)
}

// keepsAnOwner answers 409 and reports false when u is the project's
// only owner (disabled owners do not count): a project its owners manage must keep one, so that
// members are not left without anyone to manage them (an administrator
// can still make a new owner). The check and the change are not one
// transaction: two owners demoting each other at once can both succeed.
func (a *API) keepsAnOwner(w http.ResponseWriter, r *http.Request, project string, u store.Principal) bool {
	ms, err := a.st.Members(r.Context(), project)
	if err != nil {
		a.storeError(w, r, "project "+truncate(project), err)
		return false
	}
	owners, isOwner := 0, false
	for _, m := range ms {
		if m.Role != string(access.Owner) {
			continue
		}
		if m.PrincipalID == u.ID {
			isOwner = true
			continue
		}
		// Another owner counts while it can act.
		if o, err := a.st.Principal(r.Context(), m.PrincipalID); err == nil && o.Enabled() {
			owners++
		}
	}
	if isOwner && owners == 0 {
		writeError(w, http.StatusConflict, "conflict", truncate(u.Name)+" is the only owner of project "+truncate(project)+
			": make another member owner first (palisade project add-member "+truncate(project)+" USER owner)")
		return false
	}
	return true
}

// Usage is the body of GET .../usage.
type Usage struct {
	Quota QuotaBody   `json:"quota"`
	Usage UsageCounts `json:"usage"`
}

// UsageCounts is what a project holds.
type UsageCounts struct {
	Repositories int64 `json:"repositories"`
	Manifests    int64 `json:"manifests"`
	Blobs        int64 `json:"blobs"`
	BlobBytes    int64 `json:"blobBytes"` // plaintext bytes
}

// QuotaRequest is the body of PUT .../quota: the quotas given replace the
// stored ones (0 is unlimited); one left out keeps its value.
type QuotaRequest struct {
	Bytes     *int64 `json:"bytes,omitempty"`
	Artifacts *int64 `json:"artifacts,omitempty"`
}

// QuotaBody is a project's quota; zero fields are unlimited.
type QuotaBody struct {
	Bytes     int64 `json:"bytes"`
	Artifacts int64 `json:"artifacts"`
}

func (a *API) getUsage(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	project := r.PathValue("project")
	pr, err := a.st.Project(r.Context(), project)
	if err != nil {
		a.storeError(w, r, "project "+truncate(project), err)
		return
	}
	u, err := a.st.ProjectUsage(r.Context(), project)
	if err != nil {
		a.storeError(w, r, "project "+truncate(project), err)
		return
	}
	writeJSON(w, http.StatusOK, Usage{Quota: QuotaBody(pr.Quota), Usage: UsageCounts(u)})
}

func (a *API) setQuota(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	project := r.PathValue("project")
	var req QuotaRequest
	if !decodeBody(w, r, &req, false, `JSON like {"bytes": 10737418240, "artifacts": 1000} (0 is unlimited)`) {
		return
	}
	if req.Bytes == nil && req.Artifacts == nil || req.Bytes != nil && *req.Bytes < 0 || req.Artifacts != nil && *req.Artifacts < 0 {
		writeError(w, http.StatusBadRequest, "invalid", "give bytes, artifacts or both; a quota is 0 (unlimited) or positive")
		return
	}
	pr, err := a.st.Project(r.Context(), project)
	if err != nil {
		a.storeError(w, r, "project "+truncate(project), err)
		return
	}
	q := pr.Quota
	if req.Bytes != nil {
		q.Bytes = *req.Bytes
	}
	if req.Artifacts != nil {
		q.Artifacts = *req.Artifacts
	}
	if err := a.st.SetQuota(r.Context(), project, q); err != nil {
		a.storeError(w, r, "project "+truncate(project), err)
		return
	}
	a.log.InfoContext(r.Context(), "quota set", "project", project, "bytes", q.Bytes, "artifacts", q.Artifacts, "by", p.ID)
	a.getUsage(w, r, p)
}
