package blob

import (
	"context"
	"fmt"
	"io"

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
