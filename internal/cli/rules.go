package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/scan"
)

func newRulesCommand(svc Services) *cobra.Command {
	var (
		asJSON     bool
		policyDirs []string
	)
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List every rule 'palisade scan' can report",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			engine, _, err := svc.ScanEngine(cmd.Context(), scan.Options{}, config.Repository{PolicyDirs: policyDirs})
			if err != nil {
				return &exitError{code: ExitError, err: err}
			}
			rules := engine.Rules()
			out := cmd.OutOrStdout()
			if asJSON {
				type jsonRule struct {
					ID          string `json:"id"`
					Name        string `json:"name"`
					Severity    string `json:"severity"`
					Summary     string `json:"summary"`
					Remediation string `json:"remediation"`
				}
				list := make([]jsonRule, 0, len(rules))
				for _, r := range rules {
					list = append(list, jsonRule{r.ID, r.Name, r.Severity.String(), r.Summary, r.Remediation})
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "RULE\tNAME\tSEVERITY\tSUMMARY")
			for _, r := range rules {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Name, r.Severity, r.Summary)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	cmd.Flags().StringArrayVar(&policyDirs, "policy", nil, "also list the rules of the Rego policies in `DIR` (repeatable)")
	return cmd
}
