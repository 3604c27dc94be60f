package sbom

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzModelCard feeds arbitrary READMEs to ReadModelCard: it must not
// panic, must return a card or one of its errors, and must keep every
// value within the limits.
func FuzzModelCard(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "cards", "*.md"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("---\na: &a [x]\nb: [*a, *a]\ntags: *b\n---\n"))
	f.Add([]byte("---\nx: [[[[[[[[]]]]]]]]\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ReadModelCard(bytes.NewReader(data))
		if err != nil {
			if c != nil {
				t.Errorf("card %+v returned with error %v", c, err)
			}
			if !errors.Is(err, ErrNoFrontMatter) && !errors.Is(err, ErrMalformedCard) &&
				!errors.Is(err, ErrCardTooLarge) && !errors.Is(err, ErrCardTooDeep) {
				t.Errorf("unexpected error %v", err)
			}
			return
		}
		for _, list := range [][]string{c.License, c.BaseModel, c.Datasets, c.Language, c.Tags} {
			if len(list) > maxCardValues {
				t.Errorf("list of %d values", len(list))
			}
			for _, v := range list {
				checkValue(t, v)
			}
		}
		for _, v := range []string{c.ModelName, c.LicenseName, c.PipelineTag, c.LibraryName} {
			checkValue(t, v)
		}
		// What comes out must build and encode.
		var out bytes.Buffer
		if err := Write(&out, Build(Meta{Serial: "urn:uuid:00000000-0000-4000-8000-000000000000"}, nil, []Model{{Path: "m", Card: c}})); err != nil {
			t.Errorf("encode: %v", err)
		}
	})
}

func checkValue(t *testing.T, v string) {
	t.Helper()
	if len(v) > maxCardValueLen {
		t.Errorf("value of %d bytes", len(v))
	}
}
