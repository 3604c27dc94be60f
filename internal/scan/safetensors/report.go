package safetensors

import (
	"context"
	"io"

	"github.com/palisade-sec/palisade/internal/scan"
)

// session is the part of *scan.Session the scanner uses; tests and the
// fuzz target supply a recording fake.
type session interface {
	Report(f scan.Finding)
	Limits() scan.Limits
	Nested(ctx context.Context, name string, r io.ReaderAt, size int64, format scan.Format) error
}

var _ session = (*scan.Session)(nil)

// maxPerRule bounds how many findings of one rule one file produces.
const maxPerRule = 16
