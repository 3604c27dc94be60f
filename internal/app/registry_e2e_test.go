package app

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/testutil/testenv"
)

// e2eToken is the admin token of end-to-end tests (fake, test-only).
const e2eToken = "pal_e2e-admin-token-for-tests-0000000000000000"

// liveServer runs a full server (the composition 'palisade server' runs)
// until the test ends, and returns its address and metadata store.
func liveServer(t *testing.T, cfg config.Server) (addr string, st store.Store) {
	t.Helper()
	cfg.AdminToken = e2eToken
	var out, logs bytes.Buffer
	rt, err := New().newServer(t.Context(), cfg, &out, &logs)
	if err != nil {
		t.Fatalf("newServer: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		rt.close(context.Background())
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return rt.srv.Addr().String(), rt.store
}

// postgresDSN returns a DSN of a fresh schema on the test PostgreSQL, or
// skips.
func postgresDSN(t *testing.T) string { return testenv.PostgresSchema(t) }

// s3URL returns an s3:// URL of a fresh key prefix in the test
// S3-compatible server, or skips.
func s3URL(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(testenv.S3Prefix(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("response_checksum_validation", "when_required")
	u.RawQuery = q.Encode()
	return u.String()
}

// conformanceBinary returns the OCI conformance suite binary that
// 'make test' installs into .tools, or skips when it is missing and
// PALISADE_TEST_REQUIRE does not list conformance.
func conformanceBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("PALISADE_CONFORMANCE_BIN")
	if bin == "" {
		bin = filepath.Join("..", "..", ".tools", "conformance")
	}
	if _, err := os.Stat(bin); err != nil {
		testenv.Missing(t, "conformance", "the OCI conformance suite is not at "+bin+": run 'make tools'")
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

var conformanceTotals = regexp.MustCompile(`(?m)^\s*(Pass|FAIL|Error|Skip|Disabled|Total)\.+:\s+(\d+)$`)

// TestOCIConformance runs the OCI distribution-spec conformance suite
// against a live server on each metadata store (and on PostgreSQL with
// S3-compatible blob storage), with every optional API
// it can test enabled (sparse manifests excepted: Palisade refuses a
// manifest whose references were not pushed). It must pass with no
// failure and no skip.
func TestOCIConformance(t *testing.T) {
	t.Parallel()
	bin := conformanceBinary(t)
	for _, db := range []string{"sqlite", "postgres", "postgres+s3"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			cfg := testServerConfig(t)
			if strings.HasPrefix(db, "postgres") {
				cfg.Database = postgresDSN(t)
			}
			if strings.HasSuffix(db, "+s3") {
				cfg.Blobs = s3URL(t)
			}
			addr, st := liveServer(t, cfg)
			if _, err := st.CreateProject(t.Context(), store.Project{Name: "conformance", KeyID: "local:kek.key"}); err != nil {
				t.Fatal(err)
			}
			results := t.TempDir()
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin)
			cmd.Dir = results
			cmd.Env = append(os.Environ(),
				"OCI_REGISTRY="+addr, "OCI_TLS=disabled",
				"OCI_REPO1=conformance/repo1", "OCI_REPO2=conformance/repo2",
				"OCI_USERNAME=conformance", "OCI_PASSWORD="+e2eToken,
				"OCI_RESULTS_DIR="+results,
				"OCI_API_BLOBS_UPLOAD_CANCEL=true", "OCI_API_MANIFESTS_TAG_PARAM=true",
				"OCI_LOG=error")
			out, err := cmd.CombinedOutput()
			totals := map[string]string{}
			for _, m := range conformanceTotals.FindAllStringSubmatch(string(out), -1) {
				totals[m[1]] = m[2]
			}
			if err != nil || totals["FAIL"] != "0" || totals["Error"] != "0" || totals["Skip"] != "0" ||
				totals["Pass"] == "" || totals["Pass"] == "0" || totals["Pass"] != totals["Total"] {
				t.Fatalf("conformance suite: %v, totals %v\n%s", err, totals, out)
			}
			t.Logf("OCI conformance on %s: %s of %s passed, none failed or skipped", db, totals["Pass"], totals["Total"])
		})
	}
}
