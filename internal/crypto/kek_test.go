package crypto_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/palisade-sec/palisade/internal/crypto"
)

func TestLocalKEK(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "kek")
	url, err := crypto.LocalKEK(path)
	if err != nil {
		t.Fatalf("LocalKEK (create): %v", err)
	}
	if !strings.HasPrefix(url, "base64key://") {
		t.Fatalf("LocalKEK returned a URL with the wrong scheme")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %04o, want 0600", fi.Mode().Perm())
	}
	if fi.Size() != 32 {
		t.Errorf("key file size = %d, want 32", fi.Size())
	}
	again, err := crypto.LocalKEK(path)
	if err != nil {
		t.Fatalf("LocalKEK (reuse): %v", err)
	}
	if again != url {
		t.Error("LocalKEK returned a different key for the same file")
	}
	// The URL opens a working keeper.
	k, err := crypto.OpenKeeper(t.Context(), url)
	if err != nil {
		t.Fatalf("OpenKeeper: %v", err)
	}
	defer k.Close()
	e, err := crypto.NewEnvelope(k, crypto.Options{KeyID: "local"})
	if err != nil {
		t.Fatal(err)
	}
	ct, wrapped := encrypt(t, e, []byte("hello"), nil)
	if got, err := decrypt(t.Context(), e, ct, wrapped, nil); err != nil || string(got) != "hello" {
		t.Errorf("round trip = %q, %v", got, err)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the key file (temporary files left behind?)", len(entries))
	}
}

func TestLocalKEKRefuses(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX permissions")
	}
	t.Parallel()
	key := bytes.Repeat([]byte{0x42}, 32)
	tests := []struct {
		name    string
		content []byte
		mode    os.FileMode
		wantMsg string
	}{
		{"world-readable", key, 0o644, "chmod 600"},
		{"group-readable", key, 0o640, "chmod 600"},
		{"too short", key[:31], 0o600, "exactly 32 bytes"},
		{"too long", append(bytes.Clone(key), '\n'), 0o600, "exactly 32 bytes"},
		{"empty", nil, 0o600, "exactly 32 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "kek")
			if err := os.WriteFile(path, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			url, err := crypto.LocalKEK(path)
			if err == nil {
				t.Fatalf("LocalKEK succeeded, want an error")
			}
			if url != "" {
				t.Error("LocalKEK returned a URL with its error")
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error = %q, want it to mention %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "QkJC") || strings.Contains(err.Error(), "BBBB") {
				t.Errorf("error %q contains key material", err)
			}
		})
	}
	t.Run("directory", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "kek")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := crypto.LocalKEK(dir); err == nil {
			t.Error("LocalKEK of a directory succeeded")
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		t.Parallel()
		if _, err := crypto.LocalKEK(filepath.Join(t.TempDir(), "no", "kek")); err == nil {
			t.Error("LocalKEK in a missing directory succeeded")
		}
	})
}

func TestLocalKEKConcurrentCreate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "kek")
	const n = 8
	urls := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { urls[i], errs[i] = crypto.LocalKEK(path) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("LocalKEK #%d: %v", i, errs[i])
		}
		if urls[i] != urls[0] {
			t.Fatalf("concurrent LocalKEK calls returned different keys")
		}
	}
}

func TestOpenKeeper(t *testing.T) {
	t.Parallel()
	secret := "c2VjcmV0LWtleS1tYXRlcmlhbC10aGF0LWlzLWxvbmc="
	tests := []struct {
		name string
		url  string
		want error // nil: any error
	}{
		{"cloud scheme not compiled in", "awskms://alias/palisade", crypto.ErrUnavailable},
		{"unknown scheme", "rot13://x", crypto.ErrUnavailable},
		{"no key", "base64key://", nil},
		{"short key", "base64key://" + secret[:20], nil},
		{"not base64", "base64key://" + secret + "!!", nil},
		{"query parameter", "base64key://" + secret + "?x=" + secret, nil},
		{"no scheme", secret, nil},
		{"malformed", "base64key://" + secret + "%zz", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := crypto.OpenKeeper(t.Context(), tt.url)
			if err == nil {
				k.Close()
				t.Fatal("OpenKeeper succeeded, want an error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), secret[:16]) {
				t.Errorf("error %q contains key material", err)
			}
		})
	}
}
