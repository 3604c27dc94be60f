package manifest

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/crypto/blake2b"
	"lukechampine.com/blake3"
)

// Hash names a resource hash algorithm as the predicate records it.
type Hash string

// Hash algorithms. The root digest is SHA-256 whatever the resource hash.
const (
	SHA256  Hash = "sha256"
	BLAKE2b Hash = "blake2b" // unkeyed, 64-byte output
	BLAKE3  Hash = "blake3"  // 32-byte output
)

// ParseHash accepts a hash name as written on a command line or in a
// predicate; "blake2" (the reference's configuration name) means BLAKE2b.
func ParseHash(s string) (Hash, error) {
	switch s {
	case "sha256", "":
		return SHA256, nil
	case "blake2b", "blake2":
		return BLAKE2b, nil
	case "blake3":
		return BLAKE3, nil
	}
	return "", fmt.Errorf("%w %q: use sha256, blake2b or blake3", ErrUnknownHash, s)
}

// newHash returns a fresh hash.Hash for h.
func (h Hash) newHash() hash.Hash {
	switch h {
	case BLAKE2b:
		d, err := blake2b.New512(nil)
		if err != nil { // only for an over-long key; nil has none
			panic(err)
		}
		return d
	case BLAKE3:
		return blake3.New(32, nil)
	default:
		return sha256.New()
	}
}

// Method is the serialization method.
type Method string

// Serialization methods.
const (
	Files  Method = "files"
	Shards Method = "shards"
)

// DefaultShardSize is the reference's default shard size: 10^9 bytes.
const DefaultShardSize int64 = 1_000_000_000

// Serialization is the predicate's serialization block: how the model was
// hashed, so that a verifier can hash it again the same way.
type Serialization struct {
	Method        Method
	Hash          Hash
	AllowSymlinks bool
	ShardSize     int64    // only for Shards
	IgnorePaths   []string // relative to the model root; order carries no meaning
}

// algorithm is the resource algorithm recorded for this serialization.
func (s Serialization) algorithm() string {
	if s.Method == Shards {
		return fmt.Sprintf("%s-sharded-%d", s.Hash, s.ShardSize)
	}
	return string(s.Hash)
}

// Resource is one manifest entry: a whole file, or under shard
// serialization a byte range [Start, End) of the file at Path.
type Resource struct {
	Path      string // POSIX path relative to the model root; "." for a single-file model
	Start     int64  // shards only
	End       int64  // shards only
	Sharded   bool
	Algorithm string
	Digest    []byte
}

// Name is the resource name as the predicate records it: the path, or for a
// shard "path:start:end".
func (r Resource) Name() string {
	if !r.Sharded {
		return r.Path
	}
	return r.Path + ":" + strconv.FormatInt(r.Start, 10) + ":" + strconv.FormatInt(r.End, 10)
}

// Manifest is a hashed model: its name (the statement subject name, which
// is informational), how it was serialized and its resources in order.
type Manifest struct {
	Name          string
	Serialization Serialization
	Resources     []Resource
	// Legacy marks a manifest read from a v0.1 (Digests) statement, which
	// has no subject name and no root digest.
	Legacy bool
}

// RootDigest is SHA-256 over the raw digests of the resources in the
// order they appear in m (sorted, for a manifest built by Hash).
func (m *Manifest) RootDigest() [sha256.Size]byte {
	h := sha256.New()
	for _, r := range m.Resources {
		h.Write(r.Digest)
	}
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// compareResources orders resources by path, compared component by
// component, then by start and end offsets as integers.
func compareResources(a, b Resource) int {
	if c := comparePaths(a.Path, b.Path); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Start, b.Start); c != 0 {
		return c
	}
	return cmp.Compare(a.End, b.End)
}

// comparePaths compares slash-separated paths component by component, each
// component by bytes, so "a/b" sorts before "a-b".
func comparePaths(a, b string) int {
	return slices.Compare(strings.Split(a, "/"), strings.Split(b, "/"))
}

// sortResources puts resources in manifest order.
func sortResources(rs []Resource) {
	slices.SortFunc(rs, compareResources)
}
