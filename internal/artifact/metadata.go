package artifact

import (
	"fmt"
	"path"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Manifest annotations that carry Palisade's artifact metadata. 'palisade
// push' writes them; the registry reads them into the artifact's metadata
// when the manifest is pushed (by any client). Description and licenses
// use the OCI keys.
const (
	AnnotationKind           = "org.palisade.kind"           // model, dataset, image, artifact
	AnnotationClassification = "org.palisade.classification" // public, internal, confidential, restricted
	AnnotationOwner          = "org.palisade.owner"
	AnnotationFramework      = "org.palisade.framework" // pytorch, tensorflow, sklearn...
	AnnotationFormat         = "org.palisade.format"    // safetensors, gguf, onnx, parquet...
	// AnnotationDataTags marks sensitive contents, comma-separated:
	// pii,phi,pci.
	AnnotationDataTags = "org.palisade.data-tags"
	// AnnotationLabelPrefix starts free key-value labels:
	// org.palisade.label.team=nlp.
	AnnotationLabelPrefix = "org.palisade.label."
	AnnotationDescription = ocispec.AnnotationDescription
	AnnotationLicenses    = ocispec.AnnotationLicenses
)

// Limits on metadata annotations.
const (
	maxLabels        = 64
	maxLabelKey      = 128
	maxMetadataValue = 4096
	maxDataTags      = 32
	maxDataTag       = 64
)

// Metadata is what the annotations of a manifest say about the artifact.
type Metadata struct {
	Kind, Classification, Owner, Description, Framework, Format, License string
	// ModelCard is the digest of the layer whose path is README.md (any
	// letter case) at the top of the artifact, or "".
	ModelCard string
	Labels    map[string]string
	// DataTags are the words of the data-tags annotation, lower-cased.
	DataTags []string
}

// ReadMetadata reads the metadata of a manifest from its artifact type,
// annotations and layers. The kind is the annotation's, else inferred from
// the artifact type (a ModelPack or KitOps model, a Palisade dataset) or
// the config media type (a container image). Values are checked for
// length and the classification and kind for validity; an error names
// the annotation.
func ReadMetadata(artifactType, configMediaType string, annotations map[string]string, layers []ocispec.Descriptor) (Metadata, error) {
	m := Metadata{
		Kind: annotations[AnnotationKind], Classification: annotations[AnnotationClassification],
		Owner: annotations[AnnotationOwner], Description: annotations[AnnotationDescription],
		Framework: annotations[AnnotationFramework], Format: annotations[AnnotationFormat],
		License: annotations[AnnotationLicenses], Labels: map[string]string{},
	}
	for k, v := range map[string]string{
		AnnotationOwner: m.Owner, AnnotationDescription: m.Description, AnnotationFramework: m.Framework,
		AnnotationFormat: m.Format, AnnotationLicenses: m.License,
	} {
		if len(v) > maxMetadataValue {
			return m, fmt.Errorf("annotation %s is longer than %d bytes", k, maxMetadataValue)
		}
	}
	switch m.Kind {
	case "":
		m.Kind = inferKind(artifactType, configMediaType)
	case "model", "dataset", "image", "artifact":
	default:
		return m, fmt.Errorf("annotation %s is %.40q: want model, dataset, image or artifact", AnnotationKind, m.Kind)
	}
	switch m.Classification {
	case "", "public", "internal", "confidential", "restricted":
	default:
		return m, fmt.Errorf("annotation %s is %.40q: want public, internal, confidential or restricted", AnnotationClassification, m.Classification)
	}
	if v := annotations[AnnotationDataTags]; v != "" {
		for _, t := range strings.Split(v, ",") {
			t = strings.ToLower(strings.TrimSpace(t))
			if t == "" {
				continue
			}
			if len(t) > maxDataTag || strings.ContainsAny(t, " \t") || len(m.DataTags) == maxDataTags {
				return m, fmt.Errorf("annotation %s: at most %d comma-separated words of at most %d bytes", AnnotationDataTags, maxDataTags, maxDataTag)
			}
			m.DataTags = append(m.DataTags, t)
		}
	}
	for k, v := range annotations {
		name, ok := strings.CutPrefix(k, AnnotationLabelPrefix)
		if !ok {
			continue
		}
		if name == "" || len(name) > maxLabelKey || len(v) > maxMetadataValue {
			return m, fmt.Errorf("label annotation %.80q: the key must be 1 to %d bytes and the value at most %d", k, maxLabelKey, maxMetadataValue)
		}
		if len(m.Labels) == maxLabels {
			return m, fmt.Errorf("more than %d label annotations", maxLabels)
		}
		m.Labels[name] = v
	}
	for _, l := range layers {
		p := l.Annotations[AnnotationFilepath]
		if p == "" {
			p = l.Annotations[ocispec.AnnotationTitle]
		}
		if p != "" && !strings.Contains(p, "/") && strings.EqualFold(path.Base(p), "README.md") {
			m.ModelCard = string(l.Digest)
			break
		}
	}
	return m, nil
}

// inferKind guesses an artifact's kind from its types.
func inferKind(artifactType, configMediaType string) string {
	switch {
	case artifactType == ArtifactTypeModel || artifactType == ArtifactTypeKitOps ||
		strings.HasPrefix(artifactType, "application/vnd.cnai.model.") || configMediaType == MediaTypeModelConfig:
		return "model"
	case artifactType == ArtifactTypeDataset || configMediaType == MediaTypeDatasetConfig:
		return "dataset"
	case artifactType == "" && (configMediaType == ocispec.MediaTypeImageConfig ||
		configMediaType == "application/vnd.docker.container.image.v1+json"):
		return "image"
	}
	return "artifact"
}
