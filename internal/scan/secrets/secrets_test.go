package secrets

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/palisade-sec/palisade/internal/scan"
)

// testKey is a fake private key body: random base64 (a body with the
// alphabet in order would hit gitleaks' "abcdefghijklmnopqrstuvwxyz" stop
// word).
const testKey = "MIIEvFAKE0000PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA/2O76UMFxFkM/R5Kjp1vRt+1fjORS/6ilI8ihN5KXSc7Tvo/hBKqFYY/kv5ZJr3J1TWDtkwtDDb+"

// shared is one scanner with the default rules for the tests that need no
// options; New is the costly part.
var shared = func() *Scanner {
	s, err := New(Options{})
	if err != nil {
		panic(err)
	}
	return s
}()

// brief is the comparable part of a finding.
type brief struct {
	Rule    string
	Line    int
	Pointer string
}

// scanString scans content as an object of the given format and name.
func scanString(t testing.TB, s *Scanner, name string, format scan.Format, content string) []scan.Finding {
	t.Helper()
	var out []scan.Finding
	obj := scan.Object{Name: name, Format: format, R: strings.NewReader(content), Size: int64(len(content))}
	if err := s.scan(context.Background(), obj, func(f scan.Finding) { out = append(out, f) }); err != nil {
		t.Fatalf("scan: %v", err)
	}
	scan.SortFindings(out)
	return out
}

func briefs(fs []scan.Finding) []brief {
	out := []brief{}
	for _, f := range fs {
		out = append(out, brief{f.RuleID, f.Line, f.Pointer})
	}
	return out
}

// TestRules runs each rule on lines that must and must not match.
func TestRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, content string
		want          []string // rule IDs, one per finding, in line order
	}{
		{"hf token", `token = "hf_FAKE0000exampleTokenAbCdEfGhIjKlMn"`, []string{"SEC101"}},
		{"hf org token", `api_org_FAKE0000exampleTokenAbCdEfGhIjKlMn`, []string{"SEC101"}},
		{"hf too short", `hf_FAKE0000example`, nil},
		{"hf placeholder", `HF_TOKEN = "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"`, nil},
		{"hf identifier", `self.hf_tokenizer_name_or_path_for_the_model_abc = 1`, nil},
		{"wandb env", `WANDB_API_KEY=0000a1b2c3d4e5f60718293a4b5c6d7e8f901234`, []string{"SEC102"}},
		{"wandb login", `wandb.login(key="0000a1b2c3d4e5f60718293a4b5c6d7e8f901234")`, []string{"SEC102"}},
		{"wandb no context", `digest = "0000a1b2c3d4e5f60718293a4b5c6d7e8f901234"`, nil},
		{"kaggle json", `{"username":"fakeuser","key":"0000a1b2c3d4e5f60718293a4b5c6d7e"}`, []string{"SEC103"}},
		{"kaggle env", `export KAGGLE_KEY=0000a1b2c3d4e5f60718293a4b5c6d7e`, []string{"SEC103"}},
		// Not Kaggle without its username; gitleaks' generic rule still fires.
		{"json key without username", `{"key":"0000a1b2c3d4e5f60718293a4b5c6d7e"}`, []string{"SEC001"}},
		{"replicate", `REPLICATE_API_TOKEN=r8_FAKE0000exampleTokenAbCdEfGhIjKlMnOpQ`, []string{"SEC104"}},
		{"cohere", `co = cohere.Client("FAKE0000exampleKeyAbCdEfGhIjKlMnOpQrStUv")`, []string{"SEC105"}},
		{"anthropic", `ANTHROPIC_API_KEY="sk-ant-api03-FAKE0000J8HyS5SUkCnD8zRA9a9SkpXz9w3QlY7Zkuvqdt7s8Stqcbnr3yBdGBLEPH1qhT61qtc4xatws8phP9nhFAA"`, []string{"SEC106"}},
		{"databricks", `DATABRICKS_TOKEN=dapi0000a1b2c3d4e5f60718293a4b5c6d7e`, []string{"SEC107"}},
		{"azure account key", `conn = "AccountName=fake;AccountKey=FAKE0000xHKas1VOqg6YYZYn9ZhyiA4uoRgnatmUdjAWtGSU8po+799NksnRH9ucAUsdMlHUvTCQCyEZDz/Tdd==;"`, []string{"SEC108"}},
		{"azure emulator key", `AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==`, nil},
		{"azure sas", `url = "https://a.blob.core.windows.net/c?sv=2022-11-02&sp=r&se=2030-01-01&sig=FAKE0000AbCdEfGhIjKlMnOpQrStUvWxYz0123%3D"`, []string{"SEC109"}},
		{"sig without sas", `sig=FAKE0000AbCdEfGhIjKlMnOpQrStUvWxYz0123`, nil},
		{"postgres url", `engine = create_engine("postgresql+psycopg2://ml:FAKE0000pw9x@db:5432/f")`, []string{"SEC111"}},
		{"mongodb url", `MONGO=mongodb+srv://ml:FAKE0000pw9x@cluster0.example.net/db`, []string{"SEC111"}},
		{"db url placeholder", `postgresql://user:password@localhost/db`, nil},
		{"db url default creds", `postgres://postgres:postgres@localhost/postgres`, nil},
		{"db url template", `postgresql://{user}:{password}@{host}/db`, nil},
		{"mlflow uri", `mlflow.set_tracking_uri("https://u:FAKE0000trk@mlflow.example.com")`, []string{"SEC112"}},
		{"index url", `--extra-index-url https://bot:FAKE0000tok9@pkgs.example.com/simple`, []string{"SEC113"}},
		{"index url env vars", `--extra-index-url https://${USER}:${TOKEN}@pkgs.example.com/simple`, nil},
		{"aws secret", `aws_secret_access_key = FAKE0000AbCdEfGhIjKlMnOpQrStUvWxYz012345`, []string{"SEC114"}},
		{"aws doc example", `aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`, nil},
		{"aws doc key id", `aws_access_key_id = AKIAIOSFODNN7EXAMPLE`, nil},
		{"aws key id", `aws_access_key_id = AKIAFAKEQ2XAMPLE7ZYW`, []string{"SEC001"}},
		{"jwt.io sample", `Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c`, nil},
		{"stripe docs key", `stripe.api_key = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"`, nil},
		{"github pat", `GITHUB_TOKEN=ghp_FAKE0000exampleTokenAbCdEfGhIjKlMnOp`, []string{"SEC001"}},
		{"generic password", `db_password = "Zq0000Xv7LmQ9rTs2WkPbN4y"`, []string{"SEC001"}},
		{"generic uuid", `api_key = "123e4567-e89b-12d3-a456-426614174000"`, nil},
		{"generic digest", `key_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"`, nil},
		{"gitleaks allow", `GITHUB_TOKEN=ghp_FAKE0000exampleTokenAbCdEfGhIjKlMnOp # gitleaks:allow`, nil},
		{"private key", "x = 1\n-----BEGIN RSA PRIVATE KEY-----\n" + testKey + "\n" + testKey + "\n-----END RSA PRIVATE KEY-----\n", []string{"SEC002"}},
		{"private key escaped", `{"k": "-----BEGIN PRIVATE KEY-----\n` + testKey + `\n-----END PRIVATE KEY-----\n"}`, []string{"SEC002"}},
		{"private key elided", "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n", nil},
		{"gcp service account", "{\n  \"type\": \"service_account\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n" + testKey + "\\n-----END PRIVATE KEY-----\\n\"\n}\n", []string{"SEC110"}},
		{"one secret one finding", `HF_TOKEN = "hf_FAKE0000exampleTokenAbCdEfGhIjKlMn"; DB_PASSWORD = "Zq0000Xv7LmQ9rTs2WkPbN4y"`, []string{"SEC101", "SEC001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, f := range scanString(t, shared, "x.py", scan.FormatText, tt.content) {
				got = append(got, f.RuleID)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("rules (-got +want):\n%s", diff)
			}
		})
	}
}

// TestLocation checks lines, offsets and the BEGIN line of key blocks.
func TestLocation(t *testing.T) {
	t.Parallel()
	content := "a = 1\n\nGITHUB_TOKEN=ghp_FAKE0000exampleTokenAbCdEfGhIjKlMnOp\n-----BEGIN EC PRIVATE KEY-----\n" + testKey + "\n-----END EC PRIVATE KEY-----\n"
	fs := scanString(t, shared, "x.env", scan.FormatText, content)
	if diff := cmp.Diff(briefs(fs), []brief{{"SEC001", 3, ""}, {"SEC002", 4, ""}}); diff != "" {
		t.Fatalf("findings (-got +want):\n%s", diff)
	}
	if want := int64(strings.Index(content, "ghp_")); fs[0].Offset != want {
		t.Errorf("offset %d, want %d", fs[0].Offset, want)
	}
	if want := int64(strings.Index(content, "-----BEGIN")); fs[1].Offset != want {
		t.Errorf("key offset %d, want %d", fs[1].Offset, want)
	}
}

// TestLongLines checks that a line over the limit is clipped, not fatal:
// a secret at its head is found, one past the limit is not, and scanning
// goes on with the right line numbers. The line is longer than the read
// buffer so the skip path runs.
func TestLongLines(t *testing.T) {
	t.Parallel()
	s := newTestScanner(t, Options{MaxLineBytes: 1 << 10})
	tok := "ghp_FAKE0000exampleTokenAbCdEfGhIjKlMnOp"
	long := "T=" + tok + " " + strings.Repeat("a", blockBytes+4<<10) + " " + tok
	content := long + "\nx\nGITHUB_TOKEN=" + tok + "\n"
	got := briefs(scanString(t, s, "x.txt", scan.FormatText, content))
	if diff := cmp.Diff(got, []brief{{"SEC001", 1, ""}, {"SEC001", 3, ""}}); diff != "" {
		t.Errorf("findings (-got +want):\n%s", diff)
	}
}

// TestEvidence checks the masking of secrets.
func TestEvidence(t *testing.T) {
	t.Parallel()
	tests := []struct{ secret, want string }{
		{"ghp_FAKE0000exampleTokenAbCdEfGhIjKlMnOp", "ghp_… sha256:"},
		{"FAKEpw", "F… sha256:"},
		{"abc", "… sha256:"},
		{"éééééééé", "éé… sha256:"},
	}
	for _, tt := range tests {
		got := Evidence(tt.secret)
		if !strings.HasPrefix(got, tt.want) || len(got) != len(tt.want)+12 {
			t.Errorf("Evidence(%q) = %q, want %q + 12 hex digits", tt.secret, got, tt.want)
		}
	}
}

// TestNotebookLines checks that findings in a notebook carry the line of
// the notebook file and the cell position.
func TestNotebookLines(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "notebook-lines.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	got := briefs(scanString(t, shared, "n.ipynb", scan.FormatNotebook, string(data)))
	want := []brief{
		{"SEC104", 13, "cell 1, output 1, line 2"},
		{"SEC101", 19, "cell 1, line 2"},
		{"SEC001", 21, "cell 1, line 4"},
		{"SEC107", 27, "cell 2, line 1"},
		{"SEC002", 36, "cell 3, line 2"},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("findings (-got +want):\n%s", diff)
	}
}

// TestNotebookFallback checks that a notebook that does not decode, or
// nests too deep, is scanned as text rather than skipped.
func TestNotebookFallback(t *testing.T) {
	t.Parallel()
	s := newTestScanner(t, Options{MaxNotebookDepth: 3})
	for name, content := range map[string]string{
		"truncated": "{\"cells\": [{\"source\": [\"GITHUB_TOKEN=ghp_FAKE0000exampleTokenAbCdEfGhIjKlMnOp\\n\"",
		"too deep":  "{\"a\": {\"b\": {\"c\": {\"d\": [\n\"GITHUB_TOKEN=ghp_FAKE0000exampleTokenAbCdEfGhIjKlMnOp\\n\"]}}}}",
	} {
		got := briefs(scanString(t, s, "n.ipynb", scan.FormatNotebook, content))
		if len(got) != 1 || got[0].Rule != "SEC001" {
			t.Errorf("%s: findings %v, want one SEC001", name, got)
		}
	}
}

// TestUserConfig checks a user's gitleaks file: its rules (SEC003), an
// allowlist on a default rule, a disabled default rule, a global path
// allowlist, and replacement of the defaults without [extend].
func TestUserConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	extend := write("extend.toml", `
title = "team rules"
[extend]
useDefault = true
disabledRules = ["slack-bot-token"]

[[rules]]
id = "acme-internal-token"
description = "ACME internal API token"
regex = '''\b(acme_[a-z0-9]{24})\b'''
keywords = ["acme_"]

[[allowlists]]
description = "test fixtures"
paths = ['''fixtures/''']

[[allowlists]]
targetRules = ["github-pat"]
regexes = ['''ghp_FAKE0000allowed''']
`)
	replace := write("replace.toml", `
[[rules]]
id = "acme-internal-token"
regex = '''\b(acme_[a-z0-9]{24})\b'''
keywords = ["acme_"]
`)
	content := strings.Join([]string{
		"ACME=acme_0000fake1111fake2222fake",
		"GITHUB_TOKEN=ghp_FAKE0000exampleTokenAbCdEfGhIjKlMnOp",
		"OTHER=ghp_FAKE0000allowedTokenAbCdEfGhIjKlMnOpQ",
		"SLACK=xoxb-0000123456-123456789012-FAKEabcdefghijklmnop",
		`HF_TOKEN = "hf_FAKE0000exampleTokenAbCdEfGhIjKlMn"`,
	}, "\n")
	tests := []struct {
		name, config, path string
		want               []brief
	}{
		{"extend", extend, "app/x.env", []brief{{"SEC003", 1, ""}, {"SEC001", 2, ""}, {"SEC101", 5, ""}}},
		{"extend, allowlisted path", extend, "fixtures/x.env", nil},
		{"replace", replace, "app/x.env", []brief{{"SEC003", 1, ""}, {"SEC101", 5, ""}}},
		{"defaults", "", "app/x.env", []brief{{"SEC001", 2, ""}, {"SEC001", 3, ""}, {"SEC001", 4, ""}, {"SEC101", 5, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newTestScanner(t, Options{GitleaksConfig: tt.config})
			got := briefs(scanString(t, s, tt.path, scan.FormatText, content))
			if diff := cmp.Diff(got, append([]brief{}, tt.want...)); diff != "" {
				t.Errorf("findings (-got +want):\n%s", diff)
			}
		})
	}
	// Loading twice in one process works (gitleaks' own extend does not).
	newTestScanner(t, Options{GitleaksConfig: extend})
}

// TestConfigErrors checks that bad configurations are errors, not panics.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"bad regex":   "[[rules]]\nid = \"x\"\nregex = '''(unclosed'''\n",
		"bad toml":    "[[rules]\n",
		"both extend": "[extend]\nuseDefault = true\npath = \"other.toml\"\n",
		"bad target":  "[[allowlists]]\ntargetRules = [\"nope\"]\nregexes = ['''x''']\n",
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".toml")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := New(Options{GitleaksConfig: p}); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: error %v, want ErrConfig", name, err)
		}
	}
	if _, err := New(Options{GitleaksConfig: filepath.Join(dir, "missing.toml")}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: error %v, want ErrNotExist", err)
	}
}

// TestCancel checks that a cancelled context stops a text scan.
func TestCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	content := bytes.Repeat([]byte("token = 1\n"), 1000)
	obj := scan.Object{Name: "x", Format: scan.FormatText, R: bytes.NewReader(content), Size: int64(len(content))}
	if err := shared.scan(ctx, obj, func(scan.Finding) {}); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}
