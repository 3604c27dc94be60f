package auditlog

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

const tilesMount = "/audit/v1/2026"

// tileServer serves st's tiles over HTTP under tilesMount.
func tileServer(t *testing.T, st Storage) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.StripPrefix(tilesMount, TileHandler(st)))
	t.Cleanup(srv.Close)
	return srv
}

// httpGet fetches a path under the mount point and returns the response
// with its body read.
func httpGet(t *testing.T, srv *httptest.Server, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + tilesMount + "/" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// tileClient is a TileReader that fetches hash tiles over HTTP, as a
// remote verifier does; corrupt, when set, changes each tile it returns.
type tileClient struct {
	t       *testing.T
	srv     *httptest.Server
	fetched []string
	corrupt func(tlog.Tile, []byte)
}

func (c *tileClient) Height() int { return TileHeight }

func (c *tileClient) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tl := range tiles {
		// tlog's paths carry the height (tile/8/L/N); C2SP's do not.
		path := "tile/" + strings.TrimPrefix(tl.Path(), fmt.Sprintf("tile/%d/", TileHeight))
		resp, body := httpGet(c.t, c.srv, path)
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		if c.corrupt != nil {
			c.corrupt(tl, body)
		}
		c.fetched = append(c.fetched, path)
		out[i] = body
	}
	return out, nil
}

func (c *tileClient) SaveTiles([]tlog.Tile, [][]byte) {}

// readBundle splits an entry bundle into its entries.
func readBundle(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			t.Fatalf("bundle ends in the middle of a length")
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			t.Fatalf("bundle ends in the middle of an entry")
		}
		out = append(out, b[2:2+n])
		b = b[2+n:]
	}
	return out
}

// TestTiles follows the log over its tiles as a remote verifier: it
// verifies the checkpoint, proves entries from tiles that tlog checks
// against the checkpoint's tree, reads the entries from bundles, and
// compares all of it with the store.
func TestTiles(t *testing.T) {
	t.Parallel()
	const n = 300 // a full tile and bundle, and partial ones at levels 0 and 1
	for name, open := range backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := open(t)
			signer, verifier := testKey(t, "palisade-audit")
			l := fill(t, b.st, signer, n)
			l.Close()
			srv := tileServer(t, b.st)

			resp, msg := httpGet(t, srv, "checkpoint")
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" || resp.Header.Get("Cache-Control") != "no-cache" {
				t.Fatalf("GET checkpoint: %s, %q", resp.Status, resp.Header)
			}
			cp, err := OpenCheckpoint(msg, testOrigin, verifier)
			if err != nil || cp.Size != n {
				t.Fatalf("the served checkpoint: %+v, %v", cp, err)
			}
			client := &tileClient{t: t, srv: srv}
			hr := tlog.TileHashReader(tlog.Tree{N: cp.Size, Hash: cp.Root}, client)
			stored := storeHashes{ctx: t.Context(), st: b.st}

			var bundles [][]byte
			for _, path := range []string{"tile/entries/000", "tile/entries/001.p/44"} {
				resp, body := httpGet(t, srv, path)
				if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/octet-stream" {
					t.Fatalf("GET %s: %s %q", path, resp.Status, resp.Header)
				}
				bundles = append(bundles, readBundle(t, body)...)
			}
			recs, err := b.st.AuditEntries(t.Context(), 0, 0)
			if err != nil || len(recs) != n || len(bundles) != n {
				t.Fatalf("%d stored entries (%v), %d in bundles, want %d", len(recs), err, len(bundles), n)
			}
			for i, r := range recs {
				if !bytes.Equal(bundles[i], r.Data) {
					t.Fatalf("entry %d in its bundle %q, in the store %q", i, bundles[i], r.Data)
				}
			}

			for _, i := range []int64{0, 1, 100, 255, 256, 257, 299} {
				proof, err := tlog.ProveRecord(cp.Size, i, hr)
				if err != nil {
					t.Fatalf("prove %d from tiles: %v", i, err)
				}
				if err := tlog.CheckRecord(proof, cp.Size, cp.Root, i, tlog.RecordHash(bundles[i])); err != nil {
					t.Errorf("entry %d from its bundle is not in the checkpoint's tree: %v", i, err)
				}
				p, err := Prove(t.Context(), b.st, i)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmpHashes(proof, p.Hashes); diff != "" {
					t.Errorf("proof %d from tiles and from Prove differ: %s", i, diff)
				}
			}
			// The tiles the client fetched are those of the store.
			for _, path := range client.fetched {
				tl, err := tlog.ParseTilePath(strings.Replace(path, "tile/", fmt.Sprintf("tile/%d/", TileHeight), 1))
				if err != nil {
					t.Fatal(err)
				}
				want, err := tlog.ReadTileData(tl, stored)
				if err != nil {
					t.Fatal(err)
				}
				_, got := httpGet(t, srv, path)
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from the stored hashes", path)
				}
			}
			for _, want := range []string{"tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1"} {
				if !strings.Contains(strings.Join(client.fetched, " "), want) {
					t.Errorf("the client fetched %q, not %s", client.fetched, want)
				}
			}

			// A changed byte in a served tile is caught by tlog against
			// the checkpoint's tree.
			bad := &tileClient{t: t, srv: srv, corrupt: func(tl tlog.Tile, b []byte) {
				if tl.L == 0 && tl.N == 0 {
					b[7*tlog.HashSize+3] ^= 1
				}
			}}
			if _, err := tlog.ProveRecord(cp.Size, 7, tlog.TileHashReader(tlog.Tree{N: cp.Size, Hash: cp.Root}, bad)); err == nil {
				t.Error("a proof from a changed tile was accepted")
			}
		})
	}
}

func cmpHashes(got, want []tlog.Hash) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d hashes, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Sprintf("hash %d is %s, want %s", i, got[i], want[i])
		}
	}
	return ""
}

// TestTilePaths checks the status and cache headers of good and bad
// paths on a log of 300 entries.
func TestTilePaths(t *testing.T) {
	t.Parallel()
	b := backends()["sqlite"](t)
	signer, _ := testKey(t, "palisade-audit")
	l := fill(t, b.st, signer, 300)
	l.Close()
	srv := tileServer(t, b.st)
	tests := []struct {
		path   string
		status int
		cache  string
		width  int // hashes or entries in the body
	}{
		{"checkpoint", 200, "no-cache", -1},
		{"tile/0/000", 200, "public, max-age=31536000, immutable", 256},
		{"tile/0/001.p/44", 200, "no-cache", 44},
		{"tile/0/001.p/1", 200, "no-cache", 1}, // an older tree's partial tile
		{"tile/0/000.p/255", 200, "no-cache", 255},
		{"tile/1/000.p/1", 200, "no-cache", 1},
		{"tile/entries/000", 200, "public, max-age=31536000, immutable", 256},
		{"tile/entries/001.p/44", 200, "no-cache", 44},
		{"tile/entries/001.p/3", 200, "no-cache", 3},

		{"tile/0/001", 404, "", 0},
		{"tile/0/001.p/45", 404, "", 0},
		{"tile/0/002.p/1", 404, "", 0},
		{"tile/1/000", 404, "", 0},
		{"tile/1/000.p/2", 404, "", 0},
		{"tile/2/000.p/1", 404, "", 0},
		{"tile/63/000.p/1", 404, "", 0},
		{"tile/0/x999/x999/x999/x999/x999/999", 404, "", 0},
		{"tile/entries/001", 404, "", 0},
		{"tile/entries/001.p/45", 404, "", 0},
		{"tile/entries/x001/000", 404, "", 0},
		{"tile/entries/x999/x999/x999/x999/x999/999", 404, "", 0},
		{"", 404, "", 0},
		{"checkpoint/", 404, "", 0},
		{"checkpoints", 404, "", 0},
		{"tiles/0/000", 404, "", 0},

		{"tile/0/0", 400, "", 0},
		{"tile/0/0000", 400, "", 0},
		{"tile/0/x000", 400, "", 0},
		{"tile/0/x000/000", 400, "", 0},
		{"tile/0/000/", 400, "", 0},
		{"tile/0/000.p/0", 400, "", 0},
		{"tile/0/000.p/256", 400, "", 0},
		{"tile/0/000.p/044", 400, "", 0},
		{"tile/0/000.p/", 400, "", 0},
		{"tile/00/000", 400, "", 0},
		{"tile/+0/000", 400, "", 0},
		{"tile/-1/000", 400, "", 0},
		{"tile/64/000", 400, "", 0},
		{"tile/8/0/000", 400, "", 0}, // the Go checksum database's layout
		{"tile/data/000", 400, "", 0},
		{"tile/0", 400, "", 0},
		{"tile/", 400, "", 0},
		{"tile/entries/0", 400, "", 0},
		{"tile/entries/x000/001", 400, "", 0},
		{"tile/entries/001/x000", 400, "", 0},
		{"tile/entries/000.p/0", 400, "", 0},
		{"tile/entries/000.p/256", 400, "", 0},
		{"tile/entries/000.p/07", 400, "", 0},
		{"tile/entries/000.p/7/8", 400, "", 0},
		{"tile/entries/000.p", 400, "", 0},
		{"tile/entries/-01", 400, "", 0},
		{"tile/entries/x001/x002/x003/x004/x005/x006/007", 400, "", 0},
		{"tile/0/x001/x002/x003/x004/x005/x006/x007/008", 400, "", 0},
		{"tile/entries/" + strings.Repeat("x001/", 20) + "000", 400, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			resp, body := httpGet(t, srv, tt.path)
			if resp.StatusCode != tt.status {
				t.Fatalf("GET %s: %s, want %d: %s", tt.path, resp.Status, tt.status, body)
			}
			if tt.status != http.StatusOK {
				return
			}
			if got := resp.Header.Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control %q, want %q", got, tt.cache)
			}
			switch {
			case strings.HasPrefix(tt.path, "tile/entries/"):
				if got := len(readBundle(t, body)); got != tt.width {
					t.Errorf("%d entries, want %d", got, tt.width)
				}
			case strings.HasPrefix(tt.path, "tile/"):
				if len(body) != tt.width*tlog.HashSize {
					t.Errorf("%d bytes, want %d hashes", len(body), tt.width)
				}
			}
		})
	}

	// Only GET and HEAD.
	resp, err := srv.Client().Post(srv.URL+tilesMount+"/checkpoint", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST checkpoint: %s, Allow %q", resp.Status, resp.Header.Get("Allow"))
	}
	resp, err = srv.Client().Head(srv.URL + tilesMount + "/tile/0/000")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ContentLength != 256*tlog.HashSize {
		t.Errorf("HEAD tile/0/000: %s, length %d", resp.Status, resp.ContentLength)
	}
}

// TestTilesEmptyLog: before the first checkpoint nothing is served.
func TestTilesEmptyLog(t *testing.T) {
	t.Parallel()
	b := backends()["sqlite"](t)
	srv := tileServer(t, b.st)
	for _, path := range []string{"checkpoint", "tile/0/000.p/1", "tile/entries/000.p/1"} {
		if resp, _ := httpGet(t, srv, path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s of an empty log: %s", path, resp.Status)
		}
	}
}

// TestTilesStoreErrors: a store that fails is a 500 that says nothing of
// the cause.
func TestTilesStoreErrors(t *testing.T) {
	t.Parallel()
	b := backends()["sqlite"](t)
	signer, _ := testKey(t, "palisade-audit")
	l := fill(t, b.st, signer, 10)
	l.Close()
	b.exec(t, "DELETE FROM audit_entries WHERE idx = ?", 4)
	b.exec(t, "DELETE FROM audit_hashes WHERE id = ?", tlog.StoredHashIndex(0, 5))
	srv := tileServer(t, b.st)
	for _, path := range []string{"tile/entries/000.p/10", "tile/0/000.p/10"} {
		resp, body := httpGet(t, srv, path)
		if resp.StatusCode != http.StatusInternalServerError || strings.TrimSpace(string(body)) != "internal error" {
			t.Errorf("GET %s with a damaged store: %s %q", path, resp.Status, body)
		}
	}
	// What is intact is still served.
	if resp, _ := httpGet(t, srv, "tile/entries/000.p/4"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET tile/entries/000.p/4: %s", resp.Status)
	}
}
