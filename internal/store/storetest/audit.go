package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/store"
)

// appendOne appends one record at the log's end, with a hash and a
// checkpoint, in one sequenced transaction, and returns its index.
func appendOne(ctx context.Context, s store.Store, rec store.AuditRecord) (int64, error) {
	var idx int64
	err := s.AuditAppend(ctx, func(tx store.AuditTx) error {
		n, err := tx.Size(ctx)
		if err != nil {
			return err
		}
		idx = n
		rec.Index = n
		if err := tx.Insert(ctx, []store.AuditRecord{rec}, []store.AuditHash{{ID: n, Hash: sha256.Sum256(rec.Data)}}); err != nil {
			return err
		}
		return tx.PutCheckpoint(ctx, n+1, fmt.Appendf(nil, "checkpoint %d", n+1))
	})
	return idx, err
}

func testAudit(t *testing.T, s store.Store) {
	ctx := t.Context()
	if n := must(s.AuditSize(ctx))(t); n != 0 {
		t.Fatalf("AuditSize of a new log = %d", n)
	}
	_, _, err := s.AuditCheckpoint(ctx)
	wantErr(t, "AuditCheckpoint of a new log", err, store.ErrNotFound)
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	recs := []store.AuditRecord{
		{Data: []byte(`{"a":0}`), Time: at, RequestID: "r0", Action: "artifact.push", Actor: "p1.aaa", Project: "ml", Repository: "ml/x", Digest: "sha256:00", Outcome: "allowed"},
		{Data: []byte(`{"a":1}`), Time: at.Add(time.Minute), RequestID: "r1", Action: "artifact.pull", Actor: "p1.bbb", Project: "ml", Outcome: "denied"},
		{Data: []byte(`{"a":2}`), Time: at.Add(2 * time.Minute), RequestID: "r2", Action: "artifact.push", Actor: "p1.aaa", Project: "hr", Outcome: "allowed"},
	}
	for i, r := range recs {
		if idx := must(appendOne(ctx, s, r))(t); idx != int64(i) {
			t.Fatalf("appended at %d, want %d", idx, i)
		}
		recs[i].Index = int64(i)
	}
	if n := must(s.AuditSize(ctx))(t); n != 3 {
		t.Errorf("AuditSize = %d, want 3", n)
	}
	if diff := cmp.Diff(must(s.AuditEntries(ctx, 0, 10))(t), recs); diff != "" {
		t.Errorf("AuditEntries (-got +want):\n%s", diff)
	}
	if got := must(s.AuditEntries(ctx, 2, 10))(t); len(got) != 1 || got[0].Index != 2 {
		t.Errorf("AuditEntries from 2 = %+v", got)
	}
	hs := must(s.AuditHashes(ctx, []int64{2, 0}))(t)
	if hs[0] != sha256.Sum256(recs[2].Data) || hs[1] != sha256.Sum256(recs[0].Data) {
		t.Error("AuditHashes returned other hashes")
	}
	_, err = s.AuditHashes(ctx, []int64{9})
	wantErr(t, "AuditHashes missing", err, store.ErrNotFound)
	size, note, err := s.AuditCheckpoint(ctx)
	if err != nil || size != 3 || string(note) != "checkpoint 3" {
		t.Errorf("AuditCheckpoint = %d %q %v", size, note, err)
	}
	cps := must(s.AuditCheckpoints(ctx, 1, 0))(t)
	if len(cps) != 2 || cps[0].Size != 2 || cps[1].Size != 3 || string(cps[1].Note) != "checkpoint 3" {
		t.Errorf("AuditCheckpoints after 1 = %+v", cps)
	}
	// Indexes and hash IDs are never reused.
	err = s.AuditAppend(ctx, func(tx store.AuditTx) error {
		return tx.Insert(ctx, []store.AuditRecord{{Index: 1, Data: []byte("x"), Time: at}}, nil)
	})
	wantErr(t, "a second entry at index 1", err, store.ErrExists)
	err = s.AuditAppend(ctx, func(tx store.AuditTx) error {
		return tx.Insert(ctx, nil, []store.AuditHash{{ID: 0}})
	})
	wantErr(t, "a second stored hash 0", err, store.ErrExists)
	// A failing append writes nothing.
	boom := errors.New("boom")
	err = s.AuditAppend(ctx, func(tx store.AuditTx) error {
		if err := tx.Insert(ctx, []store.AuditRecord{{Index: 3, Data: []byte("y"), Time: at}}, nil); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || must(s.AuditSize(ctx))(t) != 3 {
		t.Errorf("failed append: %v, size %d", err, must(s.AuditSize(ctx))(t))
	}

	idxOf := func(rs []store.AuditRecord) []int64 {
		var out []int64
		for _, r := range rs {
			out = append(out, r.Index)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		q    store.AuditQuery
		want []int64
	}{
		{"all", store.AuditQuery{After: -1}, []int64{0, 1, 2}},
		{"actor", store.AuditQuery{After: -1, Actor: "p1.aaa"}, []int64{0, 2}},
		{"action and project", store.AuditQuery{After: -1, Action: "artifact.push", Project: "ml"}, []int64{0}},
		{"outcome", store.AuditQuery{After: -1, Outcome: "denied"}, []int64{1}},
		{"time range", store.AuditQuery{After: -1, From: at.Add(time.Minute), To: at.Add(2 * time.Minute)}, []int64{1}},
		{"page", store.AuditQuery{After: 0, N: 1}, []int64{1}},
		{"repository and digest", store.AuditQuery{After: -1, Repository: "ml/x", Digest: "sha256:00"}, []int64{0}},
	} {
		if diff := cmp.Diff(idxOf(must(s.AuditSearch(ctx, tc.q))(t)), tc.want); diff != "" {
			t.Errorf("AuditSearch %s (-got +want):\n%s", tc.name, diff)
		}
	}

	// Keys.
	_, _, err = s.AuditKey(ctx, "checkpoint")
	wantErr(t, "AuditKey missing", err, store.ErrNotFound)
	if err := s.CreateAuditKey(ctx, "checkpoint", []byte("wrapped"), "palisade+abcd+key"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "CreateAuditKey twice", s.CreateAuditKey(ctx, "checkpoint", []byte("other"), "v"), store.ErrExists)
	if w, v, err := s.AuditKey(ctx, "checkpoint"); err != nil || string(w) != "wrapped" || v != "palisade+abcd+key" {
		t.Errorf("AuditKey = %q %q %v", w, v, err)
	}
	// Subjects.
	if err := s.CreateAuditSubject(ctx, "p-alice", []byte("k"), 1); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "CreateAuditSubject twice", s.CreateAuditSubject(ctx, "p-alice", []byte("k2"), 1), store.ErrExists)
	if w, e, err := s.AuditSubject(ctx, "p-alice"); err != nil || string(w) != "k" || e != 1 {
		t.Errorf("AuditSubject = %q %d %v", w, e, err)
	}
	if err := s.DeleteAuditSubject(ctx, "p-alice"); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.AuditSubject(ctx, "p-alice")
	wantErr(t, "AuditSubject after deletion", err, store.ErrNotFound)
	wantErr(t, "DeleteAuditSubject twice", s.DeleteAuditSubject(ctx, "p-alice"), store.ErrNotFound)

	// Rewrapping changes what the function says changed, in both tables.
	if err := s.CreateAuditSubject(ctx, "p-bob", []byte("old"), 1); err != nil {
		t.Fatal(err)
	}
	n := must(s.RewrapAudit(ctx, func(w []byte) ([]byte, bool, error) {
		if string(w) == "old" || string(w) == "wrapped" {
			return append([]byte("new-"), w...), true, nil
		}
		return nil, false, nil
	}))(t)
	if n != 2 {
		t.Errorf("RewrapAudit changed %d keys, want 2", n)
	}
	if w, _, _ := s.AuditKey(ctx, "checkpoint"); string(w) != "new-wrapped" {
		t.Errorf("checkpoint key after RewrapAudit: %q", w)
	}
	if w, _, _ := s.AuditSubject(ctx, "p-bob"); string(w) != "new-old" {
		t.Errorf("subject key after RewrapAudit: %q", w)
	}
	boom = errors.New("no key opens it")
	if _, err := s.RewrapAudit(ctx, func([]byte) ([]byte, bool, error) { return nil, false, boom }); !errors.Is(err, boom) {
		t.Errorf("RewrapAudit with a failing function: %v", err)
	}
}

// testAuditSequencer has many writers append at once: the indexes must
// come out contiguous, each once.
func testAuditSequencer(t *testing.T, s store.Store) {
	ctx := t.Context()
	const writers, each = 8, 10
	var g errgroup.Group
	for w := range writers {
		g.Go(func() error {
			for i := range each {
				if _, err := appendOne(ctx, s, store.AuditRecord{Data: fmt.Appendf(nil, "%d-%d", w, i), Time: time.Now()}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	recs := must(s.AuditEntries(ctx, 0, 0))(t)
	if len(recs) != writers*each {
		t.Fatalf("%d entries, want %d", len(recs), writers*each)
	}
	seen := map[string]bool{}
	for i, r := range recs {
		if r.Index != int64(i) {
			t.Fatalf("entry %d has index %d: a gap or a duplicate", i, r.Index)
		}
		if seen[string(r.Data)] {
			t.Fatalf("entry %q appended twice", r.Data)
		}
		seen[string(r.Data)] = true
	}
	if size, _, err := s.AuditCheckpoint(ctx); err != nil || size != writers*each {
		t.Errorf("latest checkpoint size %d (%v), want %d", size, err, writers*each)
	}
}
