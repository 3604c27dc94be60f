package osv

import (
	"archive/zip"
	"bufio"
	"context"
	"crypto/rand"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Limits bound what an import reads. Zero fields take the defaults.
type Limits struct {
	MaxRecordBytes int64 // one advisory (DefaultMaxRecordBytes)
	MaxRecords     int   // JSON documents in the whole source (2,000,000)
	MaxTotalBytes  int64 // uncompressed bytes in the whole source (8 GiB)
	MaxZipRatio    int64 // uncompressed/compressed size of a zip entry (1000)
}

// DefaultLimits returns the limits used when a field is zero.
func DefaultLimits() Limits {
	return Limits{MaxRecordBytes: DefaultMaxRecordBytes, MaxRecords: 2_000_000, MaxTotalBytes: 8 << 30, MaxZipRatio: 1000}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxRecordBytes <= 0 {
		l.MaxRecordBytes = d.MaxRecordBytes
	}
	if l.MaxRecords <= 0 {
		l.MaxRecords = d.MaxRecords
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = d.MaxTotalBytes
	}
	if l.MaxZipRatio <= 0 {
		l.MaxZipRatio = d.MaxZipRatio
	}
	return l
}

// ErrLimit is wrapped when a source exceeds the import limits.
var ErrLimit = errors.New("OSV source exceeds import limit")

// ErrEmptyImport: the source held no advisory for a supported ecosystem;
// the database is left unchanged.
var ErrEmptyImport = errors.New("no usable OSV advisories")

// ImportStats describes one import.
type ImportStats struct {
	Source      string
	Documents   int            // JSON documents read
	Advisories  map[string]int // stored advisories per ecosystem
	Packages    map[string]int // distinct package names per ecosystem
	Withdrawn   int            // withdrawn advisories skipped
	Invalid     int            // documents that are not valid OSV records (skipped)
	Duplicates  int            // advisories seen more than once (newest modified kept)
	Unsupported map[string]int // affected entries of ecosystems without an ordering, skipped
	GitRanges   int            // GIT ranges ignored
	Unusable    int            // ranges dropped: unknown type, no introduced, or an event that does not parse
	Legacy      int            // enumerated versions that do not parse (skipped)
	Carried     []string       // ecosystems kept from the previous database
	Errors      []string       // the first few decoding errors
	Duration    time.Duration
}

const maxReportedErrors = 10

// Importer builds databases. The zero value is ready to use.
type Importer struct {
	Limits Limits
	Now    func() time.Time // import time; time.Now when nil
}

// Import reads the OSV advisories in src and writes them into the database
// at dbDir with the default Importer.
func Import(ctx context.Context, src, dbDir string) (ImportStats, error) {
	var im Importer
	return im.Import(ctx, src, dbDir)
}

// Import reads src (a directory searched recursively for *.json records
// and *.zip exports, an osv.dev <Ecosystem>/all.zip, or one JSON record)
// and writes the advisories of supported ecosystems into dbDir. Each
// ecosystem found in src replaces that ecosystem in the database; other
// ecosystems of the previous database are carried over. The database is
// replaced atomically: on any error (including ErrEmptyImport) the
// previous database stays as it was.
func (im *Importer) Import(ctx context.Context, src, dbDir string) (ImportStats, error) {
	now := time.Now
	if im.Now != nil {
		now = im.Now
	}
	start := time.Now()
	lim := im.Limits.withDefaults()
	abs, err := filepath.Abs(src)
	if err != nil {
		abs = src
	}
	b := newBuilder(abs, lim)
	if err := b.readSource(ctx, src); err != nil {
		return b.stats, err
	}
	if len(b.ecos) == 0 {
		return b.stats, fmt.Errorf("import %s: %w: %d documents, none with a %s advisory (skipped: %d withdrawn, %d invalid)",
			src, ErrEmptyImport, b.stats.Documents, strings.Join(Ecosystems(), "/"), b.stats.Withdrawn, b.stats.Invalid)
	}
	if err := os.MkdirAll(dbDir, 0o755); err != nil {
		return b.stats, fmt.Errorf("create OSV database directory: %w", err)
	}
	unlock, err := lock(dbDir, now())
	if err != nil {
		return b.stats, err
	}
	defer unlock()
	if err := b.write(ctx, dbDir, now().UTC()); err != nil {
		return b.stats, fmt.Errorf("write OSV database at %s: %w", dbDir, err)
	}
	b.stats.Duration = time.Since(start)
	return b.stats, nil
}

// lock creates the import lock file; a second import fails fast.
func lock(dbDir string, now time.Time) (func(), error) {
	path := filepath.Join(dbDir, lockFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%w on %s: if none is, delete %s", ErrImportRunning, dbDir, path)
	}
	if err != nil {
		return nil, fmt.Errorf("lock OSV database: %w", err)
	}
	fmt.Fprintf(f, "pid %d since %s\n", os.Getpid(), now.UTC().Format(time.RFC3339))
	f.Close()
	return func() { os.Remove(path) }, nil
}

// ecoBuild collects one ecosystem's advisories.
type ecoBuild struct {
	advisories map[string]*pendingAdvisory // by ID
}

type pendingAdvisory struct {
	adv     storedAdvisory
	entries map[string][]storedEntry // by normalised name; Advisory index set at write
}

type builder struct {
	lim       Limits
	stats     ImportStats
	ecos      map[string]*ecoBuild
	withdrawn map[string]int // withdrawn advisories per ecosystem
	total     int64
	source    string
}

func newBuilder(source string, lim Limits) *builder {
	return &builder{
		lim:       lim,
		source:    source,
		ecos:      map[string]*ecoBuild{},
		withdrawn: map[string]int{},
		stats: ImportStats{
			Source:      source,
			Advisories:  map[string]int{},
			Packages:    map[string]int{},
			Unsupported: map[string]int{},
		},
	}
}

func (b *builder) readSource(ctx context.Context, src string) error {
	info, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("import %s: %w", src, err)
	}
	switch {
	case info.IsDir():
		// WalkDir does not follow a symbolic link at the root.
		if real, err := filepath.EvalSymlinks(src); err == nil {
			src = real
		}
		return b.readDir(ctx, src)
	case strings.EqualFold(filepath.Ext(src), ".zip") || isZip(src):
		return b.readZip(ctx, src)
	default:
		return b.readFile(src)
	}
}

func isZip(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	_, err = io.ReadFull(f, magic[:])
	return err == nil && string(magic[:]) == "PK\x03\x04"
}

func (b *builder) readDir(ctx context.Context, dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("import %s: %w", dir, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil // directories are walked; links and devices skipped
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".json":
			return b.readFile(path)
		case ".zip":
			return b.readZip(ctx, path)
		}
		return nil
	})
}

// account charges n bytes and one document against the limits.
func (b *builder) account(n int64, where string) error {
	b.stats.Documents++
	b.total += n
	if b.stats.Documents > b.lim.MaxRecords {
		return fmt.Errorf("import %s: %w: more than %d documents", where, ErrLimit, b.lim.MaxRecords)
	}
	if b.total > b.lim.MaxTotalBytes {
		return fmt.Errorf("import %s: %w: more than %d bytes", where, ErrLimit, b.lim.MaxTotalBytes)
	}
	return nil
}

func (b *builder) readFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, b.lim.MaxRecordBytes+1))
	if err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	if err := b.account(int64(len(data)), path); err != nil {
		return err
	}
	b.add(path, data)
	return nil
}

func (b *builder) readZip(ctx context.Context, path string) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	defer zr.Close()
	if len(zr.File) > b.lim.MaxRecords {
		return fmt.Errorf("import %s: %w: %d zip entries, limit %d", path, ErrLimit, len(zr.File), b.lim.MaxRecords)
	}
	var declared uint64
	for _, f := range zr.File {
		declared += f.UncompressedSize64
	}
	if declared > uint64(b.lim.MaxTotalBytes) {
		return fmt.Errorf("import %s: %w: %d bytes uncompressed, limit %d", path, ErrLimit, declared, b.lim.MaxTotalBytes)
	}
	for i, f := range zr.File {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if f.FileInfo().IsDir() || !strings.EqualFold(filepath.Ext(f.Name), ".json") {
			continue
		}
		where := path + ":" + f.Name
		if f.UncompressedSize64 > uint64(b.lim.MaxRecordBytes) {
			b.invalid(where, fmt.Errorf("%w: %d bytes exceeds the limit of %d", ErrRecord, f.UncompressedSize64, b.lim.MaxRecordBytes))
			b.stats.Documents++
			continue
		}
		if f.CompressedSize64 == 0 && f.UncompressedSize64 > 0 ||
			f.CompressedSize64 > 0 && f.UncompressedSize64/f.CompressedSize64 > uint64(b.lim.MaxZipRatio) {
			return fmt.Errorf("import %s: %w: compression ratio of %s above %d", path, ErrLimit, f.Name, b.lim.MaxZipRatio)
		}
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("import %s: %w", where, err)
		}
		// The reader fails if the entry inflates past its declared size.
		data, err := io.ReadAll(io.LimitReader(rc, b.lim.MaxRecordBytes+1))
		rc.Close()
		if err != nil {
			return fmt.Errorf("import %s: %w", where, err)
		}
		if err := b.account(int64(len(data)), where); err != nil {
			return err
		}
		b.add(where, data)
	}
	return nil
}

func (b *builder) invalid(where string, err error) {
	b.stats.Invalid++
	if len(b.stats.Errors) < maxReportedErrors {
		b.stats.Errors = append(b.stats.Errors, where+": "+err.Error())
	}
}

// add decodes one document and files its affected entries by ecosystem.
func (b *builder) add(where string, data []byte) {
	rec, err := DecodeRecord(data, b.lim.MaxRecordBytes)
	if err != nil {
		b.invalid(where, err)
		return
	}
	if rec.IsWithdrawn() {
		b.stats.Withdrawn++
		for eco := range recordEcosystems(rec) {
			b.withdrawn[eco]++
		}
		return
	}
	adv := storedAdvisory{
		ID:         rec.ID,
		Aliases:    rec.Aliases,
		Summary:    rec.Title(),
		Modified:   rec.Modified,
		Severity:   rec.Severity,
		DBSeverity: rec.DatabaseSpecificSeverity,
		References: rec.References,
	}
	var st compileStats
	perEco := map[string]map[string][]storedEntry{}
	for _, a := range rec.Affected {
		eco := a.Package.Ecosystem
		ord, ok := ecosystemOrdering(eco)
		if !ok {
			b.stats.Unsupported[eco]++
			continue
		}
		name := NormalizeName(eco, a.Package.Name)
		if name == "" {
			continue
		}
		c := compile(a, ord, &st)
		entry := storedEntry{}
		for _, r := range a.Ranges {
			if r.Type != RangeEcosystem && r.Type != RangeSemver {
				continue
			}
			if _, ok := compileRange(r, ord); ok {
				entry.Ranges = append(entry.Ranges, storedRange{Semver: r.Type == RangeSemver, Events: stripLimits(r.Events)})
			}
		}
		// Keep only enumerated versions the ranges do not cover: the
		// union is unchanged and the index stays small.
		for _, v := range c.versions {
			q := query{eco: v, raw: v.String()}
			covered := false
			for i := range c.ranges {
				r := &c.ranges[i]
				if w := q.in(r.semver); w != nil && r.contains(w) {
					covered = true
					break
				}
			}
			if !covered {
				entry.Versions = append(entry.Versions, v.String())
			}
		}
		if len(entry.Ranges) == 0 && len(entry.Versions) == 0 {
			continue // matches nothing
		}
		if perEco[eco] == nil {
			perEco[eco] = map[string][]storedEntry{}
		}
		perEco[eco][name] = append(perEco[eco][name], entry)
	}
	b.stats.GitRanges += st.gitRanges
	b.stats.Unusable += st.unusableRanges
	b.stats.Legacy += st.legacyVersions
	for eco, entries := range perEco {
		e := b.ecos[eco]
		if e == nil {
			e = &ecoBuild{advisories: map[string]*pendingAdvisory{}}
			b.ecos[eco] = e
		}
		if old, dup := e.advisories[rec.ID]; dup {
			b.stats.Duplicates++
			if !rec.Modified.After(old.adv.Modified) {
				continue
			}
		}
		e.advisories[rec.ID] = &pendingAdvisory{adv: adv, entries: entries}
	}
}

func recordEcosystems(rec *Record) map[string]bool {
	m := map[string]bool{}
	for _, a := range rec.Affected {
		m[a.Package.Ecosystem] = true
	}
	return m
}

func stripLimits(evs []Event) []Event {
	out := make([]Event, 0, len(evs))
	for _, e := range evs {
		e.Limit = ""
		if e != (Event{}) {
			out = append(out, e)
		}
	}
	return out
}

// write stores the new generation, switches CURRENT to it and prunes
// generations older than the one it replaced. The caller holds the lock.
func (b *builder) write(ctx context.Context, dbDir string, now time.Time) error {
	var prev *manifest
	prevGen := ""
	if g, err := readCurrent(dbDir); err == nil {
		if m, err := readManifest(dbDir, g); err == nil {
			prev, prevGen = m, g
		} else {
			prevGen = g // unreadable or older format: replaced, not carried over
		}
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	genName := genPrefix + strconv.FormatInt(now.UnixNano(), 10) + "-" + hex.EncodeToString(suffix[:])
	gen := filepath.Join(dbDir, genName)
	if err := os.Mkdir(gen, 0o755); err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(gen)
		}
	}()
	m := manifest{Format: FormatVersion, Ecosystems: map[string]ecoManifest{}}
	ecos := slices.Sorted(maps.Keys(b.ecos))
	fileNo := 0
	nextFile := func() string {
		fileNo++
		return "eco-" + strconv.Itoa(fileNo) + ".gob"
	}
	for _, eco := range ecos {
		if err := ctx.Err(); err != nil {
			return err
		}
		ef, em := b.ecoFile(eco)
		em.File = nextFile()
		em.Imported = now
		em.Source = b.source
		err := writeFileSync(filepath.Join(gen, em.File), func(w *bufio.Writer) error {
			return gob.NewEncoder(w).Encode(ef)
		})
		if err != nil {
			return err
		}
		m.Ecosystems[eco] = em
		b.stats.Advisories[eco] = em.Advisories
		b.stats.Packages[eco] = em.Packages
	}
	if prev != nil {
		for _, eco := range slices.Sorted(maps.Keys(prev.Ecosystems)) {
			if _, replaced := m.Ecosystems[eco]; replaced {
				continue
			}
			em := prev.Ecosystems[eco]
			name := nextFile()
			if err := copyFile(filepath.Join(prevGen, em.File), filepath.Join(gen, name)); err != nil {
				return fmt.Errorf("carry over %s: %w", eco, err)
			}
			em.File = name
			m.Ecosystems[eco] = em
			b.stats.Carried = append(b.stats.Carried, eco)
		}
	}
	err := writeFileSync(filepath.Join(gen, manifestFile), func(w *bufio.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	})
	if err != nil {
		return err
	}
	syncDir(gen)
	tmp := filepath.Join(dbDir, currentFile+".tmp")
	os.Remove(tmp)
	if err := writeFileSync(tmp, func(w *bufio.Writer) error {
		_, err := w.WriteString(genName + "\n")
		return err
	}); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dbDir, currentFile)); err != nil {
		os.Remove(tmp)
		return err
	}
	ok = true
	syncDir(dbDir)
	prune(dbDir, genName, filepath.Base(prevGen))
	return nil
}

// prune removes generation directories other than keep (best effort).
func prune(dbDir string, keep ...string) {
	ents, err := os.ReadDir(dbDir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), genPrefix) && !slices.Contains(keep, e.Name()) {
			os.RemoveAll(filepath.Join(dbDir, e.Name()))
		}
	}
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	return writeFileSync(to, func(w *bufio.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}

// ecoFile assembles the stored index of one ecosystem.
func (b *builder) ecoFile(eco string) (*ecoFile, ecoManifest) {
	e := b.ecos[eco]
	ids := slices.Sorted(maps.Keys(e.advisories))
	ef := &ecoFile{Magic: fileMagic, Format: FormatVersion, Ecosystem: eco}
	byName := map[string][]storedEntry{}
	var em ecoManifest
	for i, id := range ids {
		p := e.advisories[id]
		ef.Advisories = append(ef.Advisories, p.adv)
		if p.adv.Modified.After(em.Newest) {
			em.Newest = p.adv.Modified
		}
		for name, entries := range p.entries {
			for _, en := range entries {
				en.Advisory = int32(i)
				byName[name] = append(byName[name], en)
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ef.Packages = append(ef.Packages, storedPackage{Name: n, Entries: byName[n]})
	}
	em.Advisories = len(ids)
	em.Packages = len(names)
	em.Withdrawn = b.withdrawn[eco]
	return ef, em
}
