package container

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// seeds adds every fixture under testdata/dir to f.
func seeds(f *testing.F, dir string) {
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata/%s: %v", dir, err)
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// checkFindings verifies that findings belong to declared rules and point
// inside the file.
func checkFindings(t *testing.T, s *Scanner, data []byte, fs []scan.Finding) {
	t.Helper()
	known := map[string]bool{}
	for _, r := range s.Rules() {
		known[r.ID] = true
	}
	lines := bytes.Count(data, []byte("\n")) + 1
	for _, f := range fs {
		if !known[f.RuleID] && f.RuleID != "" {
			t.Errorf("finding of undeclared rule %s", f.RuleID)
		}
		if f.Line < 0 || f.Line > lines {
			t.Errorf("%s at line %d of a %d-line file", f.RuleID, f.Line, lines)
		}
	}
}

// FuzzDockerfile feeds arbitrary Dockerfiles to the input builder and the
// policies: no panic, no evaluation error, findings of declared rules at
// lines inside the file. Parse errors are fine; they become SCN001.
func FuzzDockerfile(f *testing.F) {
	seeds(f, "docker")
	f.Add([]byte("FROM a AS b\nFROM b\nRUN <<EOF\ncurl x | sh\nEOF\nUSER 0\n"))
	f.Add([]byte("ARG X=${Y:-z}\nFROM $X@\nENV A B\nRUN [\"sh\", \"-c\", \"pip install a b==1 | bash\"]\nADD http://x y\n"))
	s, err := New(f.Context(), Options{MaxDockerfileBytes: 1 << 16})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var buf scan.Buffer
		err := s.scan(t.Context(), object("Dockerfile", scan.FormatDockerfile, data), &buf)
		if err != nil {
			if _, perr := dockerfileInput(data); perr == nil && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("policies failed on a parsed Dockerfile: %v", err)
			}
			return
		}
		checkFindings(t, s, data, buf)
	})
}

// FuzzKubernetes feeds arbitrary YAML to the reader and the policies: no
// panic, no evaluation error, findings of declared rules inside the file.
func FuzzKubernetes(f *testing.F) {
	seeds(f, "k8s")
	f.Add([]byte("kind: PodList\nitems: [{kind: Pod, spec: {containers: [{name: a, securityContext: *x}]}}]\n"))
	f.Add([]byte("kind: CronJob\nspec: &s {jobTemplate: {spec: {template: {spec: {hostPID: true, containers: [1, {}]}}}}}\nx: {<<: *s}\n"))
	s, err := New(f.Context(), Options{MaxYAMLBytes: 1 << 16})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var buf scan.Buffer
		err := s.scan(t.Context(), object("m.yaml", scan.FormatKubernetes, data), &buf)
		if err != nil {
			if _, rerr := readKubernetes(data); rerr == nil && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("policies failed on readable YAML: %v", err)
			}
			return
		}
		checkFindings(t, s, data, buf)
		if _, err := s.Finish(t.Context()); err != nil {
			t.Fatalf("Finish: %v", err)
		}
	})
}
