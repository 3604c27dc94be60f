package deps

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRequirement(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		want   requirement
		pinned string
	}{
		{"torch==1.13.0+cu117", requirement{Raw: "torch==1.13.0+cu117", Name: "torch", Specifier: "==1.13.0+cu117"}, "1.13.0+cu117"},
		{`transformers[torch,sentencepiece] == 4.30.0 ; python_version >= "3.8"`, requirement{Raw: `transformers[torch,sentencepiece] == 4.30.0 ; python_version >= "3.8"`, Name: "transformers", Specifier: "== 4.30.0"}, "4.30.0"},
		{"numpy>=1.21,<2", requirement{Raw: "numpy>=1.21,<2", Name: "numpy", Specifier: ">=1.21,<2"}, ""},
		{"numpy==1.*", requirement{Raw: "numpy==1.*", Name: "numpy", Specifier: "==1.*"}, ""},
		{"pkg===1.0-custom", requirement{Raw: "pkg===1.0-custom", Name: "pkg", Specifier: "===1.0-custom"}, "1.0-custom"},
		{"torch==2.2.1 --hash=sha256:aa --hash sha256:bb", requirement{Raw: "torch==2.2.1", Name: "torch", Specifier: "==2.2.1", Hashes: []string{"sha256:aa", "sha256:bb"}}, "2.2.1"},
		{"peft @ git+https://github.com/huggingface/peft@v0.9.0 ; python_version > '3'", requirement{Raw: "peft @ git+https://github.com/huggingface/peft@v0.9.0 ; python_version > '3'", Name: "peft", URL: "git+https://github.com/huggingface/peft@v0.9.0"}, ""},
		{"git+https://github.com/x/y.git#egg=ypkg", requirement{Raw: "git+https://github.com/x/y.git#egg=ypkg", Name: "ypkg", URL: "git+https://github.com/x/y.git#egg=ypkg"}, ""},
	}
	for _, tt := range tests {
		got := parseRequirement(tt.in)
		if d := cmp.Diff(got, tt.want); d != "" {
			t.Errorf("parseRequirement(%q) (-got +want):\n%s", tt.in, d)
		}
		if v, _ := got.Pinned(); v != tt.pinned && tt.pinned != "" {
			t.Errorf("Pinned(%q) = %q, want %q", tt.in, v, tt.pinned)
		}
		if _, ok := got.Pinned(); ok != (tt.pinned != "") {
			t.Errorf("Pinned(%q) ok = %v", tt.in, ok)
		}
	}
}

func TestParseRequirementsLines(t *testing.T) {
	t.Parallel()
	src := "# comment\n-r base.txt\n-rother.txt\n--extra-index-url=https://x.example/simple\n" +
		"torch==1.0 \\\n  --hash=sha256:aa  # trailing\n\n-e ./local\nurl#frag==1 # c\n"
	got := parseRequirements([]byte(src))
	want := []reqLine{
		{Line: 2, Kind: lineOption, Option: "-r", Value: "base.txt"},
		{Line: 3, Kind: lineOption, Option: "-r", Value: "other.txt"},
		{Line: 4, Kind: lineOption, Option: "--extra-index-url", Value: "https://x.example/simple"},
		{Line: 5, Kind: lineRequirement, Req: requirement{Raw: "torch==1.0", Name: "torch", Specifier: "==1.0", Hashes: []string{"sha256:aa"}}},
		{Line: 8, Kind: lineRequirement, Req: requirement{Raw: "./local", URL: "./local", Editable: true}},
		{Line: 9, Kind: lineRequirement, Req: requirement{Raw: "url#frag==1", Name: "url", Specifier: "#frag==1"}},
	}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("parseRequirements (-got +want):\n%s", d)
	}
}

func TestParseCondaSpec(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, name, version string }{
		{"python=3.10.13=h955ad1f_0", "python", "3.10.13"},
		{"pytorch::pytorch==1.13.0", "pytorch", "1.13.0"},
		{"conda-forge::numpy=1.23", "numpy", "1.23"},
		{"numpy>=1.21", "numpy", ""},
		{"numpy 1.21.0 py39_0", "numpy", "1.21.0"},
		{"numpy=1.21.*", "numpy", ""},
		{"numpy[version='>=1.21']", "numpy", ""},
		{"::", "", ""},
	}
	for _, tt := range tests {
		d := parseCondaSpec(tt.in)
		if d.Name != tt.name || d.Version != tt.version {
			t.Errorf("parseCondaSpec(%q) = %q %q, want %q %q", tt.in, d.Name, d.Version, tt.name, tt.version)
		}
	}
}

func TestCondaEnvironmentErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"not a mapping":   "- a\n- b\n",
		"deps not a list": "dependencies: 3\n",
		"bad yaml":        "dependencies: [\n",
		"too deep":        "dependencies:\n  - pip: " + repeat("[", 40) + repeat("]", 40) + "\n",
	}
	for name, src := range tests {
		if _, err := parseCondaEnvironment([]byte(src)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// Aliases are not expanded: a billion-laughs document stays small.
	laughs := "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\ndependencies: [*c, *c, numpy=1.0]\n"
	deps, err := parseCondaEnvironment([]byte(laughs))
	if err != nil || len(deps) != 1 || deps[0].Name != "numpy" {
		t.Errorf("alias document: %+v, %v", deps, err)
	}
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

func TestTyposquat(t *testing.T) {
	t.Parallel()
	ix := newTyposquatIndex(defaultPopular)
	tests := map[string]string{
		"tourch": "torch", "transfomers": "transformers", "numpyy": "numpy", "scikit_learnn": "scikit-learn",
		"pandsa": "pandas", "scikitlearn": "scikit-learn", "reqeusts": "requests", "huggingface_hubb": "huggingface-hub",
		"torch": "", "Scikit_Learn": "", "pytorch": "", "numba": "", "ray": "", "rayy": "", "boto": "", "tqdm": "",
		"flask-cors": "", "my-internal-lib": "",
	}
	for in, want := range tests {
		if got := ix.check(in); got != want {
			t.Errorf("check(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOSADistance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"torch", "torch", 0}, {"torhc", "torch", 1}, {"tourch", "torch", 1}, {"tch", "torch", 2}, {"abc", "xyz", 3},
	}
	for _, tt := range tests {
		if got := osaDistance(tt.a, tt.b, 2); got != min(tt.want, 3) {
			t.Errorf("osaDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestMaskURL(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"https://user:FAKE0000@pypi.example.com/simple":  "https://***@pypi.example.com/simple",
		"https://pypi.example.com/simple?token=FAKE0000": "https://pypi.example.com/simple?token=***",
		"git+https://FAKE0000@github.com/x/y@v1":         "git+https://***@github.com/x/y@v1",
		"https://pypi.org/simple":                        "https://pypi.org/simple",
		"not a url with //FAKE0000@host":                 "not a url with //***@host",
	}
	for in, want := range tests {
		if got := maskURL(in); got != want {
			t.Errorf("maskURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSetupCfg(t *testing.T) {
	t.Parallel()
	src := "[options]\ninstall_requires = torch==1.0\n    numpy\n    # comment\npython_requires = >=3.8\n[options.extras_require]\ndev =\n    pytest>=7\n[other]\nx = y\n"
	var got []string
	for _, r := range parseSetupCfg([]byte(src)) {
		got = append(got, r.Pointer+" "+r.Req.Name)
	}
	want := []string{"options.install_requires torch", "options.install_requires numpy", "options.extras_require.dev pytest"}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("parseSetupCfg (-got +want):\n%s", d)
	}
}

func TestNestingDepth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		json bool
		want int
	}{
		{`a = [[1], {b = 2}]`, false, 2},
		{`a = "[[[[" # [[[[`, false, 0},
		{"a = '''\n[[[\n'''", false, 0},
		{`{"a": ["[["]}`, true, 2},
	}
	for _, tt := range tests {
		if got := nestingDepth([]byte(tt.in), tt.json); got != tt.want {
			t.Errorf("nestingDepth(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
