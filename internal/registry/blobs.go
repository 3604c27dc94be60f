package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/palisade-sec/palisade/internal/access"
	"github.com/palisade-sec/palisade/internal/blob"
	"github.com/palisade-sec/palisade/internal/store"
)

// getBlob serves GET and HEAD of a blob: the plaintext, decrypted and
// re-hashed while it streams; Range requests are served too.
func (reg *Registry) getBlob(w http.ResponseWriter, r *http.Request, req *request) {
	if !validDigest(req.arg) {
		writeError(w, http.StatusBadRequest, codeDigestInvalid, "invalid digest: use sha256:<64 hex> or sha512:<128 hex>")
		return
	}
	b, err := reg.st.Blob(r.Context(), req.name.project, req.arg)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, codeBlobUnknown, "blob "+req.arg+" is not in project "+req.name.project)
		return
	case err != nil:
		reg.internal(w, r, "look up the blob", err)
		return
	}
	level, err := reg.st.BlobClassification(r.Context(), req.name.project, req.arg)
	if err != nil {
		reg.internal(w, r, "look up the blob's classification", err)
		return
	}
	// A pusher checks which blobs the registry has before uploading: the
	// answer reveals no bytes, whatever their classification.
	headByPusher := r.Method == http.MethodHead &&
		access.Decide(req.p.Principal, access.ActPush, access.Resource{Project: req.name.project}).Allowed()
	if !headByPusher && !reg.allowPull(w, r, req, level, req.arg) {
		return
	}
	h := w.Header()
	h.Set("Docker-Content-Digest", b.Digest)
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(b.Size, 10))
	h.Set("ETag", `"`+b.Digest+`"`)
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	h.Set("Accept-Ranges", "bytes")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	if r.Header.Get("Range") != "" {
		reg.serveRange(w, r, b)
		return
	}
	rc, err := reg.blobs.Open(r.Context(), b.Project, b.Digest, b.WrappedKey, b.AADContext)
	if err != nil {
		for k := range h {
			delete(h, k)
		}
		if errors.Is(err, blob.ErrNotFound) {
			reg.internal(w, r, "read the blob (its record exists but its data is missing; run palisade admin fsck)", err)
			return
		}
		reg.internal(w, r, "read the blob", err)
		return
	}
	defer rc.Close()
	n, err := io.Copy(w, rc)
	reg.m.blobBytesOut.Add(float64(n))
	if err != nil {
		if r.Context().Err() == nil {
			reg.log.ErrorContext(r.Context(), "registry: blob read failed mid-stream; response cut",
				"digest", b.Digest, "sent", n, "error", err.Error())
		}
		// The client must not take a truncated or unverified body for the
		// blob: cut the connection instead of ending the response cleanly.
		panic(http.ErrAbortHandler)
	}
}

// serveRange answers a Range request with http.ServeContent on a reader
// that decrypts from the start and skips to the range (Tink's segments
// authenticate every byte served; the whole-blob digest check needs the
// whole blob, so a range is not re-hashed).
func (reg *Registry) serveRange(w http.ResponseWriter, r *http.Request, b store.Blob) {
	w.Header().Del("Content-Length") // ServeContent sets the range's
	rs := &rangeReader{ctx: r.Context(), reg: reg, b: b}
	defer rs.close()
	http.ServeContent(w, r, "", time.Time{}, rs)
	reg.m.blobBytesOut.Add(float64(rs.served))
}

// rangeReader is an io.ReadSeeker over a blob's plaintext that reopens the
// decrypting stream when asked to seek backwards and discards forwards.
type rangeReader struct {
	ctx    context.Context
	reg    *Registry
	b      store.Blob
	rc     io.ReadCloser
	pos    int64 // where Read continues
	at     int64 // where rc is
	served int64
}

func (rr *rangeReader) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += rr.pos
	case io.SeekEnd:
		off += rr.b.Size
	}
	if off < 0 {
		return 0, errors.New("seek before the start of the blob")
	}
	rr.pos = off
	return off, nil
}

func (rr *rangeReader) Read(p []byte) (int, error) {
	if rr.pos >= rr.b.Size {
		return 0, io.EOF
	}
	if rr.rc == nil || rr.pos < rr.at {
		rr.close()
		rc, err := rr.reg.blobs.Open(rr.ctx, rr.b.Project, rr.b.Digest, rr.b.WrappedKey, rr.b.AADContext)
		if err != nil {
			return 0, err
		}
		rr.rc, rr.at = rc, 0
	}
	if skip := rr.pos - rr.at; skip > 0 {
		n, err := io.CopyN(io.Discard, rr.rc, skip)
		rr.at += n
		if err != nil {
			return 0, err
		}
	}
	n, err := rr.rc.Read(p)
	rr.at += int64(n)
	rr.pos += int64(n)
	rr.served += int64(n)
	return n, err
}

func (rr *rangeReader) close() {
	if rr.rc != nil {
		_ = rr.rc.Close()
		rr.rc = nil
	}
}

// deleteBlob removes the blob from the project: record first, data second
// (see the package comment).
func (reg *Registry) deleteBlob(w http.ResponseWriter, r *http.Request, req *request) {
	if !validDigest(req.arg) {
		writeError(w, http.StatusBadRequest, codeDigestInvalid, "invalid digest: use sha256:<64 hex> or sha512:<128 hex>")
		return
	}
	err := reg.st.DeleteBlob(r.Context(), req.name.project, req.arg)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, codeBlobUnknown, "blob "+req.arg+" is not in project "+req.name.project)
		return
	case err != nil:
		reg.internal(w, r, "delete the blob", err)
		return
	}
	if err := reg.blobs.Delete(context.WithoutCancel(r.Context()), req.name.project, req.arg); err != nil && !errors.Is(err, blob.ErrNotFound) {
		// The record is gone, so nothing serves the data; gc removes it.
		reg.log.WarnContext(r.Context(), "registry: blob data left after its record was deleted", "digest", req.arg, "error", err.Error())
	}
	w.WriteHeader(http.StatusAccepted)
}

// orphanWait bounds how long a commit waits for another request's record
// of a blob whose data exists without one, before taking the data for a
// crash's leftover.
const orphanWait = 5 * time.Second

// prepareCommit runs before a blob is committed. It reports whether the
// project already has the blob (record and data). Data without a record is another commit in flight or a
// crash's leftover: it waits for the record, and removes the data if none
// comes, so that the commit can write it again.
func (reg *Registry) prepareCommit(ctx context.Context, project, digest string) (have bool, err error) {
	deadline := time.Now().Add(orphanWait)
	for {
		_, err := reg.st.Blob(ctx, project, digest)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
		recorded := err == nil
		exists, err := reg.blobs.Exists(ctx, project, digest)
		if err != nil {
			return false, err
		}
		switch {
		case recorded && exists:
			return true, nil
		case recorded && !exists:
			// A record without data: fsck reports it; a push repairs it by
			// dropping the record and storing the data again.
			reg.log.WarnContext(ctx, "registry: blob record without data replaced by a new push", "project", project, "digest", digest)
			if err := reg.st.DeleteBlob(ctx, project, digest); err != nil && !errors.Is(err, store.ErrNotFound) {
				return false, err
			}
			return false, nil
		case !exists:
			return false, nil
		}
		if time.Now().After(deadline) {
			reg.log.WarnContext(ctx, "registry: removing blob data that has no record (left by a crash)", "project", project, "digest", digest)
			if err := reg.blobs.Delete(ctx, project, digest); err != nil && !errors.Is(err, blob.ErrNotFound) {
				return false, err
			}
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// record stores the metadata of a blob the blob store just committed.
func (reg *Registry) record(ctx context.Context, b blob.Blob) error {
	if b.Existing {
		// Committed concurrently by another request: wait for its record.
		deadline := time.Now().Add(orphanWait)
		for {
			_, err := reg.st.Blob(ctx, b.Project, b.Digest)
			if err == nil {
				reg.m.uploads.WithLabelValues("deduplicated").Inc()
				return nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if time.Now().After(deadline) {
				return errRetry
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	rec := store.Blob{Project: b.Project, Digest: b.Digest, Size: b.Size, WrappedKey: b.WrappedKey, AADContext: b.AADContext}
	if reg.current != nil {
		w, err := reg.current(ctx, b.Project, b.WrappedKey)
		if err != nil {
			return fmt.Errorf("bring the data key up to date: %w", err)
		}
		rec.WrappedKey = w
	}
	_, err := reg.st.CreateBlob(context.WithoutCancel(ctx), rec)
	if errors.Is(err, store.ErrExists) {
		// A record whose data was gone when this commit wrote it (a
		// deletion cut short): it holds another data key, so replace it.
		if err = reg.st.DeleteBlob(context.WithoutCancel(ctx), b.Project, b.Digest); err == nil {
			_, err = reg.st.CreateBlob(context.WithoutCancel(ctx), rec)
		}
	}
	if err != nil {
		return err
	}
	reg.m.uploads.WithLabelValues("committed").Inc()
	reg.m.blobBytesIn.Add(float64(b.Size))
	return nil
}

// errRetry means the client should push the blob again.
var errRetry = errors.New("blob committed concurrently without a record; retry")
