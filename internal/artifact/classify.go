package artifact

import (
	"path"
	"strings"
)

// Kind is what an artifact packs.
type Kind string

// The artifact kinds.
const (
	// KindModel packs a model as a ModelPack artifact.
	KindModel Kind = "model"
	// KindDataset packs a dataset as a Palisade dataset artifact.
	KindDataset Kind = "dataset"
)

// Classify returns the layer kind of the file at slash path p inside an
// artifact of kind k, and whether the kind was recognised (false means it
// is the documented default and the layer is annotated
// [AnnotationMediaTypeUntested]).
//
// In a model, rules are tried in this order on the lower-cased base name:
// code by name (requirements*.txt, pyproject.toml, Dockerfile, ...);
// weight configs by name (config.json, generation_config.json,
// tokenizer*, vocab*, merges.txt, special_tokens_map.json, ...); weights
// by extension (.safetensors .bin .pt .pth .gguf .onnx .h5 .keras .pb
// .ckpt .msgpack .npz .joblib .pkl ...); documentation by name (README*,
// LICENSE*, model card, ...); then by extension documentation (.md, .txt,
// images), code (.py, .sh, .ipynb, shared libraries, ...), weight configs
// (.json, .yaml, .jinja, ...) and data (.csv, .parquet, .jsonl, ...). A
// file that matches nothing is a code layer: unknown content is treated as
// possibly executable, so policies that inspect code look at it.
//
// In a dataset, documentation by name and Markdown or reStructuredText
// files are doc layers, code is a code layer (a loading script is code to
// review), and every other file, text and images included, is a dataset
// layer.
func Classify(p string, k Kind) (kind LayerKind, recognised bool) {
	kind, recognised = classifyModel(p)
	if k != KindDataset {
		return kind, recognised
	}
	base := strings.ToLower(path.Base(p))
	switch ext := path.Ext(base); {
	case isDocName(base) || ext == ".md" || ext == ".markdown" || ext == ".rst":
		return LayerDoc, true
	case recognised && kind == LayerCode:
		return LayerCode, true
	}
	return LayerDataset, true
}

var (
	codeNames = map[string]bool{
		"pyproject.toml": true, "setup.cfg": true, "pipfile": true, "pipfile.lock": true,
		"poetry.lock": true, "dockerfile": true, "containerfile": true, "makefile": true,
		"environment.yml": true, "environment.yaml": true, "conda.yaml": true, "conda.yml": true,
		"mlproject": true,
	}
	configNames = map[string]bool{
		"config.json": true, "generation_config.json": true, "merges.txt": true,
		"special_tokens_map.json": true, "added_tokens.json": true, "preprocessor_config.json": true,
		"chat_template.json": true, "chat_template.jinja": true, "spiece.model": true,
		"sentencepiece.bpe.model": true, "params.json": true, "adapter_config.json": true,
	}
	weightExts = map[string]bool{
		".safetensors": true, ".bin": true, ".pt": true, ".pth": true, ".gguf": true, ".ggml": true,
		".onnx": true, ".ort": true, ".h5": true, ".hdf5": true, ".keras": true, ".pb": true,
		".ckpt": true, ".msgpack": true, ".npz": true, ".npy": true, ".joblib": true, ".pkl": true,
		".pickle": true, ".tflite": true, ".mlmodel": true, ".pte": true, ".mar": true, ".nemo": true,
		".params": true, ".caffemodel": true, ".pdparams": true, ".pdmodel": true, ".ot": true,
		".model": true, ".llamafile": true, ".engine": true, ".plan": true, ".index": true,
	}
	docPrefixes = []string{
		"readme", "license", "licence", "notice", "copying", "authors", "changelog",
		"citation", "model_card", "modelcard", "model-card", "dataset_card", "datasetcard",
	}
	docExts = map[string]bool{
		".md": true, ".markdown": true, ".rst": true, ".txt": true, ".pdf": true, ".html": true,
		".htm": true, ".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".svg": true,
		".webp": true, ".cff": true,
	}
	codeExts = map[string]bool{
		".py": true, ".pyi": true, ".pyc": true, ".ipynb": true, ".sh": true, ".bash": true,
		".zsh": true, ".ps1": true, ".bat": true, ".cmd": true, ".js": true, ".mjs": true,
		".cjs": true, ".ts": true, ".go": true, ".rs": true, ".c": true, ".cc": true, ".cpp": true,
		".h": true, ".hpp": true, ".cu": true, ".cuh": true, ".java": true, ".scala": true,
		".rb": true, ".pl": true, ".r": true, ".jl": true, ".lua": true, ".swift": true,
		".kt": true, ".so": true, ".dylib": true, ".dll": true, ".whl": true, ".jar": true,
		".wasm": true,
	}
	configExts = map[string]bool{
		".json": true, ".yaml": true, ".yml": true, ".toml": true, ".jinja": true,
		".jinja2": true, ".tiktoken": true, ".cfg": true, ".ini": true, ".conf": true,
	}
	dataExts = map[string]bool{
		".csv": true, ".tsv": true, ".parquet": true, ".arrow": true, ".feather": true,
		".jsonl": true, ".ndjson": true, ".avro": true, ".orc": true, ".tfrecord": true,
		".tfrecords": true, ".lance": true,
	}
)

// classifyModel applies the model rules of Classify.
func classifyModel(p string) (LayerKind, bool) {
	base := strings.ToLower(path.Base(p))
	ext := path.Ext(base)
	switch {
	case codeNames[base] || strings.HasPrefix(base, "requirements") && (ext == ".txt" || ext == ".in"):
		return LayerCode, true
	case configNames[base] || isTokenizerFile(base):
		return LayerWeightConfig, true
	case weightExts[ext] || strings.HasPrefix(ext, ".data-"):
		// .data-00000-of-00001 shards and .index files are TensorFlow
		// checkpoint variables.
		return LayerWeight, true
	}
	switch {
	case isDocName(base) || docExts[ext]:
		return LayerDoc, true
	case codeExts[ext]:
		return LayerCode, true
	case configExts[ext]:
		return LayerWeightConfig, true
	case dataExts[ext]:
		return LayerDataset, true
	}
	return LayerCode, false
}

// isDocName reports documentation recognised by its base name.
func isDocName(base string) bool {
	for _, prefix := range docPrefixes {
		if strings.HasPrefix(base, prefix) {
			return true
		}
	}
	return false
}

// isTokenizerFile reports tokenizer and vocabulary files, including
// SentencePiece models (tokenizer.model), which would otherwise match the
// .model weight extension.
func isTokenizerFile(base string) bool {
	return strings.HasPrefix(base, "tokenizer") || strings.HasPrefix(base, "vocab") ||
		strings.HasSuffix(base, ".tiktoken") || strings.HasSuffix(base, ".spm")
}
