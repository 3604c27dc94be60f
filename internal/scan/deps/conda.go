package deps

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Limits of the environment.yml reader.
const (
	maxCondaBytes = 4 << 20 // an exported environment is a few KiB
	maxCondaDepth = 16      // YAML nesting walked
	maxCondaDeps  = 20_000  // dependency entries read
)

// errCondaLimit reports that an environment file exceeds a reader limit.
var errCondaLimit = errors.New("environment file exceeds a reader limit")

// condaDep is one entry of an environment file: a conda match spec or,
// with Pip set, a requirement from the pip: subsection.
type condaDep struct {
	Name    string // as written, channel removed
	Version string // exact version, "" when not pinned
	Spec    string // the entry as written
	Line    int
	Pointer string
	Pip     bool
	Req     requirement // for pip entries
}

// parseCondaEnvironment reads a conda environment.yml: the dependencies
// list (conda match specs) and its pip: subsection (pip requirements).
// Aliases are not followed, nesting and size are bounded.
func parseCondaEnvironment(data []byte) ([]condaDep, error) {
	if len(data) > maxCondaBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", errCondaLimit, len(data), maxCondaBytes)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, fmt.Errorf("parse environment YAML: %w", err)
	}
	if tooDeep(&doc, 0) {
		return nil, fmt.Errorf("%w: nesting deeper than %d", errCondaLimit, maxCondaDepth)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("parse environment YAML: top level is not a mapping")
	}
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "dependencies" {
			list = root.Content[i+1]
		}
	}
	if list == nil {
		return nil, nil
	}
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("parse environment YAML: dependencies is not a list")
	}
	var out []condaDep
	for i, item := range list.Content {
		if len(out) >= maxCondaDeps {
			return out, fmt.Errorf("%w: more than %d dependencies", errCondaLimit, maxCondaDeps)
		}
		ptr := fmt.Sprintf("dependencies[%d]", i)
		switch item.Kind {
		case yaml.ScalarNode:
			d := parseCondaSpec(item.Value)
			d.Line, d.Pointer = item.Line, ptr
			if d.Name != "" {
				out = append(out, d)
			}
		case yaml.MappingNode:
			for k := 0; k+1 < len(item.Content); k += 2 {
				if item.Content[k].Value != "pip" || item.Content[k+1].Kind != yaml.SequenceNode {
					continue
				}
				for j, p := range item.Content[k+1].Content {
					if p.Kind != yaml.ScalarNode || len(out) >= maxCondaDeps {
						continue
					}
					rl, ok := parseLogical(strings.TrimSpace(stripComment(p.Value)))
					if !ok {
						continue
					}
					d := condaDep{Spec: p.Value, Line: p.Line, Pointer: fmt.Sprintf("%s.pip[%d]", ptr, j), Pip: true, Req: rl.Req}
					if rl.Kind == lineOption {
						// An option line ("--extra-index-url ...") inside pip:.
						d.Req = requirement{Raw: p.Value}
						d.Name = ""
						d.Spec = rl.Option + " " + rl.Value
					} else {
						d.Name = rl.Req.Name
						d.Version, _ = rl.Req.Pinned()
					}
					out = append(out, d)
				}
			}
		}
	}
	return out, nil
}

// tooDeep reports whether n nests deeper than maxCondaDepth. Alias nodes
// are not followed.
func tooDeep(n *yaml.Node, depth int) bool {
	if depth > maxCondaDepth {
		return true
	}
	for _, c := range n.Content {
		if tooDeep(c, depth+1) {
			return true
		}
	}
	return false
}

// parseCondaSpec parses a conda match spec: "channel::name=1.2=build",
// "name==1.2", "name>=1", "name 1.2 build". A version is returned only
// for an exact pin ("==X", "=X" or "=X=build", "name X build").
func parseCondaSpec(s string) condaDep {
	d := condaDep{Spec: s}
	s = strings.TrimSpace(stripComment(s))
	if i := strings.LastIndex(s, "::"); i >= 0 {
		s = s[i+2:]
	}
	name := reName.FindString(s)
	if name == "" {
		return condaDep{}
	}
	d.Name = name
	rest := strings.TrimSpace(s[len(name):])
	if strings.HasPrefix(rest, "[") {
		// Bracketed match-spec keys ("numpy[version='>=1.21']") are not pins.
		return d
	}
	switch {
	case strings.HasPrefix(rest, "=="):
		v := strings.TrimSpace(rest[2:])
		if !strings.ContainsAny(v, "*,<>=!| ") && v != "" {
			d.Version = v
		}
	case strings.HasPrefix(rest, "="):
		v, _, _ := strings.Cut(rest[1:], "=")
		v = strings.TrimSpace(v)
		if !strings.ContainsAny(v, "*,<>!| ") && v != "" {
			d.Version = v
		}
	case rest != "" && rest[0] >= '0' && rest[0] <= '9':
		v, _, _ := strings.Cut(rest, " ")
		if !strings.ContainsAny(v, "*,<>=!|") {
			d.Version = v
		}
	}
	return d
}

// condaToPyPI maps conda package names whose PyPI name differs; other
// names are taken to be the same on both (a heuristic: conda packages are
// not PyPI packages).
var condaToPyPI = map[string]string{
	"pytorch": "torch", "pytorch-gpu": "torch", "pytorch-cpu": "torch", "py-opencv": "opencv-python",
	"py-xgboost": "xgboost", "py-lightgbm": "lightgbm", "tensorflow-base": "tensorflow",
	"pytorch-lightning": "pytorch-lightning", "pyyaml": "pyyaml", "jinja2": "jinja2",
}

// condaNotPython are conda packages with no PyPI counterpart worth a
// query (interpreters, compilers, native libraries).
var condaNotPython = map[string]bool{
	"python": true, "pip": true, "cudatoolkit": true, "cuda": true, "cudnn": true, "mkl": true,
	"openssl": true, "libgcc": true, "libstdcxx-ng": true, "zlib": true, "nodejs": true, "r-base": true,
	"git": true, "ffmpeg": true, "blas": true, "nccl": true, "openblas": true,
}
