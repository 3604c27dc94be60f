package artifact

import "testing"

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path           string
		kind           Kind
		want           LayerKind
		wantRecognised bool
	}{
		{"model.safetensors", KindModel, LayerWeight, true},
		{"model-00001-of-00002.safetensors", KindModel, LayerWeight, true},
		{"pytorch_model.bin", KindModel, LayerWeight, true},
		{"ckpt/model.PT", KindModel, LayerWeight, true},
		{"weights.pth", KindModel, LayerWeight, true},
		{"llama-7b.Q4_K_M.gguf", KindModel, LayerWeight, true},
		{"model.onnx", KindModel, LayerWeight, true},
		{"model.h5", KindModel, LayerWeight, true},
		{"model.keras", KindModel, LayerWeight, true},
		{"saved_model.pb", KindModel, LayerWeight, true},
		{"variables/variables.data-00000-of-00001", KindModel, LayerWeight, true},
		{"variables/variables.index", KindModel, LayerWeight, true},
		{"model.ckpt", KindModel, LayerWeight, true},
		{"flax_model.msgpack", KindModel, LayerWeight, true},
		{"arrays.npz", KindModel, LayerWeight, true},
		{"clf.joblib", KindModel, LayerWeight, true},
		{"model.pkl", KindModel, LayerWeight, true},
		{"config.json", KindModel, LayerWeightConfig, true},
		{"generation_config.json", KindModel, LayerWeightConfig, true},
		{"tokenizer.json", KindModel, LayerWeightConfig, true},
		{"tokenizer_config.json", KindModel, LayerWeightConfig, true},
		{"tokenizer.model", KindModel, LayerWeightConfig, true}, // not the .model weight extension
		{"vocab.txt", KindModel, LayerWeightConfig, true},       // not the .txt doc extension
		{"vocab.json", KindModel, LayerWeightConfig, true},
		{"merges.txt", KindModel, LayerWeightConfig, true},
		{"special_tokens_map.json", KindModel, LayerWeightConfig, true},
		{"model.safetensors.index.json", KindModel, LayerWeightConfig, true},
		{"chat_template.jinja", KindModel, LayerWeightConfig, true},
		{"hparams.yaml", KindModel, LayerWeightConfig, true},
		{"README.md", KindModel, LayerDoc, true},
		{"README", KindModel, LayerDoc, true},
		{"LICENSE", KindModel, LayerDoc, true},
		{"LICENSE.txt", KindModel, LayerDoc, true},
		{"docs/usage.md", KindModel, LayerDoc, true},
		{"model_card.md", KindModel, LayerDoc, true},
		{"notes.txt", KindModel, LayerDoc, true},
		{"assets/diagram.png", KindModel, LayerDoc, true},
		{"inference.py", KindModel, LayerCode, true},
		{"scripts/run.sh", KindModel, LayerCode, true},
		{"requirements.txt", KindModel, LayerCode, true}, // not the .txt doc extension
		{"requirements-dev.txt", KindModel, LayerCode, true},
		{"pyproject.toml", KindModel, LayerCode, true}, // not the .toml config extension
		{"Dockerfile", KindModel, LayerCode, true},
		{"demo.ipynb", KindModel, LayerCode, true},
		{"lib/custom_op.so", KindModel, LayerCode, true},
		{"eval/sample.jsonl", KindModel, LayerDataset, true},
		{"data.parquet", KindModel, LayerDataset, true},
		{"blob.xyz", KindModel, LayerCode, false}, // the default
		{"noextension", KindModel, LayerCode, false},
		// Datasets: docs and code keep their kinds, the rest is data.
		{"train.parquet", KindDataset, LayerDataset, true},
		{"train.csv", KindDataset, LayerDataset, true},
		{"images/0001.png", KindDataset, LayerDataset, true},
		{"corpus/part-1.txt", KindDataset, LayerDataset, true},
		{"meta.json", KindDataset, LayerDataset, true},
		{"LICENSE", KindDataset, LayerDoc, true},
		{"dataset_card.md", KindDataset, LayerDoc, true},
		{"README.md", KindDataset, LayerDoc, true},
		{"load.py", KindDataset, LayerCode, true},
		{"shard.bin", KindDataset, LayerDataset, true},
		{"blob.xyz", KindDataset, LayerDataset, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+"/"+tt.path, func(t *testing.T) {
			t.Parallel()
			got, recognised := Classify(tt.path, tt.kind)
			if got != tt.want || recognised != tt.wantRecognised {
				t.Errorf("Classify(%q, %s) = %s, %v, want %s, %v", tt.path, tt.kind, got, recognised, tt.want, tt.wantRecognised)
			}
		})
	}
}

func TestLayerMediaTypes(t *testing.T) {
	t.Parallel()
	// The media types spelled out in model-spec docs/spec.md.
	tests := []struct {
		kind LayerKind
		want string
	}{
		{LayerWeight, "application/vnd.cncf.model.weight.v1.raw"},
		{LayerWeightConfig, "application/vnd.cncf.model.weight.config.v1.raw"},
		{LayerDoc, "application/vnd.cncf.model.doc.v1.raw"},
		{LayerCode, "application/vnd.cncf.model.code.v1.raw"},
		{LayerDataset, "application/vnd.cncf.model.dataset.v1.raw"},
	}
	for _, tt := range tests {
		if got := LayerMediaType(tt.kind); got != tt.want {
			t.Errorf("LayerMediaType(%s) = %s, want %s", tt.kind, got, tt.want)
		}
		k, p, ok := parseModelPackLayer(tt.want)
		if !ok || k != tt.kind || p != packRaw {
			t.Errorf("parseModelPackLayer(%s) = %s, %s, %v", tt.want, k, p, ok)
		}
	}
	for _, mt := range []string{
		"application/vnd.cncf.model.weight.v1.tar",
		"application/vnd.cncf.model.weight.config.v1.tar+gzip",
		"application/vnd.cncf.model.dataset.v1.tar+zstd",
	} {
		if _, _, ok := parseModelPackLayer(mt); !ok {
			t.Errorf("parseModelPackLayer(%s) refused a spec media type", mt)
		}
	}
	for _, mt := range []string{
		"application/vnd.cncf.model.weight.v1.zip",
		"application/vnd.cncf.model.weights.v1.raw",
		"application/vnd.cncf.model.weight.v2.raw",
		"application/vnd.oci.image.layer.v1.tar",
	} {
		if _, _, ok := parseModelPackLayer(mt); ok {
			t.Errorf("parseModelPackLayer(%s) accepted a media type the spec does not define", mt)
		}
	}
}
