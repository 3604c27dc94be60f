package app

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"
)

// sbomTree writes a small ML project and returns its directory.
func sbomTree(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "proj")
	header := []byte(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`)
	st := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	st = append(append(st, header...), 0, 0, 0x80, 0x3f)
	var notModel bytes.Buffer
	zw := zip.NewWriter(&notModel)
	w, _ := zw.Create("rows.csv")
	w.Write([]byte("a,b\n1,2\n"))
	zw.Close()
	var torch bytes.Buffer
	zw = zip.NewWriter(&torch)
	w, _ = zw.Create("archive/data.pkl")
	w.Write([]byte("\x80\x02}q\x00."))
	zw.Close()
	files := map[string][]byte{
		"models/chat/model.safetensors": st,
		"models/chat/README.md":         []byte("---\nlicense: apache-2.0\npipeline_tag: text-generation\ndatasets: [imdb]\nmodel_name: chat-mini\n---\n# chat\n"),
		"models/chat/config.json":       []byte(`{"architectures": ["LlamaForCausalLM"]}`),
		"legacy/model.pkl":              []byte("\x80\x02}q\x00."),
		"legacy/checkpoint":             torch.Bytes(),
		"data/rows.zip":                 notModel.Bytes(),
		"requirements.txt":              []byte("torch==2.1.0\nnumpy>=1.26\nTyping_Extensions==4.9.0\n"),
		"train/requirements.txt":        []byte("torch==2.1.0\n"),
		"go.mod":                        []byte("module example.com/proj\n\ngo 1.22\n\nrequire github.com/spf13/cobra v1.8.0\n"),
		"broken/poetry.lock":            []byte("[[package]\nname = \"x\n"),
		"README.md":                     []byte("---\nlicense: mit\nmodel_name: root-card\n---\n"),
		".git/objects/model.pkl":        []byte("\x80\x02}q\x00."),
		"empty.pkl":                     nil,
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A link to a file inside the tree is the same file; a link to a
	// directory is not followed.
	if err := os.Symlink(filepath.Join(dir, "legacy", "model.pkl"), filepath.Join(dir, "zz-link.pkl")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "models"), filepath.Join(dir, "models-link")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runSBOM(t *testing.T, paths ...string) (*cdx.BOM, []string) {
	t.Helper()
	var out bytes.Buffer
	env := sbomEnv{now: func() time.Time { return time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC) }, rand: bytes.NewReader(make([]byte, 16))}
	warnings, err := writeSBOM(t.Context(), paths, &out, env)
	if err != nil {
		t.Fatalf("SBOM: %v", err)
	}
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(&out, cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return &bom, warnings
}

func TestSBOM(t *testing.T) {
	t.Parallel()
	dir := sbomTree(t)
	bom, warnings := runSBOM(t, dir)
	if bom.SpecVersion != cdx.SpecVersion1_6 || bom.Metadata.Component.Name != "proj" || bom.Metadata.Timestamp != "2025-03-01T00:00:00Z" {
		t.Errorf("header: spec %v, root %q, time %q", bom.SpecVersion, bom.Metadata.Component.Name, bom.Metadata.Timestamp)
	}
	type model struct{ Name, Format, Path, Card string }
	var models []model
	var pkgs []string
	hashes := map[string]string{}
	for _, c := range *bom.Components {
		props := map[string]string{}
		if c.Properties != nil {
			for _, p := range *c.Properties {
				props[p.Name] = p.Value
			}
		}
		switch c.Type {
		case cdx.ComponentTypeMachineLearningModel:
			rel, _ := filepath.Rel(dir, filepath.FromSlash(props["palisade:model:path"]))
			card := ""
			if props["palisade:modelcard:path"] != "" {
				card, _ = filepath.Rel(dir, filepath.FromSlash(props["palisade:modelcard:path"]))
			}
			models = append(models, model{c.Name, props["palisade:model:format"], filepath.ToSlash(rel), filepath.ToSlash(card)})
			hashes[filepath.ToSlash(rel)] = (*c.Hashes)[0].Value
		case cdx.ComponentTypeLibrary:
			var locs []string
			for _, o := range *c.Evidence.Occurrences {
				rel, _ := filepath.Rel(dir, filepath.FromSlash(o.Location))
				l := filepath.ToSlash(rel)
				if o.Line != nil {
					l += ":" + strconv.Itoa(*o.Line)
				}
				locs = append(locs, l)
			}
			pkgs = append(pkgs, c.PackageURL+" "+strings.Join(locs, ","))
		}
	}
	// The root README's card covers the two legacy models (its model_name
	// names them); the chat model has a card of its own. The .git model,
	// the empty file, the data zip, the config.json and the link to
	// model.pkl are not models of their own.
	wantModels := []model{
		{"root-card", "pytorch", "legacy/checkpoint", "README.md"},
		{"root-card", "pickle", "legacy/model.pkl", "README.md"},
		{"chat-mini", "safetensors", "models/chat/model.safetensors", "models/chat/README.md"},
	}
	if diff := cmp.Diff(models, wantModels); diff != "" {
		t.Errorf("models (-got +want):\n%s", diff)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "models", "chat", "model.safetensors"))
	sum := sha256.Sum256(data)
	if got := hashes["models/chat/model.safetensors"]; got != hex.EncodeToString(sum[:]) {
		t.Errorf("safetensors hash = %s, want %x", got, sum)
	}
	wantPkgs := []string{
		"pkg:golang/github.com/spf13/cobra@v1.8.0 go.mod:5",
		"pkg:golang/stdlib@v1.22 go.mod:3", // the go directive, as osv-scalibr reports it
		"pkg:pypi/numpy requirements.txt:2",
		"pkg:pypi/torch@2.1.0 requirements.txt:1,train/requirements.txt:1",
		"pkg:pypi/typing-extensions@4.9.0 requirements.txt:3",
	}
	if diff := cmp.Diff(pkgs, wantPkgs); diff != "" {
		t.Errorf("packages (-got +want):\n%s", diff)
	}
	var datasets []string
	for _, c := range *bom.Components {
		if c.Type == cdx.ComponentTypeData {
			datasets = append(datasets, c.Name)
		}
	}
	if diff := cmp.Diff(datasets, []string{"imdb"}); diff != "" {
		t.Errorf("datasets (-got +want):\n%s", diff)
	}
	if len(warnings) != 2 || !strings.Contains(warnings[0]+warnings[1], "poetry.lock") || !slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, "1 symbolic link(s)") }) {
		t.Errorf("warnings = %q, want the broken poetry.lock and the skipped directory link", warnings)
	}
}

func TestSBOMFileArgumentAndCardBoundary(t *testing.T) {
	t.Parallel()
	dir := sbomTree(t)
	// Named alone, the model's card is looked for in its own directory
	// only: the project's root README is above the root.
	bom, _ := runSBOM(t, filepath.Join(dir, "legacy", "model.pkl"))
	if len(*bom.Components) != 1 {
		t.Fatalf("components = %+v", *bom.Components)
	}
	c := (*bom.Components)[0]
	if c.Name != "model.pkl" || c.ModelCard != nil || c.Licenses != nil || bom.Metadata.Component.Name != "model.pkl" {
		t.Errorf("component %q, card %+v, root %q", c.Name, c.ModelCard, bom.Metadata.Component.Name)
	}
	// A subdirectory as root: the chat model's card is found, the
	// project's README above it is not used.
	bom, _ = runSBOM(t, filepath.Join(dir, "legacy"), filepath.Join(dir, "models"))
	if bom.Metadata.Component.Name != "legacy + models" {
		t.Errorf("root = %q", bom.Metadata.Component.Name)
	}
	for _, c := range *bom.Components {
		if c.Type == cdx.ComponentTypeMachineLearningModel && strings.HasPrefix(c.Name, "root-card") {
			t.Errorf("model %q took the card above its root", c.Name)
		}
	}
}

func TestSBOMErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out bytes.Buffer
	_, err := writeSBOM(t.Context(), []string{filepath.Join(dir, "absent")}, &out, sbomEnv{now: time.Now})
	if !errors.Is(err, fs.ErrNotExist) || out.Len() != 0 {
		t.Errorf("missing path: err %v, wrote %d bytes", err, out.Len())
	}
	if os.Geteuid() != 0 {
		p := filepath.Join(dir, "secret.pkl")
		if err := os.WriteFile(p, []byte("\x80\x02."), 0o000); err != nil {
			t.Fatal(err)
		}
		_, err = writeSBOM(t.Context(), []string{dir}, &out, sbomEnv{now: time.Now})
		if !errors.Is(err, fs.ErrPermission) || out.Len() != 0 {
			t.Errorf("unreadable file: err %v, wrote %d bytes", err, out.Len())
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = writeSBOM(ctx, []string{sbomTree(t)}, &out, sbomEnv{now: time.Now})
	if err == nil || out.Len() != 0 {
		t.Errorf("cancelled: err %v, wrote %d bytes", err, out.Len())
	}
}

// TestSBOMCompressedModels lists whole-file compressed joblib and pickle
// models (joblib's compress= option) by their name, and leaves other
// compressed files out.
func TestSBOMCompressedModels(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	compress := func(name string, data []byte) {
		var b bytes.Buffer
		zw := zlib.NewWriter(&b)
		if _, err := zw.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	compress("pipeline.joblib", []byte("\x80\x04N."))
	compress("logs.z", []byte("not a model"))
	bom, _ := runSBOM(t, dir)
	var got []string
	for _, c := range *bom.Components {
		if c.Type != cdx.ComponentTypeMachineLearningModel {
			continue
		}
		for _, p := range *c.Properties {
			if strings.HasSuffix(p.Name, ":format") {
				got = append(got, c.Name+" "+p.Value)
			}
		}
	}
	if diff := cmp.Diff(got, []string{"pipeline.joblib joblib+zlib"}); diff != "" {
		t.Errorf("models (-got +want):\n%s", diff)
	}
}
