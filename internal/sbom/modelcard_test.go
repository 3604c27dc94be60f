package sbom

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadModelCard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want *ModelCard
		err  error
	}{
		{"full.md", &ModelCard{
			ModelName: "tiny-chat-7b", License: []string{"apache-2.0"}, BaseModel: []string{"meta-llama/Llama-2-7b-hf"},
			Datasets: []string{"HuggingFaceH4/ultrachat_200k", "imdb"}, Language: []string{"en", "fr"},
			PipelineTag: "text-generation", LibraryName: "transformers", Tags: []string{"text-generation", "llama"},
		}, nil},
		{"other_license.md", &ModelCard{
			ModelName: "example-model", License: []string{"other"}, LicenseName: "fake-community-license",
			BaseModel: []string{"org/base-a", "org/base-b"}, Language: []string{"de"},
		}, nil},
		{"crlf.md", &ModelCard{License: []string{"mit"}, PipelineTag: "image-classification", Datasets: []string{"cifar10"}}, nil},
		{"bom.md", &ModelCard{License: []string{"cc-by-4.0"}}, nil},
		{"no_front_matter.md", nil, ErrNoFrontMatter},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			f, err := os.Open(filepath.Join("testdata", "cards", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := ReadModelCard(f)
			if !errors.Is(err, tt.err) {
				t.Fatalf("ReadModelCard error = %v, want %v", err, tt.err)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("ReadModelCard (-got +want):\n%s", diff)
			}
		})
	}
}

func TestReadModelCardHostile(t *testing.T) {
	t.Parallel()
	deep := "---\nx: " + strings.Repeat("[", maxCardDepth+5) + strings.Repeat("]", maxCardDepth+5) + "\n---\n"
	deepMap := "---\n"
	for i := range maxCardDepth + 2 {
		deepMap += strings.Repeat(" ", i) + "k:\n"
	}
	deepMap += "---\n"
	huge := "---\nlicense: mit\ntags:\n" + strings.Repeat("- tag\n", MaxCardBytes/6+10) + "---\n"
	bigBody := "---\nlicense: mit\n---\n" + strings.Repeat("body text\n", MaxCardBytes/5)
	aliases := "---\na: &a [x, y]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\ntags: *c\nlicense: *a\npipeline_tag: text-generation\n---\n"
	longValue := "---\nlicense: " + strings.Repeat("x", 5000) + "\n---\n"
	manyTags := "---\ntags:\n" + strings.Repeat("- t\n", 10) + func() string {
		var b strings.Builder
		for i := range 2 * maxCardValues {
			b.WriteString("- t" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strings.Repeat("y", i/26) + "\n")
		}
		return b.String()
	}() + "---\n"
	tests := []struct {
		name  string
		in    string
		err   error
		check func(t *testing.T, c *ModelCard)
	}{
		{"unterminated", "---\nlicense: mit\n", ErrMalformedCard, nil},
		{"opening only", "---", ErrMalformedCard, nil},
		{"not yaml", "---\nlicense: [mit\n---\n", ErrMalformedCard, nil},
		{"not a mapping", "---\n- a\n- b\n---\n", ErrMalformedCard, nil},
		{"scalar document", "---\njust text\n---\n", ErrMalformedCard, nil},
		{"empty", "---\n---\n", nil, func(t *testing.T, c *ModelCard) {
			if diff := cmp.Diff(c, &ModelCard{}); diff != "" {
				t.Errorf("card (-got +want):\n%s", diff)
			}
		}},
		{"null document", "---\n~\n---\n", nil, nil},
		{"deep sequence", deep, ErrCardTooDeep, nil},
		{"deep mapping", deepMap, ErrCardTooDeep, nil},
		{"huge front matter", huge, ErrCardTooLarge, nil},
		{"big body is fine", bigBody, nil, func(t *testing.T, c *ModelCard) {
			if diff := cmp.Diff(c.License, []string{"mit"}); diff != "" {
				t.Errorf("license (-got +want):\n%s", diff)
			}
		}},
		{"aliases not followed", aliases, nil, func(t *testing.T, c *ModelCard) {
			if len(c.Tags) != 0 || len(c.License) != 0 || c.PipelineTag != "text-generation" {
				t.Errorf("card = %+v, want aliases ignored and pipeline_tag kept", c)
			}
		}},
		{"long value clipped", longValue, nil, func(t *testing.T, c *ModelCard) {
			if len(c.License) != 1 || len(c.License[0]) != maxCardValueLen {
				t.Errorf("license lengths = %d values, want one of %d bytes", len(c.License), maxCardValueLen)
			}
		}},
		{"many tags capped", manyTags, nil, func(t *testing.T, c *ModelCard) {
			if len(c.Tags) != maxCardValues {
				t.Errorf("kept %d tags, want %d", len(c.Tags), maxCardValues)
			}
		}},
		{"wrong shapes skipped", "---\nlicense: {a: b}\ntags: 3\npipeline_tag: [x]\nmodel-index: {name: x}\nbase_model: null\n---\n", nil, func(t *testing.T, c *ModelCard) {
			want := &ModelCard{Tags: []string{"3"}}
			if diff := cmp.Diff(c, want); diff != "" {
				t.Errorf("card (-got +want):\n%s", diff)
			}
		}},
		{"repeated key keeps first", "---\nlicense: mit\nlicense: gpl-3.0\n---\n", nil, func(t *testing.T, c *ModelCard) {
			if diff := cmp.Diff(c.License, []string{"mit"}); diff != "" {
				t.Errorf("license (-got +want):\n%s", diff)
			}
		}},
		{"model_name wins over model-index", "---\nmodel-index:\n- name: b\nmodel_name: a\n---\n", nil, func(t *testing.T, c *ModelCard) {
			if c.ModelName != "a" {
				t.Errorf("ModelName = %q, want a", c.ModelName)
			}
		}},
		{"invalid utf-8 clipped safely", "---\nlicense: " + strings.Repeat("é", 700) + "\n---\n", nil, func(t *testing.T, c *ModelCard) {
			if len(c.License) != 1 || len(c.License[0]) > maxCardValueLen || !strings.HasPrefix(c.License[0], "é") || strings.HasSuffix(c.License[0], "\xc3") {
				t.Errorf("license = %q", c.License)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := ReadModelCard(bytes.NewReader([]byte(tt.in)))
			if !errors.Is(err, tt.err) {
				t.Fatalf("ReadModelCard error = %v, want %v", err, tt.err)
			}
			if err == nil && c == nil {
				t.Fatal("ReadModelCard returned neither a card nor an error")
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}
