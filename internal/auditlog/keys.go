package auditlog

import (
	"context"
	"errors"
	"fmt"
	"io"

	"golang.org/x/mod/sumdb/note"

	"github.com/palisade-sec/palisade/internal/store"
)

// Wrapper seals and opens small secrets: the master key's keeper
// (gocloud.dev/secrets.Keeper has these methods).
type Wrapper interface {
	Encrypt(ctx context.Context, plaintext []byte) ([]byte, error)
	Decrypt(ctx context.Context, ciphertext []byte) ([]byte, error)
}

// KeyStore is where the checkpoint signing key is kept, wrapped.
type KeyStore interface {
	AuditKey(ctx context.Context, id string) (wrapped []byte, verifier string, err error)
	CreateAuditKey(ctx context.Context, id string, wrapped []byte, verifier string) error
	AuditSize(ctx context.Context) (int64, error)
}

// SigningKeyID names the checkpoint signing key in the store.
const SigningKeyID = "checkpoint"

// LoadOrCreateKey returns the log's checkpoint signer and its verifier
// key text (name+hash+key, what verifiers pin): the key stored wrapped
// under SigningKeyID, or, on first use, a new Ed25519 note key named name,
// stored wrapped. Of servers starting together, the first to store wins
// and the others load it.
func LoadOrCreateKey(ctx context.Context, st KeyStore, w Wrapper, name string, random io.Reader) (note.Signer, string, error) {
	wrapped, vkey, err := st.AuditKey(ctx, SigningKeyID)
	if errors.Is(err, store.ErrNotFound) {
		// A log with entries whose key is gone must not get a new key that
		// would sign on as if nothing happened.
		if n, serr := st.AuditSize(ctx); serr != nil {
			return nil, "", fmt.Errorf("audit signing key: %w", serr)
		} else if n > 0 {
			return nil, "", fmt.Errorf("audit signing key: the audit log holds %d entries but its signing key is missing from the database: restore it from a backup", n)
		}
		skey, newV, gerr := note.GenerateKey(random, name)
		if gerr != nil {
			return nil, "", fmt.Errorf("generate the audit signing key: %w", gerr)
		}
		sealed, werr := w.Encrypt(ctx, []byte(skey))
		if werr != nil {
			return nil, "", fmt.Errorf("wrap the audit signing key: %w", werr)
		}
		err = st.CreateAuditKey(ctx, SigningKeyID, sealed, newV)
		if err == nil {
			wrapped, vkey = sealed, newV
		} else if errors.Is(err, store.ErrExists) {
			wrapped, vkey, err = st.AuditKey(ctx, SigningKeyID)
		}
	}
	if err != nil {
		return nil, "", fmt.Errorf("audit signing key: %w", err)
	}
	skey, err := w.Decrypt(ctx, wrapped)
	if err != nil {
		return nil, "", fmt.Errorf("unwrap the audit signing key (is this the master key that wrapped it?): %w", err)
	}
	signer, err := note.NewSigner(string(skey))
	if err != nil {
		return nil, "", fmt.Errorf("audit signing key: %w", err)
	}
	if _, err := note.NewVerifier(vkey); err != nil {
		return nil, "", fmt.Errorf("audit verifier key: %w", err)
	}
	return signer, vkey, nil
}

// SubjectStore keeps the per-person pseudonym keys, wrapped.
type SubjectStore interface {
	AuditSubject(ctx context.Context, principalID string) (wrapped []byte, epoch int, err error)
	CreateAuditSubject(ctx context.Context, principalID string, wrapped []byte, epoch int) error
	DeleteAuditSubject(ctx context.Context, principalID string) error
}

// Subjects computes actors' pseudonyms from their per-person keys,
// creating a key on first sight, and destroys keys to honour erasures.
type Subjects struct {
	st    SubjectStore
	w     Wrapper
	rand  io.Reader
	epoch int
}

// NewSubjects returns Subjects creating keys of the given epoch (1 or
// more) with random.
func NewSubjects(st SubjectStore, w Wrapper, random io.Reader, epoch int) *Subjects {
	return &Subjects{st: st, w: w, rand: random, epoch: max(epoch, 1)}
}

// Pseudonym returns the principal's pseudonym and its epoch, creating its
// key on first sight.
func (s *Subjects) Pseudonym(ctx context.Context, principalID string) (string, int, error) {
	key, epoch, err := s.key(ctx, principalID)
	if err != nil {
		return "", 0, err
	}
	return pseudonymOf(key, epoch)
}

// key returns the principal's subject key and its epoch, creating it on
// first sight.
func (s *Subjects) key(ctx context.Context, principalID string) ([]byte, int, error) {
	if principalID == "" {
		return nil, 0, errors.New("pseudonym: no principal")
	}
	wrapped, epoch, err := s.st.AuditSubject(ctx, principalID)
	if errors.Is(err, store.ErrNotFound) {
		key, kerr := NewSubjectKey(s.rand)
		if kerr != nil {
			return nil, 0, kerr
		}
		sealed, werr := s.w.Encrypt(ctx, key)
		if werr != nil {
			return nil, 0, fmt.Errorf("wrap a pseudonym key: %w", werr)
		}
		err = s.st.CreateAuditSubject(ctx, principalID, sealed, s.epoch)
		if err == nil {
			return key, s.epoch, nil
		}
		if errors.Is(err, store.ErrExists) { // created concurrently
			wrapped, epoch, err = s.st.AuditSubject(ctx, principalID)
		}
	}
	if err != nil {
		return nil, 0, fmt.Errorf("pseudonym key: %w", err)
	}
	key, err := s.w.Decrypt(ctx, wrapped)
	if err != nil {
		return nil, 0, fmt.Errorf("unwrap a pseudonym key: %w", err)
	}
	return key, epoch, nil
}

func pseudonymOf(key []byte, epoch int) (string, int, error) {
	pid, err := Pseudonym(key, epoch)
	if err != nil {
		return "", 0, err
	}
	return pid, epoch, nil
}

// existingKey returns the principal's subject key without creating one:
// ErrNotFound (wrapped) when it has none.
func (s *Subjects) existingKey(ctx context.Context, principalID string) ([]byte, error) {
	wrapped, _, err := s.st.AuditSubject(ctx, principalID)
	if err != nil {
		return nil, fmt.Errorf("pseudonym key: %w", err)
	}
	key, err := s.w.Decrypt(ctx, wrapped)
	if err != nil {
		return nil, fmt.Errorf("unwrap a pseudonym key: %w", err)
	}
	return key, nil
}

// Current returns the principal's pseudonym without creating a key:
// ErrNotFound (wrapped) when it has none.
func (s *Subjects) Current(ctx context.Context, principalID string) (string, int, error) {
	wrapped, epoch, err := s.st.AuditSubject(ctx, principalID)
	if err != nil {
		return "", 0, fmt.Errorf("pseudonym: %w", err)
	}
	key, err := s.w.Decrypt(ctx, wrapped)
	if err != nil {
		return "", 0, fmt.Errorf("unwrap a pseudonym key: %w", err)
	}
	return pseudonymOf(key, epoch)
}

// Erase destroys the principal's pseudonym key and returns the pseudonym
// it had, for the subject.erase entry that records the erasure. From then
// on its entries cannot be tied to it; should it act again it gets a new
// key and a new pseudonym. ErrNotFound (wrapped) when it has no key.
func (s *Subjects) Erase(ctx context.Context, principalID string) (string, int, error) {
	wrapped, epoch, err := s.st.AuditSubject(ctx, principalID)
	if err != nil {
		return "", 0, fmt.Errorf("erase subject: %w", err)
	}
	key, err := s.w.Decrypt(ctx, wrapped)
	if err != nil {
		return "", 0, fmt.Errorf("erase subject: unwrap its key: %w", err)
	}
	pid, _, err := pseudonymOf(key, epoch)
	if err != nil {
		return "", 0, err
	}
	if err := s.st.DeleteAuditSubject(ctx, principalID); err != nil {
		return "", 0, fmt.Errorf("erase subject: %w", err)
	}
	return pid, epoch, nil
}
