package maintenance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/palisade-sec/palisade/internal/blob"
	"github.com/palisade-sec/palisade/internal/ocimanifest"
	"github.com/palisade-sec/palisade/internal/store"
)

// DefaultMinAge is how old an unreferenced blob must be before GC deletes
// it: time for a client to push the manifest of blobs it just uploaded.
const DefaultMinAge = time.Hour

// StaleUploadAge is how old the parts of an upload no server knows must be
// before GC deletes them (uploads of large models can take hours).
const StaleUploadAge = 24 * time.Hour

// GCReport says what GC did.
type GCReport struct {
	// ManifestsIndexed counts manifests stored before references were
	// recorded, whose references GC recorded first.
	ManifestsIndexed int   `json:"manifests_indexed"`
	BlobsDeleted     int   `json:"blobs_deleted"`
	BytesFreed       int64 `json:"bytes_freed"`
	OrphansDeleted   int   `json:"orphans_deleted"`
	// UploadPartsDeleted counts parts of uploads abandoned for more than
	// StaleUploadAge.
	UploadPartsDeleted int `json:"upload_parts_deleted"`
	// DryRun reports that nothing was deleted: the counts are what GC
	// would delete.
	DryRun bool `json:"dry_run"`
}

// GCOptions configures GC.
type GCOptions struct {
	// MinAge overrides DefaultMinAge; it must be positive.
	MinAge time.Duration
	// DryRun counts without deleting.
	DryRun bool
	Now    func() time.Time
	Logger *slog.Logger
}

// RefStore is what IndexReferences needs from the metadata store.
type RefStore interface {
	ManifestsWithoutRefs(ctx context.Context, n int) ([]store.Manifest, error)
	SetManifestRefs(ctx context.Context, project, repo, digest string, blobs []string) error
}

// IndexReferences records the blob references of manifests stored before
// schema version 6 recorded them, and returns how many it indexed. GC
// needs them to know what is referenced, and authorization to know a
// blob's classification; the server runs it at start.
func IndexReferences(ctx context.Context, st RefStore) (int, error) {
	n := 0
	for {
		ms, err := st.ManifestsWithoutRefs(ctx, page)
		if err != nil {
			return n, err
		}
		for _, m := range ms {
			doc, err := ocimanifest.Decode(m.Body)
			if err != nil {
				return n, fmt.Errorf("manifest %s in %s/%s: %w (run palisade admin fsck)", m.Digest, m.Project, m.Repository, err)
			}
			if err := st.SetManifestRefs(ctx, m.Project, m.Repository, m.Digest, doc.Blobs()); err != nil {
				return n, err
			}
			n++
		}
		if len(ms) < page {
			return n, nil
		}
	}
}

// GC removes the blobs no manifest of their project references and that
// are older than the minimum age, record first and data second, and the
// data in storage that no record names and that is older than the minimum
// age. It is safe while pushes continue (see the package comment).
func GC(ctx context.Context, st Store, blobs Blobs, opts GCOptions) (GCReport, error) {
	rep := GCReport{DryRun: opts.DryRun}
	minAge := opts.MinAge
	if minAge == 0 {
		minAge = DefaultMinAge
	}
	if minAge < 0 {
		return rep, errors.New("gc: the minimum age must be positive")
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cutoff := now().Add(-minAge)

	// References of manifests stored before they were recorded.
	n, err := IndexReferences(ctx, st)
	rep.ManifestsIndexed = n
	if err != nil {
		return rep, fmt.Errorf("gc: %w", err)
	}

	projects, err := st.ListProjects(ctx)
	if err != nil {
		return rep, fmt.Errorf("gc: %w", err)
	}
	known := map[string]bool{}
	for _, p := range projects {
		known[p.Name] = true
		seen := map[string]bool{}
		for {
			bs, err := st.UnreferencedBlobs(ctx, p.Name, cutoff, page)
			if err != nil {
				return rep, fmt.Errorf("gc %s: %w", p.Name, err)
			}
			progress := false
			for _, b := range bs {
				if seen[b.Digest] {
					continue
				}
				seen[b.Digest] = true
				progress = true
				if opts.DryRun {
					rep.BlobsDeleted++
					rep.BytesFreed += b.Size
					continue
				}
				ok, err := st.DeleteBlobIfUnreferenced(ctx, p.Name, b.Digest, cutoff)
				if err != nil {
					return rep, fmt.Errorf("gc %s: %w", p.Name, err)
				}
				if !ok {
					continue // referenced meanwhile
				}
				if err := blobs.Delete(ctx, p.Name, b.Digest); err != nil && !errors.Is(err, blob.ErrNotFound) {
					// The record is gone; the data is an orphan that the
					// next run removes.
					log.WarnContext(ctx, "gc: delete blob data", "project", p.Name, "digest", b.Digest, "error", err.Error())
				}
				rep.BlobsDeleted++
				rep.BytesFreed += b.Size
			}
			if len(bs) < page || !progress {
				break
			}
		}
	}

	err = blobs.Objects(ctx, func(o blob.Object) error {
		if !o.ModTime.Before(cutoff) {
			return nil // a commit whose record may be on its way
		}
		if known[o.Project] {
			_, err := st.Blob(ctx, o.Project, o.Digest)
			if err == nil {
				return nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		rep.OrphansDeleted++
		if opts.DryRun {
			return nil
		}
		if err := blobs.Delete(ctx, o.Project, o.Digest); err != nil && !errors.Is(err, blob.ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("gc: %w", err)
	}
	if !opts.DryRun {
		n, err := blobs.PurgeStaleUploads(ctx, now().Add(-StaleUploadAge))
		if err != nil {
			return rep, fmt.Errorf("gc: %w", err)
		}
		rep.UploadPartsDeleted = n
	}
	log.InfoContext(ctx, "gc finished", "blobs_deleted", rep.BlobsDeleted, "bytes_freed", rep.BytesFreed, "orphans_deleted", rep.OrphansDeleted, "dry_run", opts.DryRun)
	return rep, nil
}
