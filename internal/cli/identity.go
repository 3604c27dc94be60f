package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/access"
	"github.com/palisade-sec/palisade/internal/api"
	"github.com/palisade-sec/palisade/internal/client"
)

// Identity commands: who the token is (whoami), API tokens, users and
// service accounts, project members and quotas, and classification. They
// call the native API; the server decides every permission and its
// refusals carry the reason, which the commands print as they are.

func newWhoamiCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var (
		f      remoteFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show who the token authenticates as and what it may do in each project",
		Long: `Show the principal the API token authenticates as: its name, kind (user or
service account), whether it is a system administrator, its clearance (the
most sensitive classification it may read), the token's ID, and each project
it can see with its role and permissions there, after the token's scope. Any
valid token may ask.`,
		Example: `  palisade whoami --server 127.0.0.1:8700
  palisade whoami --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := f.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			who, err := r.api().Whoami(cmd.Context())
			if err != nil {
				return usageError(fmt.Errorf("ask %s who the token is: %w", r.target.Host, err))
			}
			if asJSON {
				return writeIndentedJSON(cmd.OutOrStdout(), who)
			}
			return printWhoami(cmd.OutOrStdout(), who)
		},
	}
	f.register(cmd, true)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printWhoami(w io.Writer, who api.Whoami) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Name:\t%s\n", who.Name)
	fmt.Fprintf(tw, "Kind:\t%s\n", who.Kind)
	fmt.Fprintf(tw, "Admin:\t%s\n", yesNo(who.Admin))
	fmt.Fprintf(tw, "Clearance:\t%s\n", who.Clearance)
	fmt.Fprintf(tw, "Token:\t%s\n", orDash(who.TokenID))
	fmt.Fprintf(tw, "Via:\t%s\n", orDash(who.Via))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "Projects:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if who.Admin {
		fmt.Fprintln(tw, "  *\tadmin\tevery permission in every project (system administrator)")
	}
	if len(who.AllProjects) > 0 {
		fmt.Fprintf(tw, "  *\t%s\t%s\n", orDash(who.Roles["*"]), strings.Join(who.AllProjects, ","))
	}
	names := make([]string, 0, len(who.Projects))
	for p := range who.Projects {
		names = append(names, p)
	}
	slices.Sort(names)
	for _, p := range names {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", p, orDash(who.Roles[p]), strings.Join(who.Projects[p], ","))
	}
	if !who.Admin && len(who.AllProjects) == 0 && len(names) == 0 {
		fmt.Fprintln(tw, "  (none: ask a project's owner for a role)")
	}
	return tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// dateOf formats an optional time for tables; "-" when absent.
func dateOf(t *time.Time, layout string) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.Local().Format(layout)
}

const (
	dayLayout    = "2006-01-02"
	minuteLayout = "2006-01-02 15:04"
)

// scopeOf describes a token's scope: "full" for all of its owner's
// access, else "admin" and PROJECT:ROLE entries.
func scopeOf(t api.Token) string {
	var parts []string
	if t.Admin {
		parts = append(parts, "admin")
	}
	for _, g := range t.Scope {
		parts = append(parts, g.Project+":"+g.Role)
	}
	if len(parts) == 0 {
		return "full"
	}
	return strings.Join(parts, ",")
}

func newTokenCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke API tokens",
		Long: `API tokens authenticate the command line, registry clients and pipelines.
Every principal manages its own tokens; an administrator also creates tokens
for others (service accounts for CI) and lists and revokes anyone's.`,
	}
	cmd.AddCommand(newTokenCreateCommand(lookupEnv), newTokenListCommand(lookupEnv), newTokenRevokeCommand(lookupEnv))
	return cmd
}

func newTokenCreateCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var (
		f               remoteFlags
		projects, roles []string
		allRole, owner  string
		admin           bool
		expiresDays     int
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an API token; prints only its secret",
		Long: `Create an API token named NAME (after what will use it) and print its secret
alone on standard output, so that a script can capture it:

  TOKEN=$(palisade token create ci --project ml --role developer)

Its ID, owner, scope and expiry go to standard error. The server shows the
secret this once: store it now.

Without scope flags the token carries all of its owner's access. --project P
--role R (repeatable, paired in the order given) limits it to role R in
project P, --all-projects-role R to role R in every project; a scope never
adds to what the owner holds. A scoped token loses its owner's system
administration unless --admin keeps it. Tokens expire after --expires-days
(1 to 366; the server's default is 90).

Any unscoped token may create tokens for its own principal; a scoped token
may not create tokens at all. --owner creates a token for another user or
service account and needs an administrator.`,
		Example: `  palisade token create laptop
  TOKEN=$(palisade token create ci --owner ci-bot --project ml --role developer --expires-days 30)
  palisade token create audit --all-projects-role auditor`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(projects) != len(roles) {
				return usageError(fmt.Errorf("give --project and --role in pairs: %d --project but %d --role", len(projects), len(roles)))
			}
			req := api.CreateTokenRequest{Name: args[0], Owner: owner, Admin: admin}
			if cmd.Flags().Changed("expires-days") {
				req.ExpiresInDays = &expiresDays
			}
			for i, p := range projects {
				req.Scope = append(req.Scope, api.Grant{Project: p, Role: roles[i]})
			}
			if allRole != "" {
				req.Scope = append(req.Scope, api.Grant{Project: "*", Role: allRole})
			}
			r, err := f.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			t, err := r.api().CreateToken(cmd.Context(), req)
			if err != nil {
				return usageError(fmt.Errorf("create token %s: %w", args[0], err))
			}
			fmt.Fprintln(cmd.OutOrStdout(), t.Secret)
			errOut := cmd.ErrOrStderr()
			fmt.Fprintf(errOut, "Created token %s (%s) for %s\n", t.ID, t.Name, t.Owner)
			fmt.Fprintf(errOut, "  scope:   %s\n", scopeOf(t.Token))
			fmt.Fprintf(errOut, "  expires: %s\n", dateOf(t.Expires, minuteLayout))
			fmt.Fprintln(errOut, "The secret (on standard output) is not shown again.")
			return nil
		},
	}
	f.register(cmd, true)
	fl := cmd.Flags()
	fl.StringArrayVar(&projects, "project", nil, "limit the token to a role in this `PROJECT` (repeatable, paired with --role)")
	fl.StringArrayVar(&roles, "role", nil, "the `ROLE` in the --project at the same position: owner, maintainer, developer, reader, auditor or deployer")
	fl.StringVar(&allRole, "all-projects-role", "", "limit the token to this `ROLE` in every project")
	fl.BoolVar(&admin, "admin", false, "keep the owner's system administration in a scoped token")
	fl.IntVar(&expiresDays, "expires-days", 0, "lifetime in days, 1 to 366 (default: the server's, 90)")
	fl.StringVar(&owner, "owner", "", "create the token for this `USER` or service account (needs an administrator)")
	return cmd
}

func newTokenListCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var (
		f           remoteFlags
		all, asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List API tokens (never their secrets)",
		Long: `List your API tokens with their scope, expiry, last use and revocation (a
scoped token lists only itself); --all lists every principal's tokens and
needs an administrator. Secrets are never shown: the server keeps only their
hashes.`,
		Example: `  palisade token ls
  palisade token ls --all --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := f.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			ts, err := r.api().Tokens(cmd.Context(), all)
			if err != nil {
				return usageError(fmt.Errorf("list tokens: %w", err))
			}
			if asJSON {
				if ts == nil {
					ts = []api.Token{}
				}
				return writeIndentedJSON(cmd.OutOrStdout(), ts)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tOWNER\tSCOPE\tEXPIRES\tLAST USED\tREVOKED")
			for _, t := range ts {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, printable(t.Name), t.Owner, scopeOf(t),
					dateOf(t.Expires, dayLayout), dateOf(t.LastUsed, minuteLayout), dateOf(t.Revoked, minuteLayout))
			}
			return tw.Flush()
		},
	}
	f.register(cmd, true)
	cmd.Flags().BoolVar(&all, "all", false, "every principal's tokens (needs an administrator)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newTokenRevokeCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var f remoteFlags
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API token",
		Long: `Revoke an API token by its ID (palisade token ls shows IDs): the server
refuses it from the next request on. You may revoke your own tokens; an
administrator may revoke anyone's.`,
		Example: `  palisade token revoke 4f1c2a9e`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			if err := r.api().RevokeToken(cmd.Context(), args[0]); err != nil {
				return usageError(fmt.Errorf("revoke token %s: %w", args[0], err))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Revoked token %s\n", args[0])
			return nil
		},
	}
	f.register(cmd, true)
	return cmd
}

func newUserCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage users and service accounts (administrator)",
		Long: `Users are people; service accounts (--service) are robot accounts for
pipelines, which authenticate with tokens an administrator creates for them
(palisade token create --owner) or with a client certificate. Each has a
clearance: the most sensitive classification (public, internal, confidential,
restricted) it may read. Every user command needs an administrator.`,
	}
	cmd.AddCommand(newUserCreateCommand(lookupEnv), newUserListCommand(lookupEnv), newUserShowCommand(lookupEnv),
		newUserSetCommand(lookupEnv))
	return cmd
}

func newUserCreateCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var (
		f                         remoteFlags
		service, admin            bool
		clearance, email, subject string
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a user or service account",
		Long: `Create a user, or with --service a service account. The clearance defaults to
internal. --cert-subject (service accounts only) lets it authenticate with a
client certificate of that subject. Needs an administrator.`,
		Example: `  palisade user create alice --clearance confidential --email alice@example.com
  palisade user create ci-bot --service`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := api.CreateUserRequest{Name: args[0], Kind: "user", Clearance: clearance, Admin: admin, Email: email, CertSubject: subject}
			if service {
				req.Kind = "service"
			}
			r, err := f.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			u, err := r.api().CreateUser(cmd.Context(), req)
			if err != nil {
				return usageError(fmt.Errorf("create user %s: %w", args[0], err))
			}
			what, admin := "user", ""
			if u.Kind == "service" {
				what = "service account"
			}
			if u.Admin {
				admin = ", administrator"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Created %s %s (clearance %s%s)\n", what, u.Name, u.Clearance, admin)
			return nil
		},
	}
	f.register(cmd, true)
	fl := cmd.Flags()
	fl.BoolVar(&service, "service", false, "create a service account (a robot account for pipelines)")
	fl.StringVar(&clearance, "clearance", "", "public, internal (the default), confidential or restricted")
	fl.BoolVar(&admin, "admin", false, "make it a system administrator")
	fl.StringVar(&email, "email", "", "e-mail address")
	fl.StringVar(&subject, "cert-subject", "", "client certificate subject it authenticates with (service accounts)")
	return cmd
}

func newUserListCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var (
		f      remoteFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:     "ls",
		Short:   "List users and service accounts",
		Long:    `List every user and service account with its kind, clearance and state. Needs an administrator.`,
		Example: `  palisade user ls --json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := f.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			us, err := r.api().Users(cmd.Context())
			if err != nil {
				return usageError(fmt.Errorf("list users: %w", err))
			}
			if asJSON {
				if us == nil {
					us = []api.User{}
				}
				return writeIndentedJSON(cmd.OutOrStdout(), us)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tKIND\tADMIN\tCLEARANCE\tEMAIL\tDISABLED\tCREATED")
			for _, u := range us {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.Kind, yesNo(u.Admin), u.Clearance,
					orDash(printable(u.Email)), dateOf(u.Disabled, dayLayout), u.Created.Local().Format(dayLayout))
			}
			return tw.Flush()
		},
	}
	f.register(cmd, true)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newUserShowCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var (
		f      remoteFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a user or service account with its project roles",
		Long: `Show a user or service account, the role it holds in each project, and
the pseudonym the audit log names it by ('palisade audit search --actor', or
--user NAME directly). Needs an administrator.`,
		Example: `  palisade user show alice`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			u, err := r.api().User(cmd.Context(), args[0])
			if err != nil {
				return usageError(fmt.Errorf("show user %s: %w", args[0], err))
			}
			if asJSON {
				return writeIndentedJSON(cmd.OutOrStdout(), u)
			}
			return printUser(cmd.OutOrStdout(), u, true)
		},
	}
	f.register(cmd, true)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// printUser prints a user, with its project roles when withRoles is set.
func printUser(w io.Writer, u api.User, withRoles bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Name:\t%s\n", u.Name)
	fmt.Fprintf(tw, "ID:\t%s\n", u.ID)
	fmt.Fprintf(tw, "Kind:\t%s\n", u.Kind)
	fmt.Fprintf(tw, "Admin:\t%s\n", yesNo(u.Admin))
	fmt.Fprintf(tw, "Clearance:\t%s\n", u.Clearance)
	fmt.Fprintf(tw, "Email:\t%s\n", orDash(printable(u.Email)))
	fmt.Fprintf(tw, "SSO:\t%s\n", yesNo(u.OIDC))
	fmt.Fprintf(tw, "Certificate subject:\t%s\n", orDash(printable(u.CertSubject)))
	fmt.Fprintf(tw, "Created:\t%s\n", u.Created.Local().Format(minuteLayout))
	fmt.Fprintf(tw, "Disabled:\t%s\n", dateOf(u.Disabled, minuteLayout))
	if withRoles {
		fmt.Fprintf(tw, "Audit pseudonym:\t%s\n", orDash(u.AuditPseudonym))
	}
	if err := tw.Flush(); err != nil || !withRoles {
		return err
	}
	fmt.Fprintln(w, "Roles:")
	projects := make([]string, 0, len(u.Roles))
	for p := range u.Roles {
		projects = append(projects, p)
	}
	slices.Sort(projects)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, p := range projects {
		fmt.Fprintf(tw, "  %s\t%s\n", p, u.Roles[p])
	}
	if len(projects) == 0 {
		fmt.Fprintln(tw, "  (none)")
	}
	return tw.Flush()
}

func newUserSetCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var (
		f                         remoteFlags
		admin, disable, enable    bool
		clearance, email, subject string
	)
	cmd := &cobra.Command{
		Use:   "set NAME",
		Short: "Change a user's clearance, administration, state, e-mail or certificate subject",
		Long: `Change the fields given by flags; the others stay. --disable refuses the
user's tokens and certificates until --enable. Needs an administrator, who
can neither disable nor demote themselves.`,
		Example: `  palisade user set alice --clearance confidential
  palisade user set bob --disable
  palisade user set carol --admin=false`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var patch api.UserPatch
			fl := cmd.Flags()
			if fl.Changed("clearance") {
				patch.Clearance = &clearance
			}
			if fl.Changed("admin") {
				patch.Admin = &admin
			}
			switch {
			case disable && enable:
				return usageError(errors.New("give --disable or --enable, not both"))
			case disable:
				patch.Disabled = &disable
			case enable:
				v := false
				patch.Disabled = &v
			}
			if fl.Changed("email") {
				patch.Email = &email
			}
			if fl.Changed("cert-subject") {
				patch.CertSubject = &subject
			}
			if patch == (api.UserPatch{}) {
				return usageError(errors.New("nothing to change: give --clearance, --admin, --disable, --enable, --email or --cert-subject"))
			}
			r, err := f.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			u, err := r.api().PatchUser(cmd.Context(), args[0], patch)
			if err != nil {
				return usageError(fmt.Errorf("change user %s: %w", args[0], err))
			}
			// The answer has no roles: they did not change.
			return printUser(cmd.OutOrStdout(), u, false)
		},
	}
	f.register(cmd, true)
	fl := cmd.Flags()
	fl.StringVar(&clearance, "clearance", "", "public, internal, confidential or restricted")
	fl.BoolVar(&admin, "admin", false, "grant (--admin) or remove (--admin=false) system administration")
	fl.BoolVar(&disable, "disable", false, "refuse the user's credentials")
	fl.BoolVar(&enable, "enable", false, "accept the user's credentials again")
	fl.StringVar(&email, "email", "", "e-mail address (empty to remove)")
	fl.StringVar(&subject, "cert-subject", "", "client certificate subject (service accounts; empty to remove)")
	return cmd
}

// Project subcommands; newProjectCommand registers them.

func newProjectMembersCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var (
		f      remoteFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "members PROJECT",
		Short: "List a project's members and their roles",
		Long: `List the members of a project with their roles. Needs the read-members
permission there: owner, maintainer or auditor (or an administrator).`,
		Example: `  palisade project members ml
  palisade project members ml --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			ms, err := r.api().Members(cmd.Context(), args[0])
			if err != nil {
				return usageError(fmt.Errorf("list the members of %s: %w", args[0], err))
			}
			if asJSON {
				if ms == nil {
					ms = []api.Member{}
				}
				return writeIndentedJSON(cmd.OutOrStdout(), ms)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLE\tSOURCE\tADDED")
			for _, m := range ms {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Name, m.Role, orDash(m.Source), m.Created.Local().Format(dayLayout))
			}
			return tw.Flush()
		},
	}
	f.register(cmd, true)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newProjectAddMemberCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var f remoteFlags
	cmd := &cobra.Command{
		Use:   "add-member PROJECT USER ROLE",
		Short: "Give a user or service account a role in a project",
		Long: `Give USER the role ROLE in PROJECT, replacing any role it had there. Roles:
owner (everything, including members), maintainer (push, delete, lower
classifications), developer (pull, push, raise classifications), reader
(pull), auditor (metadata, members, usage, audit log; no bytes) and deployer
(pull what is promoted to production). Needs the project's owner (or an
administrator).`,
		Example: `  palisade project add-member ml ci-bot developer`,
		Args:    cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			m, err := r.api().SetMember(cmd.Context(), args[0], args[1], args[2])
			if err != nil {
				return usageError(fmt.Errorf("make %s %s of %s: %w", args[1], args[2], args[0], err))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s is now %s of project %s\n", m.Name, m.Role, args[0])
			return nil
		},
	}
	f.register(cmd, true)
	return cmd
}

func newProjectRemoveMemberCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var f remoteFlags
	cmd := &cobra.Command{
		Use:   "remove-member PROJECT USER",
		Short: "Remove a user's role in a project",
		Long: `Remove USER's role in PROJECT; its tokens no longer reach the project. Needs
the project's owner (or an administrator).`,
		Example: `  palisade project remove-member ml ci-bot`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			if err := r.api().RemoveMember(cmd.Context(), args[0], args[1]); err != nil {
				return usageError(fmt.Errorf("remove %s from %s: %w", args[1], args[0], err))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Removed %s from project %s\n", args[1], args[0])
			return nil
		},
	}
	f.register(cmd, true)
	return cmd
}

// parseQuota reads a quota size: 0 (unlimited) or what parseSize reads.
func parseQuota(s string) (int64, error) {
	if strings.TrimSpace(s) == "0" {
		return 0, nil
	}
	n, err := parseSize(s)
	if err != nil {
		return 0, fmt.Errorf("%w (or 0 for unlimited)", err)
	}
	return n, nil
}

func newProjectSetQuotaCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var (
		f         remoteFlags
		size      string
		artifacts int64
	)
	cmd := &cobra.Command{
		Use:   "set-quota PROJECT [--bytes SIZE] [--artifacts N]",
		Short: "Limit a project's storage and number of artifacts",
		Long: `Set a project's storage quota (--bytes: plain bytes or a number with KB, MB,
GB, TB, KiB, MiB, GiB or TiB) and artifact quota (--artifacts: manifests),
0 meaning unlimited. A quota not given keeps its current value. Pushes that
would exceed a quota are refused; what the project holds already stays.
Needs an administrator.`,
		Example: `  palisade project set-quota ml --bytes 10GiB --artifacts 1000
  palisade project set-quota ml --bytes 0`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fl := cmd.Flags()
			if !fl.Changed("bytes") && !fl.Changed("artifacts") {
				return usageError(errors.New("nothing to set: give --bytes SIZE, --artifacts N or both (0 is unlimited)"))
			}
			var bytes int64
			if fl.Changed("bytes") {
				var err error
				if bytes, err = parseQuota(size); err != nil {
					return usageError(fmt.Errorf("--bytes: %w", err))
				}
			}
			if artifacts < 0 {
				return usageError(errors.New("--artifacts must be 0 (unlimited) or positive"))
			}
			r, err := f.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			var q api.QuotaRequest // a quota not given keeps its value
			if fl.Changed("bytes") {
				q.Bytes = &bytes
			}
			if fl.Changed("artifacts") {
				q.Artifacts = &artifacts
			}
			u, err := r.api().SetQuota(cmd.Context(), args[0], q)
			if err != nil {
				return usageError(fmt.Errorf("set the quota of %s: %w", args[0], err))
			}
			return printUsage(cmd.OutOrStdout(), args[0], u)
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVar(&size, "bytes", "", "storage quota, e.g. 10GiB, 500MB or bytes; 0 is unlimited")
	cmd.Flags().Int64Var(&artifacts, "artifacts", 0, "artifact (manifest) quota; 0 is unlimited")
	return cmd
}

func newProjectUsageCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var (
		f      remoteFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "usage PROJECT",
		Short: "Show what a project stores against its quotas",
		Long: `Show a project's storage (plaintext bytes of its blobs) and number of
artifacts against its quotas. Needs the read-usage permission there: owner,
maintainer, developer or auditor (or an administrator).`,
		Example: `  palisade project usage ml
  palisade project usage ml --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			u, err := r.api().Usage(cmd.Context(), args[0])
			if err != nil {
				return usageError(fmt.Errorf("read the usage of %s: %w", args[0], err))
			}
			if asJSON {
				return writeIndentedJSON(cmd.OutOrStdout(), u)
			}
			return printUsage(cmd.OutOrStdout(), args[0], u)
		},
	}
	f.register(cmd, true)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printUsage(w io.Writer, project string, u api.Usage) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Project:\t%s\n", project)
	fmt.Fprintf(tw, "Storage:\t%s of %s\n", formatBytes(u.Usage.BlobBytes), quotaOf(u.Quota.Bytes, formatBytes))
	fmt.Fprintf(tw, "Artifacts:\t%d of %s\n", u.Usage.Manifests, quotaOf(u.Quota.Artifacts, func(n int64) string { return strconv.FormatInt(n, 10) }))
	fmt.Fprintf(tw, "Repositories:\t%d\n", u.Usage.Repositories)
	fmt.Fprintf(tw, "Blobs:\t%d\n", u.Usage.Blobs)
	return tw.Flush()
}

func quotaOf(n int64, format func(int64) string) string {
	if n <= 0 {
		return "unlimited"
	}
	return format(n)
}

// formatBytes writes a byte count with a binary unit: 512 bytes, 1.5 MiB.
func formatBytes(n int64) string {
	if n < 1<<10 {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, i := float64(n)/(1<<10), 0
	for v >= 1<<10 && i < len(units)-1 {
		v /= 1 << 10
		i++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[i]
}

func newClassifyCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var (
		f      remoteFlags
		reason string
		tags   []string
	)
	cmd := &cobra.Command{
		Use:   "classify REF LEVEL",
		Short: "Set an artifact's classification (public, internal, confidential, restricted)",
		Long: `Set the classification of the artifact REF names to LEVEL: public, internal,
confidential or restricted. Only principals whose clearance covers a
classification read the artifact's bytes and detail. REF is
PROJECT/NAME:TAG or PROJECT/NAME@DIGEST on --server (or $PALISADE_SERVER), or
HOST:PORT/PROJECT/NAME[:TAG|@DIGEST]; a tag is resolved to its digest, and the
classification belongs to that manifest.

Raising a classification needs the edit-metadata permission (developer and
up); lowering one needs lower-classification (maintainer or owner) and a
--reason, kept in the artifact's classification history (palisade inspect
--json shows it). Your clearance must cover the current classification.
--tags replaces the artifact's data tags (such as pii or phi); --tags ""
removes them.`,
		Example: `  palisade classify ml/detector:v3 confidential --tags pii
  palisade classify ml/detector:v3 internal --reason "retrained without the customer data"
  palisade classify 127.0.0.1:8700/ml/detector@sha256:... restricted`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			level := args[1]
			if _, err := access.ParseLevel(level); err != nil {
				return usageError(err)
			}
			full, err := fullReference(args[0], f, lookupEnv)
			if err != nil {
				return usageError(err)
			}
			ref, r, err := apiRef(f, full, "classify", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			patch := api.MetadataPatch{Classification: &level, Reason: reason}
			if cmd.Flags().Changed("tags") {
				t := []string{}
				for _, s := range tags {
					if s = strings.TrimSpace(s); s != "" {
						t = append(t, s)
					}
				}
				patch.DataTags = &t
			}
			a, err := r.api().PatchArtifact(cmd.Context(), ref.Project(), ref.Name(), ref.Reference.Reference, patch)
			if err != nil {
				return usageError(fmt.Errorf("classify %s as %s: %w", args[0], level, err))
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s@%s is now %s\n", ref.Repository, a.Digest, a.Classification)
			if patch.DataTags != nil {
				fmt.Fprintf(out, "Data tags: %s\n", orDash(strings.Join(a.DataTags, ",")))
			}
			return nil
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVar(&reason, "reason", "", "why the classification changes (needed to lower one; kept in its history)")
	cmd.Flags().StringSliceVar(&tags, "tags", nil, "replace the artifact's data tags, comma-separated (e.g. pii,phi)")
	return cmd
}

// fullReference turns PROJECT/NAME[:TAG|@DIGEST] into a reference on the
// server of --server or $PALISADE_SERVER. A reference whose first component
// is a HOST:PORT, localhost or that server's host (or a dotted name when
// no server is given) is already full.
func fullReference(s string, f remoteFlags, lookupEnv func(string) (string, bool)) (string, error) {
	first, _, ok := strings.Cut(s, "/")
	if !ok {
		return "", fmt.Errorf("reference %q: want PROJECT/NAME:TAG or PROJECT/NAME@DIGEST", s)
	}
	if strings.Contains(first, ":") || first == "localhost" {
		return s, nil
	}
	server := f.server
	if server == "" {
		server, _ = lookupEnv(EnvServer)
	}
	if server == "" && strings.Contains(first, ".") {
		return s, nil // HOST/PROJECT/NAME, and no server to put it on
	}
	t, err := client.ResolveServer(server, f.plainHTTP)
	if err != nil {
		return "", err
	}
	if first == t.Host || first == t.Base.Hostname() {
		return s, nil
	}
	return t.Host + "/" + s, nil
}
