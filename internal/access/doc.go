// Package access decides what a principal may do: the one authorization
// function of the Palisade server (Decide), its roles, permissions and
// classification levels.
//
// Deny by default. A principal holds, per project, the permissions of
// its role there (owner, maintainer, developer, reader, auditor,
// deployer), intersected with what the token it presented was scoped to;
// a system administrator holds every permission on every project. Reading
// artifact bytes or detailed metadata also needs a clearance at or above
// the artifact's classification (public < internal < confidential <
// restricted). Every decision carries its reason, for error messages and
// the audit log; reasons name the project and the missing permission or
// clearance, never whether an object the principal may not see exists.
//
// The package does no I/O: callers load the principal (internal/auth)
// and the resource's classification (the metadata store) and ask. It is
// cheap enough to call on every request (see BenchmarkDecide).
package access
