package scan

import (
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"
)

// FindingSink receives findings: a *Session, or a test's recorder.
type FindingSink interface {
	Report(f Finding)
}

// Capped forwards findings to a sink, at most a fixed number per rule, and
// summarises the rest in one finding per rule on Flush: a hostile header
// with a million bad entries yields a count, not a million lines.
type Capped struct {
	sink    FindingSink
	perRule int
	shown   map[string]int
	hidden  map[string]int
	rules   map[string]Rule
}

// NewCapped returns a Capped that forwards up to perRule findings of each
// rule to sink.
func NewCapped(sink FindingSink, perRule int) *Capped {
	return &Capped{sink: sink, perRule: perRule, shown: map[string]int{}, hidden: map[string]int{}, rules: map[string]Rule{}}
}

// Add reports a finding of rule at offset (-1 if none) and pointer, unless
// the rule's cap is reached.
func (c *Capped) Add(rule Rule, offset int64, pointer, message, evidence string) {
	f := rule.Finding(message, evidence)
	f.Offset = offset
	f.Pointer = pointer
	c.report(rule, f)
}

// Report forwards a finding of one of rules unless its rule's cap is
// reached; a finding whose rule is not among rules is forwarded uncapped.
// Capped is itself a FindingSink this way.
func (c *Capped) Report(f Finding) {
	c.report(Rule{ID: f.RuleID, Name: f.RuleName, Severity: f.Severity, Remediation: f.Remediation}, f)
}

func (c *Capped) report(rule Rule, f Finding) {
	if c.shown[rule.ID] >= c.perRule {
		c.hidden[rule.ID]++
		if _, ok := c.rules[rule.ID]; !ok {
			c.rules[rule.ID] = rule
		}
		return
	}
	c.shown[rule.ID]++
	c.sink.Report(f)
}

// Flush reports one summary finding per rule whose findings were capped.
func (c *Capped) Flush() {
	ids := make([]string, 0, len(c.hidden))
	for id := range c.hidden {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		rule := c.rules[id]
		c.sink.Report(rule.Finding(fmt.Sprintf("%d more %s findings in this file are not listed", c.hidden[id], rule.Name),
			fmt.Sprintf("%d findings", c.shown[id]+c.hidden[id])))
	}
	clear(c.hidden)
	clear(c.shown)
}

// Buffer holds findings until they are known to be worth reporting (a
// scanner given a tentative object reports nothing if the content turns
// out not to be its format).
type Buffer []Finding

// Report appends f.
func (b *Buffer) Report(f Finding) { *b = append(*b, f) }

// FlushTo reports every buffered finding to sink and empties the buffer.
func (b *Buffer) FlushTo(sink FindingSink) {
	for _, f := range *b {
		sink.Report(f)
	}
	*b = nil
}

// Quote renders untrusted text (a tensor name, a key) for a message or
// evidence: clipped to n bytes on a rune boundary and Go-quoted, so control
// characters cannot reach a terminal.
func Quote(s string, n int) string {
	if len(s) <= n {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:clipAt(s, n)]) + "..."
}

// Clip shortens s to at most n bytes, cut back to a rune boundary, with
// "..." appended when anything was cut. It does not escape anything.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:clipAt(s, n)] + "..."
}

// clipAt returns the largest rune boundary at or below n in s (len(s) > n).
func clipAt(s string, n int) int {
	cut := max(n, 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return cut
}
