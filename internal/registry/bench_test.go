package registry

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/http"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// BenchmarkManifestGetByTag pulls a manifest by tag through the HTTP
// server from parallel clients: routing, authentication (an API token
// hash lookup), the tag lookup and the response.
func BenchmarkManifestGetByTag(b *testing.B) {
	h := newHarness(b)
	m := h.image(b, "a/x", map[string]string{"bench": "get"})
	resp, body := h.putManifest(b, "a/x", "latest", ocispec.MediaTypeImageManifest, m)
	wantStatus(b, "PUT", resp, body, http.StatusCreated)
	b.SetBytes(int64(len(m)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := h.try(admin(http.MethodGet, "/v2/a/x/manifests/latest", nil))
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || n != int64(len(m)) {
				b.Errorf("GET: status %d, %d bytes", resp.StatusCode, n)
				return
			}
		}
	})
}

const benchBlobSize = 16 << 20

// BenchmarkBlobPush pushes a new 16 MiB blob monolithically per
// iteration (hashed, encrypted and committed; the client's digest is
// computed outside the timer).
func BenchmarkBlobPush(b *testing.B) {
	h := newHarness(b)
	data := randomBytes(15, benchBlobSize)
	b.SetBytes(benchBlobSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		binary.BigEndian.PutUint64(data, uint64(i)) // a new blob each time
		d := sha256Digest(data)
		b.StartTimer()
		resp, err := h.try(admin(http.MethodPost, "/v2/a/x/blobs/uploads/?digest="+d, data))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("push: status %d", resp.StatusCode)
		}
	}
}

// BenchmarkBlobPull pulls a 16 MiB blob (decrypted and verified).
func BenchmarkBlobPull(b *testing.B) {
	h := newHarness(b)
	data := randomBytes(16, benchBlobSize)
	d := h.pushBlob(b, "a/x", data)
	buf := bytes.NewBuffer(make([]byte, 0, benchBlobSize))
	b.SetBytes(benchBlobSize)
	b.ResetTimer()
	for b.Loop() {
		resp, err := h.try(admin(http.MethodGet, "/v2/a/x/blobs/"+d, nil))
		if err != nil {
			b.Fatal(err)
		}
		buf.Reset()
		n, err := buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if err != nil || n != benchBlobSize {
			b.Fatalf("GET: %d bytes, %v", n, err)
		}
	}
}
