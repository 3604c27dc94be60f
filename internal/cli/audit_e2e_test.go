package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/palisade-sec/palisade/internal/api"
	"github.com/palisade-sec/palisade/internal/auditlog"
	"github.com/palisade-sec/palisade/internal/client"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/store"
)

// TestAuditCommandsEndToEnd drives the audit commands against a live
// server: tail, search (also as a project auditor), export in both
// formats, proof --check, verify with its state (saved, extended, a
// rewritten history, a foreign key), monitor --once and erase-subject.
// Tampering with the stored log itself is covered by internal/auditlog.
// It sets environment variables, so it does not run in parallel.
func TestAuditCommandsEndToEnd(t *testing.T) {
	addr := startServer(t)
	home := useHome(t)
	t.Setenv(EnvServer, addr)
	as := runAs
	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}
	admin := e2eAdminToken
	var alice string
	state := filepath.Join(t.TempDir(), "state.json")

	step("actions", func(t *testing.T) {
		as(t, admin, ExitOK, "project", "create", "vision")
		as(t, admin, ExitOK, "project", "create", "hr")
		as(t, admin, ExitOK, "user", "create", "alice")
		out, _ := as(t, admin, ExitOK, "token", "create", "alice-cli", "--owner", "alice")
		alice = strings.TrimSpace(out)
		as(t, admin, ExitOK, "project", "add-member", "vision", "alice", "auditor")
		// Alice acts (and is denied): she now has a pseudonym.
		as(t, alice, ExitError, "project", "usage", "hr")
	})

	step("tail", func(t *testing.T) {
		out, _ := as(t, admin, ExitOK, "audit", "tail")
		wantIn(t, "tail", out, "project.create", "vision", "access.denied", "access:")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		out, _ = as(t, admin, ExitOK, "audit", "tail", "-n", "2")
		if got := strings.Split(strings.TrimSpace(out), "\n"); len(got) != 2 || got[1] != lines[len(lines)-1] {
			t.Errorf("tail -n 2 = %q, want the last 2 of %q", got, lines)
		}
		out, _ = as(t, admin, ExitOK, "audit", "tail", "-n", "1", "--json")
		var line struct {
			Index int64
			Entry auditlog.Entry
		}
		if err := json.Unmarshal([]byte(out), &line); err != nil || line.Entry.Action != auditlog.ActionAccessDenied {
			t.Errorf("tail --json = %q (%v)", out, err)
		}
		_, errOut := as(t, alice, ExitError, "audit", "tail")
		wantIn(t, "tail as a project auditor", errOut, "403")
	})

	step("search", func(t *testing.T) {
		out, _ := as(t, admin, ExitOK, "audit", "search", "--action", "project.create")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 {
			t.Errorf("search --action project.create = %q", out)
		}
		for _, l := range lines {
			if !strings.Contains(l, "project.create") {
				t.Errorf("search --action project.create found %q", l)
			}
		}
		out, _ = as(t, admin, ExitOK, "audit", "search", "--outcome", "denied", "--from", "1h")
		wantIn(t, "search --outcome denied", out, "access.denied", "hr")
		out, _ = as(t, admin, ExitOK, "audit", "search", "--from", time.Now().Add(time.Hour).Format(time.RFC3339))
		if out != "" {
			t.Errorf("search from the future = %q", out)
		}
		_, errOut := as(t, admin, ExitError, "audit", "search", "--action", "project.destroy")
		wantIn(t, "search with an unknown action", errOut, "not an audit action")
		_, errOut = as(t, admin, ExitError, "audit", "search", "--from", "yesterday")
		wantIn(t, "search with a bad time", errOut, "RFC 3339")
		for _, bad := range [][]string{{"--actor", "p1.M_Vai17b"}, {"--digest", "abc"}, {"--project", "Bad_Name"}} {
			_, errOut = as(t, admin, ExitError, append([]string{"audit", "search"}, bad...)...)
			wantIn(t, "search "+strings.Join(bad, " "), errOut, bad[0]+" \""+bad[1]+"\"")
		}
		// A project's auditor reads that project's entries only.
		out, _ = as(t, alice, ExitOK, "audit", "search", "--project", "vision")
		wantIn(t, "auditor's search", out, "member.set")
		if strings.Contains(out, " hr ") {
			t.Errorf("the auditor of vision sees hr's entries: %q", out)
		}
		as(t, alice, ExitError, "audit", "search", "--project", "hr")
	})

	step("export", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "audit.jsonl")
		_, errOut := as(t, admin, ExitOK, "audit", "export", "-o", file)
		wantIn(t, "export", errOut, "Exported", file)
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		n := 0
		for sc := bufio.NewScanner(f); sc.Scan(); n++ {
			if _, err := auditlog.Decode(sc.Bytes()); err != nil {
				t.Errorf("exported line %d: %v", n, err)
			}
		}
		if n < 6 {
			t.Errorf("exported %d entries, want at least 6", n)
		}
		out, _ := as(t, admin, ExitOK, "audit", "export", "--format", "cef", "--action", "project.create")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 {
			t.Fatalf("CEF export of project.create = %q", out)
		}
		for _, l := range lines {
			if !strings.HasPrefix(l, "CEF:0|Palisade|palisade|") {
				t.Errorf("CEF line %q", l)
			}
			wantIn(t, "CEF line", l, "|project.create|project.create|3|", "rt=", "act=project.create", "outcome=allowed", "suser=p1.", "externalId=")
		}
		out, _ = as(t, admin, ExitOK, "audit", "export", "--format", "cef", "--action", "access.denied")
		wantIn(t, "CEF line of a denial", out, "|access.denied|access.denied|6|", "cs1Label=project cs1=hr", "reason=access:")
		_, errOut = as(t, admin, ExitError, "audit", "export", "--format", "xml")
		wantIn(t, "export --format xml", errOut, "jsonl or cef")
	})

	step("proof", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "entry.proof")
		_, errOut := as(t, admin, ExitOK, "audit", "proof", "1", "--check", "-o", file)
		wantIn(t, "proof --check", errOut, "Verified: entry 1 is in the log "+config.DefaultAuditOrigin)
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := auditlog.ParseProof(b); err != nil || p.Index != 1 {
			t.Errorf("saved proof: %+v, %v", p, err)
		}
		out, _ := as(t, admin, ExitOK, "audit", "proof", "0")
		if !strings.HasPrefix(out, auditlog.ProofHeader+"\n") {
			t.Errorf("proof 0 = %q", out)
		}
		_, errOut = as(t, admin, ExitError, "audit", "proof", "100000")
		wantIn(t, "proof beyond the log", errOut, "404")
		_, other, err := note.GenerateKey(rand.Reader, config.DefaultAuditOrigin)
		if err != nil {
			t.Fatal(err)
		}
		_, errOut = as(t, admin, ExitFindings, "audit", "proof", "1", "--check", "--key", other)
		wantIn(t, "proof --check with another key", errOut, "audit proof rejected")

		// The saved proof checks with no server at all.
		req, _ := http.NewRequestWithContext(t.Context(), "GET", "http://"+addr+"/api/v1/audit", nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var info api.AuditInfo
		err = json.NewDecoder(resp.Body).Decode(&info)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv(EnvServer, "127.0.0.1:1")
		out, errOut = as(t, "", ExitOK, "audit", "check-proof", file, "--key", info.VerifierKey)
		wantIn(t, "check-proof offline", errOut, "Verified: entry 1 is in the log "+config.DefaultAuditOrigin)
		if e, err := auditlog.Decode([]byte(strings.TrimSpace(out))); err != nil || e.V != auditlog.SchemaVersion {
			t.Errorf("check-proof prints %q (%v), want the entry", out, err)
		}
		as(t, "", ExitOK, "audit", "check-proof", file, "--key", info.VerifierKey, "--origin", config.DefaultAuditOrigin)
		_, errOut = as(t, "", ExitFindings, "audit", "check-proof", file, "--key", info.VerifierKey, "--origin", "other.example/audit/1")
		wantIn(t, "check-proof with another origin", errOut, "audit proof rejected")
		_, errOut = as(t, "", ExitFindings, "audit", "check-proof", file, "--key", other)
		wantIn(t, "check-proof with another key", errOut, "audit proof rejected")
		forged := filepath.Join(t.TempDir(), "forged.proof")
		p, err := auditlog.ParseProof(b)
		if err != nil {
			t.Fatal(err)
		}
		p.Entry = bytes.Replace(p.Entry, []byte(`"outcome":"allowed"`), []byte(`"outcome":"denied"`), 1)
		if err := os.WriteFile(forged, p.Marshal(), 0o600); err != nil {
			t.Fatal(err)
		}
		_, errOut = as(t, "", ExitFindings, "audit", "check-proof", forged, "--key", info.VerifierKey)
		wantIn(t, "check-proof of an edited entry", errOut, "audit proof rejected")
		_, errOut = as(t, "", ExitError, "audit", "check-proof", file)
		wantIn(t, "check-proof without a key", errOut, "--key")
		t.Setenv(EnvServer, addr)
	})

	step("verify", func(t *testing.T) {
		out, errOut := as(t, admin, ExitOK, "audit", "verify", "--state", state)
		wantIn(t, "first verify", out, "Verified the audit log "+config.DefaultAuditOrigin, "checkpoints checked", "State saved to "+state)
		wantIn(t, "first verify", errOut, "Trusting the server's verifier key on first use")
		var saved map[string]any
		b, err := os.ReadFile(state)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &saved); err != nil || saved["origin"] != config.DefaultAuditOrigin || saved["key"] == "" || saved["root"] == "" || saved["size"].(float64) < 6 {
			t.Fatalf("state = %s (%v)", b, err)
		}
		as(t, admin, ExitOK, "project", "create", "later") // the log grows
		out, errOut = as(t, admin, ExitOK, "audit", "verify", "--state", state)
		wantIn(t, "second verify", out, "It is consistent with the")
		if strings.Contains(errOut, "first use") {
			t.Errorf("second verify trusts on first use again: %s", errOut)
		}
		// The default state file, by host, in the configuration directory.
		out, _ = as(t, admin, ExitOK, "audit", "verify")
		wantIn(t, "verify with the default state", out, filepath.Join(home, ".config", "palisade", "audit-state-"))

		// A history that no longer hashes to the root seen before.
		var edited map[string]any
		if err := json.Unmarshal(b, &edited); err != nil {
			t.Fatal(err)
		}
		edited["root"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
		eb, _ := json.Marshal(edited)
		if err := os.WriteFile(state, eb, 0o600); err != nil {
			t.Fatal(err)
		}
		_, errOut = as(t, admin, ExitFindings, "audit", "verify", "--state", state)
		wantIn(t, "verify against a rewritten root", errOut, "rewritten")
		if after, _ := os.ReadFile(state); string(after) != string(eb) {
			t.Error("a failed verification replaced the state")
		}

		// Another key: refused, with or without a state.
		_, other, err := note.GenerateKey(rand.Reader, config.DefaultAuditOrigin)
		if err != nil {
			t.Fatal(err)
		}
		fresh := filepath.Join(t.TempDir(), "fresh.json")
		_, errOut = as(t, admin, ExitFindings, "audit", "verify", "--state", fresh, "--key", other)
		wantIn(t, "verify with another key", errOut, "not the pinned key")
		if _, err := os.Stat(fresh); err == nil {
			t.Error("a failed verification saved a state")
		}
		if err := os.WriteFile(state, b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, errOut = as(t, admin, ExitFindings, "audit", "verify", "--state", state, "--key", other)
		wantIn(t, "verify with a key other than the state's", errOut, "pins the verifier key")
		_, errOut = as(t, admin, ExitError, "audit", "verify", "--state", fresh, "--key", "not-a-key")
		wantIn(t, "verify with a malformed key", errOut, "not a verifier key")
		_, errOut = as(t, alice, ExitError, "audit", "verify", "--state", fresh)
		wantIn(t, "verify as a project auditor", errOut, "403")

		out, _ = as(t, admin, ExitOK, "audit", "monitor", "--once", "--state", state)
		wantIn(t, "monitor --once", out, " ok size=")
	})

	step("erase-subject", func(t *testing.T) {
		// Before: an administrator finds alice's entries by her name.
		out, _ := as(t, admin, ExitOK, "user", "show", "alice")
		wantIn(t, "user show", out, "Audit pseudonym:", "p1.")
		alicePID := out[strings.Index(out, "p1."):]
		alicePID = alicePID[:strings.IndexByte(alicePID, '\n')]
		out, _ = as(t, admin, ExitOK, "audit", "search", "--user", "alice", "--json")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		for _, l := range lines {
			if !strings.Contains(l, `"pid":"`+alicePID+`"`) {
				t.Errorf("search --user alice found another's entry: %s", l)
			}
		}
		if len(lines) == 0 || lines[0] == "" {
			t.Error("search --user alice found nothing")
		}
		out, _ = as(t, admin, ExitOK, "audit", "erase-subject", "alice")
		wantIn(t, "erase-subject", out, "Erased the pseudonym key of alice", "p1.")
		pid := out[strings.Index(out, "p1."):]
		pid = pid[:strings.IndexByte(pid, ' ')]
		out, _ = as(t, admin, ExitOK, "audit", "search", "--action", "subject.erase", "--json")
		var line struct{ Entry auditlog.Entry }
		if err := json.Unmarshal([]byte(out), &line); err != nil || line.Entry.Object.ID != pid {
			t.Errorf("subject.erase entry = %q (%v), want the pseudonym %s", out, err, pid)
		}
		_, errOut := as(t, admin, ExitError, "audit", "erase-subject", "alice")
		wantIn(t, "erase-subject twice", errOut, "no pseudonym key")
		_, errOut = as(t, admin, ExitError, "audit", "search", "--user", "alice")
		wantIn(t, "search --user after the erasure", errOut, "nothing in the audit log is tied to alice")
		// Nothing in the log names alice's tokens (which the token table
		// ties to her): entries name credentials by keyed hash only.
		out, _ = as(t, admin, ExitOK, "token", "ls", "--all", "--json")
		var toks []api.Token
		if err := json.Unmarshal([]byte(out), &toks); err != nil {
			t.Fatal(err)
		}
		exported, _ := as(t, admin, ExitOK, "audit", "export")
		for _, tk := range toks {
			if tk.Owner == "alice" && strings.Contains(exported, tk.ID) {
				t.Errorf("the log names alice's token %s after her erasure", tk.ID)
			}
		}
		if !strings.Contains(exported, `"id":"c1.`) {
			t.Error("no entry names a credential by its keyed hash")
		}
		as(t, admin, ExitOK, "audit", "verify", "--state", state)
	})
}

// growingLog is an auditlog.Reader whose log grows by one entry and one
// checkpoint after every read, as a live server's does.
type growingLog struct{ size int64 }

func (g *growingLog) AuditSize(context.Context) (int64, error) { g.size++; return g.size - 1, nil }

func (g *growingLog) AuditEntries(_ context.Context, start int64, n int) ([]store.AuditRecord, error) {
	defer func() { g.size++ }()
	var recs []store.AuditRecord
	for i := start; i < g.size && len(recs) < n; i++ {
		recs = append(recs, store.AuditRecord{Index: i})
	}
	return recs, nil
}

func (g *growingLog) AuditHashes(context.Context, []int64) ([][sha256.Size]byte, error) {
	return nil, client.ErrHashesNotServed
}

func (g *growingLog) AuditCheckpoint(context.Context) (int64, []byte, error) {
	defer func() { g.size++ }()
	return g.size, []byte("checkpoint " + strconv.FormatInt(g.size, 10)), nil
}

func (g *growingLog) AuditCheckpoints(_ context.Context, after int64, _ int) ([]store.AuditCheckpoint, error) {
	defer func() { g.size++ }()
	var cps []store.AuditCheckpoint
	for s := after + 1; s <= g.size; s++ {
		if s > 0 {
			cps = append(cps, store.AuditCheckpoint{Size: s})
		}
	}
	return cps, nil
}

// TestAuditSnapshot: what a verification reads of a growing log stops at
// the first checkpoint it read.
func TestAuditSnapshot(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := &auditSnapshot{Reader: &growingLog{size: 3}}
	size, note, err := r.AuditCheckpoint(ctx)
	if err != nil || size != 3 || string(note) != "checkpoint 3" {
		t.Fatalf("AuditCheckpoint = %d, %q, %v", size, note, err)
	}
	if size, _, _ := r.AuditCheckpoint(ctx); size != 3 {
		t.Errorf("AuditCheckpoint again = %d, want the pinned 3", size)
	}
	if n, _ := r.AuditSize(ctx); n != 3 {
		t.Errorf("AuditSize = %d, want 3", n)
	}
	recs, _ := r.AuditEntries(ctx, 1, 100)
	if len(recs) != 2 || recs[1].Index != 2 {
		t.Errorf("AuditEntries(1) = %+v, want entries 1 and 2", recs)
	}
	cps, _ := r.AuditCheckpoints(ctx, -1, 0)
	if len(cps) != 3 || cps[2].Size != 3 {
		t.Errorf("AuditCheckpoints = %+v, want sizes 1 to 3", cps)
	}
}

// TestAuditCEF: the severity of each outcome, absent values left out, and
// the CEF escapes (\ and | in the header; \, = and newlines in values).
func TestAuditCEF(t *testing.T) {
	t.Parallel()
	e := auditlog.Entry{Time: time.UnixMilli(1795718641384).UTC(), Action: auditlog.ActionArtifactPull, RequestID: "r1", Node: "n1",
		Actor: auditlog.Actor{Kind: auditlog.ActorSystem}, Outcome: auditlog.OutcomeAborted, Reason: "status_500",
		Object: auditlog.Object{Kind: auditlog.ObjectArtifact, Repository: "ml/a=b\\c\nd", Digest: "sha256:ab", ID: "c1.x"}}
	got := cefLine(7, e)
	want := "|artifact.pull|artifact.pull|8|rt=1795718641384 act=artifact.pull outcome=aborted cs2Label=repository cs2=ml/a\\=b\\\\c\\nd " +
		"cs3Label=object cs3=artifact:c1.x cs4Label=request cs4=r1 dvchost=n1 fileHash=sha256:ab reason=status_500 externalId=7"
	if !strings.HasPrefix(got, "CEF:0|Palisade|palisade|") || !strings.HasSuffix(got, want) {
		t.Errorf("cefLine = %q, want it to end with %q", got, want)
	}
	if got := cefHeaderEscaper.Replace("a|b\\c\nd"); got != `a\|b\\c d` {
		t.Errorf("header escape = %q", got)
	}
	for o, want := range map[auditlog.Outcome]int{auditlog.OutcomeAllowed: 3, auditlog.OutcomeDenied: 6, auditlog.OutcomeFailed: 8, auditlog.OutcomeAborted: 8} {
		if got := cefSeverity(o); got != want {
			t.Errorf("cefSeverity(%s) = %d, want %d", o, got, want)
		}
	}
}

// TestFsckFindsAuditIndexEdits: an audit entry whose search column was
// edited in the database is reported by 'palisade admin fsck', by entry
// and column, with exit code 1.
func TestFsckFindsAuditIndexEdits(t *testing.T) {
	cfg := startServerConfig(t)
	t.Setenv(EnvServer, cfg.Listen)
	t.Setenv("PALISADE_TOKEN", e2eAdminToken)
	ctx := t.Context()
	if _, stderr, code := runCLI(t, ctx, "project", "create", "ml"); code != ExitOK {
		t.Fatalf("project create: %d %s", code, stderr)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(cfg.DataDir, "palisade.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var idx int64
	if err := db.QueryRowContext(ctx, "SELECT idx FROM audit_entries WHERE action = 'project.create'").Scan(&idx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "UPDATE audit_entries SET action = 'maintenance.gc' WHERE idx = ?", idx); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, ctx, "admin", "fsck")
	want := fmt.Sprintf(`audit_index audit entry %d: column action: the index says "maintenance.gc", the entry "project.create"; searches miss`, idx)
	if code != ExitFindings || !strings.Contains(stdout, want) {
		t.Errorf("fsck = %d\nstdout:\n%s\nstderr:\n%s\nwant a line starting %q", code, stdout, stderr, want)
	}
}

// TestVerifyReportsARefusingServer: when the stored log no longer matches
// its latest checkpoint (here: the checkpoint deleted), the server refuses
// changes, and 'palisade audit verify', which reads only up to a
// checkpoint, reports the server's own finding with exit code 1.
func TestVerifyReportsARefusingServer(t *testing.T) {
	cfg := startServerConfig(t)
	useServer(t, cfg.Listen)
	runAs(t, e2eAdminToken, ExitOK, "project", "create", "ml")
	runAs(t, e2eAdminToken, ExitOK, "project", "create", "nlp")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(cfg.DataDir, "palisade.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), "DELETE FROM audit_checkpoints WHERE size = (SELECT MAX(size) FROM audit_checkpoints)"); err != nil {
		t.Fatal(err)
	}
	_, errOut := runAs(t, e2eAdminToken, ExitError, "project", "create", "web")
	wantIn(t, "a change on an inconsistent log", errOut, "503", "audit log cannot record this change")
	out, errOut := runAs(t, e2eAdminToken, ExitFindings, "audit", "verify")
	wantIn(t, "verify of a refusing server", out+errOut, "the server refuses to extend the log", "the latest checkpoint covers", "changes are refused")
}
