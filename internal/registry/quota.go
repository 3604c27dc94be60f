package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/palisade-sec/palisade/internal/blob"
	"github.com/palisade-sec/palisade/internal/store"
)

// quotaRoom returns how many more bytes the project may store, or -1
// when it has no storage quota. It is the early check that refuses an
// upload before its bytes are stored; the store checks again, in the
// transaction that records the blob, so that concurrent uploads cannot
// both take the last bytes.
func (reg *Registry) quotaRoom(ctx context.Context, project string) (room int64, p store.Project, u store.Usage, err error) {
	p, err = reg.st.Project(ctx, project)
	if err != nil {
		return 0, p, u, fmt.Errorf("read the project's quota: %w", err)
	}
	if p.Quota.Bytes <= 0 {
		return -1, p, u, nil
	}
	u, err = reg.st.ProjectUsage(ctx, project)
	if err != nil {
		return 0, p, u, fmt.Errorf("read the project's usage: %w", err)
	}
	return max(p.Quota.Bytes-u.BlobBytes, 0), p, u, nil
}

// quotaBody bounds what an upload request may add to its upload: the
// early quota check. It returns the body to read, or false after
// refusing the request (and ending the upload).
func (reg *Registry) quotaBody(w http.ResponseWriter, r *http.Request, req *request, up *blob.Upload) (io.Reader, bool) {
	room, p, usage, err := reg.quotaRoom(r.Context(), req.name.project)
	if err != nil {
		reg.internal(w, r, "check the project's quota", err)
		return nil, false
	}
	if room < 0 {
		return r.Body, true
	}
	// What this upload and the project's other uploads in progress hold
	// already counts: many open sessions cannot each take the same room.
	room -= up.Size() + reg.blobs.StagedBytes(req.name.project, up.ID())
	qe := &store.QuotaError{Project: p.Name, What: "storage", Limit: p.Quota.Bytes, Usage: usage.BlobBytes}
	if r.ContentLength > room || room < 0 {
		qe.Adding = up.Size() + max(r.ContentLength, 0)
		reg.quotaRefused(w, r, up, qe)
		return nil, false
	}
	return &quotaReader{r: r.Body, room: room, err: qe, base: up.Size()}, true
}

// quotaReader reads at most room bytes and fails with its QuotaError if
// the body holds more.
type quotaReader struct {
	r    io.Reader
	room int64
	read int64
	base int64
	err  *store.QuotaError
}

func (q *quotaReader) Read(p []byte) (int, error) {
	if q.read >= q.room {
		// One more byte tells a body that ends here from one that does not.
		var one [1]byte
		n, err := q.r.Read(one[:])
		if n > 0 {
			q.err.Adding = q.base + q.read + 1
			return 0, q.err
		}
		return 0, err
	}
	if int64(len(p)) > q.room-q.read {
		p = p[:q.room-q.read]
	}
	n, err := q.r.Read(p)
	q.read += int64(n)
	return n, err
}

// quotaRefused ends the upload (nothing of it stays) and answers 403.
func (reg *Registry) quotaRefused(w http.ResponseWriter, r *http.Request, up *blob.Upload, qe *store.QuotaError) {
	_ = up.Abort(context.WithoutCancel(r.Context()))
	reg.m.uploads.WithLabelValues("rejected").Inc()
	writeErrorDetail(w, http.StatusForbidden, codeDenied, qe.Error(),
		QuotaDetail{Reason: QuotaExceeded, Quota: qe.What, Limit: qe.Limit, Usage: qe.Usage, Adding: qe.Adding})
}

// asQuota reports whether err is a quota refusal, and which.
func asQuota(err error) (*store.QuotaError, bool) {
	var qe *store.QuotaError
	ok := errors.As(err, &qe)
	return qe, ok
}
