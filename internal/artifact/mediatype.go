package artifact

import (
	"strings"
)

// ModelPack identifiers, from github.com/modelpack/model-spec docs/spec.md
// ("OCI Image Manifest Specification For Model Artifacts") and
// specs-go/v1/mediatype.go.
const (
	// ArtifactTypeModel is the manifest artifactType of a ModelPack model.
	ArtifactTypeModel = "application/vnd.cncf.model.manifest.v1+json"
	// MediaTypeModelConfig is the media type of the ModelPack config blob
	// (docs/config.md).
	MediaTypeModelConfig = "application/vnd.cncf.model.config.v1+json"
)

// Identifiers of ModelPack before it moved to the CNCF (model-spec commits
// 859889f "switch to vnd.cncf.*" and 9eb8979 "change Annotation prefix",
// mid-2025). Pull accepts them so that models built against earlier
// model-spec releases still pull; Pack never writes them.
const (
	legacyArtifactTypeModel    = "application/vnd.cnai.model.manifest.v1+json"
	legacyMediaTypeModelConfig = "application/vnd.cnai.model.config.v1+json"
	legacyModelPackLayerPrefix = "application/vnd.cnai.model."
	legacyAnnotationFilepath   = "org.cnai.model.filepath"
	legacyAnnotationFileMeta   = "org.cnai.model.file.metadata+json"
)

// ModelPack layer annotation keys, from docs/annotations.md ("Layer
// Annotation Keys") and specs-go/v1/annotations.go.
const (
	// AnnotationFilepath holds the slash-separated path of the file a
	// layer carries, relative to the model directory.
	AnnotationFilepath = "org.cncf.model.filepath"
	// AnnotationFileMetadata holds a JSON [FileMetadata] document.
	AnnotationFileMetadata = "org.cncf.model.file.metadata+json"
	// AnnotationMediaTypeUntested is "true" when the layer's media type
	// was guessed by a heuristic rather than recognised.
	AnnotationMediaTypeUntested = "org.cncf.model.file.mediatype.untested"
)

// Palisade's own dataset artifact, specified in the artifact format
// document. The layers reuse ModelPack layer media types.
const (
	// ArtifactTypeDataset is the manifest artifactType of a Palisade
	// dataset.
	ArtifactTypeDataset = "application/vnd.palisade.dataset.manifest.v1+json"
	// MediaTypeDatasetConfig is the media type of a [DatasetConfig] blob.
	MediaTypeDatasetConfig = "application/vnd.palisade.dataset.config.v1+json"
)

// Identifiers of artifacts from other producers that Pull accepts.
const (
	// ArtifactTypeKitOps is the artifactType of a KitOps ModelKit.
	ArtifactTypeKitOps = "application/vnd.kitops.modelkit.manifest.v1+json"
	// MediaTypeKitOpsConfig is the media type of a ModelKit's config (its
	// Kitfile as JSON).
	MediaTypeKitOpsConfig = "application/vnd.kitops.modelkit.config.v1+json"

	// kitOpsLayerPrefix starts every ModelKit layer media type:
	// application/vnd.kitops.modelkit.<kind>.v1.tar[+gzip].
	kitOpsLayerPrefix = "application/vnd.kitops.modelkit."

	// annotationORASUnpack marks an oras-go file store layer that is a
	// gzip-compressed tar of a directory named by the title annotation.
	annotationORASUnpack = "io.deis.oras.content.unpack"
	// annotationORASDigest holds the digest of such a layer's
	// uncompressed tar.
	annotationORASDigest = "io.deis.oras.content.digest"

	// mediaTypeDockerManifest and mediaTypeDockerIndex are refused with
	// a clear message: they are container images.
	mediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerIndex    = "application/vnd.docker.distribution.manifest.list.v2+json"
)

// LayerKind is the kind of content a layer carries: the <kind> part of a
// ModelPack layer media type application/vnd.cncf.model.<kind>.v1.<packing>.
type LayerKind string

// The ModelPack layer kinds (docs/spec.md, "layers").
const (
	LayerWeight       LayerKind = "weight"
	LayerWeightConfig LayerKind = "weight.config"
	LayerDoc          LayerKind = "doc"
	LayerCode         LayerKind = "code"
	LayerDataset      LayerKind = "dataset"
)

// packing is how a layer's bytes hold its files: the <packing> part of a
// ModelPack layer media type.
type packing string

const (
	packRaw     packing = "raw"      // one file, stored as is
	packTar     packing = "tar"      // a tar archive
	packTarGzip packing = "tar+gzip" // a gzip-compressed tar archive
	packTarZstd packing = "tar+zstd" // a zstd-compressed tar archive
)

const modelPackLayerPrefix = "application/vnd.cncf.model."

// LayerMediaType returns the ModelPack media type of a raw (unarchived,
// uncompressed) layer of kind k, for example
// application/vnd.cncf.model.weight.v1.raw.
func LayerMediaType(k LayerKind) string {
	return modelPackLayerPrefix + string(k) + ".v1." + string(packRaw)
}

// parseModelPackLayer splits a ModelPack layer media type (current or
// legacy vnd.cnai) into its kind and packing; ok is false for any other
// string.
func parseModelPackLayer(mt string) (k LayerKind, p packing, ok bool) {
	rest, found := strings.CutPrefix(mt, modelPackLayerPrefix)
	if !found {
		if rest, found = strings.CutPrefix(mt, legacyModelPackLayerPrefix); !found {
			return "", "", false
		}
	}
	kind, pack, found := strings.Cut(rest, ".v1.")
	if !found {
		return "", "", false
	}
	switch LayerKind(kind) {
	case LayerWeight, LayerWeightConfig, LayerDoc, LayerCode, LayerDataset:
	default:
		return "", "", false
	}
	switch packing(pack) {
	case packRaw, packTar, packTarGzip, packTarZstd:
	default:
		return "", "", false
	}
	return LayerKind(kind), packing(pack), true
}

// parseKitOpsLayer returns the packing of a KitOps ModelKit layer media
// type; ok is false for any other string.
func parseKitOpsLayer(mt string) (p packing, ok bool) {
	rest, found := strings.CutPrefix(mt, kitOpsLayerPrefix)
	if !found {
		return "", false
	}
	kind, pack, found := strings.Cut(rest, ".v1.")
	if !found {
		return "", false
	}
	switch kind {
	case "model", "modelpart", "dataset", "code", "docs":
	default:
		return "", false
	}
	switch packing(pack) {
	case packTar, packTarGzip, packTarZstd:
		return packing(pack), true
	}
	return "", false
}
