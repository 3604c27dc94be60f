package artifact

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestReadMetadata(t *testing.T) {
	t.Parallel()
	readme := ocispec.Descriptor{Digest: "sha256:readme", Annotations: map[string]string{AnnotationFilepath: "README.md"}}
	nested := ocispec.Descriptor{Digest: "sha256:nested", Annotations: map[string]string{AnnotationFilepath: "docs/README.md"}}
	titled := ocispec.Descriptor{Digest: "sha256:titled", Annotations: map[string]string{ocispec.AnnotationTitle: "readme.MD"}}
	tests := []struct {
		name         string
		artifactType string
		config       string
		ann          map[string]string
		layers       []ocispec.Descriptor
		want         Metadata
		wantErr      string
	}{
		{name: "modelpack with everything", artifactType: ArtifactTypeModel,
			ann: map[string]string{AnnotationClassification: "confidential", AnnotationOwner: "nlp", AnnotationDescription: "chat",
				AnnotationFramework: "pytorch", AnnotationFormat: "safetensors", AnnotationLicenses: "Apache-2.0",
				AnnotationLabelPrefix + "team": "nlp", "other.key": "ignored"},
			layers: []ocispec.Descriptor{nested, readme},
			want: Metadata{Kind: "model", Classification: "confidential", Owner: "nlp", Description: "chat", Framework: "pytorch",
				Format: "safetensors", License: "Apache-2.0", ModelCard: "sha256:readme", Labels: map[string]string{"team": "nlp"}}},
		{name: "dataset by type", artifactType: ArtifactTypeDataset, want: Metadata{Kind: "dataset", Labels: map[string]string{}}},
		{name: "kitops", artifactType: ArtifactTypeKitOps, want: Metadata{Kind: "model", Labels: map[string]string{}}},
		{name: "container image", config: ocispec.MediaTypeImageConfig, want: Metadata{Kind: "image", Labels: map[string]string{}}},
		{name: "oras files with a title README", artifactType: "application/vnd.unknown.artifact.v1", layers: []ocispec.Descriptor{titled},
			want: Metadata{Kind: "artifact", ModelCard: "sha256:titled", Labels: map[string]string{}}},
		{name: "kind annotation wins", artifactType: ArtifactTypeModel, ann: map[string]string{AnnotationKind: "dataset"},
			want: Metadata{Kind: "dataset", Labels: map[string]string{}}},
		{name: "data tags", ann: map[string]string{AnnotationDataTags: " PII, phi,,pci "},
			want: Metadata{Kind: "artifact", Labels: map[string]string{}, DataTags: []string{"pii", "phi", "pci"}}},
		{name: "data tag with a space", ann: map[string]string{AnnotationDataTags: "pii, credit cards"}, wantErr: AnnotationDataTags},
		{name: "bad kind", ann: map[string]string{AnnotationKind: "weights"}, wantErr: AnnotationKind},
		{name: "bad classification", ann: map[string]string{AnnotationClassification: "secret"}, wantErr: AnnotationClassification},
		{name: "long owner", ann: map[string]string{AnnotationOwner: strings.Repeat("x", 5000)}, wantErr: AnnotationOwner},
		{name: "empty label key", ann: map[string]string{AnnotationLabelPrefix: "v"}, wantErr: "label annotation"},
	}
	for _, tt := range tests {
		got, err := ReadMetadata(tt.artifactType, tt.config, tt.ann, tt.layers)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error = %v, want one naming %s", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(got, tt.want); diff != "" {
			t.Errorf("%s (-got +want):\n%s", tt.name, diff)
		}
	}
}
