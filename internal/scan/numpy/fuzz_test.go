package numpy

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
	"github.com/palisade-sec/palisade/internal/testutil"
)

func FuzzNpyHeader(f *testing.F) {
	for _, name := range []string{"benign_numpy_float64.npy", "benign_numpy_object_dtype.npy", "mal_numpy_object_os_system.npy"} {
		f.Add(readFile(f, name))
	}
	for _, m := range []string{"a.npy", "evil.npy"} {
		f.Add(testutil.ReadZipMember(f, filepath.Join("testdata", "mal_npz_object_member.npz"), m))
	}
	f.Add(testutil.ReadZipMember(f, filepath.Join("testdata", "benign_arrays.npz"), "b.npy"))
	for _, name := range []string{"numpy_float32.npy", "numpy_structured.npy", "numpy_object_strings.npy", "mal_numpy_object_reduce.npy"} {
		f.Add(readFile(f, name))
	}
	for _, h := range []string{
		hdr("[('a', '<i4'), ('b', [('c', '|O')])]", "(1,)"),
		hdr("{'aO': 1}", "(1,)"),
		hdr(`'|' '\x4f'`, "(True, 2L)"),
		hdr("'i4, (2,3)f8, O'", "(0x10,)"),
		"{'descr': b'<f8', # c\n 'fortran_order': 1, 'shape': [-1]}",
		strings.Repeat("(", 50),
	} {
		f.Add(npy(1, h, []byte(pickleOSSystem)))
		f.Add(npy(3, h, nil))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, _ := scanNpy(t, data, scan.Limits{MaxHeaderBytes: 64 << 10})
		for _, fd := range fs {
			if fd.RuleID == "PKLTEST" {
				continue
			}
			if fd.Offset < 0 || fd.Offset > int64(len(data)) {
				t.Fatalf("%s offset %d outside the %d-byte input", fd.RuleID, fd.Offset, len(data))
			}
		}
		// The literal parser alone, on the raw bytes, in both encodings.
		if v, err := parseLiteral(data, true, true); err == nil {
			_ = v.repr()
			_, _ = analyzeDescr(v, "descr", 0)
		}
		_, _ = parseLiteral(data, false, false)
	})
}
