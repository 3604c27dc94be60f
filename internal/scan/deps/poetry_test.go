package deps

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

const poetryProject = `[tool.poetry]
name = "trainer"
version = "0.1.0"

[tool.poetry.dependencies]
python = "^3.10"
torch = "1.13.0"
transformers = { version = "^4.30", extras = ["torch"] }
mlflow = "==2.2.0"
internal-utils = { path = "../utils", develop = true }
private-lib = { git = "https://git.example.com/ml/private-lib.git", tag = "v1" }

[tool.poetry.group.dev.dependencies]
pytest = "*"

[tool.poetry.dependencies.numpy]
version = "1.26.4"
`

// TestPoetryDependencies reads Poetry's tables: exact versions are pins
// matched against advisories, ranges are unpinned, git sources are direct
// references, path dependencies and python are skipped.
func TestPoetryDependencies(t *testing.T) {
	t.Parallel()
	adv := fakeAdvisories{"PyPI/torch@1.13.0": {{ID: "PYSEC-2022-43015", Summary: "eval in parse_type_line"}}}
	s := newScanner(t, adv)
	got := hits(run(t, s, memObject("pyproject.toml", []byte(poetryProject))))
	want := []hit{
		{"DEP001", 7},  // torch 1.13.0
		{"DEP002", 8},  // transformers ^4.30
		{"DEP002", 14}, // pytest *
		{"DEP004", 11}, // private-lib from git
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("findings (-got +want):\n%s", diff)
	}
	entries, err := poetryEntries([]byte(poetryProject))
	if err != nil {
		t.Fatal(err)
	}
	var pins []string
	for _, e := range entries {
		if v, ok := e.Req.Pinned(); ok {
			pins = append(pins, e.Req.Name+"=="+v)
		}
	}
	if diff := cmp.Diff(pins, []string{"mlflow==2.2.0", "numpy==1.26.4", "torch==1.13.0"}); diff != "" {
		t.Errorf("pins (-got +want):\n%s", diff)
	}
}

func TestPoetryMalformed(t *testing.T) {
	t.Parallel()
	if _, err := poetryEntries([]byte("[tool.poetry.dependencies\ntorch = 1")); err == nil {
		t.Error("poetryEntries accepted broken TOML")
	}
}
