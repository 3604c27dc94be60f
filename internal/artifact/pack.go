package artifact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
)

// Options controls Pack and PackReferences. The zero value packs a model
// with no metadata and no timestamps.
type Options struct {
	// Kind is KindModel (the default when empty) or KindDataset.
	Kind Kind
	// Name and Version, when set, override Descriptor.Name and
	// Descriptor.Version.
	Name    string
	Version string
	// Descriptor is the general metadata written to the config's
	// "descriptor" (authors, licenses, family, ...). Its CreatedAt is
	// ignored: set Created.
	Descriptor ModelDescriptor
	// Config is a model's technical metadata (format, paramSize,
	// precision, ...); ignored for datasets. When Config.Format is empty
	// and every weight file has the same known extension (.safetensors,
	// .gguf, .onnx, .pt, .pth, .keras, .tflite), the format is filled in.
	Config ModelConfig
	// Annotations are added to the manifest's annotations.
	Annotations map[string]string
	// Created, when not zero, is written as the descriptor's createdAt,
	// the manifest's org.opencontainers.image.created annotation and the
	// files' metadata mtime. Left zero, packing is reproducible.
	Created time.Time
	// References lists data kept outside the artifact; datasets only.
	References []Reference
	// Concurrency is how many files are hashed at once; 0 means
	// min(4, GOMAXPROCS).
	Concurrency int
}

// Packed is a packed artifact: its manifest and config, ready to push,
// and the files whose content Push streams from disk.
type Packed struct {
	Kind         Kind
	Manifest     ocispec.Descriptor // the manifest's descriptor, with ArtifactType
	ManifestJSON []byte
	Config       ocispec.Descriptor
	ConfigJSON   []byte
	Files        []File // in lexical order of Path
	// EmptyLayer is set when the artifact has no files and its only
	// layer is the OCI empty descriptor ({}), as image-spec requires at
	// least one layer for portability.
	EmptyLayer bool
}

// File is one packed file and the layer that carries it.
type File struct {
	Path   string             // slash-separated path inside the artifact
	Source string             // file read at push time
	Kind   LayerKind          // the layer kind Classify chose
	Layer  ocispec.Descriptor // the layer descriptor in the manifest
}

// Size returns the bytes Push uploads at most: every layer and the
// config, not the manifest.
func (p Packed) Size() int64 {
	n := p.Config.Size
	for _, f := range p.Files {
		n += f.Layer.Size
	}
	if p.EmptyLayer {
		n += ocispec.DescriptorEmptyJSON.Size
	}
	return n
}

// source is a file found by walk.
type source struct {
	path   string // slash path inside the artifact
	osPath string // where to read it
	exec   bool   // any execute bit set
}

// Pack walks dir and packs its regular files as an artifact of
// opts.Kind: one raw layer per file, hashed by streaming, in lexical
// order of their slash paths. See the package documentation for what it
// refuses.
func Pack(ctx context.Context, dir string, opts Options) (Packed, error) {
	kind, err := opts.kind()
	if err != nil {
		return Packed{}, err
	}
	srcs, err := walk(ctx, dir)
	if err != nil {
		return Packed{}, err
	}
	if len(srcs) == 0 && (kind == KindModel || len(opts.References) == 0) {
		return Packed{}, fmt.Errorf("pack %s: %w: the directory has no regular files (.git is skipped)", dir, ErrEmpty)
	}
	files, err := hashFiles(ctx, srcs, kind, opts)
	if err != nil {
		return Packed{}, err
	}
	return assemble(kind, files, opts)
}

// PackReferences packs a dataset artifact whose config lists refs (data
// that stays where it is, checked with CheckReference) and which has no
// data layers. opts.Kind must be empty or KindDataset; opts.References is
// ignored in favour of refs.
func PackReferences(refs []Reference, opts Options) (Packed, error) {
	if opts.Kind != "" && opts.Kind != KindDataset {
		return Packed{}, fmt.Errorf("pack references: %w: kind %q cannot hold references, only %q", ErrUnsupported, opts.Kind, KindDataset)
	}
	if len(refs) == 0 {
		return Packed{}, fmt.Errorf("pack references: %w: no references given", ErrEmpty)
	}
	opts.References = refs
	return assemble(KindDataset, nil, opts)
}

func (o Options) kind() (Kind, error) {
	switch o.Kind {
	case "", KindModel:
		if len(o.References) > 0 {
			return "", fmt.Errorf("pack: %w: only datasets hold references; set Kind to %q", ErrUnsupported, KindDataset)
		}
		return KindModel, nil
	case KindDataset:
		return KindDataset, nil
	}
	return "", fmt.Errorf("pack: %w: kind %q is not %q or %q", ErrUnsupported, o.Kind, KindModel, KindDataset)
}

// walk lists the regular files under dir, refusing what Pack refuses.
func walk(ctx context.Context, dir string) ([]source, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", dir, err)
	}
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", dir, err)
	}
	if fi, err := os.Stat(root); err != nil {
		return nil, fmt.Errorf("pack %s: %w", dir, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("pack %s: not a directory: give the directory that holds the files", dir)
	}
	set := newPathSet()
	var out []source
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("pack %s: %w", dir, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == root {
			return nil
		}
		if strings.EqualFold(d.Name(), ".git") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		slash := filepath.ToSlash(rel)
		osPath := p
		var fi fs.FileInfo
		switch t := d.Type(); {
		case t.IsDir():
			return nil
		case t&fs.ModeSymlink != 0:
			target, err := filepath.EvalSymlinks(p)
			if err != nil {
				return fmt.Errorf("pack %s: resolve symbolic link: %w", slash, err)
			}
			if !within(root, target) {
				return fmt.Errorf("pack %s: %w (it points to %s): copy the file into the directory, or pack the directory it points into", slash, ErrUnsafeLink, target)
			}
			if fi, err = os.Stat(target); err != nil {
				return fmt.Errorf("pack %s: %w", slash, err)
			}
			if !fi.Mode().IsRegular() {
				return fmt.Errorf("pack %s: %w: a symbolic link to a directory or special file; replace it with a copy of the files", slash, ErrUnsupportedFile)
			}
			osPath = target
		case t.IsRegular():
			if fi, err = d.Info(); err != nil {
				return fmt.Errorf("pack %s: %w", slash, err)
			}
		default:
			return fmt.Errorf("pack %s: %w (%v): only regular files can be packed; remove it", slash, ErrUnsupportedFile, t)
		}
		if err := set.addFile(slash); err != nil {
			return fmt.Errorf("pack: %w: rename the file", err)
		}
		if len(out) >= DefaultMaxLayers {
			return &LimitError{What: "file count", Limit: DefaultMaxLayers, Fix: "archive small files together before packing"}
		}
		out = append(out, source{path: slash, osPath: osPath, exec: fi.Mode().Perm()&0o111 != 0})
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrLimit) {
			return nil, fmt.Errorf("pack %s: %w", dir, err)
		}
		return nil, err
	}
	slices.SortFunc(out, func(a, b source) int { return strings.Compare(a.path, b.path) })
	return out, nil
}

// within reports whether target is root or lies under it.
func within(root, target string) bool {
	rel, err := filepath.Rel(root, target)
	return err == nil && !filepath.IsAbs(rel) && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// hashFiles streams every file through SHA-256 and builds its layer.
func hashFiles(ctx context.Context, srcs []source, kind Kind, opts Options) ([]File, error) {
	files := make([]File, len(srcs))
	g, gctx := errgroup.WithContext(ctx)
	n := opts.Concurrency
	if n <= 0 {
		n = min(4, runtime.GOMAXPROCS(0))
	}
	g.SetLimit(n)
	for i, s := range srcs {
		g.Go(func() error {
			d, size, err := hashFile(gctx, s.osPath)
			if err != nil {
				return fmt.Errorf("pack %s: %w", s.path, err)
			}
			lk, recognised := Classify(s.path, kind)
			layer, err := fileLayer(s, lk, recognised, d, size, opts.Created)
			if err != nil {
				return err
			}
			files[i] = File{Path: s.path, Source: s.osPath, Kind: lk, Layer: layer}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return files, nil
}

func hashFile(ctx context.Context, name string) (digest.Digest, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return "", 0, err
	} else if !fi.Mode().IsRegular() {
		return "", 0, fmt.Errorf("%w: it is no longer a regular file", ErrUnsupportedFile)
	}
	return hashReader(ctx, f)
}

// fileLayer builds the raw layer descriptor of one file.
func fileLayer(s source, lk LayerKind, recognised bool, d digest.Digest, size int64, created time.Time) (ocispec.Descriptor, error) {
	mode := uint32(0o644)
	if s.exec {
		mode = 0o755
	}
	mtime := time.Unix(0, 0).UTC()
	if !created.IsZero() {
		mtime = created.UTC()
	}
	meta, err := json.Marshal(FileMetadata{
		Name: path.Base(s.path), Mode: mode, Size: size, ModTime: mtime, Typeflag: '0',
	})
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("pack %s: encode file metadata: %w", s.path, err)
	}
	ann := map[string]string{
		AnnotationFilepath:      s.path,
		AnnotationFileMetadata:  string(meta),
		ocispec.AnnotationTitle: s.path, // lets plain oras clients restore the file
	}
	if !recognised {
		ann[AnnotationMediaTypeUntested] = "true"
	}
	return ocispec.Descriptor{MediaType: LayerMediaType(lk), Digest: d, Size: size, Annotations: ann}, nil
}

// assemble builds the config and manifest around files.
func assemble(kind Kind, files []File, opts Options) (Packed, error) {
	if err := validateReferences(opts.References); err != nil {
		return Packed{}, fmt.Errorf("pack: %w", err)
	}
	layers := make([]ocispec.Descriptor, 0, max(len(files), 1))
	diffIDs := make([]digest.Digest, 0, len(files))
	for _, f := range files {
		layers = append(layers, f.Layer)
		diffIDs = append(diffIDs, f.Layer.Digest)
	}
	p := Packed{Kind: kind, Files: files}
	if len(layers) == 0 {
		layers = append(layers, ocispec.DescriptorEmptyJSON)
		p.EmptyLayer = true
	}

	desc := opts.Descriptor
	desc.CreatedAt = nil
	if opts.Name != "" {
		desc.Name = opts.Name
	}
	if opts.Version != "" {
		desc.Version = opts.Version
	}
	if !opts.Created.IsZero() {
		t := opts.Created.UTC()
		desc.CreatedAt = &t
	}

	var artifactType, configType string
	var cfg any
	switch kind {
	case KindModel:
		mc := opts.Config
		if err := mc.validate(); err != nil {
			return Packed{}, fmt.Errorf("pack: %w", err)
		}
		if mc.Format == "" {
			mc.Format = guessFormat(files)
		}
		artifactType, configType = ArtifactTypeModel, MediaTypeModelConfig
		cfg = Model{Descriptor: desc, Config: mc, ModelFS: ModelFS{Type: modelFSType, DiffIDs: diffIDs}}
	case KindDataset:
		artifactType, configType = ArtifactTypeDataset, MediaTypeDatasetConfig
		cfg = DatasetConfig{Descriptor: desc, DataFS: ModelFS{Type: modelFSType, DiffIDs: diffIDs}, References: opts.References}
	}
	var err error
	if p.ConfigJSON, err = json.Marshal(cfg); err != nil {
		return Packed{}, fmt.Errorf("pack: encode config: %w", err)
	}
	p.Config = ocispec.Descriptor{MediaType: configType, Digest: digest.FromBytes(p.ConfigJSON), Size: int64(len(p.ConfigJSON))}

	var ann map[string]string
	if len(opts.Annotations) > 0 || !opts.Created.IsZero() {
		ann = make(map[string]string, len(opts.Annotations)+1)
		for k, v := range opts.Annotations {
			if k == "" {
				return Packed{}, fmt.Errorf("pack: %w: an annotation has an empty key", ErrInvalidManifest)
			}
			ann[k] = v
		}
		if !opts.Created.IsZero() {
			ann[ocispec.AnnotationCreated] = opts.Created.UTC().Format(time.RFC3339)
		}
	}
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: artifactType,
		Config:       p.Config,
		Layers:       layers,
		Annotations:  ann,
	}
	if p.ManifestJSON, err = json.Marshal(m); err != nil {
		return Packed{}, fmt.Errorf("pack: encode manifest: %w", err)
	}
	if len(p.ManifestJSON) > MaxManifestSize {
		return Packed{}, fmt.Errorf("pack: %w", &LimitError{What: fmt.Sprintf("manifest size %d", len(p.ManifestJSON)), Limit: MaxManifestSize, Fix: "archive small files together before packing"})
	}
	p.Manifest = ocispec.Descriptor{
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: artifactType,
		Digest:       digest.FromBytes(p.ManifestJSON),
		Size:         int64(len(p.ManifestJSON)),
	}
	return p, nil
}

// guessFormat returns the config format shared by every weight file, or
// "" when they differ or none is known.
func guessFormat(files []File) string {
	format := ""
	for _, f := range files {
		if f.Kind != LayerWeight {
			continue
		}
		got, ok := formatByExt[strings.ToLower(path.Ext(f.Path))]
		if !ok || format != "" && got != format {
			return ""
		}
		format = got
	}
	return format
}
