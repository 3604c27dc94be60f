package archive

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// TestCorpus scans the shared corpus files relevant to archives (copied
// into testdata/) with a fake pickle/NumPy scanner and checks that the
// payloads are reached at the expected member paths and that safe files
// raise nothing high or critical.
func TestCorpus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file   string
		unsafe bool
		wants  []want
		none   []string
		seen   []string // member names the fake scanner must be handed (members recognised as pickle or NumPy)
	}{
		{
			file: "benign_pytorch_zip.pt",
			seen: []string{"archive/data.pkl"},
			none: []string{"ARC001", "ARC002", "ARC003", "ARC004", "ARC005", "ARC008", "ARC009"},
		},
		{
			file: "mal_pytorch_zip_os_system.pt", unsafe: true,
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "archive/data.pkl"}},
			seen:  []string{"archive/data.pkl"},
		},
		{
			file: "mal_pytorch_zip_os_system.bin", unsafe: true,
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "pytorch_model/data.pkl"}},
			seen:  []string{"pytorch_model/data.pkl"},
		},
		{
			// CVE-2025-1889 class: a protocol-0 pickle under a name with
			// no extension is found by content.
			file: "mal_zip_proto0_member_no_ext.zip", unsafe: true,
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "archive/extra/payload"}},
			seen:  []string{"archive/extra/payload"},
		},
		{
			file: "mal_nested_zip_in_zip.zip", unsafe: true,
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model/inner_model.pt!/archive/data.pkl"}},
			seen:  []string{"archive/data.pkl"},
		},
		{
			// The pickle part is the pickle scanner's (here the fake,
			// at the top level); the zip part is this scanner's.
			file: "mal_polyglot_pickle_then_zip.pkl", unsafe: true,
			wants: []want{
				{rule: "TST001", sev: scan.SeverityCritical, inner: ""},
				{rule: "ARC009", sev: scan.SeverityLow, inner: "", text: "39 bytes of other data precede the zip archive"},
			},
			seen: []string{"archive/data.pkl"},
		},
		{
			file: "benign_pytorch_legacy_tar.pt",
			seen: []string{"sys_info", "pickle", "tensors", "storages"},
			none: []string{"ARC001", "ARC004", "ARC005", "ARC007", "ARC008"},
		},
		{
			file: "mal_pytorch_legacy_tar_os_system.pt", unsafe: true,
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "pickle"}},
			seen:  []string{"sys_info", "pickle"},
		},
		{
			// nullifAI: a pickle wrapped in 7z.
			file: "mal_7z_container_pickle.7z", unsafe: true,
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model.pkl"}},
			seen:  []string{"model.pkl"},
		},
		{
			file: "mal_pytorch_7z_container.pt", unsafe: true,
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "archive/data.pkl"}},
			seen:  []string{"archive/data.pkl"},
		},
		{
			file: "benign_arrays.npz",
			seen: []string{"a.npy", "b.npy"},
			none: []string{"ARC001", "ARC008", "ARC009"},
		},
		{
			file: "mal_npz_object_member.npz", unsafe: true,
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "evil.npy"}},
			seen:  []string{"a.npy", "evil.npy"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			fs, rec := scanData(t, tt.file, data, scan.Limits{})
			checkFindings(t, fs, tt.wants, tt.none)
			if tt.unsafe {
				if got := maxSeverity(fs); got != scan.SeverityCritical {
					t.Errorf("max severity = %s, want critical", got)
				}
			} else if got := maxSeverity(fs); got >= scan.SeverityHigh {
				t.Errorf("safe file: max severity = %s, want below high:\n%s", got, dump(fs))
			}
			got := rec.names()
			for _, n := range tt.seen {
				if !slices.Contains(got, n) {
					t.Errorf("member %q was not handed on; handed: %q", n, got)
				}
			}
		})
	}
}

// TestCorpusNpzFormats checks that .npz members reach the NumPy scanner by
// content, stored and deflated alike.
func TestCorpusNpzFormats(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"benign_arrays.npz", "mal_npz_object_member.npz"} {
		data, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		_, rec := scanData(t, file, data, scan.Limits{})
		for _, s := range rec.seen {
			if s.format != scan.FormatNumpy {
				t.Errorf("%s: member %q routed as %s, want %s", file, s.name, s.format, scan.FormatNumpy)
			}
			if len(s.data) < 6 || string(s.data[:6]) != "\x93NUMPY" {
				t.Errorf("%s: member %q does not start with the NumPy magic: %q", file, s.name, s.data[:min(len(s.data), 8)])
			}
		}
	}
}
