package auditlog

import (
	"context"
	"fmt"
	"time"

	"github.com/palisade-sec/palisade/internal/store"
)

// IndexProblem is an entry whose searchable columns (the mutable index
// the store keeps beside each entry's bytes) disagree with the entry's
// own bytes. Verify checks the bytes; a changed index hides an entry
// from searches without breaking the tree, so CheckIndex looks for it.
type IndexProblem struct {
	Index  int64  `json:"index"`
	Column string `json:"column"`
	// Detail says what the column holds and what the entry says; both
	// are pseudonyms, codes, names and digests, never personal data.
	Detail string `json:"detail"`
}

// MaxIndexProblems bounds the problems CheckIndex returns; it counts
// them all.
const MaxIndexProblems = 1000

// IndexReport is what CheckIndex read and found.
type IndexReport struct {
	// Entries is the number of entries read.
	Entries int64
	// Problems are the first MaxIndexProblems disagreements, in index
	// order; Total counts them all.
	Problems []IndexProblem
	Total    int
}

// CheckIndex reads every stored entry and compares its searchable
// columns with what its bytes decode to. It reports the disagreements;
// the error is for a scan that could not run.
func CheckIndex(ctx context.Context, st Reader) (IndexReport, error) {
	var rep IndexReport
	for next := int64(0); ; {
		recs, err := st.AuditEntries(ctx, next, pageSize)
		if err != nil {
			return rep, fmt.Errorf("check the audit index: %w", err)
		}
		if len(recs) == 0 {
			return rep, nil
		}
		for _, r := range recs {
			probs := indexProblems(r)
			rep.Total += len(probs)
			if room := MaxIndexProblems - len(rep.Problems); room > 0 {
				rep.Problems = append(rep.Problems, probs[:min(room, len(probs))]...)
			}
			rep.Entries++
			next = r.Index + 1
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
	}
}

// indexProblems compares one record's columns with its entry.
func indexProblems(r store.AuditRecord) []IndexProblem {
	e, err := Decode(r.Data)
	if err != nil {
		return []IndexProblem{{Index: r.Index, Column: "data", Detail: "the entry's bytes do not decode: " + err.Error()}}
	}
	var out []IndexProblem
	col := func(name, stored, want string) {
		if stored != want {
			out = append(out, IndexProblem{Index: r.Index, Column: name, Detail: fmt.Sprintf("the index says %q, the entry %q", stored, want)})
		}
	}
	col("action", r.Action, string(e.Action))
	col("actor", r.Actor, e.Actor.PID)
	col("project", r.Project, e.Project)
	col("repository", r.Repository, e.Object.Repository)
	col("digest", r.Digest, e.Object.Digest)
	col("outcome", r.Outcome, string(e.Outcome))
	col("request_id", r.RequestID, e.RequestID)
	if !r.Time.Truncate(time.Millisecond).Equal(e.Time) {
		out = append(out, IndexProblem{Index: r.Index, Column: "time", Detail: fmt.Sprintf("the index says %s, the entry %s",
			r.Time.UTC().Format(time.RFC3339Nano), e.Time.UTC().Format(time.RFC3339Nano))})
	}
	return out
}
