package auditlog

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx database/sql driver, for tampering
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/palisade-sec/palisade/internal/store/postgres"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
	"github.com/palisade-sec/palisade/internal/testutil/testenv"
)

const testOrigin = "palisade.example.test/audit/2026"

// backend is a store the log runs on, and raw SQL access to its database
// for the tamper tests.
type backend struct {
	st Storage
	db *sql.DB
}

func backends() map[string]func(t testing.TB) backend {
	return map[string]func(t testing.TB) backend{
		"sqlite": func(t testing.TB) backend {
			path := filepath.Join(t.TempDir(), "meta.db")
			st, err := sqlite.Open(t.Context(), sqlite.Options{Path: path})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return backend{st: st, db: db}
		},
		"postgres": func(t testing.TB) backend {
			dsn := testenv.PostgresSchema(t)
			st, err := postgres.Open(t.Context(), postgres.Options{DSN: dsn})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			db, err := sql.Open("pgx", dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return backend{st: st, db: db}
		},
	}
}

// exec runs raw SQL with ? placeholders on either database.
func (b backend) exec(t testing.TB, q string, args ...any) {
	t.Helper()
	if _, ok := b.st.(*postgres.Store); ok {
		n := 0
		q = replaceEach(q, "?", func() string { n++; return fmt.Sprintf("$%d", n) })
	}
	if _, err := b.db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func replaceEach(s, old string, next func() string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, old)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i] + next())
		s = s[i+len(old):]
	}
}

// testKey returns a fresh checkpoint key pair named name.
func testKey(t testing.TB, name string) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// testEntry is a valid entry numbered i.
func testEntry(i int) Entry {
	return Entry{V: SchemaVersion, Time: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second),
		RequestID: fmt.Sprintf("req-%d", i), Node: "n1", Project: "ml",
		Actor:  Actor{Kind: ActorUser, PID: "p1.AAAAAAAAAAAAAAAAAAAAAA", Epoch: 1},
		Action: ActionArtifactPush, Object: Object{Kind: ObjectArtifact, Repository: "ml/model", Digest: fmt.Sprintf("sha256:%064x", i)},
		Outcome: OutcomeAllowed}
}

// newLog starts a Log on st signed by signer; the end of the test closes
// it (closing it before is harmless).
func newLog(tb testing.TB, st Storage, signer note.Signer) *Log {
	tb.Helper()
	l, err := New(Options{Store: st, Signer: signer, Origin: testOrigin})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(l.Close)
	return l
}

// fill appends n entries from several goroutines at once, so that
// batches form, and returns the log.
func fill(t *testing.T, st Storage, signer note.Signer, n int) *Log {
	t.Helper()
	l := newLog(t, st, signer)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				if _, err := l.Append(t.Context(), testEntry(i)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return l
}

func TestAppendAndVerify(t *testing.T) {
	t.Parallel()
	for name, open := range backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := open(t)
			signer, verifier := testKey(t, "palisade-audit")
			fill(t, b.st, signer, 100)
			rep, err := Verify(t.Context(), b.st, testOrigin, verifier, nil)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if rep.Size != 100 || rep.Checkpoints < 1 {
				t.Errorf("report %+v, want size 100", rep)
			}
			// The checkpoint's root is the tree of the stored hashes too.
			root, err := tlog.TreeHash(100, storeHashes{ctx: t.Context(), st: b.st})
			if err != nil || root.String() != rep.Root {
				t.Errorf("tree hash from stored hashes %v (%v), checkpoint root %s", root, err, rep.Root)
			}
			// Every index appears once.
			recs, err := b.st.AuditEntries(t.Context(), 0, 0)
			if err != nil || len(recs) != 100 {
				t.Fatalf("%d entries, %v", len(recs), err)
			}
			seen := map[string]bool{}
			for i, r := range recs {
				e, err := Decode(r.Data)
				if err != nil || r.Index != int64(i) || seen[e.RequestID] {
					t.Fatalf("entry %d: index %d, %v, duplicate %v", i, r.Index, err, seen[e.RequestID])
				}
				seen[e.RequestID] = true
			}
			// A wrong key or origin is refused.
			_, other := testKey(t, "palisade-audit")
			if _, err := Verify(t.Context(), b.st, testOrigin, other, nil); !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "not signed by the log's key") {
				t.Errorf("Verify with another key: %v", err)
			}
			if _, err := Verify(t.Context(), b.st, "elsewhere/audit", verifier, nil); !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "is of the log") {
				t.Errorf("Verify with another origin: %v", err)
			}
		})
	}
}

// storeHashes reads stored hashes for tlog.
type storeHashes struct {
	ctx context.Context
	st  Storage
}

func (r storeHashes) ReadHashes(ids []int64) ([]tlog.Hash, error) {
	hs, err := r.st.AuditHashes(r.ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]tlog.Hash, len(hs))
	for i, h := range hs {
		out[i] = tlog.Hash(h)
	}
	return out, nil
}

func TestAppendRefusesInvalidEntries(t *testing.T) {
	t.Parallel()
	b := backends()["sqlite"](t)
	signer, _ := testKey(t, "palisade-audit")
	l := newLog(t, b.st, signer)
	e := testEntry(1)
	e.Action = "artifact.teleport"
	if _, err := l.Append(t.Context(), e); !errors.Is(err, ErrInvalidEntry) {
		t.Errorf("Append of an unknown action: %v", err)
	}
	if n, _ := b.st.AuditSize(t.Context()); n != 0 {
		t.Errorf("%d entries after a refused append", n)
	}
	l.Close()
	if _, err := l.Append(t.Context(), testEntry(2)); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: %v", err)
	}
}

// TestTamper changes the stored log the ways an insider with database
// access could, on both databases, and checks each is caught with a
// message saying what and where.
func TestTamper(t *testing.T) {
	t.Parallel()
	const n = 40
	cases := []struct {
		name   string
		tamper func(t *testing.T, b backend, signer note.Signer)
		index  int64  // the entry the error names, -1 for none
		want   string // in the message
	}{
		{"one byte of an entry", func(t *testing.T, b backend, _ note.Signer) {
			recs, _ := b.st.AuditEntries(t.Context(), 17, 1)
			data := append([]byte(nil), recs[0].Data...)
			data[len(data)-3] ^= 1
			b.exec(t, "UPDATE audit_entries SET data = ? WHERE idx = ?", data, 17)
		}, -2, "no longer hash to the root"},
		{"an entry deleted", func(t *testing.T, b backend, _ note.Signer) {
			b.exec(t, "DELETE FROM audit_entries WHERE idx = ?", 23)
		}, 23, "entry 23 is missing"},
		{"two entries swapped", func(t *testing.T, b backend, _ note.Signer) {
			recs, _ := b.st.AuditEntries(t.Context(), 5, 2)
			b.exec(t, "UPDATE audit_entries SET data = ? WHERE idx = ?", recs[1].Data, 5)
			b.exec(t, "UPDATE audit_entries SET data = ? WHERE idx = ?", recs[0].Data, 6)
		}, -2, "no longer hash to the root"},
		{"truncated and re-signed with another key", func(t *testing.T, b backend, _ note.Signer) {
			other, _ := testKey(t, "palisade-audit")
			b.exec(t, "DELETE FROM audit_entries WHERE idx >= ?", 30)
			b.exec(t, "DELETE FROM audit_checkpoints WHERE size > ?", 30)
			msg, err := note.Sign(&note.Note{Text: CheckpointBody(testOrigin, 30, tlog.Hash{})}, other)
			if err != nil {
				t.Fatal(err)
			}
			b.exec(t, "UPDATE audit_checkpoints SET note = ? WHERE size = (SELECT MAX(size) FROM audit_checkpoints)", msg)
		}, -1, "not signed by the log's key"},
		{"latest checkpoint replaced by an older one", func(t *testing.T, b backend, _ note.Signer) {
			cps, _ := b.st.AuditCheckpoints(t.Context(), -1, 1)
			b.exec(t, "UPDATE audit_checkpoints SET note = ? WHERE size = ?", cps[0].Note, n)
		}, -1, "says size"},
		{"entries added without a checkpoint", func(t *testing.T, b backend, _ note.Signer) {
			b.exec(t, "INSERT INTO audit_entries (idx, data, time, request_id, action, actor, project, repository, digest, outcome) VALUES (?, ?, 0, '', '', '', '', '', '', '')", n, []byte(`{}`))
		}, n, "added without one"},
	}
	for name, open := range backends() {
		for _, tc := range cases {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				b := open(t)
				signer, verifier := testKey(t, "palisade-audit")
				l := fill(t, b.st, signer, n)
				l.Close()
				if _, err := Verify(t.Context(), b.st, testOrigin, verifier, nil); err != nil {
					t.Fatalf("Verify before tampering: %v", err)
				}
				tc.tamper(t, b, signer)
				_, err := Verify(t.Context(), b.st, testOrigin, verifier, nil)
				var te *TamperError
				if !errors.As(err, &te) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Verify after tampering: %v, want a TamperError saying %q", err, tc.want)
				}
				switch {
				case tc.index >= 0 && te.Index != tc.index:
					t.Errorf("the error names entry %d, want %d: %v", te.Index, tc.index, err)
				case tc.index == -2 && te.Index < 0:
					t.Errorf("the error names no entry: %v", err)
				}
			})
		}
	}
}

// TestRewriteCaughtByState: an insider who holds the signing key rewrites
// the history and re-signs it; a verifier that saw the log before catches
// it from its state, and a shrunk log too.
func TestRewriteCaughtByState(t *testing.T) {
	t.Parallel()
	for name, open := range backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := open(t)
			signer, verifier := testKey(t, "palisade-audit")
			l := fill(t, b.st, signer, 30)
			l.Close()
			rep, err := Verify(t.Context(), b.st, testOrigin, verifier, nil)
			if err != nil {
				t.Fatal(err)
			}
			statePath := filepath.Join(t.TempDir(), "audit-state.json")
			_, latest, _ := b.st.AuditCheckpoint(t.Context())
			if err := SaveState(statePath, State{Origin: testOrigin, Size: rep.Size, Root: rep.Root, Note: string(latest), Verified: time.Now()}); err != nil {
				t.Fatal(err)
			}
			state, err := LoadState(statePath)
			if err != nil || state.Size != 30 {
				t.Fatalf("LoadState = %+v, %v", state, err)
			}
			// Rewrite: wipe the log and append a different history of 35
			// entries with the real key. Every checkpoint is valid.
			b.exec(t, "DELETE FROM audit_entries")
			b.exec(t, "DELETE FROM audit_hashes")
			b.exec(t, "DELETE FROM audit_checkpoints")
			l2 := newLog(t, b.st, signer)
			for i := range 35 {
				e := testEntry(i)
				if i == 3 {
					e.Outcome, e.Reason = OutcomeDenied, "permission"
				}
				if _, err := l2.Append(t.Context(), e); err != nil {
					t.Fatal(err)
				}
			}
			l2.Close()
			if _, err := Verify(t.Context(), b.st, testOrigin, verifier, nil); err != nil {
				t.Fatalf("the rewritten log verifies on its own (as it should): %v", err)
			}
			_, err = Verify(t.Context(), b.st, testOrigin, verifier, &state)
			if !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "the first 30 entries no longer hash to the root seen") {
				t.Errorf("Verify against the state: %v", err)
			}
			// Shrink: a log of 10 re-signed entries.
			b.exec(t, "DELETE FROM audit_entries WHERE idx >= ?", 10)
			b.exec(t, "DELETE FROM audit_checkpoints")
			msg, err := note.Sign(&note.Note{Text: CheckpointBody(testOrigin, 10, mustTreeHash(t, b.st, 10))}, signer)
			if err != nil {
				t.Fatal(err)
			}
			b.exec(t, "INSERT INTO audit_checkpoints (size, note, created_at) VALUES (?, ?, 0)", 10, msg)
			_, err = Verify(t.Context(), b.st, testOrigin, verifier, &state)
			if !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "the log shrank") {
				t.Errorf("Verify of a shrunk log against the state: %v", err)
			}
		})
	}
}

func mustTreeHash(t *testing.T, st Storage, n int64) tlog.Hash {
	t.Helper()
	h, err := tlog.TreeHash(n, storeHashes{ctx: t.Context(), st: st})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestSequencerRefusesInconsistentLog: the sequencer does not extend (and
// sign) a log whose stored state is not the one its latest checkpoint
// committed to, nor may a new signing key replace a lost one.
func TestSequencerRefusesInconsistentLog(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, b backend)
	}{
		{"later checkpoints deleted", func(t *testing.T, b backend) {
			b.exec(t, "DELETE FROM audit_checkpoints WHERE size > ?", 10)
		}},
		{"the stored hash of the first 16 entries rewritten", func(t *testing.T, b backend) {
			// What recomputed entries and hashes would change at the top.
			b.exec(t, "UPDATE audit_hashes SET hash = ? WHERE id = ?", make([]byte, 32), tlog.StoredHashIndex(4, 0))
		}},
		{"every checkpoint deleted", func(t *testing.T, b backend) {
			b.exec(t, "DELETE FROM audit_checkpoints")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := backends()["sqlite"](t)
			signer, _ := testKey(t, "palisade-audit")
			l := fill(t, b.st, signer, 30)
			if err := l.Check(t.Context()); err != nil || l.Refusing() != nil {
				t.Fatalf("Check of an intact log: %v (refusing %v)", err, l.Refusing())
			}
			tc.tamper(t, b)
			// A server starting on it finds out at once.
			fresh := newLog(t, b.st, signer)
			if err := fresh.Check(t.Context()); !errors.Is(err, ErrInconsistent) || !errors.Is(fresh.Refusing(), ErrInconsistent) {
				t.Errorf("Check of a tampered log: %v (refusing %v), want ErrInconsistent", err, fresh.Refusing())
			}
			if _, err := l.Append(t.Context(), testEntry(99)); !errors.Is(err, ErrInconsistent) {
				t.Errorf("Append to a tampered log: %v, want ErrInconsistent", err)
			}
			if !errors.Is(l.Refusing(), ErrInconsistent) || !strings.Contains(l.Refusing().Error(), "changes are refused") {
				t.Errorf("Refusing after the refused append: %v", l.Refusing())
			}
		})
	}
	t.Run("signing key lost", func(t *testing.T) {
		t.Parallel()
		b := backends()["sqlite"](t)
		st := b.st.(interface {
			Storage
			KeyStore
		})
		w := testWrapper(t)
		signer, _, err := LoadOrCreateKey(t.Context(), st, w, "palisade-audit", rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		fill(t, b.st, signer, 5)
		b.exec(t, "DELETE FROM audit_keys")
		if _, _, err := LoadOrCreateKey(t.Context(), st, w, "palisade-audit", rand.Reader); err == nil || !strings.Contains(err.Error(), "signing key is missing") {
			t.Errorf("LoadOrCreateKey after the key was deleted: %v", err)
		}
	})
}
