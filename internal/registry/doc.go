// Package registry serves the OCI Distribution API (/v2/, spec v1.1) on
// Palisade's metadata store and encrypted blob storage: pull, push
// (monolithic, chunked, POST-then-PUT, cross-repository mount), tag
// listing, the referrers API and content deletion.
//
// A repository name is "PROJECT/NAME[/...]": its first component is the
// project, which must exist (palisade project create), and which is the
// unit of tenancy, encryption and deduplication. Blobs belong to the
// project: a blob pushed to one repository can be read and mounted from
// every repository of the same project, never from another project. A
// mount from another project starts an ordinary upload instead.
//
// Every request is authenticated (package auth) and authorized for the
// repository and action before anything is read; a request without
// credentials gets 401 with a Bearer challenge naming the token endpoint.
//
// # Commit order and crashes
//
// A blob's ciphertext is committed to blob storage first and its record
// (wrapped key) to the metadata store second; deletion removes the record
// first. A crash between the two leaves an object without a record, which
// is never served (reads go through the record) and which the next push
// of the same digest replaces. Manifests and tags are written in one
// transaction, so a tag always names a complete manifest whose blobs
// exist.
//
// Upload sessions live in the memory of the server that started them
// (package blob): behind several replicas, route a client's upload to one
// replica (sticky sessions), or push monolithically.
package registry
