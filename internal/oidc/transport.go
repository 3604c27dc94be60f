package oidc

import (
	"fmt"
	"io"
	"net/http"
)

// maxResponseBytes bounds every response body from the provider:
// discovery, keys, tokens, device authorizations and UserInfo.
const maxResponseBytes = 1 << 20

// boundedClient returns a copy of c (or of a default client when c is
// nil) whose response bodies fail with an error after maxResponseBytes.
func boundedClient(c *http.Client) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	} else {
		out.Timeout = defaultHTTPTimeout
	}
	base := out.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	out.Transport = limitTransport{base: base, limit: maxResponseBytes}
	return &out
}

// limitTransport wraps every response body in a limitedBody.
type limitTransport struct {
	base  http.RoundTripper
	limit int64
}

// RoundTrip implements http.RoundTripper.
func (t limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.limit, limit: t.limit}
	return resp, nil
}

// limitedBody reads at most limit bytes and then fails, rather than
// silently truncating as io.LimitReader would.
type limitedBody struct {
	rc    io.ReadCloser
	left  int64
	limit int64
}

// Read implements io.Reader.
func (b *limitedBody) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.left <= 0 {
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("response from the OpenID provider exceeds %d bytes", b.limit)
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

// Close implements io.Closer.
func (b *limitedBody) Close() error { return b.rc.Close() }
