package osv

import (
	"bufio"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// On-disk layout of a database directory DIR:
//
//	DIR/CURRENT              name of the live generation, e.g. "gen-1728561000000000000-3fa2"
//	DIR/gen-.../manifest.json  format version and per-ecosystem status (JSON)
//	DIR/gen-.../eco-N.gob      one ecosystem's index (gob, see ecoFile)
//	DIR/import.lock          present while an import runs
//
// An import writes a complete new generation, then replaces CURRENT by
// rename, so a reader sees either the old or the new database, never a
// mix. The previous generation is kept until the next import so that a
// reader that opened it can still load its ecosystems.

// FormatVersion is the on-disk format this package writes and reads. A
// database of another format must be re-imported.
const FormatVersion = 1

const (
	currentFile  = "CURRENT"
	manifestFile = "manifest.json"
	lockFile     = "import.lock"
	genPrefix    = "gen-"
	fileMagic    = "palisade-osv-index"
)

// Sentinel errors of Open and Query.
var (
	// ErrNoDatabase: the directory holds no database.
	ErrNoDatabase = errors.New("no OSV database")
	// ErrIncompatible: the database was written in another format.
	ErrIncompatible = errors.New("incompatible OSV database format")
	// ErrCorrupt: the database is damaged.
	ErrCorrupt = errors.New("corrupt OSV database")
	// ErrNoEcosystem: the database holds no advisories for an ecosystem.
	ErrNoEcosystem = errors.New("ecosystem not in OSV database")
	// ErrImportRunning: another import holds the lock.
	ErrImportRunning = errors.New("another OSV import is running")
)

// importHint tells the user how to (re)build a database.
const importHint = "run 'palisade db import FILE|DIR' (an osv.dev <Ecosystem>/all.zip or a directory of OSV JSON files)"

// manifest is the generation's JSON header.
type manifest struct {
	Format     int                    `json:"format"`
	Ecosystems map[string]ecoManifest `json:"ecosystems"`
}

type ecoManifest struct {
	File       string    `json:"file"`
	Advisories int       `json:"advisories"`
	Packages   int       `json:"packages"`
	Withdrawn  int       `json:"withdrawn"`
	Newest     time.Time `json:"newest_modified"`
	Imported   time.Time `json:"imported"`
	Source     string    `json:"source"`
}

// ecoFile is one ecosystem's index as stored with gob.
type ecoFile struct {
	Magic      string
	Format     int
	Ecosystem  string
	Advisories []storedAdvisory
	Packages   []storedPackage // sorted by Name
}

type storedAdvisory struct {
	ID         string
	Aliases    []string
	Summary    string
	Modified   time.Time
	Severity   []Severity
	DBSeverity string
	References []Reference
}

type storedPackage struct {
	Name    string // normalised
	Entries []storedEntry
}

// storedEntry is one affected entry: its usable ranges and the enumerated
// versions that the ranges do not already cover (canonical strings).
type storedEntry struct {
	Advisory int32
	Ranges   []storedRange
	Versions []string
}

type storedRange struct {
	Semver bool
	Events []Event
}

// readCurrent returns the live generation's directory.
func readCurrent(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, currentFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%w at %s: %s", ErrNoDatabase, dir, importHint)
	}
	if err != nil {
		return "", fmt.Errorf("read OSV database at %s: %w", dir, err)
	}
	name := strings.TrimSpace(string(b))
	if !strings.HasPrefix(name, genPrefix) || strings.ContainsAny(name, `/\`) || name != filepath.Base(name) {
		return "", fmt.Errorf("%w at %s: CURRENT names %q: %s", ErrCorrupt, dir, name, importHint)
	}
	return filepath.Join(dir, name), nil
}

func readManifest(dir, gen string) (*manifest, error) {
	b, err := os.ReadFile(filepath.Join(gen, manifestFile))
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %v: %s", ErrCorrupt, dir, err, importHint)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w at %s: manifest: %v: %s", ErrCorrupt, dir, err, importHint)
	}
	if m.Format != FormatVersion {
		return nil, fmt.Errorf("%w at %s: format %d, this palisade reads format %d: re-import: %s", ErrIncompatible, dir, m.Format, FormatVersion, importHint)
	}
	for eco, em := range m.Ecosystems {
		if em.File != filepath.Base(em.File) || !strings.HasSuffix(em.File, ".gob") {
			return nil, fmt.Errorf("%w at %s: ecosystem %s names file %q: %s", ErrCorrupt, dir, eco, em.File, importHint)
		}
	}
	return &m, nil
}

func readEcoFile(path string) (*ecoFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ef ecoFile
	if err := gob.NewDecoder(bufio.NewReaderSize(f, 1<<16)).Decode(&ef); err != nil {
		return nil, fmt.Errorf("decode %s: %w", filepath.Base(path), err)
	}
	if ef.Magic != fileMagic || ef.Format != FormatVersion {
		return nil, fmt.Errorf("%s: not a format %d index", filepath.Base(path), FormatVersion)
	}
	return &ef, nil
}

// writeFileSync writes data to path and syncs it.
func writeFileSync(path string, write func(*bufio.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	if err := write(w); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a directory's entries durable; it is best effort where
// directories cannot be synced (Windows).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
