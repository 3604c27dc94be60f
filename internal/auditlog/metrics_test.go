package auditlog

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestMetrics: appends count, the tree size comes from the store, and a
// failed append counts its entries as failures.
func TestMetrics(t *testing.T) {
	t.Parallel()
	b := backends()["sqlite"](t)
	signer, _ := testKey(t, "palisade-audit")
	reg := prometheus.NewRegistry()
	l, err := New(Options{Store: b.st, Signer: signer, Origin: testOrigin, Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	for i := range 5 {
		if _, err := l.Append(t.Context(), testEntry(i)); err != nil {
			t.Fatal(err)
		}
	}
	const want = `
# HELP palisade_audit_entries_appended_total Audit entries this server appended (durable, under a signed checkpoint).
# TYPE palisade_audit_entries_appended_total counter
palisade_audit_entries_appended_total 5
# HELP palisade_audit_append_failures_total Audit entries that could not be appended (store error, invalid entry, log closed, caller gone): each refused a change (503) or lost the record of a denial or authentication.
# TYPE palisade_audit_append_failures_total counter
palisade_audit_append_failures_total 0
# HELP palisade_audit_tree_size Entries in the audit log (all servers), read from the store at each scrape; -1 when it cannot be read.
# TYPE palisade_audit_tree_size gauge
palisade_audit_tree_size 5
`
	names := []string{"palisade_audit_entries_appended_total", "palisade_audit_append_failures_total", "palisade_audit_tree_size"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(l.m.commit); n != 1 {
		t.Errorf("commit histogram: %d series, want 1", n)
	}
	if ts := testutil.ToFloat64(l.m.lastAppend); ts <= 0 {
		t.Errorf("last append timestamp %v, want the time of the last append", ts)
	}

	// With its tables gone the store refuses the append: counted, and the
	// size cannot be read.
	b.exec(t, "DROP TABLE audit_entries")
	if _, err := l.Append(t.Context(), testEntry(5)); err == nil {
		t.Fatal("Append without the entries table succeeded")
	}
	if got := testutil.ToFloat64(l.m.failed); got != 1 {
		t.Errorf("append failures = %v, want 1", got)
	}
	if got := testutil.ToFloat64(l.m.appended); got != 5 {
		t.Errorf("entries appended after a failure = %v, want 5", got)
	}
	// So does an invalid entry, and an append to a closed log.
	if _, err := l.Append(t.Context(), Entry{}); err == nil {
		t.Fatal("Append of an empty entry succeeded")
	}
	l.Close()
	if _, err := l.Append(t.Context(), testEntry(6)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append to a closed log: %v", err)
	}
	if got := testutil.ToFloat64(l.m.failed); got != 3 {
		t.Errorf("append failures = %v, want 3", got)
	}
	// A second log cannot register the same metrics.
	if _, err := New(Options{Store: b.st, Signer: signer, Origin: testOrigin, Metrics: reg}); err == nil || !strings.Contains(err.Error(), "register the audit log's metrics") {
		t.Errorf("New with the metrics registered twice: %v", err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "palisade_audit_tree_size" {
			if v := mf.GetMetric()[0].GetGauge().GetValue(); v != -1 {
				t.Errorf("tree size of an unreadable store = %v, want -1", v)
			}
		}
	}
}
