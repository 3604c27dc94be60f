package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/access"
	"github.com/palisade-sec/palisade/internal/artifact"
)

// maxReferencesFile bounds a dataset references file.
const maxReferencesFile = 64 << 20

// pushFlags are the flags of 'palisade push'.
type pushFlags struct {
	remoteFlags
	kind, name, version, references                              string
	classification, description, owner, license, framework, form string
	labels, annotations                                          []string
}

func newPushCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var f pushFlags
	cmd := &cobra.Command{
		Use:   "push [DIR] HOST:PORT/PROJECT/NAME:TAG",
		Short: "Push a model or dataset directory as an OCI artifact",
		Long: `Pack DIR as an OCI artifact and push it: a model as a CNCF ModelPack artifact
(a config blob and one layer per file, the file's path in an annotation,
weights stored raw rather than tarred), a dataset (--kind dataset) the same
way with Palisade's dataset artifact type. Every file is hashed while it is
read and checked again as it is uploaded; blobs the registry already has are
not sent again. oras can pull what palisade pushes, and palisade can pull
what oras pushes.

Metadata flags become manifest annotations that the server records as the
artifact's metadata (palisade ls and inspect show it). A dataset whose data
stays in a lake is pushed with --references FILE instead of DIR: a JSON array
of {"uri", "size", "digest"} objects; 'palisade dataset check' re-hashes the
data later.`,
		Example: `  palisade push ./llama-ft 127.0.0.1:8700/nlp/llama-ft:v3 --classification confidential --label team=nlp
  palisade push ./reviews 127.0.0.1:8700/nlp/reviews:2026-11 --kind dataset
  palisade push --references lake.json 127.0.0.1:8700/nlp/lake-snapshot:1 --kind dataset`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			refArg, dir := args[len(args)-1], ""
			if len(args) == 2 {
				dir = args[0]
			}
			if (dir == "") == (f.references == "") {
				return usageError(errors.New("give either DIR or --references FILE"))
			}
			opts, err := f.packOptions()
			if err != nil {
				return usageError(err)
			}
			ref, _, repo, err := f.openRef(refArg, "push", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			tag := ref.Reference.Reference
			if strings.Contains(tag, ":") {
				return usageError(fmt.Errorf("push to a tag, not a digest: %s:TAG", ref.Registry+"/"+ref.Repository))
			}
			var packed artifact.Packed
			if dir != "" {
				packed, err = artifact.Pack(cmd.Context(), dir, opts)
			} else {
				var refs []artifact.Reference
				if refs, err = readReferences(f.references); err == nil {
					packed, err = artifact.PackReferences(refs, opts)
				}
			}
			if err != nil {
				return usageError(fmt.Errorf("pack: %w", err))
			}
			desc, err := artifact.Push(cmd.Context(), packed, repo, tag, artifact.PushOptions{})
			if err != nil {
				return usageError(registryError("push", refArg, err))
			}
			var bytes int64
			for _, pf := range packed.Files {
				bytes += pf.Layer.Size
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Pushed %s/%s:%s\nDigest: %s\nFiles: %d (%d bytes)\n",
				ref.Registry, ref.Repository, tag, desc.Digest, len(packed.Files), bytes)
			return nil
		},
	}
	f.register(cmd, false)
	fl := cmd.Flags()
	fl.StringVar(&f.kind, "kind", "model", "model or dataset")
	fl.StringVar(&f.name, "name", "", "name in the artifact config (default: the repository's last component)")
	fl.StringVar(&f.version, "version", "", "version in the artifact config (default: the tag)")
	fl.StringVar(&f.references, "references", "", "push a dataset of external data described by this JSON file instead of DIR")
	fl.StringVar(&f.classification, "classification", "", "public, internal (the server's default), confidential or restricted")
	fl.StringVar(&f.description, "description", "", "what the artifact is")
	fl.StringVar(&f.owner, "owner", "", "the team or person responsible")
	fl.StringVar(&f.license, "license", "", "SPDX license expression")
	fl.StringVar(&f.framework, "framework", "", "pytorch, tensorflow, sklearn, ...")
	fl.StringVar(&f.form, "format", "", "file format (default: guessed from the weight files)")
	fl.StringArrayVar(&f.labels, "label", nil, "free label KEY=VALUE (repeatable)")
	fl.StringArrayVar(&f.annotations, "annotation", nil, "extra manifest annotation KEY=VALUE (repeatable)")
	return cmd
}

// packOptions turns the flags into artifact.Options.
func (f *pushFlags) packOptions() (artifact.Options, error) {
	var opts artifact.Options
	if f.classification != "" {
		if _, err := access.ParseLevel(f.classification); err != nil {
			return opts, fmt.Errorf("--classification: %w", err)
		}
	}
	switch f.kind {
	case "model":
		opts.Kind = artifact.KindModel
	case "dataset":
		opts.Kind = artifact.KindDataset
	default:
		return opts, fmt.Errorf("--kind must be model or dataset, not %q", f.kind)
	}
	opts.Name, opts.Version = f.name, f.version
	ann := map[string]string{}
	for _, kv := range f.annotations {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return opts, fmt.Errorf("--annotation %q: want KEY=VALUE", kv)
		}
		ann[k] = v
	}
	for _, kv := range f.labels {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return opts, fmt.Errorf("--label %q: want KEY=VALUE", kv)
		}
		ann[artifact.AnnotationLabelPrefix+k] = v
	}
	for k, v := range map[string]string{
		artifact.AnnotationKind: f.kind, artifact.AnnotationClassification: f.classification,
		artifact.AnnotationDescription: f.description, artifact.AnnotationOwner: f.owner,
		artifact.AnnotationLicenses: f.license, artifact.AnnotationFramework: f.framework,
		artifact.AnnotationFormat: f.form,
	} {
		if v != "" {
			ann[k] = v
		}
	}
	if _, err := artifact.ReadMetadata("", "", ann, nil); err != nil {
		return opts, err
	}
	if f.form != "" {
		opts.Config.Format = f.form
	}
	opts.Annotations = ann
	return opts, nil
}

// readReferences reads a JSON array of dataset references.
func readReferences(path string) ([]artifact.Reference, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("references: %w", err)
	}
	defer fh.Close()
	var refs []artifact.Reference
	dec := json.NewDecoder(io.LimitReader(fh, maxReferencesFile))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&refs); err != nil {
		return nil, fmt.Errorf("references file %s: want a JSON array of {\"uri\", \"size\", \"digest\"}: %w", path, err)
	}
	if len(refs) == 0 {
		return nil, fmt.Errorf("references file %s lists no data", path)
	}
	return refs, nil
}

func newPullCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var (
		f     remoteFlags
		force bool
	)
	cmd := &cobra.Command{
		Use:   "pull HOST:PORT/PROJECT/NAME[:TAG|@DIGEST] DIR",
		Short: "Pull an artifact into a directory, checking every digest",
		Long: `Pull a model or dataset artifact (ModelPack, Palisade dataset, KitOps, or
files pushed with oras) into DIR, byte for byte. Every file is written to a
temporary directory beside DIR while its size and digest are checked, and
moved into place only when all of them match: nothing half-written is left.
DIR must not exist or be empty, unless --force merges into it.`,
		Example: `  palisade pull 127.0.0.1:8700/nlp/llama-ft:v3 ./llama-ft`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, _, repo, err := f.openRef(args[0], "pull", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			pulled, err := artifact.Pull(cmd.Context(), repo, ref.Reference.Reference, args[1], artifact.PullOptions{Force: force})
			if err != nil {
				return usageError(registryError("pull", args[0], err))
			}
			var total int64
			for _, pf := range pulled.Files {
				total += pf.Size
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Pulled %s\nDigest: %s\nFiles: %d (%d bytes) in %s\n", args[0], pulled.Manifest.Digest, len(pulled.Files), total, pulled.Dir)
			for _, s := range pulled.Skipped {
				fmt.Fprintf(cmd.ErrOrStderr(), "skipped layer %s: %s\n", s.Layer.Digest, s.Reason)
			}
			if pulled.Dataset != nil && len(pulled.Dataset.References) > 0 {
				fmt.Fprintf(out, "External data: %d references (check them with palisade dataset check %s)\n", len(pulled.Dataset.References), args[0])
			}
			return nil
		},
	}
	f.register(cmd, false)
	cmd.Flags().BoolVar(&force, "force", false, "pull into a non-empty DIR, replacing files of the same name")
	return cmd
}

func newDatasetCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dataset",
		Short: "Work with dataset artifacts",
	}
	var f remoteFlags
	check := &cobra.Command{
		Use:   "check HOST:PORT/PROJECT/NAME[:TAG|@DIGEST]",
		Short: "Re-hash the external data a dataset artifact references",
		Long: `Read every external URI a dataset artifact references (pushed with palisade
push --references) and check its size and digest against the artifact, so
that data kept in a lake can be shown unchanged without copying it into the
registry. This version reads file:// URIs and local paths.

Exit codes: 0 all match, 1 a mismatch or unreadable data, 2 usage or I/O
errors reaching the registry.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, _, repo, err := f.openRef(args[0], "check", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			tmp, err := os.MkdirTemp("", "palisade-dataset-")
			if err != nil {
				return usageError(err)
			}
			defer os.RemoveAll(tmp)
			pulled, err := artifact.Pull(cmd.Context(), repo, ref.Reference.Reference, tmp, artifact.PullOptions{Force: true})
			if err != nil {
				return usageError(registryError("read", args[0], err))
			}
			if pulled.Dataset == nil || len(pulled.Dataset.References) == 0 {
				return usageError(fmt.Errorf("%s references no external data", args[0]))
			}
			bad := 0
			for _, dr := range pulled.Dataset.References {
				if err := artifact.CheckReference(cmd.Context(), dr, artifact.OpenLocal); err != nil {
					bad++
					fmt.Fprintf(cmd.OutOrStdout(), "FAIL %s: %v\n", dr.URI, err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "ok   %s (%d bytes, %s)\n", dr.URI, dr.Size, dr.Digest)
			}
			if bad > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d of %d references do not match\n", bad, len(pulled.Dataset.References))
				return &exitError{code: ExitFindings}
			}
			return nil
		},
	}
	f.register(check, false)
	cmd.AddCommand(check)
	return cmd
}
