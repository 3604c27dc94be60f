package auth

import (
	"fmt"
	"strings"

	"github.com/palisade-sec/palisade/internal/access"
)

// AllProjects is the project name of a grant on every project.
const AllProjects = "*"

// Grant is a role on a project (or on every project).
type Grant struct {
	Project string
	Role    access.Role
}

// TokenScope limits an API token below its owner's access. The zero
// TokenScope is all of the owner's access.
type TokenScope struct {
	// Admin keeps the owner's system administration (when the owner is
	// an administrator) in a scoped token.
	Admin  bool
	Grants []Grant
}

// Full reports whether the scope is all of the owner's access.
func (s TokenScope) Full() bool { return !s.Admin && len(s.Grants) == 0 }

// maxGrants bounds a token's scope.
const maxGrants = 64

// String encodes the scope for the store: "" when full, otherwise
// comma-separated "admin" and "PROJECT:ROLE" entries.
func (s TokenScope) String() string {
	var parts []string
	if s.Admin {
		parts = append(parts, "admin")
	}
	for _, g := range s.Grants {
		parts = append(parts, g.Project+":"+string(g.Role))
	}
	return strings.Join(parts, ",")
}

// ParseTokenScope reads what TokenScope.String wrote, or what a user
// typed with the same syntax.
func ParseTokenScope(s string) (TokenScope, error) {
	var ts TokenScope
	if s == "" {
		return ts, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > maxGrants {
		return ts, fmt.Errorf("token scope: more than %d entries", maxGrants)
	}
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "admin" {
			ts.Admin = true
			continue
		}
		project, role, ok := strings.Cut(p, ":")
		if !ok || project == "" {
			return TokenScope{}, fmt.Errorf("token scope entry %.80q: want admin or PROJECT:ROLE", p)
		}
		r, err := access.ParseRole(role)
		if err != nil {
			return TokenScope{}, fmt.Errorf("token scope entry %.80q: %w", p, err)
		}
		ts.Grants = append(ts.Grants, Grant{Project: project, Role: r})
	}
	return ts, nil
}

// Effective computes what a token of scope may do for its owner: the
// owner's permissions per project (every permission everywhere for an
// administrator), intersected with the scope's. The owner is as loaded
// from the store: an admin flag and roles per project, no AllProjects.
func Effective(owner access.Principal, scope TokenScope) access.Principal {
	p := owner
	if scope.Full() {
		return p
	}
	p.Admin = owner.Admin && scope.Admin
	p.Projects = map[string]access.Perm{}
	p.AllProjects = 0
	ownerIn := func(project string) access.Perm { return owner.PermsIn(project) }
	for _, g := range scope.Grants {
		if g.Project == AllProjects {
			if owner.Admin {
				p.AllProjects |= g.Role.Perms()
				continue
			}
			for project := range owner.Projects {
				p.Projects[project] |= ownerIn(project) & g.Role.Perms()
			}
			continue
		}
		if perm := ownerIn(g.Project) & g.Role.Perms(); perm != 0 {
			p.Projects[g.Project] |= perm
		}
	}
	return p
}
