package protowalk

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// descend walks p down steps, one Descend a step; the field entered at
// depth d (1-based) has offset 10*d. At depth failAt, fn records the path
// and returns fail() instead of going deeper; with fail nil it records the
// path at the deepest level and returns nil.
func descend(p *Path, steps []step, depth, failAt int, fail func() error, inside *string) error {
	*inside = p.String()
	if fail != nil && depth == failAt {
		return fail()
	}
	if depth == len(steps) {
		return nil
	}
	s := steps[depth]
	return p.Descend(Field{Offset: int64(10 * (depth + 1))}, s.name, s.idx, func(Field) error {
		return descend(p, steps, depth+1, failAt, fail, inside)
	})
}

func TestPathDescend(t *testing.T) {
	t.Parallel()
	graphNode := []step{{"graph", -1}, {"node", 2}}
	chain := func(n int) []step {
		s := make([]step, n)
		for i := range s {
			s[i] = step{"g", -1}
		}
		return s
	}
	gs := func(n int) string { return strings.TrimSuffix(strings.Repeat("g.", n), ".") }
	malformed := func() error { return &MalformedError{Offset: 7, Reason: "bad"} }
	errRead := errors.New("read failed")
	tests := []struct {
		name       string
		steps      []step
		failAt     int          // depth at which fail's error is returned
		fail       func() error // nil: walk to the bottom and return nil
		wantInside string       // the path where the walk stopped
		// The *MalformedError Descend must return; wantReason "" for none.
		wantReason  string
		wantOffset  int64
		wantPointer string
	}{
		{name: "root", wantInside: ""},
		{name: "singular field", steps: []step{{"graph", -1}}, wantInside: "graph"},
		{name: "repeated field", steps: []step{{"node", 3}}, wantInside: "node[3]"},
		{name: "index zero", steps: []step{{"node", 0}}, wantInside: "node[0]"},
		{
			name:       "mixed",
			steps:      []step{{"graph", -1}, {"node", 3}, {"attribute", 0}, {"g", -1}},
			wantInside: "graph.node[3].attribute[0].g",
		},
		{
			name: "malformed in the innermost message", steps: graphNode, failAt: 2, fail: malformed,
			wantInside: "graph.node[2]", wantReason: "bad", wantOffset: 7, wantPointer: "graph.node[2]",
		},
		{
			name: "malformed in an outer message", steps: graphNode, failAt: 1, fail: malformed,
			wantInside: "graph", wantReason: "bad", wantOffset: 7, wantPointer: "graph",
		},
		{
			name: "malformed at the root is not located", steps: graphNode, failAt: 0, fail: malformed,
			wantInside: "", wantReason: "bad", wantOffset: 7, wantPointer: "",
		},
		{
			name: "wrapped malformed", steps: graphNode, failAt: 2,
			fail:       func() error { return fmt.Errorf("walk: %w", malformed()) },
			wantInside: "graph.node[2]", wantReason: "bad", wantOffset: 7, wantPointer: "graph.node[2]",
		},
		{
			name: "other errors", steps: graphNode, failAt: 2, fail: func() error { return errRead },
			wantInside: "graph.node[2]",
		},
		{name: "MaxDepth levels", steps: chain(MaxDepth), wantInside: gs(MaxDepth)},
		{
			name: "deeper than MaxDepth", steps: chain(MaxDepth + 1),
			wantInside: gs(MaxDepth), // fn of the last level is not called
			wantReason: "messages nested deeper than 100 levels", wantOffset: 10 * (MaxDepth + 1), wantPointer: gs(MaxDepth + 1),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var p Path
			var inside string
			err := descend(&p, tt.steps, 0, tt.failAt, tt.fail, &inside)
			if inside != tt.wantInside {
				t.Errorf("path where the walk stopped = %q, want %q", inside, tt.wantInside)
			}
			if got := p.String(); got != "" {
				t.Errorf("path after Descend returned = %q, want the root", got)
			}
			var me *MalformedError
			switch {
			case tt.wantReason != "":
				if !errors.As(err, &me) {
					t.Fatalf("Descend = %v, want a *MalformedError", err)
				}
				if me.Offset != tt.wantOffset || me.Reason != tt.wantReason || me.Pointer != tt.wantPointer {
					t.Errorf("Descend = offset %d, %q at %q, want offset %d, %q at %q",
						me.Offset, me.Reason, me.Pointer, tt.wantOffset, tt.wantReason, tt.wantPointer)
				}
			case tt.fail != nil:
				if !errors.Is(err, errRead) || errors.As(err, &me) {
					t.Errorf("Descend = %v, want %v unchanged", err, errRead)
				}
			case err != nil:
				t.Errorf("Descend = %v, want nil", err)
			}
		})
	}
}

func TestCounter(t *testing.T) {
	t.Parallel()
	var a, b Counter
	got := []int{a.Next(), a.Next(), b.Next(), a.Next(), b.Next()}
	want := []int{0, 1, 0, 2, 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("indices = %v, want %v", got, want)
	}
}

func TestReaderValidate(t *testing.T) {
	t.Parallel()
	varint := func(num protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
	}
	tests := []struct {
		name       string
		body       []byte
		wantReason string // "" for no error
	}{
		{"empty", nil, ""},
		{"known and unknown fields", append(varint(1, 3), varint(9, 1)...), ""},
		{"wrong wire type", append(varint(1, 3), varint(5, 1)...), "Test.name (field 5) has wire type varint, want length-delimited"},
		{"truncated", []byte{0x08}, "truncated varint (0 bytes left in the enclosing message)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The body is the payload of field 6, followed by a field that
			// must not be read.
			msg := protowire.AppendBytes(protowire.AppendTag(nil, 6, protowire.BytesType), tt.body)
			msg = append(msg, 0xff)
			r := NewReader(t.Context(), bytes.NewReader(msg), int64(len(msg)))
			f, err := r.Next(0, int64(len(msg)))
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			err = r.Validate(testSpec, f)
			var me *MalformedError
			switch {
			case tt.wantReason == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.wantReason != "" && (!errors.As(err, &me) || me.Reason != tt.wantReason):
				t.Errorf("Validate = %v, want reason %q", err, tt.wantReason)
			}
		})
	}
}
