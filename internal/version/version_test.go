package version

import (
	"runtime"
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

func TestGetPrefersStampedCommit(t *testing.T) {
	old := commit
	t.Cleanup(func() { commit = old })
	commit = "0123abc"
	if got := Get().Commit; got != "0123abc" {
		t.Errorf("Get().Commit = %q with a stamped commit, want 0123abc", got)
	}
}

func TestString(t *testing.T) {
	t.Parallel()
	s := Info{Version: "v1.2.3", Commit: "abc", GoVersion: "go1.26", Platform: "linux/amd64"}.String()
	for _, want := range []string{"palisade v1.2.3", "commit abc", "go1.26", "linux/amd64"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q, missing %q", s, want)
		}
	}
}
