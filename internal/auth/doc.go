// Package auth authenticates requests to the Palisade server and issues
// the short-lived registry tokens of the OCI token flow.
//
// A request proves who it is with an API token, either directly
// ("Authorization: Bearer <API token>", or HTTP Basic with the API token as
// the password and any user name, as registry clients do for robot
// accounts), or with a session token that the token endpoint (GET
// /v2/token, the realm of the registry's Bearer challenge) issued in
// exchange for an API token. Session tokens start with "palr_", live
// for five minutes, carry the repository scopes granted at issue
// (requested actions intersected with what the API token's role allows),
// and end with the API token when it is revoked.
//
// Only SHA-256 hashes of tokens are stored; the database finds a token by
// its hash and the hash is compared again in constant time. Tokens in URL
// query strings are never accepted. Responses and errors never say whether
// a token exists, only that the credentials were not accepted.
//
// Authorization here is the first increment's: an admin token may do
// everything, a read-only token may pull. Principal.Allows is the one
// place that decides.
package auth
