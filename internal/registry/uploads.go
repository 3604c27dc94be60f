package registry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/palisade-sec/palisade/internal/blob"
	"github.com/palisade-sec/palisade/internal/server"
	"github.com/palisade-sec/palisade/internal/store"
)

func uploadLocation(req *request, id string) string {
	return "/v2/" + req.name.full + "/blobs/uploads/" + id
}

func blobLocation(req *request, digest string) string {
	return "/v2/" + req.name.full + "/blobs/" + digest
}

// rangeHeader is the spec's Range value for an upload of size bytes:
// "0-<last byte>", "0-0" when empty.
func rangeHeader(size int64) string {
	if size > 0 {
		size--
	}
	return "0-" + strconv.FormatInt(size, 10)
}

// startUpload serves POST /v2/<name>/blobs/uploads/: a mount, a
// monolithic push (?digest=), or the start of an upload session.
func (reg *Registry) startUpload(w http.ResponseWriter, r *http.Request, req *request) {
	if !reg.project(w, r, req) {
		return
	}
	q := r.URL.Query()
	if mount := q.Get("mount"); mount != "" {
		if reg.mount(w, r, req, mount, q.Get("from")) {
			return
		}
		// Not mountable: start an ordinary upload, as the spec says.
	}
	if d := q.Get("digest"); d != "" || q.Has("digest") {
		if !validDigest(d) {
			writeError(w, http.StatusBadRequest, codeDigestInvalid, "invalid digest: use sha256:<64 hex> or sha512:<128 hex>")
			return
		}
		u, err := reg.blobs.Begin(r.Context(), req.name.project)
		if err != nil {
			reg.internal(w, r, "start the upload", err)
			return
		}
		reg.commit(w, r, req, u, d)
		// Nobody knows this upload's ID: end it unless the commit did (a
		// body cut short, a storage error).
		_ = u.Abort(context.WithoutCancel(r.Context()))
		return
	}
	u, err := reg.blobs.Begin(r.Context(), req.name.project)
	if err != nil {
		reg.internal(w, r, "start the upload", err)
		return
	}
	uploadState(w, req, u)
	w.WriteHeader(http.StatusAccepted)
}

// mount links an existing blob of the project into the repository (blobs
// belong to the project, so there is nothing to copy). It reports whether
// it answered. A source in another project is never mounted: the client
// uploads instead, and nothing about the other project is revealed.
func (reg *Registry) mount(w http.ResponseWriter, r *http.Request, req *request, digest, from string) bool {
	if !validDigest(digest) {
		return false
	}
	if from != "" {
		src, ok := parseName(from)
		if !ok || src.project != req.name.project {
			return false
		}
	}
	_, err := reg.st.Blob(r.Context(), req.name.project, digest)
	if errors.Is(err, store.ErrNotFound) {
		return false
	}
	if err != nil {
		reg.internal(w, r, "look up the blob to mount", err)
		return true
	}
	reg.m.uploads.WithLabelValues("mounted").Inc()
	h := w.Header()
	h.Set("Location", blobLocation(req, digest))
	h.Set("Docker-Content-Digest", digest)
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
	return true
}

// upload finds the request's upload session, answering 404 if it is
// unknown.
func (reg *Registry) upload(w http.ResponseWriter, req *request) *blob.Upload {
	u, err := reg.blobs.Upload(req.name.project, req.arg)
	if err != nil {
		writeError(w, http.StatusNotFound, codeBlobUploadUnknown,
			"upload session not found: it finished, was cancelled, or the server restarted; start the upload again")
		return nil
	}
	return u
}

func (reg *Registry) uploadStatus(w http.ResponseWriter, _ *http.Request, req *request) {
	u := reg.upload(w, req)
	if u == nil {
		return
	}
	uploadState(w, req, u)
	w.WriteHeader(http.StatusNoContent)
}

// uploadState sets the headers that tell a client where its upload stands.
func uploadState(w http.ResponseWriter, req *request, u *blob.Upload) {
	h := w.Header()
	h.Set("Location", uploadLocation(req, u.ID()))
	h.Set("Docker-Upload-UUID", u.ID())
	h.Set("Range", rangeHeader(u.Size()))
	h.Set("Content-Length", "0")
}

// parseContentRange reads a chunk's "start-end" Content-Range (a "bytes "
// prefix is tolerated). ok is false when the header is absent.
func parseContentRange(s string) (start, end int64, ok bool, err error) {
	if s == "" {
		return 0, 0, false, nil
	}
	s = strings.TrimPrefix(s, "bytes ")
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, true, errors.New("want START-END")
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(strings.TrimSuffix(b, "/*"), 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end < start {
		return 0, 0, true, errors.New("want START-END, two byte offsets with START <= END")
	}
	return start, end, true, nil
}

// rangeMismatch answers 416 with where the upload stands, so the client
// can resume.
func rangeMismatch(w http.ResponseWriter, req *request, u *blob.Upload, msg string) {
	uploadState(w, req, u)
	w.Header().Del("Content-Length") // the error body has its own
	writeError(w, http.StatusRequestedRangeNotSatisfiable, codeBlobUploadInvalid, msg)
}

// chunk checks a chunk's Content-Range against the upload and its
// Content-Length. It returns false after answering when they disagree.
func chunk(w http.ResponseWriter, r *http.Request, req *request, u *blob.Upload) bool {
	start, end, ok, err := parseContentRange(r.Header.Get("Content-Range"))
	if err != nil {
		writeError(w, http.StatusBadRequest, codeBlobUploadInvalid, "invalid Content-Range: "+err.Error())
		return false
	}
	if !ok {
		return true
	}
	if size := u.Size(); start != size {
		rangeMismatch(w, req, u, "chunk out of order: it starts at byte "+strconv.FormatInt(start, 10)+
			" but the upload has "+strconv.FormatInt(size, 10)+" bytes; send the chunk that starts there (GET the upload URL for its state)")
		return false
	}
	if r.ContentLength >= 0 && r.ContentLength != end-start+1 {
		writeError(w, http.StatusBadRequest, codeBlobUploadInvalid, "Content-Length does not match Content-Range")
		return false
	}
	return true
}

// patchUpload appends a chunk (with Content-Range) or a stream (without).
func (reg *Registry) patchUpload(w http.ResponseWriter, r *http.Request, req *request) {
	u := reg.upload(w, req)
	if u == nil || !chunk(w, r, req, u) {
		return
	}
	server.SetBodyLimit(r, -1)
	// A chunk goes where its Content-Range says, checked again under the
	// upload's lock: one sent twice at once (a client's retry) is then
	// refused instead of appended twice.
	off := u.Size()
	if start, _, ok, _ := parseContentRange(r.Header.Get("Content-Range")); ok {
		off = start
	}
	body, ok := reg.quotaBody(w, r, req, u)
	if !ok {
		return
	}
	_, err := u.Write(r.Context(), off, body)
	if err != nil && !reg.uploadError(w, r, req, u, err) {
		return
	}
	uploadState(w, req, u)
	w.WriteHeader(http.StatusAccepted)
}

// uploadError answers a failed chunk or commit. It returns false after
// answering.
func (reg *Registry) uploadError(w http.ResponseWriter, r *http.Request, req *request, u *blob.Upload, err error) bool {
	var tooLarge *http.MaxBytesError
	if qe, ok := asQuota(err); ok {
		reg.quotaRefused(w, r, u, qe)
		return false
	}
	switch {
	case errors.Is(err, blob.ErrRange):
		rangeMismatch(w, req, u, "chunk out of order; GET the upload URL for its state")
	case errors.Is(err, blob.ErrTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, codeSizeInvalid, "blob larger than this server accepts")
	case errors.Is(err, blob.ErrUploadUnknown):
		writeError(w, http.StatusNotFound, codeBlobUploadUnknown, "upload session not found: start the upload again")
	case errors.Is(err, blob.ErrDigestMismatch):
		reg.m.uploads.WithLabelValues("rejected").Inc()
		writeError(w, http.StatusBadRequest, codeDigestInvalid, "the data received does not have the digest given; nothing was stored, push the blob again")
	case errors.Is(err, blob.ErrSizeMismatch):
		reg.m.uploads.WithLabelValues("rejected").Inc()
		writeError(w, http.StatusBadRequest, codeSizeInvalid, "the data received does not have the size given; nothing was stored, push the blob again")
	case errors.Is(err, blob.ErrInvalidDigest):
		writeError(w, http.StatusBadRequest, codeDigestInvalid, "invalid digest: use sha256:<64 hex> or sha512:<128 hex>")
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, codeSizeInvalid, "request body too large")
	case errors.Is(err, errRetry):
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, codeUnknown, "the blob is being committed by another request; retry")
	default:
		reg.internal(w, r, "store the upload", err)
	}
	return false
}

// putUpload appends the optional final chunk and commits the upload under
// the digest given.
func (reg *Registry) putUpload(w http.ResponseWriter, r *http.Request, req *request) {
	u := reg.upload(w, req)
	if u == nil || !chunk(w, r, req, u) {
		return
	}
	d := r.URL.Query().Get("digest")
	if !validDigest(d) {
		writeError(w, http.StatusBadRequest, codeDigestInvalid, "the upload's PUT needs ?digest=sha256:<64 hex> (or sha512:<128 hex>)")
		return
	}
	reg.commit(w, r, req, u, d)
}

// commit appends the request body to u and commits it under digest, then
// records it: 201 with the blob's location. When the project has the blob
// already the body is still read and checked (the client proves it holds
// the content) and the existing blob is kept.
func (reg *Registry) commit(w http.ResponseWriter, r *http.Request, req *request, u *blob.Upload, digest string) {
	ctx := r.Context()
	have, err := reg.prepareCommit(ctx, req.name.project, digest)
	if err != nil {
		reg.internal(w, r, "check for an existing blob", err)
		return
	}
	server.SetBodyLimit(r, -1)
	var body io.Reader = r.Body
	if !have {
		// A blob the project holds is read and checked but stores
		// nothing: only a new one counts against the quota.
		var ok bool
		if body, ok = reg.quotaBody(w, r, req, u); !ok {
			return
		}
	}
	b, err := u.CommitFrom(ctx, body, digest, -1)
	if err != nil {
		reg.uploadError(w, r, req, u, err)
		return
	}
	if err := reg.record(ctx, b); err != nil {
		if !b.Existing {
			// The data is committed but unrecorded: remove it so that no
			// orphan stays.
			_ = reg.blobs.Delete(context.WithoutCancel(ctx), b.Project, b.Digest)
		}
		reg.uploadError(w, r, req, u, err)
		return
	}
	h := w.Header()
	h.Set("Location", blobLocation(req, digest))
	h.Set("Docker-Content-Digest", digest)
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}

// cancelUpload aborts an upload session.
func (reg *Registry) cancelUpload(w http.ResponseWriter, r *http.Request, req *request) {
	u := reg.upload(w, req)
	if u == nil {
		return
	}
	if err := u.Abort(context.WithoutCancel(r.Context())); err != nil && !errors.Is(err, blob.ErrUploadUnknown) {
		reg.log.WarnContext(r.Context(), "registry: abort upload", "error", err.Error())
	}
	reg.m.uploads.WithLabelValues("aborted").Inc()
	w.WriteHeader(http.StatusNoContent)
}
