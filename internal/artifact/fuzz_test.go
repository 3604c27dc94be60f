package artifact

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// FuzzParseManifest feeds untrusted manifests to ParseManifest. Seeds are
// in testdata/fuzz/FuzzParseManifest (see testdata/README). An accepted
// manifest must respect the limits and name only valid, distinct paths;
// a refused one must say why with one of the package's sentinels.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.cncf.model.manifest.v1+json","config":{"mediaType":"application/vnd.cncf.model.config.v1+json","digest":"sha256:` + zeros + `","size":2},"layers":[{"mediaType":"application/vnd.cncf.model.weight.v1.raw","digest":"sha256:` + zeros + `","size":1,"annotations":{"org.cncf.model.filepath":"a/b.bin"}}]}`))
	f.Add([]byte(`{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:` + zeros + `","size":2},"layers":[{"mediaType":"x/y","digest":"sha256:` + zeros + `","size":1,"annotations":{"org.opencontainers.image.title":"../x"}}]}`))
	lim := Limits{MaxLayers: 64, MaxTotalSize: 1 << 30}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data, lim)
		if err != nil {
			if !errors.Is(err, ErrInvalidManifest) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrInvalidPath) && !errors.Is(err, ErrLimit) {
				t.Fatalf("ParseManifest error %v matches no sentinel", err)
			}
			return
		}
		if m.Format == "" || len(m.Layers) > lim.MaxLayers {
			t.Fatalf("accepted manifest: format %q, %d layers", m.Format, len(m.Layers))
		}
		var total int64
		seen := map[string]bool{}
		for _, l := range m.Layers {
			if l.Descriptor.Size < 0 || l.Descriptor.Digest.Validate() != nil {
				t.Fatalf("accepted layer %+v", l.Descriptor)
			}
			total += l.Descriptor.Size
			if l.Skip != "" || l.Path == "" {
				continue
			}
			if err := ValidatePath(l.Path); err != nil {
				t.Fatalf("accepted path: %v", err)
			}
			if k := strings.ToLower(l.Path); seen[k] {
				t.Fatalf("accepted path %q twice", l.Path)
			} else {
				seen[k] = true
			}
			if l.Mode != 0o644 && l.Mode != 0o755 {
				t.Fatalf("layer mode %v", l.Mode)
			}
		}
		if total > lim.MaxTotalSize {
			t.Fatalf("accepted %d layer bytes over a limit of %d", total, lim.MaxTotalSize)
		}
	})
}

// FuzzUntar extracts untrusted tar streams into a temporary directory:
// whatever the input, only regular files and directories with valid
// paths appear there.
func FuzzUntar(f *testing.F) {
	f.Add(mkTar(f, tarEntry{name: "a/b.bin", body: "x"}, tarEntry{name: "./c", body: "y", mode: 0o755}))
	f.Add(mkTar(f, tarEntry{name: "../evil", body: "x"}))
	f.Add(mkTar(f, tarEntry{name: "link", typeflag: '2', linkname: "/etc/passwd"}))
	f.Add(mkTar(f, tarEntry{name: "d/", typeflag: '5'}, tarEntry{name: "d", body: "x"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		root, err := os.OpenRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer root.Close()
		x := &extractor{root: root, paths: newPathSet(), remaining: 1 << 20, maxTotal: 1 << 20, maxFiles: 100}
		l := Layer{Descriptor: ocispec.Descriptor{MediaType: "application/x-tar", Digest: digest.FromBytes(data), Size: int64(len(data))}, Archive: string(packTar)}
		_ = x.untar(t.Context(), bytes.NewReader(data), l, make([]byte, 4096))
		err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || p == dir {
				return err
			}
			if !d.Type().IsRegular() && !d.IsDir() {
				t.Errorf("extracted %s of type %v", p, d.Type())
			}
			rel, _ := filepath.Rel(dir, p)
			if err := ValidatePath(filepath.ToSlash(rel)); err != nil {
				t.Errorf("extracted %v", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestParseManifestSeeds runs the fuzz seed corpus as a table: each seed
// is accepted or refused with the expected sentinel.
func TestParseManifestSeeds(t *testing.T) {
	t.Parallel()
	tests := map[string]error{
		"modelpack-tiny":        nil,
		"modelpack-tar-layers":  nil,
		"modelpack-legacy-cnai": nil,
		"dataset-references":    nil,
		"dataset-layers":        nil,
		"oras-files-and-dir":    nil,
		"kitops":                nil,
		"metadata-exec":         nil,
		"traversal-filepath":    ErrInvalidPath,
		"absolute-title":        ErrInvalidPath,
		"case-collision":        ErrInvalidPath,
		"file-dir-collision":    ErrInvalidPath,
		"git-hook":              ErrInvalidPath,
		"size-overflow":         ErrLimit,
		"negative-size":         ErrInvalidManifest,
		"bad-digest":            ErrInvalidManifest,
		"image-index":           ErrUnsupported,
		"container-image":       ErrUnsupported,
		"truncated":             ErrInvalidManifest,
		"not-json":              ErrInvalidManifest,
		"empty":                 ErrInvalidManifest,
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzParseManifest")
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(des) != len(tests) {
		t.Errorf("%s holds %d seeds, the table %d: keep them in step", dir, len(des), len(tests))
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			lit, ok := strings.CutPrefix(strings.TrimSpace(string(raw)), "go test fuzz v1\n[]byte(")
			if !ok || !strings.HasSuffix(lit, ")") {
				t.Fatalf("%s is not a fuzz corpus file", name)
			}
			data, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
			if err != nil {
				t.Fatal(err)
			}
			m, err := ParseManifest([]byte(data), Limits{})
			if !errors.Is(err, want) {
				t.Fatalf("ParseManifest = %v, want %v", err, want)
			}
			if name == "metadata-exec" && m.Layers[0].Mode != 0o755 {
				t.Errorf("mode = %v, want 0755 (execute bit kept, set-id bits dropped)", m.Layers[0].Mode)
			}
			if name == "oras-files-and-dir" && (m.Layers[1].Archive != "tar+gzip" || m.Layers[1].Path != "extra" || m.Layers[2].Skip == "") {
				t.Errorf("oras layers planned as %+v", m.Layers)
			}
		})
	}
}
