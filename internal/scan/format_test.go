package scan

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSniff(t *testing.T) {
	t.Parallel()
	safetensors := func(header string, data int) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
		b = append(b, header...)
		return append(b, make([]byte, data)...)
	}
	tarHeader := make([]byte, 1024)
	copy(tarHeader, "model.pt")
	copy(tarHeader[257:], "ustar\x00")
	zipTail := append([]byte("\x80\x02}q\x00."), []byte("PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")...)
	hugeHeader := binary.LittleEndian.AppendUint64(nil, 1<<40)
	hugeHeader = append(hugeHeader, `{"a":1}`...)

	utf16 := func(s string, bom bool) []byte {
		var b []byte
		if bom {
			b = append(b, 0xff, 0xfe)
		}
		for _, r := range s {
			b = append(b, byte(r), 0)
		}
		return b
	}
	userBlock := func(at int) []byte {
		b := make([]byte, at+64)
		copy(b, "# a user block may hold anything")
		copy(b[at:], "\x89HDF\r\n\x1a\n")
		return b
	}
	kerasJSON := `{"module": "keras", "class_name": "Sequential", "config": {}}`

	tests := []struct {
		name    string
		file    string
		content []byte
		want    []Match
	}{
		{"pickle protocol 2", "x.bin", []byte("\x80\x02}q\x00."), []Match{{FormatPickle, false}}},
		{"pickle protocol 5", "weights", []byte("\x80\x05\x95\x00"), []Match{{FormatPickle, false}}},
		{"protocol 0 pickle without extension", "member", []byte("cos\nsystem\n(S'id'\ntR."), []Match{{FormatPickle, true}, {FormatText, false}}},
		{"pickle extension widens the probe", "model.pkl", []byte("#!"), []Match{{FormatPickle, true}, {FormatText, false}}},
		{"plain text is text", "notes.txt", []byte("# notes\n"), []Match{{FormatText, false}}},
		{"polyglot pickle then zip", "x.pkl", zipTail, []Match{{FormatPickle, false}, {FormatZip, false}}},
		{"zip", "a.keras", []byte("PK\x03\x04rest"), []Match{{FormatZip, false}}},
		{"empty zip", "a.zip", []byte("PK\x05\x06" + string(make([]byte, 18))), []Match{{FormatZip, false}}},
		{"7z", "a.pt", []byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c, 0, 4}, []Match{{Format7z, false}}},
		{"gzip", "a.joblib", []byte{0x1f, 0x8b, 8, 0}, []Match{{FormatGzip, false}}},
		{"bzip2", "a.bz2", []byte("BZh91AY&SY\x00\x00"), []Match{{FormatBzip2, false}, {FormatPickle, true}}},
		{"xz", "a.xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0, 0, 4}, []Match{{FormatXz, false}}},
		{"lz4 frame", "a.lz4", []byte{0x04, 0x22, 0x4d, 0x18, 0x64}, []Match{{FormatLz4, false}}},
		{"zlib joblib", "model.joblib", []byte{0x78, 0x9c, 0x01, 0x02}, []Match{{FormatZlib, true}}},
		{"protocol 0 pickle that is also a zlib header", "p0.pkl", []byte("(S'echo'\ntR."), []Match{{FormatPickle, true}, {FormatText, false}}},
		{"lzma alone", "a.lzma", []byte{0x5d, 0, 0, 0x80, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0}, []Match{{FormatLzma, true}, {FormatPickle, true}}},
		{"numpy", "a.npy", []byte("\x93NUMPY\x01\x00"), []Match{{FormatNumpy, false}}},
		{"gguf", "m.gguf", []byte("GGUF\x03\x00\x00\x00"), []Match{{FormatGGUF, false}, {FormatPickle, true}}},
		{"hdf5", "m.h5", []byte("\x89HDF\r\n\x1a\n\x00"), []Match{{FormatHDF5, false}}},
		{"tar", "old.pt", tarHeader, []Match{{FormatTar, false}}},
		{"safetensors", "w.safetensors", safetensors(`{"a":{}}`, 16), []Match{{FormatSafetensors, false}}},
		{"safetensors with absurd header length", "w.safetensors", hugeHeader, []Match{{FormatSafetensors, false}}},
		{"saved model by name", "saved_model.pb", []byte{0x08, 0x01, 0x12, 0x00}, []Match{{FormatSavedModel, false}}},
		{"onnx by extension", "m.onnx", []byte{0x08, 0x07, 0x12, 0x00}, []Match{{FormatONNX, false}}},
		{"onnx by content", "model", []byte{0x08, 0x07, 0x12, 0x04, 't', 'e', 's', 't'}, []Match{{FormatONNX, true}}},
		{"keras config by name", "config.json", []byte(`{"module": "keras", "class_name": "Sequential", "config": {}}`), []Match{{FormatKerasConfig, false}, {FormatText, false}}},
		{"other json is text", "package.json", []byte(`{"name": "x"}`), []Match{{FormatText, false}}},
		{"keras config in UTF-16 with BOM", "model.json", utf16(kerasJSON, true), []Match{{FormatKerasConfig, false}}},
		{"keras config in UTF-16 without BOM", "model.json", utf16(kerasJSON, false), []Match{{FormatKerasConfig, false}}},
		{"keras config with a UTF-8 BOM", "model.json", append([]byte{0xef, 0xbb, 0xbf}, kerasJSON...), []Match{{FormatKerasConfig, false}, {FormatText, false}}},
		{"any config.json is a tentative keras config", "config.json", []byte(`{"architectures": ["BertModel"]}`), []Match{{FormatKerasConfig, true}, {FormatText, false}}},
		{"hdf5 after a 512-byte user block", "model.h5", userBlock(512), []Match{{FormatHDF5, false}}},
		{"hdf5 after an 8 KiB user block", "weights.bin", userBlock(8192), []Match{{FormatPickle, true}, {FormatHDF5, false}}},
		{"text saved model by name", "saved_model.pbtxt", []byte("saved_model_schema_version: 1\n"), []Match{{FormatPickle, true}, {FormatSavedModel, false}, {FormatText, false}}},
		{"empty", "empty.pkl", nil, nil},
		{"notebook is a notebook only", "train.ipynb", []byte(`{"cells": []}`), []Match{{FormatNotebook, false}}},
		{"requirements", "requirements-dev.txt", []byte("torch==2.1.0\n"), []Match{{FormatPickle, true}, {FormatDependencies, false}, {FormatText, false}}},
		{"lockfile", "poetry.lock", []byte("[[package]]\n"), []Match{{FormatDependencies, false}, {FormatText, false}}},
		{"conda environment", "environment.yml", []byte("name: train\ndependencies:\n"), []Match{{FormatDependencies, false}, {FormatText, false}}},
		{"dockerfile", "Dockerfile", []byte("FROM python:3.11\n"), []Match{{FormatPickle, true}, {FormatDockerfile, false}, {FormatText, false}}},
		{"named dockerfile", "train.Dockerfile", []byte("FROM python:3.11\n"), []Match{{FormatPickle, true}, {FormatDockerfile, false}, {FormatText, false}}},
		{"kubernetes manifest", "deploy.yaml", []byte("# serving\napiVersion: apps/v1\nkind: Deployment\n"), []Match{{FormatKubernetes, false}, {FormatText, false}}},
		{"other yaml is text", "params.yaml", []byte("lr: 0.1\n"), []Match{{FormatPickle, true}, {FormatText, false}}},
		{"binary is not text", "blob", []byte{1, 2, 3, 0, 5}, nil},
		// Evasions found in review: content that passes for another format
		// must still reach the pickle scanner.
		{"pickle with { at byte 8 is not safetensors", "model.pkl", []byte("\x80\x04\x8c\x05AAAA{\x94."), []Match{{FormatPickle, false}}},
		{"pickle opening with FRAME and no PROTO", "weights.model", []byte("\x95\x20\x00\x00\x00\x00\x00\x00\x00\x8c\x02os"), []Match{{FormatPickle, true}}},
		{"pickle opening with SHORT_BINUNICODE", "weights", []byte("\x8c\x02os\x8c\x06system\x93."), []Match{{FormatPickle, true}}},
		{"tensor bytes with { at byte 8 are not safetensors", "archive/data/3", append([]byte{1, 2, 3, 4, 5, 6, 7, 8, '{', 0xfe}, make([]byte, 64)...), nil},
		{"safetensors whose header length reads as PROTO", "w.safetensors", safetensors(`{"a":{}}`+string(make([]byte, 0x0280-8)), 16), []Match{{FormatSafetensors, false}, {FormatPickle, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Sniff(tt.file, bytes.NewReader(tt.content), int64(len(tt.content)))
			if err != nil {
				t.Fatalf("Sniff: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Sniff(%q) mismatch (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

func TestParseSeverity(t *testing.T) {
	t.Parallel()
	for s := SeverityNone; s <= SeverityCritical; s++ {
		got, err := ParseSeverity(s.String())
		if err != nil || got != s {
			t.Errorf("ParseSeverity(%q) = %v, %v; want %v", s.String(), got, err, s)
		}
	}
	if got, err := ParseSeverity("HIGH"); err != nil || got != SeverityHigh {
		t.Errorf("ParseSeverity(HIGH) = %v, %v; want high", got, err)
	}
	if _, err := ParseSeverity("severe"); err == nil {
		t.Error("ParseSeverity(severe) succeeded; want an error naming the choices")
	}
}
