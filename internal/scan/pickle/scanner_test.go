package pickle

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

const (
	crit = scan.SeverityCritical
	high = scan.SeverityHigh
	med  = scan.SeverityMedium
	low  = scan.SeverityLow
	info = scan.SeverityInfo
)

// osSystem is an inner payload: os.system('id').
var osSystem = newAsm().proto(2).call("os", "system", "id").stop().bytes()

// callGlobal is a protocol-2 pickle calling module.name('x').
func callGlobal(module, name string) []byte {
	return newAsm().proto(2).call(module, name, "x").stop().bytes()
}

func zlibBytes(p []byte) string {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	_, _ = w.Write(p)
	_ = w.Close()
	return b.String()
}

// TestScanner covers imports, calls, wrappers, nesting and the stream
// cases through the engine.
func TestScanner(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		file  string // name given to the engine (drives tentative routing)
		data  []byte
		wants []want // also: nothing more severe than the worst listed
	}{
		// Each import opcode.
		{"GLOBAL", "", callGlobal("os", "system"), []want{
			{"PKL001", crit, "os.system", ""}, {"PKL002", crit, "os.system('x')", ""}}},
		{"STACK_GLOBAL", "", newAsm().proto(4).str("subprocess").str("check_output").stackGlobal().str("id").tuple1().reduce().stop().bytes(), []want{
			{"PKL001", crit, "subprocess.check_output", ""}, {"PKL002", crit, "subprocess.check_output('id')", ""}}},
		{"STACK_GLOBAL from BINBYTES", "", newAsm().proto(4).binBytes("os").binBytes("system").stackGlobal().stop().bytes(), []want{
			{"PKL001", crit, "os.system", ""}}},
		{"STACK_GLOBAL from the memo after MEMOIZE/BINPUT mixing", "", newAsm().proto(4).str("os").binput(0).str("system").binput(1).
			str("collections").memoize().str("OrderedDict").memoize().binget(0).binget(1).stackGlobal().stop().bytes(), []want{
			{"PKL001", crit, "os.system", ""}}},
		{"INST", "x.pkl", newAsm().mark().string0("id").inst("os", "system").stop().bytes(), []want{
			{"PKL001", crit, "os.system", ""}, {"PKL002", crit, "os.system('id')", ""}}},
		{"EXT1 unresolved", "", newAsm().proto(2).op(opExt1, 7).str("x").tuple1().reduce().stop().bytes(), []want{
			{"PKL005", med, "EXT1 7", ""}, {"PKL012", med, "copyreg._inverted_registry[7]('x')", ""}}},
		{"EXT2 resolved through copyreg.add_extension", "", newAsm().proto(2).
			global("copyreg", "add_extension").mark().str("os").str("system").int(300).tuple().reduce().op(opPop).
			op(opExt2, 0x2c, 0x01).str("id").tuple1().reduce().stop().bytes(), []want{
			{"PKL001", crit, "copyreg.add_extension", ""}, {"PKL005", crit, "EXT2 300 = os.system", ""},
			{"PKL002", crit, "os.system('id')", ""}}},
		{"EXT4", "", newAsm().proto(2).op(opExt4, le32(70000)...).stop().bytes(), []want{{"PKL005", med, "EXT4 70000", ""}}},
		// Each call opcode.
		{"OBJ", "x.pkl", newAsm().mark().global("os", "system").string0("id").op(opObj).stop().bytes(), []want{
			{"PKL001", crit, "", ""}, {"PKL002", crit, "os.system('id')", ""}}},
		{"NEWOBJ", "", newAsm().proto(2).global("subprocess", "Popen").str("id").tuple1().op(opNewObj).stop().bytes(), []want{
			{"PKL001", crit, "", ""}, {"PKL002", crit, "subprocess.Popen.__new__(subprocess.Popen, 'id')", ""}}},
		{"NEWOBJ_EX", "", newAsm().proto(4).global("subprocess", "Popen").emptyTuple().emptyDict().str("args").str("id").op(opSetItem).op(opNewObjEx).stop().bytes(), []want{
			{"PKL001", crit, "", ""}, {"PKL002", crit, "subprocess.Popen.__new__(subprocess.Popen, args='id')", ""}}},
		// Names: aliases, dotted paths, stepping stones, submodules.
		{"posix alias", "", callGlobal("posix", "system"), []want{{"PKL001", crit, "posix.system", ""}, {"PKL002", crit, "", ""}}},
		{"nt alias", "", callGlobal("nt", "system"), []want{{"PKL001", crit, "nt.system", ""}, {"PKL002", crit, "", ""}}},
		{"__builtin__ eval", "", callGlobal("__builtin__", "eval"), []want{{"PKL001", crit, "__builtin__.eval", ""}, {"PKL002", crit, "", ""}}},
		{"_io.FileIO", "", callGlobal("_io", "FileIO"), []want{{"PKL001", high, "_io.FileIO", ""}, {"PKL002", high, "", ""}}},
		{"gzip stepping stone", "", newAsm().proto(4).str("gzip").str("os.system").stackGlobal().str("id").tuple1().reduce().stop().bytes(), []want{
			{"PKL001", crit, "gzip.os.system", ""}, {"PKL002", crit, "gzip.os.system('id')", ""}}},
		{"pathlib stepping stone", "", callGlobal("pathlib", "os.system"), []want{{"PKL001", crit, "", ""}, {"PKL002", crit, "", ""}}},
		{"pickletools stepping stone", "", callGlobal("pickletools", "pickle.loads"), []want{{"PKL001", crit, "", ""}, {"PKL002", crit, "", ""}}},
		{"logging stepping stone", "", callGlobal("logging", "os.system"), []want{{"PKL001", crit, "", ""}, {"PKL002", crit, "", ""}}},
		{"six.moves alias", "", callGlobal("six.moves.builtins", "eval"), []want{{"PKL001", crit, "", ""}, {"PKL002", crit, "", ""}}},
		{"submodule of a denied package", "", callGlobal("asyncio.unix_events", "_UnixSubprocessTransport._start"), []want{{"PKL001", crit, "", ""}, {"PKL002", crit, "", ""}}},
		{"distutils submodule", "", callGlobal("distutils.file_util", "write_file"), []want{{"PKL001", crit, "", ""}, {"PKL002", crit, "", ""}}},
		{"__main__ of a package", "", callGlobal("torch.utils.bottleneck.__main__", "run_cprofile"), []want{{"PKL001", crit, "", ""}, {"PKL002", crit, "", ""}}},
		{"name too long to examine", "", newAsm().proto(4).str("os").str(strings.Repeat("path.os.", 600) + "system").stackGlobal().stop().bytes(), []want{
			{"PKL004", crit, "os.path.os.path", ""}}},
		{"special attribute walk", "", newAsm().proto(4).global("numpy", "__builtins__").stop().bytes(), []want{{"PKL001", crit, "numpy.__builtins__", ""}}},
		{"submodule with a generic name", "", newAsm().proto(2).global("mypkg.test.models", "Net").stop().bytes(), []want{{"PKL001", med, "mypkg.test.models.Net", ""}}},
		// Severities and the review tier.
		{"unreviewed global is low", "", newAsm().proto(2).global("mypkg.models", "Net").emptyTuple().op(opNewObj).stop().bytes(), []want{{"PKL003", low, "mypkg.models.Net", ""}}},
		{"__main__ class is reviewed, not denied", "", newAsm().proto(2).global("__main__", "Net").emptyTuple().op(opNewObj).stop().bytes(), []want{{"PKL003", low, "__main__.Net", ""}}},
		{"unreviewed global reported once", "", newAsm().proto(2).mark().global("m", "f").global("m", "f").global("m", "f").tuple().stop().bytes(), []want{{"PKL003", low, "m.f", ""}}},
		{"allow-listed globals", "", newAsm().proto(2).global("collections", "OrderedDict").emptyTuple().reduce().global("torch._utils", "_rebuild_tensor_v2").op(opPop).
			global("sklearn.ensemble._forest", "RandomForestClassifier").emptyTuple().op(opNewObj).emptyDict().build().op(opPop).stop().bytes(), nil},
		{"framework tier excludes functions", "", newAsm().proto(2).global("sklearn.datasets", "fetch_openml").stop().bytes(), []want{{"PKL001", high, "sklearn.datasets.fetch_openml", ""}}},
		{"webbrowser is high", "", callGlobal("webbrowser", "open"), []want{{"PKL001", high, "", ""}, {"PKL002", high, "webbrowser.open('x')", ""}}},
		{"torch.load is high", "", callGlobal("torch", "load"), []want{{"PKL001", high, "", ""}, {"PKL002", high, "", ""}}},
		{"scanner tampering", "", newAsm().proto(2).global("picklescan.scanner", "_safe_globals").stop().bytes(), []want{{"PKL001", crit, "picklescan", ""}}},
		// Wrappers reach what they wrap.
		{"functools.partial", "", newAsm().proto(2).global("functools", "partial").global("os", "system").str("id").op(opTuple2).reduce().emptyTuple().reduce().stop().bytes(), []want{
			{"PKL001", crit, "functools.partial", ""}, {"PKL002", crit, "os.system('id')  <- functools.partial(os.system, 'id')()", ""}}},
		{"operator.methodcaller", "", newAsm().proto(2).global("operator", "methodcaller").str("system").str("id").op(opTuple2).reduce().
			global("builtins", "__import__").str("os").tuple1().reduce().tuple1().reduce().stop().bytes(), []want{
			{"PKL002", crit, "os.system('id')  <- operator.methodcaller('system', 'id')(builtins.__import__('os'))", ""}}},
		{"operator.attrgetter", "", newAsm().proto(2).global("operator", "attrgetter").str("system").tuple1().reduce().
			global("importlib", "import_module").str("os").tuple1().reduce().tuple1().reduce().str("id").tuple1().reduce().stop().bytes(), []want{
			{"PKL002", crit, "os.system('id')", ""}}},
		{"getattr of __import__", "", newAsm().proto(2).global("builtins", "getattr").global("builtins", "__import__").str("os").tuple1().reduce().
			str("system").op(opTuple2).reduce().str("id").tuple1().reduce().stop().bytes(), []want{
			{"PKL002", crit, "os.system('id')  <- builtins.getattr(builtins.__import__('os'), 'system')('id')", ""}}},
		{"__import__ result kept in the memo across POP", "", newAsm().proto(2).global("builtins", "__import__").str("os").tuple1().reduce().binput(0).op(opPop).
			global("builtins", "getattr").binget(0).str("system").op(opTuple2).reduce().str("id").tuple1().reduce().stop().bytes(), []want{
			{"PKL002", crit, "os.system('id')", ""}}},
		{"pkgutil.resolve_name", "", newAsm().proto(2).global("pkgutil", "resolve_name").str("os:system").tuple1().reduce().str("id").tuple1().reduce().stop().bytes(), []want{
			{"PKL002", crit, "os.system('id')", ""}}},
		{"numpy ufunc reconstructor naming os.system", "", newAsm().proto(2).global("numpy.core", "_ufunc_reconstruct").str("os").str("system").op(opTuple2).reduce().
			str("id").tuple1().reduce().stop().bytes(), []want{
			{"PKL003", low, "numpy.core._ufunc_reconstruct", ""}, {"PKL002", crit, "numpy.core._ufunc_reconstruct('os', 'system')", ""},
			{"PKL002", crit, "os.system('id')", ""}}},
		{"numpy ufunc reconstructor naming a ufunc", "", newAsm().proto(2).global("numpy.core", "_ufunc_reconstruct").str("numpy").str("log1p").op(opTuple2).reduce().
			stop().bytes(), []want{{"PKL003", low, "numpy.core._ufunc_reconstruct", ""}}},
		{"copyreg._reconstructor of a denied class", "", newAsm().proto(2).global("copyreg", "_reconstructor").mark().global("subprocess", "Popen").
			global("builtins", "object").none().tuple().reduce().stop().bytes(), []want{
			{"PKL001", crit, "subprocess.Popen", ""}, {"PKL002", crit, "copyreg._reconstructor(subprocess.Popen", ""}}},
		{"a call result called", "", newAsm().proto(2).global("mypkg", "factory").emptyTuple().reduce().emptyTuple().reduce().stop().bytes(), []want{
			{"PKL003", low, "mypkg.factory", ""}, {"PKL012", high, "mypkg.factory()()", ""}}},
		{"an allow-listed class's instance called", "", newAsm().proto(2).global("collections", "OrderedDict").emptyTuple().reduce().emptyTuple().reduce().stop().bytes(), []want{
			{"PKL012", med, "collections.OrderedDict()()", ""}}},
		{"computed STACK_GLOBAL", "", newAsm().proto(4).global("mypkg", "name").emptyTuple().reduce().str("system").stackGlobal().str("id").tuple1().reduce().stop().bytes(), []want{
			{"PKL003", low, "", ""}, {"PKL004", crit, "STACK_GLOBAL(mypkg.name(), 'system')", ""}, {"PKL002", crit, "", ""}}},
		// State changes on imported globals.
		{"BUILD on a global", "", newAsm().proto(2).global("torch._utils", "_rebuild_tensor_v2").emptyDict().str("__code__").none().op(opSetItem).
			build().stop().bytes(), []want{{"PKL006", high, "torch._utils._rebuild_tensor_v2.__setstate__({'__code__': None})", ""}}},
		{"SETITEM on os.environ", "", newAsm().proto(2).global("os", "environ").str("LD_PRELOAD").str("/tmp/x.so").op(opSetItem).stop().bytes(), []want{
			{"PKL001", crit, "os.environ", ""}, {"PKL006", crit, "os.environ.update({'LD_PRELOAD': '/tmp/x.so'})", ""}}},
		// Nested payloads.
		{"pickle.loads of bytes", "", newAsm().proto(3).global("pickle", "loads").binBytes(string(osSystem)).tuple1().reduce().stop().bytes(), []want{
			{"PKL002", crit, "pickle.loads(b'", ""}, {"PKL002", crit, "os.system('id')", "pickle.loads argument"}}},
		{"_pickle.loads of latin-1 encoded str (protocol 2 bytes)", "", newAsm().proto(2).global("_pickle", "loads").
			global("_codecs", "encode").str(latin1ToUTF8(string(osSystem))).str("latin1").op(opTuple2).reduce().tuple1().reduce().stop().bytes(), []want{
			{"PKL002", crit, "", ""}, {"PKL002", crit, "os.system('id')", "pickle.loads argument"}}},
		{"torch.storage._load_from_bytes", "", newAsm().proto(2).global("torch.storage", "_load_from_bytes").binBytes(string(osSystem)).tuple1().reduce().stop().bytes(), []want{
			{"PKL002", crit, "", ""}, {"PKL001", crit, "os.system", "torch.storage._load_from_bytes argument"}}},
		{"base64 and zlib wrapped payload", "", newAsm().proto(2).global("pickle", "loads").global("zlib", "decompress").global("base64", "b64decode").
			str(base64.StdEncoding.EncodeToString([]byte(zlibBytes(osSystem)))).tuple1().reduce().tuple1().reduce().tuple1().reduce().stop().bytes(), []want{
			{"PKL003", low, "zlib.decompress", ""}, {"PKL002", crit, "", ""}, {"PKL002", crit, "os.system('id')", "pickle.loads argument"}}},
		{"torch.load of io.BytesIO", "", newAsm().proto(2).global("torch", "load").global("_io", "BytesIO").binBytes(string(osSystem)).tuple1().reduce().tuple1().reduce().stop().bytes(), []want{
			{"PKL002", high, "", ""}, {"PKL002", crit, "os.system('id')", "torch.load argument"}}},
		{"torch.load of a path is not a payload", "", callGlobal("torch", "load"), []want{{"PKL001", high, "", ""}, {"PKL002", high, "", ""}}},
		// Streams.
		{"benign then malicious", "", append(newAsm().proto(2).emptyDict().stop().bytes(), osSystem...), []want{
			{"PKL001", crit, "os.system", ""}, {"PKL002", crit, "", ""}}},
		{"broken after the payload", "", append(append([]byte(nil), osSystem[:len(osSystem)-1]...), 0xff, 0xfe), []want{
			{"PKL001", crit, "", ""}, {"PKL002", crit, "", ""}, {"PKL007", med, "0xff", ""}}},
		{"truncated inside an argument", "", newAsm().proto(2).global("os", "system").op(opBinUnicode, le32(50)...).text("id").bytes(), []want{
			{"PKL001", crit, "", ""}, {"PKL007", med, "BINUNICODE", ""}}},
		{"broken benign pickle", "", newAsm().proto(2).emptyDict().raw(0xff).bytes(), []want{{"PKL007", med, "", ""}}},
		{"trailing garbage", "", append(newAsm().proto(2).emptyDict().stop().bytes(), "\x00\x00\x00"...), []want{{"PKL008", info, "", ""}}},
		{"trailing zip", "", append(newAsm().proto(2).emptyDict().stop().bytes(), "PK\x03\x04\x00\x00"...), []want{{"PKL008", med, "a zip archive", ""}}},
		{"appended broken pickle with an import", "", append(newAsm().proto(2).emptyDict().stop().bytes(), newAsm().proto(2).global("mypkg", "f").raw(0xff).bytes()...), []want{
			{"PKL003", low, "", ""}, {"PKL007", med, "", ""}}},
		{"protocol anomaly", "", newAsm().proto(2).binUnicode("m").binUnicode("f").stackGlobal().op(opPop).none().stop().bytes(), []want{
			{"PKL003", low, "", ""}, {"PKL011", low, "STACK_GLOBAL", ""}}},
		// Tentative routing: text that merely starts like a pickle.
		{"text starting with c", "notes.txt", []byte("cool story\nbro\nthis is not a pickle"), nil},
		{"text starting with (", "notes.txt", []byte("(see below) some text"), nil},
		{"text starting with i", "notes.txt", []byte("import os\nos.system('x')\n"), nil},
		{"text starting with c and a harmless first line", "notes.txt", []byte("cat > out.txt\nhello\nworld\n"), nil},
		{"tentative broken pickle with a denied import", "notes.txt", []byte("cos\nsystem\n\xff"), []want{
			{"PKL001", crit, "os.system", ""}, {"PKL007", med, "", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name := tt.file
			if name == "" {
				name = "test.pkl"
			}
			fs := scanBytes(t, nil, name, tt.data)
			checkFindings(t, fs, tt.wants)
			for _, f := range fs {
				if f.RuleID != "PKL008" && f.RuleID != "SCN001" && f.Offset < 0 && len(f.Inner) == 0 {
					t.Errorf("finding without offset: %s", dump([]scan.Finding{f}))
				}
			}
		})
	}
}

// TestCallFindingsCapped checks that repeated calls of one callable are
// listed up to the cap and then counted.
func TestCallFindingsCapped(t *testing.T) {
	t.Parallel()
	a := newAsm().proto(2).global("os", "system").binput(0).op(opPop).mark()
	for range 20 {
		a.binget(0).str("id").tuple1().reduce()
	}
	fs := scanBytes(t, nil, "x.pkl", a.tuple().stop().bytes())
	calls, summary := 0, 0
	for _, f := range fs {
		if f.RuleID == "PKL002" {
			calls++
			if strings.Contains(f.Message, "more calls like the 8 listed: 12 not listed") {
				summary++
			}
		}
	}
	if calls != maxCallFindings+1 || summary != 1 {
		t.Errorf("got %d call findings (%d summaries), want %d and 1:%s", calls, summary, maxCallFindings+1, dump(fs))
	}
}

// TestLimitFindings checks that a limit hit is reported and earlier
// findings are kept.
func TestLimitFindings(t *testing.T) {
	t.Parallel()
	sc := New()
	sc.lim.maxStack = 50
	a := newAsm().proto(2).call("os", "system", "id")
	for range 100 {
		a.none()
	}
	fs := scanBytes(t, sc, "x.pkl", a.stop().bytes())
	checkFindings(t, fs, []want{{"PKL001", crit, "", ""}, {"PKL002", crit, "", ""}, {"PKL009", med, "NONE", ""}})
}

// TestExpansionFinding checks the billion-laughs finding.
func TestExpansionFinding(t *testing.T) {
	t.Parallel()
	a := newAsm().proto(2).emptyList().binput(0)
	for i := 1; i <= 9; i++ {
		a.mark()
		for range 10 {
			a.binget(byte(i - 1))
		}
		a.op(opList).binput(byte(i))
	}
	fs := scanBytes(t, nil, "x.pkl", a.stop().bytes())
	checkFindings(t, fs, []want{{"PKL010", med, "", ""}})
}

// TestRules checks the rule table.
func TestRules(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i, r := range New().Rules() {
		if want := "PKL0" + string(rune('0'+(i+1)/10)) + string(rune('0'+(i+1)%10)); r.ID != want {
			t.Errorf("rule %d has ID %s, want %s", i, r.ID, want)
		}
		if seen[r.Name] || r.Name == "" || strings.ToLower(r.Name) != r.Name || strings.Contains(r.Name, " ") {
			t.Errorf("rule %s name %q is not a unique kebab-case name", r.ID, r.Name)
		}
		seen[r.Name] = true
		if r.Summary == "" || r.Remediation == "" || r.Severity == scan.SeverityNone {
			t.Errorf("rule %s lacks a summary, remediation or severity", r.ID)
		}
	}
}

// TestRuleFindingsCapped checks that one rule lists at most
// maxRuleFindings findings per object and counts the rest.
func TestRuleFindingsCapped(t *testing.T) {
	t.Parallel()
	a := newAsm().proto(2).mark()
	for i := range 300 {
		a.global("mypkg", "f"+strings.Repeat("x", i))
	}
	fs := scanBytes(t, nil, "x.pkl", a.tuple().stop().bytes())
	listed, summaries := 0, 0
	for _, f := range fs {
		if f.RuleID == "PKL003" {
			listed++
			if strings.Contains(f.Message, "44 not listed") {
				summaries++
			}
		}
	}
	if listed != maxRuleFindings+1 || summaries != 1 {
		t.Errorf("got %d PKL003 findings (%d summaries), want %d and 1", listed, summaries, maxRuleFindings+1)
	}
}
