package auditlog

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/palisade-sec/palisade/internal/store"
)

// ProofHeader is the first line of a C2SP tlog-proof.
const ProofHeader = "c2sp.org/tlog-proof@v1"

// Bounds on a proof that ParseProof accepts. 64 hashes prove inclusion in
// any tree of up to 2^64 entries, more than a log can hold.
const (
	MaxProofSize   = 64 << 10
	MaxProofHashes = 64
)

// Errors of ParseProof and CheckProof; test with errors.Is.
var (
	// ErrMalformedProof: the bytes are not a tlog-proof this package
	// reads (syntax, bounds, non-canonical encodings).
	ErrMalformedProof = errors.New("malformed audit proof")
	// ErrProofRejected: a well-formed proof that does not verify. The
	// message says which step failed.
	ErrProofRejected = errors.New("audit proof rejected")
)

// Proof is an offline-verifiable proof that an entry is in the log: the
// entry's index and exact bytes, the RFC 6962 inclusion proof (from the
// leaf's sibling up to the root's child), and the signed checkpoint
// (note) of the tree it is proven in.
type Proof struct {
	Index      int64
	Entry      []byte
	Hashes     []tlog.Hash
	Checkpoint []byte
}

// Prove returns the proof of inclusion of the entry at index in the tree
// of the latest checkpoint. An index the latest checkpoint does not
// cover (or an empty log) is an error wrapping store.ErrNotFound.
//
// Nothing is verified here: the proof is checked by whoever receives it
// (CheckProof), against the log's verifier key.
func Prove(ctx context.Context, st Reader, index int64) (Proof, error) {
	size, cp, err := st.AuditCheckpoint(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return Proof{}, fmt.Errorf("prove entry %d: the log has no checkpoint: %w", index, err)
	}
	if err != nil {
		return Proof{}, fmt.Errorf("prove entry %d: read the latest checkpoint: %w", index, err)
	}
	if index < 0 || index >= size {
		return Proof{}, fmt.Errorf("prove entry %d: the latest checkpoint covers entries 0 to %d: %w", index, size-1, store.ErrNotFound)
	}
	recs, err := st.AuditEntries(ctx, index, 1)
	if err != nil {
		return Proof{}, fmt.Errorf("prove entry %d: read the entry: %w", index, err)
	}
	if len(recs) != 1 || recs[0].Index != index {
		return Proof{}, fmt.Errorf("prove entry %d: the entry is missing from the store: %w", index, store.ErrNotFound)
	}
	hashes, err := tlog.ProveRecord(size, index, auditHashReader(ctx, st))
	if err != nil {
		return Proof{}, fmt.Errorf("prove entry %d in the tree of size %d: %w", index, size, err)
	}
	p := Proof{Index: index, Entry: recs[0].Data, Checkpoint: cp}
	if len(hashes) > 0 { // a tree of one entry has none: nil, as ParseProof gives
		p.Hashes = hashes
	}
	return p, nil
}

// auditHashReader reads the log's stored hashes for tlog.
func auditHashReader(ctx context.Context, st Reader) tlog.HashReader {
	return tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		hs, err := st.AuditHashes(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("read stored hashes: %w", err)
		}
		if len(hs) != len(ids) {
			return nil, fmt.Errorf("read stored hashes: %d of %d returned", len(hs), len(ids))
		}
		out := make([]tlog.Hash, len(hs))
		for i, h := range hs {
			out[i] = tlog.Hash(h)
		}
		return out, nil
	})
}

// Marshal encodes the proof in the C2SP tlog-proof text format:
//
//	c2sp.org/tlog-proof@v1
//	extra <base64 entry bytes>
//	index <decimal index>
//	<base64 hash>            (one per line, zero or more)
//	                         (an empty line)
//	<signed checkpoint note, verbatim>
//
// The entry travels in the spec's optional "extra" line, the place the
// spec gives to application data (its second line, before the index): an
// extension that makes the proof self-contained, so that it can be
// checked with nothing but the log's origin and key. The extra data is
// not authenticated by the format; CheckProof trusts it only because it
// hashes to the leaf the inclusion proof proves. A proof without an
// entry omits the line.
func (p Proof) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(ProofHeader + "\n")
	if len(p.Entry) > 0 {
		b.WriteString("extra " + base64.StdEncoding.EncodeToString(p.Entry) + "\n")
	}
	b.WriteString("index " + strconv.FormatInt(p.Index, 10) + "\n")
	for _, h := range p.Hashes {
		b.WriteString(h.String() + "\n")
	}
	b.WriteString("\n")
	b.Write(p.Checkpoint)
	return b.Bytes()
}

// ParseProof parses a proof in the format Marshal writes, strictly: at
// most MaxProofSize bytes (checked first), the header line, an optional
// extra line holding an entry of at most MaxEntrySize bytes, the index
// (decimal, no sign, no leading zero), at most MaxProofHashes hashes, an
// empty line and a well-formed signed note. Every base64 string and
// number must be in its canonical form, so ParseProof(p.Marshal())
// returns p for every parsed p. The checkpoint's signature is not
// checked here (CheckProof does that).
func ParseProof(b []byte) (Proof, error) {
	if len(b) > MaxProofSize {
		return Proof{}, fmt.Errorf("%w: larger than %d bytes", ErrMalformedProof, MaxProofSize)
	}
	rest := b
	line := func() (string, bool) {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return "", false
		}
		l := string(rest[:i])
		rest = rest[i+1:]
		return l, true
	}
	malformed := func(format string, args ...any) (Proof, error) {
		return Proof{}, fmt.Errorf("%w: %s", ErrMalformedProof, fmt.Sprintf(format, args...))
	}

	if l, ok := line(); !ok || l != ProofHeader {
		return malformed("the first line is not %q", ProofHeader)
	}
	var p Proof
	l, ok := line()
	if !ok {
		return malformed("no index line")
	}
	if v, isExtra := strings.CutPrefix(l, "extra "); isExtra {
		if v == "" {
			return malformed("the extra line is empty")
		}
		if len(v) > base64.StdEncoding.EncodedLen(MaxEntrySize) {
			return malformed("the entry in the extra line is larger than %d bytes", MaxEntrySize)
		}
		e, err := base64.StdEncoding.Strict().DecodeString(v)
		if err != nil || base64.StdEncoding.EncodeToString(e) != v {
			return malformed("the extra line is not canonical base64")
		}
		if len(e) > MaxEntrySize {
			return malformed("the entry in the extra line is larger than %d bytes", MaxEntrySize)
		}
		p.Entry = e
		if l, ok = line(); !ok {
			return malformed("no index line")
		}
	}
	v, isIndex := strings.CutPrefix(l, "index ")
	if !isIndex {
		return malformed("the index line is missing")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != v {
		return malformed("the index %.24q is not a decimal number without sign or leading zero", v)
	}
	p.Index = n
	for {
		l, ok := line()
		if !ok {
			return malformed("no empty line before the checkpoint")
		}
		if l == "" {
			break
		}
		if len(p.Hashes) == MaxProofHashes {
			return malformed("more than %d hashes", MaxProofHashes)
		}
		h, err := tlog.ParseHash(l)
		if err != nil || h.String() != l {
			return malformed("line %d of the inclusion proof is not a canonical base64 SHA-256 hash", len(p.Hashes)+1)
		}
		p.Hashes = append(p.Hashes, h)
	}
	if len(rest) == 0 {
		return malformed("no checkpoint")
	}
	if len(rest) > maxCheckpoint {
		return malformed("the checkpoint is larger than %d bytes", maxCheckpoint)
	}
	// With no keys to verify against, a well-formed note yields
	// UnverifiedNoteError, and a malformed one another error.
	var unverified *note.UnverifiedNoteError
	if _, err := note.Open(rest, note.VerifierList()); !errors.As(err, &unverified) {
		return malformed("the checkpoint is not a signed note")
	}
	p.Checkpoint = bytes.Clone(rest)
	return p, nil
}

// CheckProof verifies a proof offline against the log's origin and
// verifier key and returns the checkpoint it was proven in: the
// checkpoint's signature and origin (OpenCheckpoint), the index within
// the checkpoint's tree, the inclusion of the leaf hash of the exact entry
// bytes (never a re-encoding) at that index under the checkpoint's root,
// and that the entry is a valid v1 entry (Decode). Errors wrap
// ErrProofRejected and name the step that failed.
func CheckProof(p Proof, origin string, v note.Verifier) (Checkpoint, error) {
	reject := func(step string, err error) (Checkpoint, error) {
		return Checkpoint{}, fmt.Errorf("%w: %s: %w", ErrProofRejected, step, err)
	}
	cp, err := OpenCheckpoint(p.Checkpoint, origin, v)
	if err != nil {
		return reject("checkpoint", err)
	}
	if p.Index < 0 || p.Index >= cp.Size {
		return reject("index", fmt.Errorf("entry %d is beyond the checkpoint's tree of %d entries", p.Index, cp.Size))
	}
	if len(p.Entry) == 0 {
		return reject("entry", errors.New("the proof carries no entry"))
	}
	if len(p.Hashes) > MaxProofHashes {
		return reject("inclusion", fmt.Errorf("more than %d hashes", MaxProofHashes))
	}
	leaf := tlog.RecordHash(p.Entry)
	if err := tlog.CheckRecord(p.Hashes, cp.Size, cp.Root, p.Index, leaf); err != nil {
		return reject("inclusion", fmt.Errorf("entry %d with these bytes is not in the tree of size %d with root %s (%w)", p.Index, cp.Size, cp.Root, err))
	}
	if _, err := Decode(p.Entry); err != nil {
		return reject("entry", fmt.Errorf("entry %d is logged but is not a valid v1 entry: %w", p.Index, err))
	}
	return cp, nil
}
