package blob_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/blob"
)

func TestProjectObjects(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newMemStore(t, blob.Options{})
	put := func(project, content string) string {
		d := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(content)))
		if _, err := s.Put(ctx, project, d, int64(len(content)), strings.NewReader(content)); err != nil {
			t.Fatal(err)
		}
		return d
	}
	a1, a2, b1 := put("a", "one"), put("a", "two"), put("b", "three")
	// A stray object that is not a blob key is ignored.
	if err := s.Bucket().WriteAll(ctx, "blobs/a/md5/xyz", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	var seen []string
	if err := s.Objects(ctx, func(o blob.Object) error {
		if o.StoredSize <= 0 || o.ModTime.IsZero() {
			t.Errorf("object %+v lacks size or time", o)
		}
		seen = append(seen, o.Project+" "+o.Digest)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"a " + a1, "a " + a2, "b " + b1}
	sort.Strings(seen)
	sort.Strings(want)
	if strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Errorf("Objects = %v, want %v", seen, want)
	}

	// An upload in progress in project a, and an abandoned part.
	u, err := s.Begin(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write(ctx, 0, bytes.NewReader([]byte("part"))); err != nil {
		t.Fatal(err)
	}
	if err := s.Bucket().WriteAll(ctx, "uploads/a/deadbeef/0", []byte("abandoned"), nil); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgeStaleUploads(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("PurgeStaleUploads of recent parts = %d, %v; want none", n, err)
	}
	if n, err := s.PurgeStaleUploads(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Errorf("PurgeStaleUploads = %d, %v; want the abandoned part only", n, err)
	}
	if _, err := u.Write(ctx, 4, bytes.NewReader([]byte("more"))); err != nil {
		t.Errorf("the live upload lost its parts: %v", err)
	}

	n, size, err := s.DeleteProject(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 || size <= 0 { // a1, a2, the stray object, two live parts
		t.Errorf("DeleteProject = %d objects, %d bytes", n, size)
	}
	if ok, _ := s.Exists(ctx, "a", a1); ok {
		t.Error("a blob of the deleted project remains")
	}
	if ok, _ := s.Exists(ctx, "b", b1); !ok {
		t.Error("DeleteProject removed another project's blob")
	}
	if _, _, err := s.DeleteProject(context.Background(), "../b"); err == nil {
		t.Error("DeleteProject accepted a path as a project")
	}
}
