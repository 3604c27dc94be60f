package artifact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2"
)

// PullOptions controls Pull. The zero value is ready to use.
type PullOptions struct {
	// Force allows pulling into a directory that already holds files:
	// the artifact's files are moved in over same-named files; other
	// files are kept.
	Force bool
	// Limits bounds the manifest; zero fields take the defaults.
	Limits Limits
	// Concurrency is how many layers are downloaded at once; 0 means 3.
	Concurrency int
	// Progress, when set, is called as layer bytes arrive with the bytes
	// done so far and the total. Calls are serialised.
	Progress func(done, total int64)
}

// Pulled describes a pulled artifact.
type Pulled struct {
	Manifest     ocispec.Descriptor
	Format       Format
	ArtifactType string
	ConfigJSON   []byte         // the verified config blob
	Model        *Model         // the config, for FormatModelPack
	Dataset      *DatasetConfig // the config, for FormatDataset; its References are not checked
	Files        []PulledFile   // in lexical order of Path
	// Skipped lists the layers that were not written and why (empty
	// layers, oras layers without a title).
	Skipped []SkippedLayer
	Dir     string // the absolute destination directory
}

// PulledFile is one file Pull wrote.
type PulledFile struct {
	Path      string        // slash-separated, relative to Pulled.Dir
	Size      int64         // bytes
	Digest    digest.Digest // of the file's content
	MediaType string        // of the layer it came from
}

// SkippedLayer is a layer Pull did not write.
type SkippedLayer struct {
	Layer  ocispec.Descriptor
	Reason string
}

// Pull fetches the artifact ref from src and writes its files into dir.
//
// The manifest is bounded and validated by [ParseManifest] and its
// config is fetched and checked (for ModelPack and Palisade datasets, its
// DiffIDs must match the layers). Layers are streamed into a temporary
// directory, each verified against its size and digest while it is
// written. Only when every layer has verified is the result moved into
// place: the temporary directory is renamed to dir when dir does not
// exist; when dir is an empty directory (or opts.Force is set) the files
// are moved into it. On any error the temporary directory is removed,
// and the error names the file and both digests when content did not
// verify.
//
// Accepted: ModelPack models (raw layers named by
// org.cncf.model.filepath, and tar, tar+gzip and tar+zstd layers whose
// entries carry their own paths; the pre-CNCF vnd.cnai identifiers too);
// Palisade datasets; KitOps ModelKits (tar and tar+gzip layers); and any
// other artifact as the oras CLI pushes it (layers named by
// org.opencontainers.image.title, directories as gzip-compressed tars,
// untitled layers skipped). Image indexes and container images are
// refused. Archives may hold regular files and directories only.
func Pull(ctx context.Context, src oras.ReadOnlyTarget, ref, dir string, opts PullOptions) (Pulled, error) {
	lim := opts.Limits.withDefaults()
	desc, err := src.Resolve(ctx, ref)
	if err != nil {
		return Pulled{}, fmt.Errorf("pull %s: resolve: %w", ref, err)
	}
	switch desc.MediaType {
	case ocispec.MediaTypeImageManifest, "":
	case ocispec.MediaTypeImageIndex, mediaTypeDockerIndex:
		return Pulled{}, fmt.Errorf("pull %s: %w: it is an image index (%s): pull one of its manifests by digest", ref, ErrUnsupported, desc.MediaType)
	default:
		return Pulled{}, fmt.Errorf("pull %s: %w: media type %q is not an OCI image manifest", ref, ErrUnsupported, desc.MediaType)
	}
	data, err := readBlob(ctx, src, desc, MaxManifestSize, "manifest")
	if err != nil {
		return Pulled{}, fmt.Errorf("pull %s: %w", ref, err)
	}
	m, err := ParseManifest(data, lim)
	if err != nil {
		return Pulled{}, fmt.Errorf("pull %s: %w", ref, err)
	}
	out := Pulled{Manifest: desc, Format: m.Format, ArtifactType: m.ArtifactType}
	if out.ConfigJSON, err = readBlob(ctx, src, m.Config, MaxConfigSize, "config"); err != nil {
		return Pulled{}, fmt.Errorf("pull %s: %w", ref, err)
	}
	if err := m.readConfig(&out); err != nil {
		return Pulled{}, fmt.Errorf("pull %s: %w", ref, err)
	}

	dst, err := prepareDest(dir, opts.Force)
	if err != nil {
		return Pulled{}, fmt.Errorf("pull %s: %w", ref, err)
	}
	files, dirs, err := download(ctx, src, m, dst.root, lim, opts)
	if err == nil {
		err = dst.commit(files, dirs)
	}
	if err != nil {
		dst.abort()
		return Pulled{}, fmt.Errorf("pull %s into %s: %w", ref, dir, err)
	}
	for _, l := range m.Layers {
		if l.Skip != "" {
			out.Skipped = append(out.Skipped, SkippedLayer{Layer: l.Descriptor, Reason: l.Skip})
		}
	}
	out.Files = files
	out.Dir = dst.final
	return out, nil
}

// readConfig decodes and checks the config of the formats Palisade
// defines; other producers' configs are kept as bytes.
func (m *Manifest) readConfig(out *Pulled) error {
	switch m.Format {
	case FormatModelPack:
		var c Model
		if err := json.Unmarshal(out.ConfigJSON, &c); err != nil {
			return fmt.Errorf("%w: decode ModelPack config: %v", ErrInvalidManifest, err)
		}
		if err := m.checkDiffIDs(c.ModelFS, "modelfs"); err != nil {
			return err
		}
		out.Model = &c
	case FormatDataset:
		var c DatasetConfig
		if err := json.Unmarshal(out.ConfigJSON, &c); err != nil {
			return fmt.Errorf("%w: decode dataset config: %v", ErrInvalidManifest, err)
		}
		if err := m.checkDiffIDs(c.DataFS, "datafs"); err != nil {
			return err
		}
		if err := validateReferences(c.References); err != nil {
			return err
		}
		out.Dataset = &c
	}
	return nil
}

// download writes every layer under root and returns the files and the
// directories (from archives) written, sorted.
func download(ctx context.Context, src oras.ReadOnlyTarget, m *Manifest, root *os.Root, lim Limits, opts PullOptions) ([]PulledFile, []string, error) {
	var total int64
	for _, l := range m.Layers {
		if l.Skip == "" {
			total += l.Descriptor.Size
		}
	}
	x := &extractor{
		root:      root,
		paths:     m.paths,
		remaining: lim.MaxTotalSize,
		maxTotal:  lim.MaxTotalSize,
		maxFiles:  lim.MaxFiles,
		prog:      &progress{fn: opts.Progress, total: total},
	}
	g, gctx := errgroup.WithContext(ctx)
	n := opts.Concurrency
	if n <= 0 {
		n = 3
	}
	g.SetLimit(n)
	for _, l := range m.Layers {
		if l.Skip != "" {
			continue
		}
		g.Go(func() error { return x.layer(gctx, src, l) })
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	slices.SortFunc(x.files, func(a, b PulledFile) int { return strings.Compare(a.Path, b.Path) })
	slices.Sort(x.dirs)
	return x.files, slices.Compact(x.dirs), nil
}

// dest is a pull destination: a temporary directory and where its
// content goes.
type dest struct {
	final string   // absolute destination
	tmp   string   // temporary directory
	into  bool     // final exists: move the files into it
	root  *os.Root // opened on tmp
}

// tmpPrefix starts the name of the temporary directory Pull creates.
const tmpPrefix = ".palisade-pull-"

// prepareDest checks dir and creates the temporary directory: beside dir
// when dir does not exist, inside it (so that renames stay on one file
// system) when it is an empty directory or force is set.
func prepareDest(dir string, force bool) (*dest, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	d := &dest{final: abs}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, lerr := os.Lstat(abs); lerr == nil {
			return nil, fmt.Errorf("destination %s is a dangling symbolic link: remove it or choose another directory", dir)
		}
		parent := filepath.Dir(abs)
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return nil, fmt.Errorf("create parent of %s: %w", dir, err)
		}
		if d.tmp, err = os.MkdirTemp(parent, tmpPrefix+filepath.Base(abs)+"-"); err != nil {
			return nil, fmt.Errorf("create temporary directory beside %s: %w", dir, err)
		}
	case err != nil:
		return nil, fmt.Errorf("destination %s: %w", dir, err)
	case !fi.IsDir():
		return nil, fmt.Errorf("destination %s exists and is not a directory: choose a directory", dir)
	default:
		empty, err := isEmptyDir(abs)
		if err != nil {
			return nil, fmt.Errorf("destination %s: %w", dir, err)
		}
		if !empty && !force {
			return nil, fmt.Errorf("%s: %w: choose an empty or new directory, or force the pull to overwrite same-named files", dir, ErrNotEmpty)
		}
		d.into = true
		if d.tmp, err = os.MkdirTemp(abs, tmpPrefix); err != nil {
			return nil, fmt.Errorf("create temporary directory in %s: %w", dir, err)
		}
	}
	if d.root, err = os.OpenRoot(d.tmp); err != nil {
		os.RemoveAll(d.tmp)
		return nil, fmt.Errorf("open temporary directory %s: %w", d.tmp, err)
	}
	return d, nil
}

func isEmptyDir(name string) (bool, error) {
	f, err := os.Open(name)
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = f.ReadDir(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return false, err
}

// commit moves the verified files into place.
func (d *dest) commit(files []PulledFile, dirs []string) error {
	if err := d.root.Close(); err != nil {
		return err
	}
	if !d.into {
		// MkdirTemp made the directory 0700; give it a directory's
		// usual mode before it becomes the destination.
		if err := os.Chmod(d.tmp, 0o755); err != nil {
			return err
		}
		if err := os.Rename(d.tmp, d.final); err != nil {
			return fmt.Errorf("move %s into place: %w", d.tmp, err)
		}
		return nil
	}
	froot, err := os.OpenRoot(d.final)
	if err != nil {
		return err
	}
	defer froot.Close()
	tmpName := filepath.Base(d.tmp)
	for _, dir := range dirs {
		if err := froot.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create directory %s: %w", dir, err)
		}
	}
	for _, f := range files {
		if parent := path.Dir(f.Path); parent != "." {
			if err := froot.MkdirAll(parent, 0o755); err != nil {
				return fmt.Errorf("create directory %s: %w", parent, err)
			}
		}
		if err := froot.Rename(tmpName+"/"+f.Path, f.Path); err != nil {
			return fmt.Errorf("move %s into place: %w", f.Path, err)
		}
	}
	return os.RemoveAll(d.tmp)
}

// abort removes the temporary directory and everything in it.
func (d *dest) abort() {
	d.root.Close()
	os.RemoveAll(d.tmp)
}

// extractor writes layers under a root, enforcing the path set and the
// byte and file budgets. It is safe for concurrent use.
type extractor struct {
	root  *os.Root
	paths *pathSet
	prog  *progress

	mu        sync.Mutex
	remaining int64 // bytes that may still be written
	maxTotal  int64
	maxFiles  int
	count     int // files and directories written
	files     []PulledFile
	dirs      []string
}

// reserve takes n bytes and one file from the budgets.
func (x *extractor) reserve(n int64) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if n > x.remaining {
		return &LimitError{What: "bytes written", Limit: x.maxTotal, Fix: "raise Limits.MaxTotalSize if the artifact is trusted and the disk has room"}
	}
	if x.count >= x.maxFiles {
		return &LimitError{What: "files written", Limit: int64(x.maxFiles), Fix: "raise Limits.MaxFiles if the artifact is trusted"}
	}
	x.remaining -= n
	x.count++
	return nil
}

func (x *extractor) addFile(f PulledFile) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.files = append(x.files, f)
}

func (x *extractor) addDir(d string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.dirs = append(x.dirs, d)
}
