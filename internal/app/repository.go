package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	scalibrlog "github.com/google/osv-scalibr/log"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/osv"
	"github.com/palisade-sec/palisade/internal/scan"
	"github.com/palisade-sec/palisade/internal/scan/container"
	"github.com/palisade-sec/palisade/internal/scan/deps"
	"github.com/palisade-sec/palisade/internal/scan/secrets"
)

// osv-scalibr logs through a package-level logger that writes to stderr;
// the dependency scanner reports what matters as findings.
var quietScalibr sync.Once

// repositoryScanners builds the scanners for repository files: secrets in
// text files and notebooks, dependency manifests and lockfiles (matched
// against the OSV database when there is one), Dockerfiles and Kubernetes
// manifests. It returns warnings about
// the advisory database for the user.
func repositoryScanners(ctx context.Context, repo config.Repository, now time.Time) (map[scan.Format]scan.Scanner, []string, error) {
	quietScalibr.Do(func() { scalibrlog.SetLogger(silentLogger{}) })
	var warnings []string
	adv, warning, err := openAdvisories(repo, now)
	if err != nil {
		return nil, nil, err
	}
	if warning != "" {
		warnings = append(warnings, warning)
	}
	var advisories deps.Advisories
	if adv != nil {
		advisories = adv
	}
	dep, err := deps.New(deps.Options{Advisories: advisories})
	if err != nil {
		return nil, nil, fmt.Errorf("dependency scanner: %w", err)
	}
	ctr, err := container.New(ctx, container.Options{PolicyDirs: repo.PolicyDirs})
	if err != nil {
		return nil, nil, err
	}
	sec, err := secrets.New(secrets.Options{GitleaksConfig: repo.GitleaksConfig})
	if err != nil {
		return nil, nil, err
	}
	return map[scan.Format]scan.Scanner{
		scan.FormatDependencies: dep,
		scan.FormatDockerfile:   ctr,
		scan.FormatKubernetes:   ctr,
		scan.FormatText:         sec,
		scan.FormatNotebook:     sec,
	}, warnings, nil
}

// openAdvisories opens the OSV database. A missing database is not an
// error (dependency hygiene still runs); it and a stale one are warnings.
func openAdvisories(repo config.Repository, now time.Time) (*advisories, string, error) {
	dir := repo.AdvisoryDB
	if dir == "" {
		dir = config.DefaultAdvisoryDB()
	}
	db, err := osv.Open(dir)
	if errors.Is(err, osv.ErrNoDatabase) {
		return nil, fmt.Sprintf("no OSV database at %s: dependencies are checked for hygiene only, not for known vulnerabilities; run 'palisade db import FILE|DIR' with an osv.dev export", dir), nil
	}
	if err != nil {
		return nil, "", err
	}
	maxAge := repo.AdvisoryMaxAge
	if maxAge <= 0 {
		maxAge = config.DefaultAdvisoryMaxAge
	}
	var warning string
	if st := db.Status(); st.OlderThan(now, maxAge) {
		warning = fmt.Sprintf("the OSV database at %s is %d days old (newest advisory %s): run 'palisade db import' with a fresh export",
			dir, int(now.Sub(st.Newest).Hours()/24), st.Newest.Format(time.DateOnly))
	}
	return &advisories{db: db, warn: repo.Warn}, warning, nil
}

// advisories adapts the OSV database to the dependency scanner.
type advisories struct {
	db   *osv.DB
	warn func(string)
	once sync.Map // warning text -> struct{}: each warning once
}

var _ deps.Advisories = (*advisories)(nil)

// Query implements deps.Advisories. An ecosystem the database lacks and a
// version its ecosystem cannot order are warnings, not errors: the rest of
// the scan goes on, and the user is told what was not checked.
func (a *advisories) Query(_ context.Context, ecosystem, name, version string) ([]deps.Advisory, error) {
	vulns, err := a.db.Query(ecosystem, name, version)
	switch {
	case errors.Is(err, osv.ErrNoEcosystem), errors.Is(err, osv.ErrUnsupportedEcosystem):
		a.warnOnce(fmt.Sprintf("%v: %s dependencies were not checked for known vulnerabilities", err, ecosystem))
		return nil, nil
	case errors.Is(err, osv.ErrInvalidVersion):
		a.warnOnce(fmt.Sprintf("%s %s %s cannot be matched against advisories: %v", ecosystem, name, version, err))
		return nil, nil
	case err != nil:
		return nil, err
	}
	out := make([]deps.Advisory, 0, len(vulns))
	for _, v := range vulns {
		adv := deps.Advisory{ID: v.ID, Aliases: v.Aliases, Summary: v.Summary, Severity: severityOf(v.Level), URL: "https://osv.dev/vulnerability/" + v.ID}
		if v.FixedIn != "" {
			adv.Fixed = []string{v.FixedIn}
		}
		out = append(out, adv)
	}
	return out, nil
}

func (a *advisories) warnOnce(msg string) {
	if a.warn == nil {
		return
	}
	if _, seen := a.once.LoadOrStore(msg, struct{}{}); !seen {
		a.warn(msg)
	}
}

// severityOf maps an advisory's CVSS-derived level to a finding severity;
// SeverityNone keeps the rule's default (high).
func severityOf(level string) scan.Severity {
	switch level {
	case osv.LevelCritical:
		return scan.SeverityCritical
	case osv.LevelHigh:
		return scan.SeverityHigh
	case osv.LevelMedium:
		return scan.SeverityMedium
	case osv.LevelLow, osv.LevelNone:
		return scan.SeverityLow
	}
	return scan.SeverityNone
}

// silentLogger drops osv-scalibr's log lines.
type silentLogger struct{}

func (silentLogger) Errorf(string, ...any) {}
func (silentLogger) Error(...any)          {}
func (silentLogger) Warnf(string, ...any)  {}
func (silentLogger) Warn(...any)           {}
func (silentLogger) Infof(string, ...any)  {}
func (silentLogger) Info(...any)           {}
func (silentLogger) Debugf(string, ...any) {}
func (silentLogger) Debug(...any)          {}
