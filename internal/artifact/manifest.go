package artifact

import (
	"encoding/json"
	"fmt"
	"io/fs"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Limits on what Pull accepts. The manifest and config limits are fixed;
// the others are defaults for [Limits].
const (
	// MaxManifestSize bounds a manifest's size in bytes.
	MaxManifestSize = 4 << 20
	// MaxConfigSize bounds a config blob's size in bytes.
	MaxConfigSize = 4 << 20
	// DefaultMaxLayers is the default bound on a manifest's layer count
	// (and on the number of files Pack accepts).
	DefaultMaxLayers = 100_000
	// DefaultMaxFiles is the default bound on the files and directories
	// one pull writes, tar entries included.
	DefaultMaxFiles = 100_000
	// DefaultMaxTotalSize (1 TiB) is the default bound on the sum of
	// layer sizes and on the bytes one pull writes after decompression.
	DefaultMaxTotalSize = 1 << 40
)

// Limits bounds what Pull accepts from a manifest. Zero fields take the
// defaults.
type Limits struct {
	MaxLayers    int   // layers in the manifest; default DefaultMaxLayers
	MaxFiles     int   // files and directories written; default DefaultMaxFiles
	MaxTotalSize int64 // layer bytes, and bytes written; default DefaultMaxTotalSize
}

func (l Limits) withDefaults() Limits {
	if l.MaxLayers <= 0 {
		l.MaxLayers = DefaultMaxLayers
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = DefaultMaxTotalSize
	}
	return l
}

// Format is the family of artifact a manifest belongs to.
type Format string

// The artifact formats Pull accepts.
const (
	// FormatModelPack is a CNCF ModelPack model (artifactType or config
	// media type from model-spec).
	FormatModelPack Format = "modelpack"
	// FormatDataset is a Palisade dataset.
	FormatDataset Format = "palisade-dataset"
	// FormatKitOps is a KitOps ModelKit: tar layers.
	FormatKitOps Format = "kitops"
	// FormatORAS is any other artifact, as pushed by the oras CLI: files
	// named by their org.opencontainers.image.title annotation.
	FormatORAS Format = "oras"
)

// Manifest is a parsed and validated untrusted manifest: the plan of what
// Pull writes.
type Manifest struct {
	Format       Format
	ArtifactType string
	Config       ocispec.Descriptor
	Layers       []Layer
	Annotations  map[string]string
	paths        *pathSet // the raw files and directories the layers create
}

// Layer is one manifest layer and where its content goes.
type Layer struct {
	Descriptor ocispec.Descriptor
	// Path is the file a raw layer becomes; for an archive layer it is
	// empty, or the directory every entry must lie under (oras
	// directory layers).
	Path string
	// Archive is "" for a raw layer, else "tar", "tar+gzip" or
	// "tar+zstd".
	Archive string
	// Mode is the permission of a raw layer's file: 0755 when its file
	// metadata has an execute bit, else 0644.
	Mode fs.FileMode
	// Skip, when not empty, says why the layer is not written (an empty
	// layer, an oras layer without a title).
	Skip string

	diffID digest.Digest // for a compressed ModelPack layer: the uncompressed tar's digest
}

// ParseManifest decodes and validates an untrusted image manifest and
// plans where each layer goes: it bounds sizes and counts, classifies the
// artifact, checks media types and validates every annotated path and the
// set of them (duplicates, case and directory collisions). Paths inside
// archive layers are checked when the archives are read.
func ParseManifest(data []byte, lim Limits) (*Manifest, error) {
	lim = lim.withDefaults()
	if len(data) > MaxManifestSize {
		return nil, &LimitError{What: fmt.Sprintf("manifest size %d", len(data)), Limit: MaxManifestSize}
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: decode: %v", ErrInvalidManifest, err)
	}
	if m.SchemaVersion != 2 {
		return nil, fmt.Errorf("%w: schemaVersion is %d, want 2", ErrInvalidManifest, m.SchemaVersion)
	}
	switch m.MediaType {
	case "", ocispec.MediaTypeImageManifest:
	case ocispec.MediaTypeImageIndex, mediaTypeDockerIndex:
		return nil, fmt.Errorf("%w: an image index (%s): pull one of its manifests by digest", ErrUnsupported, m.MediaType)
	default:
		return nil, fmt.Errorf("%w: manifest media type %q is not %s", ErrUnsupported, m.MediaType, ocispec.MediaTypeImageManifest)
	}
	if err := validDescriptor(m.Config, "config"); err != nil {
		return nil, err
	}
	if m.Config.Size > MaxConfigSize {
		return nil, &LimitError{What: fmt.Sprintf("config size %d", m.Config.Size), Limit: MaxConfigSize}
	}
	if len(m.Layers) > lim.MaxLayers {
		return nil, &LimitError{What: fmt.Sprintf("layer count %d", len(m.Layers)), Limit: int64(lim.MaxLayers), Fix: "raise Limits.MaxLayers if the artifact is trusted"}
	}
	format, err := detectFormat(m)
	if err != nil {
		return nil, err
	}
	out := &Manifest{
		Format:       format,
		ArtifactType: m.ArtifactType,
		Config:       m.Config,
		Layers:       make([]Layer, 0, len(m.Layers)),
		Annotations:  m.Annotations,
		paths:        newPathSet(),
	}
	var total int64
	for i, d := range m.Layers {
		what := fmt.Sprintf("layer %d", i)
		if err := validDescriptor(d, what); err != nil {
			return nil, err
		}
		if d.Size > lim.MaxTotalSize-total {
			return nil, &LimitError{What: "total layer size", Limit: lim.MaxTotalSize, Fix: "raise Limits.MaxTotalSize if the artifact is trusted and the disk has room"}
		}
		total += d.Size
		l, err := planLayer(format, d, out.paths)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", what, d.Digest, err)
		}
		out.Layers = append(out.Layers, l)
	}
	return out, nil
}

// detectFormat tells which producer a manifest comes from.
func detectFormat(m ocispec.Manifest) (Format, error) {
	want := func(f Format, configType string) (Format, error) {
		if m.Config.MediaType != configType {
			return "", fmt.Errorf("%w: artifactType %s needs config media type %s, got %q", ErrInvalidManifest, m.ArtifactType, configType, m.Config.MediaType)
		}
		return f, nil
	}
	switch {
	case m.ArtifactType == ArtifactTypeModel || m.Config.MediaType == MediaTypeModelConfig:
		return want(FormatModelPack, MediaTypeModelConfig)
	case m.ArtifactType == legacyArtifactTypeModel || m.Config.MediaType == legacyMediaTypeModelConfig:
		return want(FormatModelPack, legacyMediaTypeModelConfig)
	case m.ArtifactType == ArtifactTypeDataset || m.Config.MediaType == MediaTypeDatasetConfig:
		return want(FormatDataset, MediaTypeDatasetConfig)
	case m.ArtifactType == ArtifactTypeKitOps || m.Config.MediaType == MediaTypeKitOpsConfig:
		return FormatKitOps, nil
	case m.ArtifactType == "" && (m.Config.MediaType == ocispec.MediaTypeImageConfig || m.Config.MediaType == "application/vnd.docker.container.image.v1+json"):
		return "", fmt.Errorf("%w: a container image, not a model or dataset artifact", ErrUnsupported)
	}
	return FormatORAS, nil
}

// planLayer decides where one layer goes and records its paths.
func planLayer(format Format, d ocispec.Descriptor, paths *pathSet) (Layer, error) {
	l := Layer{Descriptor: d, Mode: 0o644}
	if d.MediaType == ocispec.MediaTypeEmptyJSON {
		l.Skip = "empty layer"
		return l, nil
	}
	switch format {
	case FormatModelPack, FormatDataset:
		_, p, ok := parseModelPackLayer(d.MediaType)
		if !ok {
			return l, fmt.Errorf("%w: media type %q is not a ModelPack layer type", ErrUnsupported, d.MediaType)
		}
		fp := d.Annotations[AnnotationFilepath]
		meta := d.Annotations[AnnotationFileMetadata]
		if fp == "" {
			fp = d.Annotations[legacyAnnotationFilepath]
			meta = d.Annotations[legacyAnnotationFileMeta]
		}
		if p != packRaw {
			// An archive's entries carry their own paths; an annotation,
			// when present, must still be sound.
			if fp != "" {
				if err := ValidatePath(fp); err != nil {
					return l, err
				}
			}
			l.Archive = string(p)
			return l, nil
		}
		if fp == "" {
			return l, fmt.Errorf("%w: raw layer has no %s annotation", ErrInvalidManifest, AnnotationFilepath)
		}
		if err := paths.addFile(fp); err != nil {
			return l, err
		}
		l.Path = fp
		l.Mode = modeFromMetadata(meta)
		return l, nil
	case FormatKitOps:
		p, ok := parseKitOpsLayer(d.MediaType)
		if !ok {
			return l, fmt.Errorf("%w: media type %q is not a KitOps ModelKit layer type", ErrUnsupported, d.MediaType)
		}
		l.Archive = string(p)
		return l, nil
	}
	title := d.Annotations[ocispec.AnnotationTitle]
	if title == "" {
		l.Skip = "no " + ocispec.AnnotationTitle + " annotation"
		return l, nil
	}
	if d.Annotations[annotationORASUnpack] == "true" {
		if err := paths.addDir(title); err != nil {
			return l, err
		}
		l.Path = title
		l.Archive = string(packTarGzip)
		if s := d.Annotations[annotationORASDigest]; s != "" {
			dd, err := digest.Parse(s)
			if err != nil {
				return l, fmt.Errorf("%w: %s %q: %v", ErrInvalidManifest, annotationORASDigest, s, err)
			}
			l.diffID = dd
		}
		return l, nil
	}
	if err := paths.addFile(title); err != nil {
		return l, err
	}
	l.Path = title
	return l, nil
}

// modeFromMetadata returns 0755 when a file metadata annotation has an
// execute bit and 0644 otherwise, malformed metadata included: only the
// execute bits are honoured, never set-id or sticky bits or ownership.
func modeFromMetadata(s string) fs.FileMode {
	if s == "" {
		return 0o644
	}
	var meta struct {
		Mode uint32 `json:"mode"`
	}
	if json.Unmarshal([]byte(s), &meta) != nil || meta.Mode&0o111 == 0 {
		return 0o644
	}
	return 0o755
}

// checkDiffIDs matches a config's layer list with the manifest: one DiffID
// per layer that is written, equal to the layer digest for uncompressed
// layers; compressed layers' DiffIDs are checked as they are extracted.
func (m *Manifest) checkDiffIDs(fsys ModelFS, key string) error {
	if fsys.Type != modelFSType {
		return fmt.Errorf("%w: config %s.type is %q, want %q", ErrInvalidManifest, key, fsys.Type, modelFSType)
	}
	var idx []int
	for i, l := range m.Layers {
		if l.Skip == "" {
			idx = append(idx, i)
		}
	}
	if len(fsys.DiffIDs) != len(idx) {
		return fmt.Errorf("%w: config %s lists %d diffIds for %d layers", ErrInvalidManifest, key, len(fsys.DiffIDs), len(idx))
	}
	for j, i := range idx {
		id := fsys.DiffIDs[j]
		l := &m.Layers[i]
		if err := id.Validate(); err != nil {
			return fmt.Errorf("%w: config %s.diffIds[%d] %q: %v", ErrInvalidManifest, key, j, id, err)
		}
		switch packing(l.Archive) {
		case "", packTar:
			if id != l.Descriptor.Digest {
				return fmt.Errorf("%w: config %s.diffIds[%d] is %s but layer %d is %s", ErrInvalidManifest, key, j, id, i, l.Descriptor.Digest)
			}
		default:
			l.diffID = id
		}
	}
	return nil
}
