// Command auditfill appends N synthetic entries to the audit log of a
// stopped Palisade server's data directory (SQLite), signed with that
// server's own checkpoint key, so that 'palisade audit verify' can be
// timed over a large log (bench/audit-verify.sh). It is a benchmark tool:
// never run it against a log whose history matters.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/palisade-sec/palisade/internal/auditlog"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/crypto"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

func main() {
	data := flag.String("data", "", "the server's data `DIR` (SQLite and kek.key)")
	n := flag.Int("n", 1_000_000, "entries to append")
	origin := flag.String("origin", config.DefaultAuditOrigin, "the log's origin")
	flag.Parse()
	if err := run(*data, *n, *origin); err != nil {
		fmt.Fprintln(os.Stderr, "auditfill:", err)
		os.Exit(1)
	}
}

func run(data string, n int, origin string) error {
	ctx := context.Background()
	if data == "" {
		return fmt.Errorf("give --data DIR")
	}
	st, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(data, config.DatabaseFileName)})
	if err != nil {
		return err
	}
	defer st.Close()
	url, err := crypto.LocalKEK(filepath.Join(data, config.KEKFileName))
	if err != nil {
		return err
	}
	keeper, err := crypto.OpenKeeper(ctx, url)
	if err != nil {
		return err
	}
	defer keeper.Close()
	signer, _, err := auditlog.LoadOrCreateKey(ctx, st, keeper, "palisade-audit", rand.Reader)
	if err != nil {
		return err
	}
	l, err := auditlog.New(auditlog.Options{Store: st, Signer: signer, Origin: origin})
	if err != nil {
		return err
	}
	defer l.Close()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 64 {
				e := auditlog.Entry{V: auditlog.SchemaVersion, Time: time.Now().UTC().Truncate(time.Millisecond),
					RequestID: fmt.Sprintf("fill-%d", i), Node: "bench", Project: "bench",
					Actor:  auditlog.Actor{Kind: auditlog.ActorSystem},
					Action: auditlog.ActionArtifactPull, Object: auditlog.Object{Kind: auditlog.ObjectArtifact, Repository: "bench/model",
						Digest: fmt.Sprintf("sha256:%064x", i)}, Outcome: auditlog.OutcomeAllowed}
				if _, err := l.Append(ctx, e); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	fmt.Printf("appended %d entries in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}
