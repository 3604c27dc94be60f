// Package version reports what build of Palisade is running: the release
// version and commit stamped in at link time, and the Go toolchain.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set at link time with -ldflags "-X github.com/palisade-sec/palisade/internal/version.version=v1.2.3 -X ...commit=abc".
var (
	version = "dev"
	commit  = ""
)

// Info describes a build.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// Get returns the running build's information. When the commit was not
// stamped at link time it falls back to the VCS data the Go toolchain
// embeds, and to "unknown".
func Get() Info {
	c := commit
	if c == "" {
		c = "unknown"
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					c = s.Value
				}
			}
		}
	}
	return Info{
		Version:   version,
		Commit:    c,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
}

// String renders the information on one line.
func (i Info) String() string {
	return fmt.Sprintf("palisade %s (commit %s, %s, %s)", i.Version, i.Commit, i.GoVersion, i.Platform)
}
