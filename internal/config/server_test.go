package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestServerPrecedence(t *testing.T) {
	t.Parallel()
	const file = `
listen: 0.0.0.0:9000
data: /srv/palisade
database: postgres://pal:pw@db:5432/pal
tls:
  cert: /etc/cert.pem
  key: /etc/key.pem
  client_ca: /etc/clients.pem
limits:
  token_rate: 50
  uploads_per_token: 4
log_level: debug
shutdown_timeout: 10s
audit:
  auth_success_interval: 1h
`
	tests := []struct {
		name string
		file string
		env  map[string]string
		want Server
	}{
		{"defaults", "", nil, DefaultServer()},
		{"file over defaults", file, nil, Server{
			Listen: "0.0.0.0:9000", DataDir: "/srv/palisade", Database: "postgres://pal:pw@db:5432/pal",
			TLSCert: "/etc/cert.pem", TLSKey: "/etc/key.pem", TLSClientCA: "/etc/clients.pem", LogLevel: "debug", ShutdownTimeout: 10 * time.Second,
			Limits: Limits{TokenRate: 50, SourceRate: 2000, UploadsPerToken: 4}, AuditOrigin: DefaultAuditOrigin, AuditAuthSuccessInterval: time.Hour,
		}},
		{"env over file", file, map[string]string{
			EnvListen: "127.0.0.1:1", EnvData: "/env/data", EnvDatabase: "sqlite:/env/db", EnvBlobs: "mem://",
			EnvKEK: "/env/kek", EnvTLSCert: "c", EnvTLSKey: "k", EnvLogLevel: "warn",
			EnvShutdownTimeout: "1m", EnvAdminToken: "tok", EnvTLSClientCA: "ca", EnvTokenRate: "0.5", EnvSourceRate: "0",
			EnvUploadsPerToken: "2", EnvAuditAuthSuccessInterval: "0",
		}, Server{
			Listen: "127.0.0.1:1", DataDir: "/env/data", Database: "sqlite:/env/db", Blobs: "mem://",
			KEK: "/env/kek", TLSCert: "c", TLSKey: "k", TLSClientCA: "ca", LogLevel: "warn", ShutdownTimeout: time.Minute,
			AdminToken: "tok", Limits: Limits{TokenRate: 0.5, SourceRate: 0, UploadsPerToken: 2}, AuditOrigin: DefaultAuditOrigin,
			AuditAuthSuccessInterval: 0,
		}},
		{"empty env keeps file", file, map[string]string{EnvListen: "", EnvData: "  "}, Server{
			Listen: "0.0.0.0:9000", DataDir: "/srv/palisade", Database: "postgres://pal:pw@db:5432/pal",
			TLSCert: "/etc/cert.pem", TLSKey: "/etc/key.pem", TLSClientCA: "/etc/clients.pem", LogLevel: "debug", ShutdownTimeout: 10 * time.Second,
			Limits: Limits{TokenRate: 50, SourceRate: 2000, UploadsPerToken: 4}, AuditOrigin: DefaultAuditOrigin, AuditAuthSuccessInterval: time.Hour,
		}},
		{"partial file keeps defaults", "listen: ':8080'\n", nil, Server{
			Listen: ":8080", DataDir: DefaultDataDir, LogLevel: DefaultLogLevel, ShutdownTimeout: DefaultShutdownTimeout,
			Limits: DefaultLimits(), AuditOrigin: DefaultAuditOrigin, AuditAuthSuccessInterval: DefaultAuditAuthSuccessInterval,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := DefaultServer()
			if err := ParseServer([]byte(tt.file), &c); err != nil {
				t.Fatalf("ParseServer: %v", err)
			}
			if err := ApplyServerEnv(&c, envOf(tt.env)); err != nil {
				t.Fatalf("ApplyServerEnv: %v", err)
			}
			if diff := cmp.Diff(c, tt.want); diff != "" {
				t.Errorf("config (-got +want):\n%s", diff)
			}
		})
	}
}

func TestParseServerProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string // one per problem, in order
	}{
		{"unknown keys with lines", "listen: ':1'\nlisten_addr: x\ntls:\n  certificate: a\n", []string{
			`line 2: unknown key "listen_addr" at the top level (valid keys: listen, data, database, blobs, kek, kek_previous, tls, limits, oidc, audit, log_level, shutdown_timeout)`,
			`line 4: unknown key "certificate" under tls (valid keys: cert, key, client_ca)`,
		}},
		{"bad values", "data: [a]\nshutdown_timeout: soon\ntls: 5\naudit:\n  auth_success_interval: often\n", []string{
			"line 1: data must be text, not a list",
			`line 2: shutdown_timeout must be a duration such as 30s or 2m, not "soon"`,
			"line 3: tls must be a mapping of keys (cert, key, client_ca), not the number 5",
			`line 5: audit.auth_success_interval must be a duration such as 15m or 0 (every time), not "often"`,
		}},
		{"duplicate key", "listen: ':1'\nlisten: ':2'\n", []string{`line 2: key "listen" appears twice at the top level`}},
		{"second document", "listen: ':1'\n---\nlisten: ':2'\n", []string{"line 2: a second YAML document (after ---); the server configuration holds one"}},
		{"not yaml", "listen: [\n", []string{"not valid YAML: line 1: did not find expected node content"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := DefaultServer()
			err := ParseServer([]byte(tt.in), &c)
			if err == nil {
				t.Fatal("ParseServer succeeded, want an error")
			}
			if diff := cmp.Diff(strings.Split(err.Error(), "\n"), tt.want); diff != "" {
				t.Errorf("problems (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(c, DefaultServer()); diff != "" {
				t.Errorf("config changed despite errors (-got +want):\n%s", diff)
			}
			if strings.Contains(err.Error(), "config.") || strings.Contains(err.Error(), "time.Duration") {
				t.Errorf("error names Go types: %v", err)
			}
		})
	}
}

func TestLoadServerFile(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "server.yaml")
	if err := os.WriteFile(p, []byte("listen: ':1'\nbogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := DefaultServer()
	err := LoadServerFile(p, &c)
	if err == nil || !strings.Contains(err.Error(), p+`: line 2: unknown key "bogus"`) {
		t.Errorf("LoadServerFile error = %v, want the path and the line", err)
	}
	if err := LoadServerFile(filepath.Join(t.TempDir(), "missing.yaml"), &c); err == nil {
		t.Error("LoadServerFile of a missing file succeeded")
	}
}

func TestApplyServerEnvProblems(t *testing.T) {
	t.Parallel()
	c := DefaultServer()
	err := ApplyServerEnv(&c, envOf(map[string]string{EnvShutdownTimeout: "forever", EnvListen: ":1"}))
	if err == nil || !strings.Contains(err.Error(), EnvShutdownTimeout) {
		t.Fatalf("ApplyServerEnv error = %v, want one naming %s", err, EnvShutdownTimeout)
	}
	if diff := cmp.Diff(c, DefaultServer()); diff != "" {
		t.Errorf("config changed despite errors (-got +want):\n%s", diff)
	}
}

func TestServerValidate(t *testing.T) {
	t.Parallel()
	good := strings.Repeat("a", MinAdminTokenLength)
	tests := []struct {
		name   string
		modify func(*Server)
		want   []string // substrings, one per problem, in order
	}{
		{"default", func(*Server) {}, nil},
		{"postgres, s3, kms, tls, token", func(c *Server) {
			c.Database = "postgres://u:p@h/db"
			c.Blobs = "s3://bucket?region=eu-west-1"
			c.KEK = "awskms://alias/palisade"
			c.TLSCert, c.TLSKey = "c.pem", "k.pem"
			c.AdminToken = Secret(good)
		}, nil},
		{"sqlite and key file paths", func(c *Server) {
			c.Database = "sqlite:/var/lib/p.db"
			c.KEK = "/etc/palisade/kek.key"
			c.Blobs = "file:///var/lib/palisade/blobs"
		}, nil},
		{"every problem at once", func(c *Server) {
			c.Listen = "localhost"
			c.DataDir = ""
			c.Database = "mysql://x"
			c.Blobs = "relative/dir"
			c.KEK = "base64key://c2VjcmV0"
			c.TLSCert = "c.pem"
			c.LogLevel = "loud"
			c.ShutdownTimeout = 0
			c.AdminToken = "short token"
		}, []string{
			`listen "localhost" is not host:port`,
			"data: the data directory is empty",
			`database "mysql://x": use sqlite:PATH or a postgres:// URL`,
			`blobs "relative/dir" is not a URL`,
			"kek: base64key:// URLs hold the key itself",
			"tls: give both",
			`log_level "loud"`,
			"shutdown_timeout 0s",
			"PALISADE_ADMIN_TOKEN is too short",
			"PALISADE_ADMIN_TOKEN must be printable ASCII without spaces",
		}},
		{"bad port", func(c *Server) { c.Listen = "127.0.0.1:99999" }, []string{"the port must be a number from 0 to 65535"}},
		{"previous master key file", func(c *Server) { c.KEK, c.KEKPrevious = "/k/new.key", "/k/old.key" }, nil},
		{"previous master key in a KMS", func(c *Server) { c.KEK, c.KEKPrevious = "/k/new.key", "awskms://alias/old" }, nil},
		{"previous master key is the default key", func(c *Server) { c.KEKPrevious = c.KEKFile() }, []string{"kek_previous is the same key as kek"}},
		{"previous master key is kek", func(c *Server) { c.KEK, c.KEKPrevious = "/k/a.key", "/k/a.key" }, []string{"kek_previous is the same key as kek"}},
		{"previous master key given as material", func(c *Server) { c.KEKPrevious = "base64key://c2VjcmV0" }, []string{"kek_previous: base64key:// URLs hold the key itself"}},
		{"relative file URL", func(c *Server) { c.Blobs = "file://blobs" }, []string{"needs an absolute directory"}},
		{"empty sqlite path", func(c *Server) { c.Database = "sqlite:" }, []string{"sqlite: needs a file path"}},
		{"every authentication recorded", func(c *Server) { c.AuditAuthSuccessInterval = 0 }, nil},
		{"negative authentication interval", func(c *Server) { c.AuditAuthSuccessInterval = -time.Second }, []string{"audit.auth_success_interval -1s"}},
		{"authentication interval over a day", func(c *Server) { c.AuditAuthSuccessInterval = 25 * time.Hour }, []string{"audit.auth_success_interval 25h0m0s: use a duration from 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := DefaultServer()
			tt.modify(&c)
			err := c.Validate()
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Validate() = %v, want %d problems", err, len(tt.want))
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], tt.want[i])
				}
			}
			if err != nil && strings.Contains(err.Error(), "c2VjcmV0") {
				t.Errorf("Validate leaks key material: %v", err)
			}
		})
	}
}

func TestServerEffectiveLocations(t *testing.T) {
	t.Parallel()
	c := DefaultServer()
	c.DataDir = "/data"
	if got, want := c.DatabaseURL(), "sqlite:/data/palisade.db"; got != want {
		t.Errorf("DatabaseURL() = %q, want %q", got, want)
	}
	if got, want := c.SQLitePath(), "/data/palisade.db"; got != want {
		t.Errorf("SQLitePath() = %q, want %q", got, want)
	}
	blobs, err := c.BlobsURL()
	if err != nil || !strings.HasPrefix(blobs, "file:///data/blobs?") {
		t.Errorf("BlobsURL() = %q, %v; want file:///data/blobs?...", blobs, err)
	}
	if got, want := c.KEKFile(), "/data/kek.key"; got != want {
		t.Errorf("KEKFile() = %q, want %q", got, want)
	}
	c.Database = "sqlite:///abs/p.db"
	if got, want := c.SQLitePath(), "/abs/p.db"; got != want {
		t.Errorf("SQLitePath() = %q, want %q", got, want)
	}
	c.Database = "postgres://h/db"
	if got := c.SQLitePath(); got != "" {
		t.Errorf("SQLitePath() of postgres = %q, want empty", got)
	}
	c.KEK = "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k"
	if got := c.KEKFile(); got != "" {
		t.Errorf("KEKFile() of a KMS URL = %q, want empty", got)
	}
	c.KEK = "file:///etc/kek.key"
	if got, want := c.KEKFile(), "/etc/kek.key"; got != want {
		t.Errorf("KEKFile() = %q, want %q", got, want)
	}
}

func TestServerRedaction(t *testing.T) {
	t.Parallel()
	const token = "s3cr3t-token-value-that-is-long-enough"
	c := DefaultServer()
	c.AdminToken = Secret(token)
	c.Database = "postgres://user:dbpassword@db/pal?sslmode=verify-full&password=qpass"
	c.Blobs = "s3://bucket?region=eu&secret_key=blobsecret"
	for _, s := range []string{
		c.String(), fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%d %x %q", c.AdminToken, c.AdminToken, c.AdminToken),
	} {
		for _, secret := range []string{token, "dbpassword", "qpass", "blobsecret"} {
			if strings.Contains(s, secret) {
				t.Errorf("formatted config reveals %q:\n%s", secret, s)
			}
		}
	}
	if !strings.Contains(c.String(), "user:redacted@db") || !strings.Contains(c.String(), "sslmode=verify-full") {
		t.Errorf("String() redacted too much:\n%s", c.String())
	}
	if c.AdminToken.Reveal() != token {
		t.Error("Reveal() does not return the value")
	}
	if Secret("").String() != "" {
		t.Error("an empty secret should print empty")
	}
}

func TestKEKPreviousSources(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "server.yaml")
	if err := os.WriteFile(path, []byte("kek: /k/new.key\nkek_previous: /k/old.key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := DefaultServer()
	if err := LoadServerFile(path, &c); err != nil {
		t.Fatal(err)
	}
	if c.KEKPrevious != "/k/old.key" || c.KEKPreviousFile() != "/k/old.key" {
		t.Errorf("from the file: %q (file %q)", c.KEKPrevious, c.KEKPreviousFile())
	}
	env := map[string]string{EnvKEKPrevious: "awskms://alias/old"}
	if err := ApplyServerEnv(&c, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if c.KEKPrevious != "awskms://alias/old" || c.KEKPreviousFile() != "" {
		t.Errorf("from the environment: %q (file %q)", c.KEKPrevious, c.KEKPreviousFile())
	}
	if s := c.String(); !strings.Contains(s, "kek_previous: awskms://alias/old") {
		t.Errorf("String() = %s", s)
	}
}

func TestServerOIDC(t *testing.T) {
	t.Parallel()
	const file = `
oidc:
  issuer: https://idp.example.test/
  client_id: palisade
  client_secret_file: /etc/palisade/oidc-secret
  redirect_url: https://palisade.example.test/api/v1/auth/sso/callback
  scopes: [openid, profile, email, groups]
  default_clearance: confidential
  token_ttl: 8h
  admin_groups: [platform]
  groups:
    ml-engineers: [ml:developer, data:reader]
    auditors: ml:auditor
`
	c := DefaultServer()
	if err := ParseServer([]byte(file), &c); err != nil {
		t.Fatal(err)
	}
	want := OIDC{Issuer: "https://idp.example.test/", ClientID: "palisade", ClientSecretFile: "/etc/palisade/oidc-secret",
		RedirectURL: "https://palisade.example.test/api/v1/auth/sso/callback", Scopes: []string{"openid", "profile", "email", "groups"},
		DefaultClearance: "confidential", TokenTTL: 8 * time.Hour, AdminGroups: []string{"platform"},
		Groups: map[string][]string{"ml-engineers": {"ml:developer", "data:reader"}, "auditors": {"ml:auditor"}}}
	if diff := cmp.Diff(c.OIDC, want); diff != "" {
		t.Errorf("oidc (-got +want):\n%s", diff)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if err := ApplyServerEnv(&c, envOf(map[string]string{EnvOIDCClientID: "other"})); err != nil || c.OIDC.ClientID != "other" {
		t.Errorf("env client ID: %q, %v", c.OIDC.ClientID, err)
	}
	bad := DefaultServer()
	bad.OIDC = OIDC{Issuer: "https://idp", DefaultClearance: "secret", Groups: map[string][]string{"g": {"ml:boss", "nocolon"}}}
	err := bad.Validate()
	for _, want := range []string{"oidc.client_id", "oidc.redirect_url", "oidc.default_clearance", `grant "ml:boss"`, `grant "nocolon"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate of a bad oidc section: %v, want it to mention %s", err, want)
		}
	}
	orphan := DefaultServer()
	orphan.OIDC.ClientID = "x"
	if err := orphan.Validate(); err == nil || !strings.Contains(err.Error(), "oidc.issuer") {
		t.Errorf("oidc settings without an issuer: %v", err)
	}
}
