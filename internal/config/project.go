package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/palisade-sec/palisade/internal/scan"
)

// ProjectFileName is the project file looked up in the current directory.
const ProjectFileName = ".palisade.yaml"

// maxProjectFile bounds the project file read into memory.
const maxProjectFile = 1 << 20

// Project is the content of a .palisade.yaml file.
type Project struct {
	Scan ScanSettings `yaml:"scan"`
}

// ScanSettings configure `palisade scan`.
type ScanSettings struct {
	// FailOn is the default for --fail-on ("" keeps the built-in default).
	FailOn string `yaml:"fail_on"`
	// Suppressions hide accepted findings until they expire.
	Suppressions []SuppressionEntry `yaml:"suppressions"`
}

// SuppressionEntry is one suppression as written in the file.
type SuppressionEntry struct {
	Rule    string `yaml:"rule"`
	Path    string `yaml:"path"`
	Reason  string `yaml:"reason"`
	Expires string `yaml:"expires"` // YYYY-MM-DD
}

// LoadProject reads and validates a project file. Every problem in the
// file is reported at once.
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
	p, err := ParseProject(data)
	if err != nil {
		return nil, fmt.Errorf("project file %s: %w", path, err)
	}
	return p, nil
}

// ParseProject decodes and validates project file content.
func ParseProject(data []byte) (*Project, error) {
	var p Project
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if _, err := p.Suppressions(); err != nil {
		return nil, err
	}
	if p.Scan.FailOn != "" {
		if _, err := scan.ParseSeverity(p.Scan.FailOn); err != nil {
			return nil, fmt.Errorf("scan.fail_on: %w", err)
		}
	}
	return &p, nil
}

// Suppressions converts and validates the suppression entries.
func (p *Project) Suppressions() ([]scan.Suppression, error) {
	var out []scan.Suppression
	var problems []error
	for i, e := range p.Scan.Suppressions {
		s := scan.Suppression{Rule: strings.TrimSpace(e.Rule), Path: e.Path, Reason: e.Reason}
		if e.Expires != "" {
			t, err := time.Parse(time.DateOnly, e.Expires)
			if err != nil {
				problems = append(problems, fmt.Errorf("scan.suppressions[%d]: expires %q is not a date: write YYYY-MM-DD", i, e.Expires))
				continue
			}
			s.Expires = t
		}
		if err := s.Validate(); err != nil {
			problems = append(problems, fmt.Errorf("scan.suppressions[%d]: %w", i, err))
			continue
		}
		out = append(out, s)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return out, nil
}
