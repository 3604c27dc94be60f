package access

import "fmt"

// Kind is what sort of principal acts.
type Kind string

// The principal kinds.
const (
	User    Kind = "user"
	Service Kind = "service" // a robot account for pipelines
)

// Principal is an authenticated caller with its effective permissions:
// those of its roles, already intersected with its token's scope.
type Principal struct {
	ID   string // stable principal ID
	Name string
	Kind Kind
	// TokenID is the API token the request presented ("" for other
	// credentials such as a client certificate).
	TokenID string
	// Admin is a system administrator acting with a token that keeps
	// that power.
	Admin     bool
	Clearance Level
	// Projects holds the permissions per project.
	Projects map[string]Perm
	// AllProjects holds permissions on every project (a token scoped to a
	// role on "*").
	AllProjects Perm
}

// PermsIn returns the principal's permissions in project.
func (p *Principal) PermsIn(project string) Perm {
	if p == nil {
		return 0
	}
	if p.Admin {
		return AllPerms
	}
	return p.Projects[project] | p.AllProjects
}

// Visible reports whether the project exists for the principal at all:
// whether it may read anything in it. Listing and error messages use it
// so that projects without a grant stay invisible.
func (p *Principal) Visible(project string) bool {
	return p.PermsIn(project)&(PermRead|PermUsage|PermMembersRead|PermAudit) != 0
}

// Action is what a request does. Every route of the server names one.
type Action string

// The actions. System actions need a system administrator; project
// actions need a permission in the resource's project.
const (
	// Any authenticated principal.
	ActWhoami      Action = "whoami"
	ActOwnTokens   Action = "own-tokens"    // create, list and revoke one's own tokens
	ActListProject Action = "list-projects" // the list is filtered by Visible

	// System administration.
	ActCreateProject Action = "create-project"
	ActManageUsers   Action = "manage-users"
	ActSetQuota      Action = "set-quota"
	ActKeys          Action = "manage-keys"    // rotation, crypto-shredding
	ActMaintenance   Action = "maintenance"    // fsck, gc
	ActAuditLog      Action = "read-audit-log" // the whole audit log

	// In a project.
	ActReadProject   Action = "read-project"
	ActListArtifacts Action = "list-artifacts"
	ActReadArtifact  Action = "read-artifact" // detailed metadata
	ActPull          Action = "pull"
	ActPush          Action = "push"
	ActDelete        Action = "delete"
	ActEditMeta      Action = "edit-metadata"
	ActLowerClass    Action = "lower-classification"
	ActReadMembers   Action = "read-members"
	ActManageMembers Action = "manage-members"
	ActReadUsage     Action = "read-usage"
	ActReadAudit     Action = "read-audit"
)

// Resource is what an action applies to.
type Resource struct {
	Project string
	// Classification is the artifact's level for actions that read its
	// bytes or detail; zero when the action reads no artifact.
	Classification Level
	// Promoted reports whether the artifact is promoted to production
	// (what a deployer may pull).
	Promoted bool
}

// needs is what each project action requires: a permission and whether
// the principal's clearance must cover the artifact.
var needs = map[Action]struct {
	perm      Perm
	clearance bool
}{
	ActReadProject:   {PermRead | PermUsage | PermMembersRead | PermAudit, false},
	ActListArtifacts: {PermRead, false},
	ActReadArtifact:  {PermDetail, true},
	ActPull:          {PermPull, true},
	ActPush:          {PermPush, false},
	ActDelete:        {PermDelete, false},
	ActEditMeta:      {PermEditMeta, false},
	ActLowerClass:    {PermLowerClass, false},
	ActReadMembers:   {PermMembersRead, false},
	ActManageMembers: {PermMembersWrite, false},
	ActReadUsage:     {PermUsage, false},
	ActReadAudit:     {PermAudit, false},
}

// Outcome says why a decision went the way it did.
type Outcome uint8

// The outcomes.
const (
	Allowed Outcome = iota
	DeniedAnonymous
	DeniedNotAdmin
	DeniedNoGrant    // no permission at all in the project
	DeniedPermission // a role in the project, but not this permission
	DeniedClearance
	DeniedNotPromoted
	DeniedUnknownAction
)

// Decision is the answer to one request, with its reason.
type Decision struct {
	Outcome Outcome
	Action  Action
	Project string
	// Need is the permission the action needed (project actions).
	Need Perm
	// Classification and Clearance are set for clearance denials.
	Classification, Clearance Level
}

// Allowed reports whether the action may proceed.
func (d Decision) Allowed() bool { return d.Outcome == Allowed }

// Reason explains the decision in a sentence fit for the caller and
// the audit log.
func (d Decision) Reason() string {
	switch d.Outcome {
	case Allowed:
		if d.Project == "" {
			return fmt.Sprintf("allowed: %s", d.Action)
		}
		return fmt.Sprintf("allowed: %s in project %s", d.Action, d.Project)
	case DeniedAnonymous:
		return "denied: authentication required"
	case DeniedNotAdmin:
		return fmt.Sprintf("denied: %s needs a system administrator", d.Action)
	case DeniedNoGrant:
		return fmt.Sprintf("denied: no access to project %s: ask one of its owners for a role", d.Project)
	case DeniedPermission:
		return fmt.Sprintf("denied: %s in project %s needs the %s permission, which your role (or token scope) there does not grant", d.Action, d.Project, d.Need)
	case DeniedClearance:
		return fmt.Sprintf("denied: the artifact is classified %s and your clearance is %s", d.Classification, d.Clearance)
	case DeniedNotPromoted:
		return fmt.Sprintf("denied: a deployer may pull only artifacts promoted to production, in project %s", d.Project)
	}
	return fmt.Sprintf("denied: unknown action %q", d.Action)
}

// Decide is the one authorization function: it returns whether p may do
// a to r, and why. Deny by default: an unknown action, a nil principal or
// a missing grant is denied.
func Decide(p *Principal, a Action, r Resource) Decision {
	d := Decision{Action: a, Project: r.Project}
	if p == nil {
		d.Outcome = DeniedAnonymous
		return d
	}
	switch a {
	case ActWhoami, ActOwnTokens, ActListProject:
		return d
	case ActCreateProject, ActManageUsers, ActSetQuota, ActKeys, ActMaintenance, ActAuditLog:
		if !p.Admin {
			d.Outcome = DeniedNotAdmin
		}
		return d
	}
	need, ok := needs[a]
	if !ok {
		d.Outcome = DeniedUnknownAction
		return d
	}
	d.Need = need.perm
	have := p.PermsIn(r.Project)
	switch {
	case have == 0:
		d.Outcome = DeniedNoGrant
		return d
	case a == ActPull && have&PermPull == 0 && have&PermPullPromoted != 0:
		if !r.Promoted {
			d.Outcome = DeniedNotPromoted
			return d
		}
	case have&need.perm == 0:
		d.Outcome = DeniedPermission
		return d
	}
	if need.clearance && (r.Classification == 0 || p.Clearance < r.Classification) {
		d.Outcome = DeniedClearance
		d.Classification, d.Clearance = r.Classification, p.Clearance
	}
	return d
}

// Code names the outcome in a few words fit for an audit entry's reason
// ("access:no_grant"), where the sentence of Reason would be free text.
func (d Decision) Code() string {
	switch d.Outcome {
	case Allowed:
		return "access:allowed"
	case DeniedAnonymous:
		return "access:anonymous"
	case DeniedNotAdmin:
		return "access:not_admin"
	case DeniedNoGrant:
		return "access:no_grant"
	case DeniedPermission:
		return "access:permission"
	case DeniedClearance:
		return "access:clearance"
	case DeniedNotPromoted:
		return "access:not_promoted"
	}
	return "access:unknown_action"
}
