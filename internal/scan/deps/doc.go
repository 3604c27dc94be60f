// Package deps scans dependency manifests, lockfiles and installed-package
// metadata of ML projects: it extracts the packages they name, matches
// exact versions against a local advisory database, and reports
// dependency hygiene problems that need no database (unpinned
// requirements, missing hashes, URL and VCS sources, non-PyPI indexes,
// likely typosquats).
//
// Extraction uses osv-scalibr's individual filesystem extractors, run
// directly on the object's bytes: pip requirements (with -r includes and
// --hash values), pyproject.toml (PEP 621 lists), poetry.lock,
// Pipfile.lock, pdm.lock, uv.lock, pylock.toml, wheel/egg METADATA and
// PKG-INFO, go.mod and package-lock.json. Conda environment.yml and
// setup.cfg, which osv-scalibr does not read, have small readers of this
// package's own; the hygiene rules read requirements lines with a lexer
// of their own too, because the extractor drops what they judge (URLs,
// index options, ranges).
//
// Invariants and threat assumptions: manifests are hostile input. Files
// are bounded in size (Options.MaxFileBytes) before they are read; TOML
// and JSON handed to third-party parsers are first checked for bracket
// nesting (recursion in a parser cannot be recovered from), and a panic
// inside an extractor becomes a DEP008 finding. A -r include is followed
// only for a file on disk, only to regular files of bounded size and
// number inside the parent of the including file's directory; inside an
// archive no include is followed and the scanner says so (DEP007).
// Nothing is executed, downloaded or resolved: versions are matched only
// where the file pins one exactly, so a range is reported as unpinned
// rather than matched against "all versions". Credentials in index and
// package URLs are masked in every message and evidence.
//
// Vulnerability data comes through the Advisories interface declared
// here; the composition root plugs in the local OSV database.
package deps
