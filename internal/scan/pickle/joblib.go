package pickle

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// joblib's NumpyPickler writes each NumPy array as a NumpyArrayWrapper
// object followed, in the middle of the stream, by the array's raw bytes
// (joblib >= 0.12.2 first writes one padding-length byte and that many 0xff
// bytes so the data is aligned). NumpyUnpickler.load_build reads them
// right after the wrapper's BUILD and replaces the wrapper on the stack
// with the array. Object arrays are written as a complete nested pickle
// instead of raw bytes.

// joblibAlignment is the alignment recent joblib pads array data to.
const joblibAlignment = 16

// isNumpyArrayWrapper reports whether v is an instance of joblib's
// NumpyArrayWrapper.
func isNumpyArrayWrapper(v *value) bool {
	if v.kind != kCall {
		return false
	}
	fn := v.fn()
	if fn.kind != kGlobal || fn.flags&fDynamic != 0 || !strings.HasSuffix(fn.s, "NumpyArrayWrapper") {
		return false
	}
	return fn.path() == "joblib.numpy_pickle.NumpyArrayWrapper"
}

// joblibArray skips the data of the array whose wrapper was just built and
// replaces the wrapper on the stack with the array, or runs the nested
// pickle of an object array. An array that cannot be sized stops the
// stream: what follows cannot be located.
func (m *machine) joblibArray(ctx context.Context, wrapper *value) error {
	// The array bytes follow the BUILD opcode outside any frame: judge
	// frame boundaries by where the opcode itself ended.
	m.opEnd = m.rd.offset()
	state := wrapper.items[callState]
	dt := dtypeOf(state.dictGet("dtype"))
	if dt.err != "" {
		return m.fail("the joblib array after NumpyArrayWrapper cannot be sized: %s", dt.err)
	}
	arr := &value{kind: kArray, off: m.opOff, items: []*value{wrapper}, aux: -1}
	if dt.object {
		if m.depth >= m.lim.maxNest {
			return m.limitHit("nesting of joblib object arrays", m.lim.maxNest)
		}
		arr.aux = m.rd.offset()
		if err := m.emit(ctx, event{kind: evSubPickle, op: m.op, off: arr.aux, v: arr}); err != nil {
			return err
		}
		sub := newMachine(m.rd, m.obs, m.st, m.depth+1)
		seg, err := sub.run(ctx)
		if err != nil {
			return err
		}
		if seg.err != nil {
			return seg.err
		}
		arr.num = seg.end - arr.aux
		m.stack[len(m.stack)-1] = arr
		return nil
	}
	count, ok := shapeCount(state.dictGet("shape"))
	if !ok {
		return m.fail("the joblib array after NumpyArrayWrapper cannot be sized: shape is not a tuple of integers")
	}
	hi, n := bits.Mul64(uint64(count), uint64(dt.itemsize))
	if hi != 0 || n > math.MaxInt64 {
		return m.fail("the joblib array after NumpyArrayWrapper is too large: %d items of %d bytes", count, dt.itemsize)
	}
	if err := m.skipPadding(state.dictGet("numpy_array_alignment_bytes")); err != nil {
		return err
	}
	if int64(n) > m.rd.remaining() {
		return m.fail("the joblib array data (%d bytes) runs past the end of the stream", n)
	}
	arr.aux = m.rd.offset()
	arr.num = int64(n)
	arr.s = dt.desc
	if err := m.rd.skip(int64(n)); err != nil {
		return err
	}
	m.stack[len(m.stack)-1] = arr
	return m.emit(ctx, event{kind: evArray, op: m.op, off: arr.aux, v: arr})
}

// skipPadding skips the alignment padding before array data: a length
// byte and that many bytes. Wrappers that record their alignment always
// have it; wrappers that do not (hand-made or trimmed state) have it when
// the bytes look exactly like it.
func (m *machine) skipPadding(align *value) error {
	if align != nil && align.kind == kNone {
		return nil
	}
	if align != nil && align.kind == kInt && align.num > 0 {
		n, err := m.rd.readByte()
		if err != nil {
			return err
		}
		return m.rd.skip(int64(n))
	}
	p, err := m.rd.peek(1 + joblibAlignment)
	if err != nil {
		return err
	}
	if len(p) == 0 {
		return nil
	}
	n := int(p[0])
	if n < 1 || n > joblibAlignment || len(p) < 1+n || (m.rd.offset()+1+int64(n))%joblibAlignment != 0 {
		return nil
	}
	for _, c := range p[1 : 1+n] {
		if c != 0xff {
			return nil
		}
	}
	return m.rd.skip(int64(1 + n))
}

// shapeCount multiplies a shape tuple's dimensions.
func shapeCount(shape *value) (int64, bool) {
	if shape == nil || shape.kind != kTuple || shape.flags&fTrunc != 0 {
		return 0, false
	}
	count := int64(1)
	for _, d := range shape.items {
		if d.kind != kInt || d.flags&fBig != 0 || d.num < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(uint64(count), uint64(d.num))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		count = int64(lo)
	}
	return count, true
}

// dtype is what sizing an array needs from a pickled numpy.dtype.
type dtype struct {
	itemsize int64
	object   bool
	desc     string
	err      string
}

// dtypeOf reads numpy.dtype(desc, align, copy) with its BUILD state
// (version, byteorder, subarray, names, fields, elsize, alignment, flags).
func dtypeOf(v *value) dtype {
	return dtypeDepth(v, 0)
}

func dtypeDepth(v *value, depth int) dtype {
	if v == nil || v.kind != kCall {
		return dtype{err: "the dtype is not a numpy.dtype call"}
	}
	fn := v.fn()
	if fn.kind != kGlobal || fn.flags&fDynamic != 0 {
		return dtype{err: "the dtype is not a numpy.dtype call"}
	}
	if n := fn.path(); n != "numpy.dtype" {
		return dtype{err: "the dtype is built by " + n + ", not numpy.dtype"}
	}
	desc, ok := v.arg(0).str()
	if !ok {
		return dtype{err: "the dtype descriptor is not a string"}
	}
	d := dtype{desc: desc}
	state := v.items[callState]
	if state != nil && state.kind == kTuple && depth < 8 {
		// Structured dtypes with an object field are pickled like object
		// arrays.
		if fields := tupleItem(state, 4); fields != nil && fields.kind == kDict {
			for i := 1; i < len(fields.items); i += 2 {
				if f := fields.items[i]; f.kind == kTuple && len(f.items) > 0 && dtypeDepth(f.items[0], depth+1).object {
					d.object = true
				}
			}
		}
		if sub := tupleItem(state, 2); sub != nil && sub.kind == kTuple && len(sub.items) > 0 && dtypeDepth(sub.items[0], depth+1).object {
			d.object = true
		}
		if el := tupleItem(state, 5); el != nil && el.kind == kInt && el.flags&fBig == 0 && el.num > 0 {
			d.itemsize = el.num
		}
	}
	code := strings.TrimLeft(desc, "<>|=")
	if code == "" {
		return dtype{err: fmt.Sprintf("unknown dtype %q", desc)}
	}
	kindChar := code[0]
	if kindChar == 'O' {
		d.object = true
	}
	if d.object || d.itemsize > 0 {
		return d
	}
	if kindChar == '?' && len(code) == 1 {
		d.itemsize = 1
		return d
	}
	n, err := strconv.ParseInt(code[1:], 10, 64)
	if err != nil || n <= 0 || n > 1<<40 {
		if kindChar == 'M' || kindChar == 'm' {
			n = 8
		} else {
			return dtype{err: fmt.Sprintf("unknown dtype %q", desc)}
		}
	}
	switch kindChar {
	case 'b', 'i', 'u', 'f', 'c', 'M', 'm', 'S', 'a', 'V':
		d.itemsize = n
	case 'U':
		d.itemsize = n * 4
	default:
		return dtype{err: fmt.Sprintf("unknown dtype %q", desc)}
	}
	return d
}

func tupleItem(t *value, i int) *value {
	if i < len(t.items) {
		return t.items[i]
	}
	return nil
}
