package artifact

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/errdef"
)

// PushOptions controls Push. The zero value is ready to use.
type PushOptions struct {
	// Concurrency is how many blobs are uploaded at once; 0 means 3.
	Concurrency int
	// Progress, when set, is called as bytes are uploaded (or skipped
	// because the target has them) with the bytes done so far and the
	// total, [Packed.Size]. Calls are serialised.
	Progress func(done, total int64)
}

// referencePusher is implemented by registry targets (oras-go's
// remote.Repository) that push and tag a manifest in one request.
type referencePusher interface {
	PushReference(ctx context.Context, expected ocispec.Descriptor, content io.Reader, reference string) error
}

// Push uploads a packed artifact to target: each file streamed from disk
// and checked against the digest Pack computed (a file changed since
// packing fails the push), then the config and the manifest, which is
// tagged with tag unless tag is empty. Blobs the target already has are
// skipped. It returns the manifest descriptor.
func Push(ctx context.Context, p Packed, target oras.Target, tag string, opts PushOptions) (ocispec.Descriptor, error) {
	if err := p.check(); err != nil {
		return ocispec.Descriptor{}, err
	}
	prog := &progress{fn: opts.Progress, total: p.Size()}
	g, gctx := errgroup.WithContext(ctx)
	n := opts.Concurrency
	if n <= 0 {
		n = 3
	}
	g.SetLimit(n)
	seen := map[digest.Digest]bool{p.Config.Digest: true}
	for _, f := range p.Files {
		if seen[f.Layer.Digest] {
			prog.add(f.Layer.Size) // identical content, uploaded once
			continue
		}
		seen[f.Layer.Digest] = true
		g.Go(func() error { return pushFile(gctx, target, f, prog) })
	}
	g.Go(func() error { return pushBytes(gctx, target, p.Config, p.ConfigJSON, "config", prog) })
	if p.EmptyLayer && !seen[ocispec.DescriptorEmptyJSON.Digest] {
		g.Go(func() error {
			return pushBytes(gctx, target, ocispec.DescriptorEmptyJSON, ocispec.DescriptorEmptyJSON.Data, "empty layer", prog)
		})
	}
	if err := g.Wait(); err != nil {
		return ocispec.Descriptor{}, err
	}
	if tag != "" {
		if rp, ok := target.(referencePusher); ok {
			if err := rp.PushReference(ctx, p.Manifest, bytes.NewReader(p.ManifestJSON), tag); err != nil {
				return ocispec.Descriptor{}, fmt.Errorf("push manifest as %s: %w", tag, err)
			}
			return p.Manifest, nil
		}
	}
	if err := pushBytes(ctx, target, p.Manifest, p.ManifestJSON, "manifest", nil); err != nil {
		return ocispec.Descriptor{}, err
	}
	if tag != "" {
		if err := target.Tag(ctx, p.Manifest, tag); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("tag manifest %s as %s: %w", p.Manifest.Digest, tag, err)
		}
	}
	return p.Manifest, nil
}

// check verifies that the manifest and config bytes still match their
// descriptors, so a Packed edited after Pack is not pushed.
func (p Packed) check() error {
	for _, b := range []struct {
		what string
		d    ocispec.Descriptor
		data []byte
	}{{"manifest", p.Manifest, p.ManifestJSON}, {"config", p.Config, p.ConfigJSON}} {
		if b.d.Size != int64(len(b.data)) || b.d.Digest != digest.FromBytes(b.data) {
			return fmt.Errorf("push: %w: the %s bytes do not match their descriptor; push what Pack returned, unmodified", ErrInvalidManifest, b.what)
		}
	}
	return nil
}

// pushFile uploads one file unless the target has it.
func pushFile(ctx context.Context, target oras.Target, f File, prog *progress) error {
	exists, err := target.Exists(ctx, f.Layer)
	if err != nil {
		return fmt.Errorf("push %s: check whether the target has %s: %w", f.Path, f.Layer.Digest, err)
	}
	if exists {
		prog.add(f.Layer.Size)
		return nil
	}
	fh, err := os.Open(f.Source)
	if err != nil {
		return fmt.Errorf("push %s: %w", f.Path, err)
	}
	defer fh.Close()
	v := newVerifier(ctxReader{ctx, fh}, f.Layer, "file "+f.Path)
	err = target.Push(ctx, f.Layer, progressReader{v, prog})
	// A target reads exactly Size bytes (and perhaps one more, to see the
	// end) and may stop before our end check; compare what it read, so an
	// edited file is reported as such rather than as whatever the target
	// made of it.
	if v.n >= f.Layer.Size {
		if verr := v.check(); verr != nil {
			return fmt.Errorf("push: %w (the file changed since it was packed: pack again)", verr)
		}
	}
	var ve *VerifyError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ve):
		return fmt.Errorf("push: %w (the file changed since it was packed: pack again)", ve)
	case errors.Is(err, errdef.ErrAlreadyExists):
		return nil
	}
	return fmt.Errorf("push %s: %w", f.Path, err)
}

// pushBytes uploads a small blob unless the target has it.
func pushBytes(ctx context.Context, target oras.Target, d ocispec.Descriptor, data []byte, what string, prog *progress) error {
	exists, err := target.Exists(ctx, d)
	if err != nil {
		return fmt.Errorf("push %s: check whether the target has %s: %w", what, d.Digest, err)
	}
	if !exists {
		if err := target.Push(ctx, d, bytes.NewReader(data)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
			return fmt.Errorf("push %s %s: %w", what, d.Digest, err)
		}
	}
	prog.add(d.Size)
	return nil
}
