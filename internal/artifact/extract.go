package artifact

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2/content"
)

const (
	// maxZstdWindow bounds the zstd decoder's window, and so its memory.
	maxZstdWindow = 128 << 20
	// maxTarTrailer bounds what may follow a tar archive's end marker
	// (block padding) in a layer.
	maxTarTrailer = 1 << 20
)

// writerOnly hides an *os.File's ReadFrom so that copies use the pooled
// buffer and stay bounded in memory.
type writerOnly struct{ io.Writer }

// layer downloads one layer and writes its file, or its archive's
// entries, verifying the layer's size and digest.
func (x *extractor) layer(ctx context.Context, src content.Fetcher, l Layer) error {
	rc, err := src.Fetch(ctx, l.Descriptor)
	if err != nil {
		return fmt.Errorf("fetch layer %s: %w", l.Descriptor.Digest, err)
	}
	defer rc.Close()
	subject := "layer " + l.Descriptor.Digest.String()
	if l.Archive == "" {
		subject = "file " + l.Path
	}
	v := newVerifier(ctxReader{ctx, progressReader{rc, x.prog}}, l.Descriptor, subject)
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	if l.Archive == "" {
		return x.raw(v, l, *bp)
	}
	return x.archive(ctx, v, l, *bp)
}

// raw writes a raw layer's content to its file.
func (x *extractor) raw(v *verifier, l Layer, buf []byte) error {
	if err := x.reserve(l.Descriptor.Size); err != nil {
		return err
	}
	f, err := x.create(l.Path, l.Mode)
	if err != nil {
		return err
	}
	_, err = io.CopyBuffer(writerOnly{f}, v, buf)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	var ve *VerifyError
	if errors.As(err, &ve) {
		return ve // it names the file and both digests
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", l.Path, err)
	}
	x.addFile(PulledFile{Path: l.Path, Size: l.Descriptor.Size, Digest: l.Descriptor.Digest, MediaType: l.Descriptor.MediaType})
	return nil
}

// create makes a new file, and its parent directories, under the root.
func (x *extractor) create(p string, mode fs.FileMode) (*os.File, error) {
	if parent := path.Dir(p); parent != "." {
		if err := x.root.MkdirAll(parent, 0o755); err != nil {
			return nil, fmt.Errorf("create directory %s: %w", parent, err)
		}
	}
	f, err := x.root.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", p, err)
	}
	return f, nil
}

// archive extracts a tar layer, decompressing it first if needed. The
// whole blob is read and verified even when extraction fails, so that a
// tampered layer is reported as a digest mismatch rather than as whatever
// error its altered bytes caused.
func (x *extractor) archive(ctx context.Context, v *verifier, l Layer, buf []byte) error {
	err := x.decompressAndUntar(ctx, v, l, buf)
	if verr := v.finish(buf); verr != nil {
		return verr
	}
	return err
}

func (x *extractor) decompressAndUntar(ctx context.Context, v *verifier, l Layer, buf []byte) error {
	var r io.Reader = v
	switch packing(l.Archive) {
	case packTarGzip:
		gz, err := gzip.NewReader(v)
		if err != nil {
			return fmt.Errorf("layer %s: gzip: %w", l.Descriptor.Digest, err)
		}
		defer gz.Close()
		r = gz
	case packTarZstd:
		zr, err := zstd.NewReader(v, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return fmt.Errorf("layer %s: zstd: %w", l.Descriptor.Digest, err)
		}
		defer zr.Close()
		r = zr
	}
	var diff digest.Digester
	if l.diffID != "" {
		diff = l.diffID.Algorithm().Digester()
		r = io.TeeReader(r, diff.Hash())
	}
	if err := x.untar(ctx, r, l, buf); err != nil {
		return err
	}
	// Read what follows the end marker, so that the DiffID covers the
	// whole uncompressed stream, and bound it.
	n, err := io.CopyBuffer(io.Discard, io.LimitReader(r, maxTarTrailer+1), buf)
	if err != nil {
		return fmt.Errorf("layer %s: %w", l.Descriptor.Digest, err)
	}
	if n > maxTarTrailer {
		return fmt.Errorf("layer %s: %w: more than %d bytes follow the end of its tar archive", l.Descriptor.Digest, ErrInvalidManifest, maxTarTrailer)
	}
	if diff != nil && diff.Digest() != l.diffID {
		return &VerifyError{Subject: "uncompressed content of layer " + l.Descriptor.Digest.String(), WantDigest: l.diffID, GotDigest: diff.Digest()}
	}
	return nil
}

// untar writes the regular files and directories of a tar stream.
func (x *extractor) untar(ctx context.Context, r io.Reader, l Layer, buf []byte) error {
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("layer %s: read tar: %w", l.Descriptor.Digest, err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		switch h.Typeflag {
		case tar.TypeXGlobalHeader:
			continue
		case tar.TypeDir:
			name = strings.TrimSuffix(name, "/")
			if name == "" || name == "." {
				continue
			}
			if err := x.checkEntry(l, name, x.paths.addDir); err != nil {
				return err
			}
			if err := x.reserve(0); err != nil {
				return err
			}
			if err := x.root.MkdirAll(name, 0o755); err != nil {
				return fmt.Errorf("create directory %s: %w", name, err)
			}
			x.addDir(name)
		case tar.TypeReg:
			if err := x.checkEntry(l, name, x.paths.addFile); err != nil {
				return err
			}
			if err := x.entry(ctx, tr, h, name, l, buf); err != nil {
				return err
			}
		default:
			return fmt.Errorf("layer %s: tar entry %q: %w (type %q): only regular files and directories are extracted", l.Descriptor.Digest, h.Name, ErrUnsupportedFile, h.Typeflag)
		}
	}
}

// checkEntry refuses an entry outside the layer's announced directory and
// records it in the path set.
func (x *extractor) checkEntry(l Layer, name string, add func(string) error) error {
	if l.Path != "" && name != l.Path && !strings.HasPrefix(name, l.Path+"/") {
		return fmt.Errorf("layer %s: %w", l.Descriptor.Digest, &PathError{Path: name, Reason: "lies outside the directory " + quote(l.Path) + " the layer is titled with"})
	}
	if err := add(name); err != nil {
		return fmt.Errorf("layer %s: %w", l.Descriptor.Digest, err)
	}
	return nil
}

// entry writes one regular file of a tar stream.
func (x *extractor) entry(ctx context.Context, tr *tar.Reader, h *tar.Header, name string, l Layer, buf []byte) error {
	if h.Size < 0 {
		return fmt.Errorf("layer %s: %w: tar entry %q has negative size", l.Descriptor.Digest, ErrInvalidManifest, name)
	}
	if err := x.reserve(h.Size); err != nil {
		return err
	}
	mode := fs.FileMode(0o644)
	if h.Mode&0o111 != 0 {
		mode = 0o755
	}
	f, err := x.create(name, mode)
	if err != nil {
		return err
	}
	d := digest.Canonical.Digester()
	n, err := io.CopyBuffer(writerOnly{io.MultiWriter(f, d.Hash())}, ctxReader{ctx, tr}, buf)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("layer %s: write %s: %w", l.Descriptor.Digest, name, err)
	}
	x.addFile(PulledFile{Path: name, Size: n, Digest: d.Digest(), MediaType: l.Descriptor.MediaType})
	return nil
}
