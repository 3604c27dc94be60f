package osv

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDecodeRecord(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "synthetic", "GHSA-0000-py00-0001.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeRecord(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := &Record{
		ID:       "GHSA-0000-py00-0001",
		Aliases:  []string{"CVE-2099-3001"},
		Summary:  "GitHub copy of PYSEC-2099-1, fixed later",
		Modified: time.Date(2099, 3, 5, 0, 0, 0, 0, time.UTC),
		Severity: []Severity{{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}},
		Affected: []Affected{{
			Package: Package{Ecosystem: PyPI, Name: "fake-demo-pkg"},
			Ranges:  []Range{{Type: RangeEcosystem, Events: []Event{{Introduced: "1.0"}, {Fixed: "1.5.1"}}}},
		}},
		References: []Reference{
			{Type: "WEB", URL: "https://example.invalid/PYSEC-2099-1"},
			{Type: "ADVISORY", URL: "https://example.invalid/GHSA-0000-py00-0001"},
		},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("DecodeRecord (-got +want):\n%s", diff)
	}
}

func TestDecodeRecordLenient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		check    func(*Record) bool
	}{
		{"bad modified is zero", `{"id":"A","modified":"yesterday"}`, func(r *Record) bool { return r.Modified.IsZero() }},
		{"fractional modified", `{"id":"A","modified":"2024-10-10T17:22:00.587279Z"}`, func(r *Record) bool { return r.Modified.Nanosecond() == 587279000 }},
		{"offset modified in UTC", `{"id":"A","modified":"2024-10-10T19:00:00+02:00"}`, func(r *Record) bool { return r.Modified.Hour() == 17 && r.Modified.Location() == time.UTC }},
		{"database_specific severity", `{"id":"A","database_specific":{"severity":"MODERATE","cwe_ids":["CWE-22"]}}`, func(r *Record) bool { return r.DatabaseSpecificSeverity == "MODERATE" }},
		{"database_specific of another shape", `{"id":"A","database_specific":{"severity":{"x":1}}}`, func(r *Record) bool { return r.DatabaseSpecificSeverity == "" }},
		{"database_specific not an object", `{"id":"A","database_specific":[1]}`, func(r *Record) bool { return r.ID == "A" }},
		{"unknown fields", `{"id":"A","schema_version":"1.6.0","credits":[{"name":"x"}],"affected":[{"package":{"ecosystem":"PyPI","name":"p"},"ecosystem_specific":{"imports":[]}}]}`, func(r *Record) bool { return len(r.Affected) == 1 }},
		{"withdrawn", `{"id":"A","withdrawn":"2024-01-01T00:00:00Z"}`, func(r *Record) bool { return r.IsWithdrawn() }},
		{"null lists", `{"id":"A","aliases":null,"affected":null}`, func(r *Record) bool { return r.Aliases == nil }},
	}
	for _, tt := range tests {
		r, err := DecodeRecord([]byte(tt.in), 0)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !tt.check(r) {
			t.Errorf("%s: got %+v", tt.name, r)
		}
	}
}

func TestDecodeRecordErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		``, `[]`, `"x"`, `{`, `{"id":""}`, `{"summary":"no id"}`, `{"id":"A","aliases":"x"}`,
		`{"id":"A","affected":[{"versions":[1]}]}`, `{"id":"A"} {"id":"B"}`, `{"id":"A"} trailing`,
	} {
		if _, err := DecodeRecord([]byte(in), 0); !errors.Is(err, ErrRecord) {
			t.Errorf("DecodeRecord(%q) = %v, want ErrRecord", in, err)
		}
	}
	big := `{"id":"A","details":"` + strings.Repeat("x", 100) + `"}`
	if _, err := DecodeRecord([]byte(big), 50); !errors.Is(err, ErrRecord) {
		t.Errorf("oversized: %v", err)
	}
	if _, err := ReadRecord(strings.NewReader(big), 50); !errors.Is(err, ErrRecord) {
		t.Errorf("ReadRecord oversized: %v", err)
	}
	if r, err := ReadRecord(strings.NewReader(big), 0); err != nil || r.ID != "A" {
		t.Errorf("ReadRecord: %v, %v", r, err)
	}
}

func TestTitle(t *testing.T) {
	t.Parallel()
	tests := []struct{ summary, details, want string }{
		{"  Path   traversal\nin upload ", "ignored", "Path traversal in upload"},
		{"", "First sentence. Second sentence.", "First sentence."},
		{"", "Line one\n\nParagraph two", "Line one"},
		{"", strings.Repeat("word ", 60), strings.TrimSpace(strings.Repeat("word ", 32))[:159] + "…"},
		{"", "", ""},
	}
	for _, tt := range tests {
		r := Record{Summary: tt.summary, Details: tt.details}
		if got := r.Title(); got != tt.want {
			t.Errorf("Title(%q, %q) = %q, want %q", tt.summary, tt.details, got, tt.want)
		}
	}
}

// FuzzDecodeRecord: decoding never panics, and what decodes can be
// matched without panicking and imported into a database.
func FuzzDecodeRecord(f *testing.F) {
	for _, dir := range []string{filepath.Join("testdata", "synthetic"), filepath.Join("testdata", "pypa", "PyPI")} {
		files, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil {
			f.Fatal(err)
		}
		for i, p := range files {
			if dir != filepath.Join("testdata", "synthetic") && i%20 != 0 {
				continue // a sample of the PyPA records
			}
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeRecord(data, 1<<20)
		if err != nil {
			if !errors.Is(err, ErrRecord) {
				t.Fatalf("error %v does not wrap ErrRecord", err)
			}
			return
		}
		_ = r.Title()
		for _, a := range r.Affected {
			for _, eco := range []string{PyPI, Go, Npm} {
				if ok, err := r.Affects(eco, a.Package.Name, "1.0.0"); err != nil || (ok && r.IsWithdrawn()) {
					t.Fatalf("Affects(%s): %v, %v", eco, ok, err)
				}
			}
		}
		b := newBuilder("fuzz", DefaultLimits())
		b.add("fuzz", data)
		for eco := range b.ecos {
			ef, _ := b.ecoFile(eco)
			for _, p := range ef.Packages {
				for _, e := range p.Entries {
					if int(e.Advisory) >= len(ef.Advisories) {
						t.Fatalf("entry points at advisory %d of %d", e.Advisory, len(ef.Advisories))
					}
				}
			}
		}
	})
}
