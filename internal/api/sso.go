package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/palisade-sec/palisade/internal/auditlog"
	"github.com/palisade-sec/palisade/internal/auth"
	"github.com/palisade-sec/palisade/internal/oidc"
	"github.com/palisade-sec/palisade/internal/server"
	"github.com/palisade-sec/palisade/internal/sso"
)

// SingleSignOn runs the single sign-on flows (sso.Service).
type SingleSignOn interface {
	Issuer() string
	DeviceSupported(ctx context.Context) bool
	BeginBrowser(ctx context.Context) (string, error)
	FinishBrowser(ctx context.Context, state, code string) (sso.Login, error)
	BeginDevice(ctx context.Context) (sso.DeviceLogin, error)
	PollDevice(ctx context.Context, handle string) (sso.Login, error)
}

// SSOInfo is the body of GET /api/v1/auth/sso.
type SSOInfo struct {
	Enabled bool   `json:"enabled"`
	Issuer  string `json:"issuer,omitempty"`
	// Device reports whether 'palisade login --sso' (the device flow) works.
	Device bool `json:"device"`
}

// LoginResponse is the answer of a finished login: an API token, shown
// once.
type LoginResponse struct {
	Token   string    `json:"token"`
	TokenID string    `json:"tokenId"`
	Expires time.Time `json:"expires"`
	User    string    `json:"user"`
	Created bool      `json:"created,omitempty"`
}

func loginResponse(l sso.Login) LoginResponse {
	return LoginResponse{Token: l.Token, TokenID: l.TokenID, Expires: l.Expires.UTC(), User: l.User, Created: l.Created}
}

// DeviceResponse is the answer of POST /api/v1/auth/sso/device.
type DeviceResponse struct {
	Handle                  string `json:"handle"`
	UserCode                string `json:"userCode"`
	VerificationURI         string `json:"verificationUri"`
	VerificationURIComplete string `json:"verificationUriComplete,omitempty"`
	Interval                int    `json:"interval"`  // seconds between polls
	ExpiresIn               int    `json:"expiresIn"` // seconds
}

// DevicePollRequest is the body of POST /api/v1/auth/sso/device/token.
type DevicePollRequest struct {
	Handle string `json:"handle"`
}

func (a *API) ssoInfo(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	if a.sso == nil {
		writeJSON(w, http.StatusOK, SSOInfo{})
		return
	}
	writeJSON(w, http.StatusOK, SSOInfo{Enabled: true, Issuer: a.sso.Issuer(), Device: a.sso.DeviceSupported(r.Context())})
}

// ssoOff answers 404 when single sign-on is not configured.
func (a *API) ssoOff(w http.ResponseWriter) bool {
	if a.sso == nil {
		writeError(w, http.StatusNotFound, "not_found", "single sign-on is not configured on this server (oidc in its configuration); log in with an API token")
		return true
	}
	return false
}

// ssoError answers a failed flow.
func (a *API) ssoError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, oidc.ErrPending):
		writeError(w, http.StatusBadRequest, "authorization_pending", "the login is not approved yet: poll again after the interval")
	case errors.Is(err, oidc.ErrDenied):
		writeError(w, http.StatusForbidden, "access_denied", "the login was denied at the provider")
	case errors.Is(err, oidc.ErrExpired), errors.Is(err, sso.ErrUnknownLogin):
		writeError(w, http.StatusBadRequest, "expired_token", "the login expired or was already used: start again")
	case errors.Is(err, sso.ErrDisabled):
		writeError(w, http.StatusForbidden, "forbidden", "this account is disabled: ask an administrator")
	case errors.Is(err, oidc.ErrRejected), errors.Is(err, oidc.ErrInvalidToken):
		a.log.WarnContext(r.Context(), "single sign-on refused", "error", err.Error())
		writeError(w, http.StatusUnauthorized, "unauthorized", "the provider did not vouch for this login: start again")
	case errors.Is(err, oidc.ErrUnsupported):
		writeError(w, http.StatusNotImplemented, "unavailable", "the provider offers no device login: use the browser login at /api/v1/auth/sso/login, then 'palisade login' with the token")
	case errors.Is(err, sso.ErrUnrecorded):
		a.log.ErrorContext(r.Context(), "single sign-on: audit log", "error", err.Error())
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the audit log cannot record this login's changes, so they were not made: try again shortly")
	case errors.Is(err, sso.ErrUnavailable):
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the single sign-on provider cannot be reached; try again later or log in with an API token")
	default:
		a.internal(w, r, "complete the single sign-on", err)
	}
}

// ssoLogin sends the browser to the provider.
func (a *API) ssoLogin(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	if a.ssoOff(w) {
		return
	}
	u, err := a.sso.BeginBrowser(r.Context())
	if err != nil {
		a.ssoError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u, http.StatusFound)
}

// maxCallbackParam bounds the state and code of a callback.
const maxCallbackParam = 2048

// ssoCallback finishes a browser login and answers with its token.
func (a *API) ssoCallback(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	if a.ssoOff(w) {
		return
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		writeError(w, http.StatusBadRequest, "access_denied", "the provider refused the login ("+truncate(e)+"): start again at /api/v1/auth/sso/login")
		return
	}
	state, code := q.Get("state"), q.Get("code")
	if state == "" || code == "" || len(state) > maxCallbackParam || len(code) > maxCallbackParam {
		writeError(w, http.StatusBadRequest, "invalid", "the callback needs the state and code the provider sends: start at /api/v1/auth/sso/login")
		return
	}
	l, err := a.sso.FinishBrowser(r.Context(), state, code)
	if err != nil {
		a.ssoError(w, r, err)
		return
	}
	if !a.recordLogin(w, r, l) {
		return
	}
	writeJSON(w, http.StatusOK, loginResponse(l))
}

func (a *API) ssoDevice(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	if a.ssoOff(w) {
		return
	}
	d, err := a.sso.BeginDevice(r.Context())
	if err != nil {
		a.ssoError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, DeviceResponse{Handle: d.Handle, UserCode: d.UserCode, VerificationURI: d.VerificationURI,
		VerificationURIComplete: d.VerificationURIComplete, Interval: int(d.Interval / time.Second),
		ExpiresIn: int(time.Until(d.Expires) / time.Second)})
}

func (a *API) ssoDeviceToken(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	if a.ssoOff(w) {
		return
	}
	var req DevicePollRequest
	if !decodeBody(w, r, &req, false, `JSON like {"handle": "pald_..."}`) {
		return
	}
	if req.Handle == "" || len(req.Handle) > maxCallbackParam {
		writeError(w, http.StatusBadRequest, "invalid", "give the handle of POST /api/v1/auth/sso/device")
		return
	}
	l, err := a.sso.PollDevice(r.Context(), req.Handle)
	if err != nil {
		a.ssoError(w, r, err)
		return
	}
	if !a.recordLogin(w, r, l) {
		return
	}
	writeJSON(w, http.StatusOK, loginResponse(l))
}

// recordLogin records a single sign-on login. What the login changed
// about its user (creation, e-mail, roles) was recorded before it was
// made (sso.Options.Record). When the log cannot take the login, the
// token it issued is revoked and the login answered 503, so that no
// unrecorded login is usable; it reports whether the caller may answer
// with the token.
func (a *API) recordLogin(w http.ResponseWriter, r *http.Request, l sso.Login) bool {
	if a.audit == nil {
		return true
	}
	ev := auditlog.Event{RequestID: server.RequestID(r.Context()), PrincipalID: l.PrincipalID, Action: auditlog.ActionAuthSuccess,
		Outcome: auditlog.OutcomeAllowed, Reason: "sso", Object: auditlog.Object{Kind: auditlog.ObjectToken}, Credential: l.TokenID}
	if _, err := a.audit.Record(r.Context(), ev); err != nil {
		a.log.ErrorContext(r.Context(), "api: audit log: record a login", "error", err.Error())
		if rerr := a.st.RevokeToken(context.WithoutCancel(r.Context()), l.TokenID); rerr != nil {
			a.log.ErrorContext(r.Context(), "api: revoke the token of an unrecorded login", "error", rerr.Error())
		}
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the audit log cannot record this login, so its token was revoked: try again shortly")
		return false
	}
	return true
}
