package pickle

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Opcode semantics. Each case follows the load_* function of CPython's
// Modules/_pickle.c: the same stack, mark and memo rules and the same
// errors, except that errors which only stop a real load after the
// opcode's effect (an unregistered extension code, a missing
// persistent_load, a non-str STACK_GLOBAL argument) are reported and
// passed over, so that nothing after them escapes the analysis.

// step runs one opcode. It reports whether the opcode was STOP.
func (m *machine) step(ctx context.Context, op byte) (bool, error) {
	if p := int(opcodes[op].proto); p >= 2 && p > m.proto && op != opProto {
		declared := "no PROTO header (protocol 0 or 1)"
		if m.proto >= 0 {
			declared = "protocol " + strconv.Itoa(m.proto)
		}
		if err := m.tamper(ctx, "newer-opcode", fmt.Sprintf("opcode %s (protocol %d) appears in a stream that declares %s", opName(op), p, declared)); err != nil {
			return false, err
		}
	}
	switch op {
	case opMark:
		if len(m.marks) >= m.lim.maxMarks {
			return false, m.limitHit("MARK depth", m.lim.maxMarks)
		}
		m.marks = append(m.marks, len(m.stack))
	case opStop:
		if len(m.stack) <= m.fence() {
			return false, m.underflow()
		}
		return true, nil
	case opPop:
		n := len(m.stack)
		switch {
		case len(m.marks) > 0 && m.marks[len(m.marks)-1] == n:
			m.marks = m.marks[:len(m.marks)-1]
		case n <= m.fence():
			return false, m.underflow()
		default:
			m.stack[n-1] = nil
			m.stack = m.stack[:n-1]
		}
	case opPopMark:
		k, err := m.popMark()
		if err != nil {
			return false, err
		}
		m.truncate(k)
	case opDup:
		v, err := m.top()
		if err != nil {
			return false, err
		}
		m.dups++
		countUse(v)
		return false, m.push(v)
	case opFloat:
		s, _, err := m.line(64)
		if err != nil {
			return false, err
		}
		f, perr := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if perr != nil && !errors.Is(perr, strconv.ErrRange) {
			f = math.NaN() // CPython raises; keep going to see what follows
		}
		return false, m.push(floatValue(f, m.opOff))
	case opBinFloat:
		p, err := m.rd.next(8)
		if err != nil {
			return false, err
		}
		return false, m.push(floatValue(math.Float64frombits(binary.BigEndian.Uint64(p)), m.opOff))
	case opInt, opLong:
		s, total, err := m.line(maxNumberText)
		if err != nil {
			return false, err
		}
		truncated := total > int64(len(s))
		if op == opInt && (s == "00" || s == "01") {
			if s == "01" {
				return false, m.push(valTrue)
			}
			return false, m.push(valFalse)
		}
		if op == opLong && !truncated {
			s = strings.TrimSuffix(s, "L")
		}
		return false, m.push(intText(s, truncated, op == opInt, m.opOff))
	case opBinInt:
		p, err := m.rd.next(4)
		if err != nil {
			return false, err
		}
		return false, m.push(intValue(int64(int32(binary.LittleEndian.Uint32(p))), m.opOff))
	case opBinInt1, opBinInt2:
		size := 2
		if op == opBinInt1 {
			size = 1
		}
		n, err := m.binSize(size)
		if err != nil {
			return false, err
		}
		return false, m.push(intValue(n, m.opOff))
	case opLong1, opLong4:
		var n int64
		if op == opLong1 {
			b, err := m.rd.readByte()
			if err != nil {
				return false, err
			}
			n = int64(b)
		} else {
			p, err := m.rd.next(4)
			if err != nil {
				return false, err
			}
			n = int64(int32(binary.LittleEndian.Uint32(p)))
			if n < 0 {
				return false, m.fail("LONG pickle has negative byte count")
			}
		}
		v, err := m.longBytes(n)
		if err != nil {
			return false, err
		}
		return false, m.push(v)
	case opNone:
		return false, m.push(valNone)
	case opNewTrue:
		return false, m.push(valTrue)
	case opNewFalse:
		return false, m.push(valFalse)
	case opString:
		s, total, err := m.line(m.lim.keepStr)
		if err != nil {
			return false, err
		}
		return false, m.push(m.textString(s, total, true))
	case opUnicode:
		s, total, err := m.line(m.lim.keepStr)
		if err != nil {
			return false, err
		}
		return false, m.push(m.textString(s, total, false))
	case opBinString, opShortBinString, opBinUnicode, opShortBinUnicode, opBinUnicode8,
		opBinBytes, opShortBinBytes, opBinBytes8, opByteArray8:
		return false, m.binaryString(op)
	case opNextBuffer:
		return false, m.push(&value{kind: kBuffer, off: m.opOff})
	case opReadonlyBuffer:
		v, err := m.top()
		if err != nil {
			return false, err
		}
		if v.kind == kBuffer {
			v.flags |= fReadonly
		}
	case opEmptyTuple:
		return false, m.push(m.container(kTuple, nil))
	case opEmptyList:
		return false, m.push(m.container(kList, nil))
	case opEmptyDict:
		return false, m.push(m.container(kDict, nil))
	case opEmptySet:
		return false, m.push(m.container(kSet, nil))
	case opTuple1, opTuple2, opTuple3:
		n := int(op-opTuple1) + 1
		k := len(m.stack) - n
		if k < m.fence() {
			return false, m.underflow()
		}
		v := m.container(kTuple, m.stack[k:])
		m.truncate(k)
		if err := m.push(v); err != nil {
			return false, err
		}
		return false, m.checkExpansion(ctx, v)
	case opTuple, opList, opFrozenSet, opDict:
		k, err := m.popMark()
		if err != nil {
			return false, err
		}
		if op == opDict && (len(m.stack)-k)%2 != 0 {
			return false, m.fail("odd number of items for DICT")
		}
		v := m.container(markKind(op), m.stack[k:])
		m.truncate(k)
		if err := m.push(v); err != nil {
			return false, err
		}
		return false, m.checkExpansion(ctx, v)
	case opAppend:
		return false, m.appendItems(ctx, len(m.stack)-1, op)
	case opAppends:
		k, err := m.popMark()
		if err != nil {
			return false, err
		}
		return false, m.appendItems(ctx, k, op)
	case opSetItem:
		return false, m.setItems(ctx, len(m.stack)-2, op)
	case opSetItems:
		k, err := m.popMark()
		if err != nil {
			return false, err
		}
		return false, m.setItems(ctx, k, op)
	case opAddItems:
		k, err := m.popMark()
		if err != nil {
			return false, err
		}
		return false, m.addItems(ctx, k)
	case opGet, opBinGet, opLongBinGet:
		var idx int64
		var err error
		switch op {
		case opGet:
			idx, err = m.textIndex()
		case opBinGet:
			idx, err = m.binSize(1)
		default:
			idx, err = m.binSize(4)
		}
		if err != nil {
			return false, err
		}
		v, ok := m.memo.get(idx)
		if !ok {
			return false, m.fail("Memo value not found at index %d", idx)
		}
		m.gets++
		countUse(v)
		return false, m.push(v)
	case opPut, opBinPut, opLongBinPut, opMemoize:
		var idx int64
		var err error
		switch op {
		case opPut:
			idx, err = m.textIndex()
			if err == nil && idx < 0 {
				return false, m.fail("negative PUT argument")
			}
		case opBinPut:
			idx, err = m.binSize(1)
		case opLongBinPut:
			idx, err = m.binSize(4)
		default:
			idx = int64(m.memo.n)
		}
		if err != nil {
			return false, err
		}
		v, err := m.top()
		if err != nil {
			return false, err
		}
		m.memo.put(idx, v)
		if m.memo.n > m.lim.maxMemo {
			return false, m.limitHit("memo size", m.lim.maxMemo)
		}
	case opGlobal:
		g, err := m.readGlobal()
		if err != nil {
			return false, err
		}
		if err := m.emit(ctx, event{kind: evImport, op: op, off: m.opOff, v: g}); err != nil {
			return false, err
		}
		return false, m.push(g)
	case opStackGlobal:
		name, err := m.pop()
		if err != nil {
			return false, err
		}
		mod, err := m.pop()
		if err != nil {
			return false, err
		}
		g := m.stackGlobal(mod, name)
		if err := m.emit(ctx, event{kind: evImport, op: op, off: m.opOff, v: g}); err != nil {
			return false, err
		}
		return false, m.push(g)
	case opInst:
		k, err := m.popMark()
		if err != nil {
			return false, err
		}
		g, err := m.readGlobal()
		if err != nil {
			return false, err
		}
		if err := m.emit(ctx, event{kind: evImport, op: op, off: m.opOff, v: g}); err != nil {
			return false, err
		}
		args := m.container(kTuple, m.stack[k:])
		m.truncate(k)
		return false, m.call(ctx, g, args, nil)
	case opExt1, opExt2, opExt4:
		var code int64
		var err error
		switch op {
		case opExt1:
			code, err = m.binSize(1)
		case opExt2:
			code, err = m.binSize(2)
		default:
			var p []byte
			p, err = m.rd.next(4)
			if err == nil {
				code = int64(int32(binary.LittleEndian.Uint32(p)))
			}
		}
		if err != nil {
			return false, err
		}
		if code <= 0 {
			return false, m.fail("EXT specifies code <= 0")
		}
		v := &value{kind: kExt, num: code, off: m.opOff, op: op}
		if g := m.st.ext[code]; g != nil {
			v.items = []*value{g}
		}
		if err := m.emit(ctx, event{kind: evImport, op: op, off: m.opOff, v: v}); err != nil {
			return false, err
		}
		return false, m.push(v)
	case opReduce:
		args, err := m.pop()
		if err != nil {
			return false, err
		}
		fn, err := m.pop()
		if err != nil {
			return false, err
		}
		return false, m.call(ctx, fn, args, nil)
	case opObj:
		k, err := m.popMark()
		if err != nil {
			return false, err
		}
		if len(m.stack)-k < 1 {
			return false, m.underflow()
		}
		fn := m.stack[k]
		args := m.container(kTuple, m.stack[k+1:])
		m.truncate(k)
		return false, m.call(ctx, fn, args, nil)
	case opNewObj, opNewObjEx:
		var kwargs *value
		var err error
		if op == opNewObjEx {
			if kwargs, err = m.pop(); err != nil {
				return false, err
			}
		}
		args, err := m.pop()
		if err != nil {
			return false, err
		}
		cls, err := m.pop()
		if err != nil {
			return false, err
		}
		return false, m.call(ctx, cls, args, kwargs)
	case opBuild:
		if len(m.stack)-2 < m.fence() {
			return false, m.underflow()
		}
		state, _ := m.pop()
		inst := m.stack[len(m.stack)-1]
		if inst.kind == kCall {
			inst.items[callState] = state
			if state != inst {
				inst.aux = int64(addWeight(uint64(inst.aux), state.weight()))
			}
		}
		if err := m.emit(ctx, event{kind: evMutate, op: op, off: m.opOff, target: inst, arg: state}); err != nil {
			return false, err
		}
		if isNumpyArrayWrapper(inst) {
			return false, m.joblibArray(ctx, inst)
		}
	case opPersID:
		s, total, err := m.line(m.lim.keepStr)
		if err != nil {
			return false, err
		}
		pid := &value{kind: kStr, s: s, num: total, aux: -1, off: m.opOff}
		if total > int64(len(s)) {
			pid.flags |= fTrunc
		}
		return false, m.persID(ctx, pid)
	case opBinPersID:
		pid, err := m.pop()
		if err != nil {
			return false, err
		}
		return false, m.persID(ctx, pid)
	case opProto:
		b, err := m.rd.readByte()
		if err != nil {
			return false, err
		}
		if b > highestProtocol {
			return false, m.fail("unsupported pickle protocol: %d", b)
		}
		if m.protos > 0 {
			if err := m.tamper(ctx, "proto-dup", fmt.Sprintf("a second PROTO opcode (protocol %d) at offset %d", b, m.opOff)); err != nil {
				return false, err
			}
		}
		if m.opOff != m.start {
			if err := m.tamper(ctx, "proto-misplaced", fmt.Sprintf("PROTO at offset %d is not the first opcode of the pickle starting at offset %d", m.opOff, m.start)); err != nil {
				return false, err
			}
		}
		m.protos++
		m.proto = int(b)
	case opFrame:
		n, err := m.binSize(8)
		if err != nil {
			return false, err
		}
		if m.frameEnd > m.opOff {
			if err := m.tamper(ctx, "frame-nested", fmt.Sprintf("FRAME at offset %d starts before the previous frame ends at offset %d", m.opOff, m.frameEnd)); err != nil {
				return false, err
			}
		}
		if n > m.rd.remaining() {
			if err := m.tamper(ctx, "frame-long", fmt.Sprintf("FRAME at offset %d declares %d bytes but only %d remain", m.opOff, n, m.rd.remaining())); err != nil {
				return false, err
			}
		}
		m.frameEnd = m.rd.offset() + min(n, m.rd.remaining())
	default:
		return false, m.fail("unknown opcode %s", opName(op))
	}
	return false, nil
}

// countUse counts a further push of a global (GET, DUP), so the analysis
// can tell whether every use of it was a call it judged.
func countUse(v *value) {
	if v.kind == kGlobal && v.aux < math.MaxInt32 {
		v.aux++
	}
}

// markKind is the container a MARK-terminated opcode builds.
func markKind(op byte) kind {
	switch op {
	case opList:
		return kList
	case opFrozenSet:
		return kFrozenSet
	case opDict:
		return kDict
	}
	return kTuple
}

// call records a call and pushes its result.
func (m *machine) call(ctx context.Context, fn, args, kwargs *value) error {
	v := newValue(callItems)
	v.kind, v.op, v.off = kCall, m.op, m.opOff
	v.items = v.items[:callItems]
	v.items[callFn] = fn
	v.items[callArgs] = args
	v.items[callKwargs] = kwargs
	w := addWeight(1, args.weight())
	if kwargs != nil {
		w = addWeight(w, kwargs.weight())
	}
	v.aux = int64(w)
	m.registerExtension(v)
	if err := m.emit(ctx, event{kind: evCall, op: m.op, off: m.opOff, v: v}); err != nil {
		return err
	}
	if err := m.push(v); err != nil {
		return err
	}
	return m.checkExpansion(ctx, v)
}

// maxExtensions bounds the extension codes remembered per object.
const maxExtensions = 4096

// registerExtension models copyreg.add_extension(module, name, code) with
// constant arguments, so that later EXT opcodes resolve.
func (m *machine) registerExtension(v *value) {
	fn := v.fn()
	if fn.kind != kGlobal || fn.flags&fDynamic != 0 || !strings.HasSuffix(fn.s, "add_extension") || fn.path() != "copyreg.add_extension" {
		return
	}
	mod, ok1 := v.arg(0).str()
	name, ok2 := v.arg(1).str()
	code := v.arg(2)
	if !ok1 || !ok2 || code == nil || code.kind != kInt || code.flags&fBig != 0 {
		return
	}
	if m.st.ext == nil {
		m.st.ext = map[int64]*value{}
	}
	if len(m.st.ext) < maxExtensions {
		m.st.ext[code.num] = m.compat(globalValue(mod, name, v.off, opExt4))
	}
}

func (m *machine) persID(ctx context.Context, pid *value) error {
	v := &value{kind: kPersID, off: m.opOff, op: m.op, items: []*value{pid}}
	if err := m.emit(ctx, event{kind: evPersID, op: m.op, off: m.opOff, v: v}); err != nil {
		return err
	}
	return m.push(v)
}

// appendItems models do_append: APPEND and APPENDS add stack[x:] to the
// list at stack[x-1], calling append/extend on anything that is not a list.
func (m *machine) appendItems(ctx context.Context, x int, op byte) error {
	return m.fill(ctx, x, op, kList, kTuple)
}

// setItems models do_setitems: SETITEM and SETITEMS store the key/value
// pairs stack[x:] into the dict at stack[x-1] (__setitem__ on anything
// else).
func (m *machine) setItems(ctx context.Context, x int, op byte) error {
	n := len(m.stack)
	if x > n || x <= m.fence() {
		return m.underflow()
	}
	if (n-x)%2 != 0 {
		return m.fail("odd number of items for SETITEMS")
	}
	return m.fill(ctx, x, op, kDict, kDict)
}

// addItems models ADDITEMS: add stack[x:] to the set at stack[x-1] (add()
// on anything else).
func (m *machine) addItems(ctx context.Context, x int) error {
	return m.fill(ctx, x, opAddItems, kSet, kTuple)
}

// fill adds the items stack[x:] to the container at stack[x-1] and pops
// them. A container of the expected kind is filled symbolically; anything
// else gets its append, __setitem__ or add method called, which is
// reported as a mutation with the items as an argKind container.
func (m *machine) fill(ctx context.Context, x int, op byte, want, argKind kind) error {
	n := len(m.stack)
	if x > n || x <= m.fence() {
		return m.underflow()
	}
	if n == x {
		return nil
	}
	target := m.stack[x-1]
	items := m.stack[x:]
	var err error
	if target.kind == want {
		err = m.extend(ctx, target, items)
	} else {
		err = m.emit(ctx, event{kind: evMutate, op: op, off: m.opOff, target: target, arg: m.container(argKind, items)})
	}
	m.truncate(x)
	return err
}

// textIndex reads the memo index of GET or PUT as PyLong_FromString(s,
// NULL, 10) parses it, streaming: however many leading zeros pad it, the
// index is the one CPython uses.
func (m *machine) textIndex() (int64, error) {
	var (
		n                         uint64
		significant               int
		neg, sign, digit, space   bool
		underscore, bad, overflow bool
	)
	for {
		c, err := m.rd.readByte()
		if err != nil {
			return 0, err
		}
		if c == '\n' {
			break
		}
		switch {
		case bad:
		case isCSpace(c):
			if sign && !digit {
				bad = true
			}
			space = space || digit
		case space:
			bad = true // text after trailing space
		case (c == '+' || c == '-') && !sign && !digit:
			sign, neg = true, c == '-'
		case c >= '0' && c <= '9':
			digit, underscore = true, false
			if n == 0 && c == '0' {
				continue
			}
			if significant++; significant > 19 {
				overflow = true
				continue
			}
			n = n*10 + uint64(c-'0')
		case c == '_' && digit && !underscore:
			underscore = true
		default:
			bad = true
		}
	}
	switch {
	case bad || !digit || underscore:
		return 0, m.fail("invalid memo index")
	case overflow || n > math.MaxInt64:
		return 0, m.fail("memo index too large")
	case neg:
		return -int64(n), nil
	}
	return int64(n), nil
}

// readGlobal reads the module and name lines of GLOBAL or INST.
func (m *machine) readGlobal() (*value, error) {
	p, mtotal, err := m.rd.readLine(m.lim.maxName)
	if err != nil {
		return nil, err
	}
	if mtotal == 0 {
		return nil, errTruncated // CPython: bad_readline
	}
	mod := m.st.intern(p)
	p, ntotal, err := m.rd.readLine(m.lim.maxName)
	if err != nil {
		return nil, err
	}
	if ntotal == 0 {
		return nil, errTruncated
	}
	name := m.st.intern(p)
	g := m.compat(globalValue(mod, name, m.opOff, m.op))
	if mtotal > int64(len(mod)) || ntotal > int64(len(name)) {
		g.flags |= fTrunc
	}
	return g, nil
}

// stackGlobal builds the import of STACK_GLOBAL. CPython requires both
// arguments to be str; anything else (bytes, call results) is kept as a
// dynamic import, which the analysis cannot resolve.
func (m *machine) stackGlobal(mod, name *value) *value {
	ms, mok := m.constText(mod)
	ns, nok := m.constText(name)
	if mok && nok {
		return m.compat(globalValue(ms, ns, m.opOff, opStackGlobal))
	}
	if (mod.kind == kStr || mod.kind == kBytes) && (name.kind == kStr || name.kind == kBytes) {
		// Constant, but longer than any real module or name.
		g := m.compat(globalValue(mod.s, name.s, m.opOff, opStackGlobal))
		g.flags |= fTrunc
		return g
	}
	g := globalValue("", "", m.opOff, opStackGlobal)
	g.flags |= fDynamic
	g.items = []*value{mod, name}
	return g
}

// compat marks g for the _compat_pickle mapping find_class applies below
// protocol 3 (the protocol is that of the last PROTO, 0 without one).
func (m *machine) compat(g *value) *value {
	if m.proto < 3 {
		g.flags |= fCompat
	}
	return g
}

// constText returns the whole text of a str or bytes constant of at most
// maxName bytes, re-reading it from the object if only a prefix was kept.
func (m *machine) constText(v *value) (string, bool) {
	if v.kind != kStr && v.kind != kBytes {
		return "", false
	}
	if v.flags&fTrunc == 0 {
		return v.s, true
	}
	raw, ok := readStored(m.rd.ra, v, int64(m.lim.maxName))
	if !ok {
		return "", false
	}
	return storedText(v, raw), true
}
