package cli

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/palisade-sec/palisade/internal/atomicfile"

	"github.com/spf13/cobra"
)

// sbomFormats are the --format values of 'palisade sbom'.
var sbomFormats = []string{"cyclonedx-json"}

func newSBOMCommand(svc Services) *cobra.Command {
	var output, format string
	cmd := &cobra.Command{
		Use:   "sbom PATH...",
		Short: "Write an AI bill of materials (CycloneDX 1.6 JSON)",
		Long: `Write a CycloneDX 1.6 JSON bill of materials for files and directories:
the packages their dependency manifests and lockfiles declare (PyPI, Go,
npm, conda; with package URLs and the file and line of each declaration),
and their model files (pickle, PyTorch, NumPy, safetensors, GGUF, ONNX,
Keras, HDF5, TensorFlow SavedModel) as machine-learning-model components
with their format, size and SHA-256. A model's card is the first README.md
with YAML front matter in its directory or a parent, up to the path named:
its license, base model, datasets, task, language, library and tags go
into the component. Directories are walked as 'palisade scan' walks them;
nothing is loaded or executed.

Exit codes: 0 the SBOM was written, 2 usage error, a path that could not
be read, or an SBOM that could not be written. A dependency file that
cannot be parsed or a model card that cannot be read is a warning on
standard error; the SBOM is still written without it.`,
		Example: `  palisade sbom .
  palisade sbom --output sbom.cdx.json ./models requirements.txt`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fail := func(err error) error { return &exitError{code: ExitError, err: err} }
			f := strings.ToLower(strings.TrimSpace(format))
			if !contains(sbomFormats, f) {
				return fail(fmt.Errorf("unknown --format %q: use %s", format, strings.Join(sbomFormats, ", ")))
			}
			var buf bytes.Buffer
			warnings, err := svc.SBOM(cmd.Context(), args, &buf)
			for _, w := range warnings {
				fmt.Fprintf(cmd.ErrOrStderr(), "palisade: warning: %s\n", printableLines(w))
			}
			if err != nil {
				return fail(err)
			}
			if output == "" || output == "-" {
				if _, err := cmd.OutOrStdout().Write(buf.Bytes()); err != nil {
					return fail(fmt.Errorf("write SBOM: %w", err))
				}
				return nil
			}
			if err := atomicfile.Write(output, buf.Bytes(), 0o644); err != nil {
				return fail(err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&output, "output", "o", "", "write the SBOM to FILE instead of standard output (- is standard output); the file is replaced atomically and keeps its permissions")
	f.StringVarP(&format, "format", "f", sbomFormats[0], "output format: "+strings.Join(sbomFormats, ", "))
	return cmd
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
