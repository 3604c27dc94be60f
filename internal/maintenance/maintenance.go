package maintenance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/palisade-sec/palisade/internal/auditlog"
	"github.com/palisade-sec/palisade/internal/blob"
	"github.com/palisade-sec/palisade/internal/crypto"
	"github.com/palisade-sec/palisade/internal/ocimanifest"
	"github.com/palisade-sec/palisade/internal/projectkeys"
	"github.com/palisade-sec/palisade/internal/store"
)

// Store is what maintenance needs from the metadata store.
type Store interface {
	ListProjects(ctx context.Context) ([]store.Project, error)
	ListBlobs(ctx context.Context, project string, page store.Page) ([]store.Blob, error)
	Blob(ctx context.Context, project, digest string) (store.Blob, error)
	ListArtifacts(ctx context.Context, project string, f store.ArtifactFilter, page store.Page) ([]store.Artifact, error)
	Manifest(ctx context.Context, project, repo, digest string) (store.Manifest, error)
	ManifestsWithoutRefs(ctx context.Context, n int) ([]store.Manifest, error)
	SetManifestRefs(ctx context.Context, project, repo, digest string, blobs []string) error
	UnreferencedBlobs(ctx context.Context, project string, before time.Time, n int) ([]store.Blob, error)
	DeleteBlobIfUnreferenced(ctx context.Context, project, digest string, before time.Time) (bool, error)
}

// Blobs is what maintenance needs from blob storage (blob.Store).
type Blobs interface {
	Open(ctx context.Context, project, digest string, wrappedKey []byte, aadContext string) (io.ReadCloser, error)
	Objects(ctx context.Context, fn func(blob.Object) error) error
	Delete(ctx context.Context, project, digest string) error
	PurgeStaleUploads(ctx context.Context, before time.Time) (int, error)
}

// page is the page size of scans.
const page = 500

// Problem kinds of Fsck.
const (
	// Missing: a blob record whose data is not in storage.
	Missing = "missing"
	// Corrupt: data that does not decrypt (modified, truncated).
	Corrupt = "corrupt"
	// Tampered: data that decrypts but is not the blob's (swapped in).
	Tampered = "tampered"
	// Unreadable: data whose key is gone (a destroyed key version) or
	// that could not be read.
	Unreadable = "unreadable"
	// Orphaned: data in storage that no record names.
	Orphaned = "orphaned"
	// Dangling: a manifest that references a blob or manifest not stored.
	Dangling = "dangling"
	// AuditIndex: an audit entry whose searchable columns disagree with
	// its bytes (the index was changed outside Palisade).
	AuditIndex = "audit_index"
)

// Problem is one finding of Fsck.
type Problem struct {
	Kind       string `json:"kind"`
	Project    string `json:"project"`
	Repository string `json:"repository,omitempty"`
	Digest     string `json:"digest"`
	// AuditEntry is the index of the audit entry concerned (audit_index
	// problems only).
	AuditEntry *int64 `json:"audit_entry,omitempty"`
	Detail     string `json:"detail"`
}

// FsckReport is what Fsck checked and found.
type FsckReport struct {
	Projects  int   `json:"projects"`
	Blobs     int   `json:"blobs"`
	BlobBytes int64 `json:"blob_bytes"`
	Manifests int   `json:"manifests"`
	Objects   int   `json:"objects"`
	// AuditEntries is the number of audit entries whose index was
	// checked (Service.Audit set).
	AuditEntries int64     `json:"audit_entries"`
	Problems     []Problem `json:"problems"`
}

// Fsck reads every blob of every project to its end (decrypting it and
// checking its digest), checks every manifest's references, and lists
// data in storage that no record names. It reports problems rather than
// failing on them; the error is for a scan that could not run.
func Fsck(ctx context.Context, st Store, blobs Blobs, log *slog.Logger) (FsckReport, error) {
	rep := FsckReport{Problems: []Problem{}}
	projects, err := st.ListProjects(ctx)
	if err != nil {
		return rep, fmt.Errorf("fsck: %w", err)
	}
	rep.Projects = len(projects)
	recorded := map[string]bool{} // project + " " + digest
	known := map[string]bool{}
	for _, p := range projects {
		known[p.Name] = true
		if err := eachBlob(ctx, st, p.Name, func(b store.Blob) error {
			recorded[p.Name+" "+b.Digest] = true
			rep.Blobs++
			rep.BlobBytes += b.Size
			if pr, ok := checkBlob(ctx, blobs, b); !ok {
				rep.Problems = append(rep.Problems, pr)
			}
			return nil
		}); err != nil {
			return rep, fmt.Errorf("fsck %s: %w", p.Name, err)
		}
		if err := eachManifest(ctx, st, p.Name, func(m store.Manifest) error {
			rep.Manifests++
			probs, err := checkManifest(ctx, st, m)
			rep.Problems = append(rep.Problems, probs...)
			return err
		}); err != nil {
			return rep, fmt.Errorf("fsck %s: %w", p.Name, err)
		}
	}
	err = blobs.Objects(ctx, func(o blob.Object) error {
		rep.Objects++
		if recorded[o.Project+" "+o.Digest] {
			return nil
		}
		detail := "data in storage without a record (a crash between commit and record, or a push in flight); palisade admin gc removes it"
		if !known[o.Project] {
			detail = "data of a project that does not exist; palisade admin gc removes it"
		}
		rep.Problems = append(rep.Problems, Problem{Kind: Orphaned, Project: o.Project, Digest: o.Digest, Detail: detail})
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("fsck: %w", err)
	}
	if log != nil {
		log.InfoContext(ctx, "fsck finished", "blobs", rep.Blobs, "manifests", rep.Manifests, "problems", len(rep.Problems))
	}
	return rep, nil
}

// checkBlob reads a blob to its end and classifies what goes wrong.
func checkBlob(ctx context.Context, blobs Blobs, b store.Blob) (Problem, bool) {
	pr := Problem{Project: b.Project, Digest: b.Digest}
	rc, err := blobs.Open(ctx, b.Project, b.Digest, b.WrappedKey, b.AADContext)
	if err == nil {
		var n int64
		n, err = io.Copy(io.Discard, rc)
		_ = rc.Close()
		if err == nil && n != b.Size {
			pr.Kind, pr.Detail = Corrupt, fmt.Sprintf("decrypts to %d bytes, the record says %d", n, b.Size)
			return pr, false
		}
	}
	switch {
	case err == nil:
		return pr, true
	case errors.Is(err, blob.ErrNotFound):
		pr.Kind, pr.Detail = Missing, "the record exists but the data is not in storage; push the blob again to restore it"
	case errors.Is(err, blob.ErrDigestMismatch):
		pr.Kind, pr.Detail = Tampered, "the data decrypts but is another blob's (swapped in storage with its key)"
	case errors.Is(err, projectkeys.ErrNoKey):
		pr.Kind, pr.Detail = Unreadable, "the key version its data key needs was destroyed"
	case errors.Is(err, crypto.ErrDecrypt), errors.Is(err, crypto.ErrFormat):
		pr.Kind, pr.Detail = Corrupt, "the data or its wrapped key was modified or truncated: it does not decrypt"
	default:
		pr.Kind, pr.Detail = Unreadable, err.Error()
	}
	return pr, false
}

// checkManifest checks that the blobs and manifests m references exist.
func checkManifest(ctx context.Context, st Store, m store.Manifest) ([]Problem, error) {
	doc, err := ocimanifest.Decode(m.Body)
	if err != nil {
		return []Problem{{Kind: Corrupt, Project: m.Project, Repository: m.Repository, Digest: m.Digest, Detail: "the stored manifest is not valid JSON"}}, nil
	}
	var probs []Problem
	for _, d := range doc.Blobs() {
		_, err := st.Blob(ctx, m.Project, d)
		if errors.Is(err, store.ErrNotFound) {
			probs = append(probs, Problem{Kind: Dangling, Project: m.Project, Repository: m.Repository, Digest: m.Digest,
				Detail: "references blob " + d + ", which the project does not have"})
			continue
		}
		if err != nil {
			return probs, err
		}
	}
	for _, d := range doc.ManifestDigests() {
		_, err := st.Manifest(ctx, m.Project, m.Repository, d)
		if errors.Is(err, store.ErrNotFound) {
			probs = append(probs, Problem{Kind: Dangling, Project: m.Project, Repository: m.Repository, Digest: m.Digest,
				Detail: "the index names manifest " + d + ", which the repository does not have"})
			continue
		}
		if err != nil {
			return probs, err
		}
	}
	return probs, nil
}

func eachBlob(ctx context.Context, st Store, project string, fn func(store.Blob) error) error {
	pg := store.Page{N: page}
	for {
		bs, err := st.ListBlobs(ctx, project, pg)
		if err != nil {
			return err
		}
		for _, b := range bs {
			if err := fn(b); err != nil {
				return err
			}
		}
		if len(bs) < pg.N {
			return nil
		}
		pg.Last = bs[len(bs)-1].Digest
	}
}

func eachManifest(ctx context.Context, st Store, project string, fn func(store.Manifest) error) error {
	pg := store.Page{N: page}
	for {
		as, err := st.ListArtifacts(ctx, project, store.ArtifactFilter{}, pg)
		if err != nil {
			return err
		}
		for _, a := range as {
			if err := fn(a.Manifest); err != nil {
				return err
			}
		}
		if len(as) < pg.N {
			return nil
		}
		last := as[len(as)-1]
		pg.Last = last.Repository + "@" + last.Digest
	}
}

// Service binds Fsck and GC to one store and blob storage.
type Service struct {
	Store  Store
	Blobs  Blobs
	Logger *slog.Logger
	// Audit, when set, is the audit log's storage: Fsck also checks its
	// search index against the entries.
	Audit auditlog.Reader
}

// Fsck runs Fsck on the service's storage, and checks the audit log's
// search index.
func (s Service) Fsck(ctx context.Context) (FsckReport, error) {
	if s.Audit == nil {
		return Fsck(ctx, s.Store, s.Blobs, s.Logger)
	}
	rep, err := Fsck(ctx, s.Store, s.Blobs, nil)
	if err != nil {
		return rep, err
	}
	index, err := auditlog.CheckIndex(ctx, s.Audit)
	if err != nil {
		return rep, fmt.Errorf("fsck: %w", err)
	}
	rep.AuditEntries = index.Entries
	for _, p := range index.Problems {
		detail := fmt.Sprintf("column %s: %s; searches miss or misfile this entry (its bytes, which palisade audit verify checks, are authoritative): investigate who changed the database", p.Column, p.Detail)
		if p.Column == "data" {
			detail = p.Detail + ": the entry itself was changed; palisade audit verify says whether the log's tree still holds it"
		}
		rep.Problems = append(rep.Problems, Problem{Kind: AuditIndex, AuditEntry: &p.Index, Detail: detail})
	}
	if more := index.Total - len(index.Problems); more > 0 {
		rep.Problems = append(rep.Problems, Problem{Kind: AuditIndex,
			Detail: fmt.Sprintf("and %d more audit index problems not listed (the first %d are)", more, len(index.Problems))})
	}
	if s.Logger != nil {
		s.Logger.InfoContext(ctx, "fsck finished", "blobs", rep.Blobs, "manifests", rep.Manifests, "audit_entries", rep.AuditEntries, "problems", len(rep.Problems))
	}
	return rep, nil
}

// GC runs GC on the service's storage.
func (s Service) GC(ctx context.Context, opts GCOptions) (GCReport, error) {
	if opts.Logger == nil {
		opts.Logger = s.Logger
	}
	return GC(ctx, s.Store, s.Blobs, opts)
}
