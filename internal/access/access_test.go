package access

import (
	"fmt"
	"testing"
)

func TestParse(t *testing.T) {
	for l := Public; l <= Restricted; l++ {
		got, err := ParseLevel(l.String())
		if err != nil || got != l {
			t.Errorf("ParseLevel(%q) = %v, %v, want %v", l.String(), got, err, l)
		}
	}
	for _, bad := range []string{"", "secret", "Public", "restricted "} {
		if _, err := ParseLevel(bad); err == nil {
			t.Errorf("ParseLevel(%q) accepted", bad)
		}
		if _, err := ParseRole(bad); err == nil {
			t.Errorf("ParseRole(%q) accepted", bad)
		}
	}
	for _, r := range Roles() {
		if got, err := ParseRole(string(r)); err != nil || got != r {
			t.Errorf("ParseRole(%q) = %v, %v", r, got, err)
		}
	}
}

// TestRoleMatrix holds every role against every project action: the
// matrix docs/access-control.md writes out.
func TestRoleMatrix(t *testing.T) {
	const (
		y = true
		n = false
	)
	actions := []Action{ActReadProject, ActListArtifacts, ActReadArtifact, ActPull, ActPush, ActDelete,
		ActEditMeta, ActLowerClass, ActReadMembers, ActManageMembers, ActReadUsage, ActReadAudit}
	want := map[Role][]bool{
		//          proj  list  detail pull push  del   edit  lower mem-r mem-w usage audit
		Owner:      {y, y, y, y, y, y, y, y, y, y, y, y},
		Maintainer: {y, y, y, y, y, y, y, y, y, n, y, n},
		Developer:  {y, y, y, y, y, n, y, n, n, n, y, n},
		Reader:     {y, y, y, y, n, n, n, n, n, n, n, n},
		Auditor:    {y, y, y, n, n, n, n, n, y, n, y, y},
		Deployer:   {y, y, n, n, n, n, n, n, n, n, n, n},
	}
	for _, role := range Roles() {
		p := &Principal{ID: "p", Clearance: Restricted, Projects: map[string]Perm{"ml": role.Perms()}}
		for i, a := range actions {
			got := Decide(p, a, Resource{Project: "ml", Classification: Internal}).Allowed()
			if got != want[role][i] {
				t.Errorf("%s %s: allowed = %v, want %v", role, a, got, want[role][i])
			}
			if Decide(p, a, Resource{Project: "other", Classification: Internal}).Outcome != DeniedNoGrant {
				t.Errorf("%s %s in another project: not DeniedNoGrant", role, a)
			}
		}
	}
}

func TestClearance(t *testing.T) {
	for c := Public; c <= Restricted; c++ {
		p := &Principal{ID: "p", Clearance: c, Projects: map[string]Perm{"ml": Reader.Perms()}}
		for l := Public; l <= Restricted; l++ {
			for _, a := range []Action{ActPull, ActReadArtifact} {
				d := Decide(p, a, Resource{Project: "ml", Classification: l})
				if d.Allowed() != (c >= l) {
					t.Errorf("clearance %s, %s %s artifact: %s", c, a, l, d.Reason())
				}
				if !d.Allowed() && d.Outcome != DeniedClearance {
					t.Errorf("clearance %s, %s %s artifact: outcome %d", c, a, l, d.Outcome)
				}
			}
			// Listing shows the summary whatever the clearance.
			if !Decide(p, ActListArtifacts, Resource{Project: "ml", Classification: l}).Allowed() {
				t.Errorf("clearance %s may not list", c)
			}
		}
	}
	// An artifact whose classification the caller did not give is denied.
	p := &Principal{ID: "p", Clearance: Restricted, Admin: true}
	if Decide(p, ActPull, Resource{Project: "ml"}).Allowed() {
		t.Error("pull without a classification allowed")
	}
}

func TestDeployer(t *testing.T) {
	p := &Principal{ID: "d", Clearance: Confidential, Projects: map[string]Perm{"ml": Deployer.Perms()}}
	if d := Decide(p, ActPull, Resource{Project: "ml", Classification: Internal}); d.Outcome != DeniedNotPromoted {
		t.Errorf("deployer pulls unpromoted: %s", d.Reason())
	}
	if d := Decide(p, ActPull, Resource{Project: "ml", Classification: Internal, Promoted: true}); !d.Allowed() {
		t.Errorf("deployer may not pull promoted: %s", d.Reason())
	}
	if d := Decide(p, ActPull, Resource{Project: "ml", Classification: Restricted, Promoted: true}); d.Outcome != DeniedClearance {
		t.Errorf("deployer pulls above clearance: %s", d.Reason())
	}
}

func TestSystemActions(t *testing.T) {
	owner := &Principal{ID: "o", Clearance: Restricted, Projects: map[string]Perm{"ml": Owner.Perms()}}
	admin := &Principal{ID: "a", Clearance: Restricted, Admin: true}
	for _, a := range []Action{ActCreateProject, ActManageUsers, ActSetQuota, ActKeys, ActMaintenance} {
		if d := Decide(owner, a, Resource{Project: "ml"}); d.Outcome != DeniedNotAdmin {
			t.Errorf("owner %s: %s", a, d.Reason())
		}
		if !Decide(admin, a, Resource{}).Allowed() {
			t.Errorf("admin %s denied", a)
		}
	}
	for _, a := range []Action{ActWhoami, ActOwnTokens, ActListProject} {
		if !Decide(&Principal{ID: "x"}, a, Resource{}).Allowed() {
			t.Errorf("%s denied to a principal without roles", a)
		}
		if Decide(nil, a, Resource{}).Allowed() {
			t.Errorf("%s allowed to nobody", a)
		}
	}
	if d := Decide(admin, "launch-missiles", Resource{Project: "ml"}); d.Allowed() {
		t.Error("unknown action allowed")
	}
}

func TestAllProjectsAndVisible(t *testing.T) {
	p := &Principal{ID: "r", Clearance: Internal, AllProjects: Reader.Perms()}
	if !p.Visible("any") || !Decide(p, ActPull, Resource{Project: "any", Classification: Public}).Allowed() {
		t.Error("a reader on every project cannot pull")
	}
	if Decide(p, ActPush, Resource{Project: "any"}).Allowed() {
		t.Error("a reader on every project can push")
	}
	q := &Principal{ID: "q", Projects: map[string]Perm{"ml": Auditor.Perms()}}
	if !q.Visible("ml") || q.Visible("other") {
		t.Error("Visible wrong for an auditor")
	}
}

func TestReasons(t *testing.T) {
	p := &Principal{ID: "p", Clearance: Internal, Projects: map[string]Perm{"ml": Reader.Perms()}}
	for _, tc := range []struct {
		a    Action
		r    Resource
		want string
	}{
		{ActPush, Resource{Project: "ml"}, "denied: push in project ml needs the push permission, which your role (or token scope) there does not grant"},
		{ActPull, Resource{Project: "ml", Classification: Restricted}, "denied: the artifact is classified restricted and your clearance is internal"},
		{ActPull, Resource{Project: "hr"}, "denied: no access to project hr: ask one of its owners for a role"},
		{ActPull, Resource{Project: "ml", Classification: Public}, "allowed: pull in project ml"},
		{ActSetQuota, Resource{}, "denied: set-quota needs a system administrator"},
	} {
		if got := Decide(p, tc.a, tc.r).Reason(); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.a, got, tc.want)
		}
	}
}

func BenchmarkDecide(b *testing.B) {
	projects := map[string]Perm{}
	for i := range 200 {
		projects[fmt.Sprintf("project-%d", i)] = Developer.Perms()
	}
	p := &Principal{ID: "p", Clearance: Confidential, Projects: projects}
	r := Resource{Project: "project-117", Classification: Internal}
	b.ReportAllocs()
	for b.Loop() {
		if !Decide(p, ActPull, r).Allowed() {
			b.Fatal("denied")
		}
	}
}
