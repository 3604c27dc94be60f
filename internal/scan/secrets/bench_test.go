package secrets

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// mlSource is realistic ML training code: nearly every line holds one of
// the generic rule's keywords (token, key, api, auth, secret).
var mlSource = strings.Repeat(`
tokenizer = AutoTokenizer.from_pretrained(model_name, token=os.environ.get("HF_TOKEN"))
max_tokens = config["max_tokens"]
api_url = f"{API_BASE}/v1/completions"
cache_key = hashlib.sha256(prompt.encode()).hexdigest()
for key, value in batch.items():
    inputs[key] = value.to(device)
attention_mask = tokens["attention_mask"]
auth_header = {"Authorization": f"Bearer {token}"}
secret_name = "training-credentials"
pad_token_id = tokenizer.pad_token_id
logits = model(**inputs).logits
loss = criterion(logits.view(-1, vocab_size), labels.view(-1))
`, 20)

// notebookBench builds a notebook of cells with that code and text
// outputs, plus an image output.
func notebookBench() []byte {
	var b bytes.Buffer
	b.WriteString(`{"cells": [`)
	for i := range 50 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"cell_type": "code", "execution_count": %d, "metadata": {}, "source": [`, i)
		for j, l := range strings.Split(mlSource[:2000], "\n") {
			if j > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "\n %q", l+"\n")
		}
		b.WriteString(`], "outputs": [{"name": "stdout", "output_type": "stream", "text": ["step 100 loss 0.25 tokens/s 5120\n"]},`)
		fmt.Fprintf(&b, `{"data": {"image/png": %q}, "metadata": {}, "output_type": "display_data"}]}`, strings.Repeat("iVBORw0KGgoAAAANSUhEUg", 200))
	}
	b.WriteString(`], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`)
	return b.Bytes()
}

func benchScan(b *testing.B, name string, format scan.Format, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		obj := scan.Object{Name: name, Format: format, R: bytes.NewReader(data), Size: int64(len(data))}
		n := 0
		if err := shared.scan(context.Background(), obj, func(scan.Finding) { n++ }); err != nil {
			b.Fatal(err)
		}
		if n != 0 {
			b.Fatalf("%d findings in clean content", n)
		}
	}
}

// BenchmarkScanPython scans 1 MB of keyword-dense ML code.
func BenchmarkScanPython(b *testing.B) {
	data := []byte(strings.Repeat(mlSource, (1<<20)/len(mlSource)+1))
	benchScan(b, "train.py", scan.FormatText, data)
}

// BenchmarkScanNotebook scans a notebook of the same code with outputs.
func BenchmarkScanNotebook(b *testing.B) {
	benchScan(b, "train.ipynb", scan.FormatNotebook, notebookBench())
}
