package osv

import (
	"errors"
	"testing"
)

func rangeOf(typ string, evs ...Event) Range { return Range{Type: typ, Events: evs} }

func intro(v string) Event { return Event{Introduced: v} }
func fixed(v string) Event { return Event{Fixed: v} }
func last(v string) Event  { return Event{LastAffected: v} }

func pypiRecord(ranges []Range, versions ...string) *Record {
	return &Record{ID: "TEST-1", Affected: []Affected{{Package: Package{Ecosystem: PyPI, Name: "demo"}, Ranges: ranges, Versions: versions}}}
}

// TestAffects checks range evaluation on hand-made records, one rule per
// case.
func TestAffects(t *testing.T) {
	t.Parallel()
	reopen := []Range{rangeOf(RangeEcosystem,
		intro("0"), fixed("6.0.0rc1"), intro("6.0.0"), fixed("7.16.3"), intro("7.17.0"), fixed("7.31.1"), intro("8.0.0"), fixed("8.0.1"))}
	tests := []struct {
		name    string
		rec     *Record
		version string
		want    bool
	}{
		{"introduced 0 only: first", pypiRecord([]Range{rangeOf(RangeEcosystem, intro("0"))}), "0.0.1.dev0", true},
		{"introduced 0 only: epoch", pypiRecord([]Range{rangeOf(RangeEcosystem, intro("0"))}), "5!1.0", true},
		{"introduced inclusive", pypiRecord([]Range{rangeOf(RangeEcosystem, intro("1.0"), fixed("2.0"))}), "1.0.0", true},
		{"below introduced", pypiRecord([]Range{rangeOf(RangeEcosystem, intro("1.0"), fixed("2.0"))}), "1.0rc1", false},
		{"fixed exclusive", pypiRecord([]Range{rangeOf(RangeEcosystem, intro("1.0"), fixed("2.0"))}), "2.0", false},
		{"dev of fix is below the fix", pypiRecord([]Range{rangeOf(RangeEcosystem, intro("1.0"), fixed("2.0"))}), "2.0.dev1", true},
		{"local above public", pypiRecord([]Range{rangeOf(RangeEcosystem, intro("1.0"), fixed("2.0"))}), "1.9+cu118", true},
		{"post of fix", pypiRecord([]Range{rangeOf(RangeEcosystem, intro("1.0"), fixed("2.0"))}), "2.0.post1", false},
		{"last_affected inclusive", pypiRecord([]Range{rangeOf(RangeEcosystem, intro("0"), last("1.11.0"))}), "1.11", true},
		{"above last_affected", pypiRecord([]Range{rangeOf(RangeEcosystem, intro("0"), last("1.11.0"))}), "1.11.0.post1", false},
		{"reopen: first span", pypiRecord(reopen), "5.9", true},
		{"reopen: pre-release fix", pypiRecord(reopen), "6.0.0rc1", false},
		{"reopen: reintroduced", pypiRecord(reopen), "6.0.0", true},
		{"reopen: gap", pypiRecord(reopen), "7.16.5", false},
		{"reopen: third span", pypiRecord(reopen), "7.31.0", true},
		{"reopen: after all", pypiRecord(reopen), "8.1", false},
		{"unsorted events", pypiRecord([]Range{rangeOf(RangeEcosystem, fixed("2.0"), intro("3.0"), fixed("4.0"), intro("1.0"))}), "3.5", true},
		{"unsorted events: gap", pypiRecord([]Range{rangeOf(RangeEcosystem, fixed("2.0"), intro("3.0"), fixed("4.0"), intro("1.0"))}), "2.5", false},
		{"introduced equals fixed", pypiRecord([]Range{rangeOf(RangeEcosystem, intro("1.0"), fixed("1.0"))}), "1.0", false},
		{"ranges are a union", pypiRecord([]Range{rangeOf(RangeEcosystem, intro("1.0"), fixed("1.1")), rangeOf(RangeEcosystem, intro("3.0"), fixed("3.1"))}), "3.0.5", true},
		{"versions list only", pypiRecord(nil, "0.5"), "0.5.0", true},
		{"versions list: not listed", pypiRecord(nil, "0.5"), "0.5.1", false},
		{"versions list: legacy entries skipped", pypiRecord(nil, "0.7.4.svn.r2010", "1.0"), "1.0", true},
		{"versions union ranges", pypiRecord([]Range{rangeOf(RangeEcosystem, intro("1.0"), fixed("2.0"))}, "2.0.post1"), "2.0.post1", true},
		{"git range ignored", pypiRecord([]Range{rangeOf(RangeGit, intro("0"), fixed("abcdef"))}), "1.0", false},
		{"range with unparseable event dropped", pypiRecord([]Range{rangeOf(RangeEcosystem, intro("0"), fixed("2019-09-12"))}), "1.0", false},
		{"range without introduced dropped", pypiRecord([]Range{rangeOf(RangeEcosystem, fixed("2.0"))}), "1.0", false},
		{"unknown range type ignored", pypiRecord([]Range{rangeOf("WHATEVER", intro("0"))}), "1.0", false},
		{"limit event ignored", pypiRecord([]Range{rangeOf(RangeEcosystem, intro("1.0"), Event{Limit: "1.5"})}), "3.0", true},
		{"SEMVER range in PyPI", pypiRecord([]Range{rangeOf(RangeSemver, intro("1.0.0"), fixed("1.2.0"))}), "1.1.0", true},
		{"SEMVER range, PEP 440-only version", pypiRecord([]Range{rangeOf(RangeSemver, intro("0"), fixed("1.2.0"))}), "1.1.post1", false},
		{"withdrawn", &Record{ID: "W", Withdrawn: "2024-01-01T00:00:00Z", Affected: pypiRecord([]Range{rangeOf(RangeEcosystem, intro("0"))}).Affected}, "1.0", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.rec.Affects(PyPI, "demo", tt.version)
			if err != nil {
				t.Fatalf("Affects: %v", err)
			}
			if got != tt.want {
				t.Errorf("Affects(%q) = %v, want %v", tt.version, got, tt.want)
			}
		})
	}
}

func TestAffectsOtherEcosystems(t *testing.T) {
	t.Parallel()
	rec := &Record{ID: "X", Affected: []Affected{
		{Package: Package{Ecosystem: Go, Name: "example.com/m"}, Ranges: []Range{rangeOf(RangeEcosystem, intro("0"), fixed("1.4.0"))}},
		{Package: Package{Ecosystem: Npm, Name: "pkg"}, Ranges: []Range{rangeOf(RangeSemver, intro("2.0.0-rc.1"), fixed("2.0.1"))}},
	}}
	tests := []struct {
		eco, name, version string
		want               bool
	}{
		{Go, "example.com/m", "v1.3.9", true},
		{Go, "example.com/m", "v1.4.0", false},
		{Go, "example.com/m", "v1.4.0-rc.1", true},
		{Go, "example.com/m", "v0.0.0-20200101000000-000000000000", true},
		{"go", "example.com/m", "v1.0.0", true},
		{Go, "example.com/other", "v1.0.0", false},
		{Npm, "pkg", "2.0.0-beta", false},
		{Npm, "pkg", "2.0.0-rc.1", true},
		{Npm, "pkg", "2.0.0", true},
		{Npm, "pkg", "2.0.1", false},
		{PyPI, "pkg", "2.0.0", false},
	}
	for _, tt := range tests {
		got, err := rec.Affects(tt.eco, tt.name, tt.version)
		if err != nil || got != tt.want {
			t.Errorf("Affects(%s, %s, %s) = %v, %v; want %v", tt.eco, tt.name, tt.version, got, err, tt.want)
		}
	}
	if _, err := rec.Affects("Maven", "x", "1.0"); !errors.Is(err, ErrUnsupportedEcosystem) {
		t.Errorf("Maven: %v", err)
	}
	if _, err := rec.Affects(Go, "example.com/m", "1.2.3.4"); !errors.Is(err, ErrInvalidVersion) {
		t.Errorf("invalid Go version: %v", err)
	}
}

func TestNormalizeName(t *testing.T) {
	t.Parallel()
	tests := []struct{ eco, in, want string }{
		{PyPI, "Pillow", "pillow"},
		{PyPI, "jupyter_server", "jupyter-server"},
		{PyPI, "llama_index", "llama-index"},
		{PyPI, "PyYAML", "pyyaml"},
		{PyPI, "jw.util", "jw-util"},
		{PyPI, "a-_.-b", "a-b"},
		{PyPI, "  Foo__Bar ", "foo-bar"},
		{PyPI, "-leading", "-leading"},
		{PyPI, "trailing_", "trailing-"},
		{Go, "github.com/Foo/Bar", "github.com/Foo/Bar"},
		{Npm, "@Scope/Pkg_x", "@Scope/Pkg_x"},
	}
	for _, tt := range tests {
		if got := NormalizeName(tt.eco, tt.in); got != tt.want {
			t.Errorf("NormalizeName(%s, %q) = %q, want %q", tt.eco, tt.in, got, tt.want)
		}
	}
}

func TestCanonicalEcosystem(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"pypi": PyPI, "PYPI": PyPI, "PyPI": PyPI, "go": Go, "NPM": Npm} {
		if got, err := CanonicalEcosystem(in); err != nil || got != want {
			t.Errorf("CanonicalEcosystem(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := CanonicalEcosystem("crates.io"); !errors.Is(err, ErrUnsupportedEcosystem) {
		t.Errorf("crates.io: %v", err)
	}
}
