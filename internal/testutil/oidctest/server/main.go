// Command server runs the zitadel/oidc example OpenID provider for
// Palisade's tests, with two changes to the upstream example
// (github.com/zitadel/oidc/v3/example/server): it also registers a
// confidential client for the device authorization grant (RFC 8628),
// "device" with the secret "secret", which upstream never registers, and
// it listens on 127.0.0.1 only instead of every interface.
//
// Everything else is upstream's: the same environment variables (PORT,
// REDIRECT_URI, USERS_FILE), the issuer http://localhost:$PORT/, the
// clients "native", "web" and "api", the login and device pages, and the
// in-memory storage. It is test infrastructure: the signing key is made
// at start, passwords are plain text and nothing persists.
//
// It is its own Go module so that the zitadel/oidc dependencies stay out
// of Palisade's go.mod. Install it with
//
//	GOBIN=$PWD/.tools/oidc go -C internal/testutil/oidctest/server install .
package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/zitadel/oidc/v3/example/server/config"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "oidc test server:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg := config.FromEnvVars(&config.Config{Port: config.DefaultIssuerPort})
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	issuer := fmt.Sprintf("http://localhost:%s/", cfg.Port)

	storage.RegisterClients(
		storage.NativeClient("native", cfg.RedirectURI...),
		storage.WebClient("web", "secret", cfg.RedirectURI...),
		storage.WebClient("api", "secret", cfg.RedirectURI...),
		storage.DeviceClient("device", "secret"),
	)
	users := storage.NewUserStore(issuer)
	if cfg.UsersFile != "" {
		var err error
		if users, err = storage.StoreFromFile(cfg.UsersFile); err != nil {
			return fmt.Errorf("read users file: %w", err)
		}
	}
	router := exampleop.SetupServer(issuer, storage.NewStorage(users), logger, false)

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", cfg.Port))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	logger.Info("server listening", "issuer", issuer)
	srv := &http.Server{Handler: router, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
