package keys_test

import (
	"bufio"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/sign/keys"
)

// umask reads the process umask from /proc/self/status (Linux), without
// changing it as syscall.Umask would; ok is false where it is unknown.
func umask(t *testing.T) (mask os.FileMode, ok bool) {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, found := strings.CutPrefix(s.Text(), "Umask:"); found {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			if err != nil {
				return 0, false
			}
			return os.FileMode(n), true
		}
	}
	return 0, false
}

// checkMode checks the permission bits of path: exactly want less the
// umask where the umask is known, else no bits beyond want.
func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	if runtime.GOOS == "windows" {
		return // no Unix permission bits
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() {
		t.Errorf("%s is %v, want a regular file", path, fi.Mode())
	}
	got := fi.Mode().Perm()
	if m, ok := umask(t); ok {
		if got != want&^m {
			t.Errorf("%s mode = %#o, want %#o (%#o less umask %#o)", path, got, want&^m, want, m)
		}
	} else if got&^want != 0 {
		t.Errorf("%s mode = %#o, want no bits beyond %#o", path, got, want)
	}
}

// dirState maps each name in dir to its content ("<link>" for symlinks,
// "<dir>" for directories).
func dirState(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			out[e.Name()] = "<link>"
		case e.IsDir():
			out[e.Name()] = "<dir>"
		default:
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = string(b)
		}
	}
	return out
}

// checkPair checks that p holds a matching key pair on curve c, the
// private key encrypted with pass when it is not empty.
func checkPair(t *testing.T, p keys.Pair, c keys.Curve, pass string) {
	t.Helper()
	checkMode(t, p.Private, 0o600)
	checkMode(t, p.Public, 0o644)
	privPEM, err := os.ReadFile(p.Private)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := os.ReadFile(p.Public)
	if err != nil {
		t.Fatal(err)
	}
	if pass != "" {
		if _, err := keys.ParsePrivate(privPEM, nil); !errors.Is(err, keys.ErrPassphrase) {
			t.Errorf("the private key reads without a passphrase (error %v): it is not encrypted", err)
		}
	}
	priv, err := keys.ParsePrivate(privPEM, passphrase(pass))
	if err != nil {
		t.Fatalf("read %s: %v", p.Private, err)
	}
	pub, err := keys.ParsePublic(pubPEM)
	if err != nil {
		t.Fatalf("read %s: %v", p.Public, err)
	}
	if !priv.PublicKey.Equal(pub) {
		t.Errorf("%s is not the public key of %s", p.Public, p.Private)
	}
	if got, err := keys.CurveOf(pub); err != nil || got != c {
		t.Errorf("key curve = %q, %v; want %q", got, err, c)
	}
}

func TestPairFiles(t *testing.T) {
	t.Parallel()
	got := keys.PairFiles(filepath.Join("dir", "signing"))
	want := keys.Pair{Private: filepath.Join("dir", "signing.key"), Public: filepath.Join("dir", "signing.pub")}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("PairFiles (-got +want):\n%s", diff)
	}
}

func TestWritePair(t *testing.T) {
	t.Parallel()
	tests := []struct {
		curve keys.Curve
		pass  string
	}{
		{keys.P256, ""},
		{keys.P384, "s3cret"},
		{keys.P521, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.curve), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			name := filepath.Join(dir, "signing")
			p, err := keys.WritePair(name, tt.curve, []byte(tt.pass), rand.Reader, false)
			if err != nil {
				t.Fatalf("WritePair: %v", err)
			}
			if diff := cmp.Diff(p, keys.PairFiles(name)); diff != "" {
				t.Errorf("WritePair pair (-got +want):\n%s", diff)
			}
			checkPair(t, p, tt.curve, tt.pass)
			var names []string
			for n := range dirState(t, dir) {
				names = append(names, n)
			}
			slices.Sort(names)
			if diff := cmp.Diff(names, []string{"signing.key", "signing.pub"}); diff != "" {
				t.Errorf("files in the directory (-got +want):\n%s", diff)
			}
		})
	}
}

func TestWritePairRefusesToOverwrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, p keys.Pair)
	}{
		{"private key exists", func(t *testing.T, p keys.Pair) {
			writeFile(t, p.Private, "old private", 0o644)
		}},
		{"public key exists", func(t *testing.T, p keys.Pair) {
			writeFile(t, p.Public, "old public", 0o644)
		}},
		{"both exist", func(t *testing.T, p keys.Pair) {
			writeFile(t, p.Private, "old private", 0o600)
			writeFile(t, p.Public, "old public", 0o644)
		}},
		{"dangling symlink as the private key", func(t *testing.T, p keys.Pair) {
			if runtime.GOOS == "windows" {
				t.Skip("symlinks need privileges on Windows")
			}
			if err := os.Symlink(filepath.Join(filepath.Dir(p.Private), "elsewhere"), p.Private); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			name := filepath.Join(dir, "signing")
			want := keys.PairFiles(name)
			tt.setup(t, want)
			before := dirState(t, dir)

			p, err := keys.WritePair(name, keys.P256, nil, rand.Reader, false)
			if err == nil {
				t.Fatal("WritePair overwrote existing files")
			}
			if !strings.Contains(err.Error(), "exists") {
				t.Errorf("WritePair error %q does not say a file exists", err)
			}
			if diff := cmp.Diff(p, keys.Pair{}); diff != "" {
				t.Errorf("WritePair returned a pair with its error (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(dirState(t, dir), before); diff != "" {
				t.Errorf("WritePair changed the directory while refusing (-got +want):\n%s", diff)
			}

			p, err = keys.WritePair(name, keys.P256, nil, rand.Reader, true)
			if err != nil {
				t.Fatalf("WritePair(overwrite): %v", err)
			}
			if diff := cmp.Diff(p, want); diff != "" {
				t.Errorf("WritePair(overwrite) pair (-got +want):\n%s", diff)
			}
			// The old modes do not survive: the private key is 0600 even
			// where the file it replaced was 0644.
			checkPair(t, p, keys.P256, "")
			if _, err := os.Stat(filepath.Join(dir, "elsewhere")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("WritePair(overwrite) wrote through a symlink: %v", err)
			}
		})
	}
}

func TestWritePairLeavesNothingOnFailure(t *testing.T) {
	t.Parallel()
	t.Run("missing directory", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		name := filepath.Join(dir, "absent", "signing")
		if _, err := keys.WritePair(name, keys.P256, nil, rand.Reader, false); err == nil {
			t.Fatal("WritePair into a missing directory succeeded")
		}
		if diff := cmp.Diff(dirState(t, dir), map[string]string{}); diff != "" {
			t.Errorf("files left behind (-got +want):\n%s", diff)
		}
	})
	t.Run("public key cannot be written", func(t *testing.T) {
		t.Parallel()
		// NAME.pub is a non-empty directory: with overwrite the private
		// key is written first, then the public key fails, and the
		// private key must go again.
		dir := t.TempDir()
		name := filepath.Join(dir, "signing")
		p := keys.PairFiles(name)
		if err := os.Mkdir(p.Public, 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(p.Public, "keep"), "x", 0o644)
		if _, err := keys.WritePair(name, keys.P256, nil, rand.Reader, true); err == nil {
			t.Fatal("WritePair succeeded although NAME.pub is a non-empty directory")
		}
		if _, err := os.Lstat(p.Private); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left behind after the public key failed (stat: %v)", p.Private, err)
		}
		if diff := cmp.Diff(dirState(t, p.Public), map[string]string{"keep": "x"}); diff != "" {
			t.Errorf("NAME.pub directory changed (-got +want):\n%s", diff)
		}
	})
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}
