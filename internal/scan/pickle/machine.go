package pickle

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// limits bound the work and memory of one object's analysis.
type limits struct {
	maxStack  int   // values on the stack
	maxMarks  int   // open MARKs
	maxMemo   int   // memo entries
	maxOps    int64 // opcodes in the whole object
	keepStr   int   // bytes kept of each str or bytes value (<= bufSize)
	keepSmall int   // bytes kept once maxKept is spent
	maxKept   int64 // str and bytes bytes kept in memory per object
	keepItems int   // items kept of each container
	maxName   int   // bytes of a GLOBAL or INST line kept
	maxNest   int   // joblib object arrays (nested pickles) inside one another
	// expansion reports a stream whose objects, traversed with shared
	// references expanded, exceed expansionMin and expansionRatio times
	// the opcodes that built them.
	expansionMin   uint64
	expansionRatio uint64
}

var defaultLimits = limits{
	maxStack:       1 << 18,
	maxMarks:       1 << 16,
	maxMemo:        1 << 19,
	maxOps:         1 << 28,
	keepStr:        1 << 10,
	keepSmall:      128,
	maxKept:        32 << 20,
	keepItems:      256,
	maxName:        4 << 10,
	maxNest:        4,
	expansionMin:   1 << 20,
	expansionRatio: 1000,
}

// parseError is a malformed or hostile stream: CPython's unpickler would
// raise at this opcode (or the scanner's limits stop here). Everything the
// stream did before it counts.
type parseError struct {
	off   int64 // offset of the opcode
	op    byte
	msg   string
	limit bool // a scanner limit, not a malformation
}

func (e *parseError) Error() string {
	return fmt.Sprintf("%s at offset %d (opcode %s)", e.msg, e.off, opName(e.op))
}

// eventKind says what an event reports.
type eventKind uint8

const (
	evImport    eventKind = iota // v: a kGlobal or kExt that was imported
	evCall                       // v: a kCall that was made
	evPersID                     // v: a kPersID
	evMutate                     // BUILD, SETITEM(S), APPEND(S), ADDITEMS on target with arg
	evArray                      // v: a kArray whose raw data was skipped
	evSubPickle                  // a nested pickle (joblib object array) starts at off
	evTamper                     // msg: a protocol or framing irregularity
	evExpansion                  // msg: memo/DUP expansion
)

// event is what the machine tells its observer.
type event struct {
	kind   eventKind
	op     byte
	off    int64
	v      *value
	target *value
	arg    *value
	msg    string
	key    string // evTamper: the kind of anomaly
}

// observer receives the machine's events. An error stops the machine and
// is returned unchanged.
type observer interface {
	event(ctx context.Context, m *machine, e *event) error
}

// streamState is shared by the pickles of one object.
type streamState struct {
	lim   *limits
	ops   int64
	kept  int64
	ext   map[int64]*value  // copyreg extension codes the stream registered
	names map[string]string // interned GLOBAL and INST lines
}

// maxInterned bounds the interned strings; maxInternedLen is the longest
// string interned.
const (
	maxInterned    = 4096
	maxInternedLen = 64
)

// intern returns p as a string, sharing the strings of repeated names.
func (st *streamState) intern(p []byte) string {
	if s, ok := st.names[string(p)]; ok {
		return s
	}
	s := string(p)
	if len(st.names) < maxInterned {
		if st.names == nil {
			st.names = map[string]string{}
		}
		st.names[s] = s
	}
	return s
}

// segment is the outcome of running one pickle.
type segment struct {
	start, end int64
	proto      int // declared protocol, -1 if none
	result     *value
	err        *parseError // nil if STOP was reached
}

// memo models the unpickler's memo: PUT stores at an explicit index,
// MEMOIZE at the number of filled entries.
type memo struct {
	dense  []*value
	sparse map[int64]*value
	n      int
}

func (mm *memo) get(i int64) (*value, bool) {
	if i >= 0 && i < int64(len(mm.dense)) {
		if v := mm.dense[i]; v != nil {
			return v, true
		}
	}
	v, ok := mm.sparse[i]
	return v, ok
}

// put stores v at index i. Indices close to the number of filled entries
// live in a slice; far ones in a map, so a hostile index cannot make the
// slice grow beyond twice the entries actually stored.
func (mm *memo) put(i int64, v *value) {
	if i >= int64(len(mm.dense)) && i < int64(2*mm.n+1024) {
		if i < int64(cap(mm.dense)) {
			mm.dense = mm.dense[:i+1]
		} else {
			grown := make([]*value, i+1, max(i+1, 2*int64(cap(mm.dense))))
			copy(grown, mm.dense)
			mm.dense = grown
		}
	}
	if i < int64(len(mm.dense)) {
		if mm.dense[i] == nil {
			if _, ok := mm.sparse[i]; ok {
				delete(mm.sparse, i) // moves to the slice
			} else {
				mm.n++
			}
		}
		mm.dense[i] = v
		return
	}
	if mm.sparse == nil {
		mm.sparse = map[int64]*value{}
	}
	if _, ok := mm.sparse[i]; !ok {
		mm.n++
	}
	mm.sparse[i] = v
}

// machine runs one pickle symbolically.
type machine struct {
	rd    *reader
	obs   observer
	st    *streamState
	lim   *limits
	stack []*value
	marks []int
	memo  memo

	start    int64
	opOff    int64 // offset of the opcode being run
	op       byte
	proto    int // declared protocol, -1 if none
	protos   int // PROTO opcodes seen
	frameEnd int64
	// opEnd, when positive, is where the current opcode's own bytes ended
	// before data the opcode is followed by (joblib arrays) was skipped.
	opEnd    int64
	depth    int // nesting of joblib object-array pickles
	warned   map[string]bool
	expanded bool
	gets     int64
	dups     int64
	ops      int64
	ev       event // the event being delivered, reused to avoid an allocation per event
}

func newMachine(rd *reader, obs observer, st *streamState, depth int) *machine {
	return &machine{
		rd: rd, obs: obs, st: st, lim: st.lim, depth: depth,
		start: rd.offset(), proto: -1, frameEnd: -1,
	}
}

// run executes opcodes until STOP or an error. A malformed stream ends the
// segment with seg.err set; the returned error is reserved for failures
// that stop the whole scan (I/O, cancellation, the observer).
func (m *machine) run(ctx context.Context) (segment, error) {
	seg := segment{start: m.start}
	for {
		if m.st.ops&0x3fff == 0 {
			if err := ctx.Err(); err != nil {
				return seg, err
			}
		}
		m.st.ops++
		m.ops++
		m.opOff = m.rd.offset()
		if m.st.ops > m.lim.maxOps {
			seg.err = &parseError{off: m.opOff, msg: fmt.Sprintf("more than %d opcodes", m.lim.maxOps), limit: true}
			break
		}
		op, err := m.rd.readByte()
		if err != nil {
			err = m.wrap(err)
			var pe *parseError
			if errors.As(err, &pe) {
				pe.msg = "pickle data ended before STOP"
				seg.err = pe
				break
			}
			return seg, err
		}
		m.op = op
		m.opEnd = 0
		done, err := m.step(ctx, op)
		if err != nil {
			err = m.wrap(err)
			var pe *parseError
			if errors.As(err, &pe) {
				seg.err = pe
				break
			}
			return seg, err
		}
		opEnd := m.rd.offset()
		if m.opEnd > 0 {
			opEnd = m.opEnd
		}
		if m.frameEnd >= 0 && m.opOff < m.frameEnd && opEnd > m.frameEnd && op != opFrame {
			if err := m.tamper(ctx, "frame-cross", fmt.Sprintf("opcode %s at offset %d crosses the end of its FRAME at offset %d", opName(op), m.opOff, m.frameEnd)); err != nil {
				return seg, err
			}
		}
		if done {
			seg.result = m.stack[len(m.stack)-1]
			m.stack = m.stack[:len(m.stack)-1]
			break
		}
	}
	seg.end = m.rd.offset()
	seg.proto = m.proto
	return seg, nil
}

// wrap turns reader errors into parse errors at the current opcode.
func (m *machine) wrap(err error) error {
	if errors.Is(err, errTruncated) {
		return &parseError{off: m.opOff, op: m.op, msg: "pickle data was truncated"}
	}
	return err
}

func (m *machine) fail(format string, args ...any) error {
	return &parseError{off: m.opOff, op: m.op, msg: fmt.Sprintf(format, args...)}
}

func (m *machine) limitHit(what string, limit int) error {
	return &parseError{off: m.opOff, op: m.op, msg: fmt.Sprintf("%s exceeds the limit of %d", what, limit), limit: true}
}

// tamper reports a protocol irregularity once per kind and pickle.
func (m *machine) tamper(ctx context.Context, key, msg string) error {
	if m.warned[key] {
		return nil
	}
	if m.warned == nil {
		m.warned = map[string]bool{}
	}
	m.warned[key] = true
	return m.emit(ctx, event{kind: evTamper, off: m.opOff, op: m.op, msg: msg, key: key})
}

// emit hands e to the observer. The event is only valid during the call.
func (m *machine) emit(ctx context.Context, e event) error {
	m.ev = e
	return m.obs.event(ctx, m, &m.ev)
}

// Stack primitives. The fence is the newest mark: like CPython, nothing
// below it can be popped.

func (m *machine) fence() int {
	if n := len(m.marks); n > 0 {
		return m.marks[n-1]
	}
	return 0
}

func (m *machine) underflow() error {
	if len(m.marks) > 0 {
		return m.fail("unexpected MARK found")
	}
	return m.fail("unpickling stack underflow")
}

func (m *machine) push(v *value) error {
	if len(m.stack) >= m.lim.maxStack {
		return m.limitHit("stack depth", m.lim.maxStack)
	}
	m.stack = append(m.stack, v)
	return nil
}

func (m *machine) pop() (*value, error) {
	n := len(m.stack)
	if n <= m.fence() {
		return nil, m.underflow()
	}
	v := m.stack[n-1]
	m.stack[n-1] = nil
	m.stack = m.stack[:n-1]
	return v, nil
}

func (m *machine) top() (*value, error) {
	n := len(m.stack)
	if n <= m.fence() {
		return nil, m.underflow()
	}
	return m.stack[n-1], nil
}

// popMark removes the newest mark and returns the stack length it
// recorded.
func (m *machine) popMark() (int, error) {
	n := len(m.marks)
	if n == 0 {
		return 0, m.fail("could not find MARK")
	}
	k := m.marks[n-1]
	m.marks = m.marks[:n-1]
	return k, nil
}

// truncate drops the stack above k.
func (m *machine) truncate(k int) {
	clear(m.stack[k:])
	m.stack = m.stack[:k]
}

// valueWith4 is a value and room for four items in one allocation: calls
// always have four, and most tuples are short.
type valueWith4 struct {
	v   value
	arr [4]*value
}

// newValue returns a value whose items have room for n without another
// allocation when n <= 4.
func newValue(n int) *value {
	if n <= 4 {
		b := &valueWith4{}
		b.v.items = b.arr[:0:4]
		return &b.v
	}
	v := &value{}
	v.items = make([]*value, 0, n)
	return v
}

// container builds a container of kind k from items.
func (m *machine) container(k kind, items []*value) *value {
	keep := items
	trunc := false
	if len(keep) > m.lim.keepItems {
		keep = keep[:m.lim.keepItems]
		if k == kDict {
			keep = keep[:m.lim.keepItems&^1]
		}
		trunc = true
	}
	v := newValue(len(keep))
	v.kind, v.off, v.num, v.aux = k, m.opOff, int64(len(items)), 1
	if trunc {
		v.flags |= fTrunc
	}
	v.items = append(v.items, keep...)
	for _, it := range items {
		v.aux = int64(addWeight(uint64(v.aux), it.weight()))
	}
	if k == kDict {
		v.num = int64(len(items) / 2)
	}
	return v
}

// extend adds items to a container value in place.
func (m *machine) extend(ctx context.Context, c *value, items []*value) error {
	for _, it := range items {
		if it == c {
			continue // a container inside itself adds no expansion
		}
		c.aux = int64(addWeight(uint64(c.aux), it.weight()))
	}
	room := m.lim.keepItems - len(c.items)
	if c.kind == kDict {
		c.num += int64(len(items) / 2)
		room &^= 1
	} else {
		c.num += int64(len(items))
	}
	if room < len(items) {
		c.flags |= fTrunc
	}
	if room > 0 {
		c.items = append(c.items, items[:min(room, len(items))]...)
	}
	return m.checkExpansion(ctx, c)
}

// checkExpansion reports, once per pickle, a value whose expanded size is
// out of proportion to the opcodes that built it.
func (m *machine) checkExpansion(ctx context.Context, v *value) error {
	w := v.weight()
	if m.expanded || w < m.lim.expansionMin || w/m.lim.expansionRatio < uint64(m.ops) {
		return nil
	}
	m.expanded = true
	msg := fmt.Sprintf("%d opcodes (%d GET, %d DUP) build an object that expands to %d references when traversed", m.ops, m.gets, m.dups, w)
	if w == math.MaxInt64 {
		msg = fmt.Sprintf("%d opcodes (%d GET, %d DUP) build an object that expands to more than %d references when traversed", m.ops, m.gets, m.dups, int64(math.MaxInt64))
	}
	return m.emit(ctx, event{kind: evExpansion, off: m.opOff, op: m.op, v: v, msg: msg})
}

// keepLen is how many bytes of an n-byte payload to keep.
func (m *machine) keepLen(n int64) int {
	k := m.lim.keepStr
	if m.st.kept > m.lim.maxKept {
		k = m.lim.keepSmall
	}
	if n < int64(k) {
		k = int(n)
	}
	m.st.kept += int64(k)
	return k
}
