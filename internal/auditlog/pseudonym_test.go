package auditlog_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"regexp"
	"testing"

	"github.com/palisade-sec/palisade/internal/auditlog"
)

// pseudonymTestKey is the test-only subject key 0x00, 0x01, ..., 0x1f.
func pseudonymTestKey() []byte {
	k := make([]byte, auditlog.SubjectKeySize)
	for i := range k {
		k[i] = byte(i)
	}
	return k
}

// TestPseudonymVectors pins the derivation of spec section 6. The values
// were computed once, independently of this code (Python hmac, hashlib and
// base64.urlsafe_b64encode), and must never change: a change would unlink
// every pseudonym already in a log.
func TestPseudonymVectors(t *testing.T) {
	t.Parallel()
	ff := bytes.Repeat([]byte{0xff}, auditlog.SubjectKeySize)
	tests := []struct {
		name  string
		key   []byte
		epoch int
		want  string
	}{
		{"key 00..1f epoch 1", pseudonymTestKey(), 1, "p1.6I-DetqVaRV-9IpT7AKRsW"},
		{"key 00..1f epoch 2", pseudonymTestKey(), 2, "p1.uj7BVK4GXVDH0HNJpDq3YF"},
		{"key ff epoch 1", ff, 1, "p1.mdwaTBw7QgNtfNC3g0stam"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := auditlog.Pseudonym(tt.key, tt.epoch)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Pseudonym = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCredentialPseudonymVectors pins the credential derivation, computed
// independently the same way (Python hmac over the label and the
// credential): entries of one token keep one name, and a token ID never
// appears in the log.
func TestCredentialPseudonymVectors(t *testing.T) {
	t.Parallel()
	for credential, want := range map[string]string{
		"tok-0123456789abcdef":  "c1.1XLA_goGDcg8UBpD6dOCM_",
		"cert-00112233aabbccdd": "c1.VjP7CbmMPI8dUbEBJHbTaH",
	} {
		got, err := auditlog.CredentialPseudonym(pseudonymTestKey(), credential)
		if err != nil || got != want {
			t.Errorf("CredentialPseudonym(%q) = %q, %v; want %q", credential, got, err, want)
		}
	}
	// Another subject's key names the same token differently, and a key
	// of the wrong size is refused.
	other, err := auditlog.CredentialPseudonym(bytes.Repeat([]byte{0xff}, auditlog.SubjectKeySize), "tok-0123456789abcdef")
	if err != nil || other == "c1.1XLA_goGDcg8UBpD6dOCM_" {
		t.Errorf("another key: %q, %v", other, err)
	}
	if _, err := auditlog.CredentialPseudonym(make([]byte, 16), "tok"); !errors.Is(err, auditlog.ErrSubjectKeySize) {
		t.Errorf("short key: %v", err)
	}
}

// TestSubjectPseudonymVector pins how entries name whom a change is about
// (computed the same independent way), and that it is not the actor
// pseudonym of the same key.
func TestSubjectPseudonymVector(t *testing.T) {
	t.Parallel()
	got, err := auditlog.SubjectPseudonym(pseudonymTestKey())
	if err != nil || got != "s1.KqH_xPTHF3LQ3N_n22a3OZ" {
		t.Errorf("SubjectPseudonym = %q, %v", got, err)
	}
	actor, _ := auditlog.Pseudonym(pseudonymTestKey(), 1)
	if got[3:] == actor[3:] {
		t.Error("the subject pseudonym equals the actor pseudonym")
	}
	if _, err := auditlog.SubjectPseudonym(nil); !errors.Is(err, auditlog.ErrSubjectKeySize) {
		t.Errorf("no key: %v", err)
	}
}

func TestPseudonymProperties(t *testing.T) {
	t.Parallel()
	pidRE := regexp.MustCompile(`^p1\.[A-Za-z0-9_-]{22}$`)
	k1, err := auditlog.NewSubjectKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := auditlog.NewSubjectKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(k1, k2) {
		t.Fatal("two random subject keys are equal")
	}
	pid := func(k []byte, epoch int) string {
		t.Helper()
		p, err := auditlog.Pseudonym(k, epoch)
		if err != nil {
			t.Fatalf("Pseudonym(epoch %d): %v", epoch, err)
		}
		if !pidRE.MatchString(p) {
			t.Fatalf("Pseudonym = %q, does not match %s", p, pidRE)
		}
		return p
	}
	if pid(k1, 1) != pid(bytes.Clone(k1), 1) {
		t.Error("pseudonym not stable for the same key and epoch")
	}
	if pid(k1, 1) == pid(k1, 2) {
		t.Error("pseudonym does not change with the epoch")
	}
	if pid(k1, 1) == pid(k2, 1) {
		t.Error("pseudonym does not change with the key")
	}
	// A pseudonym is a valid actor.pid.
	e := entrySample()
	e.Actor.PID, e.Actor.Epoch = pid(k1, math.MaxInt32), math.MaxInt32
	if err := e.Validate(); err != nil {
		t.Errorf("entry with a derived pseudonym: %v", err)
	}
}

func TestPseudonymRejects(t *testing.T) {
	t.Parallel()
	wide := 32 // a variable shift: 1<<wide is 1<<32 with 64-bit int, 0 with 32-bit
	tests := []struct {
		name    string
		key     []byte
		epoch   int
		wantErr error
	}{
		{"nil key", nil, 1, auditlog.ErrSubjectKeySize},
		{"short key", make([]byte, 31), 1, auditlog.ErrSubjectKeySize},
		{"long key", make([]byte, 33), 1, auditlog.ErrSubjectKeySize},
		{"epoch 0", make([]byte, 32), 0, auditlog.ErrEpoch},
		{"negative epoch", make([]byte, 32), -1, auditlog.ErrEpoch},
		{"epoch over 32 bits", make([]byte, 32), 1 << wide, auditlog.ErrEpoch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := auditlog.Pseudonym(tt.key, tt.epoch)
			if !errors.Is(err, tt.wantErr) || got != "" {
				t.Errorf("Pseudonym = %q, %v, want \"\", %v", got, err, tt.wantErr)
			}
		})
	}
}

func TestNewSubjectKey(t *testing.T) {
	t.Parallel()
	src := bytes.Repeat([]byte{7}, 40)
	k, err := auditlog.NewSubjectKey(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k, src[:auditlog.SubjectKeySize]) {
		t.Errorf("NewSubjectKey = %x, want the first 32 bytes of the reader", k)
	}
	if _, err := auditlog.NewSubjectKey(bytes.NewReader(src[:31])); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("NewSubjectKey(short reader) error = %v, want %v", err, io.ErrUnexpectedEOF)
	}
}
