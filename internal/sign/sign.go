package sign

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/palisade-sec/palisade/internal/atomicfile"

	"github.com/palisade-sec/palisade/internal/sign/manifest"
)

// DefaultSignatureName is the signature file written inside a model
// directory when no other path is given.
const DefaultSignatureName = "model.sig"

// DefaultSignaturePath is where the signature of modelPath goes by
// default: model.sig inside a model directory, or next to a single-file
// model.
func DefaultSignaturePath(modelPath string) string {
	if fi, err := os.Stat(modelPath); err == nil && !fi.IsDir() {
		return filepath.Join(filepath.Dir(modelPath), DefaultSignatureName)
	}
	return filepath.Join(modelPath, DefaultSignatureName)
}

// Signed is the outcome of Sign.
type Signed struct {
	Manifest *manifest.Manifest
	Signer   string // who signed, for people
	Path     string // the signature file written
}

// Sign hashes the model at modelPath (opts.SignatureFile is ignored when
// it lies inside the model), signs its statement with s and writes the
// bundle to sigPath atomically: a reader sees the old file or the new one,
// never a partial one.
func Sign(ctx context.Context, modelPath, sigPath string, s Signer, opts manifest.Options) (*Signed, error) {
	opts.SignatureFile = sigPath
	m, err := manifest.Build(ctx, modelPath, opts)
	if err != nil {
		return nil, fmt.Errorf("hash model: %w", err)
	}
	payload, err := m.Statement()
	if err != nil {
		return nil, err
	}
	sig, err := s.SignMessage(ctx, pae(payload))
	if err != nil {
		return nil, err
	}
	data, err := encodeBundle(s.Material(), payload, sig)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.Write(sigPath, data, 0o644); err != nil {
		return nil, fmt.Errorf("write signature: %w", err)
	}
	return &Signed{Manifest: m, Signer: s.Describe(), Path: sigPath}, nil
}
