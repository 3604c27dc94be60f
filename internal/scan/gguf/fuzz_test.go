package gguf

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// FuzzGGUF feeds arbitrary files to the scanner: it must not panic, must
// finish, and must report only its own rules at their severities (the
// template rules at theirs), at offsets inside the file.
func FuzzGGUF(f *testing.F) {
	for _, name := range []string{"benign_chat_template.gguf", "mal_gguf_chat_template_ssti.gguf"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(build(spec{kvs: with(kvStrs("tokenizer.ggml.tokens", []string{"a", "{{ x.__class__ }}"}), kvRaw("n", typeArray, nest(3))),
		tensors: []ti{{"a", []uint64{64, 2}, q4_0, 0}, {"b", []uint64{4}, f32, 64}}, data: 96, tail: []byte("\x80\x04")}))
	f.Add(build(spec{order: binary.BigEndian, kvs: with(kvStr("tokenizer.chat_template", sstiPopen)), tensors: []ti{{"a", []uint64{4}, f32, 0}}, data: 16}))
	f.Add(build(spec{version: 2, kvs: with(kvStr("tokenizer.chat_template.x", `{% set a = '\x5f_cla' %}{{ x[a ~ 'ss__'] }}{% raw %}{{{% endraw %}`))}))

	severity := map[string]scan.Severity{}
	for _, r := range New().Rules() {
		severity[r.ID] = r.Severity
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := scan.DefaultLimits()
		lim.MaxHeaderBytes = 1 << 20
		sess := runFake(t, data, false, lim)
		for _, x := range sess.findings {
			sev, ok := severity[x.RuleID]
			if !ok || sev != x.Severity {
				t.Errorf("finding %s at %s is not one of the scanner's rules", x.RuleID, x.Severity)
			}
			if x.Offset < -1 || x.Offset > int64(len(data)) {
				t.Errorf("%s offset %d outside the %d-byte file", x.RuleID, x.Offset, len(data))
			}
		}
	})
}

// FuzzTemplate checks the template analyser alone: no panics, a snippet
// whenever something is found.
func FuzzTemplate(f *testing.F) {
	for _, s := range benignTemplates {
		f.Add(s)
	}
	f.Add(sstiPopen)
	f.Add(`{{ ()|attr('\x5f\x5fclass\x5f\x5f')|attr(['__glo','bals__']|join)['o' ~ 's'] }}{% raw %}{{ x }}{% endraw`)
	f.Fuzz(func(t *testing.T, src string) {
		v := analyzeTemplate(src)
		if v.severity != scan.SeverityNone && (len(v.reasons) == 0 || v.at < 0 || v.at > len(src)) {
			t.Errorf("verdict %s with reasons %v at %d", v.severity, v.reasons, v.at)
		}
	})
}
