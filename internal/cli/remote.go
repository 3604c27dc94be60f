package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	orasremote "oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/palisade-sec/palisade/internal/api"
	"github.com/palisade-sec/palisade/internal/client"
	"github.com/palisade-sec/palisade/internal/registry"
)

// EnvServer names the environment variable with the default server.
const EnvServer = "PALISADE_SERVER"

// remoteFlags are the flags every command that talks to a server has.
type remoteFlags struct {
	server    string
	plainHTTP bool
}

func (f *remoteFlags) register(cmd *cobra.Command, withServer bool) {
	if withServer {
		cmd.Flags().StringVar(&f.server, "server", "", "server as HOST:PORT or URL (default $"+EnvServer+")")
	}
	cmd.Flags().BoolVar(&f.plainHTTP, "plain-http", false, "allow plain HTTP to a server that is not on a loopback address (sends the token in clear)")
}

// remote is a resolved server with the token to use.
type remote struct {
	target client.Target
	token  string
}

// resolve finds the server (from host, --server or PALISADE_SERVER) and
// its token.
func (f *remoteFlags) resolve(host string, lookupEnv func(string) (string, bool)) (remote, error) {
	server := host
	if server == "" {
		server = f.server
	}
	if server == "" {
		server, _ = lookupEnv(EnvServer)
	}
	t, err := client.ResolveServer(server, f.plainHTTP)
	if err != nil {
		return remote{}, err
	}
	path, err := client.DefaultCredentialsPath()
	if err != nil {
		return remote{}, err
	}
	token, err := client.Token(t.Host, path, lookupEnv)
	if err != nil {
		return remote{}, err
	}
	return remote{target: t, token: token}, nil
}

func (r remote) api() *client.Client { return client.New(r.target, r.token) }

// openRef parses a reference HOST:PORT/PROJECT/NAME[:TAG|@DIGEST], finds
// its server and token, and opens its repository. With verb set, the
// reference must name a tag or digest ("name a tag or a digest to VERB").
func (f *remoteFlags) openRef(s, verb string, lookupEnv func(string) (string, bool)) (client.Reference, remote, *orasremote.Repository, error) {
	ref, err := client.ParseReference(s)
	if err != nil {
		return ref, remote{}, nil, err
	}
	if verb != "" && ref.Reference.Reference == "" {
		return ref, remote{}, nil, fmt.Errorf("name a tag or a digest to %s: HOST:PORT/PROJECT/NAME:TAG", verb)
	}
	r, err := f.resolve(ref.Registry, lookupEnv)
	if err != nil {
		return ref, r, nil, err
	}
	repo, err := client.Repository(ref, r.target, r.token)
	if err != nil {
		return ref, r, nil, err
	}
	return ref, r, repo, nil
}

// registryError wraps an error of a registry operation on ref, adding what
// to do when the server refused the token: oras-go reports only the status
// of the token endpoint.
func registryError(verb, ref string, err error) error {
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) {
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			return fmt.Errorf("%s %s: %w\nthe server did not accept the token: run 'palisade login' or set %s", verb, ref, err, client.EnvToken)
		case http.StatusForbidden:
			if msg, ok := quotaRefusal(resp); ok {
				// The message says the quota, the usage and what to do.
				return fmt.Errorf("%s %s: %s", verb, ref, msg)
			}
			return fmt.Errorf("%s %s: %w\nyour role in the project, your token's scope or your clearance does not allow this (palisade whoami shows them)", verb, ref, err)
		}
	}
	return fmt.Errorf("%s %s: %w", verb, ref, err)
}

// quotaRefusal reports whether a 403 came from a project quota (the
// registry's QuotaDetail), not from a denial, and its message.
func quotaRefusal(resp *errcode.ErrorResponse) (string, bool) {
	for _, e := range resp.Errors {
		if d, ok := e.Detail.(map[string]any); ok && d["reason"] == registry.QuotaExceeded {
			return "403 quota exceeded: " + printable(e.Message), true
		}
	}
	return "", false
}

// usageError wraps err with exit code 2.
func usageError(err error) error { return &exitError{code: ExitError, err: err} }

func newLoginCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var (
		f          remoteFlags
		tokenStdin bool
		sso        bool
	)
	cmd := &cobra.Command{
		Use:   "login [SERVER]",
		Short: "Store an API token for a Palisade server, or sign in with single sign-on",
		Long: `Check an API token against the server and store it in the credentials file
(palisade/credentials.json in the user's configuration directory, mode 0600)
for the other commands. The token is read from standard input with
--token-stdin, from PALISADE_TOKEN, or from a prompt that does not echo;
never from a flag value. SERVER is HOST:PORT or a URL (default --server or
$PALISADE_SERVER); plain HTTP is used only for loopback addresses.

With --sso the server's single sign-on signs you in instead (the OAuth
device flow): the command prints a web address and a code, you approve the
login in a browser at your identity provider, and the token the server
issues (it expires; see oidc.token_ttl) is stored.

Registry clients log in with the same token as the password and any user
name: oras login HOST:PORT -u palisade --password-stdin.`,
		Example: `  palisade login 127.0.0.1:8700
  echo "$TOKEN" | palisade login --token-stdin registry.example.com
  palisade login --sso registry.example.com`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server := f.server
			if len(args) == 1 {
				server = args[0]
			}
			if server == "" {
				server, _ = lookupEnv(EnvServer)
			}
			t, err := client.ResolveServer(server, f.plainHTTP)
			if err != nil {
				return usageError(err)
			}
			var token string
			if sso {
				if tokenStdin {
					return usageError(errors.New("give --sso or --token-stdin, not both"))
				}
				token, err = deviceLogin(cmd, client.New(t, ""))
			} else {
				token, err = readToken(cmd, tokenStdin, lookupEnv)
			}
			if err != nil {
				return usageError(err)
			}
			who, err := client.New(t, token).Whoami(cmd.Context())
			if err != nil {
				return usageError(fmt.Errorf("log in to %s: %w", t.Host, err))
			}
			path, err := client.DefaultCredentialsPath()
			if err != nil {
				return usageError(err)
			}
			creds, err := client.LoadCredentials(path)
			if err != nil {
				return usageError(err)
			}
			creds.Servers[t.Host] = client.Credential{Token: token}
			if err := creds.Save(path); err != nil {
				return usageError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Logged in to %s as %s (token %s); stored in %s\n", t.Host, who.Name, who.TokenID, path)
			return nil
		},
	}
	f.register(cmd, true)
	cmd.Flags().BoolVar(&tokenStdin, "token-stdin", false, "read the token from standard input")
	cmd.Flags().BoolVar(&sso, "sso", false, "sign in with the server's single sign-on (approve the login in a browser)")
	return cmd
}

// deviceLogin runs the single sign-on device flow: it shows where to
// approve the login and polls the server until it is approved, denied or
// expired, and returns the token the server issued.
func deviceLogin(cmd *cobra.Command, c *client.Client) (string, error) {
	ctx := cmd.Context()
	d, err := c.StartDeviceLogin(ctx)
	if err != nil {
		return "", fmt.Errorf("start the single sign-on: %w", err)
	}
	w := cmd.ErrOrStderr()
	fmt.Fprintf(w, "To sign in, open %s and enter the code %s\n", d.VerificationURI, d.UserCode)
	if d.VerificationURIComplete != "" {
		fmt.Fprintf(w, "(or open %s)\n", d.VerificationURIComplete)
	}
	fmt.Fprintln(w, "Waiting for the login to be approved...")
	deadline := time.Now().Add(time.Duration(max(d.ExpiresIn, 60)) * time.Second)
	for {
		l, err := c.PollDeviceLogin(ctx, d.Handle)
		var apiErr *client.APIError
		switch {
		case err == nil:
			return l.Token, nil
		case errors.As(err, &apiErr) && apiErr.Code == "authorization_pending":
		case errors.As(err, &apiErr) && apiErr.Code == "access_denied":
			return "", errors.New("the login was denied at the identity provider")
		case errors.As(err, &apiErr) && apiErr.Code == "expired_token":
			return "", errors.New("the login expired before it was approved: run 'palisade login --sso' again")
		default:
			return "", fmt.Errorf("single sign-on: %w", err)
		}
		if time.Now().After(deadline) {
			return "", errors.New("the login was not approved in time: run 'palisade login --sso' again")
		}
		// The server waits about one polling interval per request; wait
		// a second more between requests in case it answered early.
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// maxTokenInput bounds a token read from standard input.
const maxTokenInput = 4096

func readToken(cmd *cobra.Command, fromStdin bool, lookupEnv func(string) (string, bool)) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(io.LimitReader(cmd.InOrStdin(), maxTokenInput)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read token: %w", err)
		}
		if t := strings.TrimSpace(line); t != "" {
			return t, nil
		}
		return "", errors.New("no token on standard input")
	}
	if t, ok := lookupEnv(client.EnvToken); ok && t != "" {
		return t, nil
	}
	in, ok := cmd.InOrStdin().(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return "", errors.New("no token: pipe it with --token-stdin, or set " + client.EnvToken)
	}
	fmt.Fprint(cmd.ErrOrStderr(), "Token: ")
	b, err := term.ReadPassword(int(in.Fd()))
	fmt.Fprintln(cmd.ErrOrStderr())
	if err != nil {
		return "", fmt.Errorf("read token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func newProjectCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "project",
		Short: "Create and list projects, manage their members and quotas",
		Long: `Projects hold repositories of models, datasets and images; each is the unit
of access, encryption and deduplication. Members hold a role in a project:
owner, maintainer, developer, reader, auditor or deployer. Creating a
project and setting its quota need an administrator; managing its members
needs its owner (or an administrator).`,
	}
	var (
		f     remoteFlags
		owner string
	)
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a project, optionally with its owner",
		Long: `Create a project. With --owner, the user named becomes the project's owner,
who can then manage its members. Needs an administrator.`,
		Example: `  palisade project create vision --server 127.0.0.1:8700
  palisade project create ml --owner alice`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			p, err := r.api().CreateProject(cmd.Context(), api.CreateProjectRequest{Name: args[0], Owner: owner})
			if err != nil {
				return usageError(fmt.Errorf("create project %s: %w", args[0], err))
			}
			if owner != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "Created project %s, owned by %s\n", p.Name, owner)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Created project %s\n", p.Name)
			return nil
		},
	}
	f.register(create, true)
	create.Flags().StringVar(&owner, "owner", "", "make this user the project's owner")
	var lf remoteFlags
	list := &cobra.Command{
		Use:   "ls",
		Short: "List projects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := lf.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			ps, err := r.api().Projects(cmd.Context())
			if err != nil {
				return usageError(fmt.Errorf("list projects: %w", err))
			}
			for _, p := range ps {
				fmt.Fprintln(cmd.OutOrStdout(), p.Name)
			}
			return nil
		},
	}
	lf.register(list, true)
	cmd.AddCommand(create, list, newProjectMembersCommand(lookupEnv), newProjectAddMemberCommand(lookupEnv),
		newProjectRemoveMemberCommand(lookupEnv), newProjectSetQuotaCommand(lookupEnv), newProjectUsageCommand(lookupEnv))
	return cmd
}
