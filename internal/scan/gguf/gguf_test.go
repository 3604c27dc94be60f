package gguf

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/palisade-sec/palisade/internal/scan"
)

const (
	chatML    = `{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}`
	sstiPopen = `{% for x in ().__class__.__base__.__subclasses__() %}{% if "warning" in x.__name__ %}{{ x()._module.__builtins__['__import__']('os').popen('id').read() }}{% endif %}{% endfor %}`
	f32       = 0
	q4_0      = 2
	q4K       = 12
)

// basic is the metadata of a small, valid model.
var basic = []kv{kvStr("general.architecture", "llama"), kvStr("general.name", "test"), kvU32("general.alignment", 32)}

func with(kvs ...kv) []kv { return append(append([]kv(nil), basic...), kvs...) }

// nest writes an array value nested depth levels deep around one u8.
func nest(depth int) func(w *gw) {
	return func(w *gw) {
		for range depth - 1 {
			w.u32(typeArray)
			w.u64(1)
		}
		w.u32(typeU8)
		w.u64(1)
		w.u8(7)
	}
}

func TestScanStructure(t *testing.T) {
	t.Parallel()
	two := []ti{{"a", []uint64{4}, f32, 0}, {"b", []uint64{8}, f32, 32}}
	tests := []struct {
		name string
		data []byte
		want []brief
	}{
		{"valid", build(spec{kvs: basic, tensors: two, data: 64}), want()},
		{"valid v2", build(spec{version: 2, kvs: basic, tensors: two, data: 64}), want()},
		{"valid big-endian", build(spec{order: binary.BigEndian, kvs: basic, tensors: two, data: 64}), want()},
		{"vocabulary only", build(spec{kvs: with(kvStrs("tokenizer.ggml.tokens", []string{"a", "b", "{", "}"}))}), want()},
		{"zero-size tensor", build(spec{kvs: basic, tensors: []ti{{"z", []uint64{0}, f32, 0}, {"a", []uint64{4}, f32, 0}}, data: 16}), want()},
		{"quantized tensors", build(spec{kvs: basic, tensors: []ti{{"q", []uint64{64, 2}, q4_0, 0}, {"k", []uint64{256}, q4K, 96}}, data: 240}), want()},
		{"nested arrays", build(spec{kvs: with(kvRaw("x", typeArray, nest(3)))}), want()},
		{"alignment 64", build(spec{kvs: []kv{kvU32("general.alignment", 64)}, tensors: []ti{{"a", []uint64{4}, f32, 0}, {"b", []uint64{4}, f32, 64}}, alignment: 64, data: 80}), want()},

		{"version 1", build(spec{version: 1, kvs: basic}), want("GGF005")},
		{"version 1 big-endian", build(spec{version: 1, order: binary.BigEndian}), want("GGF005")},
		{"unknown version", build(spec{version: 9, kvs: basic}), want("GGF004")},
		{"truncated header", build(spec{kvs: basic})[:20], want("GGF004")},
		{"truncated metadata", func() []byte { d := build(spec{kvs: basic, alignment: 1}); return d[:len(d)-2] }(), want("GGF004")},

		{"hostile metadata count", build(spec{nKV: u64p(1 << 63), kvs: basic}), want("GGF006")},
		{"hostile tensor count", build(spec{nTensors: u64p(1<<63 + 5), kvs: basic}), want("GGF006")},
		{"tensor count beyond metadata", build(spec{nTensors: u64p(1000), kvs: basic, tensors: two, data: 64}), want("GGF006")},
		{"hostile key length", build(spec{nKV: u64p(1), infos: func(w *gw) { w.u64(1 << 40) }}), want("GGF006")},
		{"hostile string length", build(spec{kvs: with(kvRaw("general.description", typeString, func(w *gw) { w.u64(1 << 62) }))}), want("GGF006")},
		{"hostile array count", build(spec{kvs: with(kvRaw("x", typeArray, func(w *gw) { w.u32(typeU32); w.u64(1 << 62) }))}), want("GGF006")},
		{"hostile string array count", build(spec{kvs: with(kvRaw("tokenizer.ggml.tokens", typeArray, func(w *gw) { w.u32(typeString); w.u64(1<<64 - 1) }))}), want("GGF006")},
		{"hostile nested array count", build(spec{kvs: with(kvRaw("x", typeArray, func(w *gw) { w.u32(typeArray); w.u64(1 << 60) }))}), want("GGF006")},
		{"hostile dimension count", build(spec{nTensors: u64p(1), kvs: basic, infos: func(w *gw) { w.str("t"); w.u32(1 << 31) }}), want("GGF006")},
		{"hostile tensor name length", build(spec{nTensors: u64p(1), kvs: basic, infos: func(w *gw) { w.u64(1 << 50); w.u32(0) }, data: 64}), want("GGF006")},

		{"arrays nested too deep", build(spec{kvs: with(kvRaw("x", typeArray, nest(maxArrayDepth+2)))}), want("GGF007")},

		{"unknown value type", build(spec{kvs: with(kvRaw("x", 13, func(w *gw) { w.u32(0) }))}), want("GGF008")},
		{"unknown array element type", build(spec{kvs: with(kvRaw("x", typeArray, func(w *gw) { w.u32(99); w.u64(0) }))}), want("GGF008")},
		{"empty key", build(spec{kvs: with(kvRaw("", typeU8, func(w *gw) { w.u8(1) }))}), want("GGF008")},
		{"alignment stored as u64", build(spec{kvs: []kv{kvU64("general.alignment", 32)}}), want("GGF008")},
		{"alignment not a power of two", build(spec{kvs: []kv{kvU32("general.alignment", 48)}}), want("GGF008")},
		{"alignment zero", build(spec{kvs: []kv{kvU32("general.alignment", 0)}}), want("GGF008")},
		{"alignment as string", build(spec{kvs: []kv{kvStr("general.alignment", "32")}}), want("GGF008")},
		{"alignment negative i32", build(spec{kvs: []kv{kvRaw("general.alignment", typeI32, func(w *gw) { w.u32(0xffffffe0) })}}), want("GGF008", "GGF008")},

		{"duplicate key", build(spec{kvs: with(kvStr("general.name", "again"))}), want("GGF009")},

		{"long tensor name", build(spec{kvs: basic, tensors: []ti{{strings.Repeat("n", 70), []uint64{4}, f32, 0}}, data: 16}), want("GGF010")},
		{"too many dimensions", build(spec{kvs: basic, tensors: []ti{{"a", []uint64{1, 1, 1, 1, 4}, f32, 0}}, data: 16}), want("GGF010")},
		{"negative dimension", build(spec{kvs: basic, tensors: []ti{{"a", []uint64{1 << 63}, f32, 0}}, data: 16}), want("GGF010")},
		{"unknown ggml type", build(spec{kvs: basic, tensors: []ti{{"a", []uint64{4}, 99, 0}}, data: 16}), want("GGF010")},
		{"removed ggml type", build(spec{kvs: basic, tensors: []ti{{"a", []uint64{32}, 31, 0}}, data: 18}), want("GGF010")},
		{"row not whole blocks", build(spec{kvs: basic, tensors: []ti{{"a", []uint64{33}, q4_0, 0}}, data: 18}), want("GGF010")},
		{"misaligned offset", build(spec{kvs: basic, tensors: []ti{{"a", []uint64{4}, f32, 0}, {"b", []uint64{4}, f32, 16}}, data: 32}), want("GGF010")},
		{"element count overflows", build(spec{kvs: basic, tensors: []ti{{"a", []uint64{1 << 32, 1 << 31}, f32, 0}}, data: 16}), want("GGF010")},

		{"duplicate tensor name", build(spec{kvs: basic, tensors: []ti{{"a", []uint64{4}, f32, 0}, {"a", []uint64{4}, f32, 32}}, data: 48}), want("GGF011")},

		{"tensor past end of file", build(spec{kvs: basic, tensors: []ti{{"a", []uint64{8}, f32, 0}}, data: 16}), want("GGF012")},
		{"offset far past end", build(spec{kvs: basic, tensors: []ti{{"a", []uint64{4}, f32, 1 << 40}}, data: 16}), want("GGF012", "GGF015")},
		{"offset near 2^64", build(spec{kvs: basic, tensors: []ti{{"a", []uint64{64}, f32, 1<<64 - 32}}, data: 16}), want("GGF012", "GGF015")},

		{"overlap", build(spec{kvs: basic, tensors: []ti{{"a", []uint64{16}, f32, 0}, {"b", []uint64{16}, f32, 32}}, data: 96}), want("GGF013")},
		{"gap between tensors", build(spec{kvs: basic, tensors: []ti{{"a", []uint64{4}, f32, 0}, {"b", []uint64{4}, f32, 64}}, data: 80}), want("GGF014")},
		{"trailing data", build(spec{kvs: basic, tensors: []ti{{"a", []uint64{4}, f32, 0}}, data: 32, tail: bytes.Repeat([]byte{0xcc}, 100)}), want("GGF015")},
		{"trailing data without tensors", build(spec{kvs: basic, tail: bytes.Repeat([]byte{1}, 50)}), want("GGF015")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sess := runFake(t, tt.data, false)
			if diff := cmp.Diff(tt.want, briefs(sess.findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s\n%s", diff, dump(sess.findings))
			}
		})
	}
}

func TestMagic(t *testing.T) {
	t.Parallel()
	bad := []byte("GGUX\x03\x00\x00\x00")
	if got := briefs(runFake(t, bad, false).findings); !cmp.Equal(got, want("GGF004")) {
		t.Errorf("forced scan of bad magic: got %v, want GGF004", got)
	}
	for _, data := range [][]byte{bad, []byte("GG"), nil} {
		if fs := runFake(t, data, true).findings; len(fs) != 0 {
			t.Errorf("tentative %q: unexpected findings\n%s", data, dump(fs))
		}
	}
}

func TestHeaderLimit(t *testing.T) {
	t.Parallel()
	tokens := make([]string, 1000)
	for i := range tokens {
		tokens[i] = fmt.Sprintf("token-%d", i)
	}
	data := build(spec{kvs: with(kvStrs("tokenizer.ggml.tokens", tokens))})
	lim := scan.DefaultLimits()
	lim.MaxHeaderBytes = 4096
	sess := runFake(t, data, false, lim)
	if diff := cmp.Diff(want("GGF007"), briefs(sess.findings)); diff != "" {
		t.Fatalf("findings (-want +got):\n%s\n%s", diff, dump(sess.findings))
	}
	if !strings.Contains(sess.findings[0].Message, "4096-byte header limit") {
		t.Errorf("message %q does not name the limit", sess.findings[0].Message)
	}
}

func TestTemplatesInFile(t *testing.T) {
	t.Parallel()
	tokens := []string{"<s>", "{{", "{%", "{{ ''.__class__.__mro__ }}", "</s>"}
	long := strings.Repeat("a", 100_000) + "{{ x.__class__ }}"
	split := strings.Repeat("b", bufSize-1) + "{{ x.__class__ }}"
	type wantF struct {
		rule, ptr, evidence, msg string
	}
	tests := []struct {
		name string
		data []byte
		want []wantF
	}{
		{"benign chat template", build(spec{kvs: with(kvStr("tokenizer.chat_template", chatML))}), nil},
		{"token array", build(spec{kvs: with(kvStrs("tokenizer.ggml.tokens", tokens))}),
			[]wantF{{"GGF002", "tokenizer.ggml.tokens[3]", "__class__", "metadata string"}}},
		{"named template", build(spec{kvs: with(kvStr("tokenizer.chat_template.tool_use", sstiPopen))}),
			[]wantF{{"GGF001", "tokenizer.chat_template.tool_use", "popen", "chat template"}}},
		{"other key", build(spec{kvs: with(kvStr("general.description", "A model. {{ cycler.__init__.__globals__.os.popen('id').read() }}"))}),
			[]wantF{{"GGF001", "general.description", "cycler.__init__", "metadata string"}}},
		{"template beyond the read window", build(spec{kvs: with(kvStr("general.description", long))}),
			[]wantF{{"GGF002", "general.description", "x.__class__", "attribute __class__"}}},
		{"marker split across windows", build(spec{kvs: with(kvStr("general.description", split))}),
			[]wantF{{"GGF002", "general.description", "x.__class__", "attribute __class__"}}},
		{"long template key without marker text", build(spec{kvs: with(kvStr("tokenizer.chat_template", strings.Repeat("c", 70_000)))}), nil},
		{"big-endian file", build(spec{order: binary.BigEndian, kvs: with(kvStr("tokenizer.chat_template", sstiPopen))}),
			[]wantF{{"GGF001", "tokenizer.chat_template", "popen", "chat template"}}},
		{"second template hides behind a benign one", build(spec{kvs: with(kvStr("tokenizer.chat_template", chatML), kvStr("tokenizer.chat_template", sstiPopen))}),
			[]wantF{{"GGF009", "tokenizer.chat_template", "tokenizer.chat_template", "more than once"}, {"GGF001", "tokenizer.chat_template", "__import__", "chat template"}}},
		{"nested template array", build(spec{kvs: with(kvRaw("tokenizer.chat_template.x", typeArray, func(w *gw) {
			w.u32(typeArray)
			w.u64(1)
			w.u32(typeString)
			w.u64(1)
			w.str("{{ lipsum.__globals__ }}")
		}))}), []wantF{{"GGF002", "tokenizer.chat_template.x[0][0]", "lipsum", "stepping stone"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sess := runFake(t, tt.data, false)
			if len(sess.findings) != len(tt.want) {
				t.Fatalf("got %d findings, want %d\n%s", len(sess.findings), len(tt.want), dump(sess.findings))
			}
			for i, w := range tt.want {
				f := sess.findings[i]
				if f.RuleID != w.rule || f.Pointer != w.ptr || !strings.Contains(f.Evidence, w.evidence) || !strings.Contains(f.Message, w.msg) {
					t.Errorf("finding %d = %s ptr=%q evidence=%q message=%q; want %s ptr=%q evidence~%q message~%q",
						i, f.RuleID, f.Pointer, f.Evidence, f.Message, w.rule, w.ptr, w.evidence, w.msg)
				}
			}
		})
	}
}

func TestTemplateOffset(t *testing.T) {
	t.Parallel()
	data := build(spec{kvs: with(kvStr("tokenizer.chat_template", sstiPopen))})
	sess := runFake(t, data, false)
	if len(sess.findings) != 1 {
		t.Fatalf("want one finding\n%s", dump(sess.findings))
	}
	f := sess.findings[0]
	if got := string(data[f.Offset : f.Offset+int64(len(sstiPopen))]); got != sstiPopen {
		t.Errorf("offset %d does not point at the template value: %q", f.Offset, got[:20])
	}
}

func TestFindingCap(t *testing.T) {
	t.Parallel()
	tokens := make([]string, 40)
	for i := range tokens {
		tokens[i] = "{{ x.__class__ }}"
	}
	sess := runFake(t, build(spec{kvs: with(kvStrs("tokenizer.ggml.tokens", tokens))}), false)
	if got, want := len(sess.findings), maxPerRule+1; got != want {
		t.Fatalf("got %d findings, want %d", got, want)
	}
	if last := sess.findings[maxPerRule]; last.RuleID != "GGF002" || !strings.Contains(last.Message, "24 more") {
		t.Errorf("summary finding = %s %q", last.RuleID, last.Message)
	}
}

func TestUnclaimedRegionsNested(t *testing.T) {
	t.Parallel()
	tail := []byte("\x80\x04\x95payload")
	data := build(spec{kvs: basic, tensors: []ti{{"a", []uint64{4}, f32, 0}, {"b", []uint64{4}, f32, 64}}, data: 80, tail: tail})
	sess := runFake(t, data, false)
	dataStart := len(data) - 80 - len(tail)
	wantNested := []string{fmt.Sprintf("unreferenced-bytes@%d", dataStart+32), fmt.Sprintf("trailing-data@%d", dataStart+80)}
	if diff := cmp.Diff(wantNested, sess.nested); diff != "" {
		t.Errorf("nested (-want +got):\n%s\n%s", diff, dump(sess.findings))
	}
}

// probe stands in for the pickle scanner: it reports every object it is
// given as a pickle, and stays silent on tentative probes (as the real
// scanner does on content that is not a pickle, such as the GGUF file
// itself, whose 'G' is also an opcode).
type probe struct{}

var probeRule = scan.Rule{ID: "TST001", Name: "probe", Severity: scan.SeverityCritical}

func (probe) Rules() []scan.Rule { return []scan.Rule{probeRule} }
func (probe) Scan(_ context.Context, obj scan.Object, sess *scan.Session) error {
	if obj.Tentative {
		return nil
	}
	sess.Report(probeRule.Finding("pickle seen", obj.Name))
	return nil
}

func engine(extra map[scan.Format]scan.Scanner) *scan.Engine {
	scanners := map[scan.Format]scan.Scanner{scan.FormatGGUF: New()}
	for f, s := range extra {
		scanners[f] = s
	}
	return scan.NewEngine(scan.Options{Scanners: scanners, Workers: 1})
}

func TestAppendedPayloadIsScanned(t *testing.T) {
	t.Parallel()
	data := build(spec{kvs: basic, tensors: []ti{{"a", []uint64{4}, f32, 0}}, data: 32, tail: []byte("\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94.")})
	fs, err := engine(map[scan.Format]scan.Scanner{scan.FormatPickle: probe{}}).ScanReader(t.Context(), "m.gguf", bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]brief{{"GGF015", scan.SeverityMedium}, {"TST001", scan.SeverityCritical}}, briefs(fs)); diff != "" {
		t.Fatalf("findings (-want +got):\n%s\n%s", diff, dump(fs))
	}
	for _, f := range fs {
		if f.RuleID == "TST001" && (len(f.Inner) != 1 || !strings.HasPrefix(f.Inner[0], "trailing-data@")) {
			t.Errorf("nested finding inner = %v", f.Inner)
		}
	}
}

func TestCorpus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file     string
		want     []brief
		evidence string
		offset   int64
	}{
		{"benign_chat_template.gguf", want(), "", 0},
		{"mal_gguf_chat_template_ssti.gguf", want("GGF001"), "__builtins__['__import__']('os').popen(", 0xea},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			fs, err := engine(nil).ScanReader(t.Context(), tt.file, bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, briefs(fs)); diff != "" {
				t.Fatalf("findings (-want +got):\n%s\n%s", diff, dump(fs))
			}
			if len(fs) == 0 {
				return
			}
			f := fs[0]
			if f.Pointer != "tokenizer.chat_template" || f.Offset != tt.offset || !strings.Contains(f.Evidence, tt.evidence) {
				t.Errorf("got pointer %q offset %d evidence %q; want tokenizer.chat_template, %d, ~%q", f.Pointer, f.Offset, f.Evidence, tt.offset, tt.evidence)
			}
		})
	}
}
