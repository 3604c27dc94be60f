package cli

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/testutil/oidctest"
)

// TestLoginSSO runs 'palisade login --sso' against a live server whose
// single sign-on uses the real test provider: the command shows a code,
// the user approves it at the provider, and the issued token is stored
// and works. It sets environment variables, so it does not run in
// parallel.
func TestLoginSSO(t *testing.T) {
	idp := oidctest.Start(t)
	idp.RequireDevice(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	secret := filepath.Join(t.TempDir(), "oidc-secret")
	c := idp.DeviceClient()
	if err := os.WriteFile(secret, []byte(c.Secret), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.DefaultServer()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.Listen = addr
	cfg.OIDC = config.OIDC{Issuer: idp.Issuer(), ClientID: c.ID, ClientSecretFile: secret, RedirectURL: idp.RedirectURL()}
	runLiveServer(t, cfg)

	useHome(t)
	t.Setenv("PALISADE_TOKEN", "")

	pr, pw := io.Pipe()
	var out strings.Builder
	done := make(chan int, 1)
	go func() {
		code := run(t.Context(), []string{"login", "--sso", addr}, &fakeServices{}, strings.NewReader(""), &out, pw)
		pw.Close()
		done <- code
	}()
	codeLine := regexp.MustCompile(`open (\S+) and enter the code (\S+)`)
	sc := bufio.NewScanner(pr)
	approved := false
	for sc.Scan() {
		if m := codeLine.FindStringSubmatch(sc.Text()); m != nil && !approved {
			user := idp.Users()[0]
			if err := idp.ApproveDevice(t.Context(), m[2], user.Username, user.Password); err != nil {
				t.Fatalf("approve %s: %v", m[2], err)
			}
			approved = true
		}
	}
	select {
	case code := <-done:
		if code != ExitOK || !approved {
			t.Fatalf("login --sso = %d (approved %v), stdout %q", code, approved, out.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("login --sso did not finish")
	}
	if !strings.Contains(out.String(), "Logged in to "+addr+" as "+idp.Users()[0].Username) {
		t.Errorf("login --sso printed %q", out.String())
	}
	// The stored token works for the next command.
	stdout, stderr, code := runCLI(t, t.Context(), "whoami", "--server", addr)
	if code != ExitOK || !strings.Contains(stdout, idp.Users()[0].Username) {
		t.Errorf("whoami after login --sso = %d\n%s\n%s", code, stdout, stderr)
	}
}
