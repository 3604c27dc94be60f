package auditlog

import (
	"fmt"
	"strings"
	"testing"
)

// TestCheckIndex: on both stores an untouched log has no index problem,
// and each changed column of the search index is found at its entry,
// while the tree (the entries' bytes) still verifies.
func TestCheckIndex(t *testing.T) {
	t.Parallel()
	for name, open := range backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := open(t)
			signer, verifier := testKey(t, "palisade-audit")
			fill(t, b.st, signer, 40)
			if rep, err := CheckIndex(t.Context(), b.st); err != nil || len(rep.Problems) != 0 || rep.Total != 0 || rep.Entries != 40 {
				t.Fatalf("CheckIndex of an untouched log: %+v, %v", rep, err)
			}
			b.exec(t, "UPDATE audit_entries SET action = ? WHERE idx = ?", "token.create", 7)
			b.exec(t, "UPDATE audit_entries SET actor = ?, project = ? WHERE idx = ?", "p1.BBBBBBBBBBBBBBBBBBBBBB", "hr", 21)
			b.exec(t, "UPDATE audit_entries SET digest = ? WHERE idx = ?", "", 33)
			rep, err := CheckIndex(t.Context(), b.st)
			if err != nil {
				t.Fatal(err)
			}
			probs := rep.Problems
			if rep.Total != 4 || rep.Entries != 40 {
				t.Errorf("report: %d problems of %d entries, want 4 of 40", rep.Total, rep.Entries)
			}
			var got []string
			for _, p := range probs {
				got = append(got, fmt.Sprintf("%d %s", p.Index, p.Column))
			}
			if want := "7 action, 21 actor, 21 project, 33 digest"; strings.Join(got, ", ") != want {
				t.Errorf("problems %q, want %q", strings.Join(got, ", "), want)
			}
			if !strings.Contains(probs[0].Detail, `the index says "token.create", the entry "artifact.push"`) {
				t.Errorf("detail %q", probs[0].Detail)
			}
			if _, err := Verify(t.Context(), b.st, testOrigin, verifier, nil); err != nil {
				t.Errorf("Verify with only the index changed: %v", err)
			}
		})
	}
}
