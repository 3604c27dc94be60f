package access

import (
	"fmt"
	"slices"
	"strings"
)

// Level is a classification (of an artifact) or a clearance (of a
// principal), from least to most sensitive.
type Level int

// The levels, in increasing order. The zero Level is invalid.
const (
	Public Level = iota + 1
	Internal
	Confidential
	Restricted
)

var levelNames = [...]string{"", "public", "internal", "confidential", "restricted"}

// String returns the level's name ("public" ... "restricted").
func (l Level) String() string {
	if l < Public || l > Restricted {
		return fmt.Sprintf("level(%d)", int(l))
	}
	return levelNames[l]
}

// ParseLevel reads a level name.
func ParseLevel(s string) (Level, error) {
	for l := Public; l <= Restricted; l++ {
		if levelNames[l] == s {
			return l, nil
		}
	}
	return 0, fmt.Errorf("classification %.40q: want public, internal, confidential or restricted", s)
}

// Role is what a principal is in a project.
type Role string

// The project roles.
const (
	// Owner may do everything in the project, manage its members and
	// read its audit log.
	Owner Role = "owner"
	// Maintainer pushes, deletes, lowers classifications (with a reason)
	// and reads the project's members and usage.
	Maintainer Role = "maintainer"
	// Developer pulls and pushes, and may raise classifications.
	Developer Role = "developer"
	// Reader pulls and reads metadata.
	Reader Role = "reader"
	// Auditor reads metadata, members, usage and the audit log, never
	// artifact bytes.
	Auditor Role = "auditor"
	// Deployer pulls only what is promoted to production.
	Deployer Role = "deployer"
)

// Roles lists the project roles, most privileged first.
func Roles() []Role { return []Role{Owner, Maintainer, Developer, Reader, Auditor, Deployer} }

// ParseRole reads a role name.
func ParseRole(s string) (Role, error) {
	if slices.Contains(Roles(), Role(s)) {
		return Role(s), nil
	}
	names := make([]string, 0, 6)
	for _, r := range Roles() {
		names = append(names, string(r))
	}
	return "", fmt.Errorf("role %.40q: want one of %s", s, strings.Join(names, ", "))
}

// Perm is a set of project permissions.
type Perm uint32

// The project permissions.
const (
	// PermRead lists the project's repositories and artifacts with their
	// summary (repository, digest, tags, kind, classification).
	PermRead Perm = 1 << iota
	// PermDetail reads an artifact's detailed metadata (files, labels,
	// description, model card, referrers); needs clearance.
	PermDetail
	// PermPull reads artifact bytes (manifests and blobs); needs
	// clearance.
	PermPull
	// PermPullPromoted reads the bytes of artifacts promoted to
	// production only; needs clearance.
	PermPullPromoted
	// PermPush uploads blobs and manifests and moves tags.
	PermPush
	// PermDelete removes manifests, tags and blobs.
	PermDelete
	// PermEditMeta edits metadata and raises classifications.
	PermEditMeta
	// PermLowerClass lowers a classification (with a reason).
	PermLowerClass
	// PermMembersRead lists the project's members.
	PermMembersRead
	// PermMembersWrite adds, changes and removes members.
	PermMembersWrite
	// PermUsage reads the project's usage and quotas.
	PermUsage
	// PermAudit reads the project's audit log.
	PermAudit

	permEnd
)

// AllPerms is every project permission.
const AllPerms = permEnd - 1

var permNames = map[Perm]string{
	PermRead: "read", PermDetail: "read-detail", PermPull: "pull", PermPullPromoted: "pull-promoted",
	PermPush: "push", PermDelete: "delete", PermEditMeta: "edit-metadata", PermLowerClass: "lower-classification",
	PermMembersRead: "read-members", PermMembersWrite: "manage-members", PermUsage: "read-usage", PermAudit: "read-audit",
}

// String names the permissions in p, comma-separated.
func (p Perm) String() string {
	var names []string
	for b := Perm(1); b < permEnd; b <<= 1 {
		if p&b != 0 {
			names = append(names, permNames[b])
		}
	}
	return strings.Join(names, ",")
}

// RoleWith returns the role whose permissions are exactly p, if one is:
// a token scoped across roles, or roles merged from several groups, may
// hold a set no role has.
func RoleWith(p Perm) (Role, bool) {
	for _, r := range Roles() {
		if r.Perms() == p {
			return r, true
		}
	}
	return "", false
}

// Perms returns the permissions of a role; an unknown role has none.
func (r Role) Perms() Perm {
	switch r {
	case Owner:
		return AllPerms
	case Maintainer:
		return PermRead | PermDetail | PermPull | PermPush | PermDelete | PermEditMeta | PermLowerClass | PermMembersRead | PermUsage
	case Developer:
		return PermRead | PermDetail | PermPull | PermPush | PermEditMeta | PermUsage
	case Reader:
		return PermRead | PermDetail | PermPull
	case Auditor:
		return PermRead | PermDetail | PermMembersRead | PermUsage | PermAudit
	case Deployer:
		return PermRead | PermPullPromoted
	}
	return 0
}
