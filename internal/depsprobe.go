package internal

import (
	_ "github.com/bmatcuk/doublestar/v4"
	_ "github.com/bodgit/sevenzip"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/klauspost/compress/flate"
	_ "github.com/klauspost/compress/gzip"
	_ "github.com/klauspost/compress/zlib"
	_ "github.com/klauspost/compress/zstd"
	_ "github.com/owenrumney/go-sarif/v3/pkg/report"
	_ "github.com/pierrec/lz4/v4"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/spf13/cobra"
	_ "github.com/ulikunitz/xz"
	_ "github.com/ulikunitz/xz/lzma"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/sync/errgroup"
	_ "golang.org/x/term"
	_ "google.golang.org/protobuf/encoding/protowire"
)
