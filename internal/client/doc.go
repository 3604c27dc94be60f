// Package client is the palisade command line's side of the server: where
// the server is, which token to send, the native API calls, and an OCI
// repository handle (oras-go) for push and pull.
//
// A server is named by HOST:PORT (or a URL). Plain HTTP is used only for
// loopback addresses (localhost, 127.0.0.0/8, ::1) unless the caller
// allows it explicitly; anything else is HTTPS. The token comes from
// PALISADE_TOKEN or, failing that, from the credentials file that
// 'palisade login' writes (mode 0600, in the user's configuration
// directory); it is never taken from a flag value, and never printed.
package client
