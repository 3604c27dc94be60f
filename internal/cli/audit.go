package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/palisade-sec/palisade/internal/api"
	"github.com/palisade-sec/palisade/internal/atomicfile"
	"github.com/palisade-sec/palisade/internal/auditlog"
	"github.com/palisade-sec/palisade/internal/boundedfile"
	"github.com/palisade-sec/palisade/internal/client"
	"github.com/palisade-sec/palisade/internal/registry"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/version"
)

// Audit commands: read, export, prove and verify the server's
// tamper-evident audit log through its API (docs/audit.md), and erase a
// person's pseudonym. Verification trusts nothing the server says but
// what the pinned verifier key signs.

const auditExitCodes = `Exit codes: 0 success, 2 usage, network or server errors.`

func newAuditCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read, export, prove and verify the server's tamper-evident audit log",
		Long: `The server records every change, every denied request and every read of
confidential data in a tamper-evident log: a Merkle transparency log whose
checkpoints are signed by a key only the server holds. Entries name people by
pseudonym only.

'tail', 'search' and 'export' read entries; 'proof' gets an inclusion proof
that can be checked offline; 'verify' and 'monitor' check the whole log
against the verifier key and against what was seen before; 'erase-subject'
destroys a person's pseudonym key. Reading the whole log needs an
administrator; a project's auditors and owners may search their project's
entries (search --project).`,
	}
	cmd.AddCommand(newAuditTailCommand(lookupEnv), newAuditSearchCommand(lookupEnv), newAuditExportCommand(lookupEnv),
		newAuditProofCommand(lookupEnv), newAuditCheckProofCommand(), newAuditVerifyCommand(lookupEnv), newAuditMonitorCommand(lookupEnv),
		newAuditEraseCommand(lookupEnv))
	return cmd
}

// auditPage is how many entries one request asks for.
const auditPage = 1000

// auditSearcher reads one page of entries: the whole log's route, or a
// project's.
type auditSearcher func(ctx context.Context, q store.AuditQuery) (client.AuditPage, error)

// auditFilter holds the search flags shared by search and export.
type auditFilter struct {
	from, to, actor, user, action, project, repository, digest, outcome string
}

func (f *auditFilter) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.from, "from", "", "entries at or after `T`: RFC 3339 (2026-11-26T00:00:00Z) or that long ago (24h, 7d)")
	fl.StringVar(&f.to, "to", "", "entries before `T`: RFC 3339 or that long ago")
	fl.StringVar(&f.actor, "actor", "", "entries of this actor `PSEUDONYM` (p1.…)")
	fl.StringVar(&f.user, "user", "", "entries of this `USER` (its pseudonym, looked up by an administrator)")
	fl.StringVar(&f.action, "action", "", "entries of this `ACTION` (project.create, artifact.push, access.denied, ...)")
	fl.StringVar(&f.project, "project", "", "entries of this `PROJECT`")
	fl.StringVar(&f.repository, "repository", "", "entries about this `REPOSITORY`")
	fl.StringVar(&f.digest, "digest", "", "entries about this `DIGEST`")
	fl.StringVar(&f.outcome, "outcome", "", "entries with this `OUTCOME`: allowed, denied, failed or aborted")
}

// query checks the flags and returns the query they ask for, from the
// start of the log.
func (f *auditFilter) query(now time.Time) (store.AuditQuery, error) {
	q := store.AuditQuery{After: -1, Actor: f.actor, Action: f.action, Project: f.project,
		Repository: f.repository, Digest: f.digest, Outcome: f.outcome}
	if f.action != "" && !slices.Contains(auditlog.Actions(), f.action) {
		return q, fmt.Errorf("--action %q is not an audit action: %s", f.action, strings.Join(auditlog.Actions(), ", "))
	}
	switch {
	case f.actor != "" && !auditlog.ValidPseudonym(f.actor):
		return q, fmt.Errorf("--actor %q is not a whole pseudonym: give p1. and 22 characters, as 'palisade audit search --json' shows it", f.actor)
	case f.digest != "" && !registry.ValidDigest(f.digest):
		return q, fmt.Errorf("--digest %q: give sha256:<64 hex> or sha512:<128 hex>", f.digest)
	case f.project != "" && !registry.ValidProjectName(f.project):
		return q, fmt.Errorf("--project %q is not a project name (lower-case letters, digits, '.', '_', '-')", f.project)
	}
	outcomes := []string{string(auditlog.OutcomeAllowed), string(auditlog.OutcomeDenied), string(auditlog.OutcomeFailed), string(auditlog.OutcomeAborted)}
	if f.outcome != "" && !slices.Contains(outcomes, f.outcome) {
		return q, fmt.Errorf("--outcome %q: give %s", f.outcome, strings.Join(outcomes, ", "))
	}
	var err error
	if f.from != "" {
		if q.From, err = parseAuditTime("--from", f.from, now); err != nil {
			return q, err
		}
	}
	if f.to != "" {
		if q.To, err = parseAuditTime("--to", f.to, now); err != nil {
			return q, err
		}
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return q, errors.New("--from must be before --to")
	}
	return q, nil
}

// parseAuditTime reads an RFC 3339 time, or a duration (Go's, or whole
// days as 7d) meaning that long before now.
func parseAuditTime(flag, s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 && n <= 36600 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%s %q: give an RFC 3339 time (2026-11-26T00:00:00Z) or how long ago (24h, 90m, 7d)", flag, s)
}

// open parses the filters into a query and resolves the server, the
// user's pseudonym (--user) and the route to run it on.
func (f *auditFilter) open(ctx context.Context, rf *remoteFlags, lookupEnv func(string) (string, bool)) (store.AuditQuery, auditSearcher, error) {
	if f.user != "" && f.actor != "" {
		return store.AuditQuery{}, nil, errors.New("give --actor or --user, not both")
	}
	q, err := f.query(time.Now())
	if err != nil {
		return q, nil, err
	}
	r, err := rf.resolve("", lookupEnv)
	if err != nil {
		return q, nil, err
	}
	if f.user != "" {
		u, err := r.api().User(ctx, f.user)
		if err != nil {
			return q, nil, fmt.Errorf("look up the pseudonym of %s: %w", f.user, err)
		}
		if u.AuditPseudonym == "" {
			return q, nil, fmt.Errorf("nothing in the audit log is tied to %s (no pseudonym: never recorded, or erased)", f.user)
		}
		q.Actor = u.AuditPseudonym
	}
	search, err := f.searcher(ctx, r.api())
	return q, search, err
}

// searcher picks the route: a project's when one is asked for and the
// token is not an administrator's (who reads the whole log).
func (f *auditFilter) searcher(ctx context.Context, c *client.Client) (auditSearcher, error) {
	if f.project != "" {
		who, err := c.Whoami(ctx)
		if err != nil {
			return nil, fmt.Errorf("ask who the token is: %w", err)
		}
		if !who.Admin {
			project := f.project
			return func(ctx context.Context, q store.AuditQuery) (client.AuditPage, error) {
				return c.ProjectAuditSearch(ctx, project, q)
			}, nil
		}
	}
	return c.AuditSearch, nil
}

// eachAuditEntry pages through the entries matching q (from q.After),
// at most limit of them (0 for all), calling fn on each in index order.
func eachAuditEntry(ctx context.Context, search auditSearcher, q store.AuditQuery, limit int, fn func(api.AuditEntry) error) error {
	seen := 0
	for limit <= 0 || seen < limit {
		q.N = auditPage
		if limit > 0 {
			q.N = min(auditPage, limit-seen)
		}
		page, err := search(ctx, q)
		if err != nil {
			return err
		}
		for _, it := range page.Items {
			if it.Index <= q.After {
				return fmt.Errorf("the server answered entry %d when asked for entries after %d", it.Index, q.After)
			}
			if err := fn(it); err != nil {
				return err
			}
			q.After = it.Index
			seen++
		}
		if page.Next < 0 || len(page.Items) == 0 {
			return nil
		}
	}
	return nil
}

// auditPrinter writes entries as text lines or JSON lines.
type auditPrinter struct {
	w      io.Writer
	asJSON bool
}

func (p auditPrinter) print(it api.AuditEntry) error {
	e, err := auditlog.Decode(it.Data)
	if p.asJSON {
		out := api.AuditEntry{Index: it.Index, Data: it.Data}
		if err == nil {
			out.Entry = json.RawMessage(it.Data)
		}
		b, merr := json.Marshal(out)
		if merr != nil {
			return merr
		}
		_, werr := fmt.Fprintf(p.w, "%s\n", b)
		return werr
	}
	if err != nil {
		_, werr := fmt.Fprintf(p.w, "%-7d (not a valid v1 entry: %s)\n", it.Index, printable(err.Error()))
		return werr
	}
	_, werr := fmt.Fprintln(p.w, auditLine(it.Index, e))
	return werr
}

// auditLine is one entry on one line: index, time, action, outcome,
// project, object, actor and reason.
func auditLine(index int64, e auditlog.Entry) string {
	return fmt.Sprintf("%-7d %s  %-20s %-8s %-16s %-36s %-11s %s", index, e.Time.UTC().Format("2006-01-02T15:04:05.000Z"),
		e.Action, e.Outcome, orDash(e.Project), printable(auditObject(e.Object)), auditActor(e.Actor), orDash(e.Reason))
}

func auditObject(o auditlog.Object) string {
	switch {
	case o.Repository != "" && o.Digest != "":
		return o.Repository + "@" + shortAuditDigest(o.Digest)
	case o.Repository != "":
		return o.Repository
	case o.Digest != "":
		return shortAuditDigest(o.Digest)
	case o.ID != "":
		id := o.ID
		if len(id) > 24 {
			id = id[:24]
		}
		return string(o.Kind) + ":" + id
	}
	return string(o.Kind)
}

// shortAuditDigest keeps the algorithm and 12 hex digits.
func shortAuditDigest(d string) string {
	algo, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return algo + ":" + hex[:12]
}

// auditActor is the pseudonym shortened to "p1." and 8 characters, or
// "system".
func auditActor(a auditlog.Actor) string {
	if a.PID == "" {
		return string(a.Kind)
	}
	if len(a.PID) > 11 {
		return a.PID[:11]
	}
	return a.PID
}

func newAuditTailCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var (
		f      remoteFlags
		n      int
		follow bool
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Show the last entries of the audit log; --follow shows new ones as they come",
		Long: `Show the last N entries of the audit log, oldest first, one line each: index,
time (UTC), action, outcome, project, object (repository@digest, shortened),
actor (pseudonym, shortened) and reason. --json prints JSON lines instead,
each {"index": N, "data": exact bytes in base64, "entry": the entry}.
--follow then asks the server every 2 seconds for new entries until
interrupted. Needs an administrator.

` + auditExitCodes,
		Example: `  palisade audit tail
  palisade audit tail -n 100 --follow`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{runsUntilSignal: "true"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 1 {
				return usageError(errors.New("-n must be 1 or more"))
			}
			r, err := f.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			ctx, c := cmd.Context(), r.api()
			info, err := c.AuditInfo(ctx)
			if err != nil {
				return usageError(fmt.Errorf("read the audit log of %s: %w", r.target.Host, err))
			}
			p := auditPrinter{w: cmd.OutOrStdout(), asJSON: asJSON}
			last := max(info.Size-int64(n), 0) - 1
			show := func(it api.AuditEntry) error {
				last = it.Index
				return p.print(it)
			}
			if err := eachAuditEntry(ctx, c.AuditSearch, store.AuditQuery{After: last}, n, show); err != nil {
				return usageError(fmt.Errorf("read the audit log: %w", err))
			}
			if !follow {
				return nil
			}
			tick := time.NewTicker(2 * time.Second)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return nil
				case <-tick.C:
				}
				if err := eachAuditEntry(ctx, c.AuditSearch, store.AuditQuery{After: last}, 0, show); err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return usageError(fmt.Errorf("read the audit log: %w", err))
				}
			}
		},
	}
	f.register(cmd, true)
	cmd.Flags().IntVarP(&n, "lines", "n", 20, "how many of the last entries to show")
	cmd.Flags().BoolVar(&follow, "follow", false, "then show new entries as they are appended, until interrupted")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON lines")
	return cmd
}

func newAuditSearchCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var (
		f      remoteFlags
		flt    auditFilter
		n      int
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "search",
		Short: "Find audit entries by time, actor, action, project, repository, digest or outcome",
		Long: `Show the entries that match every filter given, oldest first, at most -n of
them (0 for all), in the format of 'palisade audit tail' (--json: JSON lines).
--from and --to take an RFC 3339 time or how long ago (24h, 7d); --to is
exclusive. --actor takes a full pseudonym (p1. and 22 characters, as --json shows
it).

Searching the whole log needs an administrator. With --project, a project's
auditors and owners may search that project's entries.

` + auditExitCodes,
		Example: `  palisade audit search --action access.denied --from 24h
  palisade audit search --project vision --repository vision/detector --outcome denied`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 0 {
				return usageError(errors.New("-n must be 0 (all) or more"))
			}
			q, search, err := flt.open(cmd.Context(), &f, lookupEnv)
			if err != nil {
				return usageError(err)
			}
			p := auditPrinter{w: cmd.OutOrStdout(), asJSON: asJSON}
			if err := eachAuditEntry(cmd.Context(), search, q, n, p.print); err != nil {
				return usageError(fmt.Errorf("search the audit log: %w", err))
			}
			return nil
		},
	}
	f.register(cmd, true)
	flt.register(cmd)
	cmd.Flags().IntVarP(&n, "limit", "n", 100, "show at most this many entries (0 for all)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON lines")
	return cmd
}

func newAuditExportCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var (
		f      remoteFlags
		flt    auditFilter
		format string
		output string
	)
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export audit entries as JSON lines or CEF for a SIEM",
		Long: `Write every entry that matches the filters (those of 'palisade audit search'),
oldest first, to standard output or, with -o, to FILE (replaced atomically
once everything was read; a new file gets mode 0600).

--format jsonl (the default) writes each entry's exact bytes, the ones the
log hashes, one per line. --format cef writes ArcSight Common Event Format
lines: CEF:0|Palisade|palisade|VERSION|ACTION|ACTION|SEVERITY|rt=… act=…
outcome=… suser=PSEUDONYM cs1Label=project cs1=… cs2Label=repository cs2=…
cs3Label=object cs3=KIND:ID cs4Label=request cs4=REQUEST_ID dvchost=NODE
fileHash=DIGEST reason=… externalId=INDEX, severity 3 for allowed, 6 for
denied, 8 for failed or aborted; absent values are left out.

An entry that is not a valid v1 entry is left out, with a warning, and the
command exits 1 (run 'palisade audit verify'). Needs an administrator, or
with --project a project's auditor or owner.

Exit codes: 0 exported, 1 invalid entries were left out, 2 usage, network
or server errors.`,
		Example: `  palisade audit export -o audit.jsonl
  palisade audit export --format cef --from 24h >> /var/log/palisade-audit.cef`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format = strings.ToLower(format)
			if format != "jsonl" && format != "cef" {
				return usageError(fmt.Errorf("--format %q: give jsonl or cef", format))
			}
			q, search, err := flt.open(cmd.Context(), &f, lookupEnv)
			if err != nil {
				return usageError(err)
			}
			toFile := output != "" && output != "-"
			var buf bytes.Buffer
			w := cmd.OutOrStdout()
			if toFile {
				w = &buf
			}
			var invalid, written int
			err = eachAuditEntry(cmd.Context(), search, q, 0, func(it api.AuditEntry) error {
				e, err := auditlog.Decode(it.Data)
				if err != nil {
					invalid++
					fmt.Fprintf(cmd.ErrOrStderr(), "warning: entry %d left out: it is not a valid v1 entry: %s\n", it.Index, printable(err.Error()))
					return nil
				}
				var line []byte
				if format == "cef" {
					line = []byte(cefLine(it.Index, e))
				} else {
					line = it.Data
				}
				written++
				if _, err := w.Write(line); err != nil {
					return err
				}
				_, err = io.WriteString(w, "\n")
				return err
			})
			if err != nil {
				return usageError(fmt.Errorf("export the audit log: %w", err))
			}
			if toFile {
				if err := atomicfile.Write(output, buf.Bytes(), 0o600); err != nil {
					return usageError(err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "Exported %d entries to %s\n", written, output)
			}
			if invalid > 0 {
				return &exitError{code: ExitFindings, err: fmt.Errorf("%d entries were left out: they are not valid v1 entries", invalid)}
			}
			return nil
		},
	}
	f.register(cmd, true)
	flt.register(cmd)
	cmd.Flags().StringVar(&format, "format", "jsonl", "jsonl (the entries' exact bytes) or cef")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to `FILE` instead of standard output")
	return cmd
}

// cefSeverity maps an outcome to a CEF severity.
func cefSeverity(o auditlog.Outcome) int {
	switch o {
	case auditlog.OutcomeAllowed:
		return 3
	case auditlog.OutcomeDenied:
		return 6
	}
	return 8
}

var (
	cefHeaderEscaper    = strings.NewReplacer(`\`, `\\`, `|`, `\|`, "\r", " ", "\n", " ")
	cefExtensionEscaper = strings.NewReplacer(`\`, `\\`, `=`, `\=`, "\r", `\r`, "\n", `\n`)
)

// cefLine renders an entry as one CEF line (without its newline).
func cefLine(index int64, e auditlog.Entry) string {
	h := cefHeaderEscaper.Replace
	var b strings.Builder
	fmt.Fprintf(&b, "CEF:0|Palisade|palisade|%s|%s|%s|%d|", h(version.Get().Version), h(string(e.Action)), h(string(e.Action)), cefSeverity(e.Outcome))
	first := true
	ext := func(k, v string) {
		if v == "" {
			return
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		b.WriteString(k + "=" + cefExtensionEscaper.Replace(v))
	}
	ext("rt", strconv.FormatInt(e.Time.UnixMilli(), 10))
	ext("act", string(e.Action))
	ext("outcome", string(e.Outcome))
	ext("suser", e.Actor.PID)
	if e.Project != "" {
		ext("cs1Label", "project")
		ext("cs1", e.Project)
	}
	if e.Object.Repository != "" {
		ext("cs2Label", "repository")
		ext("cs2", e.Object.Repository)
	}
	if e.Object.ID != "" {
		ext("cs3Label", "object")
		ext("cs3", string(e.Object.Kind)+":"+e.Object.ID)
	}
	ext("cs4Label", "request")
	ext("cs4", e.RequestID)
	ext("dvchost", e.Node)
	ext("fileHash", e.Object.Digest)
	ext("reason", e.Reason)
	ext("externalId", strconv.FormatInt(index, 10))
	return b.String()
}

// verifierKey parses a verifier key given as a flag.
func verifierKey(s string) (note.Verifier, error) {
	v, err := note.NewVerifier(s)
	if err != nil {
		return nil, fmt.Errorf("--key %q is not a verifier key (NAME+HASH+KEY, as GET /api/v1/audit serves it): %w", s, err)
	}
	return v, nil
}

func newAuditProofCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var (
		f      remoteFlags
		output string
		check  bool
		key    string
	)
	cmd := &cobra.Command{
		Use:   "proof INDEX",
		Short: "Get the inclusion proof of an audit entry; --check verifies it offline",
		Long: `Get the proof that the entry at INDEX is in the log, under its latest signed
checkpoint: C2SP tlog-proof text carrying the entry's bytes, the Merkle
inclusion proof and the signed checkpoint, which anyone with the log's
verifier key can check offline ('palisade audit check-proof FILE --key K').
It is printed, or written to FILE with -o.

--check verifies the proof before printing or writing it: the checkpoint's
signature and origin, the inclusion of the entry's exact bytes, and that the
entry is valid. The key is --key (pinned: recommended) or else the one the
server serves, which proves only that the server is consistent with itself.
Needs an administrator.

Exit codes: 0 success, 1 the proof does not verify, 2 usage, network or
server errors.`,
		Example: `  palisade audit proof 42 -o entry-42.proof
  palisade audit proof 42 --check --key 'palisade-audit+d757a70e+AYtgtG8H…'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			index, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || index < 0 {
				return usageError(fmt.Errorf("INDEX %q: give an entry's index (0 or more)", args[0]))
			}
			var pinned note.Verifier
			if key != "" {
				if !check {
					return usageError(errors.New("--key is for --check"))
				}
				if pinned, err = verifierKey(key); err != nil {
					return usageError(err)
				}
			}
			r, err := f.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			ctx, c := cmd.Context(), r.api()
			text, err := c.AuditProof(ctx, index)
			if err != nil {
				return usageError(fmt.Errorf("get the proof of entry %d: %w", index, err))
			}
			if check {
				info, err := c.AuditInfo(ctx)
				if err != nil {
					return usageError(fmt.Errorf("read the audit log's key: %w", err))
				}
				v := pinned
				if v == nil {
					if v, err = note.NewVerifier(info.VerifierKey); err != nil {
						return usageError(fmt.Errorf("the server's verifier key %q: %w", info.VerifierKey, err))
					}
					fmt.Fprintf(cmd.ErrOrStderr(), "Checking with the key the server serves (%s): pass --key to check against a key you trust\n", printable(info.VerifierKey))
				}
				p, err := auditlog.ParseProof(text)
				if err != nil {
					return &exitError{code: ExitFindings, err: fmt.Errorf("the proof of entry %d: %w", index, err)}
				}
				if p.Index != index {
					return &exitError{code: ExitFindings, err: fmt.Errorf("asked for the proof of entry %d, the server sent one of entry %d", index, p.Index)}
				}
				cp, err := auditlog.CheckProof(p, info.Origin, v)
				if err != nil {
					return &exitError{code: ExitFindings, err: fmt.Errorf("the proof of entry %d: %w", index, err)}
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "Verified: entry %d is in the log %s of %d entries (root %s), checkpoint signed by %s\n",
					index, printable(cp.Origin), cp.Size, cp.Root, printable(v.Name()))
			}
			if output == "" || output == "-" {
				_, err := cmd.OutOrStdout().Write(text)
				return err
			}
			if err := atomicfile.Write(output, text, 0o644); err != nil {
				return usageError(err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Wrote the proof of entry %d to %s\n", index, output)
			return nil
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the proof to `FILE` instead of standard output")
	cmd.Flags().BoolVar(&check, "check", false, "verify the proof first")
	cmd.Flags().StringVar(&key, "key", "", "check with this verifier `KEY` instead of the server's")
	return cmd
}

func newAuditCheckProofCommand() *cobra.Command {
	var key, origin string
	cmd := &cobra.Command{
		Use:   "check-proof FILE",
		Short: "Check a saved inclusion proof offline, against the log's verifier key",
		Long: `Check a proof that 'palisade audit proof' wrote (C2SP tlog-proof; FILE, or -
for standard input) without any server: the checkpoint's signature by --key,
the inclusion of the entry's exact bytes in that checkpoint's tree, and that
the entry is a valid v1 entry. The entry is then printed, as JSON.

--origin pins the log's name (HOST/audit/SHARD); without it the checkpoint's
own is taken, which the key's signature covers.

Exit codes: 0 verified, 1 the proof does not verify, 2 usage or I/O errors.`,
		Example: `  palisade audit check-proof entry-42.proof --key 'palisade-audit+d757a70e+AYtgtG8H…'`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if key == "" {
				return usageError(errors.New("give the log's verifier key with --key (GET /api/v1/audit serves it; pin the one your administrator published)"))
			}
			v, err := verifierKey(key)
			if err != nil {
				return usageError(err)
			}
			var text []byte
			if args[0] == "-" {
				text, err = boundedfile.ReadFrom(cmd.InOrStdin(), "standard input", auditlog.MaxProofSize)
			} else {
				text, err = boundedfile.Read(args[0], auditlog.MaxProofSize)
			}
			if err != nil {
				return usageError(err)
			}
			p, err := auditlog.ParseProof(text)
			if err != nil {
				return &exitError{code: ExitFindings, err: fmt.Errorf("%s: %w", args[0], err)}
			}
			if origin == "" {
				origin, _, _ = strings.Cut(string(p.Checkpoint), "\n")
			}
			cp, err := auditlog.CheckProof(p, origin, v)
			if err != nil {
				return &exitError{code: ExitFindings, err: fmt.Errorf("%s: %w", args[0], err)}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Verified: entry %d is in the log %s of %d entries (root %s), checkpoint signed by %s\n",
				p.Index, printable(cp.Origin), cp.Size, cp.Root, printable(v.Name()))
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", p.Entry)
			return err
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "the log's verifier `KEY` (NAME+HASH+KEY)")
	cmd.Flags().StringVar(&origin, "origin", "", "the log's `ORIGIN` to insist on (default: the checkpoint's)")
	return cmd
}

// saveAuditState writes a state file, creating its directory (mode 0700).
func saveAuditState(path string, s auditlog.State) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save the audit state: %w", err)
	}
	if err := auditlog.SaveState(path, s); err != nil {
		return fmt.Errorf("save the audit state: %w", err)
	}
	return nil
}

// defaultAuditStatePath is audit-state-HOST.json beside the credentials
// file, HOST with characters other than letters, digits, '.' and '-'
// replaced by '_'.
func defaultAuditStatePath(host string) (string, error) {
	creds, err := client.DefaultCredentialsPath()
	if err != nil {
		return "", err
	}
	safe := strings.Map(func(c rune) rune {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' {
			return c
		}
		return '_'
	}, host)
	return filepath.Join(filepath.Dir(creds), "audit-state-"+safe+".json"), nil
}

// auditFinding is what verification found wrong: exit 1.
type auditFinding struct{ err error }

func (e *auditFinding) Error() string { return e.err.Error() }
func (e *auditFinding) Unwrap() error { return e.err }

func auditFindingf(format string, args ...any) error {
	return &auditFinding{err: fmt.Errorf(format, args...)}
}

// auditSnapshot is the log as of the first checkpoint Verify reads, kept
// to save it in the state. The server goes on appending while the
// verification reads pages: entries and checkpoints beyond that size, and
// the size the server says later, belong to a later run. (Over the API
// the size served is its latest checkpoint's, so entries appended without
// a checkpoint cannot be seen from here: the server's own check does.)
type auditSnapshot struct {
	auditlog.Reader
	pinned bool
	size   int64
	note   []byte
}

func (r *auditSnapshot) AuditCheckpoint(ctx context.Context) (int64, []byte, error) {
	if r.pinned {
		return r.size, r.note, nil
	}
	size, n, err := r.Reader.AuditCheckpoint(ctx)
	if err == nil {
		r.pinned, r.size, r.note = true, size, n
	}
	return size, n, err
}

func (r *auditSnapshot) AuditSize(ctx context.Context) (int64, error) {
	if r.pinned {
		return r.size, nil
	}
	return r.Reader.AuditSize(ctx)
}

func (r *auditSnapshot) AuditEntries(ctx context.Context, start int64, n int) ([]store.AuditRecord, error) {
	recs, err := r.Reader.AuditEntries(ctx, start, n)
	if err != nil || !r.pinned {
		return recs, err
	}
	for i, rec := range recs {
		if rec.Index >= r.size {
			return recs[:i], nil
		}
	}
	return recs, nil
}

func (r *auditSnapshot) AuditCheckpoints(ctx context.Context, after int64, n int) ([]store.AuditCheckpoint, error) {
	cps, err := r.Reader.AuditCheckpoints(ctx, after, n)
	if err != nil || !r.pinned {
		return cps, err
	}
	for i, c := range cps {
		if c.Size > r.size {
			return cps[:i], nil
		}
	}
	return cps, nil
}

// auditVerification is one verification's outcome.
type auditVerification struct {
	origin    string
	report    auditlog.Report
	statePath string
}

// verifyAuditLog verifies the server's log against the pinned key and
// the state at statePath (default: the server's state file), and saves
// the new state on success. A finding is an *auditFinding; other errors
// are usage, network or server errors. Notes for the user go to notes.
func verifyAuditLog(ctx context.Context, r remote, statePath, keyFlag string, notes io.Writer) (auditVerification, error) {
	var res auditVerification
	if statePath == "" {
		p, err := defaultAuditStatePath(r.target.Host)
		if err != nil {
			return res, err
		}
		statePath = p
	}
	res.statePath = statePath
	st, err := auditlog.LoadState(statePath)
	if err != nil {
		return res, err
	}
	if keyFlag != "" {
		if _, err := verifierKey(keyFlag); err != nil {
			return res, err
		}
	}
	c := r.api()
	info, err := c.AuditInfo(ctx)
	if err != nil {
		return res, fmt.Errorf("read the audit log of %s: %w", r.target.Host, err)
	}
	key := keyFlag
	switch {
	case key != "" && st.Key != "" && key != st.Key:
		return res, auditFindingf("the state %s pins the verifier key %s, not the key given (%s): the log's key is not the one seen before", statePath, st.Key, key)
	case key == "" && st.Key != "":
		key = st.Key
	case key == "":
		key = info.VerifierKey
		fmt.Fprintf(notes, "Trusting the server's verifier key on first use: %s\n(compare it with the key your administrator published; pass --key to pin it)\n", printable(key))
	}
	if info.VerifierKey != key {
		return res, auditFindingf("the server serves the verifier key %s, not the pinned key %s: the log's signing key changed", printable(info.VerifierKey), key)
	}
	if st.Origin != "" && st.Origin != info.Origin {
		return res, auditFindingf("the server's audit log is %q, not %q as seen before (%s)", printable(info.Origin), st.Origin, statePath)
	}
	v, err := note.NewVerifier(key)
	if err != nil {
		return res, fmt.Errorf("the verifier key %q: %w", key, err)
	}
	res.origin = info.Origin
	var prev *auditlog.State
	if st.Size > 0 || st.Root != "" || st.Note != "" {
		if st.Note != "" {
			if _, err := auditlog.OpenCheckpoint([]byte(st.Note), info.Origin, v); err != nil {
				return res, auditFindingf("the checkpoint saved in %s does not verify with the key %s: %v", statePath, key, err)
			}
		}
		prev = &st
	}
	rec := &auditSnapshot{Reader: client.NewAuditReader(c)}
	rep, err := auditlog.Verify(ctx, rec, info.Origin, v, prev)
	res.report = rep
	if err != nil {
		if errors.Is(err, auditlog.ErrTampered) {
			return res, &auditFinding{err: err}
		}
		return res, fmt.Errorf("verify the audit log: %w", err)
	}
	next := auditlog.State{Origin: info.Origin, Size: rep.Size, Root: rep.Root, Verified: rep.Checked, Key: key}
	if rep.Size > 0 {
		if rec.size != rep.Size {
			return res, fmt.Errorf("verify the audit log: the checkpoint read (size %d) is not the one verified (size %d)", rec.size, rep.Size)
		}
		next.Note = string(rec.note)
	} else {
		next.Verified = time.Now().UTC()
	}
	if err := saveAuditState(statePath, next); err != nil {
		return res, err
	}
	if info.Refusing != "" {
		// What is stored beyond the checkpoint read is the server's to see.
		return res, auditFindingf("the server refuses to extend the log: %s", printable(info.Refusing))
	}
	return res, nil
}

// auditExit maps a verification error to its exit code.
func auditExit(err error) error {
	var f *auditFinding
	if errors.As(err, &f) {
		return &exitError{code: ExitFindings, err: err}
	}
	return usageError(err)
}

func newAuditVerifyCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var (
		f         remoteFlags
		statePath string
		key       string
	)
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify the whole audit log against its verifier key and what was seen before",
		Long: `Read the whole audit log through the API and check it: every checkpoint's
signature and origin, the Merkle tree recomputed from the entries' exact bytes
against every checkpoint's root, no gap, and, with a state saved before,
that the log did not shrink and its first entries still hash to the root seen
then (no history rewritten). It reads up to the latest checkpoint; what is
stored beyond it the server checks itself, and a server that found its log
not matching its checkpoint (and so refuses every change) is a finding.

The verifier key is --key, else the one pinned in the state file, else the
one the server serves, trusted on first use (said on standard error). The
state file (default: audit-state-HOST.json beside the credentials file in
the user's configuration directory) keeps the origin, key, size, root and
checkpoint verified; it is replaced only when verification succeeds. A key
or origin other than the state's is refused as a finding.

Needs an administrator.

Exit codes: 0 verified, 1 tampering found (or a changed key or origin),
2 usage, network or server errors.`,
		Example: `  palisade audit verify
  palisade audit verify --key 'palisade-audit+d757a70e+AYtgtG8H…' --state /var/lib/audit.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := f.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			res, err := verifyAuditLog(cmd.Context(), r, statePath, key, cmd.ErrOrStderr())
			if err != nil {
				return auditExit(err)
			}
			out := cmd.OutOrStdout()
			rep := res.report
			fmt.Fprintf(out, "Verified the audit log %s: %d entries, root %s, %d checkpoints checked\n",
				printable(res.origin), rep.Size, orDash(rep.Root), rep.Checkpoints)
			if rep.Previous >= 0 {
				fmt.Fprintf(out, "It is consistent with the %d entries verified before.\n", rep.Previous)
			}
			fmt.Fprintf(out, "State saved to %s\n", res.statePath)
			return nil
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVar(&statePath, "state", "", "the state `FILE` (default: audit-state-HOST.json in the palisade configuration directory)")
	cmd.Flags().StringVar(&key, "key", "", "the log's verifier `KEY` (NAME+HASH+KEY); default: the state's, else the server's")
	return cmd
}

func newAuditMonitorCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var (
		f         remoteFlags
		statePath string
		key       string
		interval  time.Duration
		once      bool
	)
	cmd := &cobra.Command{
		Use:   "monitor",
		Short: "Verify the audit log on a schedule; stop at the first finding",
		Long: `Run 'palisade audit verify' every --interval (with its --state and --key),
printing one line per run: the time, then "ok" with the size and root, or
"TAMPERED" with what was found, or "error" when the log could not be read
(the monitor goes on). It stops at the first finding, with exit code 1.
--once runs once, for cron. Each run reads the whole log. Needs an
administrator.

Exit codes: 1 tampering found (or a changed key or origin); with --once 0
verified and 2 usage, network or server errors; without it, 2 for usage
errors only.`,
		Example: `  palisade audit monitor --interval 10m
  palisade audit monitor --once --key 'palisade-audit+d757a70e+AYtgtG8H…'`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{runsUntilSignal: "true"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if interval < time.Second {
				return usageError(errors.New("--interval must be at least 1s"))
			}
			r, err := f.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for {
				res, err := verifyAuditLog(ctx, r, statePath, key, cmd.ErrOrStderr())
				now := time.Now().UTC().Format(time.RFC3339)
				var fnd *auditFinding
				switch {
				case err == nil:
					fmt.Fprintf(out, "%s ok size=%d root=%s checkpoints=%d\n", now, res.report.Size, orDash(res.report.Root), res.report.Checkpoints)
				case ctx.Err() != nil:
					return nil
				case errors.As(err, &fnd):
					fmt.Fprintf(out, "%s TAMPERED %s\n", now, printable(err.Error()))
					return &exitError{code: ExitFindings}
				case once:
					return usageError(err)
				default:
					fmt.Fprintf(out, "%s error %s\n", now, printable(err.Error()))
				}
				if once {
					return nil
				}
				select {
				case <-ctx.Done():
					return nil
				case <-tick.C:
				}
			}
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVar(&statePath, "state", "", "the state `FILE` (default: audit-state-HOST.json in the palisade configuration directory)")
	cmd.Flags().StringVar(&key, "key", "", "the log's verifier `KEY` (NAME+HASH+KEY); default: the state's, else the server's")
	cmd.Flags().DurationVar(&interval, "interval", 5*time.Minute, "time between runs")
	cmd.Flags().BoolVar(&once, "once", false, "run once and exit (for cron)")
	return cmd
}

func newAuditEraseCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	var f remoteFlags
	cmd := &cobra.Command{
		Use:   "erase-subject USER",
		Short: "Destroy a user's pseudonym key: their audit entries can no longer be tied to them",
		Long: `Destroy the key that computes USER's pseudonym (a right-to-erasure request).
The log itself never changes: its entries keep the pseudonym, which can no
longer be tied to the person. The erasure is recorded first, naming only
that pseudonym. If USER acts again, a new, unrelated pseudonym is used.
Cannot be undone. Needs an administrator.

` + auditExitCodes,
		Example: `  palisade audit erase-subject alice`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.resolve("", lookupEnv)
			if err != nil {
				return usageError(err)
			}
			pid, err := r.api().EraseSubject(cmd.Context(), args[0])
			if err != nil {
				return usageError(fmt.Errorf("erase %s: %w", args[0], err))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Erased the pseudonym key of %s: entries with the pseudonym %s can no longer be tied to them\n",
				printable(args[0]), printable(pid))
			return nil
		},
	}
	f.register(cmd, true)
	return cmd
}
