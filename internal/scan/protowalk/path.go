package protowalk

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxDepth bounds how deeply a Path descends into nested messages, as
// protobuf's own parsers do; an object nested deeper is malformed rather
// than walked.
const MaxDepth = 100

// Path is the chain of message fields from the root message of an object
// to the message being walked, which scanners report as a finding's
// pointer: "graph.node[3].attribute[0].g". The zero Path is the root.
// A scanner descends into each sub-message with Descend, so that the path
// and the nesting depth are always those of the message being read.
type Path struct {
	steps []step
}

// step is one field of a Path.
type step struct {
	name string
	idx  int // -1 for a singular field
}

// String renders the path: field names joined by dots, each element of a
// repeated field followed by its index in brackets. The root is "".
func (p *Path) String() string {
	var b strings.Builder
	for i, s := range p.steps {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.name)
		if s.idx >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.idx))
			b.WriteByte(']')
		}
	}
	return b.String()
}

// Descend calls fn(f) with the path extended by the field called name
// that holds f: idx is the element's index for a repeated field (see
// Counter) and -1 for a singular one. fn walks the message in
// [f.Start, f.End). The path is restored before Descend returns.
//
// A *MalformedError returned by fn is located (MalformedError.Locate) at
// the path inside f unless a deeper Descend located it first, so the
// error names the innermost message. A message nested more than MaxDepth
// levels deep is not walked: Descend returns a located *MalformedError at
// f.Offset instead of calling fn. Other errors are returned unchanged.
func (p *Path) Descend(f Field, name string, idx int, fn func(f Field) error) error {
	p.steps = append(p.steps, step{name, idx})
	var err error
	if len(p.steps) > MaxDepth {
		err = &MalformedError{Offset: f.Offset, Reason: fmt.Sprintf("messages nested deeper than %d levels", MaxDepth)}
	} else {
		err = fn(f)
	}
	if err != nil {
		var me *MalformedError
		if errors.As(err, &me) {
			me.Locate(p.String)
		}
	}
	p.steps = p.steps[:len(p.steps)-1]
	return err
}

// Counter numbers the elements of one repeated field in the order a walk
// meets them, for Descend's idx. The zero Counter starts at 0; declare
// one per repeated field per message walked.
type Counter int

// Next returns the index of the next element.
func (c *Counter) Next() int {
	i := int(*c)
	*c++
	return i
}
