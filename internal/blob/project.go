package blob

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	gcblob "gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// DeleteProject removes every object of the project, committed blobs and
// upload parts, and returns how many objects and ciphertext bytes it
// removed. Uploads in progress in the project fail afterwards.
func (s *Store) DeleteProject(ctx context.Context, project string) (objects int, bytes int64, err error) {
	if err := checkProject(project); err != nil {
		return 0, 0, fmt.Errorf("delete project objects: %w", err)
	}
	for _, prefix := range []string{"blobs/" + project + "/", "uploads/" + project + "/"} {
		it := s.bucket.List(&gcblob.ListOptions{Prefix: prefix})
		for {
			obj, err := it.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				return objects, bytes, fmt.Errorf("delete project objects: list: %w", err)
			}
			if err := s.bucket.Delete(ctx, obj.Key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
				return objects, bytes, fmt.Errorf("delete project objects: %w", err)
			}
			objects++
			bytes += obj.Size
		}
	}
	return objects, bytes, nil
}

// Object is a committed blob object found in storage.
type Object struct {
	Project string
	Digest  string
	// StoredSize is the ciphertext size; ModTime when it was written.
	StoredSize int64
	ModTime    time.Time
}

// Objects calls fn for every committed blob object in storage, whatever
// the metadata store says about it: fsck and gc find orphans with it.
// Objects whose key is not a blob key are skipped.
func (s *Store) Objects(ctx context.Context, fn func(Object) error) error {
	it := s.bucket.List(&gcblob.ListOptions{Prefix: "blobs/"})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list blob objects: %w", err)
		}
		parts := strings.Split(strings.TrimPrefix(obj.Key, "blobs/"), "/")
		if len(parts) != 3 || checkProject(parts[0]) != nil {
			continue
		}
		d, err := parseDigest(parts[1] + ":" + parts[2])
		if err != nil {
			continue
		}
		if err := fn(Object{Project: parts[0], Digest: d.String(), StoredSize: obj.Size, ModTime: obj.ModTime}); err != nil {
			return err
		}
	}
}

// PurgeStaleUploads deletes the parts of uploads this Store does not know
// that were written before the cutoff: uploads abandoned by a crash, or by
// another replica long ago. Unlike PurgeUploads it leaves recent parts
// alone, so it is safe while other replicas sharing the bucket have
// uploads in progress. It returns how many parts it deleted.
func (s *Store) PurgeStaleUploads(ctx context.Context, before time.Time) (int, error) {
	return s.purgeParts(ctx, func(t time.Time) bool { return t.Before(before) })
}

// purgeParts deletes the parts of uploads this Store does not know whose
// modification time old accepts.
func (s *Store) purgeParts(ctx context.Context, old func(time.Time) bool) (int, error) {
	it := s.bucket.List(&gcblob.ListOptions{Prefix: "uploads/"})
	n := 0
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("purge uploads: list: %w", err)
		}
		if !old(obj.ModTime) || s.partLive(obj.Key) {
			continue
		}
		if err := s.bucket.Delete(ctx, obj.Key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			return n, fmt.Errorf("purge uploads: delete: %w", err)
		}
		n++
	}
}
