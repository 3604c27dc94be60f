package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSBOM stands in for the composition root's SBOM: it writes the paths
// it was given, warns for a path named "warn" and fails for one named
// "fail" (writing nothing).
func fakeSBOM(paths []string, w io.Writer) ([]string, error) {
	var warnings []string
	for _, p := range paths {
		switch p {
		case "fail":
			return []string{"before failing"}, errors.New("sbom fail: no such file")
		case "warn":
			warnings = append(warnings, "warn: not parsed")
		}
	}
	_, err := fmt.Fprintf(w, "{\"paths\": %q}\n", strings.Join(paths, ","))
	return warnings, err
}

func TestSBOMCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.json")
	if err := os.WriteFile(existing, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string
		stderrHas  string
		file       string // the file --output names
		fileWant   string
		fileAbsent bool
	}{
		{name: "stdout", args: []string{"sbom", "a", "b"}, stdout: "{\"paths\": \"a,b\"}\n"},
		{name: "format given", args: []string{"sbom", "--format", " CycloneDX-JSON ", "a"}, stdout: "{\"paths\": \"a\"}\n"},
		{name: "dash is stdout", args: []string{"sbom", "-o", "-", "a"}, stdout: "{\"paths\": \"a\"}\n"},
		{name: "unknown format", args: []string{"sbom", "--format", "spdx-json", "a"}, code: 2, stderrHas: "unknown --format"},
		{name: "no path", args: []string{"sbom"}, code: 2, stderrHas: "requires at least 1 arg"},
		{name: "warning", args: []string{"sbom", "warn"}, stdout: "{\"paths\": \"warn\"}\n", stderrHas: "palisade: warning: warn: not parsed"},
		{name: "failure writes nothing", args: []string{"sbom", "-o", filepath.Join(dir, "fail.json"), "fail"}, code: 2,
			stderrHas: "sbom fail: no such file", file: filepath.Join(dir, "fail.json"), fileAbsent: true},
		{name: "output file", args: []string{"sbom", "--output", filepath.Join(dir, "new.json"), "x"},
			file: filepath.Join(dir, "new.json"), fileWant: "{\"paths\": \"x\"}\n"},
		{name: "output replaces", args: []string{"sbom", "--output", existing, "y"}, file: existing, fileWant: "{\"paths\": \"y\"}\n"},
		{name: "output is a directory", args: []string{"sbom", "--output", dir, "x"}, code: 2, stderrHas: "not a regular file"},
		{name: "output directory missing", args: []string{"sbom", "--output", filepath.Join(dir, "no", "such", "f.json"), "x"}, code: 2, stderrHas: "write "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, code := runCLI(t, t.Context(), tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.code, stderr)
			}
			if stdout != tt.stdout {
				t.Errorf("stdout %q, want %q", stdout, tt.stdout)
			}
			if !strings.Contains(stderr, tt.stderrHas) {
				t.Errorf("stderr %q, want it to contain %q", stderr, tt.stderrHas)
			}
			if tt.file == "" {
				return
			}
			data, err := os.ReadFile(tt.file)
			switch {
			case tt.fileAbsent:
				if err == nil {
					t.Errorf("%s was written: %q", tt.file, data)
				}
			case err != nil:
				t.Errorf("read output: %v", err)
			case string(data) != tt.fileWant:
				t.Errorf("output file %q, want %q", data, tt.fileWant)
			}
		})
	}
	// Permissions kept; no temporary files left behind.
	info, err := os.Stat(existing)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("existing file mode = %v (%v), want 0600", info.Mode(), err)
	}
}

func TestSBOMCommandLeavesNoTemporaryFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "bom.json")
	if _, stderr, code := runCLI(t, t.Context(), "sbom", "-o", out, "a"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "bom.json" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only bom.json", names)
	}
}

func TestSBOMHelpNamesExitCodes(t *testing.T) {
	t.Parallel()
	stdout, _, code := runCLI(t, t.Context(), "sbom", "--help")
	if code != 0 || !strings.Contains(stdout, "Exit codes: 0 the SBOM was written, 2") || !strings.Contains(stdout, "--format") {
		t.Errorf("help: exit %d\n%s", code, stdout)
	}
}
