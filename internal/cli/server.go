package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/config"
)

// runsUntilSignal marks a command whose normal end is an interrupt or
// SIGTERM: run reports success when it then returns no error.
const runsUntilSignal = "palisade/runs-until-signal"

// serverFlags are the flags of 'palisade server'.
type serverFlags struct {
	config, listen, data, database, blobs, kek, kekPrevious, tlsCert, tlsKey, tlsClientCA, logLevel string
	shutdownTimeout                                                                                 time.Duration
}

func newServerCommand(svc Services, lookupEnv func(string) (string, bool)) *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the Palisade server",
		Long: `Run the Palisade server until interrupted (Ctrl-C or SIGTERM), then shut down
gracefully: requests in flight get --shutdown-timeout to finish.

With no configuration it runs the embedded default: data in ./palisade-data
(created with mode 0700), metadata in SQLite, blobs in local files, a local
key-encryption key created on first start (mode 0600), listening on
` + config.DefaultListen + `. On first start it creates an admin token and prints it
once; only its hash is stored. Set PALISADE_ADMIN_TOKEN (at least 32
characters) to choose the token instead, for automation.

Settings come from, in order of precedence: flags, PALISADE_* environment
variables, the YAML file given with --config, built-in defaults. Every
setting is described in docs/configuration.md. Logs are JSON lines on
standard error.

It serves the OCI distribution API under /v2/ (oras, docker and cosign log
in with an API token as the password and any user name; the token endpoint
is /v2/token), the native API under /api/v1 (docs/api/openapi.yaml), and
/healthz, /readyz and /metrics (Prometheus). Every blob is encrypted before
it is stored, under a key per project wrapped by the key-encryption key.
docs/registry.md describes it all.

Exit codes: 0 stopped by a signal after a clean shutdown, 2 invalid
configuration, startup failure (address in use, unreadable key or
certificate, unreachable database) or a shutdown that had to cut requests.`,
		Example: `  palisade server
  palisade server --listen 127.0.0.1:8700 --data /var/lib/palisade
  palisade server --config /etc/palisade/server.yaml --tls-cert cert.pem --tls-key key.pem
  PALISADE_DATABASE=postgres://palisade@db/palisade palisade server --blobs s3://bucket`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{runsUntilSignal: "true"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := serverConfig(cmd, f, lookupEnv)
			if err != nil {
				return &exitError{code: ExitError, err: err}
			}
			if err := svc.Server(cmd.Context(), cfg, cmd.OutOrStdout(), cmd.ErrOrStderr()); err != nil {
				return &exitError{code: ExitError, err: err}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "read settings from this YAML `FILE`")
	fl.StringVar(&f.listen, "listen", "", "listen on `ADDR` (host:port; default "+config.DefaultListen+")")
	fl.StringVar(&f.data, "data", "", "keep data in `DIR` (default "+config.DefaultDataDir+")")
	fl.StringVar(&f.database, "database", "", "metadata database `URL`: sqlite:PATH or postgres://... (default SQLite in the data directory)")
	fl.StringVar(&f.blobs, "blobs", "", "blob storage `URL`: file:///abs/dir, s3://bucket... (default the blobs directory in the data directory)")
	fl.StringVar(&f.kek, "kek", "", "key-encryption key: a key `FILE` or a KMS URL (default kek.key in the data directory)")
	fl.StringVar(&f.kekPrevious, "kek-previous", "", "the key-encryption key being replaced (`FILE` or KMS URL), until 'palisade admin rotate-keys --master' has run")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "serve TLS with this PEM certificate `FILE` (needs --tls-key)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "serve TLS with this PEM private key `FILE` (needs --tls-cert)")
	fl.StringVar(&f.tlsClientCA, "tls-client-ca", "", "verify client certificates against the CAs in this PEM `FILE`; a verified certificate authenticates the service account with its subject (mutual TLS)")
	fl.StringVar(&f.logLevel, "log-level", "", "log `LEVEL`: debug, info, warn or error (default info)")
	fl.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 0, "give requests in flight this `DURATION` to finish on shutdown (default 30s)")
	return cmd
}

// serverConfig builds the configuration: defaults, then the file, then
// the environment, then the flags that were given; then checks it.
func serverConfig(cmd *cobra.Command, f serverFlags, lookupEnv func(string) (string, bool)) (config.Server, error) {
	cfg := config.DefaultServer()
	if f.config != "" {
		if err := config.LoadServerFile(f.config, &cfg); err != nil {
			return cfg, err
		}
	}
	if err := config.ApplyServerEnv(&cfg, lookupEnv); err != nil {
		return cfg, err
	}
	changed := cmd.Flags().Changed
	for name, p := range map[string]struct{ dst, val *string }{
		"listen": {&cfg.Listen, &f.listen}, "data": {&cfg.DataDir, &f.data},
		"database": {&cfg.Database, &f.database}, "blobs": {&cfg.Blobs, &f.blobs},
		"kek": {&cfg.KEK, &f.kek}, "kek-previous": {&cfg.KEKPrevious, &f.kekPrevious}, "tls-cert": {&cfg.TLSCert, &f.tlsCert},
		"tls-key": {&cfg.TLSKey, &f.tlsKey}, "log-level": {&cfg.LogLevel, &f.logLevel}, "tls-client-ca": {&cfg.TLSClientCA, &f.tlsClientCA},
	} {
		if changed(name) {
			*p.dst = *p.val
		}
	}
	if changed("shutdown-timeout") {
		cfg.ShutdownTimeout = f.shutdownTimeout
	}
	return cfg, cfg.Validate()
}
