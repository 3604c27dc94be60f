// Package archive walks the containers model files travel in (zip, tar, 7z
// and the compressed streams gzip, bzip2, xz, lzma, zlib and lz4) and hands
// every member to the engine, which recognises it by content: a PyTorch
// data.pkl, an .npy inside an .npz, a Keras config.json, a nested archive,
// a protocol-0 pickle stored under a name with no extension.
//
// # Threat model
//
// Archives are attacker-controlled. They are used to hide payloads from
// scanners (members with unusual names, 7z wrappers, zips nested in zips,
// a pickle with a zip appended), to make a scanner and the loader disagree
// about the content (central and local names that differ, encryption flag
// bits on stored members, bad CRCs, duplicate names), and to exhaust the
// scanner (zip bombs, nesting bombs, hostile counts and sizes in headers).
//
// # Invariants
//
//   - Zip is read at least as leniently as PyTorch reads it: by
//     central-directory name, ignoring CRCs and general-purpose flag bits,
//     with data before the archive allowed. Stored members are handed on as
//     io.SectionReaders over the original content, so scanning a checkpoint
//     costs the same however large its tensors are; CRCs are never verified
//     for the same reason.
//   - Decompression always goes through Session.Expand, which enforces the
//     member, total and compression-ratio limits. Dictionary and window
//     sizes declared by lzma, xz, 7z and zstd streams are checked against a
//     fixed cap (maxDictBytes) before a decoder allocates them.
//   - Every count and length read from a header is checked against the
//     object's size and the session limits before anything is allocated
//     from it. The 7z header is validated by this package before
//     github.com/bodgit/sevenzip parses it, because that library allocates
//     from declared counts.
//   - The entry and depth limits are enforced by Session.Nested. Nothing
//     here recurses on its own: nested archives are reached through the
//     engine.
//   - A container that cannot be read, a member that cannot be decoded and
//     content that is skipped for a limit are reported as findings, never
//     taken as proof that the file is safe (fail closed). What could be
//     decoded before a failure is still scanned.
//
// Member content is never extracted to a path, loaded or executed.
package archive
