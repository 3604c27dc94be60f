package artifact

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/errdef"
)

// testFile is a file of a test tree.
type testFile struct {
	data string
	exec bool
}

// writeTree creates files under dir.
func writeTree(t testing.TB, dir string, files map[string]testFile) {
	t.Helper()
	for p, f := range files {
		name := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := fs.FileMode(0o644)
		if f.exec {
			mode = 0o755
		}
		if err := os.WriteFile(name, []byte(f.data), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(name, mode); err != nil { // ignore the umask
			t.Fatal(err)
		}
	}
}

// readTree returns the regular files under dir with their content and
// execute bit; it fails on anything else but directories.
func readTree(t testing.TB, dir string) map[string]testFile {
	t.Helper()
	out := map[string]testFile{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", p)
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = testFile{data: string(b), exec: fi.Mode().Perm()&0o100 != 0}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// entries lists the names in dir.
func entries(t testing.TB, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range des {
		names = append(names, d.Name())
	}
	return names
}

// diskStore is an oras.Target that keeps blobs in files, so that tests
// can stream large blobs without holding them in memory and can tamper
// with stored bytes.
type diskStore struct {
	dir    string
	mu     sync.Mutex
	tags   map[string]ocispec.Descriptor
	pushes atomic.Int64
}

var _ oras.Target = (*diskStore)(nil)

func newDiskStore(t testing.TB) *diskStore {
	return &diskStore{dir: t.TempDir(), tags: map[string]ocispec.Descriptor{}}
}

func (s *diskStore) path(d ocispec.Descriptor) string {
	return filepath.Join(s.dir, d.Digest.Encoded())
}

func (s *diskStore) Fetch(_ context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	f, err := os.Open(s.path(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", d.Digest, errdef.ErrNotFound)
	}
	return f, err
}

func (s *diskStore) Push(_ context.Context, d ocispec.Descriptor, r io.Reader) error {
	s.pushes.Add(1)
	f, err := os.CreateTemp(s.dir, "upload-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	vr := content.NewVerifyReader(r, d)
	if _, err := io.Copy(f, vr); err != nil {
		return err
	}
	if err := vr.Verify(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), s.path(d))
}

func (s *diskStore) Exists(_ context.Context, d ocispec.Descriptor) (bool, error) {
	_, err := os.Stat(s.path(d))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

func (s *diskStore) Resolve(_ context.Context, ref string) (ocispec.Descriptor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.tags[ref]
	if !ok {
		return ocispec.Descriptor{}, fmt.Errorf("%s: %w", ref, errdef.ErrNotFound)
	}
	return d, nil
}

func (s *diskStore) Tag(_ context.Context, d ocispec.Descriptor, ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tags[ref] = d
	return nil
}

// tamper flips one byte of a stored blob.
func (s *diskStore) tamper(t testing.TB, d ocispec.Descriptor, at int64) {
	t.Helper()
	f, err := os.OpenFile(s.path(d), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, at); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
}

// countingTarget counts the blobs pushed to a target.
type countingTarget struct {
	oras.Target
	pushes atomic.Int64
}

func (c *countingTarget) Push(ctx context.Context, d ocispec.Descriptor, r io.Reader) error {
	c.pushes.Add(1)
	return c.Target.Push(ctx, d, r)
}

// blob is a layer or config to push by hand.
type blob struct {
	mediaType   string
	data        []byte
	annotations map[string]string
}

// pushArtifact pushes a hand-made artifact to a new memory store and tags
// it "v1".
func pushArtifact(t testing.TB, artifactType string, config blob, layers []blob) *memory.Store {
	t.Helper()
	ctx := context.Background()
	store := memory.New()
	cfg, err := oras.PushBytes(ctx, store, config.mediaType, config.data)
	if err != nil {
		t.Fatal(err)
	}
	var descs []ocispec.Descriptor
	for _, l := range layers {
		d := content.NewDescriptorFromBytes(l.mediaType, l.data)
		d.Annotations = l.annotations
		if err := store.Push(ctx, d, bytes.NewReader(l.data)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
			t.Fatal(err)
		}
		descs = append(descs, d)
	}
	pushManifest(t, store, ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: artifactType,
		Config:       cfg,
		Layers:       descs,
	})
	return store
}

// pushManifest pushes m to store and tags it "v1".
func pushManifest(t testing.TB, store oras.Target, m any) {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oras.TagBytes(context.Background(), store, ocispec.MediaTypeImageManifest, b, "v1"); err != nil {
		t.Fatal(err)
	}
}

// modelConfig returns a ModelPack config listing the given DiffIDs.
func modelConfig(t testing.TB, diffIDs ...digest.Digest) blob {
	t.Helper()
	if diffIDs == nil {
		diffIDs = []digest.Digest{}
	}
	b, err := json.Marshal(Model{ModelFS: ModelFS{Type: "layers", DiffIDs: diffIDs}})
	if err != nil {
		t.Fatal(err)
	}
	return blob{mediaType: MediaTypeModelConfig, data: b}
}

// rawLayer is a ModelPack raw weight layer holding data at path p.
func rawLayer(p, data string) blob {
	return blob{mediaType: LayerMediaType(LayerWeight), data: []byte(data), annotations: map[string]string{AnnotationFilepath: p}}
}

// tarEntry is one entry of a test tar archive.
type tarEntry struct {
	name     string
	body     string
	typeflag byte // 0 means a regular file
	mode     int64
	linkname string
}

func mkTar(t testing.TB, es ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		h := &tar.Header{Name: e.name, Typeflag: e.typeflag, Mode: e.mode, Linkname: e.linkname, Format: tar.FormatPAX}
		if e.typeflag == tar.TypeXGlobalHeader {
			h = &tar.Header{Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": e.body}, Format: tar.FormatPAX}
		}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 && h.Typeflag != tar.TypeXGlobalHeader {
			h.Mode = 0o644
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstdBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}
