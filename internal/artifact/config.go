package artifact

import (
	"fmt"
	"regexp"
	"time"

	"github.com/opencontainers/go-digest"
)

// Model is the ModelPack config blob ([MediaTypeModelConfig]), as defined
// by model-spec docs/config.md ("Properties"). Field names and JSON keys
// follow the spec; the Go types are Palisade's.
type Model struct {
	Descriptor ModelDescriptor `json:"descriptor"`
	Config     ModelConfig     `json:"config"`
	ModelFS    ModelFS         `json:"modelfs"`
}

// ModelDescriptor is the general information about a model or dataset
// (docs/config.md "descriptor"). Every field is optional.
type ModelDescriptor struct {
	CreatedAt   *time.Time `json:"createdAt,omitempty"` // RFC 3339
	Authors     []string   `json:"authors,omitempty"`
	Vendor      string     `json:"vendor,omitempty"`
	Family      string     `json:"family,omitempty"` // "llama3", "gpt2", ...
	Name        string     `json:"name,omitempty"`
	Version     string     `json:"version,omitempty"`
	Title       string     `json:"title,omitempty"`
	Description string     `json:"description,omitempty"`
	DocURL      string     `json:"docURL,omitempty"`
	SourceURL   string     `json:"sourceURL,omitempty"`
	DatasetsURL []string   `json:"datasetsURL,omitempty"`
	Revision    string     `json:"revision,omitempty"`
	Licenses    []string   `json:"licenses,omitempty"` // SPDX license expressions
}

// ModelConfig is the technical metadata of a model (docs/config.md
// "config"). Every field is optional.
type ModelConfig struct {
	Architecture string             `json:"architecture,omitempty"` // "transformer", "cnn", ...
	Format       string             `json:"format,omitempty"`       // "safetensors", "gguf", "onnx", "pt", ...
	ParamSize    string             `json:"paramSize,omitempty"`    // <count><scale-prefix>: "6.7B", "100m"
	Precision    string             `json:"precision,omitempty"`    // "bfloat16", "float16,float8_e4m3", ...
	Quantization string             `json:"quantization,omitempty"` // "awq", "gptq", ...
	Capabilities *ModelCapabilities `json:"capabilities,omitempty"`
}

// ModelCapabilities lists what a model supports (docs/config.md
// "capabilities").
type ModelCapabilities struct {
	InputTypes      []string   `json:"inputTypes,omitempty"`  // text, image, audio, video, embedding, other
	OutputTypes     []string   `json:"outputTypes,omitempty"` // same values
	KnowledgeCutoff *time.Time `json:"knowledgeCutoff,omitempty"`
	Reasoning       *bool      `json:"reasoning,omitempty"`
	ToolUsage       *bool      `json:"toolUsage,omitempty"`
	Reward          *bool      `json:"reward,omitempty"`
	Languages       []string   `json:"languages,omitempty"` // ISO 639 two-letter codes
}

// ModelFS lists the layers' content hashes (docs/config.md "modelfs").
// Type is always "layers". A DiffID is the digest of a layer's
// uncompressed content; for the raw layers Pack writes it equals the
// layer digest.
type ModelFS struct {
	Type    string          `json:"type"`
	DiffIDs []digest.Digest `json:"diffIds"`
}

// modelFSType is the only ModelFS.Type the spec allows.
const modelFSType = "layers"

// DatasetConfig is the config blob of a Palisade dataset
// ([MediaTypeDatasetConfig]). It reuses the ModelPack descriptor, lists
// the DiffIDs of the dataset's layers like ModelPack's modelfs, and adds
// references to data kept outside the artifact.
type DatasetConfig struct {
	Descriptor ModelDescriptor `json:"descriptor"`
	DataFS     ModelFS         `json:"datafs"`
	References []Reference     `json:"references,omitempty"`
}

// FileMetadata is the value of the [AnnotationFileMetadata] layer
// annotation (model-spec docs/annotations.md, "File Metadata Annotation
// Value"). Pack writes uid and gid 0, mode 0644 or 0755, the packing time
// (the Unix epoch unless [Options].Created is set) and typeflag '0'
// (a regular file, as in tar), so that digests are reproducible.
type FileMetadata struct {
	Name     string    `json:"name"`
	Mode     uint32    `json:"mode"`
	UID      uint32    `json:"uid"`
	GID      uint32    `json:"gid"`
	Size     int64     `json:"size"`
	ModTime  time.Time `json:"mtime"`
	Typeflag byte      `json:"typeflag"`
}

// paramSizeRE is docs/config.md's paramSize syntax: a decimal count with
// at most one digit after the point and a scale letter.
var paramSizeRE = regexp.MustCompile(`^[0-9]+(\.[0-9])?[QqTtBbMmKk]$`)

// modalities are the values docs/config.md allows in inputTypes and
// outputTypes.
var modalities = map[string]bool{"text": true, "image": true, "audio": true, "video": true, "embedding": true, "other": true}

// validate checks the fields whose syntax the spec fixes.
func (c ModelConfig) validate() error {
	if c.ParamSize != "" && !paramSizeRE.MatchString(c.ParamSize) {
		return fmt.Errorf("%w: model paramSize %q is not <count><Q|T|B|M|K> such as 6.7B or 100m: fix the value or leave it empty", ErrInvalidManifest, c.ParamSize)
	}
	if c.Capabilities != nil {
		for _, list := range [][]string{c.Capabilities.InputTypes, c.Capabilities.OutputTypes} {
			for _, m := range list {
				if !modalities[m] {
					return fmt.Errorf("%w: model capability type %q is not one of text, image, audio, video, embedding, other", ErrInvalidManifest, m)
				}
			}
		}
	}
	return nil
}

// formatByExt maps weight extensions to the ModelPack config "format"
// value Pack fills in when every weight file shares one of them and the
// options give none.
var formatByExt = map[string]string{
	".safetensors": "safetensors",
	".gguf":        "gguf",
	".onnx":        "onnx",
	".pt":          "pt",
	".pth":         "pt",
	".keras":       "keras",
	".tflite":      "tflite",
}
