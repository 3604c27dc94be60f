package auditlog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/palisade-sec/palisade/internal/atomicfile"
	"github.com/palisade-sec/palisade/internal/store"
)

// ErrTampered is wrapped by every *TamperError.
var ErrTampered = errors.New("audit log tampered with")

// TamperError says what verification found wrong and where.
type TamperError struct {
	// Index is the first entry concerned, or -1.
	Index  int64
	Detail string
}

func (e *TamperError) Error() string {
	if e.Index >= 0 {
		return fmt.Sprintf("audit log tampered with at entry %d: %s", e.Index, e.Detail)
	}
	return "audit log tampered with: " + e.Detail
}

// Unwrap makes errors.Is(err, ErrTampered) hold.
func (e *TamperError) Unwrap() error { return ErrTampered }

func tampered(index int64, format string, args ...any) error {
	return &TamperError{Index: index, Detail: fmt.Sprintf(format, args...)}
}

// Checkpoint is a checkpoint whose signature was verified.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
}

// maxCheckpoint bounds a checkpoint note.
const maxCheckpoint = 16 << 10

// OpenCheckpoint verifies a signed checkpoint with the log's verifier key
// and parses it; the origin must be the log's.
func OpenCheckpoint(msg []byte, origin string, v note.Verifier) (Checkpoint, error) {
	if len(msg) > maxCheckpoint {
		return Checkpoint{}, fmt.Errorf("checkpoint is larger than %d bytes", maxCheckpoint)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			return Checkpoint{}, fmt.Errorf("checkpoint is not signed by the log's key %s", v.Name())
		}
		return Checkpoint{}, fmt.Errorf("checkpoint signature: %w", err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 {
		return Checkpoint{}, errors.New("checkpoint: want origin, size and root hash lines")
	}
	if lines[0] != origin {
		return Checkpoint{}, fmt.Errorf("checkpoint is of the log %q, not %q", lines[0], origin)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || lines[1] != strconv.FormatInt(size, 10) {
		return Checkpoint{}, fmt.Errorf("checkpoint size %.20q is not a decimal number", lines[1])
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint root: %w", err)
	}
	return Checkpoint{Origin: origin, Size: size, Root: root}, nil
}

// State is what a verifier remembers between runs: the last checkpoint
// it accepted. A later log must extend it.
type State struct {
	Origin   string    `json:"origin"`
	Size     int64     `json:"size"`
	Root     string    `json:"root"` // base64
	Note     string    `json:"checkpoint"`
	Verified time.Time `json:"verified"`
	// Key is the verifier key the verifier pinned (name+hash+key).
	Key string `json:"key,omitempty"`
}

// maxState bounds a state file.
const maxState = 64 << 10

// LoadState reads a state file; a missing file is the zero State (a first
// run).
func LoadState(path string) (State, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return State{}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("read audit state: %w", err)
	}
	if len(b) > maxState {
		return State{}, fmt.Errorf("audit state %s is larger than %d bytes", path, maxState)
	}
	var s State
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return State{}, fmt.Errorf("audit state %s: %w", path, err)
	}
	return s, nil
}

// SaveState writes a state file atomically.
func SaveState(path string, s State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'), 0o600)
}

// Report is what a verification found good.
type Report struct {
	Size        int64     `json:"size"`
	Root        string    `json:"root"`
	Checkpoints int       `json:"checkpoints"`
	Previous    int64     `json:"previous_size"` // of the state given, -1 without one
	Checked     time.Time `json:"checked"`
}

// Verify checks the whole log held by st against the verifier key: every
// stored checkpoint's signature and origin, the entries' indexes (no gap),
// the tree recomputed from the stored entry bytes against every
// checkpoint's root, the latest checkpoint covering exactly the entries
// stored, and, with a previous state, that the log extends it. It returns
// a *TamperError (wrapping ErrTampered) for what it finds wrong, with the
// entry concerned.
func Verify(ctx context.Context, st Reader, origin string, v note.Verifier, prev *State) (Report, error) {
	rep := Report{Previous: -1}
	latestSize, latestNote, err := st.AuditCheckpoint(ctx)
	if errors.Is(err, store.ErrNotFound) {
		n, serr := st.AuditSize(ctx)
		if serr != nil {
			return rep, serr
		}
		if n > 0 || prev != nil && prev.Size > 0 {
			return rep, tampered(0, "the log holds %d entries but no checkpoint", n)
		}
		return rep, nil
	}
	if err != nil {
		return rep, err
	}
	latest, err := OpenCheckpoint(latestNote, origin, v)
	if err != nil {
		return rep, tampered(-1, "the latest checkpoint (size %d): %v", latestSize, err)
	}
	if latest.Size != latestSize {
		return rep, tampered(-1, "the latest checkpoint says size %d but is stored as size %d", latest.Size, latestSize)
	}
	if prev != nil && prev.Size > 0 {
		rep.Previous = prev.Size
		if latest.Size < prev.Size {
			return rep, tampered(latest.Size, "the log shrank: it was seen with %d entries (checkpoint verified %s) and now has %d",
				prev.Size, prev.Verified.Format(time.RFC3339), latest.Size)
		}
	}

	var (
		f        frontier
		next     int64 // the next index expected
		cps      []store.AuditCheckpoint
		cpAfter  int64 = -1
		lastGood int64 // the size of the last checkpoint matched
	)
	// check compares the recomputed tree with the checkpoints of the size
	// reached.
	check := func() error {
		for {
			if len(cps) == 0 {
				more, err := st.AuditCheckpoints(ctx, cpAfter, 0)
				if err != nil {
					return err
				}
				if len(more) == 0 {
					return nil
				}
				cps = more
				cpAfter = more[len(more)-1].Size
			}
			c := cps[0]
			if c.Size > next {
				return nil
			}
			cps = cps[1:]
			cp, err := OpenCheckpoint(c.Note, origin, v)
			if err != nil {
				return tampered(-1, "the checkpoint of size %d: %v", c.Size, err)
			}
			if cp.Size != c.Size {
				return tampered(-1, "the checkpoint stored as size %d says size %d", c.Size, cp.Size)
			}
			if cp.Size > latest.Size {
				return tampered(latest.Size, "a checkpoint of size %d is beyond the latest one (%d)", cp.Size, latest.Size)
			}
			if c.Size < next {
				continue // the size was passed without a check: cannot happen as sizes come in order
			}
			if root := f.root(); root != cp.Root {
				return tampered(lastGood, "the entries up to index %d no longer hash to the root their signed checkpoint (size %d) commits to, while those before index %d still do: an entry from index %d to %d was changed, removed or moved",
					cp.Size-1, cp.Size, lastGood, lastGood, cp.Size-1)
			}
			lastGood = cp.Size
			rep.Checkpoints++
		}
	}
	if err := check(); err != nil {
		return rep, err
	}
	for next < latest.Size {
		recs, err := st.AuditEntries(ctx, next, pageSize)
		if err != nil {
			return rep, err
		}
		if len(recs) == 0 {
			return rep, tampered(next, "entry %d is missing: the latest checkpoint covers %d entries", next, latest.Size)
		}
		for _, r := range recs {
			if r.Index != next {
				if r.Index > next {
					return rep, tampered(next, "entry %d is missing (the next stored entry is %d)", next, r.Index)
				}
				return rep, tampered(r.Index, "entry %d is stored twice", r.Index)
			}
			if next >= latest.Size {
				return rep, tampered(next, "entry %d is beyond the latest checkpoint (size %d): it was added without one", next, latest.Size)
			}
			f.add(tlog.RecordHash(r.Data))
			next++
			if prev != nil && prev.Size == next {
				if got := f.root().String(); got != prev.Root {
					return rep, tampered(next-1, "the first %d entries no longer hash to the root seen on %s: the history before that was rewritten",
						prev.Size, prev.Verified.Format(time.RFC3339))
				}
			}
			if err := check(); err != nil {
				return rep, err
			}
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
	}
	if n, err := st.AuditSize(ctx); err != nil {
		return rep, err
	} else if n > latest.Size {
		return rep, tampered(latest.Size, "%d entries are stored after the latest checkpoint (size %d): they were added without one", n-latest.Size, latest.Size)
	}
	rep.Size, rep.Root, rep.Checked = latest.Size, latest.Root.String(), time.Now().UTC()
	return rep, nil
}

// pageSize is how many entries Verify reads at a time.
const pageSize = 5000

// frontier is the right edge of an RFC 6962 tree: the roots of its
// perfect subtrees, largest first, enough to compute the root of every
// size as leaves are added, in O(log n) memory.
type frontier struct {
	hashes []tlog.Hash
	sizes  []int64
}

func (f *frontier) add(leaf tlog.Hash) {
	f.hashes = append(f.hashes, leaf)
	f.sizes = append(f.sizes, 1)
	for n := len(f.sizes); n >= 2 && f.sizes[n-1] == f.sizes[n-2]; n = len(f.sizes) {
		f.hashes[n-2] = tlog.NodeHash(f.hashes[n-2], f.hashes[n-1])
		f.sizes[n-2] *= 2
		f.hashes, f.sizes = f.hashes[:n-1], f.sizes[:n-1]
	}
}

// root is the tree hash of the leaves added (tlog.TreeHash's value).
func (f *frontier) root() tlog.Hash {
	if len(f.hashes) == 0 {
		return tlog.Hash{}
	}
	h := f.hashes[len(f.hashes)-1]
	for i := len(f.hashes) - 2; i >= 0; i-- {
		h = tlog.NodeHash(f.hashes[i], h)
	}
	return h
}
