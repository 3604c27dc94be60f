// Package app is the composition root: it builds the concrete scanners and
// services and hands them to the command line. It is the only package that
// knows every scanner; the scanners know nothing of each other.
package app

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/scan"
	"github.com/palisade-sec/palisade/internal/scan/archive"
	"github.com/palisade-sec/palisade/internal/scan/gguf"
	"github.com/palisade-sec/palisade/internal/scan/keras"
	"github.com/palisade-sec/palisade/internal/scan/numpy"
	"github.com/palisade-sec/palisade/internal/scan/onnx"
	"github.com/palisade-sec/palisade/internal/scan/pickle"
	"github.com/palisade-sec/palisade/internal/scan/safetensors"
	"github.com/palisade-sec/palisade/internal/scan/savedmodel"
)

// App wires Palisade's services together.
type App struct{}

// New returns the composition root.
func New() *App { return &App{} }

// Scanners returns a scanner for every format Sniff recognises.
func Scanners() map[scan.Format]scan.Scanner {
	arc := archive.New()
	k := keras.New()
	return map[scan.Format]scan.Scanner{
		scan.FormatPickle:      pickle.New(),
		scan.FormatZip:         arc,
		scan.FormatTar:         arc,
		scan.Format7z:          arc,
		scan.FormatGzip:        arc,
		scan.FormatBzip2:       arc,
		scan.FormatXz:          arc,
		scan.FormatLzma:        arc,
		scan.FormatZlib:        arc,
		scan.FormatLz4:         arc,
		scan.FormatNumpy:       numpy.New(),
		scan.FormatSafetensors: safetensors.New(),
		scan.FormatGGUF:        gguf.New(),
		scan.FormatONNX:        onnx.New(),
		scan.FormatSavedModel:  savedmodel.New(),
		scan.FormatKerasConfig: k,
		scan.FormatHDF5:        k,
	}
}

// ScanEngine returns an engine with every scanner registered (model
// formats and repository files configured by repo); opts.Scanners is
// ignored. The warnings are for the user: a missing or stale advisory
// database.
func (a *App) ScanEngine(ctx context.Context, opts scan.Options, repo config.Repository) (*scan.Engine, []string, error) {
	scanners := Scanners()
	more, warnings, err := repositoryScanners(ctx, repo, time.Now())
	if err != nil {
		return nil, nil, err
	}
	maps.Copy(scanners, more)
	opts.Scanners = scanners
	return scan.NewEngine(opts), warnings, nil
}

// maxExplainMember bounds a zip member read into memory for --explain.
const maxExplainMember = 256 << 20

// Explain writes what the pickles in a file would do when loaded: the file
// itself when it is a pickle, or every pickle member of a zip (a PyTorch
// checkpoint, say).
func (a *App) Explain(ctx context.Context, path string, w io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("explain %s: %w", path, err)
	}
	if info.IsDir() {
		return fmt.Errorf("explain %s: is a directory; --explain takes one file", printable(path))
	}
	if info.Size() == 0 {
		return fmt.Errorf("explain %s: the file is empty, so there is no pickle to explain", printable(path))
	}
	matches, err := scan.Sniff(path, f, info.Size())
	if err != nil {
		return fmt.Errorf("explain %s: %w", printable(path), err)
	}
	var formats []string
	for _, m := range matches {
		if !m.Tentative {
			formats = append(formats, string(m.Format))
		}
		// A tentative pickle match is only a probe when the content is
		// also something else (safetensors, GGUF, ...).
		if m.Format == scan.FormatPickle && (!m.Tentative || len(matches) == 1) {
			return pickle.Explain(ctx, f, info.Size(), w)
		}
	}
	for _, m := range matches {
		if m.Format == scan.FormatZip {
			return explainZip(ctx, path, f, info.Size(), w)
		}
	}
	found := "its content matches no format Palisade recognises"
	if len(formats) > 0 {
		found = "it looks like " + strings.Join(formats, " or ")
	}
	return fmt.Errorf("explain %s: not a pickle or a zip of pickles (%s); --explain lists what pickle programs do, use 'palisade scan' for other formats", printable(path), found)
}

// printable quotes a name from the file system or an archive, escaping
// its control characters, when it has any: a hostile member name must not
// forge lines or colours in the listing or in error messages.
func printable(s string) string {
	if strings.IndexFunc(s, func(r rune) bool {
		return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError
	}) < 0 {
		return s
	}
	return strconv.Quote(s)
}

// explainZip explains every member of a zip that is a pickle.
func explainZip(ctx context.Context, path string, r io.ReaderAt, size int64, w io.Writer) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return fmt.Errorf("explain %s: read zip: %w (run 'palisade scan' for a full, lenient analysis)", printable(path), err)
	}
	found := 0
	for _, m := range zr.File {
		if m.FileInfo().IsDir() || m.UncompressedSize64 > maxExplainMember {
			continue
		}
		data, err := readMember(m)
		if err != nil {
			return fmt.Errorf("explain %s: member %s: %w", printable(path), printable(m.Name), err)
		}
		matches, err := scan.Sniff(m.Name, bytes.NewReader(data), int64(len(data)))
		if err != nil || len(matches) == 0 || matches[0].Format != scan.FormatPickle || matches[0].Tentative {
			continue
		}
		found++
		fmt.Fprintf(w, "# member %s\n", printable(m.Name))
		if err := pickle.Explain(ctx, bytes.NewReader(data), int64(len(data)), w); err != nil {
			return fmt.Errorf("explain %s: member %s: %w", printable(path), printable(m.Name), err)
		}
		fmt.Fprintln(w)
	}
	if found == 0 {
		return fmt.Errorf("explain %s: the zip holds no pickle members", printable(path))
	}
	return nil
}

// readMember reads a zip member whole. CRC errors are ignored, as PyTorch
// ignores them.
func readMember(m *zip.File) ([]byte, error) {
	rc, err := m.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxExplainMember+1))
	if err != nil && !errors.Is(err, zip.ErrChecksum) {
		return nil, err
	}
	return data, nil
}
