package auth

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
	"strings"
	"time"

	"github.com/palisade-sec/palisade/internal/store"
)

// Errors of Authenticate. Neither says whether a token exists.
var (
	// ErrNoCredentials means the request carries no credentials: the
	// client should be challenged.
	ErrNoCredentials = errors.New("authentication required")
	// ErrBadCredentials means the credentials were not accepted (unknown,
	// revoked or expired token, malformed header).
	ErrBadCredentials = errors.New("credentials not accepted")
)

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
)

// Principal is an authenticated caller.
type Principal struct {
	// TokenID identifies the API token (directly or behind a session).
	TokenID string
	Role    store.Role
	// scopes restricts a session token to what its issue granted; nil for
	// an API token used directly.
	scopes  []Scope
	session bool
}

// Admin reports whether the principal may administer the server
// (projects, tokens, keys).
func (p Principal) Admin() bool { return p.Role == store.RoleAdmin && !p.session }

// Allows reports whether the principal may perform action on repository
// repo ("PROJECT/NAME"): its role must allow the action and, for a session
// token, a granted scope must name it. This is the one place that decides.
func (p Principal) Allows(action Action, repo string) bool {
	if !roleAllows(p.Role, action) {
		return false
	}
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

// Session reports whether the principal authenticated with a registry
// session token rather than an API token.
func (p Principal) Session() bool { return p.session }

// MayGain reports whether a session token that lacks action on repo could
// get it from the token endpoint: the client should be challenged again
// (401) rather than denied (403).
func (p Principal) MayGain(action Action) bool { return p.session && roleAllows(p.Role, action) }

// roleAllows is the permission matrix of the first increment.
func roleAllows(r store.Role, a Action) bool {
	switch r {
	case store.RoleAdmin:
		return true
	case store.RoleReadOnly:
		return a == ActionPull
	}
	return false
}

// Store is what the Authenticator needs from the metadata store.
type Store interface {
	TokenByHash(ctx context.Context, hash [sha256.Size]byte) (store.Token, error)
	TouchToken(ctx context.Context, id string, at time.Time) error
	CreateSessionToken(ctx context.Context, st store.SessionToken) error
	SessionToken(ctx context.Context, hash [sha256.Size]byte, now time.Time) (store.SessionToken, store.Token, error)
	DeleteExpiredSessionTokens(ctx context.Context, now time.Time) (int64, error)
}

// Options configures an Authenticator.
type Options struct {
	Store  Store
	Logger *slog.Logger
	// Now and Rand default to time.Now and crypto/rand.Reader.
	Now  func() time.Time
	Rand io.Reader
}

// Authenticator checks credentials and issues session tokens.
type Authenticator struct {
	st   Store
	log  *slog.Logger
	now  func() time.Time
	rand io.Reader
}

// New returns an Authenticator.
func New(opts Options) *Authenticator {
	a := &Authenticator{st: opts.Store, log: opts.Logger, now: opts.Now, rand: opts.Rand}
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

// Authenticate returns the principal the request's Authorization header
// proves: ErrNoCredentials without one, ErrBadCredentials when it is not
// accepted, or a store error wrapped otherwise.
func (a *Authenticator) Authenticate(r *http.Request) (Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return Principal{}, ErrNoCredentials
	}
	if _, pass, ok := r.BasicAuth(); ok {
		return a.apiToken(r.Context(), pass)
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return Principal{}, ErrBadCredentials
	}
	token = strings.TrimSpace(token)
	if strings.HasPrefix(token, SessionTokenPrefix) {
		return a.sessionToken(r.Context(), token)
	}
	return a.apiToken(r.Context(), token)
}

// APIToken authenticates an API token given by value (the password of the
// token endpoint's Basic credentials).
func (a *Authenticator) apiToken(ctx context.Context, token string) (Principal, error) {
	if token == "" || len(token) > maxTokenLen {
		return Principal{}, ErrBadCredentials
	}
	t, err := a.st.TokenByHash(ctx, sha256.Sum256([]byte(token)))
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrRevoked):
		return Principal{}, ErrBadCredentials
	case err != nil:
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	a.touch(ctx, t)
	return Principal{TokenID: t.ID, Role: t.Role}, nil
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
	return Principal{TokenID: t.ID, Role: t.Role, scopes: scopes, session: true}, nil
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
		g := Scope{Repository: s.Repository}
		for _, act := range s.Actions {
			if p.Allows(act, s.Repository) {
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
