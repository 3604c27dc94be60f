package sbom

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// ModelCard holds the fields of a Hugging Face model card's YAML front
// matter that go into a bill of materials. Lists keep the card's order.
type ModelCard struct {
	// Source is where the card was read from; set by the caller, "" when
	// unknown.
	Source string
	// ModelName is model_name, or else the first model-index entry's name.
	ModelName   string
	License     []string // license: SPDX-like ids as the Hub spells them ("apache-2.0")
	LicenseName string   // license_name, for license: other
	BaseModel   []string // base_model
	Datasets    []string // datasets
	Language    []string // language
	PipelineTag string   // pipeline_tag: the task, such as text-generation
	LibraryName string   // library_name, such as transformers
	Tags        []string // tags
}

// Limits of ReadModelCard.
const (
	// MaxCardBytes bounds the bytes read looking for the end of the front
	// matter; real cards' front matter is a few KiB, and the README body
	// after it is never read.
	MaxCardBytes = 256 << 10
	// maxCardDepth bounds the nesting of the front matter's YAML.
	maxCardDepth = 32
	// maxCardValues bounds the entries kept from one list field.
	maxCardValues = 256
	// maxCardValueLen bounds the bytes kept from one value.
	maxCardValueLen = 1024
)

// Errors of ReadModelCard.
var (
	// ErrNoFrontMatter is a README that does not start with a "---" line:
	// it has no model card metadata.
	ErrNoFrontMatter = errors.New("no YAML front matter")
	// ErrCardTooLarge is front matter that does not end within MaxCardBytes.
	ErrCardTooLarge = fmt.Errorf("front matter does not end within %d bytes", MaxCardBytes)
	// ErrCardTooDeep is front matter nested deeper than maxCardDepth.
	ErrCardTooDeep = fmt.Errorf("front matter nests deeper than %d levels", maxCardDepth)
	// ErrMalformedCard is front matter that is unterminated, is not YAML,
	// or is not a mapping.
	ErrMalformedCard = errors.New("malformed front matter")
)

// ReadModelCard reads the YAML front matter at the start of a model card
// (a Hugging Face README.md): a "---" line, YAML, and a closing "---" line.
// Only that block is read, at most MaxCardBytes of r. Unknown keys are
// ignored, values of an unexpected shape are skipped, YAML aliases are not
// followed, and kept values are clipped. A README without front matter
// yields ErrNoFrontMatter; the other errors wrap ErrCardTooLarge,
// ErrCardTooDeep or ErrMalformedCard.
func ReadModelCard(r io.Reader) (*ModelCard, error) {
	buf, err := io.ReadAll(io.LimitReader(r, MaxCardBytes))
	if err != nil {
		return nil, fmt.Errorf("read model card: %w", err)
	}
	block, err := frontMatter(buf)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(block, &doc); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrMalformedCard, clip(err.Error(), 200))
	}
	card := &ModelCard{}
	if doc.Kind == 0 { // empty front matter
		return card, nil
	}
	if tooDeep(&doc, 0) {
		return nil, ErrCardTooDeep
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 && doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null" {
			return card, nil
		}
		return nil, fmt.Errorf("%w: not a mapping", ErrMalformedCard)
	}
	top := doc.Content[0]
	seen := map[string]bool{}
	var indexName string
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if k.Kind != yaml.ScalarNode || seen[k.Value] {
			continue // a repeated key keeps its first value
		}
		seen[k.Value] = true
		switch k.Value {
		case "license":
			card.License = stringsOf(v)
		case "license_name":
			card.LicenseName = scalarOf(v)
		case "base_model":
			card.BaseModel = stringsOf(v)
		case "datasets":
			card.Datasets = stringsOf(v)
		case "language":
			card.Language = stringsOf(v)
		case "pipeline_tag":
			card.PipelineTag = scalarOf(v)
		case "library_name":
			card.LibraryName = scalarOf(v)
		case "tags":
			card.Tags = stringsOf(v)
		case "model_name":
			card.ModelName = scalarOf(v)
		case "model-index":
			indexName = modelIndexName(v)
		}
	}
	if card.ModelName == "" {
		card.ModelName = indexName
	}
	return card, nil
}

// frontMatter returns the YAML between the opening and closing "---" lines
// at the start of buf.
func frontMatter(buf []byte) ([]byte, error) {
	rest := bytes.TrimPrefix(buf, []byte("\xef\xbb\xbf"))
	line, rest, ok := cutLine(rest)
	if strings.TrimRight(string(line), " \t\r") != "---" {
		return nil, ErrNoFrontMatter
	}
	if !ok {
		return nil, fmt.Errorf("%w: unterminated", ErrMalformedCard)
	}
	start := rest
	n := 0
	for {
		line, next, more := cutLine(rest)
		if !more && len(buf) >= MaxCardBytes {
			// The last line may be cut short by the limit.
			return nil, ErrCardTooLarge
		}
		if strings.TrimRight(string(line), " \t\r") == "---" {
			return start[:n], nil
		}
		if !more {
			return nil, fmt.Errorf("%w: unterminated", ErrMalformedCard)
		}
		n += len(line) + 1
		rest = next
	}
}

// cutLine splits b at its first newline; more is false when b has none.
func cutLine(b []byte) (line, rest []byte, more bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, nil, false
	}
	return b[:i], b[i+1:], true
}

// tooDeep reports whether n nests deeper than maxCardDepth.
func tooDeep(n *yaml.Node, depth int) bool {
	if depth > maxCardDepth {
		return true
	}
	for _, c := range n.Content {
		if tooDeep(c, depth+1) {
			return true
		}
	}
	return false
}

// scalarOf returns a scalar's value, clipped; "" for anything else.
func scalarOf(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return ""
	}
	return clip(strings.TrimSpace(n.Value), maxCardValueLen)
}

// stringsOf returns a scalar as a one-element list, or a sequence's
// non-empty scalars; duplicates are dropped, order kept.
func stringsOf(n *yaml.Node) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] && len(out) < maxCardValues {
			seen[s] = true
			out = append(out, s)
		}
	}
	switch n.Kind {
	case yaml.ScalarNode:
		add(scalarOf(n))
	case yaml.SequenceNode:
		for _, c := range n.Content {
			add(scalarOf(c))
		}
	}
	return out
}

// modelIndexName returns the name of the first model-index entry.
func modelIndexName(n *yaml.Node) string {
	if n.Kind != yaml.SequenceNode {
		return ""
	}
	for _, e := range n.Content {
		if e.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(e.Content); i += 2 {
			if k := e.Content[i]; k.Kind == yaml.ScalarNode && k.Value == "name" {
				if s := scalarOf(e.Content[i+1]); s != "" {
					return s
				}
			}
		}
	}
	return ""
}

// clip shortens s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for i := 0; i < utf8.UTFMax-1 && len(s) > 0 && !utf8.ValidString(s); i++ {
		s = s[:len(s)-1]
	}
	return s
}
