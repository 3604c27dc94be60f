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
	if c.shown[rule.ID] >= c.perRule {
		c.hidden[rule.ID]++
		c.rules[rule.ID] = rule
		return
	}
	c.shown[rule.ID]++
	f := rule.Finding(message, evidence)
	f.Offset = offset
	f.Pointer = pointer
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
		c.sink.Report(rule.Finding(fmt.Sprintf("%d more %s findings in this file are not listed", c.hidden[id], rule.Name), ""))
	}
	clear(c.hidden)
}

// Quote renders untrusted text (a tensor name, a key) for a message or
// evidence: clipped to n bytes on a rune boundary and Go-quoted, so control
// characters cannot reach a terminal.
func Quote(s string, n int) string {
	if len(s) <= n {
		return strconv.Quote(s)
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..."
}
