package ocimanifest

import (
	"slices"
	"testing"
)

func TestBlobs(t *testing.T) {
	t.Parallel()
	d, err := Decode([]byte(`{"schemaVersion":2,
	 "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:c","size":1},
	 "layers":[
	  {"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:l1","size":1},
	  {"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:c","size":1},
	  {"mediaType":"application/vnd.oci.image.layer.nondistributable.v1.tar","digest":"sha256:nd","size":1},
	  {"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","digest":"sha256:f","size":1},
	  {"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:u","size":1,"urls":["https://example.com/u"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Blobs(); !slices.Equal(got, []string{"sha256:c", "sha256:l1"}) {
		t.Errorf("Blobs = %v", got)
	}
	idx, err := Decode([]byte(`{"schemaVersion":2,"manifests":[{"mediaType":"m","digest":"sha256:a","size":1},{"mediaType":"m","digest":"sha256:b","size":1}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := idx.ManifestDigests(); !slices.Equal(got, []string{"sha256:a", "sha256:b"}) || len(idx.Blobs()) != 0 {
		t.Errorf("index: manifests %v, blobs %v", got, idx.Blobs())
	}
	if _, err := Decode([]byte(`{`)); err == nil {
		t.Error("Decode accepted broken JSON")
	}
}

// FuzzDecode checks that Decode never panics and that what it accepts
// yields references that are each listed once.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":2,"config":{"digest":"sha256:a"},"layers":[{"digest":"sha256:a"},{"digest":"sha256:b","urls":["x"]}]}`))
	f.Add([]byte(`{"manifests":[{"digest":"sha256:x"}],"subject":{"digest":"sha256:y"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Decode(b)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, x := range d.Blobs() {
			if seen[x] {
				t.Fatalf("Blobs lists %q twice", x)
			}
			seen[x] = true
		}
		if len(d.ManifestDigests()) != len(d.Manifests) {
			t.Fatal("ManifestDigests lost a manifest")
		}
	})
}
