package deps

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLockfileSources reports packages locked from git or URLs (DEP004)
// and Pipfile.lock indexes other than PyPI (DEP005), and nothing for
// packages from PyPI.
func TestLockfileSources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		data string
		want []hit
	}{
		{"poetry git source", "poetry.lock", `[[package]]
name = "numpy"
version = "1.26.4"
description = ""
optional = false
python-versions = ">=3.9"
files = []

[[package]]
name = "private-lib"
version = "1.0.0"
description = ""
optional = false
python-versions = "*"
files = []

[package.source]
type = "git"
url = "https://git.example.com/ml/private-lib.git"
reference = "v1"
resolved_reference = "0123456789abcdef0123456789abcdef01234567"

[metadata]
lock-version = "2.0"
python-versions = "^3.10"
content-hash = "0"
`, []hit{{"DEP004", 10}}},
		{"uv git and url sources", "uv.lock", `version = 1
requires-python = ">=3.10"

[[package]]
name = "torch"
version = "2.1.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "tokenizer-fork"
version = "0.1.0"
source = { git = "https://github.com/example/tokenizer-fork?rev=main#0123456789abcdef0123456789abcdef01234567" }

[[package]]
name = "weights-helper"
version = "0.2.0"
source = { url = "http://files.example.com/weights_helper-0.2.0-py3-none-any.whl" }
`, []hit{{"DEP004", 10}, {"DEP004", 15}}},
		{"pipfile extra source, no TLS check, git", "Pipfile.lock", `{
    "_meta": {
        "sources": [
            {"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": true},
            {"name": "private", "url": "http://pypi.example.com/simple", "verify_ssl": false}
        ]
    },
    "default": {
        "requests": {"version": "==2.31.0"},
        "mylib": {"git": "https://git.example.com/mylib.git", "ref": "abc123"}
    },
    "develop": {}
}`, []hit{{"DEP004", 10}, {"DEP005", 5}, {"DEP005", 5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newScanner(t, nil)
			fs := run(t, s, memObject(tt.file, []byte(tt.data)))
			var got []hit
			for _, h := range hits(fs) {
				if h.Rule == "DEP004" || h.Rule == "DEP005" {
					got = append(got, h)
				}
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("findings (-got +want):\n%s", diff)
			}
			for _, f := range fs {
				if strings.Contains(f.Message, "pypi.org") {
					t.Errorf("PyPI itself reported: %s", f.Message)
				}
			}
		})
	}
}
