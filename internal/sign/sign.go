package sign

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

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
	if err := writeAtomic(sigPath, data); err != nil {
		return nil, fmt.Errorf("write signature: %w", err)
	}
	return &Signed{Manifest: m, Signer: s.Describe(), Path: sigPath}, nil
}

// writeAtomic writes data to a temporary file beside path, syncs it and
// renames it over path.
func writeAtomic(path string, data []byte) (err error) {
	// Renaming over a device (/dev/null) or a link would replace it.
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("%s exists and is not a regular file; choose another --signature", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
