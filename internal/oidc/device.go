package oidc

import (
	"context"
	"errors"
	"fmt"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Limits on a device authorization response.
const (
	maxDeviceCodeBytes = 1024
	maxUserCodeBytes   = 64
	maxURIBytes        = 2048
	// defaultInterval is RFC 8628's polling interval when the provider
	// names none.
	defaultInterval = 5 * time.Second
)

// Device is a pending device authorization (RFC 8628, section 3.2).
type Device struct {
	// DeviceCode is the secret the server polls with; never show it.
	DeviceCode string
	// UserCode is what the user enters at VerificationURI.
	UserCode string
	// VerificationURI is where the user approves the login.
	VerificationURI string
	// VerificationURIComplete, if not empty, is VerificationURI with the
	// user code filled in.
	VerificationURIComplete string
	// Interval is the least time to wait between two polls.
	Interval time.Duration
	// Expiry is when the device code expires (the zero time if the
	// provider said nothing).
	Expiry time.Time
}

// DeviceSupported reports whether the provider advertises a device
// authorization endpoint.
func (p *Provider) DeviceSupported() bool { return p.oauth.Endpoint.DeviceAuthURL != "" }

// StartDevice asks the provider for a device authorization with the
// configured scopes. It returns ErrUnsupported when the provider has no
// device authorization endpoint, and ErrRejected when it refuses (for
// example, because the client may not use the device grant).
func (p *Provider) StartDevice(ctx context.Context) (Device, error) {
	if !p.DeviceSupported() {
		return Device{}, fmt.Errorf("start device authorization at %s: %w", p.issuer, ErrUnsupported)
	}
	da, err := p.oauth.DeviceAuth(gooidc.ClientContext(ctx, p.client))
	if err != nil {
		return Device{}, grantError("start device authorization", err)
	}
	d := Device{
		DeviceCode:              da.DeviceCode,
		UserCode:                da.UserCode,
		VerificationURI:         da.VerificationURI,
		VerificationURIComplete: da.VerificationURIComplete,
		Interval:                time.Duration(da.Interval) * time.Second,
		Expiry:                  da.Expiry,
	}
	if err := d.check(); err != nil {
		return Device{}, fmt.Errorf("start device authorization: bad response from the provider: %w", err)
	}
	if d.Interval == 0 {
		d.Interval = defaultInterval
	}
	return d, nil
}

// check refuses a device authorization response that is incomplete or
// out of bounds.
func (d Device) check() error {
	switch {
	case d.DeviceCode == "" || len(d.DeviceCode) > maxDeviceCodeBytes:
		return fmt.Errorf("device code of %d bytes", len(d.DeviceCode))
	case d.UserCode == "":
		return errors.New("no user code")
	case d.Interval < 0 || d.Interval > time.Hour:
		return fmt.Errorf("polling interval %v", d.Interval)
	}
	if err := checkString(d.UserCode, maxUserCodeBytes); err != nil {
		return fmt.Errorf("user code: %w", err)
	}
	if err := checkURL(d.VerificationURI); err != nil || len(d.VerificationURI) > maxURIBytes {
		return fmt.Errorf("verification URI %.100q: %v", d.VerificationURI, err)
	}
	if d.VerificationURIComplete != "" {
		if err := checkURL(d.VerificationURIComplete); err != nil || len(d.VerificationURIComplete) > maxURIBytes {
			return fmt.Errorf("complete verification URI %.100q: %v", d.VerificationURIComplete, err)
		}
	}
	return nil
}

// PollDevice polls the provider's token endpoint every d.Interval (the
// first poll after one interval) until the user approves or denies the
// authorization, the device code expires, or ctx is done, and returns the
// identity from the verified ID token. It returns ErrDenied, ErrExpired,
// or ErrPending when ctx's deadline passed first: the server may then
// answer "pending" and call PollDevice again later with the same Device.
// A ctx shorter than d.Interval never reaches the provider.
func (p *Provider) PollDevice(ctx context.Context, d Device) (Identity, error) {
	if !p.DeviceSupported() {
		return Identity{}, fmt.Errorf("poll device authorization at %s: %w", p.issuer, ErrUnsupported)
	}
	if !d.Expiry.IsZero() && !time.Now().Before(d.Expiry) {
		return Identity{}, fmt.Errorf("poll device authorization: %w", ErrExpired)
	}
	da := &oauth2.DeviceAuthResponse{
		DeviceCode: d.DeviceCode,
		Expiry:     d.Expiry,
		Interval:   int64(d.Interval / time.Second),
	}
	tok, err := p.oauth.DeviceAccessToken(gooidc.ClientContext(ctx, p.client), da)
	if err != nil {
		var re *oauth2.RetrieveError
		switch {
		case errors.As(err, &re) && re.ErrorCode == "access_denied":
			return Identity{}, fmt.Errorf("poll device authorization: %w", ErrDenied)
		case errors.As(err, &re) && re.ErrorCode == "expired_token":
			return Identity{}, fmt.Errorf("poll device authorization: %w", ErrExpired)
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			return Identity{}, fmt.Errorf("poll device authorization: %w", ErrPending)
		case ctx.Err() != nil:
			return Identity{}, fmt.Errorf("poll device authorization: %w", ctx.Err())
		case errors.Is(err, context.DeadlineExceeded) && !d.Expiry.IsZero() && !time.Now().Before(d.Expiry):
			// oauth2 stops polling at the device code's expiry.
			return Identity{}, fmt.Errorf("poll device authorization: %w", ErrExpired)
		default:
			return Identity{}, grantError("poll device authorization", err)
		}
	}
	// The provider has spent the device code: finish verification even if
	// the caller's context ends now, or the login would be lost.
	vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), verifyTimeout)
	defer cancel()
	return p.identity(gooidc.ClientContext(vctx, p.client), tok, nil)
}
