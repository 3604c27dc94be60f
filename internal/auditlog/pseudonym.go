package auditlog

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// SubjectKeySize is the size of a per-subject pseudonym key, in bytes.
const SubjectKeySize = 32

// Errors returned by Pseudonym and NewSubjectKey; test with errors.Is.
var (
	ErrSubjectKeySize = errors.New("audit subject key must be 32 bytes")
	ErrEpoch          = errors.New("audit pseudonym epoch must be 1 to 4294967295")
)

// pseudonymLabel and credentialLabel separate the uses of a subject key.
const (
	pseudonymLabel  = "palisade/audit/actor/v1"
	credentialLabel = "palisade/audit/credential/v1"
	subjectLabel    = "palisade/audit/subject/v1"
)

// NewSubjectKey reads a fresh random subject key from r (crypto/rand
// when r is nil). The key lives only in the mutable subject table;
// destroying it makes every pseudonym derived from it unlinkable.
func NewSubjectKey(r io.Reader) ([]byte, error) {
	if r == nil {
		r = rand.Reader
	}
	k := make([]byte, SubjectKeySize)
	if _, err := io.ReadFull(r, k); err != nil {
		return nil, fmt.Errorf("read audit subject key: %w", err)
	}
	return k, nil
}

// Pseudonym returns the actor pseudonym of the subject holding
// subjectKey in the given epoch:
//
//	"p1." + base64url(HMAC-SHA256(subjectKey, "palisade/audit/actor/v1" || uint32be(epoch)))[:22]
//
// It is stable per key and epoch, so auditors can correlate a subject's
// actions, and cannot be computed from an identity without the key, so
// deleting the key erases the link. Epochs start at 1.
func Pseudonym(subjectKey []byte, epoch int) (string, error) {
	if len(subjectKey) != SubjectKeySize {
		return "", ErrSubjectKeySize
	}
	if epoch < 1 || uint64(epoch) > entryMaxEpoch {
		return "", ErrEpoch
	}
	m := hmac.New(sha256.New, subjectKey)
	m.Write([]byte(pseudonymLabel))
	m.Write(binary.BigEndian.AppendUint32(nil, uint32(epoch)))
	return "p1." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:22], nil
}

// ValidPseudonym reports whether s has the form of an actor pseudonym:
// "p1." and 22 base64url characters.
func ValidPseudonym(s string) bool { return entryPIDRE.MatchString(s) }

// SubjectPseudonym returns how entries name the principal a change is
// about (a user changed, a member whose role changed):
//
//	"s1." + base64url(HMAC-SHA256(subjectKey, "palisade/audit/subject/v1"))[:22]
//
// It differs from the actor pseudonym on purpose: entries about a person
// are visible to those who manage the project, who must not learn from
// them how the log names that person's own actions.
func SubjectPseudonym(subjectKey []byte) (string, error) {
	if len(subjectKey) != SubjectKeySize {
		return "", ErrSubjectKeySize
	}
	m := hmac.New(sha256.New, subjectKey)
	m.Write([]byte(subjectLabel))
	return "s1." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:22], nil
}

// CredentialPseudonym returns how entries name a credential (an API
// token's ID, a certificate's digest) its subject presented:
//
//	"c1." + base64url(HMAC-SHA256(subjectKey, "palisade/audit/credential/v1" || credential))[:22]
//
// It links the entries of one credential, and ties them to the credential
// only while the subject's key exists: the token table maps token IDs to
// their owners, so a plain token ID would undo an erasure.
func CredentialPseudonym(subjectKey []byte, credential string) (string, error) {
	if len(subjectKey) != SubjectKeySize {
		return "", ErrSubjectKeySize
	}
	m := hmac.New(sha256.New, subjectKey)
	m.Write([]byte(credentialLabel))
	m.Write([]byte(credential))
	return "c1." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:22], nil
}
