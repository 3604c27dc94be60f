package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/palisade-sec/palisade/internal/access"
	"github.com/palisade-sec/palisade/internal/auditlog"
	"github.com/palisade-sec/palisade/internal/auth"
	"github.com/palisade-sec/palisade/internal/registry"
	"github.com/palisade-sec/palisade/internal/store"
)

// Artifact is an artifact (a manifest) in API responses.
type Artifact struct {
	Repository   string    `json:"repository"`
	Digest       string    `json:"digest"`
	MediaType    string    `json:"mediaType"`
	ArtifactType string    `json:"artifactType,omitempty"`
	Size         int64     `json:"size"`
	Tags         []string  `json:"tags"`
	Created      time.Time `json:"created"`
	Metadata
}

// Metadata is an artifact's metadata.
type Metadata struct {
	Kind           string            `json:"kind"`
	Classification string            `json:"classification"`
	Owner          string            `json:"owner,omitempty"`
	Description    string            `json:"description,omitempty"`
	Framework      string            `json:"framework,omitempty"`
	Format         string            `json:"format,omitempty"`
	License        string            `json:"license,omitempty"`
	ModelCard      string            `json:"modelCard,omitempty"`
	Labels         map[string]string `json:"labels"`
	DataTags       []string          `json:"dataTags,omitempty"`
	// Redacted marks an artifact classified above the caller's
	// clearance: only its summary is shown.
	Redacted bool `json:"redacted,omitempty"`
}

func metadataOf(m store.ArtifactMeta) Metadata {
	labels := m.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return Metadata{
		Kind: m.Kind, Classification: string(m.Classification), Owner: m.Owner, Description: m.Description,
		Framework: m.Framework, Format: m.Format, License: m.License, ModelCard: m.ModelCard, Labels: labels,
		DataTags: m.DataTags,
	}
}

// levelOf converts a stored classification; an unknown one is treated as
// restricted.
func levelOf(c store.Classification) access.Level {
	l, err := access.ParseLevel(string(c))
	if err != nil {
		return access.Restricted
	}
	return l
}

// cleared reports whether p may read the detail of an artifact of
// classification c.
func cleared(p auth.Principal, project string, c store.Classification) bool {
	return access.Decide(p.Principal, access.ActReadArtifact, access.Resource{Project: project, Classification: levelOf(c)}).Allowed()
}

// redact keeps an artifact's summary only.
func redact(a Artifact) Artifact {
	a.Metadata = Metadata{Kind: a.Kind, Classification: a.Classification, Labels: map[string]string{}, Redacted: true}
	return a
}

func artifactOf(m store.Manifest, tags []string) Artifact {
	if tags == nil {
		tags = []string{}
	}
	return Artifact{
		Repository: m.Repository, Digest: m.Digest, MediaType: m.MediaType, ArtifactType: m.ArtifactType,
		Size: m.Size, Tags: tags, Created: m.Created, Metadata: metadataOf(m.Meta),
	}
}

// maxLabelFilters bounds the label filters of one query.
const maxLabelFilters = 16

func (a *API) listArtifacts(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	pg, err := page(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	q := r.URL.Query()
	f := store.ArtifactFilter{
		Repository: q.Get("repository"), Kind: q.Get("kind"),
		Classification: store.Classification(q.Get("classification")), Query: q.Get("q"),
	}
	if f.Classification != "" && !f.Classification.Valid() {
		writeError(w, http.StatusBadRequest, "invalid", "classification must be public, internal, confidential or restricted")
		return
	}
	if labels := q["label"]; len(labels) > 0 {
		if len(labels) > maxLabelFilters {
			writeError(w, http.StatusBadRequest, "invalid", "at most 16 label filters")
			return
		}
		f.Labels = map[string]string{}
		for _, l := range labels {
			k, v, ok := strings.Cut(l, "=")
			if !ok || k == "" {
				writeError(w, http.StatusBadRequest, "invalid", "a label filter is label=KEY=VALUE")
				return
			}
			f.Labels[k] = v
		}
	}
	project := r.PathValue("project")
	// A text or label search could match the detail of artifacts above
	// the caller's clearance: the store leaves those out, so that neither
	// the results nor the page cursor reveal that they matched.
	searched := f.Query != "" || len(f.Labels) > 0
	if searched {
		for l := access.Public; l <= p.Clearance; l++ {
			f.AtMost = append(f.AtMost, store.Classification(l.String()))
		}
		if len(f.AtMost) == 0 {
			writeJSON(w, http.StatusOK, map[string]any{"items": []Artifact{}, "next": ""})
			return
		}
	}
	list, err := a.st.ListArtifacts(r.Context(), project, f, pg)
	if err != nil {
		a.storeError(w, r, "project "+truncate(project), err)
		return
	}
	items := make([]Artifact, 0, len(list))
	for _, art := range list {
		item := artifactOf(art.Manifest, art.Tags)
		if !cleared(p, project, art.Meta.Classification) {
			item = redact(item)
		}
		items = append(items, item)
	}
	next := ""
	if len(list) == pg.N {
		last := list[len(list)-1]
		next = last.Repository + "@" + last.Digest
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next": next})
}

// File is a layer of an artifact, with its path when it has one.
type File struct {
	Path      string `json:"path,omitempty"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
	MediaType string `json:"mediaType"`
}

// Referrer is a manifest whose subject is the artifact (a signature, an
// SBOM, a scan report).
type Referrer struct {
	Digest       string `json:"digest"`
	MediaType    string `json:"mediaType"`
	ArtifactType string `json:"artifactType,omitempty"`
	Size         int64  `json:"size"`
}

// ArtifactDetail is the body of GET .../artifacts/{digest}.
type ArtifactDetail struct {
	Artifact
	Config      *File             `json:"config,omitempty"`
	Files       []File            `json:"files"`
	Manifests   []File            `json:"manifests,omitempty"`
	Subject     string            `json:"subject,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Referrers   []Referrer        `json:"referrers"`
	// ClassificationChanges is the artifact's classification history.
	ClassificationChanges []ClassificationChange `json:"classificationChanges"`
}

// ClassificationChange is one recorded change of classification: Actor
// is the principal's ID, ActorName its name (for callers who may read
// the project's members, while the principal exists).
type ClassificationChange struct {
	From      string    `json:"from"`
	To        string    `json:"to"`
	Actor     string    `json:"actor"`
	ActorName string    `json:"actorName,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	At        time.Time `json:"at"`
}

// artifactRef reads the artifact a request names: project and digest (or
// a tag, resolved here) from the path, repository from the query. The
// route's guard has decided the permission in the project before, so a
// tag looked up here is no oracle across projects.
func (a *API) artifactRef(w http.ResponseWriter, r *http.Request) (project, repo, digest string, ok bool) {
	project, digest, repo = r.PathValue("project"), r.PathValue("digest"), r.URL.Query().Get("repository")
	if repo == "" {
		writeError(w, http.StatusBadRequest, "invalid", "name the repository: ?repository=NAME")
		return "", "", "", false
	}
	switch {
	case registry.ValidDigest(digest):
	case registry.ValidTag(digest):
		m, err := a.st.ManifestByTag(r.Context(), project, repo, digest)
		if err != nil {
			a.storeError(w, r, "tag "+digest+" in "+truncate(project+"/"+repo), err)
			return "", "", "", false
		}
		digest = m.Digest
	default:
		writeError(w, http.StatusBadRequest, "invalid", "name the artifact by digest (sha256:<64 hex> or sha512:<128 hex>) or by tag")
		return "", "", "", false
	}
	return project, repo, digest, true
}

// fileOf converts a descriptor, taking the path from the ModelPack or
// OCI title annotation.
func fileOf(d ocispec.Descriptor) File {
	path := d.Annotations["org.cncf.model.filepath"]
	if path == "" {
		path = d.Annotations[ocispec.AnnotationTitle]
	}
	return File{Path: path, Digest: string(d.Digest), Size: d.Size, MediaType: d.MediaType}
}

func (a *API) getArtifact(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	project, repo, digest, ok := a.artifactRef(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	m, err := a.st.Manifest(ctx, project, repo, digest)
	if err != nil {
		a.storeError(w, r, "artifact "+digest+" in "+truncate(project+"/"+repo), err)
		return
	}
	if !a.decide(w, r, p, access.ActReadArtifact, access.Resource{Project: project, Classification: levelOf(m.Meta.Classification)}) {
		return
	}
	tags, err := a.st.TagsOf(ctx, project, repo, digest)
	if err != nil {
		a.internal(w, r, "list the artifact's tags", err)
		return
	}
	changes, err := a.st.ClassificationChanges(ctx, project, repo, digest)
	if err != nil {
		a.internal(w, r, "list the artifact's classification changes", err)
		return
	}
	var doc struct {
		Config      *ocispec.Descriptor  `json:"config"`
		Layers      []ocispec.Descriptor `json:"layers"`
		Manifests   []ocispec.Descriptor `json:"manifests"`
		Subject     *ocispec.Descriptor  `json:"subject"`
		Annotations map[string]string    `json:"annotations"`
	}
	if err := json.Unmarshal(m.Body, &doc); err != nil {
		a.internal(w, r, "decode the stored manifest", err)
		return
	}
	d := ArtifactDetail{Artifact: artifactOf(m, tags), Files: []File{}, Referrers: []Referrer{}, Annotations: doc.Annotations,
		ClassificationChanges: []ClassificationChange{}}
	// Names of who changed it go to those who may see who is in the
	// project (its owners, maintainers and auditors).
	namesShown := access.Decide(p.Principal, access.ActReadMembers, access.Resource{Project: project}).Allowed()
	for _, c := range changes {
		cc := ClassificationChange{From: string(c.From), To: string(c.To), Actor: c.Actor, Reason: c.Reason, At: c.At}
		if namesShown {
			if u, err := a.st.Principal(ctx, c.Actor); err == nil {
				cc.ActorName = u.Name
			}
		}
		d.ClassificationChanges = append(d.ClassificationChanges, cc)
	}
	if doc.Config != nil {
		c := fileOf(*doc.Config)
		d.Config = &c
	}
	for _, l := range doc.Layers {
		d.Files = append(d.Files, fileOf(l))
	}
	for _, l := range doc.Manifests {
		d.Manifests = append(d.Manifests, fileOf(l))
	}
	if doc.Subject != nil {
		d.Subject = string(doc.Subject.Digest)
	}
	refs, err := a.st.Referrers(ctx, project, repo, digest, "")
	if err != nil {
		a.internal(w, r, "list the artifact's referrers", err)
		return
	}
	for _, ref := range refs {
		d.Referrers = append(d.Referrers, Referrer{Digest: ref.Digest, MediaType: ref.MediaType, ArtifactType: ref.ArtifactType, Size: ref.Size})
	}
	writeJSON(w, http.StatusOK, d)
}

// MetadataPatch is the body of PATCH .../artifacts/{digest}: the fields
// given replace the stored ones; labels replace all labels.
type MetadataPatch struct {
	Kind           *string            `json:"kind,omitempty"`
	Classification *string            `json:"classification,omitempty"`
	Owner          *string            `json:"owner,omitempty"`
	Description    *string            `json:"description,omitempty"`
	Framework      *string            `json:"framework,omitempty"`
	Format         *string            `json:"format,omitempty"`
	License        *string            `json:"license,omitempty"`
	Labels         *map[string]string `json:"labels,omitempty"`
	DataTags       *[]string          `json:"dataTags,omitempty"`
	// Reason explains a classification change; lowering one needs it
	// (and a maintainer).
	Reason string `json:"reason,omitempty"`
}

// Bounds of a metadata patch.
const (
	maxMetaField = 4096 // a text field
	maxDataTags  = 32
)

func (a *API) patchArtifact(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	project, repo, digest, ok := a.artifactRef(w, r)
	if !ok {
		return
	}
	var patch MetadataPatch
	if !decodeBody(w, r, &patch, false, "a JSON object of metadata fields") {
		return
	}
	ctx := r.Context()
	m, err := a.st.Manifest(ctx, project, repo, digest)
	if err != nil {
		a.storeError(w, r, "artifact "+digest+" in "+truncate(project+"/"+repo), err)
		return
	}
	// Editing shows the artifact's detail: it needs the clearance too.
	if !a.decide(w, r, p, access.ActReadArtifact, access.Resource{Project: project, Classification: levelOf(m.Meta.Classification)}) {
		return
	}
	if len(patch.Reason) > maxMetaField {
		writeError(w, http.StatusBadRequest, "invalid", "the reason is longer than 4096 bytes")
		return
	}
	// A reason of blanks says nothing.
	patch.Reason = strings.TrimSpace(patch.Reason)
	meta := m.Meta
	for _, f := range []struct {
		src *string
		dst *string
	}{
		{patch.Kind, &meta.Kind}, {patch.Owner, &meta.Owner}, {patch.Description, &meta.Description},
		{patch.Framework, &meta.Framework}, {patch.Format, &meta.Format}, {patch.License, &meta.License},
	} {
		if f.src != nil {
			if len(*f.src) > maxMetaField {
				writeError(w, http.StatusBadRequest, "invalid", "a metadata field is longer than 4096 bytes")
				return
			}
			*f.dst = *f.src
		}
	}
	if patch.Kind != nil {
		switch *patch.Kind {
		case store.KindModel, store.KindDataset, store.KindImage, store.KindArtifact:
		default:
			writeError(w, http.StatusBadRequest, "invalid", "kind must be model, dataset, image or artifact")
			return
		}
	}
	// The store refuses the write if the classification changed since it
	// was read and decided on (ErrConflict).
	change := &store.ClassificationChange{From: m.Meta.Classification, Actor: p.ID, Reason: patch.Reason}
	if patch.Classification != nil && store.Classification(*patch.Classification) != m.Meta.Classification {
		to, err := access.ParseLevel(*patch.Classification)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid", "classification must be public, internal, confidential or restricted")
			return
		}
		if to < levelOf(m.Meta.Classification) {
			// Lowering is a maintainer's call, with a reason on record.
			if !a.decide(w, r, p, access.ActLowerClass, access.Resource{Project: project}) {
				return
			}
			if patch.Reason == "" {
				writeError(w, http.StatusBadRequest, "invalid", "lowering a classification needs a reason: say why the artifact is less sensitive (--reason)")
				return
			}
		}
		meta.Classification = store.Classification(*patch.Classification)
	}
	if patch.Labels != nil {
		meta.Labels = *patch.Labels
	}
	if patch.DataTags != nil {
		if len(*patch.DataTags) > maxDataTags {
			writeError(w, http.StatusBadRequest, "invalid", "at most 32 data tags")
			return
		}
		meta.DataTags = slices.Compact(slices.Sorted(slices.Values(*patch.DataTags)))
	}
	if meta.Classification != m.Meta.Classification {
		// A classification change is an event of its own, recorded
		// before it is made; the reason given stays in the change's
		// record in the database (it is free text).
		compensate, ok := a.recordChange(w, r, a.event(r, p, auditlog.ActionClassificationChange, auditlog.OutcomeAllowed, "to_"+string(meta.Classification)))
		if !ok {
			return
		}
		defer compensate()
	}
	if err := a.st.SetArtifactMeta(ctx, project, repo, digest, meta, change); err != nil {
		if errors.Is(err, store.ErrConflict) {
			writeError(w, http.StatusConflict, "conflict", "the artifact's classification changed while this request was decided: read it again and retry")
			return
		}
		if errors.Is(err, store.ErrInvalid) {
			writeError(w, http.StatusBadRequest, "invalid", err.Error())
			return
		}
		a.storeError(w, r, "artifact "+digest, err)
		return
	}
	m.Meta = meta
	tags, err := a.st.TagsOf(ctx, project, repo, digest)
	if err != nil {
		a.internal(w, r, "list the artifact's tags", err)
		return
	}
	writeJSON(w, http.StatusOK, artifactOf(m, tags))
}
