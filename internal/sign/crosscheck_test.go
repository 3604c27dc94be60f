package sign

import (
	"crypto/elliptic"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/sign/keys"
	"github.com/palisade-sec/palisade/internal/sign/manifest"
)

// requirePythonCryptography returns the python3 to run, or skips when
// python3 with the cryptography package is missing and
// PALISADE_TEST_REQUIRE does not list python-cryptography (CI lists it,
// and .ci/run installs it).
func requirePythonCryptography(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err == nil {
		err = exec.Command(py, "-c", "import cryptography").Run()
	}
	if err != nil {
		if strings.Contains(os.Getenv("PALISADE_TEST_REQUIRE"), "python-cryptography") {
			t.Fatalf("python3 with the cryptography package is required: %v", err)
		}
		t.Skipf("python3 with the cryptography package is not installed (%v); apt-get install python3-cryptography", err)
	}
	return py
}

// TestCrossCheckWithPython verifies Palisade's signatures with a second,
// independent implementation of the reference verifier's key checks
// (scripts/crosscheck-oms.py, Python and OpenSSL through cryptography),
// and checks that it rejects a tampered model.
func TestCrossCheckWithPython(t *testing.T) {
	t.Parallel()
	py := requirePythonCryptography(t)
	script, err := filepath.Abs("../../scripts/crosscheck-oms.py")
	if err != nil {
		t.Fatal(err)
	}
	for _, curve := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		for _, h := range []manifest.Hash{manifest.SHA256, manifest.BLAKE2b} {
			for _, shard := range []int64{0, 50} {
				name := fmt.Sprintf("%s/%s/shards-%d", curve.Params().Name, h, shard)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					k := mustKey(t, curve)
					pair := keyPair(t, k)
					dir := writeModel(t)
					opts := manifest.Options{Hash: h}
					if shard > 0 {
						opts.Method, opts.ShardSize = manifest.Shards, shard
					}
					sigPath, _ := signModel(t, dir, pair.signer, opts)
					pub, err := keys.EncodePublic(&k.PublicKey)
					if err != nil {
						t.Fatal(err)
					}
					pubPath := filepath.Join(t.TempDir(), "key.pub")
					if err := os.WriteFile(pubPath, pub, 0o644); err != nil {
						t.Fatal(err)
					}
					out, err := exec.Command(py, script, dir, sigPath, pubPath).CombinedOutput()
					if err != nil || !strings.HasPrefix(string(out), "OK:") {
						t.Fatalf("crosscheck rejected Palisade's signature: %v\n%s", err, out)
					}
					flipByte(t, filepath.Join(dir, "config.json"), 3)
					out, err = exec.Command(py, script, dir, sigPath, pubPath).CombinedOutput()
					var exit *exec.ExitError
					if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "changed") {
						t.Fatalf("crosscheck accepted a tampered model: %v\n%s", err, out)
					}
				})
			}
		}
	}
}
