package auditlog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/palisade-sec/palisade/internal/store"
)

// Event is what a server component reports for the audit trail; the
// Recorder turns it into an Entry: it adds the time and node, and
// replaces the principal by its pseudonym.
type Event struct {
	RequestID string
	// PrincipalID is who acted; "" for the server itself or a caller
	// that could not be authenticated (the actor is then "system").
	PrincipalID string
	// Service reports that the principal is a service account.
	Service bool
	// Credential names a credential (a token ID, a certificate digest)
	// the event is about; it becomes the object's ID as the
	// CredentialPseudonym under the key of Subject, or else of the actor.
	Credential string
	// Subject is the principal the event is about (a member whose role
	// changed, a user changed, a token's owner); without Credential its
	// SubjectPseudonym becomes the object's ID. Only a subject the log
	// already has a key for is named: naming creates no key, and an
	// erased subject stays unlinkable.
	Subject string
	Action  Action
	Project string
	Object  Object
	Outcome Outcome
	Reason  string
}

// Recorder appends events to the log.
type Recorder struct {
	log      *Log
	subjects *Subjects
	node     string
	now      func() time.Time
}

// NewRecorder returns a Recorder appending to l as node, with pseudonyms
// from s.
func NewRecorder(l *Log, s *Subjects, node string, now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{log: l, subjects: s, node: safeToken(node, "node"), now: now}
}

// Record appends the event and returns its index once it is durable.
func (r *Recorder) Record(ctx context.Context, ev Event) (int64, error) {
	if r == nil {
		return 0, errors.New("no audit log")
	}
	e := Entry{V: SchemaVersion, Time: r.now().UTC().Truncate(time.Millisecond), RequestID: safeToken(ev.RequestID, "request"),
		Node: r.node, Project: ev.Project, Action: ev.Action, Object: ev.Object, Outcome: ev.Outcome, Reason: ev.Reason,
		Actor: Actor{Kind: ActorSystem}}
	if ev.PrincipalID != "" {
		key, epoch, err := r.subjects.key(ctx, ev.PrincipalID)
		var pid string
		if err == nil {
			pid, err = Pseudonym(key, epoch)
		}
		if err == nil && ev.Credential != "" && ev.Subject == "" {
			e.Object.ID, err = CredentialPseudonym(key, ev.Credential)
		}
		if err != nil {
			r.log.m.failed.Inc()
			return 0, fmt.Errorf("record %s: %w", ev.Action, err)
		}
		e.Actor = Actor{Kind: ActorUser, PID: pid, Epoch: epoch}
		if ev.Service {
			e.Actor.Kind = ActorService
		}
	}
	if ev.Subject != "" {
		key, err := r.subjects.existingKey(ctx, ev.Subject)
		switch {
		case err == nil && ev.Credential != "":
			e.Object.ID, err = CredentialPseudonym(key, ev.Credential)
		case err == nil:
			e.Object.ID, err = SubjectPseudonym(key)
		case errors.Is(err, store.ErrNotFound):
			err = nil // nothing ties the subject to the log: leave it unnamed
		}
		if err != nil {
			r.log.m.failed.Inc()
			return 0, fmt.Errorf("record %s: %w", ev.Action, err)
		}
	}
	return r.log.Append(ctx, e)
}

// safeToken keeps the characters entries allow in request IDs and node
// names ([A-Za-z0-9_-]), at most 64, or fallback when none is left.
func safeToken(s, fallback string) string {
	s = strings.Map(func(c rune) rune {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' {
			return c
		}
		return '_'
	}, s)
	if len(s) > 64 {
		s = s[:64]
	}
	if s == "" {
		return fallback
	}
	return s
}

// OutcomeAfter is the outcome of a change recorded before it was made
// whose request then answered status (400 or more): aborted when the
// request was refused (4xx: nothing was changed), failed when the server
// failed (5xx: part of the change may have been made).
func OutcomeAfter(status int) Outcome {
	if status >= 500 {
		return OutcomeFailed
	}
	return OutcomeAborted
}
