package cli

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/sign/keys"
)

// runCLIStdin is runCLI with stdin given.
func runCLIStdin(t *testing.T, stdin io.Reader, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, &fakeServices{}, stdin, &out, &errOut)
	return out.String(), errOut.String(), code
}

// mustRun runs the command line and fails the test unless it exits 0.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	stdout, stderr, code := runCLI(t, t.Context(), args...)
	if code != ExitOK {
		t.Fatalf("palisade %s: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout
}

// wantExit runs the command line, checks its exit code and that stderr
// holds every one of wantMsg, and returns stdout and stderr.
func wantExit(t *testing.T, code int, wantMsg []string, args ...string) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, got := runCLI(t, t.Context(), args...)
	if got != code {
		t.Fatalf("palisade %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), got, code, stdout, stderr)
	}
	for _, m := range wantMsg {
		if !strings.Contains(stderr, m) {
			t.Errorf("palisade %s: stderr does not mention %q:\n%s", strings.Join(args, " "), m, stderr)
		}
	}
	return stdout, stderr
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// modelFiles is the small test model: files at the root, in a
// subdirectory and in a nested one.
var modelFiles = map[string]string{
	"config.json":           `{"architecture": "tiny", "layers": 2}`,
	"weights.bin":           strings.Repeat("\x00\x01\x02\x03weights", 512),
	"sub/tokenizer.json":    `{"vocab": ["a", "b"]}`,
	"sub/deeper/vocab.txt":  "a\nb\n",
	"sub/deeper/merges.txt": "a b\n",
}

// writeModel writes modelFiles under a new directory in dir and returns
// its path.
func writeModel(t *testing.T, dir string) string {
	t.Helper()
	model := filepath.Join(dir, "model")
	for name, content := range modelFiles {
		writeTestFile(t, filepath.Join(model, filepath.FromSlash(name)), content)
	}
	return model
}

// genKeys runs 'keys generate --out dir/name' with the extra arguments
// (--no-passphrase when none) and returns the key file paths.
func genKeys(t *testing.T, dir, name string, extra ...string) (priv, pub string) {
	t.Helper()
	if len(extra) == 0 {
		extra = []string{"--no-passphrase"}
	}
	out := filepath.Join(dir, name)
	mustRun(t, append([]string{"keys", "generate", "--out", out}, extra...)...)
	return out + ".key", out + ".pub"
}

// hintOf is the key hint of the public key file pub.
func hintOf(t *testing.T, pub string) string {
	t.Helper()
	data, err := os.ReadFile(pub)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.ParsePublic(data)
	if err != nil {
		t.Fatal(err)
	}
	h, err := keys.Hint(k)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// readPrivate parses a private key file with passphrase pass ("" for
// none).
func readPrivate(t *testing.T, path, pass string) (*ecdsa.PrivateKey, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var p func() ([]byte, error)
	if pass != "" {
		p = func() ([]byte, error) { return []byte(pass), nil }
	}
	return keys.ParsePrivate(data, p)
}

// checkKeyPair checks that priv and pub hold one key pair on curve c,
// encrypted with pass when it is not empty.
func checkKeyPair(t *testing.T, priv, pub string, c keys.Curve, pass string) {
	t.Helper()
	if pass != "" {
		if _, err := readPrivate(t, priv, ""); !errors.Is(err, keys.ErrPassphrase) {
			t.Errorf("%s reads without a passphrase (%v): not encrypted", priv, err)
		}
	}
	k, err := readPrivate(t, priv, pass)
	if err != nil {
		t.Fatalf("read %s: %v", priv, err)
	}
	data, err := os.ReadFile(pub)
	if err != nil {
		t.Fatal(err)
	}
	p, err := keys.ParsePublic(data)
	if err != nil {
		t.Fatal(err)
	}
	if !k.PublicKey.Equal(p) {
		t.Errorf("%s is not the public key of %s", pub, priv)
	}
	if got, _ := keys.CurveOf(p); got != c {
		t.Errorf("curve = %q, want %q", got, c)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(priv)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s mode = %#o, want no group or other permissions", priv, fi.Mode().Perm())
		}
	}
}

func TestKeysGenerate(t *testing.T) {
	t.Parallel()
	t.Run("no passphrase", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		out := filepath.Join(dir, "signing")
		stdout := mustRun(t, "keys", "generate", "--out", out, "--no-passphrase")
		for _, want := range []string{out + ".key", out + ".pub", "unencrypted", "P-256"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("stdout does not mention %q:\n%s", want, stdout)
			}
		}
		checkKeyPair(t, out+".key", out+".pub", keys.P256, "")
	})
	t.Run("passphrase file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		passFile := filepath.Join(dir, "pass")
		// Only the first line is the passphrase.
		writeTestFile(t, passFile, "first line secret\r\nsecond line\n")
		out := filepath.Join(dir, "signing")
		stdout := mustRun(t, "keys", "generate", "--out", out, "--curve", "P-384", "--passphrase-file", passFile)
		if !strings.Contains(stdout, "encrypted") || strings.Contains(stdout, "unencrypted") || !strings.Contains(stdout, "P-384") {
			t.Errorf("stdout does not say an encrypted P-384 key was written:\n%s", stdout)
		}
		checkKeyPair(t, out+".key", out+".pub", keys.P384, "first line secret")
	})
	t.Run("existing files kept unless --force", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		priv, pub := genKeys(t, dir, "signing")
		before, err := os.ReadFile(pub)
		if err != nil {
			t.Fatal(err)
		}
		wantExit(t, ExitError, []string{"exists"}, "keys", "generate", "--out", filepath.Join(dir, "signing"), "--no-passphrase")
		after, err := os.ReadFile(pub)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(before, after) {
			t.Error("keys generate without --force replaced the public key")
		}
		mustRun(t, "keys", "generate", "--out", filepath.Join(dir, "signing"), "--no-passphrase", "--force", "--curve", "p521")
		checkKeyPair(t, priv, pub, keys.P521, "")
	})

	usage := []struct {
		name    string
		args    []string
		wantMsg []string
	}{
		{"missing --out", []string{"--no-passphrase"}, []string{"--out"}},
		{"--no-passphrase with --passphrase-file", []string{"--out", "OUT", "--no-passphrase", "--passphrase-file", "PASS"}, []string{"--no-passphrase contradicts"}},
		{"--no-passphrase with --passphrase-env", []string{"--out", "OUT", "--no-passphrase", "--passphrase-env", "PALISADE_TEST_UNUSED"}, []string{"--no-passphrase contradicts"}},
		{"both passphrase sources", []string{"--out", "OUT", "--passphrase-file", "PASS", "--passphrase-env", "PALISADE_TEST_UNUSED"}, []string{"not both"}},
		{"no passphrase source, stdin not a terminal", []string{"--out", "OUT"}, []string{"--passphrase-file", "--passphrase-env", "not a terminal"}},
		{"empty passphrase file", []string{"--out", "OUT", "--passphrase-file", "EMPTY"}, []string{"empty"}},
		{"missing passphrase file", []string{"--out", "OUT", "--passphrase-file", "NOPE"}, []string{"--passphrase-file"}},
		{"unsupported curve", []string{"--out", "OUT", "--no-passphrase", "--curve", "P-224"}, []string{"P-224"}},
		{"arguments", []string{"--out", "OUT", "--no-passphrase", "extra"}, []string{"extra"}},
	}
	for _, tt := range usage {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeTestFile(t, filepath.Join(dir, "PASS"), "secret\n")
			writeTestFile(t, filepath.Join(dir, "EMPTY"), "\nsecret on the second line\n")
			r := strings.NewReplacer("OUT", filepath.Join(dir, "out"), "PASS", filepath.Join(dir, "PASS"),
				"EMPTY", filepath.Join(dir, "EMPTY"), "NOPE", filepath.Join(dir, "NOPE"))
			args := []string{"keys", "generate"}
			for _, a := range tt.args {
				args = append(args, r.Replace(a))
			}
			wantExit(t, ExitError, tt.wantMsg, args...)
			for _, f := range []string{"out.key", "out.pub"} {
				if _, err := os.Lstat(filepath.Join(dir, f)); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s written although the command failed (stat: %v)", f, err)
				}
			}
		})
	}

	t.Run("stdin is a file, not a terminal", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		stdinPath := filepath.Join(dir, "stdin")
		writeTestFile(t, stdinPath, "secret\nsecret\n")
		stdin, err := os.Open(stdinPath)
		if err != nil {
			t.Fatal(err)
		}
		defer stdin.Close()
		_, stderr, code := runCLIStdin(t, stdin, "keys", "generate", "--out", filepath.Join(dir, "out"))
		if code != ExitError {
			t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitError, stderr)
		}
		for _, want := range []string{"--passphrase-file", "--passphrase-env"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr does not name %s:\n%s", want, stderr)
			}
		}
	})
}

// TestKeysGeneratePassphraseEnv sets the environment, so it and its
// subtests cannot run in parallel.
func TestKeysGeneratePassphraseEnv(t *testing.T) {
	const env = "PALISADE_TEST_KEYS_GENERATE_PASSPHRASE"
	t.Setenv(env, "from the environment")
	dir := t.TempDir()
	priv, pub := genKeys(t, dir, "signing", "--passphrase-env", env)
	checkKeyPair(t, priv, pub, keys.P256, "from the environment")

	t.Run("sign with the same variable", func(t *testing.T) {
		model := writeModel(t, t.TempDir())
		mustRun(t, "sign", model, "--key", priv, "--passphrase-env", env)
		mustRun(t, "verify", model, "--key", pub)
	})
	t.Run("unset variable", func(t *testing.T) {
		const unset = "PALISADE_TEST_KEYS_GENERATE_UNSET"
		t.Setenv(unset, "")
		os.Unsetenv(unset) // t.Setenv restores the old state afterwards
		wantExit(t, ExitError, []string{unset, "not set"}, "keys", "generate", "--out", filepath.Join(dir, "other"), "--passphrase-env", unset)
	})
	t.Run("empty variable", func(t *testing.T) {
		const empty = "PALISADE_TEST_KEYS_GENERATE_EMPTY"
		t.Setenv(empty, "")
		wantExit(t, ExitError, []string{empty}, "keys", "generate", "--out", filepath.Join(dir, "other"), "--passphrase-env", empty)
	})
}

// signOutput is the JSON 'palisade sign --json' prints.
type signOutput struct {
	Model     string `json:"model"`
	Digest    string `json:"digest"`
	Resources int    `json:"resources"`
	Signer    string `json:"signer"`
	Signature string `json:"signature"`
}

func decodeJSON[T any](t *testing.T, data string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(data), &v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, data)
	}
	return v
}

func TestSignVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	priv, pub := genKeys(t, dir, "signing")
	hint := hintOf(t, pub)
	signer := "key sha256:" + hint

	t.Run("text", func(t *testing.T) {
		t.Parallel()
		model := writeModel(t, t.TempDir())
		stdout := mustRun(t, "sign", model, "--key", priv)
		sigPath := filepath.Join(model, "model.sig")
		for _, want := range []string{"signed " + model, "5 resources", "with " + signer, "signature: " + sigPath} {
			if !strings.Contains(stdout, want) {
				t.Errorf("sign stdout does not mention %q:\n%s", want, stdout)
			}
		}
		if _, err := os.Stat(sigPath); err != nil {
			t.Fatalf("no signature at the default path: %v", err)
		}
		stdout = mustRun(t, "verify", model, "--key", pub)
		for _, want := range []string{"verified " + model, "5 resources", "signed by " + signer} {
			if !strings.Contains(stdout, want) {
				t.Errorf("verify stdout does not mention %q:\n%s", want, stdout)
			}
		}
		// Signing again replaces the signature, which is not hashed.
		mustRun(t, "sign", model, "--key", priv)
		mustRun(t, "verify", model, "--key", pub, "--signature", sigPath)
	})

	t.Run("json", func(t *testing.T) {
		t.Parallel()
		model := writeModel(t, t.TempDir())
		sigPath := filepath.Join(t.TempDir(), "elsewhere.sig")
		signed := decodeJSON[signOutput](t, mustRun(t, "sign", model, "--key", priv, "--signature", sigPath, "--json"))
		if !strings.HasPrefix(signed.Digest, "sha256:") || len(signed.Digest) != len("sha256:")+64 {
			t.Errorf("sign --json digest = %q, want sha256:<64 hex>", signed.Digest)
		}
		want := signOutput{Model: model, Digest: signed.Digest, Resources: len(modelFiles), Signer: signer, Signature: sigPath}
		if diff := cmp.Diff(signed, want); diff != "" {
			t.Errorf("sign --json (-got +want):\n%s", diff)
		}

		// 'palisade digest' gives the digest the signature carries.
		if got := strings.TrimSpace(mustRun(t, "digest", model)); got != signed.Digest {
			t.Errorf("palisade digest = %s, sign --json digest = %s", got, signed.Digest)
		}

		verified := decodeJSON[verifyResult](t, mustRun(t, "verify", model, "--key", pub, "--signature", sigPath, "--json"))
		wantV := verifyResult{Verified: true, Model: model, Digest: signed.Digest, Resources: len(modelFiles), Signer: signer}
		if diff := cmp.Diff(verified, wantV); diff != "" {
			t.Errorf("verify --json (-got +want):\n%s", diff)
		}
	})

	t.Run("digest ignores the default signature", func(t *testing.T) {
		t.Parallel()
		model := writeModel(t, t.TempDir())
		signed := decodeJSON[signOutput](t, mustRun(t, "sign", model, "--key", priv, "--json"))
		if got := strings.TrimSpace(mustRun(t, "digest", model)); got != signed.Digest {
			t.Errorf("palisade digest after signing = %s, sign --json digest = %s", got, signed.Digest)
		}
	})

	t.Run("single file model", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		file := filepath.Join(dir, "weights.bin")
		writeTestFile(t, file, modelFiles["weights.bin"])
		signed := decodeJSON[signOutput](t, mustRun(t, "sign", file, "--key", priv, "--json"))
		if want := filepath.Join(dir, "model.sig"); signed.Signature != want {
			t.Errorf("signature of a single file at %s, want %s", signed.Signature, want)
		}
		mustRun(t, "verify", file, "--key", pub)
	})
}

func TestSignEncryptedKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	passFile := filepath.Join(dir, "pass")
	writeTestFile(t, passFile, "correct horse\n")
	wrongFile := filepath.Join(dir, "wrong")
	writeTestFile(t, wrongFile, "correct horse battery\n")
	priv, pub := genKeys(t, dir, "signing", "--passphrase-file", passFile)

	t.Run("right passphrase", func(t *testing.T) {
		t.Parallel()
		model := writeModel(t, t.TempDir())
		mustRun(t, "sign", model, "--key", priv, "--passphrase-file", passFile)
		stdout := mustRun(t, "verify", model, "--key", pub)
		if !strings.Contains(stdout, "signed by key sha256:"+hintOf(t, pub)) {
			t.Errorf("verify stdout does not name the signer:\n%s", stdout)
		}
	})
	failures := []struct {
		name    string
		args    []string
		wantMsg []string
	}{
		{"wrong passphrase", []string{"--passphrase-file", wrongFile}, []string{"passphrase is missing or wrong"}},
		{"no passphrase, stdin not a terminal", nil, []string{"--passphrase-file", "--passphrase-env"}},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			model := writeModel(t, t.TempDir())
			args := append([]string{"sign", model, "--key", priv}, tt.args...)
			_, stderr := wantExit(t, ExitError, tt.wantMsg, args...)
			if strings.Contains(stderr, "correct horse") {
				t.Errorf("stderr shows a passphrase:\n%s", stderr)
			}
			if _, err := os.Stat(filepath.Join(model, "model.sig")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a signature was written although signing failed (stat: %v)", err)
			}
		})
	}
}

func TestVerifyFailures(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	priv, pub := genKeys(t, dir, "signing")
	_, otherPub := genKeys(t, dir, "other")

	// signed writes and signs a new model and returns its path.
	signed := func(t *testing.T) string {
		t.Helper()
		model := writeModel(t, t.TempDir())
		mustRun(t, "sign", model, "--key", priv)
		return model
	}

	tests := []struct {
		name    string
		mutate  func(t *testing.T, model string)
		args    []string // extra verify arguments
		wantMsg []string
	}{
		{
			name: "one byte changed",
			mutate: func(t *testing.T, model string) {
				p := filepath.Join(model, "sub", "deeper", "vocab.txt")
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				b[0] ^= 1
				if err := os.WriteFile(p, b, 0o644); err != nil {
					t.Fatal(err)
				}
			},
			wantMsg: []string{"verification failed", "changed files", "sub/deeper/vocab.txt"},
		},
		{
			name: "file added",
			mutate: func(t *testing.T, model string) {
				writeTestFile(t, filepath.Join(model, "sub", "backdoor.py"), "import os\n")
			},
			wantMsg: []string{"verification failed", "extra files", "sub/backdoor.py"},
		},
		{
			name: "file removed",
			mutate: func(t *testing.T, model string) {
				if err := os.Remove(filepath.Join(model, "config.json")); err != nil {
					t.Fatal(err)
				}
			},
			wantMsg: []string{"verification failed", "missing files", "config.json"},
		},
		{
			name: "file renamed",
			mutate: func(t *testing.T, model string) {
				if err := os.Rename(filepath.Join(model, "sub", "tokenizer.json"), filepath.Join(model, "sub", "tokenizer2.json")); err != nil {
					t.Fatal(err)
				}
			},
			wantMsg: []string{"verification failed", "extra files", "sub/tokenizer2.json", "missing files", "sub/tokenizer.json"},
		},
		{
			name:    "another key",
			args:    []string{"--key", otherPub},
			wantMsg: []string{"verification failed", "different key"},
		},
		{
			name: "signature truncated",
			mutate: func(t *testing.T, model string) {
				p := filepath.Join(model, "model.sig")
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, b[:len(b)/2], 0o644); err != nil {
					t.Fatal(err)
				}
			},
			wantMsg: []string{"verification failed", "malformed signature file"},
		},
		{
			name: "signature of another model",
			mutate: func(t *testing.T, model string) {
				// A valid signature by the right key, over a model with
				// one more file.
				other := writeModel(t, t.TempDir())
				writeTestFile(t, filepath.Join(other, "extra.txt"), "x")
				mustRun(t, "sign", other, "--key", priv)
				b, err := os.ReadFile(filepath.Join(other, "model.sig"))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(model, "model.sig"), b, 0o644); err != nil {
					t.Fatal(err)
				}
			},
			wantMsg: []string{"verification failed", "missing files", "extra.txt"},
		},
		{
			name: "symlink added",
			mutate: func(t *testing.T, model string) {
				if runtime.GOOS == "windows" {
					t.Skip("symlinks need privileges on Windows")
				}
				if err := os.Symlink("config.json", filepath.Join(model, "alias.json")); err != nil {
					t.Fatal(err)
				}
			},
			wantMsg: []string{"verification failed", "alias.json", "symlink"},
		},
		{
			name: "changed file with --ignore-unsigned-files",
			mutate: func(t *testing.T, model string) {
				writeTestFile(t, filepath.Join(model, "config.json"), `{"architecture": "evil"}`)
				writeTestFile(t, filepath.Join(model, "unsigned.txt"), "tolerated")
			},
			args:    []string{"--ignore-unsigned-files"},
			wantMsg: []string{"verification failed", "changed files", "config.json"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			model := signed(t)
			if tt.mutate != nil {
				tt.mutate(t, model)
			}
			args := []string{"verify", model}
			if !hasFlag(tt.args, "--key") {
				args = append(args, "--key", pub)
			}
			args = append(args, tt.args...)
			stdout, stderr := wantExit(t, ExitFindings, tt.wantMsg, args...)
			if stdout != "" {
				t.Errorf("verify printed on stdout although it failed:\n%s", stdout)
			}
			if strings.Contains(stderr, "verified ") {
				t.Errorf("stderr claims success:\n%s", stderr)
			}
		})
	}

	t.Run("--ignore-unsigned-files tolerates an added file", func(t *testing.T) {
		t.Parallel()
		model := signed(t)
		writeTestFile(t, filepath.Join(model, "README.md"), "added after signing")
		writeTestFile(t, filepath.Join(model, "new", "dir", "file"), "added after signing")
		wantExit(t, ExitFindings, []string{"extra files", "README.md"}, "verify", model, "--key", pub)
		mustRun(t, "verify", model, "--key", pub, "--ignore-unsigned-files")
	})

	t.Run("--json on a mismatch", func(t *testing.T) {
		t.Parallel()
		model := signed(t)
		writeTestFile(t, filepath.Join(model, "weights.bin"), "replaced")
		writeTestFile(t, filepath.Join(model, "added.txt"), "new")
		if err := os.Remove(filepath.Join(model, "sub", "tokenizer.json")); err != nil {
			t.Fatal(err)
		}
		stdout, _ := wantExit(t, ExitFindings, []string{"verification failed"}, "verify", model, "--key", pub, "--json")
		got := decodeJSON[verifyResult](t, stdout)
		want := verifyResult{
			Verified: false,
			Model:    model,
			Error:    "verification failed: the model does not match the signature",
			Extra:    []string{"added.txt"},
			Missing:  []string{"sub/tokenizer.json"},
			Changed:  []string{"weights.bin"},
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("verify --json (-got +want):\n%s", diff)
		}
		// verified must be present as false, not left out.
		var raw map[string]any
		if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
			t.Fatal(err)
		}
		if v, ok := raw["verified"]; !ok || v != false {
			t.Errorf("verify --json verified = %v (present %v), want false", v, ok)
		}
	})

	t.Run("--json with another key", func(t *testing.T) {
		t.Parallel()
		model := signed(t)
		stdout, _ := wantExit(t, ExitFindings, []string{"different key"}, "verify", model, "--key", otherPub, "--json")
		got := decodeJSON[verifyResult](t, stdout)
		if got.Verified || got.Model != model || !strings.Contains(got.Error, "different key") {
			t.Errorf("verify --json = %+v, want verified=false and an error naming a different key", got)
		}
	})

	t.Run("key signature checked with --cert-chain", func(t *testing.T) {
		t.Parallel()
		model := signed(t)
		ca := newCA(t, "Palisade Test Root CA")
		caPath := filepath.Join(t.TempDir(), "root.pem")
		writeCerts(t, caPath, ca.cert)
		wantExit(t, ExitFindings, []string{"another signing method"}, "verify", model, "--cert-chain", caPath)
	})
}

func hasFlag(args []string, flag string) bool {
	for _, a := range args {
		if a == flag {
			return true
		}
	}
	return false
}

func TestVerifyUsageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	priv, pub := genKeys(t, dir, "signing")
	model := writeModel(t, dir)
	mustRun(t, "sign", model, "--key", priv)
	unsigned := writeModel(t, t.TempDir())
	missing := filepath.Join(dir, "nope.sig")

	tests := []struct {
		name    string
		args    []string
		wantMsg []string
	}{
		{"no method", []string{"verify", model}, []string{"choose exactly one way to verify"}},
		{"two methods", []string{"verify", model, "--key", pub, "--cert-chain", pub}, []string{"choose exactly one way to verify"}},
		{"key and identity", []string{"verify", model, "--key", pub, "--identity", "me@example.com"}, []string{"choose exactly one way to verify"}},
		{"missing signature file", []string{"verify", model, "--key", pub, "--signature", missing}, []string{"read signature", "nope.sig"}},
		{"model without model.sig", []string{"verify", unsigned, "--key", pub}, []string{"read signature", "model.sig"}},
		{"--cert-valid-now without --cert-chain", []string{"verify", model, "--key", pub, "--cert-valid-now"}, []string{"--cert-valid-now", "--cert-chain"}},
		{"missing public key", []string{"verify", model, "--key", filepath.Join(dir, "nope.pub")}, []string{"nope.pub"}},
		{"no PATH", []string{"verify", "--key", pub}, []string{"exactly one PATH"}},
		{"two PATHs", []string{"verify", model, model, "--key", pub}, []string{"exactly one PATH"}},
		{"incomplete keyless", []string{"verify", model, "--identity", "me@example.com"}, []string{"--issuer", "--trusted-root"}},
		{"negative workers", []string{"verify", model, "--key", pub, "--workers", "-1"}, []string{"--workers"}},
		{"sign without a key", []string{"sign", model}, []string{"--key"}},
		{"sign --cert-chain without --cert", []string{"sign", model, "--key", priv, "--cert-chain", pub}, []string{"--cert-chain needs --cert"}},
		{"sign with a public key", []string{"sign", model, "--key", pub}, []string{"no PEM block"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantExit(t, ExitError, tt.wantMsg, tt.args...)
		})
	}
}

// testCA is a certificate authority made for a test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func nextSerial(t *testing.T) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n.Add(n, big.NewInt(1))
}

func newCA(t *testing.T, cn string) testCA {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(t),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-2 * time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return testCA{cert: c, key: k}
}

// issue makes a leaf certificate for the public key in the file pub.
func (ca testCA) issue(t *testing.T, cn, pub string, usage x509.KeyUsage, ext []x509.ExtKeyUsage) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(pub)
	if err != nil {
		t.Fatal(err)
	}
	p, err := keys.ParsePublic(data)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(t),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(12 * time.Hour),
		BasicConstraintsValid: true,
		KeyUsage:              usage,
		ExtKeyUsage:           ext,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, p, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeCerts(t *testing.T, path string, certs ...*x509.Certificate) {
	t.Helper()
	var b bytes.Buffer
	for _, c := range certs {
		if err := pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCertificateMethod(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	root := newCA(t, "Palisade Test Root CA")
	rootPath := filepath.Join(dir, "root.pem")
	writeCerts(t, rootPath, root.cert)
	other := newCA(t, "Unrelated CA")
	otherPath := filepath.Join(dir, "other.pem")
	writeCerts(t, otherPath, other.cert)

	priv, pub := genKeys(t, dir, "leaf")
	leaf := root.issue(t, "model-signer", pub, x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning})
	leafPath := filepath.Join(dir, "leaf.pem")
	writeCerts(t, leafPath, leaf)

	model := writeModel(t, dir)
	stdout := mustRun(t, "sign", model, "--key", priv, "--cert", leafPath, "--cert-chain", rootPath)
	wantSigner := `certificate "CN=model-signer" issued by "CN=Palisade Test Root CA"`
	if !strings.Contains(stdout, wantSigner) {
		t.Errorf("sign stdout does not name the signer %s:\n%s", wantSigner, stdout)
	}

	t.Run("verify with the root", func(t *testing.T) {
		t.Parallel()
		stdout := mustRun(t, "verify", model, "--cert-chain", rootPath)
		if !strings.Contains(stdout, "signed by "+wantSigner) {
			t.Errorf("verify stdout does not name the signer %s:\n%s", wantSigner, stdout)
		}
	})
	t.Run("verify with the root, valid now", func(t *testing.T) {
		t.Parallel()
		mustRun(t, "verify", model, "--cert-chain", rootPath, "--cert-valid-now")
	})
	t.Run("verify with --json", func(t *testing.T) {
		t.Parallel()
		got := decodeJSON[verifyResult](t, mustRun(t, "verify", model, "--cert-chain", rootPath, "--json"))
		if !got.Verified || !strings.HasPrefix(got.Signer, wantSigner) {
			t.Errorf("verify --json = %+v, want verified=true by %s", got, wantSigner)
		}
	})
	t.Run("verify with the leaf's public key", func(t *testing.T) {
		t.Parallel()
		mustRun(t, "verify", model, "--key", pub)
	})
	t.Run("verify against an unrelated CA", func(t *testing.T) {
		t.Parallel()
		wantExit(t, ExitFindings, []string{"verification failed", "not trusted"}, "verify", model, "--cert-chain", otherPath)
	})
	t.Run("verify with another key", func(t *testing.T) {
		t.Parallel()
		_, otherPub := genKeys(t, t.TempDir(), "other")
		wantExit(t, ExitFindings, []string{"verification failed", "another public key"}, "verify", model, "--key", otherPub)
	})

	leafUsage := []struct {
		name  string
		usage x509.KeyUsage
		ext   []x509.ExtKeyUsage
		ok    bool
	}{
		{"codeSigning only", 0, []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, true},
		{"digitalSignature only", x509.KeyUsageDigitalSignature, nil, true},
		{"neither", x509.KeyUsageKeyEncipherment, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, false},
	}
	for _, tt := range leafUsage {
		t.Run("leaf with "+tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			priv, pub := genKeys(t, dir, "leaf")
			leafPath := filepath.Join(dir, "leaf.pem")
			writeCerts(t, leafPath, root.issue(t, "leaf "+tt.name, pub, tt.usage, tt.ext))
			model := writeModel(t, dir)
			args := []string{"sign", model, "--key", priv, "--cert", leafPath, "--cert-chain", rootPath}
			if tt.ok {
				mustRun(t, args...)
				mustRun(t, "verify", model, "--cert-chain", rootPath)
				return
			}
			wantExit(t, ExitError, []string{"not valid for signing", "digitalSignature", "codeSigning"}, args...)
			if _, err := os.Stat(filepath.Join(model, "model.sig")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a signature was written with an unusable certificate (stat: %v)", err)
			}
		})
	}

	t.Run("certificate of another key", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		otherPriv, _ := genKeys(t, dir, "other")
		model := writeModel(t, dir)
		wantExit(t, ExitError, []string{"not for this private key"},
			"sign", model, "--key", otherPriv, "--cert", leafPath, "--cert-chain", rootPath)
	})
}
