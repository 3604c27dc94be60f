package deps

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// seeds adds every testdata file whose name passes keep.
func seeds(f *testing.F, keep func(name string) bool) {
	f.Helper()
	err := filepath.WalkDir("testdata", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !keep(d.Name()) {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f.Add(data)
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
}

// FuzzRequirements checks the requirements lexer: no panics, lines in
// range, in order.
func FuzzRequirements(f *testing.F) {
	seeds(f, func(n string) bool { return strings.HasSuffix(n, ".txt") })
	f.Add([]byte("a==1 \\\n\\\n-r\n-e\n--hash\n@\nx @ \n[\n#egg=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := strings.Count(string(data), "\n") + 1
		prev := 0
		for _, l := range parseRequirements(data) {
			if l.Line <= prev || l.Line > lines {
				t.Fatalf("line %d after %d in a %d-line file", l.Line, prev, lines)
			}
			prev = l.Line
			_, _ = l.Req.Pinned()
		}
	})
}

// FuzzCondaEnvironment checks the environment.yml reader: no panics,
// every entry named, lines in range.
func FuzzCondaEnvironment(f *testing.F) {
	seeds(f, func(n string) bool { return strings.HasPrefix(n, "environment.") })
	f.Add([]byte("dependencies:\n  - &x a=1\n  - *x\n  - pip: [b==2, --index-url http://h]\n  - {pip: 3}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := strings.Count(string(data), "\n") + 1
		deps, _ := parseCondaEnvironment(data)
		if len(deps) > maxCondaDeps {
			t.Fatalf("%d entries beyond the limit", len(deps))
		}
		for _, d := range deps {
			if d.Line < 0 || d.Line > lines {
				t.Fatalf("entry %q at line %d of %d", d.Spec, d.Line, lines)
			}
		}
	})
}

// FuzzSetupCfg checks the setup.cfg reader.
func FuzzSetupCfg(f *testing.F) {
	seeds(f, func(n string) bool { return n == "setup.cfg" })
	f.Add([]byte("[options]\ninstall_requires=\n\tx\n[options.extras_require]\n=\n :\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := strings.Count(string(data), "\n") + 1
		for _, r := range parseSetupCfg(data) {
			if r.Line < 1 || r.Line > lines {
				t.Fatalf("line %d of %d", r.Line, lines)
			}
		}
	})
}

// FuzzScan runs the whole scanner, osv-scalibr extractors included, on
// arbitrary content under each file name it reads: no panics, only its
// own rules, lines in range.
func FuzzScan(f *testing.F) {
	names := []string{"requirements.txt", "pyproject.toml", "poetry.lock", "Pipfile.lock", "uv.lock", "pdm.lock",
		"pylock.toml", "environment.yml", "setup.cfg", "go.mod", "package-lock.json", "x.dist-info/METADATA"}
	err := filepath.WalkDir("testdata", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "README" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i, n := range names {
			if KindOf(p) == KindOf(n) {
				f.Add(uint8(i), data)
			}
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	s, err := New(Options{Advisories: vulnDB})
	if err != nil {
		f.Fatal(err)
	}
	rules := map[string]bool{}
	for _, r := range s.Rules() {
		rules[r.ID] = true
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		name := names[int(which)%len(names)]
		obj := scan.Object{Name: name, R: strings.NewReader(string(data)), Size: int64(len(data))}
		var r recorder
		if err := s.scan(context.Background(), obj, &r); err != nil {
			return
		}
		lines := strings.Count(string(data), "\n") + 1
		for _, x := range r.findings {
			if !rules[x.RuleID] {
				t.Fatalf("foreign rule %s", x.RuleID)
			}
			if x.Line < 0 || x.Line > lines {
				t.Fatalf("%s at line %d of %d", x.RuleID, x.Line, lines)
			}
		}
	})
}

// FuzzPoetryEntries reads arbitrary pyproject.toml content: never panics.
func FuzzPoetryEntries(f *testing.F) {
	f.Add([]byte(poetryProject))
	f.Add([]byte("[tool.poetry.dependencies]\na = {git = 1}\nb = [1, {version = \"2\"}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		_, _ = poetryEntries(data)
	})
}

// FuzzLockSources reads arbitrary lockfile content as each lockfile kind
// whose sources Palisade reads itself: never panics, and every entry it
// returns is a direct reference with a name.
func FuzzLockSources(f *testing.F) {
	for _, name := range []string{"poetry.lock", "uv.lock", "Pipfile.lock"} {
		data, err := os.ReadFile(filepath.Join("testdata", "project", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		for _, kind := range []Kind{KindPoetryLock, KindUVLock, KindPipfileLock} {
			reqs, _ := lockSources(kind, data)
			for _, r := range reqs {
				if r.Req.URL == "" || r.Req.Name == "" {
					t.Fatalf("%s: entry without name or URL: %+v", kind, r)
				}
			}
		}
	})
}
