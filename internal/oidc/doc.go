// Package oidc signs users in to Palisade with an external OpenID Connect
// provider: the authorization code flow with PKCE, state and nonce for
// browsers, and the OAuth 2.0 device authorization grant (RFC 8628) that
// the server runs on behalf of 'palisade login --sso'. Both end in an
// Identity (issuer, subject, e-mail, name, groups) taken from a verified
// ID token; mapping it to a Palisade user and roles is the caller's job.
//
// Discovery and ID token verification are github.com/coreos/go-oidc's;
// the code exchange, PKCE and the device grant are golang.org/x/oauth2's.
// This package writes no JWT or JOSE code of its own.
//
// Invariants:
//
//   - An Identity comes only from an ID token whose signature, issuer,
//     audience (the client ID) and expiry verified, whose authorized party,
//     when present, is the client, and which names a subject. In the code
//     flow its nonce must equal the one the caller sent, and its at_hash,
//     when present, must match the access token.
//   - Claims the ID token lacks (the example provider, like several real
//     ones, leaves e-mail and name to the UserInfo endpoint) are taken from
//     UserInfo only when its subject equals the ID token's; claims present
//     in the ID token are never overridden.
//   - The issuer, the redirect URL and every endpoint discovery returns
//     use https, except on loopback hosts (localhost, 127.0.0.0/8, ::1).
//
// Threat assumptions: the provider named in the configuration is trusted
// to authenticate users, but everything that arrives over the network is
// bounded as if it were hostile: every response body is cut off at 1 MiB
// with an error, and claims are refused, not truncated, when they are not
// of the expected JSON type, contain control characters or exceed their
// limits (encoding/json has already replaced invalid UTF-8 with U+FFFD) (a subject of 255 bytes, other strings
// of 512, at most 256 groups of 256 bytes each). The browser, the CLI and
// whoever relays a code or a callback are not trusted: state (checked by
// the caller), nonce and PKCE bind the callback to the session that
// started it. The device code is a bearer secret that the server keeps;
// only the user code and verification URI are for the user.
package oidc
