package app

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/palisade-sec/palisade/internal/auditlog"
	"github.com/palisade-sec/palisade/internal/store"
)

// auditTable is what each route of accessTable writes to the audit log
// when an administrator calls it: the action of the one entry it appends,
// "" for none. Reads of confidential bytes are recorded too.
var auditTable = map[string]auditlog.Action{
	"PUT /v2/{name}/manifests/{reference}":                auditlog.ActionArtifactPush,
	"DELETE /v2/{name}/manifests/{reference}":             auditlog.ActionTagDelete,
	"DELETE /v2/{name}/blobs/{digest}":                    auditlog.ActionBlobDelete,
	"PUT /v2/{name}/blobs/uploads/{id}":                   auditlog.ActionBlobPush,
	"GET /v2/{name}/manifests/{reference}":                auditlog.ActionArtifactPull,
	"GET /v2/{name}/blobs/{digest}":                       auditlog.ActionArtifactPull,
	"POST /api/v1/tokens":                                 auditlog.ActionTokenCreate,
	"DELETE /api/v1/tokens/{id}":                          auditlog.ActionTokenRevoke,
	"POST /api/v1/users":                                  auditlog.ActionUserCreate,
	"PATCH /api/v1/users/{name}":                          auditlog.ActionUserChange,
	"POST /api/v1/projects":                               auditlog.ActionProjectCreate,
	"PUT /api/v1/projects/{project}/members/{name}":       auditlog.ActionMemberSet,
	"DELETE /api/v1/projects/{project}/members/{name}":    auditlog.ActionMemberRemove,
	"PUT /api/v1/projects/{project}/quota":                auditlog.ActionQuotaSet,
	"PATCH /api/v1/projects/{project}/artifacts/{digest}": auditlog.ActionMetadataChange,
	"POST /api/v1/admin/rotate-keys":                      auditlog.ActionKeyRotate,
	"POST /api/v1/admin/projects/{project}/shred":         auditlog.ActionKeyShred,
	"POST /api/v1/admin/fsck":                             auditlog.ActionMaintenanceFsck,
	"POST /api/v1/admin/gc":                               auditlog.ActionMaintenanceGC,
	// The target user has a pseudonym by then: the entries of the member
	// and user routes name them.
	"POST /api/v1/admin/erase-subject": auditlog.ActionSubjectErase,
}

// TestAuditTable calls every route of accessTable once as an
// administrator and once as a principal without access, and checks the
// entries appended: exactly the route's action (and, when the handler
// fails after the entry, an aborted one), and exactly one access.denied
// for the denial.
func TestAuditTable(t *testing.T) {
	t.Parallel()
	cfg := testServerConfig(t)
	addr, st := liveServer(t, cfg)
	ctx := t.Context()
	f := newAccessFixture(t, "http://"+addr, st, "confidential")
	if _, err := st.CreatePrincipal(ctx, store.Principal{ID: "stranger", Name: "stranger", Kind: store.KindUser, Clearance: store.Internal}); err != nil {
		t.Fatal(err)
	}
	const strangerToken = "pal_audit-table-stranger-000000000000000000000"
	if _, err := st.CreateToken(ctx, store.Token{ID: "stranger", PrincipalID: "stranger", Hash: sha256.Sum256([]byte(strangerToken))}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateToken(ctx, store.Token{ID: "victim", Name: "victim", PrincipalID: "admin", Hash: sha256.Sum256([]byte("pal_victim"))}); err != nil {
		t.Fatal(err)
	}
	// entriesSince returns the actions and outcomes appended after size.
	entriesSince := func(size int64) []string {
		t.Helper()
		var out []string
		for _, e := range auditEntriesSince(t, st, size) {
			out = append(out, string(e.Action)+"/"+string(e.Outcome))
		}
		return out
	}
	// The first use of a token from an address is recorded as an
	// authentication, once in audit.auth_success_interval: the table
	// below sees only the routes' own entries.
	for i, want := range []string{"auth.success/allowed", ""} {
		before, _ := st.AuditSize(ctx)
		if code, _ := f.send(t, "GET", "/api/v1/whoami", strangerToken, nil); code != http.StatusOK {
			t.Fatalf("whoami as the stranger: %d", code)
		}
		if got := strings.Join(entriesSince(before), " "); got != want {
			t.Errorf("stranger's request %d: entries %q, want %q", i+1, got, want)
		}
	}
	f.send(t, "GET", "/api/v1/whoami", e2eToken, nil)
	// The user the member and user routes change acts once, so that the
	// log has a key for them: entries about a subject name only one the
	// log already knows.
	const targetToken = "pal_audit-table-target-00000000000000000000000"
	f.reset(t, nil)
	if _, err := st.CreateToken(ctx, store.Token{ID: "target-tok", PrincipalID: "target", Hash: sha256.Sum256([]byte(targetToken))}); err != nil {
		t.Fatal(err)
	}
	before, _ := st.AuditSize(ctx)
	f.send(t, "GET", "/api/v1/whoami", targetToken, nil)
	es := auditEntriesSince(t, st, before)
	if len(es) != 1 || es[0].Actor.PID == "" {
		t.Fatalf("the target's first request: entries %+v", es)
	}
	targetPID, subjectID, erased := es[0].Actor.PID, "", false
	routes := make([]string, 0, len(accessTable))
	for r := range accessTable {
		routes = append(routes, r)
	}
	sort.SliceStable(routes, func(i, j int) bool {
		return weight(routes[i]) < weight(routes[j]) || weight(routes[i]) == weight(routes[j]) && routes[i] < routes[j]
	})
	for _, route := range routes {
		f.reset(t, nil)
		method, path, body, header := f.request(t, route)
		before, err := st.AuditSize(ctx)
		if err != nil {
			t.Fatal(err)
		}
		code, resp := f.send(t, method, path, e2eToken, body, header...)
		got := entriesSince(before)
		var want []string
		if act := auditTable[route]; act != "" {
			want = []string{string(act) + "/allowed"}
			if code >= 400 {
				want = append(want, string(act)+"/aborted")
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s as the administrator (%d %s): entries %v, want %v", route, code, resp, got, want)
		}
		// Whom a change is about is named by a pseudonym of its own: one
		// for the target user across routes, never their actor pseudonym.
		wantID := map[auditlog.Action]string{auditlog.ActionMemberSet: "s1.", auditlog.ActionMemberRemove: "s1.",
			auditlog.ActionUserChange: "s1.", auditlog.ActionTokenRevoke: "c1."}[auditTable[route]]
		if route == "POST /api/v1/admin/erase-subject" {
			erased = true
		}
		if es := auditEntriesSince(t, st, before); wantID != "" {
			switch {
			case wantID == "s1." && erased:
				// Once erased, the target is named by nothing.
				if len(es) == 0 || es[0].Object.ID != "" {
					t.Errorf("%s after the erasure: entries %+v, want the target unnamed", route, es)
				}
			case len(es) == 0 || !strings.HasPrefix(es[0].Object.ID, wantID):
				t.Errorf("%s: entries %+v, want the object named %s...", route, es, wantID)
			case wantID == "s1." && subjectID != "" && es[0].Object.ID != subjectID:
				t.Errorf("%s names the target %s, another route %s", route, es[0].Object.ID, subjectID)
			case wantID == "s1." && es[0].Object.ID[3:] == targetPID[3:]:
				t.Errorf("%s names the target by their actor pseudonym", route)
			case wantID == "s1.":
				subjectID = es[0].Object.ID
			}
		}
		if route == "GET /v2/{name}/manifests/{reference}" {
			// Read by tag, recorded by the digest read.
			if es := auditEntriesSince(t, st, before); len(es) != 1 || es[0].Object.Digest != f.digest {
				t.Errorf("%s: entries %+v, want one naming %s", route, es, f.digest)
			}
		}
		if accessTable[route].roles == "*" {
			continue
		}
		// A principal without access is denied, and that is recorded once.
		method, path, body, header = f.request(t, route)
		before, _ = st.AuditSize(ctx)
		if code, _ := f.send(t, method, path, strangerToken, body, header...); code != http.StatusForbidden {
			t.Fatalf("%s as a stranger: %d", route, code)
		}
		if got := entriesSince(before); strings.Join(got, " ") != "access.denied/denied" {
			t.Errorf("%s denied: entries %v, want one access.denied", route, got)
		}
	}
	if subjectID == "" || !erased {
		t.Errorf("no route named the target before the erasure (subject %q, erased %v)", subjectID, erased)
	}
	// Clients of the registry (docker, oras, palisade push) present a
	// session token from /v2/token: a denial through one is recorded too.
	req, err := http.NewRequestWithContext(ctx, "GET", f.base+"/v2/token?service=palisade&scope=repository:ml/model:pull,push", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("stranger", strangerToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var session struct{ Token string }
	err = json.NewDecoder(resp.Body).Decode(&session)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || session.Token == "" {
		t.Fatalf("session token: %d %v", resp.StatusCode, err)
	}
	before, _ = st.AuditSize(ctx)
	if code, resp := f.send(t, "POST", "/v2/ml/model/blobs/uploads/", session.Token, nil); code != http.StatusForbidden || !strings.Contains(string(resp), "no access to project ml") {
		t.Fatalf("push with a stranger's session token: %d %s", code, resp)
	}
	if got := entriesSince(before); strings.Join(got, " ") != "access.denied/denied" {
		t.Errorf("denied through a session token: entries %v, want one access.denied", got)
	}
	// Every entry of the run verifies.
	if _, err := auditlog.Verify(ctx, st, cfg.AuditOrigin, auditVerifier(t, st), nil); err != nil {
		t.Errorf("Verify after the run: %v", err)
	}
}

// auditVerifier returns the verifier of the log's checkpoint key, from
// the store.
func auditVerifier(t *testing.T, st store.Store) note.Verifier {
	t.Helper()
	_, vkey, err := st.AuditKey(t.Context(), auditlog.SigningKeyID)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestAuditAPI reads the log through the API as an administrator: the
// key and checkpoint verifiers pin, a search, an inclusion proof checked
// offline, the tiles' checkpoint; a project auditor sees its project's
// part only; an erasure is recorded before the key is destroyed.
func TestAuditAPI(t *testing.T) {
	t.Parallel()
	cfg := testServerConfig(t)
	addr, st := liveServer(t, cfg)
	ctx := t.Context()
	base := "http://" + addr
	for _, p := range []string{"ml", "hr"} {
		if code := call(t, "POST", base+"/api/v1/projects", e2eToken, map[string]string{"name": p}, nil); code != 201 {
			t.Fatalf("create %s: %d", p, code)
		}
	}
	if _, err := st.CreatePrincipal(ctx, store.Principal{ID: "aud", Name: "aud", Kind: store.KindUser, Clearance: store.Internal}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetMember(ctx, store.Member{Project: "ml", PrincipalID: "aud", Role: "auditor", Source: "manual"}); err != nil {
		t.Fatal(err)
	}
	const audToken = "pal_audit-api-auditor-0000000000000000000000000"
	if _, err := st.CreateToken(ctx, store.Token{ID: "aud", PrincipalID: "aud", Hash: sha256.Sum256([]byte(audToken))}); err != nil {
		t.Fatal(err)
	}
	// The auditor is denied something in hr: recorded, in hr.
	if code := call(t, "GET", base+"/api/v1/projects/hr/usage", audToken, nil, nil); code != http.StatusForbidden {
		t.Fatalf("auditor reads hr: %d", code)
	}

	var info struct {
		Origin, VerifierKey, Checkpoint string
		Size                            int64
	}
	if code := call(t, "GET", base+"/api/v1/audit", e2eToken, nil, &info); code != 200 || info.Origin != cfg.AuditOrigin || info.Size < 3 {
		t.Fatalf("audit info: %d %+v", code, info)
	}
	// The log's size and appends are in the server's metrics.
	mresp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	size, err := st.AuditSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{fmt.Sprintf("palisade_audit_tree_size %d\n", size), fmt.Sprintf("palisade_audit_entries_appended_total %d\n", size),
		"palisade_audit_append_failures_total 0\n"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	v, err := note.NewVerifier(info.VerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := auditlog.OpenCheckpoint([]byte(info.Checkpoint), info.Origin, v); err != nil {
		t.Errorf("the checkpoint does not verify with the key served: %v", err)
	}
	var page struct {
		Items []struct {
			Index int64
			Data  []byte
		}
		Next int64
	}
	if code := call(t, "GET", base+"/api/v1/audit/entries?action=project.create", e2eToken, nil, &page); code != 200 || len(page.Items) != 2 {
		t.Fatalf("search project.create: %d, %d items", code, len(page.Items))
	}
	for i, want := range []string{"ml", "hr"} {
		if e, err := auditlog.Decode(page.Items[i].Data); err != nil || e.Project != want {
			t.Errorf("project.create entry %d names project %q (%v), want %q", i, e.Project, err, want)
		}
	}
	// An inclusion proof of the first, checked offline.
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/v1/audit/entries/%d/proof", base, page.Items[0].Index), nil)
	req.Header.Set("Authorization", "Bearer "+e2eToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	proof, err := auditlog.ParseProof(text)
	if err != nil {
		t.Fatalf("proof: %v\n%s", err, text)
	}
	if _, err := auditlog.CheckProof(proof, info.Origin, v); err != nil || string(proof.Entry) != string(page.Items[0].Data) {
		t.Errorf("CheckProof: %v", err)
	}
	// Tiles: the checkpoint.
	var loc string
	if code := call(t, "GET", base+"/api/v1/audit/tiles/checkpoint", e2eToken, nil, &loc); code != 200 {
		t.Errorf("tiles checkpoint: %d", code)
	}
	// The project auditor sees ml's entries only, and not the whole log.
	var mine struct {
		Items []struct{ Entry auditlog.Entry }
	}
	if code := call(t, "GET", base+"/api/v1/projects/ml/audit/entries", audToken, nil, &mine); code != 200 {
		t.Fatalf("auditor's project entries: %d", code)
	}
	for _, it := range mine.Items {
		if it.Entry.Project != "ml" {
			t.Errorf("auditor of ml sees an entry of %q", it.Entry.Project)
		}
	}
	if code := call(t, "GET", base+"/api/v1/projects/hr/audit/entries", audToken, nil, nil); code != http.StatusForbidden {
		t.Errorf("auditor of ml reads hr's entries: %d", code)
	}
	if code := call(t, "GET", base+"/api/v1/audit/entries", audToken, nil, nil); code != http.StatusForbidden {
		t.Errorf("auditor reads the whole log: %d", code)
	}

	// Erasure: the auditor has a pseudonym (its denial was recorded).
	var erased struct{ Pseudonym string }
	if code := call(t, "POST", base+"/api/v1/admin/erase-subject", e2eToken, map[string]string{"user": "aud"}, &erased); code != 200 || erased.Pseudonym == "" {
		t.Fatalf("erase-subject: %d %+v", code, erased)
	}
	if _, _, err := st.AuditSubject(ctx, "aud"); err == nil {
		t.Error("the pseudonym key survived the erasure")
	}
	if code := call(t, "POST", base+"/api/v1/admin/erase-subject", e2eToken, map[string]string{"user": "aud"}, nil); code != http.StatusNotFound {
		t.Errorf("erasing twice: %d", code)
	}
	var last struct {
		Items []struct{ Entry auditlog.Entry }
	}
	if code := call(t, "GET", base+"/api/v1/audit/entries?action=subject.erase", e2eToken, nil, &last); code != 200 || len(last.Items) != 1 || last.Items[0].Entry.Object.ID != erased.Pseudonym {
		t.Errorf("subject.erase entry: %d %+v", code, last)
	}
	// A session token issued and refused credentials are recorded.
	tr, _ := http.NewRequestWithContext(ctx, "GET", base+"/v2/token?scope=repository:ml/x:pull&service=palisade", nil)
	tr.SetBasicAuth("robot", e2eToken)
	if resp, err := http.DefaultClient.Do(tr); err != nil || resp.StatusCode != 200 {
		t.Fatalf("token endpoint: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if code := call(t, "GET", base+"/api/v1/whoami", "pal_not-a-token-000000000000000000000000000000", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("a wrong token: %d", code)
	}
	bad, _ := http.NewRequestWithContext(ctx, "GET", base+"/v2/token?scope=repository:ml/x:pull", nil)
	bad.SetBasicAuth("robot", "pal_not-a-token-either-00000000000000000000000")
	if resp, err := http.DefaultClient.Do(bad); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("token endpoint with a wrong token: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	for action, want := range map[string]struct {
		n      int
		reason string
	}{"session.issue": {1, ""}, "auth.failure": {2, "auth:bad_credentials"}} {
		var got struct {
			Items []struct{ Entry auditlog.Entry }
		}
		if code := call(t, "GET", base+"/api/v1/audit/entries?action="+action, e2eToken, nil, &got); code != 200 || len(got.Items) != want.n || got.Items[0].Entry.Reason != want.reason {
			t.Errorf("%s entries: %d %+v", action, code, got)
		}
	}
	if _, err := auditlog.Verify(ctx, st, cfg.AuditOrigin, v, nil); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

// TestAuditClassificationChange: raising an artifact's classification is
// recorded as its own action, with the new level, besides the metadata
// change.
func TestAuditClassificationChange(t *testing.T) {
	t.Parallel()
	cfg := testServerConfig(t)
	addr, st := liveServer(t, cfg)
	f := newAccessFixture(t, "http://"+addr, st, "internal")
	f.reset(t, nil)
	// By digest, then by tag (as palisade classify sends it): both name
	// the artifact by its digest.
	for _, tc := range []struct{ ref, to string }{{f.digest, "restricted"}, {"v1", "confidential"}} {
		before, _ := st.AuditSize(t.Context())
		code, resp := f.send(t, "PATCH", "/api/v1/projects/ml/artifacts/"+tc.ref+"?repository=model", e2eToken,
			[]byte(`{"classification": "`+tc.to+`", "reason": "test"}`))
		if code != 200 {
			t.Fatalf("classify %s as %s: %d %s", tc.ref, tc.to, code, resp)
		}
		var got []string
		for _, e := range auditEntriesSince(t, st, before) {
			got = append(got, string(e.Action)+"/"+e.Reason+"/"+e.Object.Repository+"@"+e.Object.Digest)
		}
		at := "ml/model@" + f.digest
		if want := "metadata.change//" + at + " classification.change/to_" + tc.to + "/" + at; strings.Join(got, " ") != want {
			t.Errorf("classify %s: entries %v, want %s", tc.ref, got, want)
		}
	}
}

// auditEntriesSince returns the entries appended after the first size,
// decoded.
func auditEntriesSince(t *testing.T, st store.Store, size int64) []auditlog.Entry {
	t.Helper()
	recs, err := st.AuditEntries(t.Context(), size, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]auditlog.Entry, 0, len(recs))
	for _, r := range recs {
		e, err := auditlog.Decode(r.Data)
		if err != nil {
			t.Fatalf("entry %d: %v", r.Index, err)
		}
		out = append(out, e)
	}
	return out
}
