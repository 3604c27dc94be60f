package archive

import (
	"fmt"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// small are limits tight enough for bombs built in a test.
var small = scan.Limits{
	MaxDepth:         3,
	MaxEntries:       100,
	MaxExpandedBytes: 16 << 20,
	MaxMemberBytes:   4 << 20,
	MaxRatio:         50,
	RatioFloor:       1 << 20,
	MemoryBuffer:     1 << 20,
}

// nestZip wraps inner in depth levels of zip.
func nestZip(t testing.TB, inner []byte, depth int) []byte {
	t.Helper()
	data := inner
	for i := range depth {
		data = buildZip(t, []zipMember{{name: fmt.Sprintf("level%d.zip", depth-i), data: data}}, zipOpts{})
	}
	return data
}

func TestLimits(t *testing.T) {
	t.Parallel()
	zeros := make([]byte, 16<<20)
	noRatio := small
	noRatio.MaxRatio = 1e9
	var many []zipMember
	for i := range 300 {
		many = append(many, zipMember{name: fmt.Sprintf("m%03d.pkl", i), data: benignPickle})
	}
	tests := []struct {
		name  string
		file  string
		data  []byte
		lim   scan.Limits
		wants []want
		none  []string
	}{
		{
			name:  "zip bomb: 16 MiB of zeros deflated",
			file:  "bomb.zip",
			data:  buildZip(t, []zipMember{{name: "zeros.bin", data: zeros, method: zipDeflate}}, zipOpts{}),
			lim:   noRatio,
			wants: []want{{rule: "SCN004", sev: scan.SeverityHigh, text: `"zeros.bin" decompresses to more than 4194304 bytes`}},
		},
		{
			name:  "zip bomb caught by the ratio",
			file:  "bomb.zip",
			data:  buildZip(t, []zipMember{{name: "zeros.bin", data: zeros[:3<<20], method: zipDeflate}}, zipOpts{}),
			lim:   small,
			wants: []want{{rule: "SCN004", sev: scan.SeverityHigh, text: "expands more than 50 times"}},
		},
		{
			name:  "gzip bomb",
			file:  "bomb.gz",
			data:  gzipBytes(t, zeros),
			lim:   small,
			wants: []want{{rule: "SCN004", sev: scan.SeverityHigh}},
		},
		{
			name: "nesting bomb: zip in zip 10 deep",
			file: "nested.zip",
			data: nestZip(t, payload, 10),
			lim:  small,
			wants: []want{{rule: "SCN002", sev: scan.SeverityHigh,
				inner: "level1.zip!/level2.zip!/level3.zip", text: `"level4.zip" is nested 4 levels deep`}},
			none: []string{"TST001"},
		},
		{
			name:  "nesting within the limit",
			file:  "nested.zip",
			data:  nestZip(t, payload, 2),
			lim:   small,
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "level1.zip!/level2.zip"}},
			none:  []string{"SCN002"},
		},
		{
			name:  "entry bomb",
			file:  "many.zip",
			data:  buildZip(t, many, zipOpts{}),
			lim:   small,
			wants: []want{{rule: "SCN003", sev: scan.SeverityHigh, text: "m100.pkl"}},
		},
		{
			name: "entry bomb in tar",
			file: "many.tar",
			data: buildTar(t, func() []tarEntry {
				var es []tarEntry
				for i := range 150 {
					es = append(es, tarEntry{name: fmt.Sprintf("m%03d", i), data: benignPickle})
				}
				return es
			}()),
			lim:   small,
			wants: []want{{rule: "SCN003", sev: scan.SeverityHigh}},
		},
		{
			name: "7z header declaring more files than the entry limit",
			file: "many.7z",
			data: build7z(func() []sz7File {
				var fs []sz7File
				for i := range 150 {
					fs = append(fs, sz7File{name: fmt.Sprintf("m%03d", i), data: benignPickle})
				}
				return fs
			}(), sz7Opts{}),
			lim:   small,
			wants: []want{{rule: "SCN003", sev: scan.SeverityHigh, text: "more than 100"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs, _ := scanData(t, tt.file, tt.data, tt.lim)
			checkFindings(t, fs, tt.wants, tt.none)
		})
	}
}

// TestEntryLimitCountsEveryMember checks that members which are never
// handed on (directories, links, empty files) still count against the
// entry limit, so a header-only archive cannot grow the scanner's memory.
func TestEntryLimitCountsEveryMember(t *testing.T) {
	t.Parallel()
	var zipDirs []zipMember
	var tarDirs []tarEntry
	for i := range 150 {
		zipDirs = append(zipDirs, zipMember{name: fmt.Sprintf("d%03d/", i)})
		tarDirs = append(tarDirs, tarEntry{name: fmt.Sprintf("l%03d", i), typ: '2', link: "x"})
	}
	tests := []struct {
		name string
		file string
		data []byte
	}{
		{"zip of directories", "dirs.zip", buildZip(t, zipDirs, zipOpts{})},
		{"tar of links", "links.tar", buildTar(t, tarDirs)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs, _ := scanData(t, tt.file, tt.data, small)
			checkFindings(t, fs, []want{{rule: "SCN003", sev: scan.SeverityHigh, text: "more than 100 members"}}, nil)
		})
	}
}
