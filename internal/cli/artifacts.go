package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/api"
	"github.com/palisade-sec/palisade/internal/client"
)

func newLsCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var (
		f                           remoteFlags
		kind, classification, query string
		labels                      []string
		asJSON                      bool
	)
	cmd := &cobra.Command{
		Use:   "ls PROJECT[/REPOSITORY]",
		Short: "List the artifacts of a project or repository",
		Long: `List a project's artifacts (models, datasets, images, other OCI artifacts)
with their tags, kind, classification and creation time, filtered by the
flags. An artifact classified above your clearance is listed by its summary
only, marked "(redacted)", and searches (--query, --label) do not look into
it; 'palisade inspect' shows an artifact's files and sizes.`,
		Example: `  palisade ls vision --server 127.0.0.1:8700
  palisade ls vision/detector --kind model --label team=cv --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			project, repo, _ := strings.Cut(args[0], "/")
			r, err := f.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			q := url.Values{}
			for k, v := range map[string]string{"repository": repo, "kind": kind, "classification": classification, "q": query} {
				if v != "" {
					q.Set(k, v)
				}
			}
			for _, l := range labels {
				q.Add("label", l)
			}
			arts, err := r.api().Artifacts(cmd.Context(), project, q)
			if err != nil {
				return usageError(fmt.Errorf("list %s: %w", args[0], err))
			}
			if asJSON {
				if arts == nil {
					arts = []api.Artifact{}
				}
				return writeIndentedJSON(cmd.OutOrStdout(), arts)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "REPOSITORY\tTAGS\tDIGEST\tKIND\tCLASSIFICATION\tCREATED")
			for _, a := range arts {
				class := a.Classification
				if a.Redacted {
					class += " (redacted)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Repository, strings.Join(a.Tags, ","), shortDigest(a.Digest),
					a.Kind, class, a.Created.Format("2006-01-02 15:04"))
			}
			return tw.Flush()
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVar(&kind, "kind", "", "only this kind: model, dataset, image or artifact")
	cmd.Flags().StringVar(&classification, "classification", "", "only this classification: public, internal, confidential or restricted")
	cmd.Flags().StringVarP(&query, "query", "q", "", "only artifacts whose repository name or description contains this text")
	cmd.Flags().StringArrayVar(&labels, "label", nil, "only artifacts with this label, KEY=VALUE (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func shortDigest(d string) string {
	if _, hex, ok := strings.Cut(d, ":"); ok && len(hex) > 12 {
		return d[:len(d)-len(hex)] + hex[:12]
	}
	return d
}

func writeIndentedJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// apiRef parses a reference for the native API, which takes a tag or a
// digest: reading an artifact's detail needs no pull permission (an
// auditor's), so the reference is not resolved through the registry.
func apiRef(f remoteFlags, s, verb string, lookupEnv func(string) (string, bool)) (client.Reference, remote, error) {
	ref, r, _, err := f.openRef(s, verb, lookupEnv)
	return ref, r, err
}

func newInspectCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var (
		f      remoteFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "inspect HOST:PORT/PROJECT/NAME[:TAG|@DIGEST]",
		Short: "Show an artifact: files, digests, sizes, metadata, tags, referrers",
		Example: `  palisade inspect 127.0.0.1:8700/vision/detector:v1
  palisade inspect 127.0.0.1:8700/vision/detector@sha256:... --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, r, err := apiRef(f, args[0], "inspect", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			d, err := r.api().Artifact(cmd.Context(), ref.Project(), ref.Name(), ref.Reference.Reference)
			if err != nil {
				return usageError(fmt.Errorf("inspect %s: %w", args[0], err))
			}
			if asJSON {
				return writeIndentedJSON(cmd.OutOrStdout(), d)
			}
			return printArtifact(cmd.OutOrStdout(), ref, d)
		},
	}
	f.register(cmd, false)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printArtifact(w io.Writer, ref client.Reference, d api.ArtifactDetail) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	// Metadata comes from whoever pushed: control characters are quoted.
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", printable(k), printable(v))
		}
	}
	row("Artifact", ref.Registry+"/"+ref.Repository+"@"+d.Digest)
	row("Tags", strings.Join(d.Tags, ", "))
	row("Media type", d.MediaType)
	row("Artifact type", d.ArtifactType)
	row("Kind", d.Kind)
	row("Classification", d.Classification)
	row("Data tags", strings.Join(d.DataTags, ", "))
	row("Owner", d.Owner)
	row("Description", d.Description)
	row("Framework", d.Framework)
	row("Format", d.Format)
	row("License", d.License)
	row("Model card", d.ModelCard)
	for _, k := range slices.Sorted(maps.Keys(d.Labels)) {
		row("Label "+k, d.Labels[k])
	}
	row("Subject", d.Subject)
	row("Created", d.Created.Format("2006-01-02 15:04:05 MST"))
	if err := tw.Flush(); err != nil {
		return err
	}
	var total int64
	for _, f := range d.Files {
		total += f.Size
	}
	fmt.Fprintf(w, "\nFiles (%d, %d bytes):\n", len(d.Files), total)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range d.Files {
		fmt.Fprintf(tw, "  %s\t%d\t%s\n", orDash(f.Path), f.Size, f.Digest)
	}
	for _, m := range d.Manifests {
		fmt.Fprintf(tw, "  manifest\t%d\t%s\n", m.Size, m.Digest)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(d.Referrers) > 0 {
		fmt.Fprintf(w, "\nReferrers (%d):\n", len(d.Referrers))
		for _, rf := range d.Referrers {
			fmt.Fprintf(w, "  %s  %s\n", rf.Digest, printable(rf.ArtifactType))
		}
	}
	if len(d.ClassificationChanges) > 0 {
		fmt.Fprintf(w, "\nClassification history:\n")
		for _, c := range d.ClassificationChanges {
			who := c.ActorName
			if who == "" {
				who = c.Actor
			}
			line := fmt.Sprintf("  %s  %s -> %s  by %s", c.At.Local().Format(minuteLayout), orDash(c.From), c.To, who)
			if c.Reason != "" {
				line += ": " + c.Reason
			}
			fmt.Fprintln(w, printable(line))
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newRmCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var f remoteFlags
	cmd := &cobra.Command{
		Use:   "rm HOST:PORT/PROJECT/NAME:TAG | HOST:PORT/PROJECT/NAME@DIGEST",
		Short: "Remove a tag, or a manifest with every tag naming it",
		Long: `Remove a tag (the manifest stays, reachable by digest and other tags), or,
given a digest, the manifest and every tag that names it. Blobs no longer
referenced are reclaimed by palisade admin gc. Needs a token that may delete.`,
		Example: `  palisade rm 127.0.0.1:8700/vision/detector:old
  palisade rm 127.0.0.1:8700/vision/detector@sha256:...`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, r, repo, err := f.openRef(args[0], "remove", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			u := *r.target.Base
			u.Path = "/v2/" + ref.Repository + "/manifests/" + ref.Reference.Reference
			req, err := http.NewRequestWithContext(cmd.Context(), http.MethodDelete, u.String(), nil)
			if err != nil {
				return usageError(err)
			}
			resp, err := repo.Client.Do(req)
			if err != nil {
				return usageError(registryError("remove", args[0], err))
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				var body struct {
					Errors []struct{ Code, Message string }
				}
				_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body)
				msg := resp.Status
				if len(body.Errors) > 0 {
					msg = body.Errors[0].Code + ": " + body.Errors[0].Message
				}
				return usageError(fmt.Errorf("remove %s: %s", args[0], msg))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Removed %s\n", args[0])
			return nil
		},
	}
	f.register(cmd, false)
	return cmd
}
