package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/api"
)

// TestIdentityCommandsEndToEnd drives the identity commands against a
// live server as an administrator, a project owner and a service account
// would: users, project ownership, tokens (scoped, revoked), members,
// quotas and classification. Each step needs the ones before it, so the
// subtests run in order and stop at the first failure. It sets
// environment variables, so it does not run in parallel.
func TestIdentityCommandsEndToEnd(t *testing.T) {
	addr := startServer(t)
	useServer(t, addr)
	as := runAs
	admin := e2eAdminToken
	model := func(t *testing.T, size int) string {
		t.Helper()
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "model.safetensors"), []byte(strings.Repeat("w", size)), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	var alice, ciBot, scoped, scopedID string
	ref := addr + "/ml/detector:v1"
	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}

	step("users", func(t *testing.T) {
		out, _ := as(t, admin, ExitOK, "user", "create", "alice", "--clearance", "internal", "--email", "alice@example.com")
		wantIn(t, "user create alice", out, "Created user alice (clearance internal)")
		out, _ = as(t, admin, ExitOK, "user", "create", "ci-bot", "--service")
		wantIn(t, "user create ci-bot", out, "Created service account ci-bot")
		var users []api.User
		out, _ = as(t, admin, ExitOK, "user", "ls", "--json")
		if err := json.Unmarshal([]byte(out), &users); err != nil {
			t.Fatal(err)
		}
		kinds := map[string]string{}
		for _, u := range users {
			kinds[u.Name] = u.Kind + "/" + u.Clearance
		}
		if kinds["alice"] != "user/internal" || kinds["ci-bot"] != "service/internal" {
			t.Errorf("user ls = %v", kinds)
		}
		_, errOut := as(t, admin, ExitError, "user", "set", "alice")
		wantIn(t, "user set without flags", errOut, "nothing to change")
	})

	step("project with owner", func(t *testing.T) {
		out, _ := as(t, admin, ExitOK, "project", "create", "ml", "--owner", "alice")
		wantIn(t, "project create --owner", out, "Created project ml, owned by alice")
		out, _ = as(t, admin, ExitOK, "user", "show", "alice")
		wantIn(t, "user show alice", out, "Clearance:", "internal", "Roles:", "ml  owner")
	})

	step("token for alice", func(t *testing.T) {
		out, errOut := as(t, admin, ExitOK, "token", "create", "alice-cli", "--owner", "alice", "--expires-days", "7")
		alice = strings.TrimSuffix(out, "\n")
		if !strings.HasPrefix(alice, "pal_") || strings.ContainsAny(alice, " \n") {
			t.Fatalf("token create printed %q on stdout, want the secret alone", out)
		}
		wantIn(t, "token create details", errOut, "alice-cli", "for alice", "scope:   full", "expires:")
		if strings.Contains(errOut, alice) {
			t.Errorf("the secret is on stderr too: %s", errOut)
		}
		out, _ = as(t, alice, ExitOK, "whoami")
		wantIn(t, "whoami as alice", out, "Name:", "alice", "Admin:      no", "Clearance:  internal", "ml  owner  read,", "manage-members")
		var who api.Whoami
		out, _ = as(t, alice, ExitOK, "whoami", "--json")
		if err := json.Unmarshal([]byte(out), &who); err != nil {
			t.Fatal(err)
		}
		if who.Name != "alice" || who.Kind != "user" || who.TokenID == "" || len(who.Projects["ml"]) == 0 || who.Roles["ml"] != "owner" {
			t.Errorf("whoami --json = %+v", who)
		}
	})

	step("members", func(t *testing.T) {
		out, _ := as(t, alice, ExitOK, "project", "add-member", "ml", "ci-bot", "developer")
		wantIn(t, "add-member", out, "ci-bot is now developer of project ml")
		_, errOut := as(t, alice, ExitError, "project", "add-member", "ml", "ci-bot", "wizard")
		wantIn(t, "add-member with an unknown role", errOut, "want one of owner, maintainer")
		out, _ = as(t, alice, ExitOK, "project", "members", "ml")
		wantIn(t, "project members", out, "NAME", "ROLE", "alice", "owner", "ci-bot", "developer")
		var ms []api.Member
		out, _ = as(t, alice, ExitOK, "project", "members", "ml", "--json")
		if err := json.Unmarshal([]byte(out), &ms); err != nil {
			t.Fatal(err)
		}
		roles := map[string]string{}
		for _, m := range ms {
			roles[m.Name] = m.Role
		}
		if roles["alice"] != "owner" || roles["ci-bot"] != "developer" || len(roles) != 2 {
			t.Errorf("project members --json = %v", roles)
		}
		out, _ = as(t, admin, ExitOK, "token", "create", "ci", "--owner", "ci-bot", "--project", "ml", "--role", "developer")
		ciBot = strings.TrimSpace(out)
		out, _ = as(t, ciBot, ExitOK, "whoami")
		wantIn(t, "whoami as ci-bot", out, "service", "ml  developer")
		_, errOut = as(t, ciBot, ExitError, "project", "members", "ml")
		wantIn(t, "members as a developer", errOut, "403", "read-members")
	})

	step("scoped token", func(t *testing.T) {
		_, errOut := as(t, alice, ExitError, "token", "create", "x", "--project", "ml", "--project", "other", "--role", "reader")
		wantIn(t, "unpaired --project and --role", errOut, "in pairs")
		_, errOut = as(t, alice, ExitError, "token", "create", "x", "--admin", "--project", "ml", "--role", "reader")
		wantIn(t, "--admin for an owner who is no administrator", errOut, "400", "alice is not a system administrator")
		_, errOut = as(t, alice, ExitError, "token", "create", "x", "--expires-days", "0")
		wantIn(t, "--expires-days 0", errOut, "400", "from 1 to 366")
		out, errOut := as(t, alice, ExitOK, "token", "create", "read-only", "--project", "ml", "--role", "reader")
		scoped = strings.TrimSpace(out)
		wantIn(t, "scoped token details", errOut, "scope:   ml:reader")
		out, _ = as(t, scoped, ExitOK, "whoami")
		wantIn(t, "whoami with the scoped token", out, "ml  reader")
		_, errOut = as(t, scoped, ExitError, "push", model(t, 100), addr+"/ml/denied:v1")
		wantIn(t, "push with a reader token", errOut, "push "+addr+"/ml/denied:v1")
		_, errOut = as(t, scoped, ExitError, "token", "create", "escalate")
		wantIn(t, "token create with a scoped token", errOut, "403", "a scoped token cannot create tokens")
		_, errOut = as(t, alice, ExitError, "token", "ls", "--all")
		wantIn(t, "token ls --all as alice", errOut, "403", "system administrator")
		var ts []api.Token
		out, _ = as(t, alice, ExitOK, "token", "ls", "--json")
		if err := json.Unmarshal([]byte(out), &ts); err != nil {
			t.Fatal(err)
		}
		for _, tk := range ts {
			if tk.Owner != "alice" {
				t.Errorf("alice's token ls lists %+v", tk)
			}
			if tk.Name == "read-only" {
				scopedID = tk.ID
			}
		}
		if len(ts) != 2 || scopedID == "" {
			t.Fatalf("alice's tokens = %+v", ts)
		}
		// A scoped token sees itself only, not its owner's other tokens.
		out, _ = as(t, scoped, ExitOK, "token", "ls", "--json")
		var own []api.Token
		if err := json.Unmarshal([]byte(out), &own); err != nil || len(own) != 1 || own[0].ID != scopedID {
			t.Errorf("token ls with the scoped token = %s (%v), want only itself", out, err)
		}
		out, _ = as(t, admin, ExitOK, "token", "ls", "--all")
		wantIn(t, "token ls --all", out, "ID", "LAST USED", "REVOKED", "alice-cli", "ci-bot", "ml:developer", "ml:reader")
	})

	step("revoke", func(t *testing.T) {
		out, _ := as(t, alice, ExitOK, "token", "revoke", scopedID)
		wantIn(t, "token revoke", out, "Revoked token "+scopedID)
		_, errOut := as(t, scoped, ExitError, "whoami")
		wantIn(t, "whoami with a revoked token", errOut, "credentials not accepted")
		out, _ = as(t, alice, ExitOK, "token", "ls")
		if !strings.Contains(out, "read-only") || strings.Count(out, "\n") != 3 {
			t.Errorf("token ls after revoke:\n%s", out)
		}
	})

	step("classify", func(t *testing.T) {
		as(t, ciBot, ExitOK, "push", model(t, 100), ref, "--classification", "public")
		out, _ := as(t, ciBot, ExitOK, "classify", "ml/detector:v1", "internal", "--tags", "pii,phi")
		wantIn(t, "classify raising as a developer", out, "ml/detector@sha256:", "is now internal", "Data tags: phi,pii")
		_, errOut := as(t, ciBot, ExitError, "classify", "ml/detector:v1", "public", "--reason", "r")
		wantIn(t, "classify lowering as a developer", errOut, "403", "lower-classification")
		_, errOut = as(t, alice, ExitError, "classify", ref, "public")
		wantIn(t, "classify lowering without a reason", errOut, "needs a reason")
		_, errOut = as(t, alice, ExitError, "classify", ref, "public", "--reason", " \t ")
		wantIn(t, "classify lowering with a blank reason", errOut, "needs a reason")
		out, _ = as(t, alice, ExitOK, "classify", ref, "public", "--reason", "synthetic data only")
		wantIn(t, "classify lowering with a reason", out, "is now public")
		_, errOut = as(t, alice, ExitError, "classify", "ml/detector:v1", "secret")
		wantIn(t, "classify with an unknown level", errOut, "want public, internal")
		_, errOut = as(t, ciBot, ExitError, "push", model(t, 100), ref, "--classification", "secret")
		wantIn(t, "push with an unknown level", errOut, "--classification", "want public, internal")
		var d api.ArtifactDetail
		out, _ = as(t, alice, ExitOK, "inspect", ref, "--json")
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatal(err)
		}
		if d.Classification != "public" || !slices.Equal(slices.Sorted(slices.Values(d.DataTags)), []string{"phi", "pii"}) || len(d.ClassificationChanges) != 2 ||
			d.ClassificationChanges[1].Reason != "synthetic data only" || d.ClassificationChanges[1].ActorName != "alice" {
			t.Errorf("after classify: %s %v %+v", d.Classification, d.DataTags, d.ClassificationChanges)
		}
		// An auditor reads the detail, by tag too, and never the bytes.
		as(t, admin, ExitOK, "user", "create", "audra")
		as(t, admin, ExitOK, "project", "add-member", "ml", "audra", "auditor")
		audra, _ := as(t, admin, ExitOK, "token", "create", "audit", "--owner", "audra")
		audra = strings.TrimSpace(audra)
		out, _ = as(t, audra, ExitOK, "inspect", ref)
		wantIn(t, "inspect by tag as an auditor", out, "Classification:", "public", "Data tags:", "phi, pii",
			"Classification history:", "-> public  by alice: synthetic data only")
		_, errOut = as(t, audra, ExitError, "pull", ref, filepath.Join(t.TempDir(), "out"))
		wantIn(t, "pull as an auditor", errOut, "403", "does not allow this")
		// Above alice's clearance (internal), listed by summary and marked.
		as(t, admin, ExitOK, "push", model(t, 100), addr+"/ml/secret:v1", "--classification", "confidential")
		out, _ = as(t, alice, ExitOK, "ls", "ml")
		wantIn(t, "ls with an artifact above the clearance", out, "secret", "confidential (redacted)")
		var secret []api.Artifact
		out, _ = as(t, admin, ExitOK, "ls", "ml/secret", "--json")
		if err := json.Unmarshal([]byte(out), &secret); err != nil || len(secret) != 1 {
			t.Fatalf("ls ml/secret: %s (%v)", out, err)
		}
		as(t, admin, ExitOK, "rm", addr+"/ml/secret@"+secret[0].Digest)
	})

	step("quota", func(t *testing.T) {
		_, errOut := as(t, alice, ExitError, "project", "set-quota", "ml", "--bytes", "1MiB")
		wantIn(t, "set-quota as the owner", errOut, "403", "system administrator")
		_, errOut = as(t, admin, ExitError, "project", "set-quota", "ml", "--bytes", "lots")
		wantIn(t, "set-quota with a bad size", errOut, "--bytes")
		as(t, admin, ExitOK, "project", "set-quota", "ml", "--artifacts", "100")
		out, _ := as(t, admin, ExitOK, "project", "set-quota", "ml", "--bytes", "2KB")
		wantIn(t, "set-quota", out, "Storage:", "of 2.0 KiB", "Artifacts:", "of 100")
		var u api.Usage
		out, _ = as(t, ciBot, ExitOK, "project", "usage", "ml", "--json")
		if err := json.Unmarshal([]byte(out), &u); err != nil {
			t.Fatal(err)
		}
		if u.Quota.Bytes != 2000 || u.Quota.Artifacts != 100 || u.Usage.Manifests != 1 {
			t.Errorf("usage = %+v", u)
		}
		_, errOut = as(t, ciBot, ExitError, "push", model(t, 5000), addr+"/ml/big:v1")
		wantIn(t, "push over the quota", errOut, "storage quota")
		if strings.Contains(errOut, "your role in the project") {
			t.Errorf("push over the quota blames the role: %s", errOut)
		}
		out, _ = as(t, admin, ExitOK, "project", "set-quota", "ml", "--bytes", "0")
		wantIn(t, "set-quota 0", out, "of unlimited", "of 100")
		as(t, ciBot, ExitOK, "push", model(t, 5000), addr+"/ml/big:v1")
	})

	step("remove member", func(t *testing.T) {
		out, _ := as(t, alice, ExitOK, "project", "remove-member", "ml", "ci-bot")
		wantIn(t, "remove-member", out, "Removed ci-bot from project ml")
		// The only owner can neither leave nor step down.
		_, errOut := as(t, alice, ExitError, "project", "remove-member", "ml", "alice")
		wantIn(t, "the only owner leaving", errOut, "409", "alice is the only owner of project ml")
		_, errOut = as(t, alice, ExitError, "project", "add-member", "ml", "alice", "reader")
		wantIn(t, "the only owner stepping down", errOut, "only owner", "add-member ml USER owner")
		out, _ = as(t, alice, ExitOK, "project", "members", "ml")
		if strings.Contains(out, "ci-bot") {
			t.Errorf("members after remove-member:\n%s", out)
		}
		_, errOut = as(t, ciBot, ExitError, "project", "usage", "ml")
		wantIn(t, "usage after removal", errOut, "403")
		out, _ = as(t, admin, ExitOK, "user", "set", "ci-bot", "--disable")
		wantIn(t, "user set --disable", out, "Disabled:")
		_, errOut = as(t, ciBot, ExitError, "whoami")
		wantIn(t, "whoami as a disabled service account", errOut, "401")
	})
}
