package auditlog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/palisade-sec/palisade/internal/store"
)

// TestProve proves entries of a filled log, on both databases, and checks
// the proofs offline, after a round trip through the text format; then
// changes one thing at a time and checks each change is caught by the
// step that should catch it.
func TestProve(t *testing.T) {
	t.Parallel()
	const n = 100
	for name, open := range backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := open(t)
			signer, verifier := testKey(t, "palisade-audit")
			l := fill(t, b.st, signer, n)
			l.Close()
			rep, err := Verify(t.Context(), b.st, testOrigin, verifier, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, i := range []int64{0, 1, 2, 17, 63, 64, 65, 98, 99} {
				p, err := Prove(t.Context(), b.st, i)
				if err != nil {
					t.Fatalf("Prove(%d): %v", i, err)
				}
				recs, err := b.st.AuditEntries(t.Context(), i, 1)
				if err != nil || len(recs) != 1 {
					t.Fatalf("entry %d: %v", i, err)
				}
				if !bytes.Equal(p.Entry, recs[0].Data) {
					t.Errorf("proof %d carries %q, the store holds %q", i, p.Entry, recs[0].Data)
				}
				text := p.Marshal()
				lines := strings.Split(string(text), "\n")
				if lines[0] != ProofHeader || lines[1] != "extra "+base64.StdEncoding.EncodeToString(p.Entry) || lines[2] != "index "+strconv.FormatInt(i, 10) {
					t.Errorf("proof %d starts %q", i, lines[:3])
				}
				if !bytes.HasSuffix(text, append([]byte("\n\n"), p.Checkpoint...)) {
					t.Errorf("proof %d does not end with an empty line and the checkpoint:\n%s", i, text)
				}
				q, err := ParseProof(text)
				if err != nil {
					t.Fatalf("ParseProof of proof %d: %v\n%s", i, err, text)
				}
				if diff := cmp.Diff(q, p); diff != "" {
					t.Errorf("proof %d after a round trip (-got +want):\n%s", i, diff)
				}
				cp, err := CheckProof(q, testOrigin, verifier)
				if err != nil {
					t.Fatalf("CheckProof(%d): %v", i, err)
				}
				if cp.Size != n || cp.Root.String() != rep.Root {
					t.Errorf("proof %d is in the tree %d %s, want %d %s", i, cp.Size, cp.Root, n, rep.Root)
				}
			}

			good, err := Prove(t.Context(), b.st, 17)
			if err != nil {
				t.Fatal(err)
			}
			otherSigner, otherVerifier := testKey(t, "palisade-audit")
			cp, _ := OpenCheckpoint(good.Checkpoint, testOrigin, verifier)
			resigned, err := note.Sign(&note.Note{Text: CheckpointBody(testOrigin, cp.Size, cp.Root)}, otherSigner)
			if err != nil {
				t.Fatal(err)
			}
			cases := []struct {
				name   string
				change func(p *Proof)
				v      note.Verifier
				origin string
				want   string
			}{
				{"an entry byte", func(p *Proof) { p.Entry[len(p.Entry)-3] ^= 1 }, verifier, testOrigin, "inclusion: entry 17"},
				{"a hash", func(p *Proof) { p.Hashes[2][5] ^= 1 }, verifier, testOrigin, "inclusion: entry 17"},
				{"a hash left out", func(p *Proof) { p.Hashes = p.Hashes[:len(p.Hashes)-1] }, verifier, testOrigin, "inclusion: entry 17"},
				{"another index", func(p *Proof) { p.Index = 18 }, verifier, testOrigin, "inclusion: entry 18"},
				{"an index beyond the size", func(p *Proof) { p.Index = n }, verifier, testOrigin, "index: entry 100 is beyond the checkpoint's tree of 100 entries"},
				{"a negative index", func(p *Proof) { p.Index = -1 }, verifier, testOrigin, "index: entry -1 is beyond"},
				{"no entry", func(p *Proof) { p.Entry = nil }, verifier, testOrigin, "entry: the proof carries no entry"},
				{"checkpoint signed by another key", func(p *Proof) { p.Checkpoint = resigned }, verifier, testOrigin, "checkpoint: checkpoint is not signed by the log's key"},
				{"checked with another key", func(*Proof) {}, otherVerifier, testOrigin, "checkpoint: checkpoint is not signed by the log's key"},
				{"checked for another origin", func(*Proof) {}, verifier, "elsewhere.test/audit/2026", "checkpoint: checkpoint is of the log"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					p := good
					p.Entry = bytes.Clone(good.Entry)
					p.Hashes = append([]tlog.Hash(nil), good.Hashes...)
					tc.change(&p)
					// Through the text format, as a verifier receives it.
					q, err := ParseProof(p.Marshal())
					if err != nil {
						q = p // not expressible as text (a negative index): check it as is
					}
					_, err = CheckProof(q, tc.origin, tc.v)
					if !errors.Is(err, ErrProofRejected) || !strings.Contains(err.Error(), tc.want) {
						t.Errorf("CheckProof: %v, want an ErrProofRejected saying %q", err, tc.want)
					}
				})
			}

			for _, i := range []int64{n, n + 1000, -1} {
				if _, err := Prove(t.Context(), b.st, i); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Prove(%d) of a log of %d: %v, want ErrNotFound", i, n, err)
				}
			}
		})
	}
}

func TestProveEmptyLog(t *testing.T) {
	t.Parallel()
	b := backends()["sqlite"](t)
	if _, err := Prove(t.Context(), b.st, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Prove in an empty log: %v, want ErrNotFound", err)
	}
	// In a tree of one entry the proof has no hashes.
	signer, verifier := testKey(t, "palisade-audit")
	fill(t, b.st, signer, 1).Close()
	p, err := Prove(t.Context(), b.st, 0)
	if err != nil || len(p.Hashes) != 0 {
		t.Fatalf("Prove in a log of one entry: %d hashes, %v", len(p.Hashes), err)
	}
	q, err := ParseProof(p.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(q, p); diff != "" {
		t.Errorf("round trip (-got +want):\n%s", diff)
	}
	if cp, err := CheckProof(q, testOrigin, verifier); err != nil || cp.Size != 1 {
		t.Errorf("CheckProof: %+v, %v", cp, err)
	}
}

// TestCheckProofDecodesTheEntry: a leaf that is in the tree but is not a
// valid v1 entry (a log written by something else) is refused at the
// entry step.
func TestCheckProofDecodesTheEntry(t *testing.T) {
	t.Parallel()
	signer, verifier := testKey(t, "palisade-audit")
	valid, err := testEntry(1).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	leaves := [][]byte{[]byte(`{"v":"palisade.audit/v0"}`), valid}
	l0, l1 := tlog.RecordHash(leaves[0]), tlog.RecordHash(leaves[1])
	cp, err := note.Sign(&note.Note{Text: CheckpointBody(testOrigin, 2, tlog.NodeHash(l0, l1))}, signer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CheckProof(Proof{Index: 1, Entry: valid, Hashes: []tlog.Hash{l0}, Checkpoint: cp}, testOrigin, verifier); err != nil {
		t.Errorf("CheckProof of the valid entry: %v", err)
	}
	_, err = CheckProof(Proof{Index: 0, Entry: leaves[0], Hashes: []tlog.Hash{l1}, Checkpoint: cp}, testOrigin, verifier)
	if !errors.Is(err, ErrProofRejected) || !errors.Is(err, ErrInvalidEntry) || !strings.Contains(err.Error(), "entry: entry 0 is logged but is not a valid v1 entry") {
		t.Errorf("CheckProof of an invalid entry: %v", err)
	}
}

// testProof returns a valid proof of the entry at index 1 in a tree of 3,
// and the verifier of its checkpoint.
func testProof(t testing.TB) (Proof, note.Verifier) {
	t.Helper()
	signer, verifier := testKey(t, "palisade-audit")
	var leaves []tlog.Hash
	var entries [][]byte
	for i := range 3 {
		e, err := testEntry(i).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
		leaves = append(leaves, tlog.RecordHash(e))
	}
	root := tlog.NodeHash(tlog.NodeHash(leaves[0], leaves[1]), leaves[2])
	cp, err := note.Sign(&note.Note{Text: CheckpointBody(testOrigin, 3, root)}, signer)
	if err != nil {
		t.Fatal(err)
	}
	return Proof{Index: 1, Entry: entries[1], Hashes: []tlog.Hash{leaves[0], leaves[2]}, Checkpoint: cp}, verifier
}

func TestParseProof(t *testing.T) {
	t.Parallel()
	p, verifier := testProof(t)
	good := string(p.Marshal())
	if _, err := CheckProof(p, testOrigin, verifier); err != nil {
		t.Fatalf("CheckProof of the test proof: %v", err)
	}
	entryLine := "extra " + base64.StdEncoding.EncodeToString(p.Entry) + "\n"
	h0 := p.Hashes[0].String()
	tests := []struct {
		name string
		in   string
		want string // in the error; "" for a valid proof
	}{
		{"valid", good, ""},
		{"without an entry", strings.Replace(good, entryLine, "", 1), ""},
		{"no hashes", ProofHeader + "\nindex 0\n\n" + string(p.Checkpoint), ""},
		{"empty", "", "the first line"},
		{"another version", strings.Replace(good, "@v1", "@v2", 1), "the first line"},
		{"CRLF", strings.ReplaceAll(good, "\n", "\r\n"), "the first line"},
		{"only the header", ProofHeader + "\n", "no index line"},
		{"no index", strings.Replace(good, "index 1\n", "", 1), "the index line is missing"},
		{"the entry after the index", strings.Replace(strings.Replace(good, entryLine, "", 1), "index 1\n", "index 1\n"+strings.Replace(entryLine, "extra", "entry", 1), 1), "line 1 of the inclusion proof"},
		{"extra after the index", strings.Replace(strings.Replace(good, entryLine, "", 1), "index 1\n", "index 1\n"+entryLine, 1), "line 1 of the inclusion proof"},
		{"two extra lines", strings.Replace(good, entryLine, entryLine+entryLine, 1), "the index line is missing"},
		{"empty extra", strings.Replace(good, entryLine, "extra \n", 1), "the extra line is empty"},
		{"extra without padding", strings.Replace(good, entryLine, "extra "+base64.RawStdEncoding.EncodeToString(p.Entry)+"\n", 1), "not canonical base64"},
		{"extra with a line break", strings.Replace(good, entryLine, entryLine[:20]+"\r"+entryLine[20:], 1), "not canonical base64"},
		{"extra too large", strings.Replace(good, entryLine, "extra "+base64.StdEncoding.EncodeToString(make([]byte, MaxEntrySize+1))+"\n", 1), "larger than 4096 bytes"},
		{"index with a leading zero", strings.Replace(good, "index 1\n", "index 01\n", 1), "not a decimal number"},
		{"index with a sign", strings.Replace(good, "index 1\n", "index +1\n", 1), "not a decimal number"},
		{"negative index", strings.Replace(good, "index 1\n", "index -1\n", 1), "not a decimal number"},
		{"index too large", strings.Replace(good, "index 1\n", "index 9223372036854775808\n", 1), "not a decimal number"},
		{"index with two spaces", strings.Replace(good, "index 1\n", "index  1\n", 1), "not a decimal number"},
		{"short hash", strings.Replace(good, h0, h0[:40]+"==", 1), "line 1 of the inclusion proof"},
		{"hash with a padding bit set", strings.Replace(good, h0, flipPaddingBit(h0), 1), "line 1 of the inclusion proof"},
		{"hash with trailing space", strings.Replace(good, h0, h0+" ", 1), "line 1 of the inclusion proof"},
		{"too many hashes", strings.Replace(good, h0+"\n", strings.Repeat(h0+"\n", MaxProofHashes+1), 1), "more than 64 hashes"},
		{"no empty line", strings.Replace(good, "\n\n"+string(p.Checkpoint), "\n"+string(p.Checkpoint), 1), "line 3 of the inclusion proof"},
		{"no checkpoint", strings.TrimSuffix(good, string(p.Checkpoint)), "no checkpoint"},
		{"cut short", good[:strings.Index(good, "index")+4], "no index line"},
		{"hashes only", ProofHeader + "\nindex 1\n" + h0 + "\n", "no empty line before the checkpoint"},
		{"checkpoint without signature", strings.Replace(good, string(p.Checkpoint), CheckpointBody(testOrigin, 3, p.Hashes[0]), 1), "not a signed note"},
		{"checkpoint cut short", good[:len(good)-10], "not a signed note"},
		{"checkpoint too large", good + strings.Repeat("x", maxCheckpoint), "the checkpoint is larger"},
		{"too large", good + strings.Repeat("x", MaxProofSize), "larger than 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseProof([]byte(tt.in))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("ParseProof: %v", err)
				}
				if m := got.Marshal(); string(m) != tt.in {
					t.Errorf("Marshal of the parsed proof:\n%s\nwant\n%s", m, tt.in)
				}
				return
			}
			if !errors.Is(err, ErrMalformedProof) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseProof: %v, want an ErrMalformedProof saying %q", err, tt.want)
			}
		})
	}
}

// flipPaddingBit returns the base64 of a 32-byte hash with one of the two
// unused bits of its last character set: lax decoders read the same hash.
func flipPaddingBit(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	i := strings.IndexByte(alphabet, s[42])
	return s[:42] + string(alphabet[i^1]) + "="
}

// fuzzVerifier is the key of the checkpoints in the FuzzParseProof seeds
// (testdata/fuzz/FuzzParseProof): with it CheckProof gets past the
// signature for inputs mutated from them.
const (
	fuzzOrigin   = "palisade.example.test/audit/fuzz"
	fuzzVerifier = "palisade-fuzz+b885a5e0+AQWk/OyXJiVTR3n1N5oPm+yO05Jv0Je3eWVBz/IoBJ65"
)

// TestProofSeeds checks that the fuzz seeds are what testdata/README says.
func TestProofSeeds(t *testing.T) {
	t.Parallel()
	v, err := note.NewVerifier(fuzzVerifier)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{ // file: checks
		"seed-valid": true, "seed-cosigned": true, "seed-no-extra": false,
		"seed-entry-line": false, "seed-crlf": false, "seed-index-leading-zero": false, "seed-noncanonical-hash": false,
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzParseProof")
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < len(want) {
		t.Errorf("%d seeds in %s, want at least %d", len(files), dir, len(want))
	}
	for name, checks := range want {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		s, ok := strings.CutPrefix(string(b), "go test fuzz v1\n[]byte(")
		if ok {
			s, ok = strings.CutSuffix(s, ")\n")
		}
		if ok {
			s, err = strconv.Unquote(s)
			ok = err == nil
		}
		if !ok {
			t.Fatalf("%s is not a go test fuzz v1 []byte seed", name)
		}
		p, err := ParseProof([]byte(s))
		switch {
		case name == "seed-no-extra":
			if err != nil || p.Entry != nil {
				t.Errorf("%s: ParseProof: %v, entry %q; want a proof without entry", name, err, p.Entry)
			} else if _, err := CheckProof(p, fuzzOrigin, v); !errors.Is(err, ErrProofRejected) {
				t.Errorf("%s: CheckProof: %v, want a rejection for the missing entry", name, err)
			}
		case checks:
			if err != nil {
				t.Fatalf("%s: ParseProof: %v", name, err)
			}
			if _, err := CheckProof(p, fuzzOrigin, v); err != nil {
				t.Errorf("%s: CheckProof: %v", name, err)
			}
		default:
			if !errors.Is(err, ErrMalformedProof) {
				t.Errorf("%s: ParseProof: %v, want ErrMalformedProof", name, err)
			}
		}
	}
}

// FuzzParseProof: ParseProof never panics, fails only with
// ErrMalformedProof, and a parsed proof is the canonical encoding of
// itself (Marshal gives back the input, which parses to the same proof);
// CheckProof never panics on it.
func FuzzParseProof(f *testing.F) {
	p, _ := testProof(f)
	f.Add(p.Marshal())
	p.Entry = nil
	f.Add(p.Marshal())
	v, err := note.NewVerifier(fuzzVerifier)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProof(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedProof) {
				t.Fatalf("ParseProof error %v is not ErrMalformedProof", err)
			}
			return
		}
		m := p.Marshal()
		if !bytes.Equal(m, b) {
			t.Fatalf("Marshal of the parsed proof differs from the input:\n%q\n%q", m, b)
		}
		q, err := ParseProof(m)
		if err != nil {
			t.Fatalf("ParseProof of Marshal: %v", err)
		}
		if diff := cmp.Diff(q, p); diff != "" {
			t.Fatalf("round trip (-got +want):\n%s", diff)
		}
		if _, err := CheckProof(p, fuzzOrigin, v); err != nil && !errors.Is(err, ErrProofRejected) {
			t.Fatalf("CheckProof error %v is not ErrProofRejected", err)
		}
	})
}
