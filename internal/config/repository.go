package config

import (
	"os"
	"path/filepath"
	"time"
)

// DefaultAdvisoryMaxAge is how old the OSV database may be before a scan
// warns.
const DefaultAdvisoryMaxAge = 30 * 24 * time.Hour

// Repository holds the settings that choose what the repository scanners
// load: policy directories, a gitleaks configuration and the advisory
// database. Paths are as the user gave them (flags) or resolved against
// the project file's directory.
type Repository struct {
	PolicyDirs     []string
	GitleaksConfig string
	// AdvisoryDB is the OSV database directory; "" means
	// DefaultAdvisoryDB().
	AdvisoryDB string
	// AdvisoryMaxAge: a scan warns when the newest advisory is older; 0
	// means DefaultAdvisoryMaxAge.
	AdvisoryMaxAge time.Duration
	// Warn receives warnings found while scanning (a database that lacks
	// an ecosystem, a version that cannot be matched), each once; nil
	// drops them. It may be called from several goroutines.
	Warn func(string)
}

// DefaultAdvisoryDB is the OSV database directory when none is set: the
// user's cache directory (on Linux $XDG_CACHE_HOME or ~/.cache) under
// palisade/osv, or .palisade/osv in the working directory when the system
// has no cache directory.
func DefaultAdvisoryDB() string {
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "palisade", "osv")
	}
	return filepath.Join(".palisade", "osv")
}
