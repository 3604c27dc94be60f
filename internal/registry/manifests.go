package registry

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/palisade-sec/palisade/internal/access"
	"github.com/palisade-sec/palisade/internal/artifact"
	"github.com/palisade-sec/palisade/internal/auditlog"
	"github.com/palisade-sec/palisade/internal/ocimanifest"
	"github.com/palisade-sec/palisade/internal/server"
	"github.com/palisade-sec/palisade/internal/store"
)

// Manifest media types the registry accepts.
const (
	mtDockerManifest = ocimanifest.MediaTypeDockerManifest
	mtDockerList     = ocimanifest.MediaTypeDockerList
)

// isIndex reports whether mt is an index (a list of manifests).
func isIndex(mt string) bool { return mt == ocispec.MediaTypeImageIndex || mt == mtDockerList }

// knownManifestType reports whether the registry stores manifests of mt.
func knownManifestType(mt string) bool {
	switch mt {
	case ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex, mtDockerManifest, mtDockerList:
		return true
	}
	return false
}

// digestOf returns the digest of b with the algorithm of like (sha256 or
// sha512).
func digestOf(like string, b []byte) string {
	if strings.HasPrefix(like, "sha512:") {
		s := sha512.Sum512(b)
		return "sha512:" + hex.EncodeToString(s[:])
	}
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// parseManifest decodes and checks a manifest body pushed with content
// type ct. It returns the media type under which it is stored.
func parseManifest(body []byte, ct string) (ocimanifest.Doc, string, error) {
	m, err := ocimanifest.Decode(body)
	if err != nil {
		return m, "", err
	}
	if ct, _, _ = strings.Cut(ct, ";"); ct != "" {
		ct = strings.TrimSpace(ct)
	}
	mt := m.MediaType
	switch {
	case mt != "" && ct != "" && mt != ct:
		return m, "", fmt.Errorf("the manifest's mediaType %q differs from the Content-Type %q", mt, ct)
	case mt == "":
		mt = ct
	}
	if !knownManifestType(mt) {
		return m, "", fmt.Errorf("unsupported manifest media type %q: push an OCI image manifest or index (or a Docker v2 manifest or list) with its media type as Content-Type", mt)
	}
	if m.SchemaVersion != 2 {
		return m, "", fmt.Errorf("schemaVersion is %d, want 2", m.SchemaVersion)
	}
	check := func(what string, d ocispec.Descriptor) error {
		if !validDigest(string(d.Digest)) {
			return fmt.Errorf("%s has an invalid digest %.140q", what, d.Digest)
		}
		if d.Size < 0 {
			return fmt.Errorf("%s has a negative size", what)
		}
		if d.MediaType == "" {
			return fmt.Errorf("%s has no mediaType", what)
		}
		if d.Data != nil {
			if int64(len(d.Data)) != d.Size || digestOf(string(d.Digest), d.Data) != string(d.Digest) {
				return fmt.Errorf("%s: its data field does not match its digest and size", what)
			}
		}
		return nil
	}
	if isIndex(mt) {
		if m.Config != nil || m.Layers != nil {
			return m, "", errors.New("an index has manifests, not config or layers")
		}
		for i, d := range m.Manifests {
			if err := check(fmt.Sprintf("manifests[%d]", i), d); err != nil {
				return m, "", err
			}
		}
	} else {
		if m.Config == nil {
			return m, "", errors.New("an image manifest needs a config descriptor")
		}
		if m.Manifests != nil {
			return m, "", errors.New("an image manifest has config and layers, not manifests")
		}
		if err := check("config", *m.Config); err != nil {
			return m, "", err
		}
		for i, d := range m.Layers {
			if err := check(fmt.Sprintf("layers[%d]", i), d); err != nil {
				return m, "", err
			}
		}
	}
	if m.Subject != nil {
		if err := check("subject", *m.Subject); err != nil {
			return m, "", err
		}
	}
	return m, mt, nil
}

// metadataOf reads the artifact's metadata from the manifest's types,
// annotations and layers (see artifact.ReadMetadata).
func metadataOf(doc ocimanifest.Doc) (store.ArtifactMeta, error) {
	configType := ""
	if doc.Config != nil {
		configType = doc.Config.MediaType
	}
	md, err := artifact.ReadMetadata(doc.ArtifactType, configType, doc.Annotations, doc.Layers)
	if err != nil {
		return store.ArtifactMeta{}, err
	}
	return store.ArtifactMeta{
		Kind: md.Kind, Classification: store.Classification(md.Classification), Owner: md.Owner,
		Description: md.Description, Framework: md.Framework, Format: md.Format, License: md.License,
		ModelCard: md.ModelCard, Labels: md.Labels, DataTags: md.DataTags,
	}, nil
}

// artifactTypeOf is the artifact type the referrers API reports: the
// manifest's artifactType, else an image manifest's config media type.
func artifactTypeOf(m ocimanifest.Doc) string {
	if m.ArtifactType != "" {
		return m.ArtifactType
	}
	if m.Config != nil {
		return m.Config.MediaType
	}
	return ""
}

func (reg *Registry) getManifest(w http.ResponseWriter, r *http.Request, req *request) {
	var m store.Manifest
	if !reg.byReference(w, r, req, "look up the manifest",
		func(d string) (err error) {
			m, err = reg.st.Manifest(r.Context(), req.name.project, req.name.repo, d)
			return err
		},
		func(t string) (err error) {
			m, err = reg.st.ManifestByTag(r.Context(), req.name.project, req.name.repo, t)
			return err
		},
	) {
		return
	}
	// HEAD tells what a tag names (listing shows as much); GET reads the
	// bytes, which the classification guards.
	if r.Method == http.MethodGet && !reg.allowPull(w, r, req, m.Meta.Classification, m.Digest) {
		return
	}
	h := w.Header()
	h.Set("Content-Type", m.MediaType)
	h.Set("Docker-Content-Digest", m.Digest)
	h.Set("Content-Length", strconv.Itoa(len(m.Body)))
	h.Set("ETag", `"`+m.Digest+`"`)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(m.Body)
	}
}

func (reg *Registry) putManifest(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	byDigest := validDigest(req.arg)
	paramTags := r.URL.Query()["tag"]
	tags := paramTags
	if !byDigest {
		if !validTag(req.arg) {
			writeError(w, http.StatusBadRequest, codeManifestInvalid, "invalid reference: use a tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127}) or a digest")
			return
		}
		tags = append([]string{req.arg}, paramTags...)
	}
	for _, t := range tags {
		if !validTag(t) {
			writeError(w, http.StatusBadRequest, codeManifestInvalid, "invalid tag "+strconv.Quote(truncate(t, 140)))
			return
		}
	}
	if r.ContentLength > reg.maxMan {
		writeError(w, http.StatusRequestEntityTooLarge, codeSizeInvalid, fmt.Sprintf("manifest larger than %d bytes", reg.maxMan))
		return
	}
	// The registry's limit replaces the server's, so that a body of
	// unknown length over it is 413 like one whose length is given.
	server.SetBodyLimit(r, reg.maxMan+1)
	body, err := io.ReadAll(io.LimitReader(r.Body, reg.maxMan+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, codeManifestInvalid, "the manifest could not be read: "+err.Error())
		return
	}
	if int64(len(body)) > reg.maxMan {
		writeError(w, http.StatusRequestEntityTooLarge, codeSizeInvalid, fmt.Sprintf("manifest larger than %d bytes", reg.maxMan))
		return
	}
	like := "sha256:"
	if byDigest {
		like = req.arg
	}
	dgst := digestOf(like, body)
	if byDigest && dgst != req.arg {
		writeError(w, http.StatusBadRequest, codeDigestInvalid, "the manifest's digest is "+dgst+", not "+req.arg)
		return
	}
	doc, mt, err := parseManifest(body, r.Header.Get("Content-Type"))
	if err != nil {
		writeError(w, http.StatusBadRequest, codeManifestInvalid, err.Error())
		return
	}
	meta, err := metadataOf(doc)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeManifestInvalid, err.Error())
		return
	}
	if !reg.project(w, r, req) {
		return
	}
	if !reg.referencesExist(w, r, req, doc, mt) {
		return
	}
	// The push is recorded, with the manifest's digest, before anything
	// is stored: if the audit log cannot take the entry, nothing is.
	if reg.audit != nil {
		compensate, ok := reg.recordChange(w, r, req, auditlog.ActionArtifactPush, dgst)
		if !ok {
			return
		}
		defer compensate()
	}
	if _, err := reg.st.EnsureRepository(ctx, req.name.project, req.name.repo); err != nil {
		reg.internal(w, r, "create the repository", err)
		return
	}
	m := store.Manifest{
		Project: req.name.project, Repository: req.name.repo, Digest: dgst,
		MediaType: mt, ArtifactType: artifactTypeOf(doc), Body: body,
		// Recorded as references so that gc never deletes them.
		Blobs: doc.Blobs(),
		Meta:  meta,
	}
	if doc.Subject != nil {
		m.Subject = string(doc.Subject.Digest)
	}
	first := ""
	if len(tags) > 0 {
		first = tags[0]
	}
	if _, err := reg.st.PutManifest(ctx, m, first); err != nil {
		if qe, ok := asQuota(err); ok {
			writeError(w, http.StatusForbidden, codeDenied, qe.Error())
			return
		}
		if errors.Is(err, store.ErrNotFound) {
			// A blob checked above was deleted (gc) before the manifest's
			// transaction could reference it.
			writeError(w, http.StatusBadRequest, codeManifestBlobUnknown, "a blob the manifest names was deleted while it was pushed: push the blobs again")
			return
		}
		reg.internal(w, r, "store the manifest", err)
		return
	}
	for _, t := range tags[min(1, len(tags)):] {
		if err := reg.st.SetTag(ctx, req.name.project, req.name.repo, t, dgst); err != nil {
			reg.internal(w, r, "tag the manifest", err)
			return
		}
	}
	reg.m.manifestsPut.Inc()
	h := w.Header()
	h.Set("Location", "/v2/"+req.name.full+"/manifests/"+dgst)
	h.Set("Docker-Content-Digest", dgst)
	if m.Subject != "" {
		h.Set("OCI-Subject", m.Subject)
	}
	for _, t := range paramTags {
		h.Add("OCI-Tag", t)
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}

// referencesExist checks that the blobs an image manifest names are in the
// project (with the sizes it gives), and that the manifests an index names
// are in the repository. It answers 400 and returns false if not.
func (reg *Registry) referencesExist(w http.ResponseWriter, r *http.Request, req *request, doc ocimanifest.Doc, mt string) bool {
	ctx := r.Context()
	if isIndex(mt) {
		for _, d := range doc.Manifests {
			_, err := reg.st.Manifest(ctx, req.name.project, req.name.repo, string(d.Digest))
			if errors.Is(err, store.ErrNotFound) {
				writeError(w, http.StatusBadRequest, codeManifestBlobUnknown, "the index names manifest "+string(d.Digest)+", which is not in "+req.name.full+": push it first")
				return false
			}
			if err != nil {
				reg.internal(w, r, "look up a manifest of the index", err)
				return false
			}
		}
		return true
	}
	descs := append([]ocispec.Descriptor{*doc.Config}, doc.Layers...)
	for _, d := range descs {
		if ocimanifest.Nondistributable(d) {
			continue
		}
		b, err := reg.st.Blob(ctx, req.name.project, string(d.Digest))
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusBadRequest, codeManifestBlobUnknown, "the manifest names blob "+string(d.Digest)+", which is not in project "+req.name.project+": push it first")
			return false
		}
		if err != nil {
			reg.internal(w, r, "look up a blob of the manifest", err)
			return false
		}
		if b.Size != d.Size {
			writeError(w, http.StatusBadRequest, codeManifestInvalid,
				fmt.Sprintf("the manifest gives blob %s a size of %d bytes; it has %d", d.Digest, d.Size, b.Size))
			return false
		}
	}
	return true
}

// byReference runs byDigest or byTag for the request's reference and
// answers when it is neither, or when the call fails (404 for a manifest or
// tag that is not there). It reports whether the handler may go on.
func (reg *Registry) byReference(w http.ResponseWriter, r *http.Request, req *request, what string, byDigest, byTag func(string) error) bool {
	var err error
	switch {
	case validDigest(req.arg):
		err = byDigest(req.arg)
	case validTag(req.arg):
		err = byTag(req.arg)
	default:
		writeError(w, http.StatusBadRequest, codeManifestInvalid, "invalid reference: use a tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127}) or a digest")
		return false
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, codeManifestUnknown, "manifest "+req.arg+" is not in "+req.name.full)
		return false
	case err != nil:
		reg.internal(w, r, what, err)
		return false
	}
	return true
}

func (reg *Registry) deleteManifest(w http.ResponseWriter, r *http.Request, req *request) {
	if !reg.byReference(w, r, req, "delete the manifest",
		func(d string) error { return reg.st.DeleteManifest(r.Context(), req.name.project, req.name.repo, d) },
		func(t string) error { return reg.st.DeleteTag(r.Context(), req.name.project, req.name.repo, t) },
	) {
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// maxTagPage bounds one page of the tag list.
const maxTagPage = 10000

func (reg *Registry) listTags(w http.ResponseWriter, r *http.Request, req *request) {
	q := r.URL.Query()
	page := store.Page{Last: q.Get("last"), N: maxTagPage}
	if s := q.Get("n"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, codeUnsupported, "n must be a non-negative integer")
			return
		}
		page.N = min(n, maxTagPage)
	}
	var tags []string
	if page.N > 0 {
		var err error
		tags, err = reg.st.ListTags(r.Context(), req.name.project, req.name.repo, page)
		switch {
		case errors.Is(err, store.ErrNotFound):
			writeError(w, http.StatusNotFound, codeNameUnknown, "repository "+req.name.full+" does not exist")
			return
		case err != nil:
			reg.internal(w, r, "list the tags", err)
			return
		}
	}
	if tags == nil {
		tags = []string{}
	}
	if page.N > 0 && len(tags) == page.N {
		next := "/v2/" + req.name.full + "/tags/list?n=" + strconv.Itoa(page.N) + "&last=" + tags[len(tags)-1]
		w.Header().Set("Link", "<"+next+`>; rel="next"`)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}{req.name.full, tags})
}

// referrers serves the referrers API: an image index of the manifests
// whose subject is the digest, filtered by artifactType when asked.
func (reg *Registry) referrers(w http.ResponseWriter, r *http.Request, req *request) {
	if !validDigest(req.arg) {
		writeError(w, http.StatusBadRequest, codeDigestInvalid, "invalid digest: use sha256:<64 hex> or sha512:<128 hex>")
		return
	}
	filter := r.URL.Query().Get("artifactType")
	ms, err := reg.st.Referrers(r.Context(), req.name.project, req.name.repo, req.arg, filter)
	if err != nil {
		reg.internal(w, r, "list the referrers", err)
		return
	}
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	idx.SchemaVersion = 2
	for _, m := range ms {
		// A referrer's annotations are its detail: those classified above
		// the caller's clearance are left out.
		level, err := access.ParseLevel(string(m.Meta.Classification))
		if err != nil || !access.Decide(req.p.Principal, access.ActReadArtifact, access.Resource{Project: req.name.project, Classification: level}).Allowed() {
			continue
		}
		doc, _ := ocimanifest.Decode(m.Body) // checked when pushed
		idx.Manifests = append(idx.Manifests, ocispec.Descriptor{
			MediaType: m.MediaType, Digest: digestValue(m.Digest), Size: int64(len(m.Body)),
			ArtifactType: m.ArtifactType, Annotations: doc.Annotations,
		})
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(idx); err != nil {
		reg.internal(w, r, "encode the referrers", err)
		return
	}
	if filter != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
	_, _ = w.Write(buf.Bytes())
}

// truncate bounds untrusted text in messages.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
