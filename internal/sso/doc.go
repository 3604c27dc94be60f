// Package sso signs users in with OpenID Connect single sign-on and turns
// a verified identity into a Palisade user with an API token.
//
// Two flows begin and end here: the browser's authorization code flow
// (with state, nonce and PKCE), and the device authorization flow that
// 'palisade login --sso' uses, which the server proxies so that the CLI
// talks to Palisade only and the client secret stays on the server. Each
// login in progress is kept in the metadata store under the SHA-256 of a
// random handle, single-use and short-lived, so that any replica can
// finish what another began.
//
// A verified identity (issuer and subject, from internal/oidc) maps to
// one user, created on first login with the configured default clearance.
// Its group claims map to project roles through configuration and are
// applied at every login: roles granted by a group are replaced, roles
// granted by hand are kept; membership of an administrator group makes
// the user a system administrator (and leaving it ends that). The login
// yields an API token that expires after a configured time. Disabled
// users are refused. The provider is discovered on first use and again
// after a failure, so that the server starts while the provider is down.
package sso
