// Package ocimanifest reads what the registry and its maintenance need
// from an OCI image manifest or index (or their Docker v2 equivalents):
// the blobs and manifests it references.
package ocimanifest

import (
	"encoding/json"
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Docker media types the registry accepts beside the OCI ones.
const (
	MediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeDockerForeign  = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
)

// Doc holds the fields of a manifest or index the registry checks; the
// body itself is stored as sent.
type Doc struct {
	SchemaVersion int                  `json:"schemaVersion"`
	MediaType     string               `json:"mediaType"`
	ArtifactType  string               `json:"artifactType"`
	Config        *ocispec.Descriptor  `json:"config"`
	Layers        []ocispec.Descriptor `json:"layers"`
	Manifests     []ocispec.Descriptor `json:"manifests"`
	Subject       *ocispec.Descriptor  `json:"subject"`
	Annotations   map[string]string    `json:"annotations"`
}

// Decode parses a manifest body. It checks nothing but the JSON.
func Decode(body []byte) (Doc, error) {
	var d Doc
	if err := json.Unmarshal(body, &d); err != nil {
		return d, fmt.Errorf("the manifest is not valid JSON: %w", err)
	}
	return d, nil
}

// Nondistributable reports whether a layer need not be pushed: a
// non-distributable or foreign layer, or one fetched from its URLs.
func Nondistributable(d ocispec.Descriptor) bool {
	return strings.Contains(d.MediaType, ".nondistributable.") || d.MediaType == MediaTypeDockerForeign || len(d.URLs) > 0
}

// Blobs returns the digests of the blobs the manifest stores in the
// registry: its config and its distributable layers, each once.
func (d Doc) Blobs() []string {
	var out []string
	seen := map[string]bool{}
	add := func(desc ocispec.Descriptor) {
		if s := string(desc.Digest); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if d.Config != nil {
		add(*d.Config)
	}
	for _, l := range d.Layers {
		if !Nondistributable(l) {
			add(l)
		}
	}
	return out
}

// ManifestDigests returns the digests of the manifests an index names.
func (d Doc) ManifestDigests() []string {
	out := make([]string, 0, len(d.Manifests))
	for _, m := range d.Manifests {
		out = append(out, string(m.Digest))
	}
	return out
}
