package auditlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
)

// SchemaVersion is the value of an entry's "v" field for entry schema v1
// (audit-log spec, section 5).
const SchemaVersion = "palisade.audit/v1"

// MaxEntrySize bounds the encoding of one entry, in bytes.
const MaxEntrySize = 4 << 10

// Errors returned by Validate, Marshal and Decode; test with errors.Is.
var (
	// ErrInvalidEntry: a field breaks its rule. Validation errors are
	// *FieldError values that unwrap to it.
	ErrInvalidEntry = errors.New("invalid audit entry")
	// ErrMalformedEntry: the bytes are not one strict JSON entry object
	// (syntax, unknown or duplicate member, wrong type, trailing data).
	ErrMalformedEntry = errors.New("malformed audit entry")
	// ErrEntryTooLarge: the encoding exceeds MaxEntrySize.
	ErrEntryTooLarge = errors.New("audit entry exceeds 4096 bytes")
)

// FieldError says which field of an entry breaks which rule. It never
// holds the offending value: a value that fails validation may be
// personal data (an e-mail address where a pseudonym belongs), and these
// errors get logged.
type FieldError struct {
	Field string // JSON path, such as "actor.pid" or "evidence"
	Rule  string // what the value must be
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("invalid audit entry: %s: %s", e.Field, e.Rule)
}

// Unwrap makes errors.Is(err, ErrInvalidEntry) hold.
func (e *FieldError) Unwrap() error { return ErrInvalidEntry }

// Entry is one audit event: who (a pseudonym) did what to which object,
// when, where, and with what outcome. Its JSON encoding (Marshal) is what
// the log stores and hashes, byte for byte; it contains no free text and
// no personal data in the clear.
type Entry struct {
	// V is the schema version; it must be SchemaVersion.
	V string
	// Time is asserted by the server. It is encoded in UTC, truncated to
	// the millisecond.
	Time time.Time
	// RequestID ties the entry to the request that caused it.
	RequestID string
	// Node names the server node that appended the entry.
	Node string
	// Project is the project the event belongs to; empty for events
	// outside any project (users, authentication, maintenance).
	Project string
	// Actor is who acted, as a pseudonym.
	Actor Actor
	// Action is what was done, from the closed vocabulary.
	Action Action
	// Object is what it was done to.
	Object Object
	// Outcome is how the request ended.
	Outcome Outcome
	// Reason is a short code (a token, never a sentence); required unless
	// the outcome is allowed.
	Reason string
	// Evidence maps a name (scan_report, policy_decision, ...) to the
	// digest of a document kept in the registry; at most 8 entries.
	Evidence map[string]string
}

// ActorKind is the kind of principal that acted.
type ActorKind string

// The actor kinds.
const (
	ActorUser    ActorKind = "user"
	ActorService ActorKind = "service"
	ActorSystem  ActorKind = "system" // the server itself: no pseudonym
)

// Actor identifies who acted, by pseudonym only (see Pseudonym). A system
// actor has neither pseudonym nor epoch.
type Actor struct {
	Kind  ActorKind `json:"kind"`
	PID   string    `json:"pid,omitempty"`
	Epoch int       `json:"epoch,omitempty"`
}

// ObjectKind is the kind of thing an action was done to.
type ObjectKind string

// The object kinds.
const (
	ObjectArtifact   ObjectKind = "artifact"
	ObjectTag        ObjectKind = "tag"
	ObjectBlob       ObjectKind = "blob"
	ObjectRepository ObjectKind = "repository"
	ObjectProject    ObjectKind = "project"
	ObjectMember     ObjectKind = "member"
	ObjectQuota      ObjectKind = "quota"
	ObjectToken      ObjectKind = "token"
	ObjectUser       ObjectKind = "user"
	ObjectSession    ObjectKind = "session"
	ObjectKey        ObjectKind = "key"
	ObjectSubject    ObjectKind = "subject"
	ObjectPolicy     ObjectKind = "policy"
	ObjectLog        ObjectKind = "log"
	ObjectStore      ObjectKind = "store"
)

var objectKinds = []ObjectKind{
	ObjectArtifact, ObjectTag, ObjectBlob, ObjectRepository, ObjectProject,
	ObjectMember, ObjectQuota, ObjectToken, ObjectUser, ObjectSession,
	ObjectKey, ObjectSubject, ObjectPolicy, ObjectLog, ObjectStore,
}

// ObjectKinds returns the closed set of object kinds.
func ObjectKinds() []string { return toStrings(objectKinds) }

// Object identifies what an action was done to: by repository name (not
// personal data, and needed to say where), content digest and opaque ID,
// never by tag, description, path or other free text.
type Object struct {
	Kind       ObjectKind `json:"kind"`
	Repository string     `json:"repository,omitempty"`
	Digest     string     `json:"digest,omitempty"`
	ID         string     `json:"id,omitempty"`
}

// Outcome is how the request ended.
type Outcome string

// The outcomes.
const (
	OutcomeAllowed Outcome = "allowed"
	OutcomeDenied  Outcome = "denied"
	OutcomeFailed  Outcome = "failed"
	OutcomeAborted Outcome = "aborted" // compensates an entry whose change was not committed
)

var outcomes = []Outcome{OutcomeAllowed, OutcomeDenied, OutcomeFailed, OutcomeAborted}

// Action is what was done, from a closed vocabulary (Actions). Adding an
// action is a schema change.
type Action string

// The actions.
const (
	ActionArtifactPush             Action = "artifact.push"
	ActionArtifactPull             Action = "artifact.pull"
	ActionArtifactDelete           Action = "artifact.delete"
	ActionTagSet                   Action = "tag.set"
	ActionTagDelete                Action = "tag.delete"
	ActionBlobPush                 Action = "blob.push"
	ActionBlobDelete               Action = "blob.delete"
	ActionMetadataChange           Action = "metadata.change"
	ActionClassificationChange     Action = "classification.change"
	ActionKeyRotate                Action = "key.rotate"
	ActionKeyShred                 Action = "key.shred"
	ActionMasterRewrap             Action = "master.rewrap"
	ActionProjectCreate            Action = "project.create"
	ActionMemberSet                Action = "member.set"
	ActionMemberRemove             Action = "member.remove"
	ActionQuotaSet                 Action = "quota.set"
	ActionTokenCreate              Action = "token.create"
	ActionTokenRevoke              Action = "token.revoke"
	ActionUserCreate               Action = "user.create"
	ActionUserChange               Action = "user.change"
	ActionAuthSuccess              Action = "auth.success"
	ActionAuthFailure              Action = "auth.failure"
	ActionAccessDenied             Action = "access.denied"
	ActionSubjectErase             Action = "subject.erase"
	ActionAuditCheckpointKeyRotate Action = "audit.checkpoint_key_rotate"
	ActionPolicyChange             Action = "policy.change"
	ActionMaintenanceFsck          Action = "maintenance.fsck"
	ActionMaintenanceGC            Action = "maintenance.gc"
	ActionSessionIssue             Action = "session.issue"
)

var actions = []Action{
	ActionArtifactPush, ActionArtifactPull, ActionArtifactDelete,
	ActionTagSet, ActionTagDelete, ActionBlobPush, ActionBlobDelete,
	ActionMetadataChange, ActionClassificationChange,
	ActionKeyRotate, ActionKeyShred, ActionMasterRewrap,
	ActionProjectCreate, ActionMemberSet, ActionMemberRemove, ActionQuotaSet,
	ActionTokenCreate, ActionTokenRevoke, ActionUserCreate, ActionUserChange,
	ActionAuthSuccess, ActionAuthFailure, ActionAccessDenied,
	ActionSubjectErase, ActionAuditCheckpointKeyRotate, ActionPolicyChange,
	ActionMaintenanceFsck, ActionMaintenanceGC, ActionSessionIssue,
}

// Actions returns the closed action vocabulary of schema v1, in a fixed
// order. The slice is a copy.
func Actions() []string { return toStrings(actions) }

func toStrings[S ~string](xs []S) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

// Formats of the entry fields. Every string field is ASCII from a small
// alphabet, so no field can carry free text, quotes or escapes.
var (
	entryRequestIDRE    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	entryNodeRE         = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	entryPIDRE          = regexp.MustCompile(`^p1\.[A-Za-z0-9_-]{22}$`)
	entryNameComponent  = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$`)
	entryDigestRE       = regexp.MustCompile(`^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$`)
	entryObjectIDRE     = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)
	entryReasonRE       = regexp.MustCompile(`^[a-z0-9_.:-]{1,64}$`)
	entryEvidenceNameRE = regexp.MustCompile(`^[a-z_]{1,32}$`)
	entryTimeRE         = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$`)
)

const (
	entryTimeLayout   = "2006-01-02T15:04:05.000Z07:00" // in UTC this ends in "Z"
	entryMaxName      = 255
	entryMaxEvidence  = 8
	entryMaxEpoch     = 1<<32 - 1
	entryTimeRule     = "must be RFC 3339 UTC with milliseconds (2006-01-02T15:04:05.000Z), year 0001 to 9999"
	entryDigestRule   = "must be sha256:<64 hex> or sha512:<128 hex>, lower case"
	entryOCINameRule  = "must follow the lower-case OCI name grammar, at most 255 bytes"
	entryProjectRule  = "must be one component of the lower-case OCI name grammar, at most 255 bytes"
	entryEvidenceRule = "names must match ^[a-z_]{1,32}$ and values must be sha256:<64 hex> or sha512:<128 hex>"
)

// canonicalTime is t as encoded: UTC, truncated to the millisecond.
func canonicalTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// Validate checks every field against its enum or format and returns all
// violations (errors.Join of *FieldError), or nil. An entry that fails
// validation must never be appended.
func (e Entry) Validate() error {
	var errs []error
	bad := func(field, rule string) { errs = append(errs, &FieldError{Field: field, Rule: rule}) }

	if e.V != SchemaVersion {
		bad("v", "must be "+SchemaVersion)
	}
	if t := canonicalTime(e.Time); t.IsZero() || t.Year() < 1 || t.Year() > 9999 {
		bad("time", entryTimeRule)
	}
	if !entryRequestIDRE.MatchString(e.RequestID) {
		bad("request_id", "must match "+entryRequestIDRE.String())
	}
	if !entryNodeRE.MatchString(e.Node) {
		bad("node", "must match "+entryNodeRE.String())
	}
	if e.Project != "" && (len(e.Project) > entryMaxName || !entryNameComponent.MatchString(e.Project)) {
		bad("project", entryProjectRule)
	}

	switch e.Actor.Kind {
	case ActorUser, ActorService:
		if !entryPIDRE.MatchString(e.Actor.PID) {
			bad("actor.pid", "must match "+entryPIDRE.String()+" for kind "+string(e.Actor.Kind))
		}
		if e.Actor.Epoch < 1 || uint64(e.Actor.Epoch) > entryMaxEpoch {
			bad("actor.epoch", "must be 1 to 4294967295 for kind "+string(e.Actor.Kind))
		}
	case ActorSystem:
		if e.Actor.PID != "" {
			bad("actor.pid", "must be empty for kind system")
		}
		if e.Actor.Epoch != 0 {
			bad("actor.epoch", "must be 0 for kind system")
		}
	default:
		bad("actor.kind", "must be one of user, service, system")
	}

	if !slices.Contains(actions, e.Action) {
		bad("action", "must be one of the v1 actions (Actions)")
	}

	if !slices.Contains(objectKinds, e.Object.Kind) {
		bad("object.kind", "must be one of "+strings.Join(ObjectKinds(), ", "))
	}
	if r := e.Object.Repository; r != "" && !validOCIName(r) {
		bad("object.repository", entryOCINameRule)
	}
	if d := e.Object.Digest; d != "" && !entryDigestRE.MatchString(d) {
		bad("object.digest", entryDigestRule)
	}
	if id := e.Object.ID; id != "" && !entryObjectIDRE.MatchString(id) {
		bad("object.id", "must match "+entryObjectIDRE.String())
	}

	if !slices.Contains(outcomes, e.Outcome) {
		bad("outcome", "must be one of allowed, denied, failed, aborted")
	}
	switch {
	case e.Reason == "" && e.Outcome != OutcomeAllowed && slices.Contains(outcomes, e.Outcome):
		bad("reason", "is required when the outcome is not allowed")
	case e.Reason != "" && !entryReasonRE.MatchString(e.Reason):
		bad("reason", "must match "+entryReasonRE.String())
	}

	if len(e.Evidence) > entryMaxEvidence {
		bad("evidence", "must have at most 8 entries")
	}
	for name, d := range e.Evidence {
		if !entryEvidenceNameRE.MatchString(name) || !entryDigestRE.MatchString(d) {
			bad("evidence", entryEvidenceRule)
			break
		}
	}
	return errors.Join(errs...)
}

// validOCIName reports whether s is a repository name in the OCI
// distribution grammar: lower-case components separated by "/".
func validOCIName(s string) bool {
	if len(s) > entryMaxName {
		return false
	}
	for c := range strings.SplitSeq(s, "/") {
		if !entryNameComponent.MatchString(c) {
			return false
		}
	}
	return true
}

// entryWire is the encoding of an Entry. Its field order is the order of
// the members in the encoding; encoding/json writes map keys (evidence)
// sorted, so the encoding does not depend on map iteration order.
type entryWire struct {
	V         string            `json:"v"`
	Time      string            `json:"time"`
	RequestID string            `json:"request_id"`
	Node      string            `json:"node"`
	Project   string            `json:"project,omitempty"`
	Actor     Actor             `json:"actor"`
	Action    Action            `json:"action"`
	Object    Object            `json:"object"`
	Outcome   Outcome           `json:"outcome"`
	Reason    string            `json:"reason,omitempty"`
	Evidence  map[string]string `json:"evidence,omitempty"`
}

// Marshal validates e and returns its canonical encoding: compact JSON,
// members in a fixed order, evidence names sorted, at most MaxEntrySize
// bytes. These bytes are what the log stores and hashes.
func (e Entry) Marshal() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(entryWire{
		V:         e.V,
		Time:      canonicalTime(e.Time).Format(entryTimeLayout),
		RequestID: e.RequestID,
		Node:      e.Node,
		Project:   e.Project,
		Actor:     e.Actor,
		Action:    e.Action,
		Object:    e.Object,
		Outcome:   e.Outcome,
		Reason:    e.Reason,
		Evidence:  e.Evidence,
	})
	if err != nil {
		return nil, fmt.Errorf("encode audit entry: %w", err)
	}
	if len(b) > MaxEntrySize {
		return nil, ErrEntryTooLarge
	}
	return b, nil
}

// Decode parses one stored entry strictly: at most MaxEntrySize bytes
// (checked before parsing), one JSON object with exactly-named, unique,
// known members and nothing after it, then Validate. For canonical input
// Marshal(Decode(b)) == b. A valid but non-canonical encoding (other
// member order, white space, escapes) decodes too, which is why a
// verifier hashes the stored bytes and never re-encodes an entry.
func Decode(b []byte) (Entry, error) {
	if len(b) > MaxEntrySize {
		return Entry{}, ErrEntryTooLarge
	}
	if err := scanEntryJSON(b); err != nil {
		return Entry{}, fmt.Errorf("%w: %w", ErrMalformedEntry, err)
	}
	var w entryWire
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Entry{}, fmt.Errorf("%w: %w", ErrMalformedEntry, err)
	}
	if !entryTimeRE.MatchString(w.Time) {
		return Entry{}, &FieldError{Field: "time", Rule: entryTimeRule}
	}
	t, err := time.Parse(entryTimeLayout, w.Time)
	if err != nil {
		return Entry{}, &FieldError{Field: "time", Rule: entryTimeRule}
	}
	e := Entry{
		V:         w.V,
		Time:      t.UTC(),
		RequestID: w.RequestID,
		Node:      w.Node,
		Project:   w.Project,
		Actor:     w.Actor,
		Action:    w.Action,
		Object:    w.Object,
		Outcome:   w.Outcome,
		Reason:    w.Reason,
		Evidence:  w.Evidence,
	}
	if len(e.Evidence) == 0 {
		e.Evidence = nil // "evidence":{} and no evidence are the same entry
	}
	if err := e.Validate(); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// MarshalJSON encodes e canonically (Marshal), so that an Entry embedded
// in another JSON document never gets a second, different encoding.
func (e Entry) MarshalJSON() ([]byte, error) { return e.Marshal() }

// UnmarshalJSON decodes strictly (Decode).
func (e *Entry) UnmarshalJSON(b []byte) error {
	d, err := Decode(b)
	if err != nil {
		return err
	}
	*e = d
	return nil
}

// entryObjectMembers lists the member names allowed in each object of an
// entry, by path; a nil list allows any name (evidence names are checked
// by Validate).
var entryObjectMembers = map[string][]string{
	"":         {"v", "time", "request_id", "node", "project", "actor", "action", "object", "outcome", "reason", "evidence"},
	"actor":    {"kind", "pid", "epoch"},
	"object":   {"kind", "repository", "digest", "id"},
	"evidence": nil,
}

// scanEntryJSON checks what encoding/json would let through: member names
// must match exactly (encoding/json folds case), appear once (it keeps
// the last of duplicates, where another parser may keep the first), and
// objects appear only where the schema has them; nothing may follow the
// entry object.
func scanEntryJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	if err := scanEntryObject(dec, ""); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the entry object")
	}
	return nil
}

// scanEntryObject scans the members of the object at path, whose '{' has
// been read, through its '}'.
func scanEntryObject(dec *json.Decoder, path string) error {
	allowed := entryObjectMembers[path]
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		child := name
		if path != "" {
			child = path + "." + name
		}
		if seen[name] {
			return fmt.Errorf("duplicate member %q", child)
		}
		seen[name] = true
		if allowed != nil && !slices.Contains(allowed, name) {
			return fmt.Errorf("unknown member %q", child)
		}
		tok, err = dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('['):
			return fmt.Errorf("unexpected array in %q", child)
		case json.Delim('{'):
			if _, ok := entryObjectMembers[child]; !ok || path != "" {
				return fmt.Errorf("unexpected object in %q", child)
			}
			if err := scanEntryObject(dec, child); err != nil {
				return err
			}
		}
	}
	_, err := dec.Token() // '}'
	return err
}
