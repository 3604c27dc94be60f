package client

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveServer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in        string
		plain     bool
		wantURL   string
		wantError string
	}{
		{in: "127.0.0.1:8700", wantURL: "http://127.0.0.1:8700"},
		{in: "localhost:8700", wantURL: "http://localhost:8700"},
		{in: "[::1]:8700", wantURL: "http://[::1]:8700"},
		{in: "registry.example.com", wantURL: "https://registry.example.com"},
		{in: "https://registry.example.com:8443", wantURL: "https://registry.example.com:8443"},
		{in: "http://registry.example.com", wantError: "refusing plain HTTP"},
		{in: "http://registry.example.com", plain: true, wantURL: "http://registry.example.com"},
		{in: "http://127.0.0.1:8700/", wantURL: "http://127.0.0.1:8700"},
		{in: "ftp://x", wantError: "scheme must be http or https"},
		{in: "https://x/path", wantError: "only the scheme, host and port"},
		{in: "host/project", wantError: "HOST:PORT or a URL"},
		{in: "", wantError: "PALISADE_SERVER"},
	}
	for _, tt := range tests {
		got, err := ResolveServer(tt.in, tt.plain)
		if tt.wantError != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantError) {
				t.Errorf("ResolveServer(%q) error = %v, want %q", tt.in, err, tt.wantError)
			}
			continue
		}
		if err != nil || got.Base.String() != tt.wantURL || got.PlainHTTP != strings.HasPrefix(tt.wantURL, "http:") {
			t.Errorf("ResolveServer(%q) = %+v, %v; want %s", tt.in, got, err, tt.wantURL)
		}
	}
}

func TestParseReference(t *testing.T) {
	t.Parallel()
	r, err := ParseReference("127.0.0.1:8700/vision/detector/yolo:v1")
	if err != nil || r.Registry != "127.0.0.1:8700" || r.Project() != "vision" || r.Name() != "detector/yolo" || r.Reference.Reference != "v1" {
		t.Errorf("ParseReference = %+v, %v", r, err)
	}
	for _, bad := range []string{"127.0.0.1:8700/onlyname:v1", "no-registry", "127.0.0.1:8700/P/N:v1"} {
		if _, err := ParseReference(bad); err == nil {
			t.Errorf("ParseReference(%q) accepted", bad)
		}
	}
}

func TestCredentials(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "palisade", "credentials.json")
	noEnv := func(string) (string, bool) { return "", false }
	if _, err := Token("h:1", path, noEnv); err == nil || !strings.Contains(err.Error(), "palisade login h:1") {
		t.Errorf("Token without credentials = %v, want a hint to log in", err)
	}
	c, err := LoadCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	c.Servers["h:1"] = Credential{Token: "pal_fake-token-for-tests"}
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials mode = %v, %v; want 0600", fi.Mode(), err)
	}
	if tok, err := Token("h:1", path, noEnv); err != nil || tok != "pal_fake-token-for-tests" {
		t.Errorf("Token = %q, %v", tok, err)
	}
	env := func(k string) (string, bool) { return "pal_from-env", k == EnvToken }
	if tok, _ := Token("h:1", path, env); tok != "pal_from-env" {
		t.Errorf("Token with %s = %q, want the environment's", EnvToken, tok)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCredentials(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("LoadCredentials of a world-readable file = %v, want a chmod hint", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCredentials(path); err == nil || !strings.Contains(err.Error(), "log in again") {
		t.Errorf("LoadCredentials of bad JSON = %v", err)
	}
}
