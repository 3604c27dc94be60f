package osv

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// DB is an opened advisory database. Ecosystem indexes are loaded on first
// use; a DB is safe for concurrent use.
type DB struct {
	dir string
	gen string
	man *manifest

	mu    sync.Mutex
	ecos  map[string]*ecoSlot
	stats Status
}

type ecoSlot struct {
	once sync.Once
	idx  *ecoIndex
	err  error
}

// ecoIndex is one ecosystem ready for matching.
type ecoIndex struct {
	ord        ordering
	advisories []advisory
	byName     map[string][]entry
}

type advisory struct {
	storedAdvisory
	level   string
	score   float64
	aliases []string // sorted, deduplicated, without the ID
	group   int32    // advisories sharing an ID or alias (transitively) share a group
}

type entry struct {
	adv int32
	compiled
	fixed    []version // all fixed events, ascending
	fixedStr []string
}

// Status describes a database.
type Status struct {
	Dir        string
	Format     int
	Ecosystems []EcosystemStatus // sorted by name
	Newest     time.Time         // newest advisory modification: the snapshot time
	Imported   time.Time         // most recent import
}

// EcosystemStatus describes one ecosystem of a database.
type EcosystemStatus struct {
	Name       string
	Advisories int
	Packages   int
	Withdrawn  int       // withdrawn advisories skipped at import
	Newest     time.Time // newest advisory modification
	Imported   time.Time
	Source     string // what it was imported from
}

// OlderThan reports whether the newest advisory is older than maxAge at
// now (or the database holds no dated advisory): the data is stale.
func (s Status) OlderThan(now time.Time, maxAge time.Duration) bool {
	return s.Newest.IsZero() || now.Sub(s.Newest) > maxAge
}

// Open opens the database in dir. It reads only the manifest; the error
// wraps ErrNoDatabase, ErrIncompatible or ErrCorrupt and says how to
// re-import.
func Open(dir string) (*DB, error) {
	gen, err := readCurrent(dir)
	if err != nil {
		return nil, err
	}
	m, err := readManifest(dir, gen)
	if err != nil {
		return nil, err
	}
	db := &DB{dir: dir, gen: gen, man: m, ecos: map[string]*ecoSlot{}}
	db.stats = Status{Dir: dir, Format: m.Format}
	for _, eco := range slices.Sorted(maps.Keys(m.Ecosystems)) {
		em := m.Ecosystems[eco]
		db.stats.Ecosystems = append(db.stats.Ecosystems, EcosystemStatus{
			Name: eco, Advisories: em.Advisories, Packages: em.Packages, Withdrawn: em.Withdrawn,
			Newest: em.Newest, Imported: em.Imported, Source: em.Source,
		})
		if em.Newest.After(db.stats.Newest) {
			db.stats.Newest = em.Newest
		}
		if em.Imported.After(db.stats.Imported) {
			db.stats.Imported = em.Imported
		}
	}
	return db, nil
}

// Status describes the database.
func (db *DB) Status() Status {
	s := db.stats
	s.Ecosystems = slices.Clone(s.Ecosystems)
	return s
}

// index returns the loaded index of a canonical ecosystem name.
func (db *DB) index(eco string) (*ecoIndex, error) {
	em, ok := db.man.Ecosystems[eco]
	if !ok {
		have := slices.Sorted(maps.Keys(db.man.Ecosystems))
		return nil, fmt.Errorf("%w: the OSV database at %s has no %s advisories (it has %s): run 'palisade db import %s/all.zip'",
			ErrNoEcosystem, db.dir, eco, strings.Join(have, ", "), eco)
	}
	db.mu.Lock()
	slot := db.ecos[eco]
	if slot == nil {
		slot = &ecoSlot{}
		db.ecos[eco] = slot
	}
	db.mu.Unlock()
	slot.once.Do(func() {
		slot.idx, slot.err = db.load(eco, em)
	})
	return slot.idx, slot.err
}

func (db *DB) load(eco string, em ecoManifest) (*ecoIndex, error) {
	ef, err := readEcoFile(filepath.Join(db.gen, em.File))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s: %s index is gone (the database was re-imported twice while in use): open it again", ErrCorrupt, db.dir, eco)
	}
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %v: %s", ErrCorrupt, db.dir, err, importHint)
	}
	if ef.Ecosystem != eco {
		return nil, fmt.Errorf("%w at %s: %s holds %q, want %q: %s", ErrCorrupt, db.dir, em.File, ef.Ecosystem, eco, importHint)
	}
	ord, ok := ecosystemOrdering(eco)
	if !ok {
		return nil, fmt.Errorf("%w at %s: %s has no version ordering: %s", ErrCorrupt, db.dir, eco, importHint)
	}
	idx := &ecoIndex{ord: ord, byName: make(map[string][]entry, len(ef.Packages))}
	idx.advisories = make([]advisory, len(ef.Advisories))
	for i, a := range ef.Advisories {
		level, score := deriveLevel(a.Severity, a.DBSeverity)
		aliases := slices.DeleteFunc(slices.Clone(a.Aliases), func(s string) bool { return s == a.ID })
		slices.Sort(aliases)
		idx.advisories[i] = advisory{storedAdvisory: a, level: level, score: score, aliases: slices.Compact(aliases)}
	}
	groupAdvisories(idx.advisories)
	var st compileStats
	for _, p := range ef.Packages {
		es := make([]entry, 0, len(p.Entries))
		for _, se := range p.Entries {
			if se.Advisory < 0 || int(se.Advisory) >= len(idx.advisories) {
				return nil, fmt.Errorf("%w at %s: %s: advisory index out of range: %s", ErrCorrupt, db.dir, em.File, importHint)
			}
			a := Affected{Versions: se.Versions}
			for _, r := range se.Ranges {
				typ := RangeEcosystem
				if r.Semver {
					typ = RangeSemver
				}
				a.Ranges = append(a.Ranges, Range{Type: typ, Events: r.Events})
			}
			en := entry{adv: se.Advisory, compiled: compile(a, ord, &st)}
			en.fixed = en.allFixes()
			for _, f := range en.fixed {
				en.fixedStr = append(en.fixedStr, f.String())
			}
			es = append(es, en)
		}
		idx.byName[p.Name] = es
	}
	return idx, nil
}

// Vuln is one vulnerability affecting a queried package version: the
// matching advisories that share an ID or alias, merged.
type Vuln struct {
	ID         string   // the representative advisory ID (see Query)
	Aliases    []string // the other advisory IDs and all aliases, sorted
	Summary    string
	Modified   time.Time // newest modification among the merged advisories
	Severity   []Severity
	Level      string  // derived: none, low, medium, high, critical; "" when unknown
	Score      float64 // highest CVSS v3 base score; 0 when none
	FixedIn    string  // the smallest fixed version above the queried one; "" when none is known
	Fixed      []string
	References []Reference
}

// PackageVersion identifies a package version to query.
type PackageVersion struct {
	Ecosystem string
	Name      string
	Version   string
}

// Result is the answer for one package of QueryMany.
type Result struct {
	Vulns []Vuln
	Err   error // per-package error (invalid version, missing ecosystem)
}

// Query returns the vulnerabilities affecting version of the named
// package, sorted by ID. Ecosystems are matched case-insensitively
// ("pypi"), names after NormalizeName. Advisories that share an ID or
// alias become one Vuln whose ID prefers the ecosystem's own database
// (PYSEC- for PyPI, GO- for Go), then GHSA-, then the smallest ID. Errors
// wrap ErrUnsupportedEcosystem, ErrNoEcosystem, ErrInvalidVersion (a
// *VersionError) or ErrCorrupt.
func (db *DB) Query(ecosystem, name, version string) ([]Vuln, error) {
	eco, err := CanonicalEcosystem(ecosystem)
	if err != nil {
		return nil, err
	}
	idx, err := db.index(eco)
	if err != nil {
		return nil, err
	}
	return idx.query(eco, name, version)
}

// QueryMany answers Query for each package; per-package problems are
// reported in Result.Err. The error is non-nil only when ctx ends.
func (db *DB) QueryMany(ctx context.Context, pkgs []PackageVersion) ([]Result, error) {
	out := make([]Result, len(pkgs))
	for i, p := range pkgs {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		out[i].Vulns, out[i].Err = db.Query(p.Ecosystem, p.Name, p.Version)
	}
	return out, nil
}

func (idx *ecoIndex) query(eco, name, ver string) ([]Vuln, error) {
	entries := idx.byName[NormalizeName(eco, name)]
	if len(entries) == 0 {
		return nil, nil
	}
	pv, err := idx.ord(ver)
	if err != nil {
		return nil, &VersionError{Ecosystem: eco, Name: name, Version: ver, Err: err}
	}
	q := query{eco: pv, raw: ver}
	var hits []hit
	for i := range entries {
		e := &entries[i]
		if e.affects(&q) {
			hits = append(hits, hit{adv: &idx.advisories[e.adv], e: e, next: e.nextFix(&q)})
		}
	}
	return merge(eco, hits), nil
}

type hit struct {
	adv  *advisory
	e    *entry
	next version
}

// groupAdvisories assigns alias groups: union-find over advisories joined
// by any shared identifier.
func groupAdvisories(advs []advisory) {
	parent := make([]int32, len(advs))
	for i := range parent {
		parent[i] = int32(i)
	}
	find := func(i int32) int32 {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := make(map[string]int32, 2*len(advs))
	for i := range advs {
		for _, id := range append([]string{advs[i].ID}, advs[i].aliases...) {
			if j, ok := owner[id]; ok {
				parent[find(int32(i))] = find(j)
			} else {
				owner[id] = int32(i)
			}
		}
	}
	for i := range advs {
		advs[i].group = find(int32(i))
	}
}

// merge turns hits into Vulns, one per alias group, sorted by ID.
func merge(eco string, hits []hit) []Vuln {
	if len(hits) == 0 {
		return nil
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return int(a.adv.group) - int(b.adv.group) })
	out := make([]Vuln, 0, len(hits))
	for start := 0; start < len(hits); {
		end := start + 1
		for end < len(hits) && hits[end].adv.group == hits[start].adv.group {
			end++
		}
		if end-start == 1 {
			out = append(out, single(hits[start]))
		} else {
			out = append(out, mergeGroup(eco, hits[start:end]))
		}
		start = end
	}
	slices.SortFunc(out, func(a, b Vuln) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// single builds the Vuln of one advisory; slices are copied so that
// callers cannot change the index.
func single(h hit) Vuln {
	a := h.adv
	v := Vuln{
		ID:         a.ID,
		Aliases:    slices.Clone(a.aliases),
		Summary:    a.Summary,
		Modified:   a.Modified,
		Severity:   slices.Clone(a.Severity),
		Level:      a.level,
		Score:      a.score,
		Fixed:      slices.Clone(h.e.fixedStr),
		References: slices.Clone(a.References),
	}
	if h.next != nil {
		v.FixedIn = h.next.String()
	}
	return v
}

// idRank orders candidate representative IDs: the ecosystem's own
// database first, then GitHub's, then the rest.
func idRank(eco, id string) int {
	native := map[string]string{PyPI: "PYSEC-", Go: "GO-"}[eco]
	switch {
	case native != "" && strings.HasPrefix(id, native):
		return 0
	case strings.HasPrefix(id, "GHSA-"):
		return 1
	}
	return 2
}

func mergeGroup(eco string, g []hit) Vuln {
	g = slices.Clone(g)
	slices.SortFunc(g, func(a, b hit) int {
		if ra, rb := idRank(eco, a.adv.ID), idRank(eco, b.adv.ID); ra != rb {
			return ra - rb
		}
		return strings.Compare(a.adv.ID, b.adv.ID)
	})
	lead := g[0].adv
	v := Vuln{ID: lead.ID, Summary: lead.Summary}
	ids := map[string]bool{}
	sevSeen := map[Severity]bool{}
	refSeen := map[Reference]bool{}
	var fixed []version
	var next version
	for _, h := range g {
		a := h.adv
		ids[a.ID] = true
		for _, al := range a.aliases {
			ids[al] = true
		}
		if v.Summary == "" {
			v.Summary = a.Summary
		}
		if a.Modified.After(v.Modified) {
			v.Modified = a.Modified
		}
		for _, s := range a.Severity {
			if !sevSeen[s] {
				sevSeen[s] = true
				v.Severity = append(v.Severity, s)
			}
		}
		if levelRank[a.level] > levelRank[v.Level] {
			v.Level = a.level
		}
		if a.score > v.Score {
			v.Score = a.score
		}
		for _, r := range a.References {
			if !refSeen[r] {
				refSeen[r] = true
				v.References = append(v.References, r)
			}
		}
		fixed = append(fixed, h.e.fixed...)
		// Every merged advisory must be fixed: suggest the highest of
		// their next fixes.
		if h.next != nil && (next == nil || h.next.cmp(next) > 0) {
			next = h.next
		}
	}
	delete(ids, v.ID)
	v.Aliases = slices.Sorted(maps.Keys(ids))
	slices.SortFunc(fixed, func(a, b version) int { return a.cmp(b) })
	fixed = slices.CompactFunc(fixed, func(a, b version) bool { return a.cmp(b) == 0 })
	for _, f := range fixed {
		v.Fixed = append(v.Fixed, f.String())
	}
	if next != nil {
		v.FixedIn = next.String()
	}
	return v
}
