package registry

import (
	"regexp"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Limits on names, from the distribution spec and common registry practice.
const (
	maxNameLen = 255
	maxTagLen  = 128
)

var (
	// nameComponent is one path component of a repository name.
	nameComponent = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$`)
	tagPattern    = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
	digestPattern = regexp.MustCompile(`^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$`)
)

// repoName is a parsed repository name.
type repoName struct {
	full    string // "PROJECT/NAME[/...]"
	project string
	repo    string // the name within the project
}

// parseName checks a repository name: at least two components (project
// and name), each as the spec's grammar says, 255 bytes at most.
func parseName(s string) (repoName, bool) {
	if s == "" || len(s) > maxNameLen {
		return repoName{}, false
	}
	project, repo, ok := strings.Cut(s, "/")
	if !ok || len(project) > MaxProjectNameLen {
		return repoName{}, false
	}
	for _, c := range strings.Split(s, "/") {
		if !nameComponent.MatchString(c) {
			return repoName{}, false
		}
	}
	return repoName{full: s, project: project, repo: repo}, true
}

// validTag reports whether s is a tag the spec allows.
func validTag(s string) bool { return len(s) <= maxTagLen && tagPattern.MatchString(s) }

// validDigest reports whether s is a digest this registry accepts: sha256
// or sha512, lower-case hex of the right length.
func validDigest(s string) bool { return digestPattern.MatchString(s) }

// ValidDigest reports whether s is a digest the registry accepts.
func ValidDigest(s string) bool { return validDigest(s) }

// ValidTag reports whether s is a tag the distribution spec allows.
func ValidTag(s string) bool { return validTag(s) }

// MaxProjectNameLen bounds a project name.
const MaxProjectNameLen = 64

// ValidProjectName reports whether s can name a project: one component of
// a repository name, at most MaxProjectNameLen bytes.
func ValidProjectName(s string) bool {
	return len(s) <= MaxProjectNameLen && nameComponent.MatchString(s)
}

// digestValue converts a checked digest string for the image-spec types.
func digestValue(s string) digest.Digest { return digest.Digest(s) }
