// Package version reports what build of Palisade is running: the release
// version and commit stamped in at link time, and the Go toolchain.
package version

import (
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set at link time with -ldflags "-X github.com/palisade-sec/palisade/internal/version.version=v1.2.3 -X ...commit=abc".
var (
	version = ""
	commit  = ""
)

// unknownVersion is reported when neither the linker nor the Go toolchain
// recorded a version (a plain 'go build' from a work tree).
const unknownVersion = "dev"

// Info describes a build.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// Get returns the running build's information. When the version or commit
// was not stamped at link time it falls back to what the Go toolchain
// embeds ('go install ...@v1.2.3' records v1.2.3 as the module version),
// then to "dev" and "unknown".
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return Info{
		Version:   resolveVersion(version, bi),
		Commit:    resolveCommit(commit, bi),
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
}

// resolveVersion prefers the stamped version, then the main module's
// version from the build information unless it is "(devel)".
func resolveVersion(stamped string, bi *debug.BuildInfo) string {
	if stamped != "" {
		return stamped
	}
	if bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return unknownVersion
}

// resolveCommit prefers the stamped commit, then the VCS revision the
// toolchain embeds.
func resolveCommit(stamped string, bi *debug.BuildInfo) string {
	if stamped != "" {
		return stamped
	}
	if bi != nil {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				return s.Value
			}
		}
	}
	return "unknown"
}

// Headline is the first line of 'palisade version' and the whole output of
// 'palisade --version': "palisade v1.2.3".
func (i Info) Headline() string {
	return "palisade " + i.Version
}

// String renders the information on one line.
func (i Info) String() string {
	return fmt.Sprintf("palisade %s (commit %s, %s, %s)", i.Version, i.Commit, i.GoVersion, i.Platform)
}

// semverPattern is Semantic Versioning 2.0.0's grammar, without the
// leading "v" Go module versions carry.
var semverPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// SemVer returns v as a Semantic Versioning 2.0.0 string, without a
// leading "v", and whether v is one at all ("dev" and commit hashes are not).
func SemVer(v string) (string, bool) {
	s := strings.TrimPrefix(v, "v")
	if !semverPattern.MatchString(s) {
		return "", false
	}
	return s, true
}
