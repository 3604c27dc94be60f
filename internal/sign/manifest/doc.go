// Package manifest hashes a model (a file or a directory) into an OpenSSF
// Model Signing (OMS) manifest and renders or parses the in-toto statement
// with predicate https://model_signing/signature/v1.0 that carries it.
//
// The manifest is the list of resources (files, or byte ranges of files
// under shard serialization), each named by its POSIX path relative to the
// model root and carrying a digest, sorted component by component. The
// root digest is SHA-256 over the concatenated raw resource digests in that
// order; it is the statement's subject digest and what 'palisade digest'
// prints. Every rule (enumeration, ignore paths, shard names, JSON fields)
// follows the OMS reference implementation so that manifests interoperate
// byte for byte in meaning.
//
// Threat assumptions: the model tree may be hostile. Symlinks are refused
// unless allowed, and symlinks whose target lies outside the model root
// need a second, explicit permission; links to directories are always
// refused (the reference leaves them unspecified, and silently skipping
// them would leave content unsigned). Special files (FIFOs, sockets,
// devices) are refused before they are opened. A file whose size,
// modification time or identity differs between enumeration, the start
// and the end of its hashing is reported as changed rather than hashed in
// an unknown state. File names that are not valid UTF-8, and names holding
// ':' under shard serialization, are refused because the reference cannot
// represent them. Files are never read whole into memory: each worker reads
// into its own buffer and holds at most one file open, so memory and file
// descriptors are bounded by the number of workers. Workers take the file
// or shard with the most bytes left and may hand a partly hashed one to
// another worker between reads; each is still hashed whole and in order.
package manifest
