package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/maintenance"
	"github.com/palisade-sec/palisade/internal/projectkeys"
	"github.com/palisade-sec/palisade/internal/store"
)

// fakeKeys and fakeMaint record what the admin routes ask for (small
// fakes: the real ones are tested in their packages and end to end in
// internal/cli).
type fakeKeys struct{ rotated, shredded []string }

func (f *fakeKeys) Rotate(_ context.Context, p string) (projectkeys.RotateReport, error) {
	if p == "missing" {
		return projectkeys.RotateReport{}, store.ErrNotFound
	}
	f.rotated = append(f.rotated, p)
	return projectkeys.RotateReport{Project: p, NewVersion: 2, Destroyed: []int{1}}, nil
}

func (f *fakeKeys) Shred(_ context.Context, p string) (projectkeys.ShredReport, error) {
	f.shredded = append(f.shredded, p)
	return projectkeys.ShredReport{Project: p, KeyVersions: []int{3}, Usage: store.Usage{Blobs: 2, BlobBytes: 10}}, nil
}

func (f *fakeKeys) RewrapMaster(context.Context, projectkeys.Projects) (projectkeys.MasterReport, error) {
	f.rotated = append(f.rotated, "master")
	return projectkeys.MasterReport{Projects: 2, Rewrapped: 3}, nil
}

type fakeMaint struct{ gc []maintenance.GCOptions }

func (f *fakeMaint) Fsck(context.Context) (maintenance.FsckReport, error) {
	return maintenance.FsckReport{Blobs: 1, Problems: []maintenance.Problem{{Kind: maintenance.Orphaned}}}, nil
}

func (f *fakeMaint) GC(_ context.Context, o maintenance.GCOptions) (maintenance.GCReport, error) {
	f.gc = append(f.gc, o)
	return maintenance.GCReport{BlobsDeleted: 1, DryRun: o.DryRun}, nil
}

func TestAdminRoutes(t *testing.T) {
	t.Parallel()
	keys, maint := &fakeKeys{}, &fakeMaint{}
	e := startWith(t, func(o *Options) { o.Keys, o.Maintenance = keys, maint })
	for _, p := range []string{"a", "b"} {
		if _, err := e.st.CreateProject(t.Context(), store.Project{Name: p, KeyID: "k"}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, method, path, token, body string
		want                            int
	}{
		{"rotate needs admin", "POST", "/api/v1/admin/rotate-keys", readerToken, `{}`, http.StatusForbidden},
		{"rotate all", "POST", "/api/v1/admin/rotate-keys", adminToken, ``, http.StatusOK},
		{"rotate one", "POST", "/api/v1/admin/rotate-keys", adminToken, `{"project":"b"}`, http.StatusOK},
		{"rotate unknown", "POST", "/api/v1/admin/rotate-keys", adminToken, `{"project":"missing"}`, http.StatusNotFound},
		{"rotate bad body", "POST", "/api/v1/admin/rotate-keys", adminToken, `{"projects":["a"]}`, http.StatusBadRequest},
		{"master and project", "POST", "/api/v1/admin/rotate-keys", adminToken, `{"master":true,"project":"a"}`, http.StatusBadRequest},
		{"master", "POST", "/api/v1/admin/rotate-keys", adminToken, `{"master":true}`, http.StatusOK},
		{"shred unconfirmed", "POST", "/api/v1/admin/projects/a/shred", adminToken, `{}`, http.StatusBadRequest},
		{"shred confirmed for another", "POST", "/api/v1/admin/projects/a/shred", adminToken, `{"confirm":"b"}`, http.StatusBadRequest},
		{"shred", "POST", "/api/v1/admin/projects/a/shred", adminToken, `{"confirm":"a"}`, http.StatusOK},
		{"fsck needs admin", "POST", "/api/v1/admin/fsck", readerToken, ``, http.StatusForbidden},
		{"fsck", "POST", "/api/v1/admin/fsck", adminToken, ``, http.StatusOK},
		{"gc bad age", "POST", "/api/v1/admin/gc", adminToken, `{"min_age":"soon"}`, http.StatusBadRequest},
		{"gc negative age", "POST", "/api/v1/admin/gc", adminToken, `{"min_age":"-1h"}`, http.StatusBadRequest},
		{"gc", "POST", "/api/v1/admin/gc", adminToken, `{"min_age":"30m","dry_run":true}`, http.StatusOK},
	}
	for _, tt := range tests {
		var body apiError
		if resp := e.do(t, tt.method, tt.path, tt.token, tt.body, &body); resp.StatusCode != tt.want {
			t.Errorf("%s: %d %+v, want %d", tt.name, resp.StatusCode, body, tt.want)
		}
	}
	if len(keys.rotated) != 4 || keys.rotated[2] != "b" || keys.rotated[3] != "master" {
		t.Errorf("rotated %v, want a and b, then b, then the master rewrap", keys.rotated)
	}
	if len(keys.shredded) != 1 || keys.shredded[0] != "a" {
		t.Errorf("shredded %v, want only the confirmed a", keys.shredded)
	}
	if len(maint.gc) != 1 || maint.gc[0].MinAge != 30*time.Minute || !maint.gc[0].DryRun {
		t.Errorf("gc options = %+v", maint.gc)
	}
	var shred ShredResponse
	e.do(t, "POST", "/api/v1/admin/projects/b/shred", adminToken, `{"confirm":"b"}`, &shred)
	if shred.Project != "b" || shred.Blobs != 2 || shred.BlobBytes != 10 || len(shred.KeyVersions) != 1 {
		t.Errorf("shred response = %+v", shred)
	}
}

func TestAdminRoutesWithoutServices(t *testing.T) {
	t.Parallel()
	e := start(t)
	for _, path := range []string{"/api/v1/admin/rotate-keys", "/api/v1/admin/fsck", "/api/v1/admin/gc"} {
		if resp := e.do(t, "POST", path, adminToken, `{}`, nil); resp.StatusCode != http.StatusNotImplemented {
			t.Errorf("%s without the service = %d, want 501", path, resp.StatusCode)
		}
	}
}
