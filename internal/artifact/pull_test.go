package artifact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/file"
	"oras.land/oras-go/v2/content/memory"
)

var treeCmp = cmp.AllowUnexported(testFile{})

// packPush packs files and pushes them to a new memory store as "v1".
func packPush(t *testing.T, files map[string]testFile, opts Options) (*memory.Store, Packed) {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, files)
	p, err := Pack(t.Context(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	store := memory.New()
	if _, err := Push(t.Context(), p, store, "v1", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	return store, p
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	tree := map[string]testFile{}
	for k, v := range tinyModel {
		tree[k] = v
	}
	tree["deep/er/still/weights.bin"] = testFile{data: strings.Repeat("w", 3<<20)} // several chunks
	tree["dup-a.bin"] = testFile{data: "same"}
	tree["dup-b.bin"] = testFile{data: "same"}

	tests := []struct {
		name    string
		prepare func(t *testing.T, dst string) // dst does not exist yet
		force   bool
		wantErr error
		extra   []string // files besides the artifact's that must remain
	}{
		{name: "new directory", prepare: func(*testing.T, string) {}},
		{name: "new directory with missing parents", prepare: func(t *testing.T, dst string) {}},
		{name: "existing empty directory", prepare: func(t *testing.T, dst string) {
			if err := os.Mkdir(dst, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "non-empty directory", prepare: func(t *testing.T, dst string) {
			writeTree(t, dst, map[string]testFile{"keep.txt": {data: "mine"}})
		}, wantErr: ErrNotEmpty},
		{name: "non-empty directory, forced", prepare: func(t *testing.T, dst string) {
			writeTree(t, dst, map[string]testFile{"keep.txt": {data: "mine"}, "README.md": {data: "old"}})
		}, force: true, extra: []string{"keep.txt"}},
	}
	store, p := packPush(t, tree, Options{Name: "tiny"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dst := filepath.Join(t.TempDir(), "out")
			if strings.Contains(tt.name, "missing parents") {
				dst = filepath.Join(t.TempDir(), "a", "b", "out")
			}
			tt.prepare(t, dst)
			var last, total int64
			got, err := Pull(t.Context(), store, "v1", dst, PullOptions{Force: tt.force, Progress: func(done, tot int64) { last, total = done, tot }})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Pull error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if diff := cmp.Diff(readTree(t, dst), map[string]testFile{"keep.txt": {data: "mine"}}, treeCmp); diff != "" {
					t.Errorf("refused pull changed the directory (-got +want):\n%s", diff)
				}
				return
			}
			want := map[string]testFile{}
			for k, v := range tree {
				want[k] = v
			}
			for _, e := range tt.extra {
				want[e] = testFile{data: "mine"}
			}
			if diff := cmp.Diff(readTree(t, dst), want, treeCmp); diff != "" {
				t.Errorf("pulled tree (-got +want):\n%s", diff)
			}
			if got.Format != FormatModelPack || got.Model == nil || got.Model.Descriptor.Name != "tiny" {
				t.Errorf("Pulled = %+v", got)
			}
			if got.Manifest.Digest != p.Manifest.Digest || len(got.Files) != len(tree) {
				t.Errorf("Pulled manifest %s with %d files, want %s with %d", got.Manifest.Digest, len(got.Files), p.Manifest.Digest, len(tree))
			}
			if last != total || total != p.Size()-p.Config.Size {
				t.Errorf("progress ended at %d/%d, want %d", last, total, p.Size()-p.Config.Size)
			}
			fi, err := os.Stat(dst)
			if err != nil || fi.Mode().Perm() != 0o755 && tt.name == "new directory" {
				t.Errorf("destination mode = %v, %v", fi.Mode(), err)
			}
			for _, e := range entries(t, filepath.Dir(dst)) {
				if strings.HasPrefix(e, tmpPrefix) {
					t.Errorf("temporary directory %s left behind", e)
				}
			}
			for _, e := range entries(t, dst) {
				if strings.HasPrefix(e, tmpPrefix) {
					t.Errorf("temporary directory %s left behind in the destination", e)
				}
			}
		})
	}
}

func TestPushSkipsExisting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, tinyModel)
	p, err := Pack(t.Context(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	target := &countingTarget{Target: memory.New()}
	var last, total int64
	progress := func(done, tot int64) { last, total = done, tot }
	desc, err := Push(t.Context(), p, target, "v1", PushOptions{Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest != p.Manifest.Digest || desc.ArtifactType != ArtifactTypeModel {
		t.Errorf("Push returned %+v", desc)
	}
	first := target.pushes.Load()
	if want := int64(len(p.Files) + 2); first != want { // files, config, manifest
		t.Errorf("first push made %d pushes, want %d", first, want)
	}
	if last != total || total != p.Size() {
		t.Errorf("progress ended at %d/%d, want %d", last, total, p.Size())
	}
	if _, err := Push(t.Context(), p, target, "v2", PushOptions{Progress: progress}); err != nil {
		t.Fatal(err)
	}
	if n := target.pushes.Load() - first; n != 0 {
		t.Errorf("second push made %d pushes, want 0: every blob exists", n)
	}
	if last != total {
		t.Errorf("second push progress ended at %d/%d", last, total)
	}
	if d, err := target.Resolve(t.Context(), "v2"); err != nil || d.Digest != p.Manifest.Digest {
		t.Errorf("v2 resolves to %v, %v", d.Digest, err)
	}
}

func TestPushDetectsChangedFile(t *testing.T) {
	t.Parallel()
	for _, change := range []string{"same size", "longer", "shorter"} {
		t.Run(change, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeTree(t, dir, map[string]testFile{"model.bin": {data: "original"}})
			p, err := Pack(t.Context(), dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			data := map[string]string{"same size": "ORIGINAL", "longer": "original+", "shorter": "orig"}[change]
			writeTree(t, dir, map[string]testFile{"model.bin": {data: data}})
			for _, target := range []oras.Target{memory.New(), newDiskStore(t)} {
				_, err = Push(t.Context(), p, target, "v1", PushOptions{})
				var ve *VerifyError
				if !errors.As(err, &ve) || ve.Subject != "file model.bin" {
					t.Errorf("%T: Push of a changed file = %v, want a VerifyError naming it", target, err)
				}
			}
		})
	}
}

func TestPushRefusesEditedPacked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, tinyModel)
	p, err := Pack(t.Context(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.ManifestJSON = append([]byte(nil), p.ManifestJSON...)
	p.ManifestJSON[len(p.ManifestJSON)-2] ^= 1
	if _, err := Push(t.Context(), p, memory.New(), "v1", PushOptions{}); !errors.Is(err, ErrInvalidManifest) {
		t.Errorf("Push of edited manifest bytes = %v, want ErrInvalidManifest", err)
	}
}

func TestPullTampered(t *testing.T) {
	t.Parallel()
	files := map[string]testFile{
		"a.bin": {data: strings.Repeat("a", 100)},
		"b.bin": {data: strings.Repeat("b", 3<<20)},
		"c.bin": {data: strings.Repeat("c", 100)},
	}
	for _, victim := range []string{"a.bin", "b.bin", "c.bin"} {
		for _, existing := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/existing=%v", victim, existing), func(t *testing.T) {
				t.Parallel()
				src := t.TempDir()
				writeTree(t, src, files)
				p, err := Pack(t.Context(), src, Options{})
				if err != nil {
					t.Fatal(err)
				}
				store := newDiskStore(t)
				if _, err := Push(t.Context(), p, store, "v1", PushOptions{}); err != nil {
					t.Fatal(err)
				}
				var layer ocispec.Descriptor
				for _, f := range p.Files {
					if f.Path == victim {
						layer = f.Layer
					}
				}
				store.tamper(t, layer, layer.Size-1)

				parent := t.TempDir()
				dst := filepath.Join(parent, "out")
				if existing {
					if err := os.Mkdir(dst, 0o755); err != nil {
						t.Fatal(err)
					}
				}
				_, err = Pull(t.Context(), store, "v1", dst, PullOptions{Concurrency: 1})
				var ve *VerifyError
				if !errors.As(err, &ve) || !errors.Is(err, ErrDigestMismatch) {
					t.Fatalf("Pull of a tampered layer = %v, want a digest mismatch", err)
				}
				if ve.Subject != "file "+victim || ve.WantDigest != layer.Digest || ve.GotDigest == layer.Digest || ve.GotDigest == "" {
					t.Errorf("VerifyError = %+v, want file %s, digest %s and the digest served", ve, victim, layer.Digest)
				}
				for _, s := range []string{victim, string(layer.Digest), string(ve.GotDigest)} {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not name %s", err, s)
					}
				}
				if existing {
					if got := entries(t, dst); len(got) != 0 {
						t.Errorf("destination holds %v after a failed pull, want it empty", got)
					}
				} else if got := entries(t, parent); len(got) != 0 {
					t.Errorf("parent holds %v after a failed pull, want nothing", got)
				}
			})
		}
	}
}

// TestPullRejectsPaths pushes raw layers with hostile path annotations;
// Pull must refuse them before writing anything.
func TestPullRejectsPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		paths []string
	}{
		{"parent", []string{"../x"}},
		{"absolute", []string{"/etc/passwd"}},
		{"climbing", []string{"a/../../b"}},
		{"backslash", []string{`..\x`}},
		{"NUL", []string{"a\x00b"}},
		{"git hook", []string{".git/hooks/post-checkout"}},
		{"overlong", []string{strings.Repeat("x", 300)}},
		{"duplicate", []string{"a.bin", "a.bin"}},
		{"case collision", []string{"A.bin", "a.bin"}},
		{"file and directory", []string{"a", "a/b"}},
		{"missing", []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var layers []blob
			var ids []digest.Digest
			for i, p := range tt.paths {
				l := rawLayer(p, fmt.Sprintf("content %d", i))
				layers = append(layers, l)
				ids = append(ids, digest.FromBytes(l.data))
			}
			store := pushArtifact(t, ArtifactTypeModel, modelConfig(t, ids...), layers)
			parent := t.TempDir()
			_, err := Pull(t.Context(), store, "v1", filepath.Join(parent, "out"), PullOptions{})
			if !errors.Is(err, ErrInvalidPath) && !errors.Is(err, ErrInvalidManifest) {
				t.Fatalf("Pull = %v, want ErrInvalidPath", err)
			}
			if got := entries(t, parent); len(got) != 0 {
				t.Errorf("parent holds %v after a refused pull", got)
			}
		})
	}
}

func TestPullLimits(t *testing.T) {
	t.Parallel()
	three := []blob{rawLayer("a", "1"), rawLayer("b", "22"), rawLayer("c", "333")}
	ids := []digest.Digest{digest.FromString("1"), digest.FromString("22"), digest.FromString("333")}
	tests := []struct {
		name   string
		limits Limits
		ok     bool
	}{
		{"within", Limits{MaxLayers: 3, MaxFiles: 3, MaxTotalSize: 6}, true},
		{"layers", Limits{MaxLayers: 2}, false},
		{"total size", Limits{MaxTotalSize: 5}, false},
		{"files", Limits{MaxFiles: 2}, false},
	}
	store := pushArtifact(t, ArtifactTypeModel, modelConfig(t, ids...), three)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			parent := t.TempDir()
			_, err := Pull(t.Context(), store, "v1", filepath.Join(parent, "out"), PullOptions{Limits: tt.limits})
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var le *LimitError
			if !errors.As(err, &le) || !errors.Is(err, ErrLimit) {
				t.Fatalf("Pull = %v, want a LimitError", err)
			}
			if got := entries(t, parent); len(got) != 0 {
				t.Errorf("parent holds %v after a refused pull", got)
			}
		})
	}

	t.Run("manifest size", func(t *testing.T) {
		t.Parallel()
		store := memory.New()
		big := ocispec.Manifest{
			Versioned:   specs.Versioned{SchemaVersion: 2},
			MediaType:   ocispec.MediaTypeImageManifest,
			Config:      ocispec.DescriptorEmptyJSON,
			Layers:      []ocispec.Descriptor{ocispec.DescriptorEmptyJSON},
			Annotations: map[string]string{"padding": strings.Repeat("x", MaxManifestSize)},
		}
		pushManifest(t, store, big)
		_, err := Pull(t.Context(), store, "v1", filepath.Join(t.TempDir(), "out"), PullOptions{})
		if !errors.Is(err, ErrLimit) {
			t.Fatalf("Pull of a %d-byte manifest = %v, want ErrLimit", MaxManifestSize, err)
		}
	})
}

// TestPullORAS pulls what the oras CLI pushes: files named by their title
// annotation and a directory as a gzip-compressed tar.
func TestPullORAS(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	work := t.TempDir()
	writeTree(t, work, map[string]testFile{
		"model.onnx":         {data: "onnx bytes"},
		"extra/notes.txt":    {data: "notes"},
		"extra/run.sh":       {data: "#!/bin/sh\n", exec: true},
		"extra/deep/x.json":  {data: "{}"},
		"not-pushed/ignored": {data: "-"},
	})
	fs, err := file.New(work)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	var layers []ocispec.Descriptor
	for _, name := range []string{"model.onnx", "extra"} {
		d, err := fs.Add(ctx, name, "", "")
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, d)
	}
	// A layer without a title is skipped, as the oras CLI does.
	untitled, err := oras.PushBytes(ctx, fs, "application/octet-stream", []byte("anonymous"))
	if err != nil {
		t.Fatal(err)
	}
	layers = append(layers, untitled)
	md, err := oras.PackManifest(ctx, fs, oras.PackManifestVersion1_1, "application/vnd.example.thing", oras.PackManifestOptions{Layers: layers})
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Tag(ctx, md, "v1"); err != nil {
		t.Fatal(err)
	}
	store := memory.New()
	if _, err := oras.Copy(ctx, fs, "v1", store, "v1", oras.DefaultCopyOptions); err != nil {
		t.Fatal(err)
	}

	dst := filepath.Join(t.TempDir(), "out")
	got, err := Pull(ctx, store, "v1", dst, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]testFile{
		"model.onnx":        {data: "onnx bytes"},
		"extra/notes.txt":   {data: "notes"},
		"extra/run.sh":      {data: "#!/bin/sh\n", exec: true},
		"extra/deep/x.json": {data: "{}"},
	}
	if diff := cmp.Diff(readTree(t, dst), want, treeCmp); diff != "" {
		t.Errorf("pulled tree (-got +want):\n%s", diff)
	}
	if got.Format != FormatORAS || len(got.Skipped) != 1 || got.Skipped[0].Layer.Digest != untitled.Digest {
		t.Errorf("Pulled format %s, skipped %+v", got.Format, got.Skipped)
	}
	for _, f := range got.Files {
		if f.Digest != digest.FromString(want[f.Path].data) {
			t.Errorf("Pulled file %s digest %s does not match its content", f.Path, f.Digest)
		}
	}
}

// TestPullArchives pulls ModelPack and KitOps tar layers and refuses
// hostile archives.
func TestPullArchives(t *testing.T) {
	t.Parallel()
	good := mkTar(t,
		tarEntry{name: "./", typeflag: '5'},
		tarEntry{name: "weights/", typeflag: '5'},
		tarEntry{name: "weights/model.safetensors", body: "tensor bytes"},
		tarEntry{name: "./run.sh", body: "#!/bin/sh\n", mode: 0o4755},
		tarEntry{name: "empty-dir/", typeflag: '5'},
		tarEntry{name: "pax_global_header", typeflag: 'g'},
	)
	wantTree := map[string]testFile{
		"weights/model.safetensors": {data: "tensor bytes"},
		"run.sh":                    {data: "#!/bin/sh\n", exec: true},
	}
	mp := func(p packing) string { return "application/vnd.cncf.model.weight.v1." + string(p) }
	tests := []struct {
		name      string
		format    string // artifactType
		mediaType string
		data      []byte
		diffID    digest.Digest // "" means the layer digest
		wantErr   error
	}{
		{"modelpack tar", ArtifactTypeModel, mp(packTar), good, "", nil},
		{"modelpack tar+gzip", ArtifactTypeModel, mp(packTarGzip), gzipBytes(t, good), digest.FromBytes(good), nil},
		{"modelpack tar+zstd", ArtifactTypeModel, mp(packTarZstd), zstdBytes(t, good), digest.FromBytes(good), nil},
		{"modelpack wrong diffID", ArtifactTypeModel, mp(packTarGzip), gzipBytes(t, good), digest.FromString("other"), ErrDigestMismatch},
		{"kitops tar", ArtifactTypeKitOps, "application/vnd.kitops.modelkit.model.v1.tar", good, "", nil},
		{"kitops tar+gzip", ArtifactTypeKitOps, "application/vnd.kitops.modelkit.code.v1.tar+gzip", gzipBytes(t, good), "", nil},
		{"kitops unknown layer", ArtifactTypeKitOps, "application/vnd.kitops.modelkit.model.v1.zip", good, "", ErrUnsupported},
		{"traversal entry", ArtifactTypeModel, mp(packTar), mkTar(t, tarEntry{name: "../evil", body: "x"}), "", ErrInvalidPath},
		{"absolute entry", ArtifactTypeKitOps, "application/vnd.kitops.modelkit.model.v1.tar", mkTar(t, tarEntry{name: "/etc/cron.d/x", body: "x"}), "", ErrInvalidPath},
		{"symlink entry", ArtifactTypeModel, mp(packTar), mkTar(t, tarEntry{name: "link", typeflag: '2', linkname: "/etc/passwd"}), "", ErrUnsupportedFile},
		{"hardlink entry", ArtifactTypeModel, mp(packTar), mkTar(t, tarEntry{name: "a", body: "x"}, tarEntry{name: "b", typeflag: '1', linkname: "a"}), "", ErrUnsupportedFile},
		{"duplicate entry", ArtifactTypeModel, mp(packTar), mkTar(t, tarEntry{name: "a", body: "x"}, tarEntry{name: "a", body: "y"}), "", ErrInvalidPath},
		{"file under file", ArtifactTypeModel, mp(packTar), mkTar(t, tarEntry{name: "a", body: "x"}, tarEntry{name: "a/b", body: "y"}), "", ErrInvalidPath},
		{"not a tar", ArtifactTypeModel, mp(packTarGzip), gzipBytes(t, []byte("plain text, no tar header here")), "", nil /* checked below */},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			config := blob{mediaType: MediaTypeKitOpsConfig, data: []byte(`{"manifestVersion":"1.0.0"}`)}
			if tt.format == ArtifactTypeModel {
				id := tt.diffID
				if id == "" {
					id = digest.FromBytes(tt.data)
				}
				config = modelConfig(t, id)
			}
			store := pushArtifact(t, tt.format, config, []blob{{mediaType: tt.mediaType, data: tt.data}})
			parent := t.TempDir()
			dst := filepath.Join(parent, "out")
			_, err := Pull(t.Context(), store, "v1", dst, PullOptions{})
			if tt.name == "not a tar" {
				if err == nil {
					t.Fatal("Pull extracted a layer that is not a tar")
				}
			} else if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Pull = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if got := entries(t, parent); len(got) != 0 {
					t.Errorf("parent holds %v after a failed pull", got)
				}
				return
			}
			if diff := cmp.Diff(readTree(t, dst), wantTree, treeCmp); diff != "" {
				t.Errorf("pulled tree (-got +want):\n%s", diff)
			}
			if fi, err := os.Stat(filepath.Join(dst, "empty-dir")); err != nil || !fi.IsDir() {
				t.Errorf("empty directory entry not created: %v", err)
			}
			if fi, err := os.Stat(filepath.Join(dst, "run.sh")); err != nil || fi.Mode()&os.ModeSetuid != 0 {
				t.Errorf("run.sh mode = %v, %v: set-id bits must not be restored", fi.Mode(), err)
			}
		})
	}
}

// TestPullTamperedArchive checks that a tampered tar layer is reported as
// a digest mismatch even though its altered bytes also break the tar.
func TestPullTamperedArchive(t *testing.T) {
	t.Parallel()
	good := gzipBytes(t, mkTar(t, tarEntry{name: "a.bin", body: strings.Repeat("a", 10000)}))
	d := digest.FromBytes(good)
	bad := append([]byte(nil), good...)
	bad[20] ^= 0xff
	// The memory store verifies pushes, so the altered bytes are written
	// straight into a disk store.
	disk := newDiskStore(t)
	layer := ocispec.Descriptor{MediaType: "application/vnd.kitops.modelkit.model.v1.tar+gzip", Digest: d, Size: int64(len(good))}
	if err := os.WriteFile(disk.path(layer), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := oras.PushBytes(t.Context(), disk, MediaTypeKitOpsConfig, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	pushManifest(t, disk, ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		ArtifactType: ArtifactTypeKitOps, Config: cfg, Layers: []ocispec.Descriptor{layer},
	})
	parent := t.TempDir()
	_, err = Pull(t.Context(), disk, "v1", filepath.Join(parent, "out"), PullOptions{})
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.WantDigest != d || ve.GotDigest != digest.FromBytes(bad) {
		t.Fatalf("Pull = %v, want a digest mismatch naming %s and %s", err, d, digest.FromBytes(bad))
	}
	if got := entries(t, parent); len(got) != 0 {
		t.Errorf("parent holds %v after a failed pull", got)
	}
}

func TestPullRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   func(t *testing.T) oras.ReadOnlyTarget
		wantErr error
	}{
		{"image index", func(t *testing.T) oras.ReadOnlyTarget {
			store := memory.New()
			idx, _ := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex})
			if _, err := oras.TagBytes(context.Background(), store, ocispec.MediaTypeImageIndex, idx, "v1"); err != nil {
				t.Fatal(err)
			}
			return store
		}, ErrUnsupported},
		{"container image", func(t *testing.T) oras.ReadOnlyTarget {
			return pushArtifact(t, "", blob{mediaType: ocispec.MediaTypeImageConfig, data: []byte(`{}`)},
				[]blob{{mediaType: ocispec.MediaTypeImageLayerGzip, data: []byte("layer")}})
		}, ErrUnsupported},
		{"unknown ModelPack layer type", func(t *testing.T) oras.ReadOnlyTarget {
			return pushArtifact(t, ArtifactTypeModel, modelConfig(t, digest.FromString("x")),
				[]blob{{mediaType: "application/vnd.cncf.model.weight.v1.zip", data: []byte("x"), annotations: map[string]string{AnnotationFilepath: "x"}}})
		}, ErrUnsupported},
		{"ModelPack with a foreign config", func(t *testing.T) oras.ReadOnlyTarget {
			return pushArtifact(t, ArtifactTypeModel, blob{mediaType: "application/json", data: []byte(`{}`)}, []blob{rawLayer("x", "x")})
		}, ErrInvalidManifest},
		{"diffIds do not match", func(t *testing.T) oras.ReadOnlyTarget {
			return pushArtifact(t, ArtifactTypeModel, modelConfig(t, digest.FromString("other")), []blob{rawLayer("x", "x")})
		}, ErrInvalidManifest},
		{"diffIds missing", func(t *testing.T) oras.ReadOnlyTarget {
			return pushArtifact(t, ArtifactTypeModel, modelConfig(t), []blob{rawLayer("x", "x")})
		}, ErrInvalidManifest},
		{"unknown tag", func(t *testing.T) oras.ReadOnlyTarget { return memory.New() }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			parent := t.TempDir()
			_, err := Pull(t.Context(), tt.setup(t), "v1", filepath.Join(parent, "out"), PullOptions{})
			if err == nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Pull = %v, want %v", err, tt.wantErr)
			}
			if got := entries(t, parent); len(got) != 0 {
				t.Errorf("parent holds %v after a refused pull", got)
			}
		})
	}
}

func TestPullDestinationIsFile(t *testing.T) {
	t.Parallel()
	store, _ := packPush(t, map[string]testFile{"a.bin": {data: "a"}}, Options{})
	dst := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(dst, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Pull(t.Context(), store, "v1", dst, PullOptions{Force: true}); err == nil {
		t.Fatal("Pull over a regular file succeeded")
	}
}

// TestPullLegacyModelPack pulls a model with the vnd.cnai identifiers
// ModelPack used before it moved to the CNCF.
func TestPullLegacyModelPack(t *testing.T) {
	t.Parallel()
	data := "legacy weights"
	cfg, err := json.Marshal(Model{ModelFS: ModelFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromString(data)}}})
	if err != nil {
		t.Fatal(err)
	}
	store := pushArtifact(t, "application/vnd.cnai.model.manifest.v1+json",
		blob{mediaType: "application/vnd.cnai.model.config.v1+json", data: cfg},
		[]blob{{mediaType: "application/vnd.cnai.model.weight.v1.raw", data: []byte(data), annotations: map[string]string{
			"org.cnai.model.filepath":           "w/model.bin",
			"org.cnai.model.file.metadata+json": `{"mode":493}`,
		}}})
	dst := filepath.Join(t.TempDir(), "out")
	got, err := Pull(t.Context(), store, "v1", dst, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Format != FormatModelPack || got.Model == nil {
		t.Errorf("Pulled = %+v", got)
	}
	if diff := cmp.Diff(readTree(t, dst), map[string]testFile{"w/model.bin": {data: data, exec: true}}, treeCmp); diff != "" {
		t.Errorf("pulled tree (-got +want):\n%s", diff)
	}
}
