// Package pickle analyses Python pickle streams without unpickling them.
//
// A pickle is a program for a small stack machine; loading it runs the
// program, and REDUCE, INST, OBJ and NEWOBJ call whatever the stream
// imported with GLOBAL, STACK_GLOBAL, INST or EXT*. This package follows
// every opcode of protocols 0 to 5 on a symbolic machine that models the
// stack, the mark stack and the memo exactly as CPython's _pickle does, but
// never imports or calls anything: values are constants, references to
// imported globals, call results that remember their callable and
// arguments, and containers.
//
// The Scanner classifies each imported global against an allow list of
// known-safe framework globals first and a deny list second (every dotted
// component of module and name is checked, so "gzip" + "os.system" is
// os.system), reports calls with their arguments in Python-like form,
// follows call wrappers (functools.partial, operator.methodcaller, getattr
// of __import__) to what they reach, hands constant byte arguments of
// nested deserializers (pickle.loads, torch.storage._load_from_bytes, ...)
// back to the engine, scans every pickle of a stacked stream (legacy
// PyTorch files hold five), skips the raw array data joblib interleaves
// with the stream, and treats a parse error as a finding, never as proof of
// safety. Explain renders what a stream would do when loaded.
//
// Threat assumptions: the input is hostile. Every length field is checked
// against the bytes that remain before anything is allocated, large
// payloads are skipped by offset without being copied, and the stack, the
// memo, the mark stack, the opcode count and the bytes kept for evidence
// are bounded; reaching a bound is reported.
package pickle
