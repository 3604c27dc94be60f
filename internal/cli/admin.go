package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/api"
)

func newAdminCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Administer a Palisade server: keys, crypto-shredding, storage checks, garbage collection",
		Long: `Administrative operations on a running server; they need an admin token.

Every project has its own key-encryption key, wrapped by the server's master
key; every blob has its own data key, wrapped by its project's key.
'rotate-keys' gives projects new keys and rewraps every data key without
re-encrypting data; 'shred' destroys a project's keys and records so that its
data can never be decrypted again.`,
	}
	var (
		rf      remoteFlags
		project string
		master  bool
	)
	rotate := &cobra.Command{
		Use:   "rotate-keys",
		Short: "Give projects new key versions and rewrap every data key under them",
		Long: `Create a new key version for each project (or the one given with --project),
rewrap every blob's data key under it, wait about ten seconds for commits in
flight, rewrap again, then destroy the old versions. Blob data is not
re-encrypted; pushes and pulls go on meanwhile.

To replace the master key-encryption key itself: restart the server with the
new key as --kek and the old one as --kek-previous, run 'palisade admin
rotate-keys --master' (every project key is rewrapped under the new master
key), then restart without --kek-previous and destroy the old key.`,
		Example: `  palisade admin rotate-keys --server 127.0.0.1:8700
  palisade admin rotate-keys --project vision`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := rf.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			if master {
				if project != "" {
					return usageError(errors.New("--master rewraps every project's key: leave out --project"))
				}
				rep, err := r.api().RewrapMaster(cmd.Context())
				if err != nil {
					return usageError(fmt.Errorf("rewrap under the master key: %w", err))
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d project key versions rewrapped under the current master key (%d already were) in %d projects; the previous key-encryption key can now be removed and destroyed\n",
					rep.Rewrapped, rep.Current, rep.Projects)
				return nil
			}
			reps, err := r.api().RotateKeys(cmd.Context(), project)
			if err != nil {
				return usageError(fmt.Errorf("rotate keys: %w", err))
			}
			for _, rep := range reps {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: key v%d; %d data keys rewrapped; destroyed %v\n",
					rep.Project, rep.NewVersion, rep.Rewrapped, versions(rep.Destroyed))
			}
			return nil
		},
	}
	rf.register(rotate, true)
	rotate.Flags().StringVar(&project, "project", "", "rotate only this project's key")
	rotate.Flags().BoolVar(&master, "master", false, "instead, rewrap every project key under the server's current master key (after --kek-previous)")

	var (
		sf      remoteFlags
		confirm string
	)
	shred := &cobra.Command{
		Use:   "shred PROJECT --confirm PROJECT",
		Short: "Destroy a project's keys and records: its data can never be decrypted again",
		Long: `Crypto-shred a project: destroy every version of its key-encryption key, remove
the project with its repositories, manifests, tags and blob records, then
remove its ciphertext from blob storage. Copies of that ciphertext elsewhere
(backups, replicas of the bucket) can no longer be decrypted. Cannot be undone:
--confirm must repeat the project name. Prints what was destroyed.`,
		Example: `  palisade admin shred old-experiments --confirm old-experiments`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if confirm != args[0] {
				return usageError(errors.New("shredding cannot be undone: repeat the project name with --confirm " + args[0]))
			}
			r, err := sf.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			rep, err := r.api().Shred(cmd.Context(), args[0])
			if err != nil {
				return usageError(fmt.Errorf("shred %s: %w", args[0], err))
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Shredded project %s\n", rep.Project)
			fmt.Fprintf(out, "  key versions destroyed: %v\n", versions(rep.KeyVersions))
			fmt.Fprintf(out, "  now undecryptable: %d blobs (%d bytes) in %d manifests of %d repositories\n",
				rep.Blobs, rep.BlobBytes, rep.Manifests, rep.Repositories)
			fmt.Fprintf(out, "  ciphertext removed from storage: %d objects (%d bytes)\n", rep.ObjectsRemoved, rep.BytesRemoved)
			if rep.Warning != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s\n", rep.Warning)
			}
			return nil
		},
	}
	sf.register(shred, true)
	shred.Flags().StringVar(&confirm, "confirm", "", "the project name again, to confirm")
	var (
		ff     remoteFlags
		asJSON bool
	)
	fsck := &cobra.Command{
		Use:   "fsck",
		Short: "Check storage: re-hash every blob, check every manifest's references and the audit index",
		Long: `Read every blob of every project to its end, decrypting it and checking its
digest, check that every manifest's blobs and manifests exist, list data in
storage that no record names, and compare each audit entry's search columns
with its bytes. Problems are reported by kind: missing (a
record without data), corrupt (data that does not decrypt), tampered (data
that decrypts but is another blob's), unreadable (its key was destroyed),
orphaned (data without a record), dangling (a manifest naming what is not
stored), audit_index (an audit entry whose search columns were changed in the
database: searches miss it, though its bytes still verify).

Exit codes: 0 no problem, 1 problems found, 2 the check could not run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := ff.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			rep, err := r.api().Fsck(cmd.Context())
			if err != nil {
				return usageError(fmt.Errorf("fsck: %w", err))
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if err := writeIndentedJSON(out, rep); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(out, "Checked %d blobs (%d bytes) and %d manifests in %d projects, %d objects in storage, %d audit entries\n",
					rep.Blobs, rep.BlobBytes, rep.Manifests, rep.Projects, rep.Objects, rep.AuditEntries)
				for _, p := range rep.Problems {
					where := p.Project
					if p.Repository != "" {
						where += "/" + p.Repository
					}
					what := p.Digest
					if p.AuditEntry != nil {
						what = fmt.Sprintf("audit entry %d", *p.AuditEntry)
					}
					if where != "" {
						what = where + " " + what
					}
					if what == "" {
						fmt.Fprintf(out, "%-11s %s\n", p.Kind, p.Detail)
						continue
					}
					fmt.Fprintf(out, "%-11s %s: %s\n", p.Kind, what, p.Detail)
				}
				if len(rep.Problems) == 0 {
					fmt.Fprintln(out, "No problems found.")
				}
			}
			if len(rep.Problems) > 0 {
				return &exitError{code: ExitFindings}
			}
			return nil
		},
	}
	ff.register(fsck, true)
	fsck.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")

	var (
		gf     remoteFlags
		minAge time.Duration
		dryRun bool
	)
	gc := &cobra.Command{
		Use:   "gc",
		Short: "Delete blobs no manifest references, and orphaned data",
		Long: `Delete the blobs that no manifest of their project references and that are
older than --min-age, and data in storage that no record names. Safe while
pushes continue: a blob is deleted only when, in the same transaction, no
manifest references it, and --min-age leaves time for a client to push the
manifest of blobs it just uploaded.`,
		Example: `  palisade admin gc --dry-run
  palisade admin gc --min-age 24h`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if minAge < 0 {
				return usageError(errors.New("--min-age must be positive"))
			}
			r, err := gf.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			req := api.GCRequest{DryRun: dryRun}
			if minAge > 0 {
				req.MinAge = minAge.String()
			}
			rep, err := r.api().GC(cmd.Context(), req)
			if err != nil {
				return usageError(fmt.Errorf("gc: %w", err))
			}
			verb := "Deleted"
			if rep.DryRun {
				verb = "Would delete"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %d unreferenced blobs (%d bytes) and %d orphaned objects\n",
				verb, rep.BlobsDeleted, rep.BytesFreed, rep.OrphansDeleted)
			if rep.ManifestsIndexed > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "Recorded the references of %d manifests stored by an older version\n", rep.ManifestsIndexed)
			}
			return nil
		},
	}
	gf.register(gc, true)
	gc.Flags().DurationVar(&minAge, "min-age", 0, "delete only blobs and data older than this (default 1h)")
	gc.Flags().BoolVar(&dryRun, "dry-run", false, "count what would be deleted without deleting")
	// The same command as 'palisade audit erase-subject', where
	// administrators of the server look for it too.
	erase := newAuditEraseCommand(lookupEnv)
	erase.Example = "  palisade admin erase-subject alice"
	cmd.AddCommand(rotate, shred, fsck, gc, erase)
	return cmd
}

// versions formats key versions as "v1, v2", or "none".
func versions(vs []int) string {
	if len(vs) == 0 {
		return "none"
	}
	s := ""
	for i, v := range vs {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("v%d", v)
	}
	return s
}
