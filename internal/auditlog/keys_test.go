package auditlog

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"

	"gocloud.dev/secrets/localsecrets"
	"golang.org/x/mod/sumdb/note"

	"github.com/palisade-sec/palisade/internal/store"
)

// testWrapper is a real local keeper with a fresh random key.
func testWrapper(t *testing.T) Wrapper {
	t.Helper()
	k, err := localsecrets.NewRandomKey()
	if err != nil {
		t.Fatal(err)
	}
	w := localsecrets.NewKeeper(k)
	t.Cleanup(func() { w.Close() })
	return w
}

func TestLoadOrCreateKey(t *testing.T) {
	t.Parallel()
	b := backends()["sqlite"](t)
	st := b.st.(interface {
		Storage
		KeyStore
	})
	w := testWrapper(t)
	// Servers starting together end up with one key.
	var wg sync.WaitGroup
	vkeys := make([]string, 4)
	signers := make([]note.Signer, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, v, err := LoadOrCreateKey(t.Context(), st, w, "palisade-audit", rand.Reader)
			if err != nil {
				t.Error(err)
				return
			}
			signers[i], vkeys[i] = s, v
		}()
	}
	wg.Wait()
	for i := range vkeys {
		if vkeys[i] != vkeys[0] {
			t.Fatalf("verifier keys differ: %q and %q", vkeys[i], vkeys[0])
		}
	}
	// The stored key is wrapped, and what it signs the verifier opens.
	wrapped, _, err := st.AuditKey(t.Context(), SigningKeyID)
	if err != nil || bytes.Contains(wrapped, []byte("PRIVATE+KEY")) {
		t.Fatalf("stored key: %v (in the clear: %v)", err, bytes.Contains(wrapped, []byte("PRIVATE+KEY")))
	}
	v, err := note.NewVerifier(vkeys[0])
	if err != nil {
		t.Fatal(err)
	}
	msg, err := note.Sign(&note.Note{Text: "hello\n"}, signers[3])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
		t.Errorf("a signature of the loaded key does not verify: %v", err)
	}
	// Another master key cannot unwrap it.
	if _, _, err := LoadOrCreateKey(t.Context(), st, testWrapper(t), "palisade-audit", rand.Reader); err == nil {
		t.Error("a different master key unwrapped the signing key")
	}
}

func TestSubjects(t *testing.T) {
	t.Parallel()
	b := backends()["sqlite"](t)
	st := b.st.(SubjectStore)
	s := NewSubjects(st, testWrapper(t), rand.Reader, 1)
	ctx := context.Background()
	alice, epoch, err := s.Pseudonym(ctx, "p-alice")
	if err != nil || epoch != 1 {
		t.Fatalf("Pseudonym: %q %d %v", alice, epoch, err)
	}
	again, _, err := s.Pseudonym(ctx, "p-alice")
	if err != nil || again != alice {
		t.Errorf("pseudonym not stable: %q then %q (%v)", alice, again, err)
	}
	bob, _, err := s.Pseudonym(ctx, "p-bob")
	if err != nil || bob == alice {
		t.Errorf("two principals share a pseudonym: %q", bob)
	}
	if wrapped, _, err := st.AuditSubject(ctx, "p-alice"); err != nil || len(wrapped) <= 32 {
		t.Errorf("stored subject key: %d bytes, %v; want it wrapped", len(wrapped), err)
	}
	erased, _, err := s.Erase(ctx, "p-alice")
	if err != nil || erased != alice {
		t.Fatalf("Erase = %q, %v; want %q", erased, err, alice)
	}
	if _, _, err := st.AuditSubject(ctx, "p-alice"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the key survived the erasure: %v", err)
	}
	if _, _, err := s.Erase(ctx, "p-alice"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("erasing twice: %v", err)
	}
	// Acting again after an erasure gives a new, unrelated pseudonym.
	fresh, _, err := s.Pseudonym(ctx, "p-alice")
	if err != nil || fresh == alice {
		t.Errorf("pseudonym after erasure = %q (%v), want a new one", fresh, err)
	}
}
