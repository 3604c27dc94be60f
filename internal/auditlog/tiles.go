package auditlog

import (
	"encoding/binary"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/palisade-sec/palisade/internal/store"
)

// TileHeight is the height of the log's tiles (C2SP tlog-tiles): 256
// hashes, or 256 entries per bundle.
const TileHeight = 8

// tileWidth is the number of hashes of a full tile, or entries of a full
// entry bundle.
const tileWidth = 1 << TileHeight

// Cache-Control values: full tiles and bundles never change; the
// checkpoint and partial tiles do (a partial tile is superseded by a
// wider one).
const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheNone      = "no-cache"
)

// maxTilePath bounds a tile path: the longest valid one (level 63, an
// index of 7 groups, a partial width) is well under it.
const maxTilePath = 64

// TileHandler serves the log's C2SP tlog-tiles read API, computed from
// the stored entries and hashes, under its mount point (strip the mount
// point's prefix first, e.g. with http.StripPrefix):
//
//	checkpoint                   the latest signed checkpoint
//	tile/<L>/<N>[.p/<W>]         hash tiles (tlog.Tile of height 8)
//	tile/entries/<N>[.p/<W>]     entry bundles: each entry as a 2-byte
//	                             big-endian length and its stored bytes
//
// Only what the latest checkpoint covers is served; a tile or bundle
// beyond it is 404, a path that is not in the spec's canonical form 400.
// A request reads at most one checkpoint and 256 hashes or entries.
func TileHandler(st Reader) http.Handler {
	return tileHandler{st: st}
}

type tileHandler struct {
	st Reader
}

func (h tileHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	if path == "checkpoint" {
		h.checkpoint(w, r)
		return
	}
	rest, ok := strings.CutPrefix(path, "tile/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if len(path) > maxTilePath {
		http.Error(w, "malformed tile path", http.StatusBadRequest)
		return
	}
	if n, ok := strings.CutPrefix(rest, "entries/"); ok {
		t, ok := parseEntriesTile(n)
		if !ok {
			http.Error(w, "malformed entry bundle path", http.StatusBadRequest)
			return
		}
		h.entries(w, r, t)
		return
	}
	// The Go checksum database's paths carry the height (tile/8/L/N);
	// C2SP's leave it out. Parse as tlog's, and require its canonical form.
	t, err := tlog.ParseTilePath("tile/" + strconv.Itoa(TileHeight) + "/" + rest)
	if err != nil || t.H != TileHeight || t.L < 0 || t.L > 63 {
		http.Error(w, "malformed tile path", http.StatusBadRequest)
		return
	}
	h.hashTile(w, r, t)
}

func (h tileHandler) checkpoint(w http.ResponseWriter, r *http.Request) {
	_, cp, err := h.st.AuditCheckpoint(r.Context())
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, "the log has no checkpoint yet", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeTileResponse(w, "text/plain; charset=utf-8", cacheNone, cp)
}

// covered reports whether the latest checkpoint covers a tile: its W
// hashes at level L (each the hash of 256^L entries) from index N*256.
// It writes the response when it does not, or on an error.
func (h tileHandler) covered(w http.ResponseWriter, r *http.Request, t tlog.Tile) bool {
	size, _, err := h.st.AuditCheckpoint(r.Context())
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return false
	}
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return false
	}
	// The number of complete hashes at the tile's level; shifts of 64 or
	// more give 0.
	level := max(t.L, 0)
	have := size >> (uint(level) * TileHeight)
	if have < int64(t.W) || t.N > (have-int64(t.W))/tileWidth {
		http.NotFound(w, r)
		return false
	}
	return true
}

func (h tileHandler) hashTile(w http.ResponseWriter, r *http.Request, t tlog.Tile) {
	if !h.covered(w, r, t) {
		return
	}
	data, err := tlog.ReadTileData(t, auditHashReader(r.Context(), h.st))
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeTileResponse(w, "application/octet-stream", tileCache(t), data)
}

func (h tileHandler) entries(w http.ResponseWriter, r *http.Request, t tlog.Tile) {
	if !h.covered(w, r, t) {
		return
	}
	start := t.N * tileWidth
	recs, err := h.st.AuditEntries(r.Context(), start, t.W)
	if err != nil || len(recs) != t.W {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var size int
	for i, rec := range recs {
		if rec.Index != start+int64(i) || len(rec.Data) > 0xffff {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		size += 2 + len(rec.Data)
	}
	data := make([]byte, 0, size)
	for _, rec := range recs {
		data = binary.BigEndian.AppendUint16(data, uint16(len(rec.Data)))
		data = append(data, rec.Data...)
	}
	writeTileResponse(w, "application/octet-stream", tileCache(t), data)
}

func tileCache(t tlog.Tile) string {
	if t.W == tileWidth {
		return cacheImmutable
	}
	return cacheNone
}

func writeTileResponse(w http.ResponseWriter, contentType, cache string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", cache)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // a client that went away is not an error here
}

// parseEntriesTile parses the <N>[.p/<W>] of an entry bundle path in its
// canonical form: N in 3-digit groups, all but the last prefixed with x,
// the first not x000; W from 1 to 255 without leading zero. The tile has
// tlog's data level (-1).
func parseEntriesTile(s string) (tlog.Tile, bool) {
	width := tileWidth
	if i := strings.Index(s, ".p/"); i >= 0 {
		ws := s[i+len(".p/"):]
		wv, err := strconv.Atoi(ws)
		if err != nil || wv < 1 || wv >= tileWidth || strconv.Itoa(wv) != ws {
			return tlog.Tile{}, false
		}
		width, s = wv, s[:i]
	}
	groups := strings.Split(s, "/")
	// 6 groups reach 10^18, less than 2^63.
	if len(groups) > 6 {
		return tlog.Tile{}, false
	}
	var n int64
	for i, g := range groups {
		last := i == len(groups)-1
		if !last {
			if !strings.HasPrefix(g, "x") || i == 0 && g == "x000" {
				return tlog.Tile{}, false
			}
			g = g[1:]
		}
		if len(g) != 3 || !isDigits(g) {
			return tlog.Tile{}, false
		}
		v, _ := strconv.Atoi(g)
		n = n*1000 + int64(v)
	}
	return tlog.Tile{H: TileHeight, L: -1, N: n, W: width}, true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
