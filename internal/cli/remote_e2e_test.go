package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/api"
	"github.com/palisade-sec/palisade/internal/app"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/testutil/testenv"
)

// e2eAdminToken is the fake admin token of the end-to-end test.
const e2eAdminToken = "pal_cli-e2e-admin-token-000000000000000000000"

// startServer runs the real server (app.Server) on a free loopback port
// until the test ends and returns its HOST:PORT.
func startServer(t *testing.T) string {
	t.Helper()
	return startServerConfig(t).Listen
}

// startServerConfig is startServer returning the server's configuration
// (its address in Listen, its data directory).
func startServerConfig(t *testing.T) config.Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := config.DefaultServer()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.Listen = addr
	runLiveServer(t, cfg)
	return cfg
}

// useHome gives the command line a home directory of its own (its
// credentials and state files), and returns it.
func useHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	return home
}

// useServer points the command line at the server at addr, with a home
// of its own.
func useServer(t *testing.T, addr string) {
	t.Helper()
	useHome(t)
	t.Setenv(EnvServer, addr)
}

// runAs runs the command line with token, wants the exit code, and
// returns stdout and stderr.
func runAs(t *testing.T, token string, wantCode int, args ...string) (stdout, stderr string) {
	t.Helper()
	t.Setenv("PALISADE_TOKEN", token)
	stdout, stderr, code := runCLI(t, t.Context(), args...)
	if code != wantCode {
		t.Fatalf("palisade %s = %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantCode, stdout, stderr)
	}
	return stdout, stderr
}

// wantIn reports each of want that got (the output of what) lacks.
func wantIn(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %q does not contain %q", what, got, w)
		}
	}
}

// runLiveServer runs the real server with cfg until the returned function
// (or the end of the test) stops it, once it is ready.
func runLiveServer(t *testing.T, cfg config.Server) (stop func()) {
	t.Helper()
	cfg.AdminToken = e2eAdminToken
	addr := cfg.Listen
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs bytes.Buffer
	go func() { done <- app.New().Server(ctx, cfg, io.Discard, &logs) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	}
	t.Cleanup(stop)
	for i := 0; ; i++ {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return stop
			}
		}
		if i == 200 {
			t.Fatalf("server did not become ready: %v\n%s", err, logs.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestRegistryCommandsEndToEnd drives every registry command against a
// live server, as a user would: login, project create, push, ls, inspect,
// pull, rm, dataset references, admin fsck, rotate-keys, gc and shred.
// It sets environment variables, so it does not run in parallel.
func TestRegistryCommandsEndToEnd(t *testing.T) {
	addr := startServer(t)
	home := useHome(t)
	t.Setenv(EnvServer, addr)
	ctx := t.Context()
	cli := func(wantCode int, args ...string) string {
		t.Helper()
		out, errOut, code := runCLI(t, ctx, args...)
		if code != wantCode {
			t.Fatalf("palisade %s = %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantCode, out, errOut)
		}
		return out + errOut
	}

	// Without a token nothing works, and the error says how to log in.
	t.Setenv("PALISADE_TOKEN", "")
	if out := cli(ExitError, "project", "ls"); !strings.Contains(out, "palisade login "+addr) {
		t.Errorf("no token: %s", out)
	}
	t.Setenv("PALISADE_TOKEN", "pal_wrong-token-000000000000000000000000000000")
	if out := cli(ExitError, "login", addr); !strings.Contains(out, "401") {
		t.Errorf("login with a wrong token: %s", out)
	}
	t.Setenv("PALISADE_TOKEN", e2eAdminToken)
	if out := cli(ExitOK, "login", addr); !strings.Contains(out, "as admin (token bootstrap-admin)") || strings.Contains(out, e2eAdminToken) {
		t.Errorf("login: %s", out)
	}
	t.Setenv("PALISADE_TOKEN", "") // from here on, the credentials file
	creds := filepath.Join(home, ".config", "palisade", "credentials.json")
	if fi, err := os.Stat(creds); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v, %v", fi, err)
	}

	cli(ExitOK, "project", "create", "vision")
	if out := cli(ExitError, "project", "create", "vision"); !strings.Contains(out, "already exists") {
		t.Errorf("duplicate project: %s", out)
	}
	if out := cli(ExitOK, "project", "ls"); strings.TrimSpace(out) != "vision" {
		t.Errorf("project ls = %q", out)
	}

	model := t.TempDir()
	files := map[string]string{
		"model.safetensors":   strings.Repeat("\x00\x01weights", 50000),
		"config.json":         `{"architectures":["Detector"]}`,
		"README.md":           "# Detector\n",
		"scripts/evaluate.py": "print('eval')\n",
	}
	for name, content := range files {
		p := filepath.Join(model, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ref := addr + "/vision/detector:v1"
	if out := cli(ExitOK, "push", model, ref, "--classification", "confidential", "--label", "team=cv", "--framework", "pytorch"); !strings.Contains(out, "Files: 4") {
		t.Errorf("push: %s", out)
	}
	if out := cli(ExitError, "push", model, addr+"/nope/detector:v1"); !strings.Contains(out, "palisade project create nope") {
		t.Errorf("push to a missing project: %s", out)
	}
	if out := cli(ExitOK, "ls", "vision", "--label", "team=cv"); !strings.Contains(out, "detector") || !strings.Contains(out, "confidential") {
		t.Errorf("ls: %s", out)
	}
	var detail api.ArtifactDetail
	if err := json.Unmarshal([]byte(cli(ExitOK, "inspect", ref, "--json")), &detail); err != nil {
		t.Fatal(err)
	}
	if detail.Kind != "model" || detail.Framework != "pytorch" || len(detail.Files) != 4 || detail.ModelCard == "" || detail.Labels["team"] != "cv" {
		t.Errorf("inspect = %+v", detail)
	}

	t.Setenv("PALISADE_TOKEN", "pal_wrong-token-000000000000000000000000000000")
	if out := cli(ExitError, "pull", ref, filepath.Join(t.TempDir(), "denied")); !strings.Contains(out, "did not accept the token: run 'palisade login'") {
		t.Errorf("pull with a wrong token: %s", out)
	}
	t.Setenv("PALISADE_TOKEN", "")
	restored := filepath.Join(t.TempDir(), "restored")
	cli(ExitOK, "pull", ref, restored)
	for name, content := range files {
		got, err := os.ReadFile(filepath.Join(restored, filepath.FromSlash(name)))
		if err != nil || string(got) != content {
			t.Errorf("pulled %s differs (%v)", name, err)
		}
	}
	if out := cli(ExitError, "pull", ref, restored); !strings.Contains(out, "not empty") {
		t.Errorf("pull into a non-empty directory: %s", out)
	}

	// A dataset whose data stays outside the registry.
	lake := filepath.Join(t.TempDir(), "part-0.parquet")
	if err := os.WriteFile(lake, []byte("columnar bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	refs := filepath.Join(t.TempDir(), "refs.json")
	refsJSON := `[{"uri":"file://` + lake + `","size":14,"digest":"sha256:` + sha256Hex("columnar bytes") + `"}]`
	if err := os.WriteFile(refs, []byte(refsJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	cli(ExitOK, "push", "--references", refs, addr+"/vision/lake:1", "--kind", "dataset")
	cli(ExitOK, "dataset", "check", addr+"/vision/lake:1")
	if err := os.WriteFile(lake, []byte("columnar bytez"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := cli(ExitFindings, "dataset", "check", addr+"/vision/lake:1"); !strings.Contains(out, "FAIL") {
		t.Errorf("dataset check of changed data: %s", out)
	}

	if out := cli(ExitOK, "admin", "fsck"); !strings.Contains(out, "No problems found") {
		t.Errorf("fsck: %s", out)
	}
	if out := cli(ExitOK, "admin", "rotate-keys", "--project", "vision"); !strings.Contains(out, "vision: key v2") || !strings.Contains(out, "destroyed v1") {
		t.Errorf("rotate-keys: %s", out)
	}
	again := filepath.Join(t.TempDir(), "again")
	cli(ExitOK, "pull", ref, again) // still readable after rotation
	cli(ExitOK, "rm", ref)
	if out := cli(ExitOK, "ls", "vision/detector"); strings.Contains(out, "v1") {
		t.Errorf("tag still listed after rm: %s", out)
	}
	if out := cli(ExitOK, "admin", "gc", "--dry-run"); !strings.Contains(out, "Would delete 0 unreferenced blobs") {
		t.Errorf("gc dry run (blobs are young): %s", out)
	}
	if out := cli(ExitError, "admin", "shred", "vision"); !strings.Contains(out, "--confirm vision") {
		t.Errorf("shred without confirmation: %s", out)
	}
	if out := cli(ExitOK, "admin", "shred", "vision", "--confirm", "vision"); !strings.Contains(out, "key versions destroyed: v2") {
		t.Errorf("shred: %s", out)
	}
	cli(ExitError, "pull", addr+"/vision/lake:1", filepath.Join(t.TempDir(), "gone"))
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestMasterKeyReplacedEndToEnd replaces the server's master key as an
// operator would: restart with the new key and the old one as
// kek_previous, rewrap, restart with the new key alone. The data stays
// readable, and the old key alone no longer opens it.
func TestMasterKeyReplacedEndToEnd(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	useServer(t, addr)
	t.Setenv("PALISADE_TOKEN", e2eAdminToken)
	ctx := t.Context()
	cli := func(wantCode int, args ...string) string {
		t.Helper()
		out, errOut, code := runCLI(t, ctx, args...)
		if code != wantCode {
			t.Fatalf("palisade %s = %d, want %d\n%s%s", strings.Join(args, " "), code, wantCode, out, errOut)
		}
		return out + errOut
	}
	cfg := config.DefaultServer()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.Listen = addr
	oldKey := filepath.Join(cfg.DataDir, config.KEKFileName)
	newKey := filepath.Join(t.TempDir(), "new.key")

	stop := runLiveServer(t, cfg)
	cli(ExitOK, "project", "create", "p")
	model := t.TempDir()
	if err := os.WriteFile(filepath.Join(model, "model.safetensors"), []byte("weights under the old master key"), 0o644); err != nil {
		t.Fatal(err)
	}
	ref := addr + "/p/m:v1"
	cli(ExitOK, "push", model, ref)
	stop()

	cfg.KEK, cfg.KEKPrevious = newKey, oldKey
	stop = runLiveServer(t, cfg)
	cli(ExitOK, "pull", ref, filepath.Join(t.TempDir(), "a"))
	if out := cli(ExitOK, "admin", "rotate-keys", "--master"); !strings.Contains(out, "1 project key versions rewrapped") {
		t.Errorf("rotate-keys --master: %s", out)
	}
	stop()

	cfg.KEKPrevious = ""
	stop = runLiveServer(t, cfg)
	pulled := filepath.Join(t.TempDir(), "b")
	cli(ExitOK, "pull", ref, pulled)
	got, err := os.ReadFile(filepath.Join(pulled, "model.safetensors"))
	if err != nil || string(got) != "weights under the old master key" {
		t.Errorf("after the master key was replaced: %q, %v", got, err)
	}
	stop()

	// The old key alone opens nothing any more: the server refuses to
	// start, since it cannot open the audit log's signing key either.
	cfg.KEK = oldKey
	cfg.AdminToken = e2eAdminToken
	err = app.New().Server(t.Context(), cfg, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "unwrap the audit signing key") {
		t.Errorf("server with the replaced master key alone: %v, want it refused", err)
	}
}

// orasBinary returns the oras CLI 'make test' installs into .tools, or
// skips (fails when PALISADE_TEST_REQUIRE lists oras).
func orasBinary(t *testing.T) string {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join("..", "..", ".tools", "oras"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		testenv.Missing(t, "oras", "the oras CLI is not at "+bin+": run 'make tools'")
	}
	return bin
}

// TestOrasInterop: oras pulls what palisade pushed, byte for byte, and
// palisade pulls what oras pushed.
func TestOrasInterop(t *testing.T) {
	oras := orasBinary(t)
	addr := startServer(t)
	home := useHome(t)
	t.Setenv("DOCKER_CONFIG", filepath.Join(home, ".docker"))
	t.Setenv(EnvServer, addr)
	t.Setenv("PALISADE_TOKEN", e2eAdminToken)
	ctx := t.Context()
	runOras := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, oras, args...)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(e2eAdminToken)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("oras %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if _, errOut, code := runCLI(t, ctx, "project", "create", "interop"); code != 0 {
		t.Fatal(errOut)
	}
	runOras(home, "login", addr, "-u", "palisade", "--password-stdin", "--plain-http")

	files := map[string]string{
		"model.safetensors": strings.Repeat("tensor bytes ", 100000),
		"config.json":       `{"hidden_size": 8}`,
		"docs/card.md":      "# card\n",
	}
	src := t.TempDir()
	for name, content := range files {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	same := func(dir string) {
		t.Helper()
		for name, want := range files {
			got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
			if err != nil || string(got) != want {
				t.Errorf("%s in %s differs (%v)", name, dir, err)
			}
		}
	}

	if _, errOut, code := runCLI(t, ctx, "push", src, addr+"/interop/by-palisade:v1"); code != 0 {
		t.Fatal(errOut)
	}
	byOras := t.TempDir()
	runOras(byOras, "pull", "--plain-http", addr+"/interop/by-palisade:v1")
	same(byOras)

	runOras(src, "push", "--plain-http", addr+"/interop/by-oras:v1", "model.safetensors", "config.json", "docs/card.md")
	byPalisade := filepath.Join(t.TempDir(), "restored")
	if _, errOut, code := runCLI(t, ctx, "pull", addr+"/interop/by-oras:v1", byPalisade); code != 0 {
		t.Fatal(errOut)
	}
	same(byPalisade)
}
