package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/palisade-sec/palisade/internal/access"
)

// Defaults of the server configuration.
const (
	DefaultListen          = "127.0.0.1:8700"
	DefaultDataDir         = "./palisade-data"
	DefaultLogLevel        = "info"
	DefaultShutdownTimeout = 30 * time.Second
	// MinAdminTokenLength is the shortest PALISADE_ADMIN_TOKEN accepted.
	MinAdminTokenLength = 32
)

// Files the server keeps in its data directory by default.
const (
	DatabaseFileName = "palisade.db"
	BlobsDirName     = "blobs"
	KEKFileName      = "kek.key"
)

// maxServerFile bounds the server configuration file read into memory.
const maxServerFile = 1 << 20

// Environment variables the server configuration reads (through the
// lookup function the command line passes to ApplyServerEnv).
const (
	EnvListen          = "PALISADE_LISTEN"
	EnvData            = "PALISADE_DATA"
	EnvDatabase        = "PALISADE_DATABASE"
	EnvBlobs           = "PALISADE_BLOBS"
	EnvKEK             = "PALISADE_KEK"
	EnvKEKPrevious     = "PALISADE_KEK_PREVIOUS"
	EnvTLSCert         = "PALISADE_TLS_CERT"
	EnvTLSKey          = "PALISADE_TLS_KEY"
	EnvTLSClientCA     = "PALISADE_TLS_CLIENT_CA"
	EnvTokenRate       = "PALISADE_LIMITS_TOKEN_RATE"
	EnvSourceRate      = "PALISADE_LIMITS_SOURCE_RATE"
	EnvUploadsPerToken = "PALISADE_LIMITS_UPLOADS_PER_TOKEN"
	EnvAuditOrigin     = "PALISADE_AUDIT_ORIGIN"
	// EnvAuditAuthSuccessInterval sets audit.auth_success_interval.
	EnvAuditAuthSuccessInterval = "PALISADE_AUDIT_AUTH_SUCCESS_INTERVAL"
	EnvOIDCIssuer               = "PALISADE_OIDC_ISSUER"
	EnvOIDCClientID             = "PALISADE_OIDC_CLIENT_ID"
	EnvOIDCSecretFile           = "PALISADE_OIDC_CLIENT_SECRET_FILE"
	EnvOIDCRedirectURL          = "PALISADE_OIDC_REDIRECT_URL"
	EnvLogLevel                 = "PALISADE_LOG_LEVEL"
	EnvShutdownTimeout          = "PALISADE_SHUTDOWN_TIMEOUT"
	EnvAdminToken               = "PALISADE_ADMIN_TOKEN"
)

// Secret is a secret value (a token). Every way of formatting it prints
// "[redacted]" (or "" when it is empty); Reveal returns the value.
type Secret string

// Reveal returns the secret value, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]", or "" when the secret is empty.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// Format prints the redacted form whatever the verb, so that neither %s,
// %d nor %#v can reveal the value.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// MarshalText returns the redacted form, for JSON and YAML encoders.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Server is the configuration of 'palisade server'. An empty Database,
// Blobs or KEK means the default inside DataDir; see the methods of the
// same names for the effective values.
type Server struct {
	// Listen is the TCP address to listen on, host:port.
	Listen string
	// DataDir holds the SQLite database, the blobs and the local
	// key-encryption key of the default configuration.
	DataDir string
	// Database is "" (SQLite file DataDir/palisade.db), sqlite:PATH, or a
	// postgres:// (postgresql://) URL.
	Database string
	// Blobs is "" (file://DataDir/blobs) or a gocloud.dev/blob URL.
	Blobs string
	// KEK is "" (the local key file DataDir/kek.key), a path to a local key
	// file, or a gocloud.dev/secrets keeper URL (awskms://, gcpkms://,
	// azurekeyvault://, hashivault://). Key material itself
	// (base64key://) is refused: secrets are given by reference.
	KEK string
	// KEKPrevious is the master key being replaced: a path to a local key
	// file (which must exist) or a keeper URL. While it is set, project
	// keys it wrapped still open, and 'palisade admin rotate-keys
	// --master' rewraps them under KEK.
	KEKPrevious string
	// TLSCert and TLSKey are PEM files; both or neither.
	TLSCert string
	TLSKey  string
	// TLSClientCA is a PEM file of the certificate authorities whose
	// client certificates authenticate service accounts (mutual TLS);
	// needs TLSCert. Clients without a certificate still use tokens.
	TLSClientCA string
	// Limits bounds what each token and each source address may ask.
	Limits Limits
	// OIDC configures single sign-on; off while Issuer is empty.
	OIDC OIDC
	// AuditOrigin names the audit log in its checkpoints:
	// "<public host>/audit/<shard>".
	AuditOrigin string
	// AuditAuthSuccessInterval is how often the audit log records a
	// successful authentication of the same credential from the same
	// address: once per interval; 0 records every one.
	AuditAuthSuccessInterval time.Duration
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// ShutdownTimeout bounds the graceful shutdown: requests still running
	// when it expires are cut.
	ShutdownTimeout time.Duration
	// AdminToken sets the bootstrap admin token on first start (from
	// PALISADE_ADMIN_TOKEN only; never from the file or a flag).
	AdminToken Secret
}

// Limits are the request rate and concurrency limits. A rate is requests
// per second (0 is unlimited) with a burst of twice as many.
type Limits struct {
	TokenRate       float64 // per API token (and session tokens of it)
	SourceRate      float64 // per source address, authenticated or not
	UploadsPerToken int     // concurrent blob uploads per token (0 is unlimited)
}

// OIDC is the single sign-on configuration: the OpenID provider,
// Palisade's client registration with it, and how its groups map to
// roles.
type OIDC struct {
	Issuer   string
	ClientID string
	// ClientSecretFile holds the client secret (secrets are given by
	// reference); empty for a public client.
	ClientSecretFile string
	// RedirectURL is the browser callback registered with the provider:
	// https://HOST/api/v1/auth/sso/callback.
	RedirectURL string
	// Scopes requested; empty means openid, profile and email.
	Scopes []string
	// GroupsClaim names the claim listing the user's groups ("groups").
	GroupsClaim string
	// DefaultClearance is a new user's clearance ("internal").
	DefaultClearance string
	// TokenTTL is the lifetime of the API token a login yields (12h).
	TokenTTL time.Duration
	// AdminGroups are the groups whose members are administrators.
	AdminGroups []string
	// Groups maps a group to the project roles it confers, each
	// "PROJECT:ROLE".
	Groups map[string][]string
}

// Enabled reports whether single sign-on is configured.
func (o OIDC) Enabled() bool { return o.Issuer != "" }

// DefaultLimits are generous enough for CI fleets behind one token and
// stop a runaway client before it starves the others.
func DefaultLimits() Limits {
	return Limits{TokenRate: 1000, SourceRate: 2000, UploadsPerToken: 32}
}

// DefaultServer returns the embedded default configuration: SQLite, local
// files and a local key in ./palisade-data, on 127.0.0.1:8700.
func DefaultServer() Server {
	return Server{
		Listen:                   DefaultListen,
		DataDir:                  DefaultDataDir,
		LogLevel:                 DefaultLogLevel,
		ShutdownTimeout:          DefaultShutdownTimeout,
		Limits:                   DefaultLimits(),
		AuditOrigin:              DefaultAuditOrigin,
		AuditAuthSuccessInterval: DefaultAuditAuthSuccessInterval,
	}
}

// DefaultAuditOrigin is the audit log's origin until one is configured.
const DefaultAuditOrigin = "palisade.local/audit/1"

// DefaultAuditAuthSuccessInterval is how often a credential's successful
// authentications from one address are recorded until configured.
const DefaultAuditAuthSuccessInterval = 15 * time.Minute

// MaxAuditAuthSuccessInterval bounds audit.auth_success_interval.
const MaxAuditAuthSuccessInterval = 24 * time.Hour

// DatabaseURL returns the effective database: Database, or sqlite: and the
// database file in DataDir.
func (c Server) DatabaseURL() string {
	if c.Database != "" {
		return c.Database
	}
	return "sqlite:" + filepath.Join(c.DataDir, DatabaseFileName)
}

// SQLitePath returns the SQLite file of the effective database, or ""
// when the database is not SQLite.
func (c Server) SQLitePath() string {
	db := c.DatabaseURL()
	rest, ok := strings.CutPrefix(db, "sqlite:")
	if !ok {
		return ""
	}
	if strings.HasPrefix(rest, "//") {
		if u, err := url.Parse(db); err == nil {
			return u.Path
		}
	}
	return rest
}

// BlobsURL returns the effective blob bucket: Blobs, or a file:// URL of
// the blobs directory in DataDir (created on first use). It fails only
// when DataDir cannot be made absolute.
func (c Server) BlobsURL() (string, error) {
	if c.Blobs != "" {
		return c.Blobs, nil
	}
	abs, err := filepath.Abs(filepath.Join(c.DataDir, BlobsDirName))
	if err != nil {
		return "", fmt.Errorf("blobs directory: %w", err)
	}
	// metadata=skip: fileblob would otherwise MD5 every byte written for a
	// sidecar file that Palisade never reads (a quarter of a push's CPU).
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: "create_dir=1&dir_file_mode=0700&no_tmp_dir=1&metadata=skip"}
	return u.String(), nil
}

// KEKFile returns the local key file of the effective key-encryption key,
// or "" when KEK is a keeper URL.
func (c Server) KEKFile() string {
	switch {
	case c.KEK == "":
		return filepath.Join(c.DataDir, KEKFileName)
	case hasScheme(c.KEK):
		if u, err := url.Parse(c.KEK); err == nil && u.Scheme == "file" {
			return u.Path
		}
		return ""
	}
	return c.KEK
}

// KEKPreviousFile returns the local key file of KEKPrevious, or "" when it
// is unset or a keeper URL.
func (c Server) KEKPreviousFile() string {
	if c.KEKPrevious == "" {
		return ""
	}
	if hasScheme(c.KEKPrevious) {
		if u, err := url.Parse(c.KEKPrevious); err == nil && u.Scheme == "file" {
			return u.Path
		}
		return ""
	}
	return c.KEKPrevious
}

// hasScheme reports whether s starts like a URL ("scheme:"), not like a
// path (a Windows drive letter is a path).
func hasScheme(s string) bool {
	i := strings.Index(s, ":")
	if i < 2 {
		return false
	}
	for j := 0; j < i; j++ {
		c := s[j]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || j > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// String renders the configuration as the file would hold it, with
// secrets and credentials redacted.
func (c Server) String() string {
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "%s: %s\n", k, v) }
	line("listen", c.Listen)
	line("data", c.DataDir)
	line("database", redactURL(c.DatabaseURL()))
	blobs, err := c.BlobsURL()
	if err != nil {
		blobs = c.Blobs
	}
	line("blobs", redactURL(blobs))
	if f := c.KEKFile(); f != "" {
		line("kek", f)
	} else {
		line("kek", redactURL(c.KEK))
	}
	if c.KEKPrevious != "" {
		line("kek_previous", redactURL(c.KEKPrevious))
	}
	line("tls.cert", c.TLSCert)
	line("tls.key", c.TLSKey)
	line("tls.client_ca", c.TLSClientCA)
	line("limits.token_rate", strconv.FormatFloat(c.Limits.TokenRate, 'g', -1, 64))
	line("limits.source_rate", strconv.FormatFloat(c.Limits.SourceRate, 'g', -1, 64))
	line("limits.uploads_per_token", strconv.Itoa(c.Limits.UploadsPerToken))
	line("audit.origin", c.AuditOrigin)
	line("audit.auth_success_interval", c.AuditAuthSuccessInterval.String())
	if o := c.OIDC; o.Enabled() {
		line("oidc.issuer", o.Issuer)
		line("oidc.client_id", o.ClientID)
		line("oidc.client_secret_file", o.ClientSecretFile)
		line("oidc.redirect_url", o.RedirectURL)
		line("oidc.admin_groups", strings.Join(o.AdminGroups, ","))
		line("oidc.groups", strconv.Itoa(len(o.Groups))+" mapped")
	}
	line("log_level", c.LogLevel)
	line("shutdown_timeout", c.ShutdownTimeout.String())
	if c.AdminToken != "" {
		line("admin_token", c.AdminToken.String()+" (from "+EnvAdminToken+")")
	}
	return b.String()
}

// Format prints String's redacted rendering whatever the verb, so that
// %v, %+v and %#v never reveal a password in a database URL.
func (c Server) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// redactURL hides a URL's password and query values (which may hold
// tokens); text that does not parse is hidden whole.
func redactURL(s string) string {
	if s == "" || !hasScheme(s) {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "[redacted]"
	}
	if strings.EqualFold(u.Scheme, "base64key") {
		return "base64key://[redacted]"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "redacted")
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			switch strings.ToLower(k) {
			case "create_dir", "dir_file_mode", "no_tmp_dir", "metadata", "sslmode", "region", "endpoint":
			default:
				q[k] = []string{"redacted"}
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Keys of the server file, in the order error messages list them.
var (
	serverKeys       = []string{"listen", "data", "database", "blobs", "kek", "kek_previous", "tls", "limits", "oidc", "audit", "log_level", "shutdown_timeout"}
	serverAuditKeys  = []string{"origin", "auth_success_interval"}
	serverOIDCKeys   = []string{"issuer", "client_id", "client_secret_file", "redirect_url", "scopes", "groups_claim", "default_clearance", "token_ttl", "admin_groups", "groups"}
	serverTLSKeys    = []string{"cert", "key", "client_ca"}
	serverLimitsKeys = []string{"token_rate", "source_rate", "uploads_per_token"}
)

// LoadServerFile reads the server configuration file at path and applies
// the keys it sets to c. Every problem is reported at once, each with its
// line; c is changed only when there is none.
func LoadServerFile(path string, c *Server) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open server configuration: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxServerFile+1))
	if err != nil {
		return fmt.Errorf("read server configuration %s: %w", path, err)
	}
	if len(data) > maxServerFile {
		return fmt.Errorf("server configuration %s is larger than %d bytes", path, maxServerFile)
	}
	if err := ParseServer(data, c); err != nil {
		return fmt.Errorf("server configuration %s: %w", path, err)
	}
	return nil
}

// ParseServer decodes server configuration content (one YAML mapping of
// the documented keys) and applies the keys it sets to c. Unknown keys and
// malformed values are errors with their lines, all reported at once; c
// is changed only when there is none.
func ParseServer(data []byte, c *Server) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file sets nothing
		}
		return fmt.Errorf("not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return fmt.Errorf("not valid YAML after the first document: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		}
		return fmt.Errorf("line %d: a second YAML document (after ---); the server configuration holds one", extra.Line)
	}
	var pr parser
	next := *c
	if len(doc.Content) == 1 {
		pr.server(doc.Content[0], &next)
	}
	if len(pr.problems) > 0 {
		return errors.Join(pr.problems...)
	}
	*c = next
	return nil
}

func (pr *parser) server(n *yaml.Node, c *Server) {
	set := func(dst *string, v *yaml.Node, key string) {
		if t := strings.TrimSpace(pr.text(v, key)); t != "" {
			*dst = t
		}
	}
	pr.mapping(n, "the top level", serverKeys, func(key string, v *yaml.Node) {
		switch key {
		case "listen":
			set(&c.Listen, v, key)
		case "data":
			set(&c.DataDir, v, key)
		case "database":
			set(&c.Database, v, key)
		case "blobs":
			set(&c.Blobs, v, key)
		case "kek":
			set(&c.KEK, v, key)
		case "kek_previous":
			set(&c.KEKPrevious, v, key)
		case "log_level":
			set(&c.LogLevel, v, key)
		case "shutdown_timeout":
			t := strings.TrimSpace(pr.text(v, key))
			if t == "" {
				return
			}
			d, err := time.ParseDuration(t)
			if err != nil {
				pr.addf(v, "shutdown_timeout must be a duration such as 30s or 2m, not %q", t)
				return
			}
			c.ShutdownTimeout = d
		case "tls":
			pr.mapping(v, "tls", serverTLSKeys, func(key string, v *yaml.Node) {
				switch key {
				case "cert":
					set(&c.TLSCert, v, "tls.cert")
				case "key":
					set(&c.TLSKey, v, "tls.key")
				case "client_ca":
					set(&c.TLSClientCA, v, "tls.client_ca")
				}
			})
		case "oidc":
			pr.oidc(v, &c.OIDC)
		case "audit":
			pr.mapping(v, "audit", serverAuditKeys, func(key string, v *yaml.Node) {
				switch key {
				case "origin":
					set(&c.AuditOrigin, v, "audit."+key)
				case "auth_success_interval":
					t := strings.TrimSpace(pr.text(v, "audit."+key))
					if t == "" {
						return
					}
					d, err := time.ParseDuration(t)
					if err != nil {
						pr.addf(v, "audit.auth_success_interval must be a duration such as 15m or 0 (every time), not %q", t)
						return
					}
					c.AuditAuthSuccessInterval = d
				}
			})
		case "limits":
			pr.mapping(v, "limits", serverLimitsKeys, func(key string, v *yaml.Node) {
				t := strings.TrimSpace(pr.text(v, "limits."+key))
				if t == "" {
					return
				}
				switch key {
				case "token_rate", "source_rate":
					f, err := strconv.ParseFloat(t, 64)
					if err != nil {
						pr.addf(v, "limits.%s must be a number of requests per second (0 is unlimited), not %q", key, t)
						return
					}
					if key == "token_rate" {
						c.Limits.TokenRate = f
					} else {
						c.Limits.SourceRate = f
					}
				case "uploads_per_token":
					n, err := strconv.Atoi(t)
					if err != nil {
						pr.addf(v, "limits.uploads_per_token must be a whole number (0 is unlimited), not %q", t)
						return
					}
					c.Limits.UploadsPerToken = n
				}
			})
		}
	})
}

// oidc reads the oidc mapping.
func (pr *parser) oidc(n *yaml.Node, o *OIDC) {
	set := func(dst *string, v *yaml.Node, key string) {
		if t := strings.TrimSpace(pr.text(v, "oidc."+key)); t != "" {
			*dst = t
		}
	}
	pr.mapping(n, "oidc", serverOIDCKeys, func(key string, v *yaml.Node) {
		switch key {
		case "issuer":
			set(&o.Issuer, v, key)
		case "client_id":
			set(&o.ClientID, v, key)
		case "client_secret_file":
			set(&o.ClientSecretFile, v, key)
		case "redirect_url":
			set(&o.RedirectURL, v, key)
		case "groups_claim":
			set(&o.GroupsClaim, v, key)
		case "default_clearance":
			set(&o.DefaultClearance, v, key)
		case "scopes":
			o.Scopes = pr.texts(v, "oidc.scopes")
		case "admin_groups":
			o.AdminGroups = pr.texts(v, "oidc.admin_groups")
		case "token_ttl":
			t := strings.TrimSpace(pr.text(v, "oidc.token_ttl"))
			if t == "" {
				return
			}
			d, err := time.ParseDuration(t)
			if err != nil {
				pr.addf(v, "oidc.token_ttl must be a duration such as 12h, not %q", t)
				return
			}
			o.TokenTTL = d
		case "groups":
			if isNull(v) {
				return
			}
			if v.Kind != yaml.MappingNode {
				pr.addf(v, "oidc.groups must map each group to a list of PROJECT:ROLE, not %s", describe(v))
				return
			}
			o.Groups = map[string][]string{}
			for i := 0; i+1 < len(v.Content); i += 2 {
				g := pr.text(v.Content[i], "a group name under oidc.groups")
				o.Groups[g] = pr.texts(v.Content[i+1], "oidc.groups."+g)
			}
		}
	})
}

// ApplyServerEnv applies the PALISADE_* variables that lookup reports set
// and not empty (the command line passes os.LookupEnv). Every malformed
// value is reported at once; c is changed only when there is none.
func ApplyServerEnv(c *Server, lookup func(string) (string, bool)) error {
	next := *c
	var problems []error
	get := func(name string) (string, bool) {
		v, ok := lookup(name)
		v = strings.TrimSpace(v)
		return v, ok && v != ""
	}
	for name, dst := range map[string]*string{
		EnvListen: &next.Listen, EnvData: &next.DataDir, EnvDatabase: &next.Database,
		EnvBlobs: &next.Blobs, EnvKEK: &next.KEK, EnvKEKPrevious: &next.KEKPrevious, EnvTLSCert: &next.TLSCert,
		EnvTLSKey: &next.TLSKey, EnvLogLevel: &next.LogLevel, EnvTLSClientCA: &next.TLSClientCA,
		EnvOIDCIssuer: &next.OIDC.Issuer, EnvOIDCClientID: &next.OIDC.ClientID, EnvOIDCSecretFile: &next.OIDC.ClientSecretFile,
		EnvOIDCRedirectURL: &next.OIDC.RedirectURL, EnvAuditOrigin: &next.AuditOrigin,
	} {
		if v, ok := get(name); ok {
			*dst = v
		}
	}
	if v, ok := get(EnvAuditAuthSuccessInterval); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s must be a duration such as 15m or 0 (every time), not %q", EnvAuditAuthSuccessInterval, v))
		}
		next.AuditAuthSuccessInterval = d
	}
	if v, ok := get(EnvShutdownTimeout); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s must be a duration such as 30s or 2m, not %q", EnvShutdownTimeout, v))
		}
		next.ShutdownTimeout = d
	}
	for name, dst := range map[string]*float64{EnvTokenRate: &next.Limits.TokenRate, EnvSourceRate: &next.Limits.SourceRate} {
		if v, ok := get(name); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				problems = append(problems, fmt.Errorf("%s must be a number of requests per second (0 is unlimited), not %q", name, v))
			}
			*dst = f
		}
	}
	if v, ok := get(EnvUploadsPerToken); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s must be a whole number (0 is unlimited), not %q", EnvUploadsPerToken, v))
		}
		next.Limits.UploadsPerToken = n
	}
	// The token is taken as given (not trimmed): Validate rejects spaces.
	if v, ok := lookup(EnvAdminToken); ok && v != "" {
		next.AdminToken = Secret(v)
	}
	if len(problems) > 0 {
		return errors.Join(problems...)
	}
	*c = next
	return nil
}

// Validate checks the configuration and reports every problem at once.
func (c Server) Validate() error {
	var problems []error
	add := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }

	if host, port, err := net.SplitHostPort(c.Listen); err != nil {
		add("listen %q is not host:port (for example %s, or :8700 for every interface)", c.Listen, DefaultListen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		add("listen %q: the port must be a number from 0 to 65535", c.Listen)
	} else if strings.ContainsAny(host, " /") {
		add("listen %q: the host is not a host name or IP address", c.Listen)
	}
	if strings.TrimSpace(c.DataDir) == "" {
		add("data: the data directory is empty")
	}
	switch db := c.Database; {
	case db == "":
	case strings.HasPrefix(db, "sqlite:"):
		if c.SQLitePath() == "" {
			add("database %q: sqlite: needs a file path (sqlite:/var/lib/palisade/palisade.db)", db)
		}
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		if _, err := url.Parse(db); err != nil {
			add("database: the postgres URL does not parse")
		}
	default:
		add("database %q: use sqlite:PATH or a postgres:// URL", redactURL(db))
	}
	if b := c.Blobs; b != "" {
		u, err := url.Parse(b)
		switch {
		case err != nil || !hasScheme(b):
			add("blobs %q is not a URL (file:///abs/dir, s3://bucket, mem://)", redactURL(b))
		case u.Scheme == "file" && !strings.HasPrefix(u.Path, "/"):
			add("blobs %q: a file:// URL needs an absolute directory (file:///var/lib/palisade/blobs)", b)
		}
	}
	for _, kk := range []struct{ name, v string }{{"kek", c.KEK}, {"kek_previous", c.KEKPrevious}} {
		if k := kk.v; k != "" && hasScheme(k) {
			u, err := url.Parse(k)
			switch {
			case err != nil:
				add("%s: the key URL does not parse", kk.name)
			case strings.EqualFold(u.Scheme, "base64key"):
				add("%s: base64key:// URLs hold the key itself; give a key file path or a KMS URL instead", kk.name)
			case u.Scheme == "file" && u.Path == "":
				add("%s %q: a file: URL needs a path", kk.name, k)
			}
		}
	}
	if c.KEKPrevious != "" && (c.KEKPrevious == c.KEK || c.KEK == "" && c.KEKPrevious == c.KEKFile()) {
		add("kek_previous is the same key as kek: set it to the key being replaced")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		add("tls: give both the certificate and the key (tls.cert and tls.key), or neither")
	}
	if c.TLSClientCA != "" && c.TLSCert == "" {
		add("tls.client_ca: client certificates need TLS: set tls.cert and tls.key too")
	}
	if !validOrigin(c.AuditOrigin) {
		add("audit.origin %q: use HOST/audit/SHARD, printable ASCII without spaces (the log's name in its checkpoints)", c.AuditOrigin)
	}
	if c.AuditAuthSuccessInterval < 0 || c.AuditAuthSuccessInterval > MaxAuditAuthSuccessInterval {
		add("audit.auth_success_interval %s: use a duration from 0 (record every authentication) to 24h", c.AuditAuthSuccessInterval)
	}
	if o := c.OIDC; o.Enabled() {
		if o.ClientID == "" {
			add("oidc.client_id: single sign-on needs the client ID registered with the provider")
		}
		if o.RedirectURL == "" {
			add("oidc.redirect_url: single sign-on needs the browser callback registered with the provider (https://HOST/api/v1/auth/sso/callback)")
		}
		if o.DefaultClearance != "" {
			if _, err := access.ParseLevel(o.DefaultClearance); err != nil {
				add("oidc.default_clearance: %v", err)
			}
		}
		if o.TokenTTL < 0 || o.TokenTTL > 366*24*time.Hour {
			add("oidc.token_ttl %s: use a duration up to 366 days", o.TokenTTL)
		}
		for g, grants := range o.Groups {
			for _, gr := range grants {
				if _, _, err := ParseGrant(gr); err != nil {
					add("oidc.groups.%s: %v", g, err)
				}
			}
		}
	} else if c.OIDC.ClientID != "" || len(c.OIDC.Groups) > 0 {
		add("oidc: set oidc.issuer, or remove the other oidc settings")
	}
	if l := c.Limits; l.TokenRate < 0 || l.SourceRate < 0 || l.UploadsPerToken < 0 || math.IsNaN(l.TokenRate) || math.IsNaN(l.SourceRate) {
		add("limits: rates and upload counts are 0 (unlimited) or positive")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		add("log_level %q: use debug, info, warn or error", c.LogLevel)
	}
	if c.ShutdownTimeout <= 0 || c.ShutdownTimeout > time.Hour {
		add("shutdown_timeout %s: use a duration from 1s to 1h", c.ShutdownTimeout)
	}
	if t := c.AdminToken.Reveal(); t != "" {
		if len(t) < MinAdminTokenLength {
			add("%s is too short: use at least %d characters (for example the output of 'openssl rand -hex 32')", EnvAdminToken, MinAdminTokenLength)
		}
		if strings.IndexFunc(t, func(r rune) bool { return r <= ' ' || r == 0x7f || r > '~' }) >= 0 {
			add("%s must be printable ASCII without spaces", EnvAdminToken)
		}
	}
	return errors.Join(problems...)
}

// ParseGrant reads a "PROJECT:ROLE" grant of oidc.groups.
func ParseGrant(s string) (project string, role access.Role, err error) {
	project, r, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || project == "" {
		return "", "", fmt.Errorf("grant %.80q: want PROJECT:ROLE", s)
	}
	role, err = access.ParseRole(r)
	if err != nil {
		return "", "", fmt.Errorf("grant %.80q: %w", s, err)
	}
	return project, role, nil
}

// validOrigin reports whether s can be a checkpoint's origin line.
func validOrigin(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r > '~' || r == '+' {
			return false
		}
	}
	return true
}
