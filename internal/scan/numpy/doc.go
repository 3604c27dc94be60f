// Package numpy scans NumPy .npy arrays (scan.FormatNumpy). An .npz file is
// a zip of .npy members: the archive scanner opens it and hands each
// member here.
//
// A .npy file is the magic "\x93NUMPY", a version (1.0 with a 16-bit header
// length, 2.0 and 3.0 with a 32-bit one; 3.0 headers are UTF-8, the others
// latin-1), and a header that is a Python dict literal with the keys
// descr, fortran_order and shape. numpy reads the header with
// ast.literal_eval; this package parses it with a small, strict,
// depth-limited literal parser and never evaluates anything.
//
// When the dtype holds Python objects (descr '|O', or a structured dtype
// with an object field at any depth) the data after the header is a
// pickle, which numpy.load runs when called with allow_pickle=True. The
// scanner reports that (low) and hands the payload to the pickle scanner
// through Session.Nested. For other dtypes it checks that shape times item
// size matches the data (short data and trailing bytes are findings,
// computed without overflow) and never reads the array data itself, so a
// multi-gigabyte array costs one header read.
//
// Headers the scanner cannot analyse (malformed, over the size cap, or a
// dtype string it does not know) are reported, and the data is still
// offered to Session.Nested for recognition by content, so a pickle hidden
// behind an unusual header is not missed (fail closed).
package numpy
