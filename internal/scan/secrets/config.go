package secrets

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"

	"github.com/palisade-sec/palisade/internal/boundedfile"
)

// maxConfigBytes bounds a gitleaks configuration file.
const maxConfigBytes = 4 << 20

// maxExtendDepth is how many [extend] hops are followed, as in gitleaks.
const maxExtendDepth = 2

// ErrConfig reports a gitleaks configuration file that cannot be used.
var ErrConfig = errors.New("invalid gitleaks configuration")

// ruleSet is the effective gitleaks configuration: its rules in order,
// and its global allowlists split by origin. Allowlists from gitleaks'
// default configuration apply to gitleaks rules only; allowlists a user
// wrote apply to every rule, Palisade's included.
type ruleSet struct {
	rules       []config.Rule
	defaultIDs  map[string]bool // rule IDs of gitleaks' default configuration
	defaultAllw []*config.Allowlist
	userAllow   []*config.Allowlist
	// genericRegex is the expression of the default generic-api-key rule,
	// for which the matcher has a sound prefilter.
	genericRegex string
}

// loadedConfig is one configuration file, translated without following
// its [extend] section.
type loadedConfig struct {
	cfg      config.Config
	extend   config.Extend
	targeted map[string][]*config.Allowlist // [[allowlists]] with targetRules, by rule ID
}

// loadRuleSet returns gitleaks' default rules, or those of the user's
// configuration at path, extended as its [extend] section says.
func loadRuleSet(path string) (*ruleSet, error) {
	def, err := parseConfig([]byte(config.DefaultConfig), "gitleaks default configuration")
	if err != nil {
		return nil, err
	}
	rs := &ruleSet{defaultIDs: map[string]bool{}}
	for id, r := range def.cfg.Rules {
		rs.defaultIDs[id] = true
		if id == "generic-api-key" && r.Regex != nil {
			rs.genericRegex = r.Regex.String()
		}
	}
	if path == "" {
		rs.rules = def.cfg.GetOrderedRules()
		rs.defaultAllw = def.cfg.Allowlists
		return rs, nil
	}
	cfg, defAllow, err := loadUserConfig(path, 0, def)
	if err != nil {
		return nil, err
	}
	rs.rules = cfg.GetOrderedRules()
	rs.defaultAllw = defAllow
	rs.userAllow = cfg.Allowlists
	return rs, nil
}

// loadUserConfig reads the configuration at path and applies its
// [extend] section: useDefault merges gitleaks' defaults (def), path
// merges another file, recursively up to maxExtendDepth. It returns the
// merged configuration, whose Allowlists are the user's, and the default
// configuration's global allowlists when the defaults were merged.
func loadUserConfig(path string, depth int, def *loadedConfig) (config.Config, []*config.Allowlist, error) {
	data, err := boundedfile.Read(path, maxConfigBytes)
	if errors.Is(err, boundedfile.ErrTooLarge) {
		err = fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err != nil {
		return config.Config{}, nil, fmt.Errorf("read gitleaks configuration: %w", err)
	}
	lc, err := parseConfig(data, path)
	if err != nil {
		return config.Config{}, nil, err
	}
	cfg := lc.cfg
	var defAllow []*config.Allowlist
	if depth < maxExtendDepth {
		switch {
		case lc.extend.UseDefault && lc.extend.Path != "":
			return config.Config{}, nil, fmt.Errorf("%w: %s sets both extend.useDefault and extend.path", ErrConfig, path)
		case lc.extend.UseDefault:
			mergeConfig(&cfg, def.cfg, lc.extend.DisabledRules, false)
			defAllow = def.cfg.Allowlists
		case lc.extend.Path != "":
			base, baseDefAllow, err := loadUserConfig(lc.extend.Path, depth+1, def)
			if err != nil {
				return config.Config{}, nil, fmt.Errorf("extend %s: %w", path, err)
			}
			mergeConfig(&cfg, base, lc.extend.DisabledRules, true)
			defAllow = baseDefAllow
		}
	}
	for id, as := range lc.targeted {
		r, ok := cfg.Rules[id]
		if !ok {
			return config.Config{}, nil, fmt.Errorf("%w: %s: [[allowlists]] target rule %q does not exist", ErrConfig, path, id)
		}
		r.Allowlists = append(r.Allowlists, as...)
		cfg.Rules[id] = r
	}
	return cfg, defAllow, nil
}

// parseConfig decodes one gitleaks TOML file with gitleaks' own types and
// translates it into rules, leaving [extend] to the caller: gitleaks'
// Translate follows it through package-level state that is never reset,
// which breaks the second load in a long-running process. Allowlists that
// target rules are translated apart and returned by rule ID, to be
// attached once the extended rules are known.
func parseConfig(data []byte, name string) (lc *loadedConfig, err error) {
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, name, err)
	}
	var vc config.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, name, err)
	}
	// gitleaks compiles user regexes with MustCompile: a bad pattern
	// panics inside Translate. Turn that into an error.
	defer func() {
		if p := recover(); p != nil {
			lc, err = nil, fmt.Errorf("%w: %s: %v", ErrConfig, name, p)
		}
	}()
	lc = &loadedConfig{extend: vc.Extend, targeted: map[string][]*config.Allowlist{}}
	vc.Extend = config.Extend{}
	// The deprecated single [allowlist] table (gitleaks' own default
	// configuration still uses it) is moved to [[allowlists]] so that its
	// targetRules are handled like the others.
	//lint:ignore SA1019 still written by gitleaks' defaults and older user files
	if legacy := vc.AllowList; legacy != nil {
		if len(vc.Allowlists) > 0 {
			return nil, fmt.Errorf("%w: %s: [allowlist] cannot be used alongside [[allowlists]]", ErrConfig, name)
		}
		vc.Allowlists = append(vc.Allowlists, legacy)
		//lint:ignore SA1019 cleared once moved
		vc.AllowList = nil
	}
	kept := vc.Allowlists[:0]
	for _, a := range vc.Allowlists {
		if len(a.TargetRules) == 0 {
			kept = append(kept, a)
			continue
		}
		targets := a.TargetRules
		a.TargetRules = nil
		one := config.ViperConfig{}
		one.Allowlists = append(one.Allowlists, a)
		c, err := one.Translate()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrConfig, name, err)
		}
		for _, id := range targets {
			lc.targeted[id] = append(lc.targeted[id], c.Allowlists...)
		}
	}
	vc.Allowlists = kept
	cfg, err := vc.Translate()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, name, err)
	}
	cfg.Path = name
	lc.cfg = cfg
	return lc, nil
}

// mergeConfig extends child with base as gitleaks' [extend] does: base
// rules not disabled and absent from child are added; a rule in both keeps
// base's fields except those child sets (description, entropy, secret
// group, regex, path), with tags, keywords and allowlists of both. Base's
// global allowlists are appended to child's when keepAllow is set (a
// user's extended file); the default configuration's are kept apart by
// the caller.
func mergeConfig(child *config.Config, base config.Config, disabled []string, keepAllow bool) {
	off := map[string]bool{}
	for _, id := range disabled {
		off[id] = true
	}
	for _, id := range base.OrderedRules {
		br, ok := base.Rules[id]
		if !ok || off[id] {
			continue
		}
		cr, exists := child.Rules[id]
		if !exists {
			child.Rules[id] = br
			child.OrderedRules = append(child.OrderedRules, id)
			continue
		}
		if cr.Description != "" {
			br.Description = cr.Description
		}
		if cr.Entropy != 0 {
			br.Entropy = cr.Entropy
		}
		if cr.SecretGroup != 0 {
			br.SecretGroup = cr.SecretGroup
		}
		if cr.Regex != nil {
			br.Regex = cr.Regex
		}
		if cr.Path != nil {
			br.Path = cr.Path
		}
		br.Tags = append(append([]string(nil), br.Tags...), cr.Tags...)
		br.Keywords = append(append([]string(nil), br.Keywords...), cr.Keywords...)
		br.Allowlists = append(append([]*config.Allowlist(nil), br.Allowlists...), cr.Allowlists...)
		br.RequiredRules = append(append([]*config.Required(nil), br.RequiredRules...), cr.RequiredRules...)
		child.Rules[id] = br
	}
	if keepAllow {
		child.Allowlists = append(child.Allowlists, base.Allowlists...)
	}
}
