package auditlog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/palisade-sec/palisade/internal/store"
)

// Storage is what the log needs from the metadata store.
type Storage interface {
	AuditAppend(ctx context.Context, fn func(store.AuditTx) error) error
	Reader
}

// Reader is the read side of the log's storage: what verification,
// proofs and tiles need (the store, or a client of the server's API).
type Reader interface {
	AuditSize(ctx context.Context) (int64, error)
	AuditEntries(ctx context.Context, start int64, n int) ([]store.AuditRecord, error)
	AuditHashes(ctx context.Context, ids []int64) ([][sha256.Size]byte, error)
	AuditCheckpoint(ctx context.Context) (int64, []byte, error)
	AuditCheckpoints(ctx context.Context, after int64, n int) ([]store.AuditCheckpoint, error)
}

// ErrClosed means the log was closed.
var ErrClosed = errors.New("audit log closed")

// MaxBatch bounds the entries of one append transaction.
const MaxBatch = 256

// Options configures a Log.
type Options struct {
	Store Storage
	// Signer signs checkpoints (note.NewSigner of the log's key).
	Signer note.Signer
	// Origin names the log in its checkpoints: "<host>/audit/<shard>".
	Origin string
	Logger *slog.Logger
	// Metrics, when set, receives the log's Prometheus metrics
	// (palisade_audit_*).
	Metrics prometheus.Registerer
}

// Log appends entries. It is safe for concurrent use.
type Log struct {
	st     Storage
	signer note.Signer
	origin string
	log    *slog.Logger
	m      *metrics
	// refusal holds the ErrInconsistent of the latest commit or Check,
	// nil once a commit succeeds: what Refusing reports.
	refusal atomic.Pointer[error]

	reqs chan *pending
	stop chan struct{}
	done chan struct{}
	once sync.Once
	// mu orders Close after the appends that are queueing: an append
	// holds it shared while it queues, Close exclusively to set closed.
	mu     sync.RWMutex
	closed bool
}

type pending struct {
	rec   store.AuditRecord
	index int64
	err   error
	done  chan struct{}
}

// New starts a Log; Close stops it.
func New(opts Options) (*Log, error) {
	if opts.Store == nil || opts.Signer == nil || opts.Origin == "" {
		return nil, errors.New("new audit log: store, signer and origin are required")
	}
	l := &Log{st: opts.Store, signer: opts.Signer, origin: opts.Origin, log: opts.Logger,
		reqs: make(chan *pending, 4*MaxBatch), stop: make(chan struct{}), done: make(chan struct{})}
	m, err := newMetrics(opts.Metrics, opts.Store)
	if err != nil {
		return nil, fmt.Errorf("new audit log: %w", err)
	}
	l.m = m
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	go l.run()
	return l, nil
}

// Origin returns the log's origin line.
func (l *Log) Origin() string { return l.origin }

// Close stops the sequencer once the appends already queued are done.
func (l *Log) Close() {
	l.once.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		close(l.stop)
	})
	<-l.done
}

// Append validates e and appends it, and returns its index once it is
// durable and covered by a signed checkpoint. An entry that fails
// validation is never appended.
func (l *Log) Append(ctx context.Context, e Entry) (int64, error) {
	data, err := e.Marshal()
	if err != nil {
		l.m.failed.Inc()
		return 0, fmt.Errorf("append audit entry: %w", err)
	}
	p := &pending{done: make(chan struct{}), rec: store.AuditRecord{Data: data, Time: e.Time,
		RequestID: e.RequestID, Action: string(e.Action), Actor: e.Actor.PID, Project: e.Project,
		Repository: e.Object.Repository, Digest: e.Object.Digest, Outcome: string(e.Outcome)}}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		l.m.failed.Inc()
		return 0, ErrClosed
	}
	select {
	case l.reqs <- p:
		l.mu.RUnlock()
	case <-ctx.Done():
		l.mu.RUnlock()
		l.m.failed.Inc()
		return 0, ctx.Err()
	}
	// Once queued, the append happens whatever the caller does: wait for
	// it so that the caller learns its fate.
	<-p.done
	return p.index, p.err
}

// run is the sequencer: it takes what is queued, up to MaxBatch, and
// appends it in one transaction.
func (l *Log) run() {
	defer close(l.done)
	for {
		var batch []*pending
		select {
		case p := <-l.reqs:
			batch = append(batch, p)
		case <-l.stop:
			// Finish what is queued, then stop.
			for {
				select {
				case p := <-l.reqs:
					l.commit([]*pending{p})
				default:
					return
				}
			}
		}
	drain:
		for len(batch) < MaxBatch {
			select {
			case p := <-l.reqs:
				batch = append(batch, p)
			default:
				break drain
			}
		}
		l.commit(batch)
	}
}

func (l *Log) commit(batch []*pending) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	err := l.st.AuditAppend(ctx, func(tx store.AuditTx) error {
		n, err := tx.Size(ctx)
		if err != nil {
			return err
		}
		hr := &txHashes{ctx: ctx, tx: tx, added: map[int64]tlog.Hash{}}
		if err := l.checkTip(ctx, tx, n, hr); err != nil {
			return err
		}
		recs := make([]store.AuditRecord, len(batch))
		var stored []store.AuditHash
		for i, p := range batch {
			idx := n + int64(i)
			hs, err := tlog.StoredHashes(idx, p.rec.Data, hr)
			if err != nil {
				return fmt.Errorf("hash entry %d: %w", idx, err)
			}
			first := tlog.StoredHashIndex(0, idx)
			for j, h := range hs {
				hr.added[first+int64(j)] = h
				stored = append(stored, store.AuditHash{ID: first + int64(j), Hash: [sha256.Size]byte(h)})
			}
			recs[i] = p.rec
			recs[i].Index = idx
		}
		size := n + int64(len(batch))
		root, err := tlog.TreeHash(size, hr)
		if err != nil {
			return fmt.Errorf("tree hash at %d: %w", size, err)
		}
		cp, err := l.sign(size, root)
		if err != nil {
			return err
		}
		if err := tx.Insert(ctx, recs, stored); err != nil {
			return err
		}
		for i := range batch {
			batch[i].index = n + int64(i)
		}
		return tx.PutCheckpoint(ctx, size, cp)
	})
	end := time.Now()
	l.m.observe(len(batch), end.Sub(start), err, end)
	l.noteRefusal(err)
	if err != nil {
		l.log.Error("audit log: append failed", slog.Int("entries", len(batch)), slog.String("error", err.Error()))
		err = fmt.Errorf("append to the audit log: %w", err)
	}
	for _, p := range batch {
		p.err = err
		close(p.done)
	}
}

// ErrInconsistent means the stored log does not match its own latest
// checkpoint: the sequencer refuses to extend (and sign) it.
var ErrInconsistent = errors.New("the stored audit log does not match its latest checkpoint")

// checkTip refuses to extend a log whose stored state is not the one its
// latest checkpoint committed to: entries without a checkpoint, or stored
// hashes that no longer give the checkpoint's root. Otherwise someone who
// rewrote the tables (and deleted the later checkpoints) would get the
// next append to sign the forged history. (An entry's edited bytes do not
// enter the stored hashes: Verify finds those.)
func (l *Log) checkTip(ctx context.Context, tx store.AuditTx, n int64, hr tlog.HashReader) error {
	if n == 0 {
		return nil
	}
	size, note, err := tx.Checkpoint(ctx)
	return tipProblem(n, size, note, err, hr)
}

// tipProblem compares n stored entries, with their stored hashes, to the
// latest checkpoint (size and note, or the error reading it).
func tipProblem(n, size int64, note []byte, cpErr error, hr tlog.HashReader) error {
	const fix = "changes are refused until the log is restored (palisade audit verify names what differs)"
	if errors.Is(cpErr, store.ErrNotFound) {
		return fmt.Errorf("%w: %d entries and no checkpoint; %s", ErrInconsistent, n, fix)
	}
	if cpErr != nil {
		return cpErr
	}
	if size != n {
		return fmt.Errorf("%w: %d entries, the latest checkpoint covers %d; %s", ErrInconsistent, n, size, fix)
	}
	root, err := tlog.TreeHash(n, hr)
	if err != nil {
		return fmt.Errorf("tree hash at %d: %w", n, err)
	}
	if !bytes.Contains(note, []byte("\n"+root.String()+"\n")) {
		return fmt.Errorf("%w: the stored tree of %d entries does not have the root its checkpoint signed; %s", ErrInconsistent, n, fix)
	}
	return nil
}

// Check compares the stored log with its latest checkpoint as the next
// append will (a server runs it when it starts), and returns the
// ErrInconsistent that would refuse it, which Refusing then reports.
func (l *Log) Check(ctx context.Context) error {
	// In the append transaction, under the sequencer's lock, so that
	// another server appending meanwhile is not mistaken for tampering;
	// errChecked rolls it back.
	err := l.st.AuditAppend(ctx, func(tx store.AuditTx) error {
		n, err := tx.Size(ctx)
		if err != nil {
			return err
		}
		if err := l.checkTip(ctx, tx, n, &txHashes{ctx: ctx, tx: tx, added: map[int64]tlog.Hash{}}); err != nil {
			return err
		}
		return errChecked
	})
	if errors.Is(err, errChecked) {
		err = nil
	}
	l.noteRefusal(err)
	return err
}

// errChecked ends Check's transaction without writing.
var errChecked = errors.New("audit log checked")

// Refusing returns why the log refuses appends, as its latest commit (or
// Check) found, or nil.
func (l *Log) Refusing() error {
	if p := l.refusal.Load(); p != nil {
		return *p
	}
	return nil
}

// noteRefusal keeps err when it is an ErrInconsistent, and clears the
// refusal when err is nil.
func (l *Log) noteRefusal(err error) {
	switch {
	case err == nil:
		l.refusal.Store(nil)
	case errors.Is(err, ErrInconsistent):
		l.refusal.Store(&err)
	}
}

// sign returns the signed checkpoint of a tree: the C2SP tlog-checkpoint
// body (origin, size, base64 root) as a signed note.
func (l *Log) sign(size int64, root tlog.Hash) ([]byte, error) {
	msg, err := note.Sign(&note.Note{Text: CheckpointBody(l.origin, size, root)}, l.signer)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint %d: %w", size, err)
	}
	return msg, nil
}

// CheckpointBody is the text of a checkpoint: origin, decimal size and
// base64 root hash, one per line.
func CheckpointBody(origin string, size int64, root tlog.Hash) string {
	return origin + "\n" + strconv.FormatInt(size, 10) + "\n" + root.String() + "\n"
}

// txHashes reads stored hashes inside the append transaction, the ones
// this batch adds first.
type txHashes struct {
	ctx   context.Context
	tx    store.AuditTx
	added map[int64]tlog.Hash
}

func (r *txHashes) ReadHashes(ids []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(ids))
	var missing []int64
	var at []int
	for i, id := range ids {
		if h, ok := r.added[id]; ok {
			out[i] = h
			continue
		}
		missing = append(missing, id)
		at = append(at, i)
	}
	if len(missing) > 0 {
		hs, err := r.tx.Hashes(r.ctx, missing)
		if err != nil {
			return nil, err
		}
		for j, h := range hs {
			out[at[j]] = tlog.Hash(h)
		}
	}
	return out, nil
}
