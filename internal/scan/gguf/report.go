package gguf

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/palisade-sec/palisade/internal/scan"
)

// session is the part of *scan.Session the scanner uses; tests and the
// fuzz target supply a recording fake.
type session interface {
	Report(f scan.Finding)
	Limits() scan.Limits
	Nested(ctx context.Context, name string, r io.ReaderAt, size int64, format scan.Format) error
}

var _ session = (*scan.Session)(nil)

// maxPerRule bounds how many findings of one rule one file produces; a
// hostile header with a million bad tensors gets a count, not a million
// lines.
const maxPerRule = 16

// reporter forwards findings to the session, at most maxPerRule per rule,
// and summarises the rest when flushed.
type reporter struct {
	sess   session
	shown  map[string]int
	hidden map[string]int
	rules  map[string]scan.Rule
}

func newReporter(sess session) *reporter {
	return &reporter{sess: sess, shown: map[string]int{}, hidden: map[string]int{}, rules: map[string]scan.Rule{}}
}

// add reports a finding of rule at offset (-1 if none) and pointer.
func (r *reporter) add(rule scan.Rule, offset int64, pointer, message, evidence string) {
	if r.shown[rule.ID] >= maxPerRule {
		r.hidden[rule.ID]++
		r.rules[rule.ID] = rule
		return
	}
	r.shown[rule.ID]++
	f := rule.Finding(message, evidence)
	f.Offset = offset
	f.Pointer = pointer
	r.sess.Report(f)
}

// flush reports one summary finding per rule whose findings were capped.
func (r *reporter) flush() {
	ids := make([]string, 0, len(r.hidden))
	for id := range r.hidden {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		rule := r.rules[id]
		r.sess.Report(rule.Finding(
			fmt.Sprintf("%d more %s findings in this file are not listed", r.hidden[id], rule.Name), ""))
	}
}

// quote renders untrusted text (a tensor name, a dtype) for a message or
// evidence: clipped to n bytes on a rune boundary and Go-quoted, so control
// characters cannot reach a terminal.
func quote(s string, n int) string {
	if len(s) <= n {
		return strconv.Quote(s)
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..."
}
