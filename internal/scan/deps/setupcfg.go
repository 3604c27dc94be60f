package deps

import (
	"strings"
)

// cfgRequirement is a requirement listed in setup.cfg, with its line.
type cfgRequirement struct {
	Line    int
	Pointer string // "options.install_requires"
	Req     requirement
}

// requirementKeys are the setup.cfg keys of [options] that hold
// requirement lists; every key of [options.extras_require] does too.
var requirementKeys = map[string]bool{"install_requires": true, "setup_requires": true, "tests_require": true}

// parseSetupCfg reads the requirement lists of a setuptools setup.cfg
// (INI): [options] install_requires, setup_requires, tests_require and
// every key of [options.extras_require]. Values are a value on the key's
// line and indented continuation lines, one requirement per line.
func parseSetupCfg(data []byte) []cfgRequirement {
	var out []cfgRequirement
	section, key := "", ""
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimRight(raw, "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, ";") {
			continue
		}
		indented := line[0] == ' ' || line[0] == '\t'
		if !indented {
			key = ""
			if strings.HasPrefix(trimmed, "[") && strings.HasSuffix(trimmed, "]") {
				section = strings.ToLower(strings.TrimSpace(trimmed[1 : len(trimmed)-1]))
				continue
			}
			k, v, ok := cutAssign(trimmed)
			if !ok {
				continue
			}
			k = strings.ToLower(k)
			if (section == "options" && requirementKeys[k]) || section == "options.extras_require" {
				key = k
				if v != "" {
					out = appendCfgRequirement(out, i+1, section+"."+key, v)
				}
			}
			continue
		}
		if key != "" {
			out = appendCfgRequirement(out, i+1, section+"."+key, trimmed)
		}
	}
	return out
}

// cutAssign splits an INI "key = value" or "key: value" line.
func cutAssign(s string) (key, val string, ok bool) {
	i := strings.IndexAny(s, "=:")
	if i <= 0 {
		return "", "", false
	}
	return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1:]), true
}

func appendCfgRequirement(out []cfgRequirement, line int, ptr, v string) []cfgRequirement {
	v = strings.TrimSpace(stripComment(v))
	if v == "" || strings.HasPrefix(v, "file:") || strings.HasPrefix(v, "attr:") {
		return out
	}
	r := parseRequirement(v)
	if r.Name == "" && r.URL == "" {
		return out
	}
	return append(out, cfgRequirement{Line: line, Pointer: ptr, Req: r})
}
