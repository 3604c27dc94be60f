// Package api serves Palisade's native JSON API under /api/v1: projects,
// repositories, and artifacts with search, filters, pagination and detail
// (files, digests, sizes, metadata, tags, referrers).
//
// The API is described by docs/api/openapi.yaml; Routes is the table both
// the router and the test that holds the document against it read, so a
// route cannot be served undocumented or documented unserved.
//
// Every request is authenticated with an API token (package auth);
// registry session tokens are refused here. Reads need any valid token;
// writes need an admin token. Errors are {"error": {"code", "message"}},
// with a message that names the problem and the fix.
package api
