package deps

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// lockSources returns what a lockfile says about where packages come
// from: packages locked from git repositories or URLs (as requirement
// entries with a direct reference, for DEP004) and package indexes other
// than PyPI (as pip options, for DEP005). osv-scalibr reports locked
// names and versions but not their sources. Errors are ignored: the
// extractor reports a file it cannot read.
func lockSources(kind Kind, data []byte) ([]reqEntry, []optEntry) {
	switch kind {
	case KindPoetryLock:
		return poetryLockSources(data), nil
	case KindUVLock:
		return uvLockSources(data), nil
	case KindPipfileLock:
		return pipfileLockSources(data)
	}
	return nil, nil
}

func poetryLockSources(data []byte) []reqEntry {
	var doc struct {
		Package []struct {
			Name   string `toml:"name"`
			Source struct {
				Type              string `toml:"type"`
				URL               string `toml:"url"`
				ResolvedReference string `toml:"resolved_reference"`
			} `toml:"source"`
		} `toml:"package"`
	}
	if _, err := toml.Decode(string(data), &doc); err != nil {
		return nil
	}
	lines := strings.Split(string(data), "\n")
	var out []reqEntry
	for i, p := range doc.Package {
		u := p.Source.URL
		switch p.Source.Type {
		case "git":
			u = "git+" + strings.TrimPrefix(u, "git+")
			if p.Source.ResolvedReference != "" {
				u += "@" + p.Source.ResolvedReference
			}
		case "url":
		default: // legacy (an index), directory, file (local paths): not direct URLs
			continue
		}
		out = append(out, sourceEntry(p.Name, u, tomlNameLine(lines, p.Name), fmt.Sprintf("package[%d].source", i)))
	}
	return out
}

func uvLockSources(data []byte) []reqEntry {
	var doc struct {
		Package []struct {
			Name   string `toml:"name"`
			Source struct {
				Git string `toml:"git"`
				URL string `toml:"url"`
			} `toml:"source"`
		} `toml:"package"`
	}
	if _, err := toml.Decode(string(data), &doc); err != nil {
		return nil
	}
	lines := strings.Split(string(data), "\n")
	var out []reqEntry
	for i, p := range doc.Package {
		u := p.Source.URL
		if p.Source.Git != "" {
			u = "git+" + strings.TrimPrefix(p.Source.Git, "git+")
		}
		if u == "" {
			continue // registry, editable, virtual or path sources
		}
		out = append(out, sourceEntry(p.Name, u, tomlNameLine(lines, p.Name), fmt.Sprintf("package[%d].source", i)))
	}
	return out
}

func pipfileLockSources(data []byte) ([]reqEntry, []optEntry) {
	var doc struct {
		Meta struct {
			Sources []struct {
				Name      string `json:"name"`
				URL       string `json:"url"`
				VerifySSL *bool  `json:"verify_ssl"`
			} `json:"sources"`
		} `json:"_meta"`
		Default map[string]map[string]any `json:"default"`
		Develop map[string]map[string]any `json:"develop"`
	}
	if json.Unmarshal(data, &doc) != nil {
		return nil, nil
	}
	lines := strings.Split(string(data), "\n")
	var reqs []reqEntry
	for _, group := range []struct {
		name string
		pkgs map[string]map[string]any
	}{{"default", doc.Default}, {"develop", doc.Develop}} {
		names := make([]string, 0, len(group.pkgs))
		for n := range group.pkgs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			e := group.pkgs[n]
			u, _ := e["git"].(string)
			if u != "" {
				u = "git+" + strings.TrimPrefix(u, "git+")
				if ref, _ := e["ref"].(string); ref != "" {
					u += "@" + ref
				}
			} else if f, _ := e["file"].(string); strings.Contains(f, "://") {
				u = f
			}
			if u == "" {
				continue
			}
			reqs = append(reqs, sourceEntry(n, u, jsonKeyLine(lines, n), group.name+"."+n))
		}
	}
	// Pipenv searches every source for every package, as pip's
	// --extra-index-url does; a single non-PyPI source replaces PyPI, as
	// --index-url does.
	var opts []optEntry
	sources := doc.Meta.Sources
	for i, s := range sources {
		ptr := fmt.Sprintf("_meta.sources[%d]", i)
		line := jsonKeyLine(lines, "url", s.URL)
		if s.VerifySSL != nil && !*s.VerifySSL {
			opts = append(opts, optEntry{Line: line, Pointer: ptr, Option: "--trusted-host", Value: hostOf(s.URL)})
		}
		if isPyPIIndex(s.URL) {
			continue
		}
		option := "--index-url"
		if len(sources) > 1 {
			option = "--extra-index-url"
		}
		opts = append(opts, optEntry{Line: line, Pointer: ptr, Option: option, Value: s.URL})
	}
	return reqs, opts
}

// sourceEntry is a locked package from a direct reference; a nameless
// entry (a malformed lockfile) is shown as "(unnamed)".
func sourceEntry(name, url string, line int, ptr string) reqEntry {
	if name == "" {
		name = "(unnamed)"
	}
	raw := name + " @ " + url
	return reqEntry{Line: line, Pointer: ptr, Req: requirement{Raw: raw, Name: name, URL: url}}
}

// tomlNameLine finds the line of `name = "NAME"`; 0 when not found.
func tomlNameLine(lines []string, name string) int {
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if t == `name = "`+name+`"` || t == `name = '`+name+`'` {
			return i + 1
		}
	}
	return 0
}

// jsonKeyLine finds the line holding "KEY": (and VALUE when given).
func jsonKeyLine(lines []string, key string, value ...string) int {
	for i, l := range lines {
		if strings.Contains(l, `"`+key+`":`) && (len(value) == 0 || strings.Contains(l, value[0])) {
			return i + 1
		}
	}
	return 0
}

// hostOf returns the host of a URL, or the text itself.
func hostOf(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		s = s[i+1:]
	}
	return s
}
