package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ProjectFileName is the project file looked up in the current directory
// and its parents.
const ProjectFileName = ".palisade.yaml"

// maxProjectFile bounds the project file read into memory.
const maxProjectFile = 1 << 20

// Project is the content of a project file.
type Project struct {
	// Path is the file the project was read from ("" when parsed from bytes).
	Path string
	// Dir is the absolute directory holding the file; suppression paths
	// are relative to it ("" when parsed from bytes).
	Dir string
	// FailOn is scan.fail_on as written ("" keeps the built-in default);
	// the caller checks it names a severity.
	FailOn string
	// Suppressions are scan.suppressions in file order.
	Suppressions []Suppression
	// PolicyDirs are scan.policy_dirs: directories of the team's own Rego
	// policies for Dockerfiles and Kubernetes manifests, relative to Dir.
	PolicyDirs []string
	// GitleaksConfig is scan.gitleaks_config: a gitleaks configuration
	// file whose rules and allowlists the secret scanner honours,
	// relative to Dir.
	GitleaksConfig string
	// AdvisoryDB is advisories.database: the directory of the local OSV
	// database, relative to Dir ("" keeps the default).
	AdvisoryDB string
	// AdvisoryMaxAgeDays is advisories.max_age_days: a scan warns when the
	// database is older (0 keeps the default).
	AdvisoryMaxAgeDays int
}

// Suppression is one entry of scan.suppressions. The caller checks that
// Rule names a rule and Path is a valid glob.
type Suppression struct {
	Rule    string
	Path    string // glob, relative to the project file's directory
	Reason  string
	Expires time.Time // midnight UTC of the date written
}

// FindProject looks for ProjectFileName in dir and then in each parent
// directory up to the file-system root, and returns the first one found,
// or "" when there is none.
func FindProject(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find project file: %w", err)
	}
	for {
		p := filepath.Join(abs, ProjectFileName)
		info, err := os.Stat(p)
		switch {
		case err == nil && !info.IsDir():
			return p, nil
		case err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission):
			return "", fmt.Errorf("find project file: %w", err)
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return "", nil
		}
		abs = parent
	}
}

// LoadProject reads and checks a project file. Every problem in the file
// is reported at once. Like ParseProject, it returns the project along with
// the error when the file decodes but has problems.
func LoadProject(path string) (*Project, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open project file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxProjectFile+1))
	if err != nil {
		return nil, fmt.Errorf("read project file %s: %w", path, err)
	}
	if len(data) > maxProjectFile {
		return nil, fmt.Errorf("project file %s is larger than %d bytes", path, maxProjectFile)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("project file %s: %w", path, err)
	}
	p, err := ParseProject(data)
	if p != nil {
		p.Path, p.Dir = path, filepath.Dir(abs)
	}
	if err != nil {
		return p, fmt.Errorf("project file %s: %w", path, err)
	}
	return p, nil
}

// Keys of each mapping, in the order the error messages list them.
var (
	topKeys         = []string{"scan", "advisories"}
	scanKeys        = []string{"fail_on", "suppressions", "policy_dirs", "gitleaks_config"}
	advisoryKeys    = []string{"database", "max_age_days"}
	suppressionKeys = []string{"rule", "path", "reason", "expires"}
)

// ParseProject decodes and checks project file content: one YAML document
// of the documented shape, every suppression complete with a valid date.
// Every problem is reported at once, each with its line.
//
// When the content is YAML but has problems, ParseProject returns what it
// could read along with the error, so that a caller can add its own checks
// (severity names, rule IDs) and still report every problem at once. It
// returns a nil project only when the content cannot be decoded at all.
func ParseProject(data []byte) (*Project, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &Project{}, nil // an empty file sets nothing
		}
		return nil, fmt.Errorf("not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			return nil, fmt.Errorf("not valid YAML after the first document: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		}
		return nil, fmt.Errorf("line %d: a second YAML document (after ---); the project file holds one", line)
	}
	var pr parser
	p := &Project{}
	if len(doc.Content) == 1 {
		pr.project(doc.Content[0], p)
	}
	if len(pr.problems) > 0 {
		return p, errors.Join(pr.problems...)
	}
	return p, nil
}

// parser walks the YAML tree and collects every problem.
type parser struct {
	problems []error
}

func (pr *parser) addf(n *yaml.Node, format string, args ...any) {
	pr.problems = append(pr.problems, fmt.Errorf("line %d: "+format, append([]any{n.Line}, args...)...))
}

func (pr *parser) project(n *yaml.Node, p *Project) {
	pr.mapping(n, "the top level", topKeys, func(key string, v *yaml.Node) {
		switch key {
		case "scan":
			pr.mapping(v, "scan", scanKeys, func(key string, v *yaml.Node) {
				switch key {
				case "fail_on":
					p.FailOn = pr.text(v, "scan.fail_on")
				case "suppressions":
					p.Suppressions = pr.suppressions(v)
				case "policy_dirs":
					p.PolicyDirs = pr.texts(v, "scan.policy_dirs")
				case "gitleaks_config":
					p.GitleaksConfig = pr.text(v, "scan.gitleaks_config")
				}
			})
		case "advisories":
			pr.mapping(v, "advisories", advisoryKeys, func(key string, v *yaml.Node) {
				switch key {
				case "database":
					p.AdvisoryDB = pr.text(v, "advisories.database")
				case "max_age_days":
					t := strings.TrimSpace(pr.text(v, "advisories.max_age_days"))
					if t == "" {
						return
					}
					n, err := strconv.Atoi(t)
					if err != nil || n < 1 || n > 3650 {
						pr.addf(v, "advisories.max_age_days must be a whole number of days from 1 to 3650, not %q", t)
						return
					}
					p.AdvisoryMaxAgeDays = n
				}
			})
		}
	})
}

// texts returns a list of scalars; a single scalar is a list of one.
func (pr *parser) texts(n *yaml.Node, where string) []string {
	switch {
	case isNull(n):
		return nil
	case n.Kind == yaml.ScalarNode:
		return []string{n.Value}
	case n.Kind != yaml.SequenceNode:
		pr.addf(n, "%s must be a list of paths, not %s", where, describe(n))
		return nil
	}
	var out []string
	for i, item := range n.Content {
		if t := pr.text(item, fmt.Sprintf("%s[%d]", where, i)); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func (pr *parser) suppressions(n *yaml.Node) []Suppression {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		pr.addf(n, "scan.suppressions must be a list of suppressions, not %s", describe(n))
		return nil
	}
	out := make([]Suppression, 0, len(n.Content))
	for i, item := range n.Content {
		where := fmt.Sprintf("scan.suppressions[%d]", i)
		var s Suppression
		var expires string
		if !pr.mapping(item, where, suppressionKeys, func(key string, v *yaml.Node) {
			switch key {
			case "rule":
				s.Rule = strings.TrimSpace(pr.text(v, where+".rule"))
			case "path":
				s.Path = pr.text(v, where+".path")
			case "reason":
				s.Reason = pr.text(v, where+".reason")
			case "expires":
				expires = strings.TrimSpace(pr.text(v, where+".expires"))
			}
		}) {
			continue
		}
		var missing []string
		if s.Rule == "" {
			missing = append(missing, "rule is empty")
		}
		if s.Path == "" {
			missing = append(missing, "path is empty")
		}
		if strings.TrimSpace(s.Reason) == "" {
			missing = append(missing, "reason is empty (say why the risk is accepted)")
		}
		if expires == "" {
			missing = append(missing, "expires is missing (give a date, YYYY-MM-DD)")
		} else if t, err := time.Parse(time.DateOnly, expires); err != nil {
			missing = append(missing, fmt.Sprintf("expires %q is not a date: write YYYY-MM-DD", expires))
		} else {
			s.Expires = t
		}
		if len(missing) > 0 {
			pr.addf(item, "%s: %s", where, strings.Join(missing, "; "))
		}
		out = append(out, s)
	}
	return out
}

// mapping walks a mapping node whose keys must be among valid, calling
// visit for each; a null node is an empty mapping. It reports whether n
// was a mapping.
func (pr *parser) mapping(n *yaml.Node, where string, valid []string, visit func(key string, v *yaml.Node)) bool {
	if isNull(n) {
		return true
	}
	if n.Kind != yaml.MappingNode {
		pr.addf(n, "%s must be a mapping of keys (%s), not %s", where, strings.Join(valid, ", "), describe(n))
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		switch {
		case k.Kind != yaml.ScalarNode:
			pr.addf(k, "%s has a key that is %s; keys are plain words (%s)", where, describe(k), strings.Join(valid, ", "))
		case !slices.Contains(valid, key):
			pr.addf(k, "unknown key %q %s (valid keys: %s)", key, under(where), strings.Join(valid, ", "))
		case seen[key]:
			pr.addf(k, "key %q appears twice %s", key, under(where))
		default:
			seen[key] = true
			visit(key, v)
		}
	}
	return true
}

// text returns a scalar's text; a null is "".
func (pr *parser) text(n *yaml.Node, where string) string {
	if isNull(n) {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		pr.addf(n, "%s must be text, not %s", where, describe(n))
		return ""
	}
	return n.Value
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names a node's kind in plain words.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias (*name); aliases are not supported"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int", "!!float":
			return fmt.Sprintf("the number %s", n.Value)
		case "!!bool":
			return fmt.Sprintf("the boolean %s", n.Value)
		}
		return fmt.Sprintf("the text %q", n.Value)
	}
	return "an empty value"
}

// under renders where a key sits: "under scan", "at the top level".
func under(where string) string {
	if where == "the top level" {
		return "at the top level"
	}
	return "under " + where
}
