// Package oidctest runs a real OpenID provider for tests: the zitadel/oidc
// example server (github.com/zitadel/oidc/v3/example/server), built from
// ./server, which adds a device-grant client to it, and drives its login
// pages the way a browser would, so that tests can complete the
// authorization code and device flows without one.
//
// Each Start runs a fresh provider process on 127.0.0.1 with its own
// users, signing key and in-memory state, and kills it when the test
// ends. Passwords are random per process. Only _test.go files import this
// package.
//
// The provider is test infrastructure and trusted; the HTML scraping here
// is written against its templates and is not meant for anything else.
package oidctest
