package artifact

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content/memory"
)

// lake writes data files outside any artifact and returns references to
// them: the first as a file:// URI, the second as a plain path.
func lake(t *testing.T) (string, []Reference) {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, map[string]testFile{"train.parquet": {data: "PAR1 train rows PAR1"}, "eval.csv": {data: "a,b\n1,2\n"}})
	train := filepath.Join(dir, "train.parquet")
	eval := filepath.Join(dir, "eval.csv")
	return dir, []Reference{
		{URI: "file://" + filepath.ToSlash(train), Size: 20, Digest: digest.FromString("PAR1 train rows PAR1"), MediaType: "application/vnd.apache.parquet"},
		{URI: eval, Size: 8, Digest: digest.FromString("a,b\n1,2\n")},
	}
}

func TestDatasetReferences(t *testing.T) {
	t.Parallel()
	dir, refs := lake(t)
	p, err := PackReferences(refs, Options{Name: "corpus", Version: "2025-06"})
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(p.ManifestJSON, &m); err != nil {
		t.Fatal(err)
	}
	if m.ArtifactType != ArtifactTypeDataset || m.Config.MediaType != MediaTypeDatasetConfig {
		t.Errorf("artifactType %s, config %s", m.ArtifactType, m.Config.MediaType)
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != ocispec.MediaTypeEmptyJSON || !p.EmptyLayer {
		t.Errorf("layers = %+v, want only the empty descriptor", m.Layers)
	}

	store := memory.New()
	if _, err := Push(t.Context(), p, store, "v1", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "out")
	got, err := Pull(t.Context(), store, "v1", dst, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Format != FormatDataset || got.Dataset == nil || len(got.Files) != 0 || len(got.Skipped) != 1 {
		t.Fatalf("Pulled = %+v", got)
	}
	if diff := cmp.Diff(got.Dataset.References, refs); diff != "" {
		t.Errorf("references (-got +want):\n%s", diff)
	}
	if got.Dataset.Descriptor.Name != "corpus" || got.Dataset.DataFS.Type != "layers" {
		t.Errorf("dataset config = %+v", got.Dataset)
	}
	if e := entries(t, dst); len(e) != 0 {
		t.Errorf("pull of a reference-only dataset wrote %v", e)
	}

	for _, r := range got.Dataset.References {
		if err := CheckReference(t.Context(), r, OpenLocal); err != nil {
			t.Errorf("CheckReference(%s) = %v", r.URI, err)
		}
	}
	// The lake changes under the artifact.
	writeTree(t, dir, map[string]testFile{"train.parquet": {data: "PAR1 TRAIN ROWS PAR1"}, "eval.csv": {data: "a,b\n1,2\n3,4\n"}})
	for i, want := range []error{ErrDigestMismatch, ErrSizeMismatch} {
		r := got.Dataset.References[i]
		err := CheckReference(t.Context(), r, OpenLocal)
		var ve *VerifyError
		if !errors.Is(err, want) || !errors.As(err, &ve) || ve.WantDigest != r.Digest || ve.Subject != "reference "+r.URI {
			t.Errorf("CheckReference(%s) after change = %v, want %v naming the reference", r.URI, err, want)
		}
	}
}

func TestPackDatasetWithReferences(t *testing.T) {
	t.Parallel()
	_, refs := lake(t)
	store, p := packPush(t, map[string]testFile{"README.md": {data: "# card"}, "sample.jsonl": {data: "{}\n"}}, Options{Kind: KindDataset, References: refs})
	if p.EmptyLayer || len(p.Files) != 2 {
		t.Fatalf("Packed = %+v", p)
	}
	got, err := Pull(t.Context(), store, "v1", filepath.Join(t.TempDir(), "out"), PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Files) != 2 || len(got.Dataset.References) != 2 || len(got.Dataset.DataFS.DiffIDs) != 2 {
		t.Errorf("Pulled = %+v", got)
	}
}

func TestReferenceValidation(t *testing.T) {
	t.Parallel()
	ok := Reference{URI: "s3://bucket/key.parquet", Size: 1, Digest: digest.FromString("x")}
	tests := []struct {
		name string
		refs []Reference
	}{
		{"empty URI", []Reference{{Digest: ok.Digest}}},
		{"credentials", []Reference{{URI: "https://user:secret@host/x", Digest: ok.Digest}}},
		{"control character", []Reference{{URI: "file:///a\nb", Digest: ok.Digest}}},
		{"negative size", []Reference{{URI: "s3://b/k", Size: -1, Digest: ok.Digest}}},
		{"bad digest", []Reference{{URI: "s3://b/k", Digest: "sha256:xyz"}}},
		{"bad media type", []Reference{{URI: "s3://b/k", Digest: ok.Digest, MediaType: "parquet"}}},
		{"duplicate", []Reference{ok, ok}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := PackReferences(tt.refs, Options{})
			if !errors.Is(err, ErrInvalidManifest) {
				t.Errorf("PackReferences = %v, want ErrInvalidManifest", err)
			}
			if strings.Contains(tt.name, "credentials") && err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q repeats the password", err)
			}
		})
	}
	if _, err := PackReferences(nil, Options{}); !errors.Is(err, ErrEmpty) {
		t.Errorf("PackReferences(nil) = %v, want ErrEmpty", err)
	}
	if _, err := PackReferences([]Reference{ok}, Options{Kind: KindModel}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("PackReferences for a model = %v, want ErrUnsupported", err)
	}
}

func TestOpenLocal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]testFile{"x": {data: "hello"}})
	x := filepath.Join(dir, "x")
	tests := []struct {
		uri     string
		wantErr error // nil: opens "hello"
	}{
		{"file://" + filepath.ToSlash(x), nil},
		{"file://localhost" + filepath.ToSlash(x), nil},
		{x, nil},
		{"s3://bucket/key", ErrUnsupported},
		{"https://example.com/x", ErrUnsupported},
		{"file://otherhost/x", ErrUnsupported},
		{"file://" + filepath.ToSlash(dir), ErrUnsupportedFile},
		{filepath.Join(dir, "missing"), os.ErrNotExist},
	}
	for _, tt := range tests {
		rc, err := OpenLocal(tt.uri)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("OpenLocal(%s) = %v, want %v", tt.uri, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || string(b) != "hello" {
			t.Errorf("OpenLocal(%s) read %q, %v", tt.uri, b, err)
		}
	}
}

func TestCheckReferenceOpenerError(t *testing.T) {
	t.Parallel()
	boom := errors.New("network down")
	r := Reference{URI: "https://lake.example/x", Size: 1, Digest: digest.FromString("x")}
	err := CheckReference(t.Context(), r, func(string) (io.ReadCloser, error) { return nil, boom })
	if !errors.Is(err, boom) {
		t.Errorf("CheckReference = %v, want the opener's error", err)
	}
	err = CheckReference(t.Context(), r, func(string) (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader("x and more")), nil
	})
	if !errors.Is(err, ErrSizeMismatch) {
		t.Errorf("CheckReference of a longer object = %v, want ErrSizeMismatch", err)
	}
}
