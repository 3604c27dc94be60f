package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gocloud.dev/secrets"

	"github.com/palisade-sec/palisade/internal/access"
	"github.com/palisade-sec/palisade/internal/api"
	"github.com/palisade-sec/palisade/internal/auditlog"
	"github.com/palisade-sec/palisade/internal/auth"
	"github.com/palisade-sec/palisade/internal/blob"
	_ "github.com/palisade-sec/palisade/internal/blob/s3" // s3:// for --blobs
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/crypto"
	"github.com/palisade-sec/palisade/internal/maintenance"
	"github.com/palisade-sec/palisade/internal/oidc"
	"github.com/palisade-sec/palisade/internal/projectkeys"
	"github.com/palisade-sec/palisade/internal/registry"
	"github.com/palisade-sec/palisade/internal/server"
	"github.com/palisade-sec/palisade/internal/sso"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/postgres"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
	"github.com/palisade-sec/palisade/internal/throttle"
)

// BootstrapTokenID is the ID of the admin token created on first start.
const BootstrapTokenID = "bootstrap-admin"

// adminTokenPrefix starts every generated admin token, so that secret
// scanners and people recognise one.
const adminTokenPrefix = "pal_"

// Server runs 'palisade server' with cfg until ctx is done: it prepares
// the data directory, the key-encryption key, the metadata store and the
// blob storage, creates the bootstrap admin token on first start (printing
// a generated one once to out), and serves. Logs are JSON lines on logOut.
func (a *App) Server(ctx context.Context, cfg config.Server, out, logOut io.Writer) error {
	rt, err := a.newServer(ctx, cfg, out, logOut)
	if err != nil {
		return err
	}
	// Libraries that log through the standard log package (the AWS SDK's
	// transfer manager) then write JSON lines like the rest.
	slog.SetDefault(rt.log)
	defer rt.close(context.WithoutCancel(ctx))
	return rt.srv.Run(ctx)
}

// serverRuntime is a prepared server and what it holds open.
type serverRuntime struct {
	srv    *server.Server
	store  store.Store
	log    *slog.Logger
	closer []func(context.Context) error
}

func (rt *serverRuntime) close(ctx context.Context) {
	for i := len(rt.closer) - 1; i >= 0; i-- {
		if err := rt.closer[i](ctx); err != nil {
			rt.log.WarnContext(ctx, "close", slog.String("error", err.Error()))
		}
	}
}

func logLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

// newServer does everything Server does before serving.
func (a *App) newServer(ctx context.Context, cfg config.Server, out, logOut io.Writer) (_ *serverRuntime, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: logLevel(cfg.LogLevel)}))
	rt := &serverRuntime{log: log}
	defer func() {
		if err != nil {
			rt.close(context.WithoutCancel(ctx))
		}
	}()

	if err := ensureDataDir(ctx, log, cfg.DataDir); err != nil {
		return nil, err
	}
	keeper, keyID, err := openKEK(ctx, cfg)
	if err != nil {
		return nil, err
	}
	rt.closer = append(rt.closer, func(context.Context) error { return keeper.Close() })
	env, err := crypto.NewEnvelope(keeper, crypto.Options{KeyID: keyID})
	if err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}

	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	rt.closer = append(rt.closer, func(context.Context) error { return st.Close() })

	blobsURL, err := cfg.BlobsURL()
	if err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	masterID := keyID
	if masterID == "" {
		masterID = "kek"
	}
	previous, err := openPreviousKEK(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if previous != nil {
		rt.closer = append(rt.closer, func(context.Context) error { return previous.Close() })
		log.InfoContext(ctx, "a previous key-encryption key is configured: run 'palisade admin rotate-keys --master', then remove it")
	}
	keys, err := projectkeys.New(projectkeys.Options{Store: st, Master: keeper, MasterKeyID: masterID, Legacy: env,
		Previous: previous, PreviousKeyID: "previous", Logger: log})
	if err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	blobs, err := blob.OpenURL(ctx, blobsURL, blob.Options{SealerFor: keys.Sealer, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	rt.closer = append(rt.closer, blobs.Close)
	if err := purgeUploads(ctx, cfg, blobs, log); err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}

	if err := bootstrapAdmin(ctx, st, cfg.AdminToken.Reveal(), rand.Reader, out, log); err != nil {
		return nil, err
	}
	// A blob's classification comes from the manifests that reference it:
	// record those of manifests stored before references were.
	if n, err := maintenance.IndexReferences(ctx, st); err != nil {
		log.WarnContext(ctx, "index the references of older manifests (run palisade admin fsck)", slog.String("error", err.Error()))
	} else if n > 0 {
		log.InfoContext(ctx, "indexed the references of older manifests", slog.Int("manifests", n))
	}

	srv, err := server.New(server.Options{
		Addr:            cfg.Listen,
		TLSCertFile:     cfg.TLSCert,
		TLSKeyFile:      cfg.TLSKey,
		TLSClientCAFile: cfg.TLSClientCA,
		Logger:          log,
		ShutdownTimeout: cfg.ShutdownTimeout,
		Ready: []server.Check{
			{Name: "store", Func: storeCheck(st)},
			{Name: "blobs", Func: func(ctx context.Context) error {
				ok, err := blobs.Bucket().IsAccessible(ctx)
				if err == nil && !ok {
					err = errors.New("bucket not found")
				}
				return err
			}},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	limited := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "palisade_requests_limited_total",
		Help: "Requests refused by a limit: token or source rate, failed-login lockout, concurrent uploads.",
	}, []string{"limit"})
	if err := srv.Registry().Register(limited); err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("start server: %w", err)
	}
	var wrapper auditlog.Wrapper = keeper
	if previous != nil {
		fw := fallbackWrapper{current: keeper, previous: previous}
		// While the master key is being replaced, bring the audit keys
		// under the new one, so that they open once kek_previous is gone.
		n, err := st.RewrapAudit(ctx, fw.rewrap(ctx))
		if err != nil {
			_ = srv.Close()
			return nil, fmt.Errorf("start server: rewrap the audit keys under the new master key: %w", err)
		}
		if n > 0 {
			log.InfoContext(ctx, "audit keys rewrapped under the new master key", slog.Int("keys", n))
		}
		wrapper = fw
	}
	audit, err := openAudit(ctx, cfg, st, wrapper, log, srv.Registry())
	if err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("start server: %w", err)
	}
	rt.closer = append(rt.closer, func(context.Context) error { audit.log.Close(); return nil })
	authn := auth.New(auth.Options{Store: st, Logger: log,
		Lockout:   throttle.NewLockout(throttle.LockoutOptions{}),
		PerToken:  throttle.NewLimiter(throttle.LimiterOptions{Rate: cfg.Limits.TokenRate, Burst: burst(cfg.Limits.TokenRate)}),
		PerSource: throttle.NewLimiter(throttle.LimiterOptions{Rate: cfg.Limits.SourceRate, Burst: burst(cfg.Limits.SourceRate)}),
		OnLimited: func(limit string) { limited.WithLabelValues(limit).Inc() },
		OnRefused: func(r *http.Request) {
			ev := auditlog.Event{RequestID: server.RequestID(r.Context()), Action: auditlog.ActionAuthFailure,
				Outcome: auditlog.OutcomeDenied, Reason: "auth:bad_credentials", Object: auditlog.Object{Kind: auditlog.ObjectSession}}
			if _, err := audit.rec.Record(r.Context(), ev); err != nil {
				log.ErrorContext(r.Context(), "audit log: record an authentication failure", slog.String("error", err.Error()))
			}
		},
		Recent: throttle.NewOnce(throttle.OnceOptions{Interval: cfg.AuditAuthSuccessInterval}),
		OnSuccess: func(r *http.Request, p auth.Principal) error {
			ev := auditlog.Event{RequestID: server.RequestID(r.Context()), PrincipalID: p.ID, Service: p.Kind == access.Service,
				Action: auditlog.ActionAuthSuccess, Outcome: auditlog.OutcomeAllowed, Reason: p.Via,
				Object: auditlog.Object{Kind: auditlog.ObjectToken}, Credential: p.Credential}
			if p.Via == "certificate" {
				// A TLS session with the certificate named by its digest.
				ev.Object.Kind = auditlog.ObjectSession
			}
			_, err := audit.rec.Record(r.Context(), ev)
			return err
		},
		OnIssue: func(r *http.Request, p auth.Principal) {
			ev := auditlog.Event{RequestID: server.RequestID(r.Context()), PrincipalID: p.ID, Service: p.Kind == access.Service,
				Action: auditlog.ActionSessionIssue, Outcome: auditlog.OutcomeAllowed, Object: auditlog.Object{Kind: auditlog.ObjectSession}, Credential: p.TokenID}
			if _, err := audit.rec.Record(r.Context(), ev); err != nil {
				log.ErrorContext(r.Context(), "audit log: record a session token", slog.String("error", err.Error()))
			}
		},
	})
	reg, err := registry.New(registry.Options{
		Store: st, Blobs: blobs, Auth: authn, Logger: log, Metrics: srv.Registry(), CurrentKey: keys.Current,
		Uploads:   throttle.NewGate(cfg.Limits.UploadsPerToken),
		OnLimited: func(limit string) { limited.WithLabelValues(limit).Inc() },
		Audit:     audit.rec,
	})
	if err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("start server: %w", err)
	}
	reg.Mount(srv)
	projectKey := keyID
	if projectKey == "" {
		projectKey = cfg.KEK // a keeper URL: a reference, not key material
	}
	opts := api.Options{Store: st, Auth: authn, ProjectKeyID: projectKey, Keys: keys, Objects: blobs,
		Maintenance: maintenance.Service{Store: st, Blobs: blobs, Logger: log, Audit: st}, Logger: log, Audit: audit.rec,
		AuditLog: st, AuditOrigin: cfg.AuditOrigin, AuditVerifierKey: audit.verifier, AuditRefusing: audit.log.Refusing, Eraser: audit.subjects}
	if cfg.OIDC.Enabled() {
		svc, err := singleSignOn(cfg.OIDC, st, log, recordSSOChange(audit.rec))
		if err != nil {
			_ = srv.Close()
			return nil, fmt.Errorf("start server: %w", err)
		}
		opts.SSO = svc
	}
	native, err := api.New(opts)
	if err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("start server: %w", err)
	}
	native.Mount(srv)
	rt.srv = srv
	rt.store = st
	return rt, nil
}

// serverAudit is the server's audit trail.
type serverAudit struct {
	log      *auditlog.Log
	rec      *auditlog.Recorder
	subjects *auditlog.Subjects
	// verifier is the checkpoint verifier key verifiers pin.
	verifier string
}

// openAudit opens the audit log: the checkpoint signing key (created on
// first start, wrapped by the master key), the sequencer, and the
// pseudonym keys.
func openAudit(ctx context.Context, cfg config.Server, st store.Store, keeper auditlog.Wrapper, log *slog.Logger, metrics prometheus.Registerer) (serverAudit, error) {
	signer, vkey, err := auditlog.LoadOrCreateKey(ctx, st, keeper, "palisade-audit", rand.Reader)
	if err != nil {
		return serverAudit{}, err
	}
	l, err := auditlog.New(auditlog.Options{Store: st, Signer: signer, Origin: cfg.AuditOrigin, Logger: log, Metrics: metrics})
	if err != nil {
		return serverAudit{}, err
	}
	// A log that no longer matches its latest checkpoint still serves
	// reads and verification, but refuses every change: say so now.
	if err := l.Check(ctx); errors.Is(err, auditlog.ErrInconsistent) {
		log.ErrorContext(ctx, "audit log: "+err.Error())
	} else if err != nil {
		l.Close()
		return serverAudit{}, fmt.Errorf("check the audit log: %w", err)
	}
	node, _ := os.Hostname()
	subjects := auditlog.NewSubjects(st, keeper, rand.Reader, 1)
	rec := auditlog.NewRecorder(l, subjects, node, nil)
	return serverAudit{log: l, rec: rec, subjects: subjects, verifier: vkey}, nil
}

// fallbackWrapper wraps with the current master key and unwraps with it,
// or with the previous one while a master key is being replaced
// (kek_previous).
type fallbackWrapper struct {
	current, previous *secrets.Keeper
}

func (w fallbackWrapper) Encrypt(ctx context.Context, plaintext []byte) ([]byte, error) {
	return w.current.Encrypt(ctx, plaintext)
}

// rewrap returns a function that rewraps a key the previous master key
// wrapped under the current one, and leaves the others.
func (w fallbackWrapper) rewrap(ctx context.Context) func([]byte) ([]byte, bool, error) {
	return func(wrapped []byte) ([]byte, bool, error) {
		if _, err := w.current.Decrypt(ctx, wrapped); err == nil {
			return nil, false, nil
		}
		p, err := w.previous.Decrypt(ctx, wrapped)
		if err != nil {
			return nil, false, errors.New("neither the master key nor kek_previous opens it")
		}
		nw, err := w.current.Encrypt(ctx, p)
		if err != nil {
			return nil, false, err
		}
		return nw, true, nil
	}
}

func (w fallbackWrapper) Decrypt(ctx context.Context, ciphertext []byte) ([]byte, error) {
	p, err := w.current.Decrypt(ctx, ciphertext)
	if err == nil {
		return p, nil
	}
	if p, perr := w.previous.Decrypt(ctx, ciphertext); perr == nil {
		return p, nil
	}
	return nil, err
}

// maxSecretFile bounds the OIDC client secret file.
const maxSecretFile = 4096

// singleSignOn builds the single sign-on service from its configuration;
// the provider itself is discovered on first use.
func singleSignOn(c config.OIDC, st store.Store, log *slog.Logger, record func(context.Context, string, sso.Change) error) (*sso.Service, error) {
	secret := ""
	if c.ClientSecretFile != "" {
		f, err := os.Open(c.ClientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("oidc.client_secret_file: %w", err)
		}
		b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("oidc.client_secret_file: %w", err)
		}
		if len(b) > maxSecretFile {
			return nil, fmt.Errorf("oidc.client_secret_file %s is larger than %d bytes: it should hold the client secret only", c.ClientSecretFile, maxSecretFile)
		}
		secret = strings.TrimSpace(string(b))
	}
	groups := map[string][]sso.Grant{}
	for g, grants := range c.Groups {
		for _, gr := range grants {
			project, role, err := config.ParseGrant(gr)
			if err != nil {
				return nil, fmt.Errorf("oidc.groups.%s: %w", g, err)
			}
			groups[g] = append(groups[g], sso.Grant{Project: project, Role: role})
		}
	}
	return sso.New(sso.Config{
		OIDC: oidc.Config{Issuer: c.Issuer, ClientID: c.ClientID, ClientSecret: secret, RedirectURL: c.RedirectURL,
			Scopes: c.Scopes, GroupsClaim: c.GroupsClaim},
		DefaultClearance: store.Classification(c.DefaultClearance), TokenTTL: c.TokenTTL,
		AdminGroups: c.AdminGroups, Groups: groups,
	}, st, sso.Options{Logger: log, Record: record}), nil
}

// recordSSOChange returns the audit recording of what a single sign-on
// login changes about its user: the user is the actor, the reason says
// the change came from the provider (sso, sso:ROLE, sso:groups, ...).
func recordSSOChange(rec *auditlog.Recorder) func(context.Context, string, sso.Change) error {
	return func(ctx context.Context, principalID string, c sso.Change) error {
		ev := auditlog.Event{RequestID: server.RequestID(ctx), PrincipalID: principalID, Outcome: auditlog.OutcomeAllowed, Project: c.Project}
		user, member := auditlog.Object{Kind: auditlog.ObjectUser}, auditlog.Object{Kind: auditlog.ObjectMember}
		switch c.Kind {
		case sso.UserCreated:
			ev.Action, ev.Reason, ev.Object = auditlog.ActionUserCreate, "sso", user
		case sso.EmailUpdated:
			ev.Action, ev.Reason, ev.Object = auditlog.ActionUserChange, "sso:email", user
		case sso.AdminGranted, sso.AdminRevoked:
			ev.Action, ev.Reason, ev.Object = auditlog.ActionUserChange, "sso:"+string(c.Kind), user
		case sso.MemberSet:
			ev.Action, ev.Reason, ev.Object = auditlog.ActionMemberSet, "sso:"+string(c.Role), member
		case sso.MemberRemoved:
			ev.Action, ev.Reason, ev.Object = auditlog.ActionMemberRemove, "sso:groups", member
		default:
			return fmt.Errorf("single sign-on change %q has no audit action", c.Kind)
		}
		if c.NotMade {
			ev.Outcome, ev.Reason = auditlog.OutcomeAborted, "sso:not_made"
		}
		_, err := rec.Record(ctx, ev)
		return err
	}
}

// burst is the token bucket size of a rate: twice the rate, at least one.
func burst(rate float64) int {
	return max(int(2*rate), 1)
}

// staleUploadAge is how old the parts of an unknown upload must be before
// a server sharing its bucket with others deletes them.
const staleUploadAge = 24 * time.Hour

// purgeUploads deletes the parts of uploads cut by a crash or a restart.
// With SQLite the server is alone with its bucket and removes them all;
// with PostgreSQL other replicas may share the bucket, so only parts older
// than a day go.
func purgeUploads(ctx context.Context, cfg config.Server, blobs *blob.Store, log *slog.Logger) error {
	var (
		n   int
		err error
	)
	if cfg.SQLitePath() != "" {
		n, err = blobs.PurgeUploads(ctx)
	} else {
		n, err = blobs.PurgeStaleUploads(ctx, time.Now().Add(-staleUploadAge))
	}
	if err != nil {
		return err
	}
	if n > 0 {
		log.InfoContext(ctx, "removed parts of uploads cut by a restart", slog.Int("parts", n))
	}
	return nil
}

// ensureDataDir creates the data directory with mode 0700, and warns when
// an existing one lets group or others in.
func ensureDataDir(ctx context.Context, log *slog.Logger, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("data directory %s is not a directory", dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		log.WarnContext(ctx, "data directory is accessible to group or others; run chmod 700 on it",
			slog.String("dir", dir), slog.String("mode", fmt.Sprintf("%04o", fi.Mode().Perm())))
	}
	return nil
}

// openKEK opens the key-encryption key: the local key file (created on
// first start) or a keeper URL. The key ID recorded in wrapped keys names
// the key without revealing it.
func openKEK(ctx context.Context, cfg config.Server) (*secrets.Keeper, string, error) {
	url, keyID := cfg.KEK, ""
	if file := cfg.KEKFile(); file != "" {
		var err error
		if url, err = crypto.LocalKEK(file); err != nil {
			return nil, "", fmt.Errorf("start server: %w", err)
		}
		keyID = "local:" + config.KEKFileName
	}
	k, err := crypto.OpenKeeper(ctx, url)
	if err != nil {
		return nil, "", fmt.Errorf("start server: %w", err)
	}
	return k, keyID, nil
}

// openPreviousKEK opens the master key being replaced (kek_previous), or
// returns nil when none is configured. A local key file must exist: it is
// never created.
func openPreviousKEK(ctx context.Context, cfg config.Server) (*secrets.Keeper, error) {
	if cfg.KEKPrevious == "" {
		return nil, nil
	}
	url := cfg.KEKPrevious
	if file := cfg.KEKPreviousFile(); file != "" {
		if _, err := os.Stat(file); err != nil {
			return nil, fmt.Errorf("start server: kek_previous: %w", err)
		}
		var err error
		if url, err = crypto.LocalKEK(file); err != nil {
			return nil, fmt.Errorf("start server: kek_previous: %w", err)
		}
	}
	k, err := crypto.OpenKeeper(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("start server: kek_previous: %w", err)
	}
	return k, nil
}

// openStore opens the SQLite or PostgreSQL metadata store.
func openStore(ctx context.Context, cfg config.Server, log *slog.Logger) (store.Store, error) {
	var (
		st  store.Store
		err error
	)
	if path := cfg.SQLitePath(); path != "" {
		st, err = sqlite.Open(ctx, sqlite.Options{Path: path, Logger: log})
	} else {
		st, err = postgres.Open(ctx, postgres.Options{DSN: cfg.DatabaseURL(), Logger: log})
	}
	if err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	return st, nil
}

// storeCheck is the store's readiness check: a store that can ping is
// pinged; otherwise a lookup of a project that need not exist shows the
// database answers.
func storeCheck(st store.Store) func(context.Context) error {
	if p, ok := st.(interface{ Ping(context.Context) error }); ok {
		return p.Ping
	}
	return func(ctx context.Context) error {
		_, err := st.Project(ctx, "palisade-readiness-probe")
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
}

// tokenStore is what bootstrapAdmin needs from the metadata store.
type tokenStore interface {
	ListPrincipals(ctx context.Context) ([]store.Principal, error)
	PrincipalByName(ctx context.Context, name string) (store.Principal, error)
	CreatePrincipal(ctx context.Context, p store.Principal) (store.Principal, error)
	ListTokens(ctx context.Context) ([]store.Token, error)
	CreateToken(ctx context.Context, t store.Token) (store.Token, error)
}

// AdminName names the system administrator created on first start.
const AdminName = "admin"

// bootstrapAdmin makes sure an administrator can log in: unless an
// enabled administrator holds an active, unexpired, unscoped token, it
// creates the administrator "admin" (when missing) and a token for it: the
// given one (PALISADE_ADMIN_TOKEN), or, on a server where no administrator
// ever held a token (the first start), a random one that is printed once
// to out. Only the token's SHA-256 hash is stored.
func bootstrapAdmin(ctx context.Context, st tokenStore, given string, random io.Reader, out io.Writer, log *slog.Logger) error {
	principals, err := st.ListPrincipals(ctx)
	if err != nil {
		return fmt.Errorf("bootstrap admin token: %w", err)
	}
	tokens, err := st.ListTokens(ctx)
	if err != nil {
		return fmt.Errorf("bootstrap admin token: %w", err)
	}
	admins := map[string]bool{}
	for _, p := range principals {
		if p.Admin && p.Enabled() {
			admins[p.ID] = true
		}
	}
	now := time.Now()
	everHeld := false
	for _, t := range tokens {
		if admins[t.PrincipalID] && t.Active() && t.Scope == "" && (t.Expires.IsZero() || now.Before(t.Expires)) {
			if given != "" && t.Hash != sha256.Sum256([]byte(given)) {
				log.WarnContext(ctx, "PALISADE_ADMIN_TOKEN is ignored: an admin token already exists")
			}
			return nil
		}
		everHeld = everHeld || admins[t.PrincipalID]
	}
	if given == "" && everHeld {
		// Administrators exist whose tokens have all expired or been
		// revoked (a single sign-on deployment, for one): printing a new
		// token that never expires on every restart would hand it to
		// whoever reads the server's output.
		log.WarnContext(ctx, "no administrator holds an active token; set PALISADE_ADMIN_TOKEN to create one, or log in with single sign-on")
		return nil
	}
	admin, err := st.PrincipalByName(ctx, AdminName)
	if errors.Is(err, store.ErrNotFound) {
		admin, err = st.CreatePrincipal(ctx, store.Principal{ID: AdminName, Name: AdminName, Kind: store.KindUser, Admin: true, Clearance: store.Restricted})
		if errors.Is(err, store.ErrExists) { // another server sharing the database was first
			admin, err = st.PrincipalByName(ctx, AdminName)
		}
	}
	if err != nil {
		return fmt.Errorf("bootstrap admin token: %w", err)
	}
	if !admin.Admin || !admin.Enabled() {
		return fmt.Errorf("bootstrap admin token: no administrator holds an active token, and the user %q is not an enabled administrator: restore one with a token of an administrator, or in the database", AdminName)
	}
	token := given
	if token == "" {
		b := make([]byte, 32)
		if _, err := io.ReadFull(random, b); err != nil {
			return fmt.Errorf("bootstrap admin token: %w", err)
		}
		token = adminTokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	}
	id := BootstrapTokenID
	if len(tokens) > 0 {
		// A revoked bootstrap token keeps its ID; the new one needs another.
		id = fmt.Sprintf("%s-%d", BootstrapTokenID, len(tokens)+1)
	}
	_, err = st.CreateToken(ctx, store.Token{ID: id, Name: "bootstrap admin token", PrincipalID: admin.ID, Hash: sha256.Sum256([]byte(token))})
	switch {
	case errors.Is(err, store.ErrExists):
		// Another server sharing the database created it first.
		return nil
	case err != nil:
		return fmt.Errorf("bootstrap admin token: %w", err)
	}
	if given != "" {
		log.InfoContext(ctx, "admin token set from PALISADE_ADMIN_TOKEN", slog.String("token_id", id))
		return nil
	}
	log.InfoContext(ctx, "admin token created", slog.String("token_id", id))
	_, err = fmt.Fprintf(out, "%s\n\n    %s\n\n%s\n",
		"Palisade created an admin token for this server:",
		token,
		strings.Join([]string{
			"Store it now, it is not shown again: only its hash is kept.",
			"Use it as the password of registry clients (oras login, docker login; any user name) or set PALISADE_TOKEN for the palisade CLI.",
		}, "\n"))
	if err != nil {
		return fmt.Errorf("print admin token: %w", err)
	}
	return nil
}
