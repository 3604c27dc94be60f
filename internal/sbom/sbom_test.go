package sbom

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var fixedTime = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture is a small project: packages from three ecosystems, two of them
// declared twice, and two models, one with a card.
func fixture(t *testing.T) (Meta, []Package, []Model) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "cards", "full.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	card, err := ReadModelCard(f)
	if err != nil {
		t.Fatal(err)
	}
	card.Source = "repo/models/chat/README.md"
	meta := Meta{RootName: "repo", ToolVersion: "v0.9.0", Time: fixedTime, Rand: bytes.NewReader(bytes.Repeat([]byte{0xab}, 16))}
	pkgs := []Package{
		{Name: "torch", Version: "2.1.0", Ecosystem: EcosystemPyPI, Locations: []string{"repo/requirements.txt:3"}},
		{Name: "Typing_Extensions", Version: "4.9.0", Ecosystem: EcosystemPyPI, Locations: []string{"repo/requirements.txt:7"}},
		{Name: "torch", Version: "2.1.0", Ecosystem: EcosystemPyPI, Locations: []string{"repo/poetry.lock:12", "repo/requirements.txt:3"}},
		{Name: "numpy", Ecosystem: EcosystemPyPI, Locations: []string{"repo/pyproject.toml"}},
		{Name: "github.com/spf13/cobra", Version: "1.8.0", Ecosystem: EcosystemGo, Locations: []string{"repo/go.mod:5"}},
		{Name: "@babel/core", Version: "7.23.0", Ecosystem: EcosystemNPM, Locations: []string{"repo/web/package-lock.json:40"}},
		{Name: "cudatoolkit", Version: "11.8", Ecosystem: EcosystemConda, Locations: []string{"repo/environment.yml:6"}},
		{Name: "weird", Version: "1", Ecosystem: "cargo"},
	}
	models := []Model{
		{Name: "models/chat/model.safetensors", Path: "repo/models/chat/model.safetensors", Format: "safetensors", Size: 1234,
			SHA256: strings.Repeat("0f", 32), Card: card},
		{Name: "legacy.pkl", Path: "repo/legacy.pkl", Format: "pickle", Size: 10, SHA256: strings.Repeat("AB", 32)},
	}
	return meta, pkgs, models
}

func render(t *testing.T, bom *cdx.BOM) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, bom); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBuildGolden(t *testing.T) {
	t.Parallel()
	meta, pkgs, models := fixture(t)
	got := render(t, Build(meta, pkgs, models))
	golden := filepath.Join("testdata", "build.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(got), string(want)); diff != "" {
		t.Errorf("Build output (-got +want):\n%s", diff)
	}
}

// TestBuildDeterministic shuffles the input order: the document must not
// change.
func TestBuildDeterministic(t *testing.T) {
	t.Parallel()
	meta, pkgs, models := fixture(t)
	first := render(t, Build(meta, pkgs, models))
	for i, j := 0, len(pkgs)-1; i < j; i, j = i+1, j-1 {
		pkgs[i], pkgs[j] = pkgs[j], pkgs[i]
	}
	models[0], models[1] = models[1], models[0]
	meta.Rand = bytes.NewReader(bytes.Repeat([]byte{0xab}, 16))
	second := render(t, Build(meta, pkgs, models))
	if diff := cmp.Diff(string(second), string(first)); diff != "" {
		t.Errorf("reordered input changes the output (-got +want):\n%s", diff)
	}
}

// TestBuildDecodes reads the JSON back with the CycloneDX library and
// checks the document's shape.
func TestBuildDecodes(t *testing.T) {
	t.Parallel()
	meta, pkgs, models := fixture(t)
	data := render(t, Build(meta, pkgs, models))
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if raw["specVersion"] != "1.6" || raw["bomFormat"] != "CycloneDX" || raw["$schema"] != schema16 {
		t.Errorf("header = %v %v %v, want CycloneDX 1.6", raw["bomFormat"], raw["specVersion"], raw["$schema"])
	}
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(data), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if bom.SpecVersion != cdx.SpecVersion1_6 {
		t.Errorf("specVersion = %v, want 1.6", bom.SpecVersion)
	}
	if bom.SerialNumber != "urn:uuid:abababab-abab-4bab-abab-abababababab" {
		t.Errorf("serialNumber = %q", bom.SerialNumber)
	}
	if bom.Metadata == nil || bom.Metadata.Timestamp != "2025-03-01T12:00:00Z" || bom.Metadata.Component.Name != "repo" {
		t.Fatalf("metadata = %+v", bom.Metadata)
	}
	tools := *bom.Metadata.Tools.Components
	if len(tools) != 1 || tools[0].Name != "palisade" || tools[0].Version != "v0.9.0" {
		t.Errorf("tools = %+v", tools)
	}
	refs := map[string]bool{}
	type row struct {
		Type cdx.ComponentType
		Name string
		Ref  string
		PURL string
	}
	var got []row
	for _, c := range *bom.Components {
		if refs[c.BOMRef] {
			t.Errorf("bom-ref %q repeated", c.BOMRef)
		}
		refs[c.BOMRef] = true
		got = append(got, row{c.Type, c.Name, c.BOMRef, c.PackageURL})
	}
	want := []row{
		{cdx.ComponentTypeMachineLearningModel, "legacy.pkl", "model:repo/legacy.pkl", ""},
		{cdx.ComponentTypeMachineLearningModel, "tiny-chat-7b", "model:repo/models/chat/model.safetensors", ""},
		{cdx.ComponentTypeData, "HuggingFaceH4/ultrachat_200k", "dataset:HuggingFaceH4/ultrachat_200k", ""},
		{cdx.ComponentTypeData, "imdb", "dataset:imdb", ""},
		{cdx.ComponentTypeLibrary, "github.com/spf13/cobra", "pkg:golang/github.com/spf13/cobra@v1.8.0", "pkg:golang/github.com/spf13/cobra@v1.8.0"},
		{cdx.ComponentTypeLibrary, "numpy", "pkg:pypi/numpy", "pkg:pypi/numpy"},
		{cdx.ComponentTypeLibrary, "torch", "pkg:pypi/torch@2.1.0", "pkg:pypi/torch@2.1.0"},
		{cdx.ComponentTypeLibrary, "Typing_Extensions", "pkg:pypi/typing-extensions@4.9.0", "pkg:pypi/typing-extensions@4.9.0"},
		{cdx.ComponentTypeLibrary, "weird", "pkg:cargo/weird@1", ""},
		{cdx.ComponentTypeLibrary, "cudatoolkit", "pkg:conda/cudatoolkit@11.8", "pkg:conda/cudatoolkit@11.8"},
		{cdx.ComponentTypeLibrary, "@babel/core", "pkg:npm/%40babel/core@7.23.0", "pkg:npm/%40babel/core@7.23.0"},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("components (-got +want):\n%s", diff)
	}

	// The model with a card.
	var chat cdx.Component
	for _, c := range *bom.Components {
		if c.BOMRef == "model:repo/models/chat/model.safetensors" {
			chat = c
		}
	}
	if chat.Hashes == nil || (*chat.Hashes)[0].Algorithm != cdx.HashAlgoSHA256 || (*chat.Hashes)[0].Value != strings.Repeat("0f", 32) {
		t.Errorf("hashes = %+v", chat.Hashes)
	}
	props := map[string][]string{}
	for _, p := range *chat.Properties {
		props[p.Name] = append(props[p.Name], p.Value)
	}
	wantProps := map[string][]string{
		PropFormat: {"safetensors"}, PropPath: {"repo/models/chat/model.safetensors"}, PropSize: {"1234"},
		PropCard: {"repo/models/chat/README.md"}, PropLanguage: {"en", "fr"}, PropLibraryName: {"transformers"},
	}
	if diff := cmp.Diff(props, wantProps); diff != "" {
		t.Errorf("properties (-got +want):\n%s", diff)
	}
	mc := chat.ModelCard
	if mc == nil || mc.ModelParameters == nil || mc.ModelParameters.Task != "text-generation" {
		t.Fatalf("modelCard = %+v", mc)
	}
	var dsRefs []string
	for _, d := range *mc.ModelParameters.Datasets {
		dsRefs = append(dsRefs, d.Ref)
		if !refs[d.Ref] {
			t.Errorf("dataset ref %q names no component", d.Ref)
		}
	}
	if diff := cmp.Diff(dsRefs, []string{"dataset:HuggingFaceH4/ultrachat_200k", "dataset:imdb"}); diff != "" {
		t.Errorf("datasets (-got +want):\n%s", diff)
	}
	if chat.Licenses == nil || (*chat.Licenses)[0].License.ID != "Apache-2.0" {
		t.Errorf("licenses = %+v", chat.Licenses)
	}
	if chat.Pedigree == nil || (*chat.Pedigree.Ancestors)[0].Name != "meta-llama/Llama-2-7b-hf" {
		t.Errorf("pedigree = %+v", chat.Pedigree)
	}
	if diff := cmp.Diff(*chat.Tags, []string{"text-generation", "llama"}); diff != "" {
		t.Errorf("tags (-got +want):\n%s", diff)
	}

	// Locations of the merged torch.
	for _, c := range *bom.Components {
		if c.Name != "torch" {
			continue
		}
		var locs []string
		for _, o := range *c.Evidence.Occurrences {
			l := o.Location
			if o.Line != nil {
				l += ":" + strings.TrimSpace(jsonInt(*o.Line))
			}
			locs = append(locs, l)
		}
		if diff := cmp.Diff(locs, []string{"repo/poetry.lock:12", "repo/requirements.txt:3"}); diff != "" {
			t.Errorf("torch locations (-got +want):\n%s", diff)
		}
	}
}

func jsonInt(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestMergePackages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []Package
		want []Package
	}{
		{"pypi names compare normalised", []Package{
			{Name: "Zope.Interface", Version: "6.0", Ecosystem: EcosystemPyPI, Locations: []string{"b:2"}},
			{Name: "zope-interface", Version: "6.0", Ecosystem: EcosystemPyPI, Locations: []string{"a:1"}},
		}, []Package{{Name: "Zope.Interface", Version: "6.0", Ecosystem: EcosystemPyPI, Locations: []string{"a:1", "b:2"}}}},
		{"versions differ", []Package{
			{Name: "torch", Version: "2.1.0", Ecosystem: EcosystemPyPI},
			{Name: "torch", Version: "2.0.0", Ecosystem: EcosystemPyPI},
			{Name: "torch", Ecosystem: EcosystemPyPI},
		}, []Package{
			{Name: "torch", Ecosystem: EcosystemPyPI},
			{Name: "torch", Version: "2.0.0", Ecosystem: EcosystemPyPI},
			{Name: "torch", Version: "2.1.0", Ecosystem: EcosystemPyPI},
		}},
		{"go v prefix", []Package{
			{Name: "golang.org/x/net", Version: "0.20.0", Ecosystem: EcosystemGo, Locations: []string{"go.mod:3"}},
			{Name: "golang.org/x/net", Version: "v0.20.0", Ecosystem: EcosystemGo, Locations: []string{"go.mod:3"}},
		}, []Package{{Name: "golang.org/x/net", Version: "v0.20.0", Ecosystem: EcosystemGo, Locations: []string{"go.mod:3"}}}},
		{"ecosystems differ", []Package{
			{Name: "numpy", Version: "1.26.0", Ecosystem: EcosystemPyPI},
			{Name: "numpy", Version: "1.26.0", Ecosystem: EcosystemConda},
		}, []Package{
			{Name: "numpy", Version: "1.26.0", Ecosystem: EcosystemPyPI},
			{Name: "numpy", Version: "1.26.0", Ecosystem: EcosystemConda},
		}},
		{"nameless dropped", []Package{{Name: " ", Version: "1", Ecosystem: EcosystemNPM}}, []Package{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(MergePackages(tt.in), tt.want); diff != "" {
				t.Errorf("MergePackages (-got +want):\n%s", diff)
			}
		})
	}
}

func TestModelComponent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		model Model
		check func(t *testing.T, c cdx.Component)
	}{
		{"no card, no hash", Model{Name: "m.gguf", Path: "r/m.gguf", Format: "gguf", Size: 7}, func(t *testing.T, c cdx.Component) {
			if c.Name != "m.gguf" || c.Hashes != nil || c.ModelCard != nil || c.Licenses != nil {
				t.Errorf("component = %+v", c)
			}
		}},
		{"version from caller", Model{Path: "snap/m.safetensors", Version: "0123456789abcdef0123456789abcdef01234567"}, func(t *testing.T, c cdx.Component) {
			if c.Version != "0123456789abcdef0123456789abcdef01234567" || c.Name != "snap/m.safetensors" {
				t.Errorf("name %q version %q", c.Name, c.Version)
			}
		}},
		{"hash lower-cased", Model{Path: "p", SHA256: "ABCD"}, func(t *testing.T, c cdx.Component) {
			if (*c.Hashes)[0].Value != "abcd" {
				t.Errorf("hash = %q", (*c.Hashes)[0].Value)
			}
		}},
		{"licenses", Model{Path: "p", Card: &ModelCard{License: []string{"MIT", "other", "llama3", "gpl-3.0"}, LicenseName: "fake-license"}}, func(t *testing.T, c cdx.Component) {
			var got []string
			for _, l := range *c.Licenses {
				got = append(got, "id="+l.License.ID+" name="+l.License.Name)
			}
			want := []string{"id=MIT name=", "id= name=fake-license", "id= name=llama3", "id= name=gpl-3.0"}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("licenses (-got +want):\n%s", diff)
			}
		}},
		{"card without task or datasets has no modelCard", Model{Path: "p", Card: &ModelCard{License: []string{"mit"}}}, func(t *testing.T, c cdx.Component) {
			if c.ModelCard != nil {
				t.Errorf("modelCard = %+v, want none", c.ModelCard)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bom := Build(Meta{Serial: "urn:uuid:x"}, nil, []Model{tt.model})
			tt.check(t, (*bom.Components)[0])
		})
	}
}

func TestBuildEdgeCases(t *testing.T) {
	t.Parallel()
	t.Run("empty", func(t *testing.T) {
		t.Parallel()
		bom := Build(Meta{}, nil, nil)
		if bom.Components != nil || bom.Metadata.Timestamp != "" || !strings.HasPrefix(bom.SerialNumber, "urn:uuid:") || len(bom.SerialNumber) != 45 {
			t.Errorf("bom = %+v", bom)
		}
		if bom.Metadata.Component.Name != "unnamed" {
			t.Errorf("root name = %q", bom.Metadata.Component.Name)
		}
	})
	t.Run("failing rand leaves the serial out", func(t *testing.T) {
		t.Parallel()
		bom := Build(Meta{Rand: bytes.NewReader(nil)}, nil, nil)
		if bom.SerialNumber != "" {
			t.Errorf("serial = %q", bom.SerialNumber)
		}
	})
	t.Run("repeated paths listed once, refs unique", func(t *testing.T) {
		t.Parallel()
		bom := Build(Meta{}, []Package{{Name: "model:a", Ecosystem: "x"}}, []Model{{Path: "a"}, {Path: "a"}, {Path: "b", Card: &ModelCard{Datasets: []string{"d"}}}, {Path: "c", Card: &ModelCard{Datasets: []string{"d"}}}})
		seen := map[string]bool{}
		n := 0
		for _, c := range *bom.Components {
			if seen[c.BOMRef] {
				t.Errorf("bom-ref %q repeated", c.BOMRef)
			}
			seen[c.BOMRef] = true
			if c.Type == cdx.ComponentTypeMachineLearningModel {
				n++
			}
		}
		if n != 3 || len(*bom.Components) != 5 {
			t.Errorf("%d models, %d components; want 3 and 5", n, len(*bom.Components))
		}
	})
}
