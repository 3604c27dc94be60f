package client

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/palisade-sec/palisade/internal/api"
	"github.com/palisade-sec/palisade/internal/auditlog"
	"github.com/palisade-sec/palisade/internal/store"
)

// The audit log's read routes need an administrator (read-audit-log),
// except the project route, which a project's auditors and owners may
// read; erase-subject needs an administrator.

// maxAuditPage is the most entries asked for in one request: an entry is
// at most 4 KiB, served twice (its bytes in base64 and readable), so a
// page stays well under maxResponse.
const maxAuditPage = 1000

// AuditPage is one page of audit entries. Next is the index to pass as
// the next query's After, or -1 when there are no more.
type AuditPage struct {
	Items []api.AuditEntry `json:"items"`
	Next  int64            `json:"next"`
}

// AuditInfo returns the log's origin, verifier key, and latest checkpoint
// with its size (GET /api/v1/audit).
func (c *Client) AuditInfo(ctx context.Context) (api.AuditInfo, error) {
	var out api.AuditInfo
	err := c.do(ctx, "GET", "/api/v1/audit", nil, nil, &out)
	return out, err
}

// auditValues encodes the search parameters of q. q.After is an entry
// index, -1 for from the start; q.N of 0 is the server's default (100).
func auditValues(q store.AuditQuery) url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("actor", q.Actor)
	set("action", q.Action)
	set("project", q.Project)
	set("repository", q.Repository)
	set("digest", q.Digest)
	set("outcome", q.Outcome)
	if !q.From.IsZero() {
		v.Set("from", q.From.UTC().Format(time.RFC3339Nano))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.UTC().Format(time.RFC3339Nano))
	}
	if q.After >= 0 {
		v.Set("after", strconv.FormatInt(q.After, 10))
	}
	if q.N > 0 {
		v.Set("n", strconv.Itoa(q.N))
	}
	return v
}

// AuditSearch returns one page of the entries of the whole log that
// match q, in index order (GET /api/v1/audit/entries).
func (c *Client) AuditSearch(ctx context.Context, q store.AuditQuery) (AuditPage, error) {
	var out AuditPage
	err := c.do(ctx, "GET", "/api/v1/audit/entries", auditValues(q), nil, &out)
	return out, err
}

// ProjectAuditSearch returns one page of a project's entries that match q
// (GET /api/v1/projects/{project}/audit/entries); q.Project is ignored.
func (c *Client) ProjectAuditSearch(ctx context.Context, project string, q store.AuditQuery) (AuditPage, error) {
	if project == "" {
		return AuditPage{}, errors.New("no project given")
	}
	q.Project = ""
	var out AuditPage
	err := c.do(ctx, "GET", "/api/v1/projects/"+url.PathEscape(project)+"/audit/entries", auditValues(q), nil, &out)
	return out, err
}

// AuditProof returns the inclusion proof of the entry at index in the
// tree of the latest checkpoint, as C2SP tlog-proof text
// (GET /api/v1/audit/entries/{index}/proof). Nothing is verified here:
// see auditlog.ParseProof and auditlog.CheckProof.
func (c *Client) AuditProof(ctx context.Context, index int64) ([]byte, error) {
	return c.getRaw(ctx, "/api/v1/audit/entries/"+strconv.FormatInt(index, 10)+"/proof", nil, auditlog.MaxProofSize)
}

// AuditCheckpoints returns the stored signed checkpoints of sizes greater
// than after (-1 for all), in size order, up to the server's page size
// (GET /api/v1/audit/checkpoints).
func (c *Client) AuditCheckpoints(ctx context.Context, after int64) ([]api.AuditCheckpoint, error) {
	var q url.Values
	if after >= 0 {
		q = url.Values{"after": {strconv.FormatInt(after, 10)}}
	}
	var out struct {
		Items []api.AuditCheckpoint `json:"items"`
	}
	err := c.do(ctx, "GET", "/api/v1/audit/checkpoints", q, nil, &out)
	return out.Items, err
}

// AuditTile returns a resource of the C2SP tlog-tiles API the server
// serves over its log: "checkpoint", "tile/L/N[.p/W]" or
// "tile/entries/N[.p/W]" (GET /api/v1/audit/tiles/{path}).
func (c *Client) AuditTile(ctx context.Context, path string) ([]byte, error) {
	if path == "" || strings.HasPrefix(path, "/") || strings.Contains(path, "..") {
		return nil, fmt.Errorf("tile path %q: give checkpoint, tile/L/N or tile/entries/N", path)
	}
	return c.getRaw(ctx, "/api/v1/audit/tiles/"+path, nil, maxResponse)
}

// EraseSubject destroys a user's pseudonym key (POST
// /api/v1/admin/erase-subject) and returns the pseudonym that can no
// longer be tied to them.
func (c *Client) EraseSubject(ctx context.Context, user string) (string, error) {
	var out struct {
		Pseudonym string `json:"pseudonym"`
	}
	err := c.do(ctx, "POST", "/api/v1/admin/erase-subject", nil, api.EraseRequest{User: user}, &out)
	return out.Pseudonym, err
}

// getRaw sends a GET and returns the answer's body as it is, at most
// limit bytes (a longer one is an error); error answers are the API's
// JSON errors, as with do.
func (c *Client) getRaw(ctx context.Context, path string, query url.Values, limit int64) ([]byte, error) {
	u := *c.t.Base
	u.Path = path
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, "GET", u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: read the answer: %w", path, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string }
		}
		if json.Unmarshal(b, &e) != nil || e.Error.Message == "" {
			e.Error.Code, e.Error.Message = http.StatusText(resp.StatusCode), "the server gave no explanation"
		}
		return nil, &APIError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("GET %s: the answer is larger than %d bytes", path, limit)
	}
	return b, nil
}

// AuditReader reads the audit log through the server's API for
// auditlog.Verify and auditlog.Prove: what it returns is whatever the
// server says, which is exactly what verification with a pinned key
// checks. It needs an administrator's token.
type AuditReader struct {
	C *Client
}

var _ auditlog.Reader = (*AuditReader)(nil)

// NewAuditReader returns an AuditReader over c.
func NewAuditReader(c *Client) *AuditReader { return &AuditReader{C: c} }

// ErrHashesNotServed is AuditReader.AuditHashes's answer: the API serves
// entries and checkpoints, from which a verifier recomputes the tree.
var ErrHashesNotServed = errors.New("the API does not serve the audit log's stored hashes: recompute them from the entries")

// AuditSize returns the size of the latest checkpoint: the server appends
// entries with their checkpoint, so it is the number of entries.
func (r *AuditReader) AuditSize(ctx context.Context) (int64, error) {
	info, err := r.C.AuditInfo(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the audit log's size: %w", err)
	}
	return info.Size, nil
}

// AuditEntries returns entries from index start, in index order: at most
// n, and possibly fewer (the API's pages are bounded) even when more
// follow.
func (r *AuditReader) AuditEntries(ctx context.Context, start int64, n int) ([]store.AuditRecord, error) {
	if start < 0 {
		return nil, fmt.Errorf("read audit entries: start %d is negative", start)
	}
	if n <= 0 || n > maxAuditPage {
		n = maxAuditPage
	}
	page, err := r.C.AuditSearch(ctx, store.AuditQuery{After: start - 1, N: n})
	if err != nil {
		return nil, fmt.Errorf("read audit entries from %d: %w", start, err)
	}
	recs := make([]store.AuditRecord, len(page.Items))
	for i, it := range page.Items {
		recs[i] = store.AuditRecord{Index: it.Index, Data: it.Data}
	}
	return recs, nil
}

// AuditHashes is not served by the API: it returns ErrHashesNotServed.
// Verify does not need stored hashes; Prove does (ask the server for a
// proof instead: Client.AuditProof).
func (r *AuditReader) AuditHashes(context.Context, []int64) ([][sha256.Size]byte, error) {
	return nil, ErrHashesNotServed
}

// AuditCheckpoint returns the latest checkpoint and its size, or
// store.ErrNotFound when the log has none.
func (r *AuditReader) AuditCheckpoint(ctx context.Context) (int64, []byte, error) {
	info, err := r.C.AuditInfo(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("read the latest audit checkpoint: %w", err)
	}
	if info.Checkpoint == "" {
		if info.Size != 0 {
			return 0, nil, fmt.Errorf("the server says the audit log has %d entries but serves no checkpoint", info.Size)
		}
		return 0, nil, fmt.Errorf("the audit log has no checkpoint: %w", store.ErrNotFound)
	}
	return info.Size, []byte(info.Checkpoint), nil
}

// AuditCheckpoints returns the checkpoints of sizes greater than after,
// in size order: at most n (n of 0 or less is a page of the server's
// size), and possibly fewer even when more follow.
func (r *AuditReader) AuditCheckpoints(ctx context.Context, after int64, n int) ([]store.AuditCheckpoint, error) {
	cps, err := r.C.AuditCheckpoints(ctx, after)
	if err != nil {
		return nil, fmt.Errorf("read audit checkpoints after %d: %w", after, err)
	}
	if n > 0 && len(cps) > n {
		cps = cps[:n]
	}
	out := make([]store.AuditCheckpoint, len(cps))
	for i, c := range cps {
		out[i] = store.AuditCheckpoint{Size: c.Size, Note: []byte(c.Note)}
	}
	return out, nil
}
