package crypto_test

import (
	"bytes"
	"io"
	"testing"
)

const benchSize = 64 << 20

func BenchmarkEncrypt(b *testing.B) {
	e := newEnvelope(b, "bench")
	pt := plaintext(benchSize, 1)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Encrypt(b.Context(), io.Discard, bytes.NewReader(pt), nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecrypt(b *testing.B) {
	e := newEnvelope(b, "bench")
	ct, wrapped := encrypt(b, e, plaintext(benchSize, 1), nil)
	buf := make([]byte, 256<<10)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		r, err := e.Decrypt(b.Context(), bytes.NewReader(ct), wrapped, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, r, buf); err != nil {
			b.Fatal(err)
		}
	}
}
