package keras

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/palisade-sec/palisade/internal/scan"
)

// maxJSONDepth is the deepest container nesting analysed. Python's
// json.loads fails with RecursionError well before this depth, so no config
// Keras can load is cut short by it.
const maxJSONDepth = 1000

// maxHits bounds the findings reported for one config; a config with
// thousands of Lambda layers gets one summary instead of the rest.
const maxHits = 1000

// errTooDeep reports JSON nested deeper than maxJSONDepth.
var errTooDeep = errors.New("json nested too deeply")

// syntaxError is a JSON syntax error at a byte offset.
type syntaxError struct {
	Offset   int
	Msg      string
	InString bool // the error is inside a string (a bad escape)
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at offset %d", e.Msg, e.Offset) }

// hit is one finding of the config analysis, positioned in the JSON text.
type hit struct {
	rule     scan.Rule
	severity scan.Severity
	msg      string
	evidence string
	pointer  string
	offset   int // byte offset of the object in the JSON text
}

// keyID names the object keys the analysis records.
type keyID uint8

const (
	kOther keyID = iota
	kModule
	kClassName
	kRegisteredName
	kConfig
	kFunction
	kFunctionType
	kOutputShape
	kOutputShapeType
	kOutputShapeModule
	kCode
	kValue
	kFile // a config field that names a file to read (fileFields)
	numKeys
)

// fileFields are config fields that layers and tokenizers read a file
// from when their value is a string: TFSMLayer's SavedModel, the
// vocabulary of StringLookup, IntegerLookup and TextVectorization, and the
// vocabulary, merges and SentencePiece proto of keras-hub and keras-nlp
// tokenizers.
var fileFields = setOf(
	"filepath", "file_path", "vocabulary", "vocabulary_file", "vocab_file", "merges", "merges_file",
	"proto", "proto_file", "spm_model_file",
)

func lookupKey(k []byte) keyID {
	switch string(k) {
	case "module":
		return kModule
	case "class_name":
		return kClassName
	case "registered_name":
		return kRegisteredName
	case "config":
		return kConfig
	case "function":
		return kFunction
	case "function_type":
		return kFunctionType
	case "output_shape":
		return kOutputShape
	case "output_shape_type":
		return kOutputShapeType
	case "output_shape_module":
		return kOutputShapeModule
	case "code":
		return kCode
	case "value":
		return kValue
	}
	if fileFields[string(k)] {
		return kFile
	}
	return kOther
}

// frame is one open container. Object frames record the string values of
// the keys that matter (the last occurrence wins, as in json.loads) and a
// summary of the "config" child, because keys arrive in any order and the
// verdict on an object is taken when it closes.
type frame struct {
	array bool
	start int    // offset of '{' or '['
	seg   []byte // key of this container in its parent object, nil in an array
	idx   int    // index of this container in its parent array

	// Object state.
	// String values alias the input unless they held escapes.
	key   []byte
	keyID keyID
	str   [numKeys][]byte
	has   [numKeys]bool
	list  [numKeys][]byte // first element of an array value, when it is a string
	hasL  [numKeys]bool

	// String values of fileFields keys, in order (the last duplicate
	// wins).
	files []fileValue

	// Summary of the object under "config".
	childCode    []byte
	hasChildCode bool
	childFunc    []byte
	hasChildFunc bool
	childFiles   []fileValue

	// Array state.
	n        int
	first    []byte
	hasFirst bool
}

// fileValue is a string value of a fileFields key.
type fileValue struct {
	key, val []byte
}

// setFile records (val != nil) or clears the fileFields value of key.
func (f *frame) setFile(key, val []byte) {
	for i := range f.files {
		if string(f.files[i].key) == string(key) {
			f.files = append(f.files[:i], f.files[i+1:]...)
			break
		}
	}
	if val != nil {
		f.files = append(f.files, fileValue{key, val})
	}
}

// clearConfig forgets the summary of the "config" child.
func (f *frame) clearConfig() {
	f.hasChildCode, f.hasChildFunc, f.childFiles = false, false, nil
}

// code returns the bytecode string an object stores under "code", or the
// first element of a "value" list or string (Keras 3 func_dump output).
func (f *frame) code() ([]byte, bool) {
	switch {
	case f.has[kCode]:
		return f.str[kCode], true
	case f.has[kValue]:
		return f.str[kValue], true
	case f.hasL[kValue]:
		return f.list[kValue], true
	}
	return nil, false
}

// walker parses JSON iteratively and analyses every object as it closes.
type walker struct {
	data      []byte
	pos       int
	prefix    bool // stop after one value; what follows is not checked
	stack     []frame
	hits      []hit
	truncated bool // more than maxHits findings
}

// analyzeJSON walks data and returns the findings. On a syntax error or
// excessive depth it returns what it found before the error and the error.
func analyzeJSON(data []byte) ([]hit, bool, error) {
	w := &walker{data: data}
	err := w.parse()
	return w.hits, w.truncated, err
}

func (w *walker) errf(format string, args ...any) error {
	return &syntaxError{Offset: w.pos, Msg: fmt.Sprintf(format, args...)}
}

// strErr is a syntax error inside a string, at a byte that is string
// content.
func (w *walker) strErr(msg string) error {
	return &syntaxError{Offset: w.pos, Msg: msg, InString: true}
}

func (w *walker) ws() {
	for w.pos < len(w.data) {
		switch w.data[w.pos] {
		case ' ', '\t', '\n', '\r':
			w.pos++
		default:
			return
		}
	}
}

// parse reads one JSON value (and nothing after it but whitespace).
func (w *walker) parse() error {
	for {
		if err := w.value(); err != nil {
			return err
		}
		// A value is complete: close containers or move to the next
		// element.
		for {
			w.ws()
			if len(w.stack) == 0 {
				if w.prefix {
					return nil
				}
				if w.pos != len(w.data) {
					return w.errf("extra data after the JSON value")
				}
				return nil
			}
			if w.pos >= len(w.data) {
				return w.errf("unexpected end of JSON")
			}
			top := &w.stack[len(w.stack)-1]
			c := w.data[w.pos]
			if top.array {
				switch c {
				case ',':
					w.pos++
					top.n++
				case ']':
					w.pos++
					w.closeContainer()
					continue
				default:
					return w.errf("expected ',' or ']' in array")
				}
			} else {
				switch c {
				case ',':
					w.pos++
					if err := w.objectKey(top); err != nil {
						return err
					}
				case '}':
					w.pos++
					w.closeContainer()
					continue
				default:
					return w.errf("expected ',' or '}' in object")
				}
			}
			break
		}
	}
}

// value parses a scalar, or opens a container (and reads its first key),
// leaving the container on the stack.
func (w *walker) value() error {
	for {
		w.ws()
		if w.pos >= len(w.data) {
			return w.errf("unexpected end of JSON")
		}
		switch c := w.data[w.pos]; c {
		case '{', '[':
			if len(w.stack) >= maxJSONDepth {
				return errTooDeep
			}
			w.openContainer(c == '[')
			w.pos++
			w.ws()
			if w.pos >= len(w.data) {
				return w.errf("unexpected end of JSON")
			}
			top := &w.stack[len(w.stack)-1]
			if c == '[' {
				if w.data[w.pos] == ']' {
					w.pos++
					w.closeContainer()
					return nil
				}
				continue // parse the first element
			}
			if w.data[w.pos] == '}' {
				w.pos++
				w.closeContainer()
				return nil
			}
			if err := w.objectKey(top); err != nil {
				return err
			}
			continue // parse the first member's value
		case '"':
			s, err := w.str()
			if err != nil {
				return err
			}
			w.deliverString(s)
			return nil
		default:
			if err := w.scalar(); err != nil {
				return err
			}
			w.deliverOther()
			return nil
		}
	}
}

// objectKey reads `"key" :` into top.
func (w *walker) objectKey(top *frame) error {
	w.ws()
	if w.pos >= len(w.data) || w.data[w.pos] != '"' {
		return w.errf("expected a string key in object")
	}
	k, err := w.str()
	if err != nil {
		return err
	}
	w.ws()
	if w.pos >= len(w.data) || w.data[w.pos] != ':' {
		return w.errf("expected ':' after object key")
	}
	w.pos++
	top.key = k
	top.keyID = lookupKey(k)
	return nil
}

// scalar reads a number or a literal (true, false, null, NaN, Infinity,
// -Infinity).
func (w *walker) scalar() error {
	rest := w.data[w.pos:]
	for _, lit := range [...]string{"true", "false", "null", "NaN", "Infinity", "-Infinity"} {
		if len(rest) >= len(lit) && string(rest[:len(lit)]) == lit {
			w.pos += len(lit)
			return nil
		}
	}
	// number = -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
	i := 0
	if i < len(rest) && rest[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(rest) && rest[i] == '0':
		i++
	case digits() == 0:
		return w.errf("invalid value")
	}
	if i < len(rest) && rest[i] == '.' {
		i++
		if digits() == 0 {
			return w.errf("invalid number")
		}
	}
	if i < len(rest) && (rest[i] == 'e' || rest[i] == 'E') {
		i++
		if i < len(rest) && (rest[i] == '+' || rest[i] == '-') {
			i++
		}
		if digits() == 0 {
			return w.errf("invalid number")
		}
	}
	w.pos += i
	return nil
}

// str reads a JSON string at w.pos (which holds '"'). Without escapes the
// result aliases the input.
func (w *walker) str() ([]byte, error) {
	start := w.pos + 1
	i := start
	for i < len(w.data) {
		c := w.data[i]
		switch {
		case c == '"':
			w.pos = i + 1
			return w.data[start:i], nil
		case c == '\\':
			return w.strEscaped(start)
		case c < 0x20:
			w.pos = i
			return nil, w.errf("control character in string")
		}
		i++
	}
	w.pos = i
	return nil, w.errf("unterminated string")
}

// strEscaped decodes a string with escapes into a new buffer.
func (w *walker) strEscaped(start int) ([]byte, error) {
	out := make([]byte, 0, 32)
	i := start
	for i < len(w.data) {
		c := w.data[i]
		switch {
		case c == '"':
			w.pos = i + 1
			return out, nil
		case c < 0x20:
			w.pos = i
			return nil, w.errf("control character in string")
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(w.data) {
			break
		}
		e := w.data[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(w.data, i)
			if !ok {
				w.pos = i
				return nil, w.strErr("invalid \\u escape")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				// Python pairs a high surrogate with a following low one
				// and keeps lone surrogates; Go cannot hold those, so
				// they become U+FFFD.
				if r2, ok := hex4(w.data, i+2); ok && i+1 < len(w.data) && w.data[i] == '\\' && w.data[i+1] == 'u' {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
						i += 6
					}
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			w.pos = i - 1
			return nil, w.strErr("invalid escape in string")
		}
	}
	w.pos = i
	return nil, w.errf("unterminated string")
}

func hex4(b []byte, i int) (rune, bool) {
	if i < 0 || i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

func (w *walker) openContainer(array bool) {
	f := frame{array: array, start: w.pos, idx: -1}
	if n := len(w.stack); n > 0 {
		parent := &w.stack[n-1]
		if parent.array {
			f.idx = parent.n
		} else {
			f.seg = parent.key
			// A container replaces any string seen earlier under the
			// same key (the last duplicate wins).
			parent.has[parent.keyID] = false
			parent.hasL[parent.keyID] = false
			switch parent.keyID {
			case kConfig:
				parent.clearConfig()
			case kFile:
				parent.setFile(parent.key, nil)
			}
		}
	}
	w.stack = append(w.stack, f)
}

// deliverString records a string value in the enclosing container.
func (w *walker) deliverString(s []byte) {
	n := len(w.stack)
	if n == 0 {
		return
	}
	top := &w.stack[n-1]
	if top.array {
		if top.n == 0 {
			top.first, top.hasFirst = s, true
		}
		return
	}
	if top.keyID != kOther {
		top.str[top.keyID], top.has[top.keyID] = s, true
		top.hasL[top.keyID] = false
		switch top.keyID {
		case kConfig:
			top.clearConfig()
		case kFile:
			top.setFile(top.key, s)
		}
	}
}

// deliverOther records a non-string scalar: it clears the key's value.
func (w *walker) deliverOther() {
	n := len(w.stack)
	if n == 0 {
		return
	}
	top := &w.stack[n-1]
	if !top.array && top.keyID != kOther {
		top.has[top.keyID], top.hasL[top.keyID] = false, false
		switch top.keyID {
		case kConfig:
			top.clearConfig()
		case kFile:
			top.setFile(top.key, nil)
		}
	}
}

// closeContainer analyses the top container and passes its summary to the
// parent.
func (w *walker) closeContainer() {
	n := len(w.stack)
	f := &w.stack[n-1]
	if !f.array {
		w.analyzeObject(f)
	}
	if n > 1 {
		parent := &w.stack[n-2]
		if !parent.array {
			switch {
			case f.array && f.hasFirst:
				parent.list[parent.keyID], parent.hasL[parent.keyID] = f.first, true
			case !f.array && parent.keyID == kConfig:
				parent.childCode, parent.hasChildCode = f.code()
				parent.childFunc, parent.hasChildFunc = f.str[kFunction], f.has[kFunction]
				parent.childFiles = f.files
			}
		}
	}
	w.stack = w.stack[:n-1]
}

// pointer renders the JSON path of the top container, e.g.
// "config.layers[1].config.layer".
func (w *walker) pointer() string {
	var b strings.Builder
	for i := 1; i < len(w.stack); i++ {
		f := &w.stack[i]
		if f.seg == nil {
			b.WriteString("[" + strconv.Itoa(f.idx) + "]")
			continue
		}
		if isIdent(f.seg) {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.Write(f.seg)
		} else {
			b.WriteString("[" + strconv.Quote(string(f.seg)) + "]")
		}
	}
	return b.String()
}

func isIdent(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func (w *walker) report(h hit) {
	if len(w.hits) >= maxHits {
		w.truncated = true
		return
	}
	h.pointer = w.pointer()
	h.offset = w.stack[len(w.stack)-1].start
	w.hits = append(w.hits, h)
}

// analyzeObject takes the verdict on a closed object.
func (w *walker) analyzeObject(f *frame) {
	var className []byte
	if f.has[kClassName] {
		className = f.str[kClassName]
	}

	// Keras 3: {"class_name": "__lambda__", "config": {"code": ...}} or
	// {"config": {"value": [code, defaults, closure]}}.
	if string(className) == "__lambda__" {
		w.reportLambda("a Keras 3 __lambda__ function", f.childCode, f.hasChildCode)
	}
	// tf.keras 2 Lambda config: "function": [code, defaults, closure] with
	// "function_type": "lambda"; the same for output_shape.
	if f.has[kFunctionType] && string(f.str[kFunctionType]) == "lambda" {
		code, ok := f.str[kFunction], f.has[kFunction]
		if !ok {
			code, ok = f.list[kFunction], f.hasL[kFunction]
		}
		w.reportLambda("a tf.keras Lambda function (function_type \"lambda\")", code, ok)
	}
	if f.has[kOutputShapeType] && string(f.str[kOutputShapeType]) == "lambda" {
		code, ok := f.str[kOutputShape], f.has[kOutputShape]
		if !ok {
			code, ok = f.list[kOutputShape], f.hasL[kOutputShape]
		}
		w.reportLambda("a tf.keras Lambda output_shape function (output_shape_type \"lambda\")", code, ok)
	}

	// {"module": m, "class_name": c} and {"module": m, "class_name":
	// "function", "config": name}.
	if module := f.str[kModule]; f.has[kModule] && len(module) > 0 && (f.has[kClassName] || f.has[kRegisteredName]) {
		name, form := className, "class_name"
		if string(className) == "function" && f.has[kConfig] {
			name, form = f.str[kConfig], "function"
		} else if !f.has[kClassName] {
			name, form = f.str[kRegisteredName], "registered_name"
		}
		w.reportReference(module, name, form)
	}
	// tf.keras 2 Lambda config naming a function: "function": name,
	// "function_type": "function", "module": m.
	if f.has[kFunctionType] && string(f.str[kFunctionType]) == "function" && f.has[kFunction] && f.has[kModule] && len(f.str[kModule]) > 0 {
		w.reportReference(f.str[kModule], f.str[kFunction], "function_type \"function\"")
	}
	if f.has[kOutputShapeType] && string(f.str[kOutputShapeType]) == "function" && f.has[kOutputShape] && f.has[kOutputShapeModule] && len(f.str[kOutputShapeModule]) > 0 {
		w.reportReference(f.str[kOutputShapeModule], f.str[kOutputShape], "output_shape_type \"function\"")
	}
	// tf.keras 2 TFOpLambda / SlicingOpLambda call a TensorFlow API symbol
	// named in config.function.
	if (string(className) == "TFOpLambda" || string(className) == "SlicingOpLambda") && f.hasChildFunc {
		w.reportTFOp(string(className), string(f.childFunc))
	}
	// Layers and tokenizers that load or read a file named in their
	// config.
	w.reportFileReads(f, className)
}

// reportFileReads reports a TFSMLayer, which loads the SavedModel at
// config.filepath, and a fileFields value in config that names a file:
// any string for a class known to read it, otherwise an absolute path, a
// path with "..", or a URL.
func (w *walker) reportFileReads(f *frame, className []byte) {
	cls := shortClassName(className)
	if string(cls) == "TFSMLayer" {
		ev := fmt.Sprintf("class_name %s, no config.filepath", strconv.Quote(scan.Clip(string(className), 120)))
		for _, fv := range f.childFiles {
			if string(fv.key) == "filepath" {
				ev = fmt.Sprintf("class_name %s, config.filepath %s", strconv.Quote(scan.Clip(string(className), 120)), strconv.Quote(scan.Clip(string(fv.val), 200)))
			}
		}
		w.report(hit{
			rule: RuleDangerousReference, severity: scan.SeverityHigh,
			msg: "a TFSMLayer loads the TensorFlow SavedModel named in config.filepath when the model is loaded, even in safe_mode, " +
				"and runs its graph (file reads and writes, Python functions) on inference",
			evidence: ev,
		})
		return
	}
	if len(f.childFiles) == 0 {
		return
	}
	reader := fileReaderClass(string(cls))
	for _, fv := range f.childFiles {
		kind := classifyPath(string(fv.val))
		sev := scan.SeverityNone
		switch {
		case kind != pathRelative && kind != pathNone:
			sev = scan.SeverityHigh
		case kind == pathRelative && reader:
			sev = scan.SeverityMedium
		}
		if sev == scan.SeverityNone {
			continue
		}
		who := "a layer"
		if len(className) > 0 {
			who = "a " + scan.Clip(string(className), 120) + " object"
		}
		w.report(hit{
			rule: RuleDangerousReference, severity: sev,
			msg: fmt.Sprintf("%s reads the file named in config.%s (%s) when the model is loaded; its content ends up in the model",
				who, scan.Clip(string(fv.key), 40), kind),
			evidence: fmt.Sprintf("class_name %s, config.%s %s", strconv.Quote(scan.Clip(string(className), 120)), scan.Clip(string(fv.key), 40), strconv.Quote(scan.Clip(string(fv.val), 200))),
		})
	}
}

// shortClassName strips a registered-name package ("keras_hub>X") or a
// module path from a class name.
func shortClassName(b []byte) []byte {
	if i := bytes.LastIndexAny(b, ">."); i >= 0 {
		return b[i+1:]
	}
	return b
}

// fileReaderClass reports whether a class reads a file from a string
// value of a fileFields key: the Keras lookup and text-vectorization
// layers and keras-hub / keras-nlp tokenizers.
func fileReaderClass(cls string) bool {
	switch cls {
	case "StringLookup", "IntegerLookup", "IndexLookup", "TextVectorization":
		return true
	}
	return strings.HasSuffix(cls, "Tokenizer")
}

// pathKind classifies a file name taken from a config.
type pathKind string

const (
	pathNone      pathKind = ""
	pathRelative  pathKind = "a relative path"
	pathAbsolute  pathKind = "an absolute path outside the model"
	pathTraversal pathKind = "a path that climbs out with \"..\""
	pathURL       pathKind = "a remote URL"
)

// classifyPath classifies a file name as TensorFlow's gfile would open it.
func classifyPath(p string) pathKind {
	switch {
	case p == "":
		return pathNone
	case strings.Contains(p, "://") || strings.HasPrefix(strings.ToLower(p), "file:"):
		return pathURL
	case p[0] == '/' || p[0] == '\\' || p[0] == '~' ||
		len(p) >= 2 && p[1] == ':' && (p[0]|0x20 >= 'a' && p[0]|0x20 <= 'z'):
		return pathAbsolute
	}
	for part := range strings.FieldsFuncSeq(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." {
			return pathTraversal
		}
	}
	return pathRelative
}

// reportLambda reports a Lambda function with its bytecode evidence.
func (w *walker) reportLambda(what string, code []byte, hasCode bool) {
	evidence := "no bytecode string found"
	if hasCode {
		evidence = describeBytecode(string(code))
	}
	w.report(hit{
		rule: RuleLambdaBytecode, severity: RuleLambdaBytecode.Severity,
		msg:      fmt.Sprintf("%s stores marshalled Python bytecode that runs when the model is loaded without safe_mode", what),
		evidence: evidence,
	})
}

// reportReference classifies a module+name reference and reports it when
// it leaves the Keras namespace or is dangerous.
func (w *walker) reportReference(moduleB, nameB []byte, form string) {
	v := classifyReference(string(moduleB), string(nameB))
	if v.severity == scan.SeverityNone {
		return
	}
	module, name := string(moduleB), string(nameB)
	ref := scan.Clip(module, 120) + "." + scan.Clip(name, 120)
	ev := fmt.Sprintf("module %s, %s %s", strconv.Quote(scan.Clip(module, 120)), form, strconv.Quote(scan.Clip(name, 120)))
	if v.severity >= scan.SeverityHigh {
		w.report(hit{
			rule: RuleDangerousReference, severity: v.severity,
			msg:      fmt.Sprintf("the config references %s: %s", ref, v.reason),
			evidence: ev,
		})
		return
	}
	w.report(hit{
		rule: RuleCustomReference, severity: v.severity,
		msg:      fmt.Sprintf("the config references %s outside the Keras namespace: loading imports %q and runs its code", ref, scan.Clip(module, 120)),
		evidence: ev,
	})
}

// reportTFOp reports a TFOpLambda layer calling a TensorFlow symbol that
// reads or writes files or runs Python.
func (w *walker) reportTFOp(className, symbol string) {
	if !tfSymbolDangerous(symbol) {
		return
	}
	w.report(hit{
		rule: RuleDangerousReference, severity: RuleDangerousReference.Severity,
		msg:      fmt.Sprintf("a %s layer calls tf.%s, which reads or writes files or runs Python code", className, scan.Clip(symbol, 120)),
		evidence: fmt.Sprintf("class_name %q, function %s", className, strconv.Quote(scan.Clip(symbol, 120))),
	})
}

// transcode converts a JSON document to UTF-8 the way Python's json.loads
// detects the encoding of bytes (BOMs, then the pattern of NUL bytes). It
// may modify b. It reports whether the text was converted, so byte offsets
// no longer match the input.
func transcode(b []byte) ([]byte, bool, error) {
	has := func(p string) bool { return len(b) >= len(p) && string(b[:len(p)]) == p }
	switch {
	case has("\x00\x00\xfe\xff"):
		return decodeUTF32(b[4:], true)
	case has("\xff\xfe\x00\x00"):
		return decodeUTF32(b[4:], false)
	case has("\xfe\xff"):
		return decodeUTF16(b[2:], true)
	case has("\xff\xfe"):
		return decodeUTF16(b[2:], false)
	case has("\xef\xbb\xbf"):
		// Blank the BOM in place so that offsets still match the input.
		b[0], b[1], b[2] = ' ', ' ', ' '
		return b, false, nil
	}
	switch {
	case len(b) >= 4 && b[0] == 0 && b[1] == 0:
		return decodeUTF32(b, true)
	case len(b) >= 4 && b[0] == 0:
		return decodeUTF16(b, true)
	case len(b) >= 4 && b[1] == 0 && b[2] == 0 && b[3] == 0:
		return decodeUTF32(b, false)
	case len(b) >= 4 && b[1] == 0:
		return decodeUTF16(b, false)
	case len(b) == 2 && b[0] == 0:
		return decodeUTF16(b, true)
	case len(b) == 2 && b[1] == 0:
		return decodeUTF16(b, false)
	}
	return b, false, nil
}

var errEncoding = errors.New("invalid text encoding")

func decodeUTF16(b []byte, big bool) ([]byte, bool, error) {
	if len(b)%2 != 0 {
		return nil, true, fmt.Errorf("utf-16 text of odd length: %w", errEncoding)
	}
	units := make([]uint16, len(b)/2)
	for i := range units {
		if big {
			units[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			units[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	out := make([]byte, 0, len(units))
	for i := 0; i < len(units); i++ {
		r := rune(units[i])
		if utf16.IsSurrogate(r) {
			// Python decodes with errors="surrogatepass": a lone
			// surrogate is kept. Go cannot hold it; U+FFFD stands in.
			r = utf8.RuneError
			if i+1 < len(units) {
				if d := utf16.DecodeRune(rune(units[i]), rune(units[i+1])); d != utf8.RuneError {
					r = d
					i++
				}
			}
		}
		out = utf8.AppendRune(out, r)
	}
	return out, true, nil
}

func decodeUTF32(b []byte, big bool) ([]byte, bool, error) {
	if len(b)%4 != 0 {
		return nil, true, fmt.Errorf("utf-32 text of bad length: %w", errEncoding)
	}
	out := make([]byte, 0, len(b)/4)
	for i := 0; i+4 <= len(b); i += 4 {
		var r uint32
		if big {
			r = uint32(b[i])<<24 | uint32(b[i+1])<<16 | uint32(b[i+2])<<8 | uint32(b[i+3])
		} else {
			r = uint32(b[i+3])<<24 | uint32(b[i+2])<<16 | uint32(b[i+1])<<8 | uint32(b[i])
		}
		if r > utf8.MaxRune {
			return nil, true, fmt.Errorf("invalid utf-32 code point: %w", errEncoding)
		}
		// A surrogate code point passes (errors="surrogatepass") and
		// becomes U+FFFD.
		out = utf8.AppendRune(out, rune(r))
	}
	return out, true, nil
}
