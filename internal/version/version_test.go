package version

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	info := Get()
	if info.Version == "" || info.Commit == "" {
		t.Errorf("Get() = %+v: version and commit must never be empty", info)
	}
	if info.GoVersion != runtime.Version() || info.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("Get() = %+v, want Go %s on %s/%s", info, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	}
}

func TestGetPrefersStamped(t *testing.T) {
	oldV, oldC := version, commit
	t.Cleanup(func() { version, commit = oldV, oldC })
	version, commit = "v9.8.7", "0123abc"
	if got := Get(); got.Version != "v9.8.7" || got.Commit != "0123abc" {
		t.Errorf("Get() = %+v with a stamped version and commit, want v9.8.7 and 0123abc", got)
	}
}

func TestResolveVersion(t *testing.T) {
	t.Parallel()
	withMain := func(v string) *debug.BuildInfo { return &debug.BuildInfo{Main: debug.Module{Version: v}} }
	tests := []struct {
		name    string
		stamped string
		bi      *debug.BuildInfo
		want    string
	}{
		{"stamped wins", "v1.2.3", withMain("v0.9.0"), "v1.2.3"},
		{"go install @version", "", withMain("v0.9.0"), "v0.9.0"},
		{"pseudo-version", "", withMain("v0.0.0-20260101000000-abcdefabcdef"), "v0.0.0-20260101000000-abcdefabcdef"},
		{"work tree build", "", withMain("(devel)"), "dev"},
		{"empty module version", "", withMain(""), "dev"},
		{"no build info", "", nil, "dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := resolveVersion(tt.stamped, tt.bi); got != tt.want {
				t.Errorf("resolveVersion(%q, %v) = %q, want %q", tt.stamped, tt.bi, got, tt.want)
			}
		})
	}
}

func TestResolveCommit(t *testing.T) {
	t.Parallel()
	bi := &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "feed"}}}
	tests := []struct {
		name    string
		stamped string
		bi      *debug.BuildInfo
		want    string
	}{
		{"stamped wins", "abc", bi, "abc"},
		{"vcs revision", "", bi, "feed"},
		{"nothing recorded", "", &debug.BuildInfo{}, "unknown"},
		{"no build info", "", nil, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := resolveCommit(tt.stamped, tt.bi); got != tt.want {
				t.Errorf("resolveCommit(%q) = %q, want %q", tt.stamped, got, tt.want)
			}
		})
	}
}

func TestSemVer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"v1.2.3", "1.2.3", true},
		{"1.2.3", "1.2.3", true},
		{"v1.2.3-rc.1+build.5", "1.2.3-rc.1+build.5", true},
		{"v0.0.0-20260101000000-abcdefabcdef", "0.0.0-20260101000000-abcdefabcdef", true},
		{"dev", "", false},
		{"v1.2", "", false},
		{"v01.2.3", "", false},
		{"abc1234", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, ok := SemVer(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("SemVer(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestStringAndHeadline(t *testing.T) {
	t.Parallel()
	info := Info{Version: "v1.2.3", Commit: "abc", GoVersion: "go1.26", Platform: "linux/amd64"}
	s := info.String()
	for _, want := range []string{"palisade v1.2.3", "commit abc", "go1.26", "linux/amd64"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q, missing %q", s, want)
		}
	}
	if got := info.Headline(); got != "palisade v1.2.3" {
		t.Errorf("Headline() = %q, want %q", got, "palisade v1.2.3")
	}
}
