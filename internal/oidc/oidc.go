package oidc

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Sentinel errors; test for them with errors.Is.
var (
	// ErrRejected means the provider refused a grant: an unknown, used or
	// expired authorization code, a PKCE verifier that does not match the
	// challenge, or bad client credentials.
	ErrRejected = errors.New("grant rejected by the provider")

	// ErrInvalidToken means the provider's answer did not establish an
	// identity: a missing or unverifiable ID token, a wrong nonce, or
	// claims that are missing, malformed or over their limits.
	ErrInvalidToken = errors.New("invalid identity from the provider")

	// ErrUnsupported means the provider advertises no device
	// authorization endpoint.
	ErrUnsupported = errors.New("device authorization not supported by the provider")

	// ErrPending means the user has not yet approved the device
	// authorization when the context's deadline passed; poll again.
	ErrPending = errors.New("device authorization pending")

	// ErrDenied means the user denied the device authorization.
	ErrDenied = errors.New("device authorization denied")

	// ErrExpired means the device code expired before the user approved it.
	ErrExpired = errors.New("device authorization expired")
)

// Default values for the optional fields of Config.
const (
	DefaultGroupsClaim = "groups"
	defaultHTTPTimeout = 30 * time.Second
	// verifyTimeout bounds verification and UserInfo after a device token
	// was obtained, which may not be abandoned with the caller's context:
	// the provider has already spent the device code.
	verifyTimeout = 30 * time.Second
)

// defaultScopes are the scopes requested when Config.Scopes is empty.
var defaultScopes = []string{gooidc.ScopeOpenID, "profile", "email"}

// Config describes the OpenID provider and Palisade's client registration
// with it.
type Config struct {
	// Issuer is the provider's issuer URL, exactly as its discovery
	// document states it (a trailing slash matters). It must use https
	// unless its host is a loopback address.
	Issuer string
	// ClientID is Palisade's client ID at the provider.
	ClientID string
	// ClientSecret is the client secret; empty for a public client.
	ClientSecret string
	// RedirectURL is the browser callback registered with the provider,
	// e.g. https://palisade.example.com/api/v1/auth/oidc/callback. It must
	// use https unless its host is a loopback address.
	RedirectURL string
	// Scopes are the scopes requested; they must include "openid".
	// Empty means openid, profile and email.
	Scopes []string
	// GroupsClaim names the claim that lists the user's groups; empty
	// means DefaultGroupsClaim. The claim may be a JSON array of strings or
	// a single string.
	GroupsClaim string
	// HTTPClient makes every request to the provider (custom CAs, proxies,
	// tests). Nil means a client with a 30-second timeout. Responses are
	// bounded whichever client is used.
	HTTPClient *http.Client
	// Now returns the time ID token expiry is checked against; nil means
	// time.Now.
	Now func() time.Time
}

// Identity is who the provider says the user is, from a verified ID token
// (and the UserInfo endpoint for claims the ID token lacks).
type Identity struct {
	// Issuer and Subject together identify the user uniquely and stably.
	Issuer  string
	Subject string
	// Email is the user's e-mail address, "" when not disclosed. Unless
	// EmailVerified, the provider does not vouch that the user owns it.
	Email         string
	EmailVerified bool
	// Name is the user's full name, for display.
	Name string
	// Username is the preferred_username claim, for display: it is neither
	// unique nor stable at most providers.
	Username string
	// Groups lists the values of the groups claim, sorted and without
	// duplicates; nil when the claim is absent.
	Groups []string
}

// Provider is a discovered OpenID provider with Palisade's client
// configuration. It is safe for concurrent use.
type Provider struct {
	issuer      string
	groupsClaim string
	client      *http.Client
	oauth       oauth2.Config
	provider    *gooidc.Provider
	verifier    *gooidc.IDTokenVerifier
}

// New checks c and fetches the provider's discovery document. Its errors
// name the issuer.
func New(ctx context.Context, c Config) (*Provider, error) {
	if err := checkURL(c.Issuer); err != nil {
		return nil, fmt.Errorf("OpenID provider issuer %s: %w", redact(c.Issuer), err)
	}
	if c.ClientID == "" {
		return nil, fmt.Errorf("OpenID provider %s: client ID is empty", c.Issuer)
	}
	if err := checkURL(c.RedirectURL); err != nil {
		return nil, fmt.Errorf("OpenID provider %s: redirect URL %s: %w", c.Issuer, redact(c.RedirectURL), err)
	}
	scopes := c.Scopes
	if len(scopes) == 0 {
		scopes = defaultScopes
	}
	if !slices.Contains(scopes, gooidc.ScopeOpenID) {
		return nil, fmt.Errorf("OpenID provider %s: scopes %q lack %q", c.Issuer, scopes, gooidc.ScopeOpenID)
	}
	groups := c.GroupsClaim
	if groups == "" {
		groups = DefaultGroupsClaim
	}
	client := boundedClient(c.HTTPClient)

	p, err := gooidc.NewProvider(gooidc.ClientContext(ctx, client), c.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover OpenID provider %s: %w", c.Issuer, shorten(err))
	}
	var meta struct {
		Auth     string `json:"authorization_endpoint"`
		Token    string `json:"token_endpoint"`
		Device   string `json:"device_authorization_endpoint"`
		UserInfo string `json:"userinfo_endpoint"`
		JWKS     string `json:"jwks_uri"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("discover OpenID provider %s: %w", c.Issuer, err)
	}
	for _, e := range []struct {
		name, url string
		required  bool
	}{
		{"authorization_endpoint", meta.Auth, true},
		{"token_endpoint", meta.Token, true},
		{"jwks_uri", meta.JWKS, true},
		{"device_authorization_endpoint", meta.Device, false},
		{"userinfo_endpoint", meta.UserInfo, false},
	} {
		if e.url == "" && !e.required {
			continue
		}
		if err := checkURL(e.url); err != nil {
			return nil, fmt.Errorf("discover OpenID provider %s: %s %s: %w", c.Issuer, e.name, redact(e.url), err)
		}
	}

	return &Provider{
		issuer:      c.Issuer,
		groupsClaim: groups,
		client:      client,
		oauth: oauth2.Config{
			ClientID:     c.ClientID,
			ClientSecret: c.ClientSecret,
			Endpoint:     p.Endpoint(),
			RedirectURL:  c.RedirectURL,
			Scopes:       slices.Clone(scopes),
		},
		provider: p,
		verifier: p.Verifier(&gooidc.Config{ClientID: c.ClientID, Now: c.Now}),
	}, nil
}

// NewVerifier returns a fresh PKCE code verifier (RFC 7636) for
// AuthCodeURL and Exchange. State and nonce are secrets of the same kind:
// use crypto/rand.Text for them.
func NewVerifier() string { return oauth2.GenerateVerifier() }

// AuthCodeURL returns the provider URL that starts a browser login. state,
// nonce and verifier must be fresh random secrets of this login attempt
// (see NewVerifier), kept by the server until the callback: state to check
// the callback's state parameter, nonce and verifier for Exchange.
func (p *Provider) AuthCodeURL(state, nonce, verifier string) string {
	return p.oauth.AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
}

// Exchange redeems the authorization code from the callback with the
// login's PKCE verifier, verifies the ID token including its nonce, and
// returns the identity. A code or verifier the provider refuses yields
// ErrRejected; a token that fails verification yields ErrInvalidToken.
func (p *Provider) Exchange(ctx context.Context, code, verifier, nonce string) (Identity, error) {
	if nonce == "" || verifier == "" {
		return Identity{}, errors.New("exchange authorization code: nonce and PKCE verifier are required")
	}
	ctx = gooidc.ClientContext(ctx, p.client)
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return Identity{}, grantError("exchange authorization code", err)
	}
	return p.identity(ctx, tok, &nonce)
}

// identity verifies the ID token in tok (and its nonce unless nonce is
// nil) and returns the identity it establishes, completed from UserInfo.
func (p *Provider) identity(ctx context.Context, tok *oauth2.Token, nonce *string) (Identity, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, fmt.Errorf("token response: %w: no ID token", ErrInvalidToken)
	}
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		return Identity{}, fmt.Errorf("verify ID token: %w: %w", ErrInvalidToken, err)
	}
	if nonce != nil && subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(*nonce)) != 1 {
		return Identity{}, fmt.Errorf("verify ID token: %w: nonce does not match", ErrInvalidToken)
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return Identity{}, fmt.Errorf("verify ID token: %w: %w", ErrInvalidToken, err)
		}
	}
	var rawClaims json.RawMessage
	if err := idt.Claims(&rawClaims); err != nil {
		return Identity{}, fmt.Errorf("verify ID token: %w: %w", ErrInvalidToken, err)
	}
	cs, err := parseClaims(rawClaims, p.groupsClaim)
	if err != nil {
		return Identity{}, fmt.Errorf("ID token claims: %w: %w", ErrInvalidToken, err)
	}
	if cs.AuthorizedParty != "" && cs.AuthorizedParty != p.oauth.ClientID {
		return Identity{}, fmt.Errorf("ID token claims: %w: authorized party %q is not this client", ErrInvalidToken, cs.AuthorizedParty)
	}

	if cs.incomplete() && p.provider.UserInfoEndpoint() != "" && tok.AccessToken != "" {
		ui, err := p.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return Identity{}, fmt.Errorf("fetch UserInfo: %w", shorten(err))
		}
		var rawUI json.RawMessage
		if err := ui.Claims(&rawUI); err != nil {
			return Identity{}, fmt.Errorf("UserInfo claims: %w: %w", ErrInvalidToken, err)
		}
		more, err := parseClaims(rawUI, p.groupsClaim)
		if err != nil {
			return Identity{}, fmt.Errorf("UserInfo claims: %w: %w", ErrInvalidToken, err)
		}
		if more.Subject != cs.Subject {
			return Identity{}, fmt.Errorf("UserInfo claims: %w: subject differs from the ID token's", ErrInvalidToken)
		}
		cs.fillFrom(more)
	}

	return Identity{
		Issuer:        idt.Issuer,
		Subject:       cs.Subject,
		Email:         cs.Email,
		EmailVerified: cs.EmailVerified,
		Name:          cs.Name,
		Username:      cs.Username,
		Groups:        cs.Groups,
	}, nil
}

// grantError wraps an error from a token or device authorization request,
// mapping an OAuth error response to ErrRejected. The provider's error
// description is quoted and shortened: it is the provider's text.
func grantError(what string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode != "" {
		desc := re.ErrorDescription
		if len(desc) > 200 {
			desc = desc[:200] + "..."
		}
		return fmt.Errorf("%s: %w: %.100q %q", what, ErrRejected, re.ErrorCode, desc)
	}
	return fmt.Errorf("%s: %w", what, shorten(err))
}

// maxErrorText bounds the text of errors from the libraries, which may
// quote a whole response body.
const maxErrorText = 300

// shortError is an error whose text is cut at maxErrorText.
type shortError struct{ err error }

func (e shortError) Error() string {
	s := e.err.Error()
	if len(s) <= maxErrorText {
		return s
	}
	return strings.ToValidUTF8(s[:maxErrorText], "") + "..."
}

func (e shortError) Unwrap() error { return e.err }

// shorten bounds the text of err.
func shorten(err error) error {
	if len(err.Error()) <= maxErrorText {
		return err
	}
	return shortError{err}
}

// checkURL reports whether raw is an absolute URL fit to talk OpenID
// Connect with: https, or http to a loopback host, with no user
// information or fragment.
func checkURL(raw string) error {
	if raw == "" {
		return errors.New("empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	switch {
	case u.Host == "" || u.Opaque != "":
		return errors.New("not an absolute URL")
	case u.User != nil:
		return errors.New("contains user information")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return errors.New("contains a fragment")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return errors.New("must use https (http is allowed only for loopback hosts)")
	default:
		return fmt.Errorf("scheme %q is not https", u.Scheme)
	}
}

// redact quotes a URL for an error message without its password.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		raw = u.Redacted()
	}
	return fmt.Sprintf("%.200q", raw)
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
