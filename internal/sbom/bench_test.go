package sbom

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// BenchmarkBuild builds and encodes the bill of materials of a large
// project: 1000 packages over three ecosystems (a fifth declared twice)
// and 50 models, half with a card.
func BenchmarkBuild(b *testing.B) {
	ecos := []string{EcosystemPyPI, EcosystemGo, EcosystemNPM}
	var pkgs []Package
	for i := range 1000 {
		p := Package{Name: fmt.Sprintf("pkg_%04d", i), Version: fmt.Sprintf("1.%d.0", i%37), Ecosystem: ecos[i%3],
			Locations: []string{fmt.Sprintf("repo/lock%d:%d", i%5, i+1)}}
		pkgs = append(pkgs, p)
		if i%5 == 0 {
			p.Locations = []string{fmt.Sprintf("repo/requirements.txt:%d", i)}
			pkgs = append(pkgs, p)
		}
	}
	card := &ModelCard{License: []string{"apache-2.0"}, Datasets: []string{"imdb", "org/data"}, PipelineTag: "text-generation",
		Language: []string{"en"}, Tags: []string{"a", "b"}, BaseModel: []string{"org/base"}, LibraryName: "transformers"}
	var models []Model
	for i := range 50 {
		m := Model{Name: fmt.Sprintf("m%02d.safetensors", i), Path: fmt.Sprintf("repo/models/m%02d.safetensors", i),
			Format: "safetensors", Size: int64(i) << 20, SHA256: strings.Repeat("ab", 32)}
		if i%2 == 0 {
			m.Card = card
		}
		models = append(models, m)
	}
	meta := Meta{RootName: "repo", ToolVersion: "dev", Time: time.Unix(0, 0), Serial: "urn:uuid:00000000-0000-4000-8000-000000000000"}
	b.ReportAllocs()
	for b.Loop() {
		if err := Write(io.Discard, Build(meta, pkgs, models)); err != nil {
			b.Fatal(err)
		}
	}
}
