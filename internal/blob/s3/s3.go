// Package s3 adds S3 and S3-compatible object storage to package blob: its
// import registers gocloud.dev's s3blob driver, so that blob.OpenURL (and
// palisade server --blobs) accepts s3:// URLs. It is the one package that
// links the AWS SDK for blob storage; the composition root imports it.
//
// The s3blob driver registers the s3:// scheme with gocloud's default URL
// mux, so that blob.OpenURL (and palisade server --blobs) accepts S3 and
// S3-compatible object storage, for example
//
//	s3://bucket?region=eu-west-1
//	s3://bucket?endpoint=http://127.0.0.1:7070&use_path_style=true&region=us-east-1
//
// Query parameters (gocloud.dev v0.48.0, AWS SDK v2 only):
//
//   - region: the bucket's region; otherwise AWS_REGION or the shared config.
//   - endpoint: the service URL of an S3-compatible server, with its scheme
//     (a bare host:port fails, and only at the first request).
//   - use_path_style=true (alias s3ForcePathStyle): address the bucket as
//     a path (http://host/bucket/key), as most self-hosted servers need.
//   - disable_https=true: plain HTTP for endpoints the SDK resolves itself;
//     no effect with endpoint.
//   - request_checksum_calculation=when_required: leave out the default
//     CRC checksums, for servers that reject them.
//   - response_checksum_validation=when_required: do not check CRCs of
//     downloads (the Sealer authenticates every byte anyway), which also
//     stops the SDK printing a warning, outside slog, on each read of a
//     multipart object.
//   - prefix=dir/: confine the Store to keys under dir/ (PrefixedBucket).
//   - profile, hostname_immutable, dualstack, fips, anonymous, role and
//     friends, ssetype, kmskeyid, accelerate: see gocloud.dev/aws and
//     gocloud.dev/blob/s3blob. awssdk= is accepted and ignored; any other
//     parameter is an error.
//
// Credentials never appear in the URL: the SDK's default chain reads them
// (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the shared credentials file,
// web identity, the instance role). The Store's invariants need conditional
// writes (If-None-Match: *, which s3blob sends for WriterOptions.IfNotExist,
// on PutObject and CompleteMultipartUpload) from the server: AWS S3 has them
// since August 2024; check before pointing Palisade at another
// implementation. Objects over 8 MiB are multipart uploads, and a write the
// Store abandons (a push that fails midway) leaves its multipart upload
// incomplete rather than aborted, so give the bucket a lifecycle rule that
// aborts incomplete multipart uploads after a day or so.
package s3

import _ "gocloud.dev/blob/s3blob" // s3:// buckets
