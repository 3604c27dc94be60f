package deps

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// poetryExact matches a Poetry constraint that names one version: Poetry
// reads a bare version ("2.1.0") as that exact version.
var poetryExact = regexp.MustCompile(`^=?=?\s*v?[0-9][0-9A-Za-z.+!-]*$`)

// poetryEntries reads the Poetry dependency tables of a pyproject.toml
// ([tool.poetry.dependencies], [tool.poetry.dev-dependencies] and
// [tool.poetry.group.NAME.dependencies]), which osv-scalibr's PEP 621
// extractor does not read, as requirement entries: an exact version
// becomes "name==V", any other constraint an unpinned requirement, a git
// or URL source a direct reference. Path dependencies (the project's own
// packages) and python itself are skipped.
func poetryEntries(data []byte) ([]reqEntry, error) {
	var doc struct {
		Tool struct {
			Poetry struct {
				Dependencies    map[string]any `toml:"dependencies"`
				DevDependencies map[string]any `toml:"dev-dependencies"`
				Group           map[string]struct {
					Dependencies map[string]any `toml:"dependencies"`
				} `toml:"group"`
			} `toml:"poetry"`
		} `toml:"tool"`
	}
	if _, err := toml.Decode(string(data), &doc); err != nil {
		return nil, fmt.Errorf("read pyproject.toml: %w", err)
	}
	p := doc.Tool.Poetry
	lines := strings.Split(string(data), "\n")
	var out []reqEntry
	add := func(section, pointer string, deps map[string]any) {
		names := make([]string, 0, len(deps))
		for n := range deps {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			if strings.EqualFold(name, "python") {
				continue
			}
			raw, ok := poetryRequirement(name, deps[name])
			if !ok {
				continue
			}
			out = append(out, reqEntry{Line: poetryLine(lines, section, name), Pointer: pointer + "." + name, Req: parseRequirement(raw)})
		}
	}
	add("[tool.poetry.dependencies]", "tool.poetry.dependencies", p.Dependencies)
	add("[tool.poetry.dev-dependencies]", "tool.poetry.dev-dependencies", p.DevDependencies)
	groups := make([]string, 0, len(p.Group))
	for g := range p.Group {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	for _, g := range groups {
		add("[tool.poetry.group."+g+".dependencies]", "tool.poetry.group."+g+".dependencies", p.Group[g].Dependencies)
	}
	return out, nil
}

// poetryRequirement renders one Poetry dependency as a PEP 508 string.
func poetryRequirement(name string, v any) (string, bool) {
	constraint := func(c string) string {
		c = strings.TrimSpace(c)
		if poetryExact.MatchString(c) {
			return name + "==" + strings.TrimLeft(c, "= ")
		}
		return name // a range (^, ~, >=, *): not pinned
	}
	switch t := v.(type) {
	case string:
		return constraint(t), true
	case map[string]any:
		if _, ok := t["path"]; ok {
			return "", false
		}
		for _, key := range []string{"git", "url"} {
			if u, ok := t[key].(string); ok && u != "" {
				if key == "git" && !strings.HasPrefix(u, "git+") {
					u = "git+" + u
				}
				return name + " @ " + u, true
			}
		}
		if c, ok := t["version"].(string); ok {
			return constraint(c), true
		}
		return name, true
	case []any: // multiple constraints by marker: judged by the loosest
		return name, len(t) > 0
	}
	return "", false
}

// poetryLine finds the line of "name =" in section (a table header), or
// of an inline "[section.name]" table; 0 when not found.
func poetryLine(lines []string, section, name string) int {
	in := false
	sub := strings.TrimSuffix(section, "]") + "." + name + "]"
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "[") {
			if t == sub {
				return i + 1
			}
			in = t == section
			continue
		}
		if in {
			key, _, ok := strings.Cut(t, "=")
			if ok && strings.Trim(strings.TrimSpace(key), `"'`) == name {
				return i + 1
			}
		}
	}
	return 0
}
