package app

import (
	"archive/zip"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	scalibrlog "github.com/google/osv-scalibr/log"
	"golang.org/x/sync/errgroup"

	"github.com/palisade-sec/palisade/internal/sbom"
	"github.com/palisade-sec/palisade/internal/scan"
	"github.com/palisade-sec/palisade/internal/scan/deps"
	"github.com/palisade-sec/palisade/internal/version"
)

// SBOM writes a CycloneDX 1.6 JSON bill of materials for files and
// directory trees to w: the dependency packages their manifests and
// lockfiles declare, and their model files. The warnings are for the user
// (a dependency file that could not be parsed, a model card that could not
// be read, links to directories not followed). Nothing is written when the
// error is not nil.
func (a *App) SBOM(ctx context.Context, paths []string, w io.Writer) ([]string, error) {
	return writeSBOM(ctx, paths, w, sbomEnv{now: time.Now})
}

// sbomEnv is what tests inject: the clock and the serial-number source.
type sbomEnv struct {
	now  func() time.Time
	rand io.Reader // nil: crypto/rand
}

// modelFormats are the formats whose files are listed as models. Archives
// and compressed streams are not: a zip counts only when it is a model
// container (see isModelZip).
var modelFormats = map[scan.Format]bool{
	scan.FormatPickle: true, scan.FormatZip: true, scan.FormatNumpy: true, scan.FormatSafetensors: true,
	scan.FormatGGUF: true, scan.FormatONNX: true, scan.FormatSavedModel: true, scan.FormatKerasConfig: true,
	scan.FormatHDF5: true,
}

// sbomFile is one regular file to inventory.
type sbomFile struct {
	path string // as displayed: under the name the user gave
	root string // the directory model cards are looked for up to
	rel  string // path relative to root, slash-separated
}

func writeSBOM(ctx context.Context, paths []string, w io.Writer, env sbomEnv) ([]string, error) {
	quietScalibr.Do(func() { scalibrlog.SetLogger(silentLogger{}) })
	files, skipped, walkErrs, err := walkSBOM(paths)
	if err != nil {
		return nil, err
	}
	dep, err := deps.New(deps.Options{})
	if err != nil {
		return nil, fmt.Errorf("dependency scanner: %w", err)
	}
	var (
		mu       sync.Mutex
		pkgs     []sbom.Package
		models   []sbom.Model
		roots    = map[int]string{} // model index -> root
		warnings []string
		errs     = walkErrs
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, f := range files {
		g.Go(func() error {
			ps, m, warning, err := inventoryFile(gctx, dep, f)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if gctx.Err() != nil {
					return gctx.Err()
				}
				errs = append(errs, err)
				return nil
			}
			if warning != "" {
				warnings = append(warnings, warning)
			}
			pkgs = append(pkgs, ps...)
			if m != nil {
				roots[len(models)] = f.root
				models = append(models, *m)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b error) int { return cmp.Compare(a.Error(), b.Error()) })
		return nil, errors.Join(errs...)
	}
	cards := &cardFinder{cache: map[string]*sbom.ModelCard{}}
	for i := range models {
		models[i].Card = cards.find(filepath.FromSlash(models[i].Path), roots[i])
	}
	warnings = append(warnings, cards.warnings...)
	if skipped > 0 {
		warnings = append(warnings, fmt.Sprintf("%d symbolic link(s) to directories were not followed", skipped))
	}
	slices.Sort(warnings)
	bom := sbom.Build(sbom.Meta{
		RootName:    rootName(paths),
		ToolVersion: version.Get().Version,
		Time:        env.now(),
		Rand:        env.rand,
	}, pkgs, models)
	if err := sbom.Write(w, bom); err != nil {
		return warnings, err
	}
	return warnings, nil
}

// walkSBOM lists the regular files under paths as a scan reads them
// (scan.Walk), with the directory model cards are looked for up to: the
// named directory, or a named file's own directory. Unreadable entries
// below a named path are returned in walkErrs.
func walkSBOM(paths []string) (files []sbomFile, skipped int, walkErrs []error, err error) {
	found, errs, skipped, err := scan.Walk(paths)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("sbom: %w", err)
	}
	for _, e := range errs {
		walkErrs = append(walkErrs, fmt.Errorf("read %s: %w", printable(e.Path), e.Err))
	}
	for _, f := range found {
		root := filepath.Clean(f.Root)
		if f.Path == f.Root {
			root = filepath.Dir(root) // a file named directly
		}
		rel, err := filepath.Rel(root, f.Path)
		if err != nil {
			rel = filepath.Base(f.Path)
		}
		files = append(files, sbomFile{path: f.Path, root: root, rel: filepath.ToSlash(rel)})
	}
	return files, skipped, walkErrs, nil
}

// inventoryFile sniffs one file and returns its packages, or the model it
// is. A dependency file that cannot be parsed is a warning, not an error:
// the rest of the inventory stands.
func inventoryFile(ctx context.Context, dep *deps.Scanner, f sbomFile) ([]sbom.Package, *sbom.Model, string, error) {
	fh, err := os.Open(f.path)
	if err != nil {
		return nil, nil, "", fmt.Errorf("read %s: %w", printable(f.path), err)
	}
	defer fh.Close()
	info, err := fh.Stat()
	if err != nil {
		return nil, nil, "", fmt.Errorf("read %s: %w", printable(f.path), err)
	}
	size := info.Size()
	if size == 0 {
		return nil, nil, "", nil
	}
	base := filepath.Base(f.path)
	matches, err := scan.Sniff(base, fh, size)
	if err != nil {
		return nil, nil, "", fmt.Errorf("read %s: %w", printable(f.path), err)
	}
	var formats []string
	isDeps := false
	for _, m := range matches {
		switch {
		case m.Format == scan.FormatDependencies:
			isDeps = true
		case compressedFormats[m.Format] && compressedModelExts[strings.ToLower(filepath.Ext(base))] != "":
			// joblib and pickle files are often compressed whole (joblib's
			// compress= option); the name says what is inside.
			formats = append(formats, compressedModelExts[strings.ToLower(filepath.Ext(base))]+"+"+string(m.Format))
		case m.Tentative || !modelFormats[m.Format]:
		case m.Format == scan.FormatZip:
			if f := zipModelFormat(base, fh, size); f != "" {
				formats = append(formats, f)
			}
		default:
			formats = append(formats, string(m.Format))
		}
	}
	shown := filepath.ToSlash(f.path)
	if len(formats) > 0 {
		sum, err := hashFile(ctx, fh)
		if err != nil {
			return nil, nil, "", fmt.Errorf("read %s: %w", printable(f.path), err)
		}
		return nil, &sbom.Model{
			Name: f.rel, Version: snapshotRevision(shown), Path: shown, Format: strings.Join(formats, "+"),
			Size: size, SHA256: sum,
		}, "", nil
	}
	if !isDeps {
		return nil, nil, "", nil
	}
	found, err := dep.Extract(ctx, scan.Object{Name: base, R: fh, Size: size, DiskPath: f.path, Format: scan.FormatDependencies})
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, "", ctx.Err()
		}
		return nil, nil, fmt.Sprintf("%s: the packages it lists are not in the SBOM: %s", printable(f.path), printable(scan.Clip(err.Error(), 300))), nil
	}
	out := make([]sbom.Package, 0, len(found))
	for _, p := range found {
		loc := shown
		if p.Line > 0 {
			loc += ":" + strconv.Itoa(p.Line)
		}
		out = append(out, sbom.Package{Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem, Locations: []string{loc}})
	}
	return out, nil, "", nil
}

// modelZipExts are the names of zip-based model files and the format
// they are listed as when the members do not say more.
var modelZipExts = map[string]string{
	".pt": "pytorch", ".pth": "pytorch", ".bin": "pytorch", ".ckpt": "pytorch", ".mar": "zip", ".nemo": "zip",
	".keras": "keras", ".npz": "npz", ".pkl": "zip", ".joblib": "zip",
}

// compressedFormats are the whole-file compressions a model may carry.
var compressedFormats = map[scan.Format]bool{
	scan.FormatGzip: true, scan.FormatZlib: true, scan.FormatXz: true, scan.FormatLzma: true,
	scan.FormatBzip2: true, scan.FormatLz4: true,
}

// compressedModelExts name the model inside a compressed file by its
// extension.
var compressedModelExts = map[string]string{
	".joblib": "joblib", ".pkl": "pickle", ".pickle": "pickle", ".dill": "pickle",
	".pt": "pytorch", ".pth": "pytorch", ".npy": "npy",
}

// zipModelFormat names the model a zip holds: "pytorch" (a data.pkl or
// constants.pkl member: PyTorch and TorchScript), "keras" (Keras v3:
// model.weights.h5 or config.json with metadata.json), "npz" (only .npy
// members), or by the file name. It returns "" for other zips (datasets,
// wheels, bundles), which are not models. Only the central directory is
// read.
func zipModelFormat(name string, r io.ReaderAt, size int64) string {
	byName := modelZipExts[strings.ToLower(filepath.Ext(name))]
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return byName
	}
	npy, config, metadata := 0, false, false
	for _, m := range zr.File {
		switch base := path.Base(m.Name); {
		case base == "data.pkl" || base == "constants.pkl":
			return "pytorch"
		case base == "model.weights.h5":
			return "keras"
		case m.Name == "config.json":
			config = true
		case m.Name == "metadata.json":
			metadata = true
		case strings.HasSuffix(base, ".npy"):
			npy++
		}
	}
	switch {
	case config && metadata:
		return "keras"
	case npy > 0 && npy == len(zr.File) && byName != "":
		return "npz"
	}
	return byName
}

// hashFile returns the SHA-256 of the whole file, streamed, stopping when
// ctx is done.
func hashFile(ctx context.Context, f *os.File) (string, error) {
	h := sha256.New()
	buf := make([]byte, 1<<20)
	r := io.NewSectionReader(f, 0, 1<<62)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := r.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			return hex.EncodeToString(h.Sum(nil)), nil
		}
		if err != nil {
			return "", err
		}
	}
}

// snapshotDir matches a Hugging Face cache snapshot directory, whose name
// is the commit the files came from.
var snapshotDir = regexp.MustCompile(`(?:^|/)snapshots/([0-9a-f]{40})/`)

// snapshotRevision returns the commit of a file in a Hugging Face cache
// snapshot, or "".
func snapshotRevision(p string) string {
	if m := snapshotDir.FindStringSubmatch(p); m != nil {
		return m[1]
	}
	return ""
}

// cardFinder finds the model card of a model file: the first README.md
// with front matter in the file's directory or a parent, up to the root
// it was found under.
type cardFinder struct {
	cache    map[string]*sbom.ModelCard // directory -> its card, nil for none
	warnings []string
}

func (c *cardFinder) find(file, root string) *sbom.ModelCard {
	root = filepath.Clean(root)
	dir := filepath.Dir(file)
	for range 64 {
		if card := c.read(dir); card != nil {
			return card
		}
		if dir == root || !within(root, dir) {
			return nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
	return nil
}

// within reports whether dir is root or below it.
func within(root, dir string) bool {
	rel, err := filepath.Rel(root, dir)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// read returns the card of dir's README.md, or nil.
func (c *cardFinder) read(dir string) *sbom.ModelCard {
	if card, ok := c.cache[dir]; ok {
		return card
	}
	c.cache[dir] = nil
	p := filepath.Join(dir, "README.md")
	info, err := os.Stat(p)
	if err != nil || !info.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		c.warnings = append(c.warnings, fmt.Sprintf("model card %s: %v", printable(p), err))
		return nil
	}
	defer f.Close()
	card, err := sbom.ReadModelCard(f)
	switch {
	case errors.Is(err, sbom.ErrNoFrontMatter):
		return nil
	case err != nil:
		c.warnings = append(c.warnings, fmt.Sprintf("model card %s is ignored: %s", printable(p), printable(err.Error())))
		return nil
	}
	card.Source = filepath.ToSlash(p)
	c.cache[dir] = card
	return card
}

// rootName names the SBOM's subject: the scanned directory or file, or
// the names of several joined with " + ".
func rootName(paths []string) string {
	var names []string
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			abs = p
		}
		names = append(names, filepath.Base(abs))
	}
	return strings.Join(names, " + ")
}
