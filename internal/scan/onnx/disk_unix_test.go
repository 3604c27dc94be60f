//go:build unix

package onnx

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

func TestExternalDataOnDisk(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		loc      string
		setup    func(t *testing.T, dir, outside string) // dir: the model directory
		wantRule string                                  // "" for no finding
		wantSev  scan.Severity
		wantMsg  []string
	}{
		{
			name:  "regular file",
			loc:   "weights.bin",
			setup: func(t *testing.T, dir, _ string) { writeFile(t, filepath.Join(dir, "weights.bin")) },
		},
		{
			name: "regular file in a subdirectory",
			loc:  "data/./weights.bin",
			setup: func(t *testing.T, dir, _ string) {
				mkdir(t, filepath.Join(dir, "data"))
				writeFile(t, filepath.Join(dir, "data", "weights.bin"))
			},
		},
		{
			name: "symlink to a file outside (CVE-2026-27489)",
			loc:  "weights.bin",
			setup: func(t *testing.T, dir, outside string) {
				symlink(t, filepath.Join(outside, "secret"), filepath.Join(dir, "weights.bin"))
			},
			wantRule: "ONX003", wantSev: scan.SeverityHigh,
			wantMsg: []string{"is a symbolic link to", "outside the model directory"},
		},
		{
			name: "symlink inside the directory",
			loc:  "weights.bin",
			setup: func(t *testing.T, dir, _ string) {
				writeFile(t, filepath.Join(dir, "real.bin"))
				symlink(t, "real.bin", filepath.Join(dir, "weights.bin"))
			},
			wantRule: "ONX003", wantSev: scan.SeverityHigh,
			wantMsg: []string{"is a symbolic link to \"real.bin\"", "inside the model directory"},
		},
		{
			name:     "symlinked directory component",
			loc:      "data/secret",
			setup:    func(t *testing.T, dir, outside string) { symlink(t, outside, filepath.Join(dir, "data")) },
			wantRule: "ONX003", wantSev: scan.SeverityHigh,
			wantMsg: []string{"data\" is a symbolic link", "outside the model directory"},
		},
		{
			name: "dangling symlink",
			loc:  "weights.bin",
			setup: func(t *testing.T, dir, _ string) {
				symlink(t, "/nonexistent/palisade/x", filepath.Join(dir, "weights.bin"))
			},
			wantRule: "ONX003", wantSev: scan.SeverityHigh,
			wantMsg: []string{"does not resolve"},
		},
		{
			name: "hard link (CVE-2026-34446)",
			loc:  "weights.bin",
			setup: func(t *testing.T, dir, outside string) {
				if err := os.Link(filepath.Join(outside, "secret"), filepath.Join(dir, "weights.bin")); err != nil {
					t.Skipf("hard links unsupported here: %v", err)
				}
			},
			wantRule: "ONX003", wantSev: scan.SeverityHigh,
			wantMsg: []string{"is a hard link (2 names"},
		},
		{
			name: "named pipe",
			loc:  "weights.bin",
			setup: func(t *testing.T, dir, _ string) {
				if err := syscall.Mkfifo(filepath.Join(dir, "weights.bin"), 0o600); err != nil {
					t.Skipf("mkfifo: %v", err)
				}
			},
			wantRule: "ONX003", wantSev: scan.SeverityHigh,
			wantMsg: []string{"not a regular file (a named pipe)"},
		},
		{
			name:     "directory",
			loc:      "data",
			setup:    func(t *testing.T, dir, _ string) { mkdir(t, filepath.Join(dir, "data")) },
			wantRule: "ONX003", wantSev: scan.SeverityHigh,
			wantMsg: []string{"not a regular file (a directory)"},
		},
		{
			name:     "missing file",
			loc:      "weights.bin",
			setup:    func(*testing.T, string, string) {},
			wantRule: "ONX006", wantSev: scan.SeverityInfo,
			wantMsg: []string{"does not exist"},
		},
		{
			name:     "file where a directory is expected",
			loc:      "weights.bin/x",
			setup:    func(t *testing.T, dir, _ string) { writeFile(t, filepath.Join(dir, "weights.bin")) },
			wantRule: "ONX006", wantSev: scan.SeverityInfo,
			wantMsg: []string{"is not a directory"},
		},
		{
			name:     "traversal is not resolved on disk",
			loc:      "../secret",
			setup:    func(*testing.T, string, string) {},
			wantRule: "ONX002", wantSev: scan.SeverityHigh,
			wantMsg: []string{"climbs out"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			dir, outside := filepath.Join(root, "model"), filepath.Join(root, "outside")
			mkdir(t, dir)
			mkdir(t, outside)
			writeFile(t, filepath.Join(outside, "secret"))
			tt.setup(t, dir, outside)
			modelPath := filepath.Join(dir, "model.onnx")
			if err := os.WriteFile(modelPath, onnxModel(graphF(fMsg(5, extTensor("W", tt.loc)))), 0o600); err != nil {
				t.Fatal(err)
			}
			res, err := newEngine().ScanPaths(t.Context(), []string{modelPath})
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantRule == "" {
				if len(res.Findings) != 0 {
					t.Fatalf("findings = %+v, want none", results(res.Findings))
				}
				return
			}
			if len(res.Findings) != 1 {
				t.Fatalf("findings = %+v, want one %s", results(res.Findings), tt.wantRule)
			}
			f := res.Findings[0]
			if f.RuleID != tt.wantRule || f.Severity != tt.wantSev || f.Path != modelPath || f.Pointer != "graph.initializer[0].external_data[0]" {
				t.Errorf("finding = %s %s %s %s, want %s %s at %s", f.RuleID, f.Severity, f.Path, f.Pointer, tt.wantRule, tt.wantSev, modelPath)
			}
			for _, want := range tt.wantMsg {
				if !strings.Contains(f.Message, want) {
					t.Errorf("message %q does not mention %q", f.Message, want)
				}
			}
		})
	}
}

// TestExternalDataNotOnDisk checks that a model that is not a plain file
// (an archive member, an upload) gets the string checks only: nothing on
// this machine is inspected on its behalf.
func TestExternalDataNotOnDisk(t *testing.T) {
	dir := t.TempDir()
	symlink(t, "/etc/hostname", filepath.Join(dir, "weights.bin"))
	t.Chdir(dir)
	if got := scanBytes(t, "model.onnx", onnxModel(graphF(fMsg(5, extTensor("W", "weights.bin"))))); len(got) != 0 {
		t.Errorf("findings = %+v, want none", results(got))
	}
}

func writeFile(t *testing.T, p string) {
	t.Helper()
	if err := os.WriteFile(p, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlinks unsupported here: %v", err)
	}
}
