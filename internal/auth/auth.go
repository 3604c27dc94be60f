package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/palisade-sec/palisade/internal/access"
	"github.com/palisade-sec/palisade/internal/store"
)

// Errors of Authenticate. None says whether a token or an account exists.
var (
	// ErrNoCredentials means the request carries no credentials: the
	// client should be challenged.
	ErrNoCredentials = errors.New("authentication required")
	// ErrBadCredentials means the credentials were not accepted (unknown,
	// revoked or expired token, disabled owner, malformed header).
	ErrBadCredentials = errors.New("credentials not accepted")
)

// WaitError is the error of a request refused for a while: too many
// failed attempts (Locked) or too many requests. It says how long to wait.
type WaitError struct {
	Locked     bool
	RetryAfter time.Duration
}

// Error says how long to wait: the whole seconds of the Retry-After
// header sent with it.
func (e *WaitError) Error() string {
	wait := time.Duration(max((e.RetryAfter+time.Second-1)/time.Second, 1)) * time.Second
	if e.Locked {
		return fmt.Sprintf("too many failed attempts: try again in %s", wait)
	}
	return fmt.Sprintf("too many requests: try again in %s", wait)
}

// SessionTokenPrefix starts every session token the token endpoint issues.
const SessionTokenPrefix = "palr_"

// Defaults.
const (
	// SessionTTL is how long a session token lives.
	SessionTTL = 5 * time.Minute
	// touchEvery bounds how often a token's last-used time is written.
	touchEvery = time.Minute
	// maxTokenLen bounds a presented token, so that hashing and logging
	// cost nothing an attacker controls.
	maxTokenLen = 512
	// maxUserLen bounds the Basic user name counted for lockouts.
	maxUserLen = 128
)

// Principal is an authenticated caller: who it is and what it may do
// (access.Principal), and, for a registry session token, the repository
// scopes granted at issue.
type Principal struct {
	*access.Principal
	scopes  []Scope
	session bool
	// Via says how it authenticated: "token", "session" or "certificate".
	Via string
	// Credential names what was presented, never its secret: the API
	// token's ID, or for a certificate "cert-" and the first 16 hex
	// digits of its SHA-256.
	Credential string
	// FullScope reports credentials with all of the owner's access (an
	// unscoped API token or a certificate): only those create tokens.
	FullScope bool
	// TokenExpires is when the presented API token expires (zero when it
	// does not): a token it creates expires no later.
	TokenExpires time.Time
}

// Session reports whether the principal authenticated with a registry
// session token rather than an API token.
func (p Principal) Session() bool { return p.session }

// ScopeCovers reports whether the credentials cover action on repository
// repo ("PROJECT/NAME"): always for an API token or a certificate; for a
// session token, when a scope granted at issue names it. What the
// principal may do at all is access.Decide's answer, asked separately.
func (p Principal) ScopeCovers(action Action, repo string) bool {
	if !p.session {
		return true
	}
	for _, s := range p.scopes {
		if s.has(repo, action) {
			return true
		}
	}
	return false
}

// MayHold reports whether the principal's permissions in project allow
// action at all (before clearance): what the token endpoint grants.
func MayHold(p *access.Principal, action Action, project string) bool {
	have := p.PermsIn(project)
	switch action {
	case ActionPull:
		return have&(access.PermPull|access.PermPullPromoted) != 0
	case ActionPush:
		return have&access.PermPush != 0
	case ActionDelete:
		return have&access.PermDelete != 0
	}
	return false
}

// Store is what the Authenticator needs from the metadata store.
type Store interface {
	CredentialByHash(ctx context.Context, hash [sha256.Size]byte) (store.Credential, error)
	TouchToken(ctx context.Context, id string, at time.Time) error
	CreateSessionToken(ctx context.Context, st store.SessionToken) error
	SessionToken(ctx context.Context, hash [sha256.Size]byte, now time.Time) (store.SessionToken, store.Token, error)
	DeleteExpiredSessionTokens(ctx context.Context, now time.Time) (int64, error)
	PrincipalWithRoles(ctx context.Context, id string) (store.Principal, []store.Member, error)
	PrincipalByCert(ctx context.Context, subject string) (store.Principal, error)
}

// Lockout slows down failed authentication (throttle.Lockout).
type Lockout interface {
	Wait(key string) time.Duration
	Fail(key string) time.Duration
	Succeed(key string)
}

// Recent lets a key through at most once per interval (throttle.Once).
type Recent interface {
	Take(key string) bool
	Release(key string)
}

// RateLimiter limits requests per key (throttle.Limiter).
type RateLimiter interface {
	Allow(key string) (bool, time.Duration)
}

// Options configures an Authenticator.
type Options struct {
	Store  Store
	Logger *slog.Logger
	// Lockout, when set, counts failures per source address and per
	// account name and refuses attempts while either is locked.
	Lockout Lockout
	// PerToken and PerSource, when set, limit the request rate of each
	// principal's token and of each source address.
	PerToken, PerSource RateLimiter
	// OnLimited, when set, is told of each request a limit refused:
	// "token", "source" or "lockout".
	OnLimited func(limit string)
	// OnIssue, when set, is told of each session token the token
	// endpoint issued (for the audit log).
	OnIssue func(r *http.Request, p Principal)
	// OnRefused, when set, is told of each request to the token endpoint
	// whose credentials were not accepted.
	OnRefused func(r *http.Request)
	// OnSuccess, when set, is told of successful authentications with an
	// API token or a client certificate (for the audit log): of each
	// credential from each source (an IPv6 address counts by its /64),
	// the first one that Recent lets through. Session tokens are left
	// out: their issue is what OnIssue reports. When OnSuccess fails the
	// next request reports again; the request goes on either way, as with
	// failures and denials.
	OnSuccess func(r *http.Request, p Principal) error
	// Recent paces OnSuccess; nil reports every success.
	Recent Recent
	// Now and Rand default to time.Now and crypto/rand.Reader.
	Now  func() time.Time
	Rand io.Reader
}

// Authenticator checks credentials and issues session tokens.
type Authenticator struct {
	st        Store
	log       *slog.Logger
	lockout   Lockout
	perToken  RateLimiter
	perSource RateLimiter
	onLimited func(string)
	onIssue   func(*http.Request, Principal)
	onRefused func(*http.Request)
	onSuccess func(*http.Request, Principal) error
	recent    Recent
	now       func() time.Time
	rand      io.Reader
}

// New returns an Authenticator.
func New(opts Options) *Authenticator {
	a := &Authenticator{st: opts.Store, log: opts.Logger, lockout: opts.Lockout,
		perToken: opts.PerToken, perSource: opts.PerSource, onLimited: opts.OnLimited, onIssue: opts.OnIssue, onRefused: opts.OnRefused, onSuccess: opts.OnSuccess, recent: opts.Recent,
		now: opts.Now, rand: opts.Rand}
	if a.onLimited == nil {
		a.onLimited = func(string) {}
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.rand == nil {
		a.rand = rand.Reader
	}
	return a
}

// Source returns the key of the request's source address for limits.
func Source(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "ip:" + host
}

// sourcePrefix is the request's source address, an IPv6 address cut to
// its /64 (what one host or site usually holds), so that a client cannot
// mint keys by rotating addresses within its prefix.
func sourcePrefix(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	switch {
	case err != nil:
		return "ip:" + host
	case addr.Unmap().Is4():
		return "ip:" + addr.Unmap().String()
	}
	prefix, err := addr.Prefix(64)
	if err != nil {
		return "ip:" + host
	}
	return "ip:" + prefix.String()
}

// LimitSource applies the per-source rate limit to a request that needs
// no credentials (the single sign-on routes): a *WaitError when the source
// is over its rate.
func (a *Authenticator) LimitSource(r *http.Request) error {
	if a.perSource == nil {
		return nil
	}
	if ok, wait := a.perSource.Allow(Source(r)); !ok {
		a.onLimited("source")
		return &WaitError{RetryAfter: wait}
	}
	return nil
}

// Authenticate returns the principal the request's credentials prove:
// ErrNoCredentials without any, ErrBadCredentials when they are not
// accepted, a *WaitError while the source is locked out or over its rate
// (or the account is locked and the credentials fail), or a store error
// wrapped otherwise.
func (a *Authenticator) Authenticate(r *http.Request) (Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		if err := a.LimitSource(r); err != nil {
			return Principal{}, err
		}
		if p, ok, err := a.certificate(r); ok || err != nil {
			if err == nil {
				a.succeeded(r, p)
			}
			return p, err
		}
		return Principal{}, ErrNoCredentials
	}
	account := ""
	if user, _, ok := r.BasicAuth(); ok && user != "" {
		account = user
	}
	return a.guarded(r, account, func(ctx context.Context) (Principal, error) { return a.credentials(ctx, h, r) })
}

// guarded runs check under the limits: the source's rate and lockout
// before, the failure counts (per source and per account name, whether
// or not the account exists) after, and the token's rate once it is
// known. A locked source is refused before its credentials are looked at;
// under a locked account name only failures are refused (429 instead of
// 401), so that someone failing on purpose under another's name cannot
// lock its owner out.
func (a *Authenticator) guarded(r *http.Request, account string, check func(context.Context) (Principal, error)) (Principal, error) {
	if err := a.LimitSource(r); err != nil {
		return Principal{}, err
	}
	src := Source(r)
	if account != "" {
		account = "user:" + truncateKey(account)
	}
	if a.lockout != nil {
		if wait := a.lockout.Wait(src); wait > 0 {
			a.onLimited("lockout")
			return Principal{}, &WaitError{Locked: true, RetryAfter: wait}
		}
	}
	p, err := check(r.Context())
	switch {
	case errors.Is(err, ErrBadCredentials):
		if a.lockout != nil {
			a.lockout.Fail(src)
			if account != "" {
				locked := a.lockout.Wait(account) > 0
				wait := a.lockout.Fail(account)
				if locked {
					a.onLimited("lockout")
					return Principal{}, &WaitError{Locked: true, RetryAfter: wait}
				}
			}
		}
		return Principal{}, err
	case err != nil:
		return Principal{}, err
	}
	if a.lockout != nil && account != "" {
		a.lockout.Succeed(account)
	}
	if a.perToken != nil && p.TokenID != "" {
		if ok, wait := a.perToken.Allow("token:" + p.TokenID); !ok {
			a.onLimited("token")
			return Principal{}, &WaitError{RetryAfter: wait}
		}
	}
	a.succeeded(r, p)
	return p, nil
}

// succeeded reports a successful authentication to OnSuccess, once per
// credential and source address while Recent holds the key.
func (a *Authenticator) succeeded(r *http.Request, p Principal) {
	if a.onSuccess == nil || p.session {
		return
	}
	key := "success:" + p.Credential + "|" + sourcePrefix(r)
	if a.recent != nil && !a.recent.Take(key) {
		return
	}
	if err := a.onSuccess(r, p); err != nil {
		if a.recent != nil {
			a.recent.Release(key)
		}
		// The reporter's own failure is logged where it happened.
		a.log.WarnContext(r.Context(), "a successful authentication went unreported", slog.String("via", p.Via))
	}
}

func (a *Authenticator) credentials(ctx context.Context, h string, r *http.Request) (Principal, error) {
	if _, pass, ok := r.BasicAuth(); ok {
		return a.apiToken(ctx, pass)
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return Principal{}, ErrBadCredentials
	}
	token = strings.TrimSpace(token)
	if strings.HasPrefix(token, SessionTokenPrefix) {
		return a.sessionToken(ctx, token)
	}
	return a.apiToken(ctx, token)
}

func truncateKey(s string) string {
	if len(s) > maxUserLen {
		return s[:maxUserLen]
	}
	return s
}

// apiToken authenticates an API token given by value.
func (a *Authenticator) apiToken(ctx context.Context, token string) (Principal, error) {
	if token == "" || len(token) > maxTokenLen {
		return Principal{}, ErrBadCredentials
	}
	c, err := a.st.CredentialByHash(ctx, sha256.Sum256([]byte(token)))
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrRevoked):
		return Principal{}, ErrBadCredentials
	case err != nil:
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	p, full, err := a.principalOf(c.Token, c.Owner, c.Roles)
	if err != nil {
		return Principal{}, err
	}
	a.touch(ctx, c.Token)
	return Principal{Principal: p, Via: "token", Credential: c.Token.ID, FullScope: full, TokenExpires: c.Token.Expires}, nil
}

func (a *Authenticator) sessionToken(ctx context.Context, token string) (Principal, error) {
	if len(token) > maxTokenLen {
		return Principal{}, ErrBadCredentials
	}
	st, t, err := a.st.SessionToken(ctx, sha256.Sum256([]byte(token)), a.now())
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrRevoked):
		return Principal{}, ErrBadCredentials
	case err != nil:
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	scopes, err := decodeScopes(st.Scope)
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: session token of %q: %w", t.ID, err)
	}
	owner, roles, err := a.st.PrincipalWithRoles(ctx, t.PrincipalID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Principal{}, ErrBadCredentials
	case err != nil:
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	p, _, err := a.principalOf(t, owner, roles)
	if err != nil {
		return Principal{}, err
	}
	return Principal{Principal: p, scopes: scopes, session: true, Via: "session"}, nil
}

// principalOf computes what a token of an enabled owner may do; full
// reports a token with all of its owner's access.
func (a *Authenticator) principalOf(t store.Token, owner store.Principal, roles []store.Member) (p *access.Principal, full bool, err error) {
	if !t.Expires.IsZero() && !a.now().Before(t.Expires) {
		return nil, false, ErrBadCredentials
	}
	if t.PrincipalID == "" || owner.ID != t.PrincipalID || !owner.Enabled() {
		return nil, false, ErrBadCredentials
	}
	scope, err := ParseTokenScope(t.Scope)
	if err != nil {
		return nil, false, fmt.Errorf("authenticate: token %q: %w", t.ID, err)
	}
	eff := Effective(principalOf(owner, roles), scope)
	eff.TokenID = t.ID
	return &eff, scope.Full(), nil
}

// principalOf turns a stored principal and its roles into an
// access.Principal. An unknown clearance or role grants nothing.
func principalOf(sp store.Principal, roles []store.Member) access.Principal {
	clearance, _ := access.ParseLevel(string(sp.Clearance))
	p := access.Principal{ID: sp.ID, Name: sp.Name, Kind: access.Kind(sp.Kind), Admin: sp.Admin, Clearance: clearance,
		Projects: make(map[string]access.Perm, len(roles))}
	for _, m := range roles {
		p.Projects[m.Project] |= access.Role(m.Role).Perms()
	}
	return p
}

// certificate authenticates a verified client certificate (mutual TLS)
// as the service account whose certificate subject it carries. ok is
// false when the request has no verified certificate.
func (a *Authenticator) certificate(r *http.Request) (Principal, bool, error) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return Principal{}, false, nil
	}
	subject := r.TLS.VerifiedChains[0][0].Subject.String()
	sp, err := a.st.PrincipalByCert(r.Context(), subject)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Principal{}, true, ErrBadCredentials
	case err != nil:
		return Principal{}, true, fmt.Errorf("authenticate: %w", err)
	}
	if !sp.Enabled() || sp.Kind != store.KindService {
		return Principal{}, true, ErrBadCredentials
	}
	sp, roles, err := a.st.PrincipalWithRoles(r.Context(), sp.ID)
	if err != nil {
		return Principal{}, true, fmt.Errorf("authenticate: %w", err)
	}
	p := principalOf(sp, roles)
	// Tokens it creates expire with the certificate at the latest.
	leaf := r.TLS.VerifiedChains[0][0]
	sum := sha256.Sum256(leaf.Raw)
	return Principal{Principal: &p, Via: "certificate", Credential: "cert-" + hex.EncodeToString(sum[:8]), FullScope: true, TokenExpires: leaf.NotAfter}, true, nil
}

// touch records that the token was used, at most once a minute so that
// reads do not become writes.
func (a *Authenticator) touch(ctx context.Context, t store.Token) {
	now := a.now()
	if now.Sub(t.LastUsed) < touchEvery {
		return
	}
	if err := a.st.TouchToken(ctx, t.ID, now); err != nil {
		a.log.WarnContext(ctx, "record token use", slog.String("token_id", t.ID), slog.String("error", err.Error()))
	}
}

// Issue creates a session token for p granting what p may do of the
// requested scopes, and returns the token and its expiry. It also removes
// expired session tokens now and then.
func (a *Authenticator) Issue(ctx context.Context, p Principal, requested []Scope) (string, time.Time, error) {
	var granted []Scope
	for _, s := range requested {
		project, _, _ := strings.Cut(s.Repository, "/")
		g := Scope{Repository: s.Repository}
		for _, act := range s.Actions {
			if MayHold(p.Principal, act, project) && p.ScopeCovers(act, s.Repository) {
				g.Actions = append(g.Actions, act)
			}
		}
		if len(g.Actions) > 0 {
			granted = append(granted, g)
		}
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(a.rand, b); err != nil {
		return "", time.Time{}, fmt.Errorf("issue session token: %w", err)
	}
	token := SessionTokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	now := a.now()
	expires := now.Add(SessionTTL)
	err := a.st.CreateSessionToken(ctx, store.SessionToken{
		Hash: sha256.Sum256([]byte(token)), TokenID: p.TokenID, Scope: encodeScopes(granted), Expires: expires,
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("issue session token: %w", err)
	}
	if b[0] < 8 { // about one issue in 32 sweeps expired tokens
		if _, err := a.st.DeleteExpiredSessionTokens(ctx, now); err != nil {
			a.log.WarnContext(ctx, "delete expired session tokens", slog.String("error", err.Error()))
		}
	}
	return token, expires, nil
}
