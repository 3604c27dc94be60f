// Package auth authenticates requests to the Palisade server: it turns the
// credentials a request presents into an access.Principal (who, with which
// permissions per project and which clearance), issues the short-lived
// registry tokens of the OCI token flow, and creates API tokens.
//
// A request proves who it is with an API token, either directly
// ("Authorization: Bearer <API token>", or HTTP Basic with the API token as
// the password and any user name, as registry clients do for robot
// accounts), with a session token that the token endpoint (GET /v2/token,
// the realm of the registry's Bearer challenge) issued in exchange for an
// API token, or, when the server asks for client certificates, with a
// certificate that maps to a service account (mutual TLS).
//
// An API token belongs to a principal (a user or a service account) and
// carries a scope: all of its owner's access, or roles on named projects
// (and on every project with "*"), intersected with what the owner holds;
// an expiry; a last-used time. A revoked or expired token, or one whose
// owner is disabled, is refused on the next request. Session tokens start
// with "palr_", live five minutes, carry the repository scopes granted at
// issue, and end with their API token.
//
// Only SHA-256 hashes of tokens are stored; the database finds a token by
// its hash and the hash is compared again in constant time. Tokens in URL
// query strings are never accepted. Responses and errors never say whether
// a token or an account exists, only that the credentials were not
// accepted. Failed attempts are counted per source address and per
// account name (whether or not it exists) and slowed down with a growing
// lockout; requests are rate-limited per token and per source.
package auth
