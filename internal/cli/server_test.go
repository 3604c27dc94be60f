package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/config"
)

// serverServices records the configuration 'palisade server' passes down.
type serverServices struct {
	fakeServices
	got  *config.Server
	err  error
	wait bool // block until the context is done
}

func (s *serverServices) Server(ctx context.Context, cfg config.Server, out, _ io.Writer) error {
	s.got = &cfg
	_, _ = io.WriteString(out, "started\n")
	if s.wait {
		<-ctx.Done()
	}
	return s.err
}

func runServer(t *testing.T, ctx context.Context, svc *serverServices, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := newServerCommand(svc, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.ExecuteContext(ctx)
	code = ExitOK
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		code = ee.code
		errOut.WriteString(ee.err.Error())
	case err != nil:
		code = ExitError
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), code
}

func TestServerConfigPrecedence(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "server.yaml")
	if err := os.WriteFile(file, []byte("listen: 127.0.0.1:1111\ndata: /file/data\nlog_level: debug\nblobs: file:///file/blobs\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	token := strings.Repeat("k", 32)
	env := map[string]string{config.EnvListen: "127.0.0.1:2222", config.EnvData: "/env/data", config.EnvAdminToken: token}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want func(*config.Server)
	}{
		{"defaults", nil, nil, func(*config.Server) {}},
		{"file", nil, []string{"--config", file}, func(c *config.Server) {
			c.Listen, c.DataDir, c.LogLevel, c.Blobs = "127.0.0.1:1111", "/file/data", "debug", "file:///file/blobs"
		}},
		{"env over file", env, []string{"--config", file}, func(c *config.Server) {
			c.Listen, c.DataDir, c.LogLevel, c.Blobs, c.AdminToken = "127.0.0.1:2222", "/env/data", "debug", "file:///file/blobs", config.Secret(token)
		}},
		{"flags over env", env, []string{"--config", file, "--listen", "127.0.0.1:3333", "--data", "/flag/data",
			"--database", "postgres://db/p", "--kek", "/k", "--tls-cert", "c", "--tls-key", "k", "--log-level", "warn", "--shutdown-timeout", "5s"},
			func(c *config.Server) {
				c.Listen, c.DataDir, c.LogLevel, c.Blobs, c.AdminToken = "127.0.0.1:3333", "/flag/data", "warn", "file:///file/blobs", config.Secret(token)
				c.Database, c.KEK, c.TLSCert, c.TLSKey, c.ShutdownTimeout = "postgres://db/p", "/k", "c", "k", 5*time.Second
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc := &serverServices{}
			out, errOut, code := runServer(t, t.Context(), svc, tt.env, tt.args...)
			if code != ExitOK || out != "started\n" {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			want := config.DefaultServer()
			tt.want(&want)
			if diff := cmp.Diff(*svc.got, want); diff != "" {
				t.Errorf("config (-got +want):\n%s", diff)
			}
		})
	}
}

func TestServerConfigErrors(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("listen: x\nport: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"unknown key in file", nil, []string{"--config", bad}, []string{`line 2: unknown key "port"`}},
		{"missing file", nil, []string{"--config", filepath.Join(t.TempDir(), "none.yaml")}, []string{"open server configuration"}},
		{"every problem at once", map[string]string{config.EnvAdminToken: "short"}, []string{"--listen", "nowhere", "--tls-cert", "c", "--log-level", "loud"},
			[]string{"listen", "tls", "log_level", "PALISADE_ADMIN_TOKEN is too short"}},
		{"bad env duration", map[string]string{config.EnvShutdownTimeout: "soon"}, nil, []string{config.EnvShutdownTimeout}},
		{"argument", nil, []string{"extra"}, []string{"unknown command"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc := &serverServices{}
			_, errOut, code := runServer(t, t.Context(), svc, tt.env, tt.args...)
			if code != ExitError || svc.got != nil {
				t.Fatalf("exit %d, server started %v; want exit 2 before starting", code, svc.got != nil)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
			if strings.Contains(errOut, "short\"") {
				t.Errorf("stderr reveals the token: %q", errOut)
			}
		})
	}
}

func TestServerExitCodes(t *testing.T) {
	t.Parallel()
	// Stopped by a signal after a clean shutdown: 0.
	ctx, cancel := context.WithCancel(t.Context())
	svc := &serverServices{wait: true}
	done := make(chan int, 1)
	var out, errOut bytes.Buffer
	go func() { done <- run(ctx, []string{"server"}, svc, strings.NewReader(""), &out, &errOut) }()
	cancel()
	if code := <-done; code != ExitOK {
		t.Errorf("server stopped by a signal: exit %d (%s), want 0", code, errOut.String())
	}
	// A failure: 2, with the message.
	svc = &serverServices{err: errors.New("listen tcp: address already in use")}
	errOut.Reset()
	if code := run(t.Context(), []string{"server"}, svc, strings.NewReader(""), &out, &errOut); code != ExitError || !strings.Contains(errOut.String(), "address already in use") {
		t.Errorf("failing server: exit %d, stderr %q; want 2 and the error", code, errOut.String())
	}
	// Help names the exit codes.
	out.Reset()
	if code := run(t.Context(), []string{"server", "--help"}, svc, strings.NewReader(""), &out, &errOut); code != ExitOK || !strings.Contains(out.String(), "Exit codes:") {
		t.Errorf("server --help: exit %d, output lacks exit codes:\n%s", code, out.String())
	}
}
