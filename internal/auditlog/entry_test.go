package auditlog_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/auditlog"
)

// Another test file of this package may declare the -update flag itself
// (var update = flag.Bool(...)); package variables are initialized before
// init functions run, so register it here only if nobody has.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite testdata golden files")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// entryTime is the example time of spec section 5.
var entryTime = time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

// entrySample returns a valid entry: a user pushed an artifact.
func entrySample() auditlog.Entry {
	return auditlog.Entry{
		V:         auditlog.SchemaVersion,
		Time:      entryTime,
		RequestID: "r_5f0c2d7e9a1b4c3d8e6f",
		Node:      "n_7b2e",
		Project:   "ml-team",
		Actor:     auditlog.Actor{Kind: auditlog.ActorUser, PID: "p1.6I-DetqVaRV-9IpT7AKRsW", Epoch: 1},
		Action:    auditlog.ActionArtifactPush,
		Object: auditlog.Object{
			Kind:       auditlog.ObjectArtifact,
			Repository: "ml-team/fraud/detector",
			Digest:     "sha256:" + strings.Repeat("9f", 32),
			ID:         "a_01J8Z4",
		},
		Outcome: auditlog.OutcomeAllowed,
		Reason:  "policy.pass",
		// Not in sorted order: the encoding sorts them.
		Evidence: map[string]string{
			"signature_bundle": "sha256:" + strings.Repeat("fc", 32),
			"scan_report":      "sha256:" + strings.Repeat("2c", 32),
			"policy_decision":  "sha256:" + strings.Repeat("ba", 32),
			"policy_bundle":    "sha256:" + strings.Repeat("7d", 32),
		},
	}
}

// entryGoldens are the entries whose encodings testdata/entry_*.golden pin.
func entryGoldens() map[string]auditlog.Entry {
	denied := entrySample()
	denied.Actor = auditlog.Actor{Kind: auditlog.ActorService, PID: "p1.uj7BVK4GXVDH0HNJpDq3YF", Epoch: 2}
	denied.Action = auditlog.ActionAccessDenied
	denied.Object = auditlog.Object{Kind: auditlog.ObjectRepository, Repository: "ml-team/fraud/detector"}
	denied.Outcome = auditlog.OutcomeDenied
	denied.Reason = "access:denied_permission"
	denied.Evidence = nil

	gc := auditlog.Entry{
		V:         auditlog.SchemaVersion,
		Time:      time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC),
		RequestID: "gc-2026-12-31",
		Node:      "node-1.eu",
		Actor:     auditlog.Actor{Kind: auditlog.ActorSystem},
		Action:    auditlog.ActionMaintenanceGC,
		Object:    auditlog.Object{Kind: auditlog.ObjectStore},
		Outcome:   auditlog.OutcomeAllowed,
		Evidence:  map[string]string{"gc_report": "sha512:" + strings.Repeat("0a", 64)},
	}

	erase := auditlog.Entry{
		V:         auditlog.SchemaVersion,
		Time:      time.Date(2027, 1, 2, 3, 4, 5, 6_000_000, time.UTC),
		RequestID: "r_erase_1",
		Node:      "n_7b2e",
		Actor:     auditlog.Actor{Kind: auditlog.ActorUser, PID: "p1.mdwaTBw7QgNtfNC3g0stam", Epoch: 1},
		Action:    auditlog.ActionSubjectErase,
		Object:    auditlog.Object{Kind: auditlog.ObjectSubject, ID: "p1.6I-DetqVaRV-9IpT7AKRsW"},
		Outcome:   auditlog.OutcomeAllowed,
	}

	aborted := entrySample()
	aborted.Action = auditlog.ActionArtifactDelete
	aborted.Outcome = auditlog.OutcomeAborted
	aborted.Reason = "commit_failed"
	aborted.Evidence = nil

	return map[string]auditlog.Entry{
		"push":      entrySample(),
		"denied":    denied,
		"system_gc": gc,
		"erase":     erase,
		"aborted":   aborted,
	}
}

func entryMarshal(t testing.TB, e auditlog.Entry) []byte {
	t.Helper()
	b, err := e.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	return b
}

// TestEntryGolden pins the encoding byte for byte: these bytes are hashed
// into the log, so any change breaks every stored entry's proof.
func TestEntryGolden(t *testing.T) {
	for name, e := range entryGoldens() {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "entry_"+name+".golden")
			got := entryMarshal(t, e)
			if updateGolden() {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Marshal =\n%s\nwant (%s)\n%s", got, path, want)
			}
			d, err := auditlog.Decode(want)
			if err != nil {
				t.Fatalf("Decode(%s): %v", path, err)
			}
			if diff := cmp.Diff(d, e); diff != "" {
				t.Errorf("Decode(%s) (-got +want):\n%s", path, diff)
			}
			if again := entryMarshal(t, d); !bytes.Equal(again, want) {
				t.Errorf("Marshal(Decode(b)) =\n%s\nwant\n%s", again, want)
			}
		})
	}
}

func TestEntryMarshalDeterministic(t *testing.T) {
	t.Parallel()
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	want := ""
	for i := range 50 {
		e := entrySample()
		e.Evidence = map[string]string{}
		for j := range names { // a different insertion order each time
			k := (i + j) % len(names)
			e.Evidence[names[k]] = "sha256:" + strings.Repeat("0", 63) + string(rune('a'+k%6))
		}
		got := string(entryMarshal(t, e))
		if want == "" {
			want = got
		}
		if got != want {
			t.Fatalf("encoding %d =\n%s\nwant\n%s", i, got, want)
		}
	}
	idx := make([]int, len(names))
	for i, n := range names {
		idx[i] = strings.Index(want, `"`+n+`":`)
	}
	if !slices.IsSorted(idx) {
		t.Errorf("evidence names not in sorted order: %s", want)
	}
}

func TestEntryTimeCanonical(t *testing.T) {
	t.Parallel()
	e := entrySample()
	e.Time = time.Date(2026, 3, 14, 10, 26, 53, 589_999_999, time.FixedZone("CET", 3600))
	b := entryMarshal(t, e)
	if !bytes.Contains(b, []byte(`"time":"2026-03-14T09:26:53.589Z"`)) {
		t.Errorf("time not encoded as UTC truncated to milliseconds: %s", b)
	}
	d, err := auditlog.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Time.Equal(entryTime) || d.Time.Location() != time.UTC {
		t.Errorf("decoded time = %v, want %v", d.Time, entryTime)
	}
}

// entryErrorFields lists the fields named by the *FieldErrors in err.
func entryErrorFields(err error) []string {
	var fields []string
	var walk func(error)
	walk = func(err error) {
		var fe *auditlog.FieldError
		switch x := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				walk(e)
			}
		case *auditlog.FieldError:
			fields = append(fields, x.Field)
		default:
			if errors.As(err, &fe) {
				fields = append(fields, fe.Field)
			}
		}
	}
	if err != nil {
		walk(err)
	}
	return fields
}

func TestEntryValidate(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 256)
	tests := []struct {
		name   string
		mutate func(*auditlog.Entry)
		field  string // "" for valid
		value  string // the offending value, which the error must not repeat
	}{
		{"valid", func(*auditlog.Entry) {}, "", ""},
		{"sha512 digest", func(e *auditlog.Entry) { e.Object.Digest = "sha512:" + strings.Repeat("ab", 64) }, "", ""},
		{"no project", func(e *auditlog.Entry) { e.Project = "" }, "", ""},
		{"minimal object", func(e *auditlog.Entry) { e.Object = auditlog.Object{Kind: auditlog.ObjectStore} }, "", ""},
		{"allowed without reason", func(e *auditlog.Entry) { e.Reason = "" }, "", ""},
		{"eight evidence", func(e *auditlog.Entry) {
			for _, n := range []string{"a", "b", "c", "d"} {
				e.Evidence[n] = "sha256:" + strings.Repeat("0", 64)
			}
		}, "", ""},
		{"project 255", func(e *auditlog.Entry) { e.Project = long[:255] }, "", ""},
		{"version", func(e *auditlog.Entry) { e.V = "palisade.audit/v2" }, "v", ""},
		{"zero time", func(e *auditlog.Entry) { e.Time = time.Time{} }, "time", ""},
		{"time after 9999", func(e *auditlog.Entry) { e.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "time", ""},
		{"time rounds to zero", func(e *auditlog.Entry) { e.Time = time.Time{}.Add(time.Microsecond) }, "time", ""},
		{"empty request_id", func(e *auditlog.Entry) { e.RequestID = "" }, "request_id", ""},
		{"request_id chars", func(e *auditlog.Entry) { e.RequestID = "r 1" }, "request_id", ""},
		{"request_id 65", func(e *auditlog.Entry) { e.RequestID = long[:65] }, "request_id", ""},
		{"empty node", func(e *auditlog.Entry) { e.Node = "" }, "node", ""},
		{"node host:port", func(e *auditlog.Entry) { e.Node = "10.0.0.1:8080" }, "node", "10.0.0.1:8080"},
		{"project upper case", func(e *auditlog.Entry) { e.Project = "ML" }, "project", "ML"},
		{"project path", func(e *auditlog.Entry) { e.Project = "ml/team" }, "project", ""},
		{"project 256", func(e *auditlog.Entry) { e.Project = long }, "project", ""},
		{"actor kind", func(e *auditlog.Entry) { e.Actor.Kind = "admin" }, "actor.kind", ""},
		{"actor pid e-mail", func(e *auditlog.Entry) { e.Actor.PID = "alice@example.com" }, "actor.pid", "alice@example.com"},
		{"actor pid empty for user", func(e *auditlog.Entry) { e.Actor.PID = "" }, "actor.pid", ""},
		{"actor pid short", func(e *auditlog.Entry) { e.Actor.PID = "p1.abc" }, "actor.pid", ""},
		{"actor epoch 0", func(e *auditlog.Entry) { e.Actor.Epoch = 0 }, "actor.epoch", ""},
		{"actor epoch over 32 bits", func(e *auditlog.Entry) { wide := 32; e.Actor.Epoch = 1 << wide }, "actor.epoch", ""},
		{"system with pid", func(e *auditlog.Entry) { e.Actor.Kind = auditlog.ActorSystem; e.Actor.Epoch = 0 }, "actor.pid", ""},
		{"system with epoch", func(e *auditlog.Entry) { e.Actor = auditlog.Actor{Kind: auditlog.ActorSystem, Epoch: 1} }, "actor.epoch", ""},
		{"action", func(e *auditlog.Entry) { e.Action = "model.push" }, "action", ""},
		{"action empty", func(e *auditlog.Entry) { e.Action = "" }, "action", ""},
		{"object kind", func(e *auditlog.Entry) { e.Object.Kind = "model" }, "object.kind", ""},
		{"object kind empty", func(e *auditlog.Entry) { e.Object.Kind = "" }, "object.kind", ""},
		{"repository upper case", func(e *auditlog.Entry) { e.Object.Repository = "ml/Fraud" }, "object.repository", "ml/Fraud"},
		{"repository empty component", func(e *auditlog.Entry) { e.Object.Repository = "ml//fraud" }, "object.repository", ""},
		{"repository 256", func(e *auditlog.Entry) { e.Object.Repository = "ml/" + long[:253] }, "object.repository", ""},
		{"digest no algorithm", func(e *auditlog.Entry) { e.Object.Digest = strings.Repeat("ab", 32) }, "object.digest", ""},
		{"digest upper hex", func(e *auditlog.Entry) { e.Object.Digest = "sha256:" + strings.Repeat("AB", 32) }, "object.digest", ""},
		{"digest short", func(e *auditlog.Entry) { e.Object.Digest = "sha256:abcd" }, "object.digest", ""},
		{"digest md5", func(e *auditlog.Entry) { e.Object.Digest = "md5:" + strings.Repeat("ab", 16) }, "object.digest", ""},
		{"object id free text", func(e *auditlog.Entry) { e.Object.ID = "my model v2" }, "object.id", "my model v2"},
		{"outcome", func(e *auditlog.Entry) { e.Outcome = "ok" }, "outcome", ""},
		{"denied without reason", func(e *auditlog.Entry) { e.Outcome, e.Reason = auditlog.OutcomeDenied, "" }, "reason", ""},
		{"reason sentence", func(e *auditlog.Entry) {
			e.Reason = "denied: no access to project hr"
		}, "reason", "denied: no access to project hr"},
		{"reason upper case", func(e *auditlog.Entry) { e.Reason = "Policy.Pass" }, "reason", ""},
		{"reason 65", func(e *auditlog.Entry) { e.Reason = long[:65] }, "reason", ""},
		{"nine evidence", func(e *auditlog.Entry) {
			for _, n := range []string{"a", "b", "c", "d", "e"} {
				e.Evidence[n] = "sha256:" + strings.Repeat("0", 64)
			}
		}, "evidence", ""},
		{"evidence name", func(e *auditlog.Entry) { e.Evidence["Scan-Report"] = e.Evidence["scan_report"] }, "evidence", ""},
		{"evidence name 33", func(e *auditlog.Entry) { e.Evidence[long[:33]] = e.Evidence["scan_report"] }, "evidence", ""},
		{"evidence value", func(e *auditlog.Entry) { e.Evidence["scan_report"] = "report.json" }, "evidence", "report.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := entrySample()
			tt.mutate(&e)
			err := e.Validate()
			if _, merr := e.Marshal(); (merr == nil) != (err == nil) {
				t.Errorf("Validate error = %v but Marshal error = %v", err, merr)
			}
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, auditlog.ErrInvalidEntry) {
				t.Fatalf("Validate = %v, want %v", err, auditlog.ErrInvalidEntry)
			}
			if got := entryErrorFields(err); !slices.Equal(got, []string{tt.field}) {
				t.Errorf("fields in error = %q, want [%q] (%v)", got, tt.field, err)
			}
			if !strings.Contains(err.Error(), tt.field+": ") {
				t.Errorf("error %q does not name the field %s", err, tt.field)
			}
			if tt.value != "" && strings.Contains(err.Error(), tt.value) {
				t.Errorf("error %q repeats the offending value", err)
			}
		})
	}
}

func TestEntryValidateZero(t *testing.T) {
	t.Parallel()
	got := entryErrorFields(auditlog.Entry{}.Validate())
	want := []string{"v", "time", "request_id", "node", "actor.kind", "action", "object.kind", "outcome"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("fields for the zero entry (-got +want):\n%s", diff)
	}
}

func TestEntryDecodeStrict(t *testing.T) {
	t.Parallel()
	base := string(entryMarshal(t, entrySample()))
	replace := func(old, new string) string {
		if !strings.Contains(base, old) {
			t.Fatalf("%q not in %s", old, base)
		}
		return strings.Replace(base, old, new, 1)
	}
	body := strings.TrimSuffix(base, "}")
	objectJSON := `"object":{"kind":"artifact","repository":"ml-team/fraud/detector","digest":"sha256:` +
		strings.Repeat("9f", 32) + `","id":"a_01J8Z4"}`
	tests := []struct {
		name    string
		in      string
		wantErr error // nil: decodes
	}{
		{"canonical", base, nil},
		{"trailing newline", base + "\n", nil},
		{"padded to the limit", base + strings.Repeat(" ", auditlog.MaxEntrySize-len(base)), nil},
		{"over the limit", base + strings.Repeat(" ", auditlog.MaxEntrySize-len(base)+1), auditlog.ErrEntryTooLarge},
		{"size before syntax", strings.Repeat("x", auditlog.MaxEntrySize+1), auditlog.ErrEntryTooLarge},
		{"empty", "", auditlog.ErrMalformedEntry},
		{"null", "null", auditlog.ErrMalformedEntry},
		{"array", "[" + base + "]", auditlog.ErrMalformedEntry},
		{"string", `"entry"`, auditlog.ErrMalformedEntry},
		{"truncated", base[:len(base)-1], auditlog.ErrMalformedEntry},
		{"unknown member", body + `,"comment":"x"}`, auditlog.ErrMalformedEntry},
		{"spec tenant", replace(`"project":`, `"tenant":`), auditlog.ErrMalformedEntry},
		{"folded case", replace(`"v":`, `"V":`), auditlog.ErrMalformedEntry},
		{"folded case nested", replace(`"pid":`, `"PID":`), auditlog.ErrMalformedEntry},
		{"duplicate member", body + `,"node":"n_other"}`, auditlog.ErrMalformedEntry},
		{"duplicate actor member", replace(`"epoch":1`, `"epoch":1,"epoch":2`), auditlog.ErrMalformedEntry},
		{"duplicate evidence", replace(`"evidence":{`, `"evidence":{"scan_report":"sha256:`+strings.Repeat("00", 32)+`",`), auditlog.ErrMalformedEntry},
		{"unknown actor member", replace(`"epoch":1`, `"epoch":1,"name":"alice"`), auditlog.ErrMalformedEntry},
		{"trailing garbage", base + "x", auditlog.ErrMalformedEntry},
		{"trailing brace", base + "}", auditlog.ErrMalformedEntry},
		{"two entries", base + base, auditlog.ErrMalformedEntry},
		{"epoch string", replace(`"epoch":1`, `"epoch":"1"`), auditlog.ErrMalformedEntry},
		{"epoch fraction", replace(`"epoch":1`, `"epoch":1.5`), auditlog.ErrMalformedEntry},
		{"epoch exponent", replace(`"epoch":1`, `"epoch":1e0`), auditlog.ErrMalformedEntry},
		{"object as string", replace(objectJSON, `"object":"artifact"`), auditlog.ErrMalformedEntry},
		{"array value", replace(`"reason":"policy.pass"`, `"reason":["policy.pass"]`), auditlog.ErrMalformedEntry},
		{"object in evidence", replace(`"evidence":{`, `"evidence":{"x":{},`), auditlog.ErrMalformedEntry},
		{"object where a string is", replace(`"reason":"policy.pass"`, `"reason":{}`), auditlog.ErrMalformedEntry},
		{"time with offset", replace(`09:26:53.589Z`, `10:26:53.589+01:00`), auditlog.ErrInvalidEntry},
		{"time without millis", replace(`09:26:53.589Z`, `09:26:53Z`), auditlog.ErrInvalidEntry},
		{"time with micros", replace(`09:26:53.589Z`, `09:26:53.589000Z`), auditlog.ErrInvalidEntry},
		{"time lower-case z", replace(`09:26:53.589Z`, `09:26:53.589z`), auditlog.ErrInvalidEntry},
		{"time impossible date", replace(`2026-03-14`, `2026-02-30`), auditlog.ErrInvalidEntry},
		{"time year 0", replace(`2026-03-14`, `0000-03-14`), auditlog.ErrInvalidEntry},
		{"time number", replace(`"2026-03-14T09:26:53.589Z"`, `1773480413589`), auditlog.ErrMalformedEntry},
		{"invalid field", replace(`"policy.pass"`, `"Policy passed"`), auditlog.ErrInvalidEntry},
		{"invalid UTF-8", replace(`"n_7b2e"`, "\"n_7b\xff\""), auditlog.ErrInvalidEntry},
		{"NUL escape", replace(`"n_7b2e"`, `"n_7b\u0000"`), auditlog.ErrInvalidEntry},
		{"missing actor", replace(`"actor":{"kind":"user","pid":"p1.6I-DetqVaRV-9IpT7AKRsW","epoch":1},`, ``), auditlog.ErrInvalidEntry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := auditlog.Decode([]byte(tt.in))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Decode error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if diff := cmp.Diff(got, auditlog.Entry{}); diff != "" {
					t.Errorf("Decode returned a partial entry with its error:\n%s", diff)
				}
				for _, s := range []error{auditlog.ErrEntryTooLarge, auditlog.ErrMalformedEntry, auditlog.ErrInvalidEntry} {
					if s != tt.wantErr && errors.Is(err, s) {
						t.Errorf("Decode error %v is also %v", err, s)
					}
				}
			}
		})
	}
}

// TestEntryNonCanonical documents why verification hashes the stored
// bytes and never re-encodes an entry: a valid entry has more than one
// encoding that decodes, and only the stored one matches the log's leaf.
func TestEntryNonCanonical(t *testing.T) {
	t.Parallel()
	canonical := entryMarshal(t, entrySample())
	var indented bytes.Buffer
	if err := json.Indent(&indented, canonical, "", "  "); err != nil {
		t.Fatal(err)
	}
	for name, stored := range map[string][]byte{
		"indented":  indented.Bytes(),
		"escaped":   bytes.Replace(canonical, []byte(`"n_7b2e"`), []byte(`"n\u005f7b2e"`), 1),
		"reordered": bytes.Replace(canonical, []byte(`{"v":"palisade.audit/v1","time":"2026-03-14T09:26:53.589Z"`), []byte(`{"time":"2026-03-14T09:26:53.589Z","v":"palisade.audit/v1"`), 1),
		"empty evidence": bytes.Replace(
			entryMarshal(t, entryGoldens()["erase"]), []byte(`"outcome":"allowed"`), []byte(`"outcome":"allowed","evidence":{}`), 1),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d, err := auditlog.Decode(stored)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			reencoded := entryMarshal(t, d)
			if bytes.Equal(reencoded, stored) {
				t.Fatal("test input is canonical")
			}
			leaf := func(b []byte) [32]byte { return sha256.Sum256(append([]byte{0}, b...)) }
			if leaf(reencoded) == leaf(stored) {
				t.Error("re-encoding kept the leaf hash; this test documents that it does not")
			}
			if again, err := auditlog.Decode(reencoded); err != nil || !cmp.Equal(again, d) {
				t.Errorf("canonical form decodes to %+v, %v; want %+v", again, err, d)
			}
		})
	}
}

func TestEntryJSONMarshaler(t *testing.T) {
	t.Parallel()
	e := entrySample()
	type envelope struct {
		Index int64          `json:"index"`
		Entry auditlog.Entry `json:"entry"`
	}
	b, err := json.Marshal(envelope{Index: 7, Entry: e})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"index":7,"entry":` + string(entryMarshal(t, e)) + `}`; string(b) != want {
		t.Errorf("json.Marshal =\n%s\nwant\n%s", b, want)
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, b, "", "\t"); err != nil {
		t.Fatal(err)
	}
	var got envelope
	if err := json.Unmarshal(indented.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got.Entry, e); diff != "" {
		t.Errorf("json.Unmarshal (-got +want):\n%s", diff)
	}
	bad := e
	bad.Actor.PID = "alice"
	if _, err := json.Marshal(bad); !errors.Is(err, auditlog.ErrInvalidEntry) {
		t.Errorf("json.Marshal(invalid entry) error = %v, want %v", err, auditlog.ErrInvalidEntry)
	}
	if err := json.Unmarshal([]byte(`{"index":1,"entry":{"v":"palisade.audit/v1","x":1}}`), &got); !errors.Is(err, auditlog.ErrMalformedEntry) {
		t.Errorf("json.Unmarshal(unknown member) error = %v, want %v", err, auditlog.ErrMalformedEntry)
	}
}

func TestEntryVocabularies(t *testing.T) {
	t.Parallel()
	token := regexp.MustCompile(`^[a-z]+(\.[a-z_]+)?$`)
	for _, tt := range []struct {
		name string
		list func() []string
		n    int
		set  func(*auditlog.Entry, string)
	}{
		{"Actions", auditlog.Actions, 29, func(e *auditlog.Entry, s string) { e.Action = auditlog.Action(s) }},
		{"ObjectKinds", auditlog.ObjectKinds, 15, func(e *auditlog.Entry, s string) { e.Object.Kind = auditlog.ObjectKind(s) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.list()
			if len(got) != tt.n {
				t.Errorf("%d values, want %d: %q", len(got), tt.n, got)
			}
			seen := map[string]bool{}
			for _, s := range got {
				if seen[s] || !token.MatchString(s) {
					t.Errorf("value %q duplicated or malformed", s)
				}
				seen[s] = true
				e := entrySample()
				tt.set(&e, s)
				if err := e.Validate(); err != nil {
					t.Errorf("entry with %q: %v", s, err)
				}
			}
			got[0] = "changed"
			if tt.list()[0] == "changed" {
				t.Error("the returned slice aliases the vocabulary")
			}
		})
	}
}

// FuzzEntryDecode: Decode never panics, and whatever it accepts
// re-encodes to a canonical form that decodes to the same entry and is a
// fixed point of Marshal. Seeds: the golden files and testdata/fuzz.
func FuzzEntryDecode(f *testing.F) {
	goldens, err := filepath.Glob(filepath.Join("testdata", "entry_*.golden"))
	if err != nil {
		f.Fatal(err)
	}
	if len(goldens) == 0 {
		f.Fatal("no testdata/entry_*.golden seeds")
	}
	for _, p := range goldens {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := auditlog.Decode(b)
		if err != nil {
			if !errors.Is(err, auditlog.ErrEntryTooLarge) && !errors.Is(err, auditlog.ErrMalformedEntry) && !errors.Is(err, auditlog.ErrInvalidEntry) {
				t.Fatalf("Decode error %v has no sentinel", err)
			}
			return
		}
		c, err := e.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a decoded entry: %v", err)
		}
		if len(c) > len(b) {
			t.Errorf("canonical form (%d bytes) longer than the input (%d bytes)", len(c), len(b))
		}
		d, err := auditlog.Decode(c)
		if err != nil {
			t.Fatalf("Decode of the canonical form %s: %v", c, err)
		}
		if diff := cmp.Diff(d, e); diff != "" {
			t.Fatalf("canonical form decodes differently (-got +want):\n%s", diff)
		}
		if again := entryMarshal(t, d); !bytes.Equal(again, c) {
			t.Fatalf("Marshal not a fixed point:\n%s\n%s", again, c)
		}
	})
}
