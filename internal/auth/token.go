package auth

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// TokenHandler serves the token endpoint of the registry's Bearer
// challenge: GET with HTTP Basic credentials (any user name, an API token
// as the password) and scope parameters, as docker and oras send it, or
// POST with the OAuth2 password grant form. It answers with a session token
// granting the requested scopes that the caller's role allows; scopes it
// may not have are left out rather than refused, as registries do, so that
// the next request gets 403.
func (a *Authenticator) TokenHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var (
			p      Principal
			err    error
			scopes []string
		)
		switch r.Method {
		case http.MethodGet:
			p, err = a.Authenticate(r)
			scopes = r.URL.Query()["scope"]
		case http.MethodPost:
			if err := r.ParseForm(); err != nil {
				tokenError(w, http.StatusBadRequest, "invalid_request", "the token request form could not be read")
				return
			}
			if r.PostForm.Get("grant_type") != "password" {
				tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "only the password grant is supported: send the API token as the password")
				return
			}
			// The same limits and failure counts as every other way of
			// presenting a token.
			pass := r.PostForm.Get("password")
			p, err = a.guarded(r, r.PostForm.Get("username"), func(ctx context.Context) (Principal, error) {
				return a.apiToken(ctx, pass)
			})
			scopes = strings.Fields(r.PostForm.Get("scope"))
		default:
			w.Header().Set("Allow", "GET, POST")
			tokenError(w, http.StatusMethodNotAllowed, "invalid_request", "use GET or POST")
			return
		}
		if err == nil && p.session {
			// A session token is not exchanged for another: that would let
			// one outlive its five minutes.
			err = ErrBadCredentials
		}
		var wait *WaitError
		switch {
		case errors.As(err, &wait):
			w.Header().Set("Retry-After", RetryAfter(wait.RetryAfter))
			tokenError(w, http.StatusTooManyRequests, "slow_down", wait.Error())
			return
		case errors.Is(err, ErrNoCredentials), errors.Is(err, ErrBadCredentials):
			if errors.Is(err, ErrBadCredentials) && a.onRefused != nil {
				a.onRefused(r)
			}
			w.Header().Set("WWW-Authenticate", `Basic realm="palisade"`)
			tokenError(w, http.StatusUnauthorized, "invalid_grant",
				"credentials not accepted: log in with an API token as the password (any user name)")
			return
		case err != nil:
			a.log.ErrorContext(r.Context(), "token endpoint", slog.String("error", err.Error()))
			tokenError(w, http.StatusInternalServerError, "server_error", "internal error")
			return
		}
		if len(scopes) > maxScopes {
			tokenError(w, http.StatusBadRequest, "invalid_scope", "too many scopes in one request")
			return
		}
		var requested []Scope
		for _, s := range scopes {
			sc, ok, err := ParseScope(s)
			if err != nil {
				tokenError(w, http.StatusBadRequest, "invalid_scope", err.Error())
				return
			}
			if ok {
				requested = append(requested, sc)
			}
		}
		token, expires, err := a.Issue(r.Context(), p, requested)
		if err != nil {
			a.log.ErrorContext(r.Context(), "token endpoint", slog.String("error", err.Error()))
			tokenError(w, http.StatusInternalServerError, "server_error", "internal error")
			return
		}
		if a.onIssue != nil {
			a.onIssue(r, p)
		}
		// Issue set expires from its own reading of the clock: another
		// reading here would make the lifetime a second short (299).
		issued := expires.Add(-SessionTTL)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"token":        token,
			"access_token": token,
			"expires_in":   int(SessionTTL / time.Second),
			"issued_at":    issued.UTC().Format(time.RFC3339),
		})
	})
}

// RetryAfter formats a wait for the Retry-After header: whole seconds,
// rounded up, at least one.
func RetryAfter(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(secs, 1), 10)
}

func tokenError(w http.ResponseWriter, code int, kind, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": kind, "error_description": msg})
}
