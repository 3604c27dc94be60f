package artifact

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// tinyModel is a small model directory; its packed form is golden.
var tinyModel = map[string]testFile{
	"README.md":         {data: "# tiny\n\nA test model.\n"},
	"config.json":       {data: `{"model_type":"tiny","hidden_size":4}`},
	"model.safetensors": {data: "\x0e\x00\x00\x00\x00\x00\x00\x00{\"__metadata__\":{}}"},
	"tokenizer.json":    {data: `{"version":"1.0"}`},
	"scripts/serve.sh":  {data: "#!/bin/sh\nexec python serve.py\n", exec: true},
	"scripts/serve.py":  {data: "print('serving')\n"},
	"notes.xyz":         {data: "unrecognised"},
	"empty.bin":         {data: ""},
}

func TestPackGolden(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, tinyModel)
	p, err := Pack(t.Context(), dir, Options{Name: "tiny", Version: "1.0", Config: ModelConfig{ParamSize: "1k"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct {
		file string
		data []byte
	}{{"tiny.manifest.golden", p.ManifestJSON}, {"tiny.config.golden", p.ConfigJSON}} {
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, g.data, "", "  "); err != nil {
			t.Fatal(err)
		}
		pretty.WriteByte('\n')
		name := filepath.Join("testdata", g.file)
		if *update {
			if err := os.WriteFile(name, pretty.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("%v (run go test ./internal/artifact -run TestPackGolden -update)", err)
		}
		if diff := cmp.Diff(pretty.String(), string(want)); diff != "" {
			t.Errorf("%s differs (-got +want); if the change is intended, run with -update:\n%s", name, diff)
		}
	}
}

func TestPackManifest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, tinyModel)
	p, err := Pack(t.Context(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(p.ManifestJSON, &m); err != nil {
		t.Fatal(err)
	}
	if m.SchemaVersion != 2 || m.MediaType != ocispec.MediaTypeImageManifest || m.ArtifactType != ArtifactTypeModel {
		t.Errorf("manifest header = %d %s %s", m.SchemaVersion, m.MediaType, m.ArtifactType)
	}
	if m.Config.MediaType != MediaTypeModelConfig {
		t.Errorf("config media type = %s", m.Config.MediaType)
	}
	if m.Annotations != nil {
		t.Errorf("annotations = %v, want none by default (reproducible)", m.Annotations)
	}
	var got []string
	for _, l := range m.Layers {
		got = append(got, l.Annotations[AnnotationFilepath]+" "+l.MediaType+" "+l.Annotations[AnnotationMediaTypeUntested])
	}
	want := []string{ // lexical order of slash paths
		"README.md application/vnd.cncf.model.doc.v1.raw ",
		"config.json application/vnd.cncf.model.weight.config.v1.raw ",
		"empty.bin application/vnd.cncf.model.weight.v1.raw ",
		"model.safetensors application/vnd.cncf.model.weight.v1.raw ",
		"notes.xyz application/vnd.cncf.model.code.v1.raw true",
		"scripts/serve.py application/vnd.cncf.model.code.v1.raw ",
		"scripts/serve.sh application/vnd.cncf.model.code.v1.raw ",
		"tokenizer.json application/vnd.cncf.model.weight.config.v1.raw ",
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("layers (-got +want):\n%s", diff)
	}
	var c Model
	if err := json.Unmarshal(p.ConfigJSON, &c); err != nil {
		t.Fatal(err)
	}
	if c.ModelFS.Type != "layers" || len(c.ModelFS.DiffIDs) != len(m.Layers) {
		t.Fatalf("modelfs = %+v", c.ModelFS)
	}
	for i, l := range m.Layers {
		if c.ModelFS.DiffIDs[i] != l.Digest {
			t.Errorf("diffIds[%d] = %s, want the raw layer digest %s", i, c.ModelFS.DiffIDs[i], l.Digest)
		}
	}
	if c.Config.Format != "" {
		t.Errorf("format = %q, want none: empty.bin is a weight of unknown format", c.Config.Format)
	}
	var meta FileMetadata
	if err := json.Unmarshal([]byte(m.Layers[6].Annotations[AnnotationFileMetadata]), &meta); err != nil {
		t.Fatal(err)
	}
	if want := (FileMetadata{Name: "serve.sh", Mode: 0o755, Size: int64(len(tinyModel["scripts/serve.sh"].data)), ModTime: time.Unix(0, 0).UTC(), Typeflag: '0'}); meta != want {
		t.Errorf("file metadata = %+v, want %+v", meta, want)
	}
}

func TestPackReproducible(t *testing.T) {
	t.Parallel()
	a, b := t.TempDir(), t.TempDir()
	writeTree(t, a, tinyModel)
	writeTree(t, b, tinyModel)
	// Different timestamps and an ignored .git must not matter.
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(b, "config.json"), old, old); err != nil {
		t.Fatal(err)
	}
	writeTree(t, b, map[string]testFile{".git/HEAD": {data: "ref: refs/heads/main\n"}})

	pa, err := Pack(t.Context(), a, Options{Name: "tiny"})
	if err != nil {
		t.Fatal(err)
	}
	pb, err := Pack(t.Context(), b, Options{Name: "tiny", Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if pa.Manifest.Digest != pb.Manifest.Digest {
		t.Errorf("same content packed to %s and %s", pa.Manifest.Digest, pb.Manifest.Digest)
	}

	created := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	pc, err := Pack(t.Context(), a, Options{Name: "tiny", Created: created})
	if err != nil {
		t.Fatal(err)
	}
	if pc.Manifest.Digest == pa.Manifest.Digest {
		t.Error("Created did not change the digest")
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(pc.ManifestJSON, &m); err != nil {
		t.Fatal(err)
	}
	if got := m.Annotations[ocispec.AnnotationCreated]; got != "2025-06-01T12:00:00Z" {
		t.Errorf("created annotation = %q", got)
	}
	var c Model
	if err := json.Unmarshal(pc.ConfigJSON, &c); err != nil {
		t.Fatal(err)
	}
	if c.Descriptor.CreatedAt == nil || !c.Descriptor.CreatedAt.Equal(created) {
		t.Errorf("createdAt = %v", c.Descriptor.CreatedAt)
	}
}

func TestPackWalk(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir, outside string)
		want    []string // packed paths
		wantErr error
	}{
		{
			name: "skips .git and orders by slash path",
			setup: func(t *testing.T, dir, _ string) {
				writeTree(t, dir, map[string]testFile{"a.txt": {}, "a/b": {}, "b": {}, ".git/config": {}, "sub/.git": {}})
			},
			want: []string{"a.txt", "a/b", "b"}, // '.' sorts before '/'
		},
		{
			name: "symbolic link inside the directory",
			setup: func(t *testing.T, dir, _ string) {
				writeTree(t, dir, map[string]testFile{"real.bin": {data: "x"}})
				symlink(t, "real.bin", filepath.Join(dir, "alias.bin"))
			},
			want: []string{"alias.bin", "real.bin"},
		},
		{
			name: "symbolic link leaving the directory",
			setup: func(t *testing.T, dir, outside string) {
				writeTree(t, outside, map[string]testFile{"secret": {data: "x"}})
				symlink(t, filepath.Join(outside, "secret"), filepath.Join(dir, "model.bin"))
			},
			wantErr: ErrUnsafeLink,
		},
		{
			name: "relative symbolic link climbing out",
			setup: func(t *testing.T, dir, _ string) {
				writeTree(t, dir, map[string]testFile{"sub/x": {}})
				symlink(t, "../../../../../../etc/passwd", filepath.Join(dir, "sub/passwd"))
			},
			wantErr: ErrUnsafeLink,
		},
		{
			name: "symbolic link to a directory",
			setup: func(t *testing.T, dir, _ string) {
				writeTree(t, dir, map[string]testFile{"sub/x": {}})
				symlink(t, "sub", filepath.Join(dir, "loop"))
			},
			wantErr: ErrUnsupportedFile,
		},
		{
			name: "case collision",
			setup: func(t *testing.T, dir, _ string) {
				writeTree(t, dir, map[string]testFile{"Model.bin": {}, "model.bin": {}})
				if len(entries(t, dir)) < 2 {
					t.Skip("case-insensitive file system")
				}
			},
			wantErr: ErrInvalidPath,
		},
		{
			name: "name with a backslash",
			setup: func(t *testing.T, dir, _ string) {
				writeTree(t, dir, map[string]testFile{`a\b`: {}})
			},
			wantErr: ErrInvalidPath,
		},
		{
			name: "empty directory",
			setup: func(t *testing.T, dir, _ string) {
				writeTree(t, dir, map[string]testFile{".git/HEAD": {}})
			},
			wantErr: ErrEmpty,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir, outside := t.TempDir(), t.TempDir()
			tt.setup(t, dir, outside)
			p, err := Pack(t.Context(), dir, Options{})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Pack error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			var got []string
			for _, f := range p.Files {
				got = append(got, f.Path)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("paths (-got +want):\n%s", diff)
			}
		})
	}
}

func TestPackOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]testFile{"a.gguf": {data: "GGUF"}, "b.safetensors": {data: "{}"}})
	tests := []struct {
		name       string
		opts       Options
		wantErr    error
		wantFormat string
	}{
		{"mixed weights guess no format", Options{}, nil, ""},
		{"explicit format", Options{Config: ModelConfig{Format: "gguf"}}, nil, "gguf"},
		{"bad paramSize", Options{Config: ModelConfig{ParamSize: "7 billion"}}, ErrInvalidManifest, ""},
		{"good paramSize", Options{Config: ModelConfig{ParamSize: "6.7B"}}, nil, ""},
		{"bad modality", Options{Config: ModelConfig{Capabilities: &ModelCapabilities{InputTypes: []string{"smell"}}}}, ErrInvalidManifest, ""},
		{"bad kind", Options{Kind: "image"}, ErrUnsupported, ""},
		{"references on a model", Options{References: []Reference{{URI: "file:///x", Digest: "sha256:" + zeros}}}, ErrUnsupported, ""},
		{"empty annotation key", Options{Annotations: map[string]string{"": "x"}}, ErrInvalidManifest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := Pack(t.Context(), dir, tt.opts)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Pack error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			var c Model
			if err := json.Unmarshal(p.ConfigJSON, &c); err != nil {
				t.Fatal(err)
			}
			if c.Config.Format != tt.wantFormat {
				t.Errorf("format = %q, want %q", c.Config.Format, tt.wantFormat)
			}
		})
	}
}

func TestPackDataset(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]testFile{"train.parquet": {data: "PAR1"}, "README.md": {data: "# data"}, "load.py": {data: "pass"}})
	p, err := Pack(t.Context(), dir, Options{Kind: KindDataset, Name: "corpus"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Manifest.ArtifactType != ArtifactTypeDataset || p.Config.MediaType != MediaTypeDatasetConfig {
		t.Errorf("artifactType %s, config %s", p.Manifest.ArtifactType, p.Config.MediaType)
	}
	got := map[string]string{}
	for _, f := range p.Files {
		got[f.Path] = f.Layer.MediaType
	}
	want := map[string]string{
		"README.md":     "application/vnd.cncf.model.doc.v1.raw",
		"load.py":       "application/vnd.cncf.model.code.v1.raw",
		"train.parquet": "application/vnd.cncf.model.dataset.v1.raw",
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("layers (-got +want):\n%s", diff)
	}
}

func TestGuessFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		paths []string
		want  string
	}{
		{[]string{"model-1.safetensors", "model-2.SAFETENSORS", "config.json"}, "safetensors"},
		{[]string{"model.gguf"}, "gguf"},
		{[]string{"a.pt", "b.pth"}, "pt"},
		{[]string{"model.onnx", "model.gguf"}, ""},
		{[]string{"pytorch_model.bin"}, ""},
		{[]string{"README.md"}, ""},
	}
	for _, tt := range tests {
		var files []File
		for _, p := range tt.paths {
			k, _ := Classify(p, KindModel)
			files = append(files, File{Path: p, Kind: k})
		}
		if got := guessFormat(files); got != tt.want {
			t.Errorf("guessFormat(%v) = %q, want %q", tt.paths, got, tt.want)
		}
	}
}

const zeros = "0000000000000000000000000000000000000000000000000000000000000000"

func symlink(t *testing.T, target, name string) {
	t.Helper()
	if err := os.Symlink(target, name); err != nil {
		t.Skipf("symlink: %v", err)
	}
}
