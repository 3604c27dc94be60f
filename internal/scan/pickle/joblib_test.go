package pickle

import (
	"bytes"
	"testing"
)

// joblibArray appends a NumpyArrayWrapper for an array of the given shape
// and dtype, then its raw data as joblib's NumpyPickler writes it. align
// records numpy_array_alignment_bytes in the wrapper's state (0: absent);
// pad writes the alignment padding.
type jarray struct {
	shape  []int64
	desc   string
	elsize int64 // dtype state elsize (-1 for fixed-size types)
	align  int64
	pad    bool
	data   []byte // raw data (or a nested pickle for object arrays)
}

func (j jarray) write(a *asm) *asm {
	a.str("joblib.numpy_pickle").str("NumpyArrayWrapper").stackGlobal().emptyTuple().op(opNewObj)
	a.emptyDict().mark()
	a.str("subclass").str("numpy").str("ndarray").stackGlobal()
	a.str("shape").mark()
	for _, d := range j.shape {
		a.int(d)
	}
	a.tuple()
	a.str("order").str("C")
	a.str("dtype").str("numpy").str("dtype").stackGlobal().str(j.desc).op(opNewFalse).op(opNewTrue).op(opTuple3).reduce()
	a.mark().int(3).str("<").none().none().none().int(j.elsize).int(-1).int(0).tuple().build()
	if j.align > 0 {
		a.str("numpy_array_alignment_bytes").int(j.align)
	}
	a.op(opSetItems).build()
	if j.pad {
		pos := len(a.b) + 1
		n := 16 - pos%16
		a.raw(byte(n)).raw(bytes.Repeat([]byte{0xff}, n)...)
	}
	return a.raw(j.data...)
}

// joblibFile is an estimator whose state holds one array and then an int.
func joblibFile(j jarray) []byte {
	a := newAsm().proto(4).str("sklearn.linear_model._base").str("LinearRegression").stackGlobal().emptyTuple().op(opNewObj)
	a.emptyDict().mark().str("coef_")
	j.write(a)
	a.str("n_features_in_").int(2).op(opSetItems).build().stop()
	return a.bytes()
}

func TestJoblibArrays(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		arr    jarray
		nbytes int64
	}{
		{"aligned, alignment recorded", jarray{shape: []int64{2}, desc: "f8", elsize: -1, align: 16, pad: true, data: make([]byte, 16)}, 16},
		{"aligned, alignment not recorded", jarray{shape: []int64{3}, desc: "f4", elsize: -1, pad: true, data: bytes.Repeat([]byte{1}, 12)}, 12},
		{"no padding (joblib < 0.12)", jarray{shape: []int64{2, 3}, desc: "i4", elsize: -1, data: make([]byte, 24)}, 24},
		{"data that looks like padding but is not aligned", jarray{shape: []int64{4}, desc: "u1", elsize: -1, data: []byte{2, 0xff, 0xff, 9}}, 4},
		{"scalar shape", jarray{shape: nil, desc: "c16", elsize: -1, pad: true, data: make([]byte, 16)}, 16},
		{"unicode", jarray{shape: []int64{2}, desc: "U3", elsize: 12, pad: true, data: make([]byte, 24)}, 24},
		{"structured", jarray{shape: []int64{2}, desc: "V12", elsize: 12, pad: true, data: make([]byte, 24)}, 24},
		{"bool", jarray{shape: []int64{5}, desc: "b1", elsize: -1, pad: true, data: make([]byte, 5)}, 5},
		{"datetime", jarray{shape: []int64{1}, desc: "M8", elsize: -1, pad: true, data: make([]byte, 8)}, 8},
		{"empty", jarray{shape: []int64{0, 4}, desc: "f8", elsize: -1, pad: true}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := joblibFile(tt.arr)
			rec := run(t, data, nil)
			if len(rec.segs) != 1 || rec.segs[0].err != nil || rec.segs[0].end != int64(len(data)) {
				t.Fatalf("segments = %+v, want one complete pickle of %d bytes", rec.segs, len(data))
			}
			var arrays []*value
			for _, e := range rec.events {
				if e.kind == evArray {
					arrays = append(arrays, e.v)
				}
			}
			if len(arrays) != 1 || arrays[0].num != tt.nbytes {
				t.Fatalf("arrays = %v, want one of %d bytes", arrays, tt.nbytes)
			}
			if off := arrays[0].aux; tt.arr.pad && off%16 != 0 {
				t.Errorf("array data at offset %d is not aligned", off)
			}
			if got := wide.render(rec.segs[0].result); got != "sklearn.linear_model._base.LinearRegression.__new__(sklearn.linear_model._base.LinearRegression)" {
				t.Errorf("result = %s", got)
			}
		})
	}
}

func TestJoblibScan(t *testing.T) {
	t.Parallel()
	inner := newAsm().proto(5).call("os", "system", "id").stop().bytes()
	objectArray := joblibFile(jarray{shape: []int64{1}, desc: "O8", elsize: -1, data: inner})
	// A payload after the array data is found only if the data is skipped.
	after := newAsm().proto(4).emptyList().mark()
	jarray{shape: []int64{2}, desc: "f8", elsize: -1, align: 16, pad: true, data: bytes.Repeat([]byte{0x63}, 16)}.write(after)
	after.call("os", "system", "id").op(opAppends).stop()
	unsizable := newAsm().proto(4).global("mypkg", "Model").op(opPop).mark()
	jarray{shape: []int64{2}, desc: "X9", elsize: -1, data: make([]byte, 18)}.write(unsizable)
	tooLong := newAsm().proto(4)
	jarray{shape: []int64{1 << 40}, desc: "f8", elsize: -1, data: make([]byte, 8)}.write(tooLong)
	tests := []struct {
		name  string
		data  []byte
		wants []want
	}{
		{"object array nested pickle", objectArray, []want{{"PKL001", crit, "os.system", ""}, {"PKL002", crit, "os.system('id')", ""}}},
		{"payload after array data", after.bytes(), []want{{"PKL001", crit, "os.system", ""}, {"PKL002", crit, "os.system('id')", ""}}},
		{"array that cannot be sized", unsizable.bytes(), []want{{"PKL003", low, "mypkg.Model", ""}, {"PKL007", med, "BUILD", ""}}},
		{"array longer than the file", tooLong.bytes(), []want{{"PKL007", med, "BUILD", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkFindings(t, scanBytes(t, nil, "model.joblib", tt.data), tt.wants)
		})
	}
}
