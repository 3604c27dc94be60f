package cli

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/osv"
)

func newDBCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the local OSV advisory database",
		Long: `The dependency scanner matches packages against a local copy of OSV
advisories, so that scans work offline. 'palisade db import' fills it from
an osv.dev export (an <Ecosystem>/all.zip, or a directory of OSV JSON files);
'palisade db status' shows what it holds and how old it is.

The database lives in --db DIR, else advisories.database from the project
file, else ` + config.DefaultAdvisoryDB() + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newDBImportCommand(), newDBStatusCommand())
	return cmd
}

// advisoryDBDir resolves the database directory: the flag, the project
// file's advisories.database, or the default.
func advisoryDBDir(flag string) (string, time.Duration, error) {
	p, err := readProject("")
	if err != nil && p == nil {
		return "", 0, err
	}
	r := repository(scanFlags{advisoryDB: flag}, p, nil)
	dir := r.AdvisoryDB
	if dir == "" {
		dir = config.DefaultAdvisoryDB()
	}
	return dir, r.AdvisoryMaxAge, nil
}

func newDBImportCommand() *cobra.Command {
	var dbFlag string
	cmd := &cobra.Command{
		Use:   "import FILE|DIR",
		Short: "Import OSV advisories (an osv.dev zip or a directory of JSON files)",
		Long: `Import OSV advisories into the local database: an osv.dev per-ecosystem
export (for example PyPI/all.zip from https://osv-vulnerabilities.storage.googleapis.com),
a single OSV JSON file, or a directory searched recursively for *.json and
*.zip files. PyPI, Go and npm advisories are kept; other ecosystems are
counted and skipped. Each ecosystem in the import replaces that ecosystem in
the database; the others are kept. The new database replaces the old one
atomically: a failed import leaves the old one as it was. Withdrawn
advisories are dropped.

Exit codes: 0 imported, 2 usage error, unreadable or invalid source.`,
		Example: `  palisade db import PyPI-all.zip
  palisade db import --db .palisade/osv ./advisories/`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &exitError{code: ExitError, err: errors.New("palisade db import needs exactly one FILE or DIR; run 'palisade db import --help'")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			usage := func(err error) error { return &exitError{code: ExitError, err: err} }
			dir, _, err := advisoryDBDir(dbFlag)
			if err != nil {
				return usage(err)
			}
			st, err := osv.Import(cmd.Context(), args[0], dir)
			if err != nil {
				return usage(err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "imported %s into %s in %s\n", printable(args[0]), printable(dir), st.Duration.Round(time.Millisecond))
			ecosystems := slices.Sorted(maps.Keys(st.Advisories))
			for _, eco := range ecosystems {
				fmt.Fprintf(out, "  %s: %d advisories, %d packages\n", eco, st.Advisories[eco], st.Packages[eco])
			}
			fmt.Fprintf(out, "  skipped: %d withdrawn, %d not valid OSV, %d duplicates, %d unusable ranges, %d git ranges\n",
				st.Withdrawn, st.Invalid, st.Duplicates, st.Unusable, st.GitRanges)
			for _, eco := range slices.Sorted(maps.Keys(st.Unsupported)) {
				fmt.Fprintf(out, "  skipped %d entries of %s (not supported yet)\n", st.Unsupported[eco], printable(eco))
			}
			if len(st.Carried) > 0 {
				fmt.Fprintf(out, "  kept from before: %v\n", st.Carried)
			}
			for _, e := range st.Errors {
				fmt.Fprintf(cmd.ErrOrStderr(), "palisade: warning: %s\n", printable(e))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dbFlag, "db", "", "database `DIR` (default advisories.database, or "+config.DefaultAdvisoryDB()+")")
	return cmd
}

func newDBStatusCommand() *cobra.Command {
	var (
		dbFlag string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what the local OSV database holds and how old it is",
		Long: `Show the local OSV database: each ecosystem's advisories and packages, the
newest advisory (the snapshot's date) and when it was imported. Warns when
the newest advisory is older than advisories.max_age_days (default 30).

Exit codes: 0 shown, 2 no database or an unreadable one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			usage := func(err error) error { return &exitError{code: ExitError, err: err} }
			dir, maxAge, err := advisoryDBDir(dbFlag)
			if err != nil {
				return usage(err)
			}
			db, err := osv.Open(dir)
			if err != nil {
				return usage(err)
			}
			st := db.Status()
			if maxAge <= 0 {
				maxAge = config.DefaultAdvisoryMaxAge
			}
			now := time.Now()
			stale := st.OlderThan(now, maxAge)
			if asJSON {
				type eco struct {
					Name       string    `json:"name"`
					Advisories int       `json:"advisories"`
					Packages   int       `json:"packages"`
					Withdrawn  int       `json:"withdrawn"`
					Newest     time.Time `json:"newest"`
					Imported   time.Time `json:"imported"`
					Source     string    `json:"source"`
				}
				out := struct {
					Dir        string    `json:"dir"`
					Format     int       `json:"format"`
					Newest     time.Time `json:"newest"`
					Imported   time.Time `json:"imported"`
					Stale      bool      `json:"stale"`
					Ecosystems []eco     `json:"ecosystems"`
				}{Dir: dir, Format: st.Format, Newest: st.Newest, Imported: st.Imported, Stale: stale, Ecosystems: []eco{}}
				for _, e := range st.Ecosystems {
					out.Ecosystems = append(out.Ecosystems, eco{e.Name, e.Advisories, e.Packages, e.Withdrawn, e.Newest, e.Imported, filepath.Base(e.Source)})
				}
				return writeJSON(cmd.OutOrStdout(), out)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "OSV database %s (format %d)\n", printable(dir), st.Format)
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ECOSYSTEM\tADVISORIES\tPACKAGES\tNEWEST ADVISORY\tIMPORTED\tSOURCE")
			for _, e := range st.Ecosystems {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", e.Name, e.Advisories, e.Packages,
					e.Newest.Format(time.DateOnly), e.Imported.Format(time.DateTime), printable(filepath.Base(e.Source)))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if stale {
				fmt.Fprintf(cmd.ErrOrStderr(), "palisade: warning: the newest advisory is from %s, more than %d days ago: run 'palisade db import' with a fresh export\n",
					st.Newest.Format(time.DateOnly), int(maxAge.Hours()/24))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dbFlag, "db", "", "database `DIR` (default advisories.database, or "+config.DefaultAdvisoryDB()+")")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}
