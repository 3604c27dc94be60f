package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

func newAdminCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Administer a Palisade server: key rotation and crypto-shredding",
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
	)
	rotate := &cobra.Command{
		Use:   "rotate-keys",
		Short: "Give projects new key versions and rewrap every data key under them",
		Long: `Create a new key version for each project (or the one given with --project),
rewrap every blob's data key under it, wait about ten seconds for commits in
flight, rewrap again, then destroy the old versions. Blob data is not
re-encrypted; pushes and pulls go on meanwhile.`,
		Example: `  palisade admin rotate-keys --server 127.0.0.1:8700
  palisade admin rotate-keys --project vision`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := rf.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
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
	cmd.AddCommand(rotate, shred)
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
