package osv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultMaxRecordBytes bounds one advisory's JSON. The largest records
// published by osv.dev (distribution advisories with long version lists)
// are a few hundred KiB.
const DefaultMaxRecordBytes = 8 << 20

// Record is an OSV advisory, reduced to what matching and display need.
// Unknown fields are ignored when decoding.
type Record struct {
	ID         string      `json:"id"`
	Aliases    []string    `json:"aliases"`
	Summary    string      `json:"summary"`
	Details    string      `json:"details"`
	Modified   time.Time   `json:"-"` // zero when absent or unparseable
	Withdrawn  string      `json:"withdrawn"`
	Severity   []Severity  `json:"severity"`
	Affected   []Affected  `json:"affected"`
	References []Reference `json:"references"`
	// DatabaseSpecificSeverity is database_specific.severity when it is a
	// string (GitHub advisories: LOW, MODERATE, HIGH, CRITICAL).
	DatabaseSpecificSeverity string `json:"-"`
}

// Severity is one severity entry: Type is CVSS_V2, CVSS_V3, CVSS_V4 (or
// another scheme) and Score its vector string.
type Severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Reference is a link with its OSV type (ADVISORY, FIX, WEB, ...).
type Reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// Package names the affected package.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	Purl      string `json:"purl"`
}

// Affected is one affected package with its ranges and enumerated versions.
type Affected struct {
	Package  Package  `json:"package"`
	Ranges   []Range  `json:"ranges"`
	Versions []string `json:"versions"`
}

// Range types.
const (
	RangeEcosystem = "ECOSYSTEM"
	RangeSemver    = "SEMVER"
	RangeGit       = "GIT"
)

// Range is a list of events in one ordering (Type).
type Range struct {
	Type   string  `json:"type"`
	Repo   string  `json:"repo,omitempty"`
	Events []Event `json:"events"`
}

// Event is one range event; exactly one field is set in valid data.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// IsWithdrawn reports whether the advisory has been retracted; withdrawn
// advisories match nothing.
func (r *Record) IsWithdrawn() bool { return r.Withdrawn != "" }

// Title returns the summary, or when it is empty (as in most PYSEC
// records) the first sentence of the details, at most 160 characters.
func (r *Record) Title() string {
	if s := strings.TrimSpace(r.Summary); s != "" {
		return oneLine(s, 160)
	}
	d := strings.TrimSpace(r.Details)
	if i := strings.Index(d, ". "); i >= 0 {
		d = d[:i+1]
	}
	if i := strings.Index(d, "\n\n"); i >= 0 {
		d = d[:i]
	}
	return oneLine(d, 160)
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:max-1])) + "…"
}

// ErrRecord is wrapped by every record decoding error.
var ErrRecord = errors.New("invalid OSV record")

// DecodeRecord decodes one OSV JSON object of at most max bytes
// (DefaultMaxRecordBytes when max <= 0). A record must have an id;
// modified and withdrawn may be missing or malformed (modified is then
// zero). Fields of the wrong JSON type are an error.
func DecodeRecord(data []byte, max int64) (*Record, error) {
	if max <= 0 {
		max = DefaultMaxRecordBytes
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: %d bytes exceeds the limit of %d", ErrRecord, len(data), max)
	}
	var w struct {
		Record
		Modified         string          `json:"modified"`
		DatabaseSpecific json.RawMessage `json:"database_specific"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRecord, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrRecord)
	}
	r := w.Record
	if strings.TrimSpace(r.ID) == "" {
		return nil, fmt.Errorf("%w: no id", ErrRecord)
	}
	if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(w.Modified)); err == nil {
		r.Modified = t.UTC()
	}
	if len(w.DatabaseSpecific) > 0 {
		var ds struct {
			Severity json.RawMessage `json:"severity"`
		}
		var s string
		if json.Unmarshal(w.DatabaseSpecific, &ds) == nil && json.Unmarshal(ds.Severity, &s) == nil {
			r.DatabaseSpecificSeverity = s
		}
	}
	return &r, nil
}

// ReadRecord reads and decodes one record from rd, reading at most max+1
// bytes (DefaultMaxRecordBytes when max <= 0).
func ReadRecord(rd io.Reader, max int64) (*Record, error) {
	if max <= 0 {
		max = DefaultMaxRecordBytes
	}
	data, err := io.ReadAll(io.LimitReader(rd, max+1))
	if err != nil {
		return nil, fmt.Errorf("read OSV record: %w", err)
	}
	return DecodeRecord(data, max)
}
