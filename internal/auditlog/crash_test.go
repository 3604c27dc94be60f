package auditlog

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

// The crash test's child process appends from 8 goroutines to a SQLite
// log at $PALISADE_AUDIT_CRASH_DB and prints "INDEX REQUEST_ID" for every
// append acknowledged, until it is killed.
func TestMain(m *testing.M) {
	if path := os.Getenv("PALISADE_AUDIT_CRASH_DB"); path != "" {
		crashChild(path, os.Getenv("PALISADE_AUDIT_CRASH_KEY"))
		return
	}
	os.Exit(m.Run())
}

func crashChild(path, skey string) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Options{Path: path})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	l, err := New(Options{Store: st, Signer: signer, Origin: testOrigin})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ; i += 8 {
				e := testEntry(i)
				idx, err := l.Append(ctx, e)
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintf(out, "%d %s\n", idx, e.RequestID)
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// TestCrashDuringAppends kills a process in the middle of a stream of
// appends (SIGKILL: no deferred code, no flush) and shows that after it
// the log has no gap and no duplicate, verifies against its checkpoints,
// holds every append the process acknowledged at the index it reported,
// and takes new appends.
func TestCrashDuringAppends(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills a process")
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "meta.db")
	skey, vkey, err := note.GenerateKey(rand.Reader, "palisade-audit")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PALISADE_AUDIT_CRASH_DB="+path, "PALISADE_AUDIT_CRASH_KEY="+skey)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[int64]string{}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			t.Fatalf("child printed %q", sc.Text())
		}
		idx, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		acked[idx] = f[1]
		if len(acked) == 500 {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	_ = cmd.Wait()
	if len(acked) < 500 {
		t.Fatalf("the child acknowledged %d appends before it stopped: %s", len(acked), stderr.String())
	}

	st, err := sqlite.Open(t.Context(), sqlite.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(t.Context(), st, testOrigin, v, nil)
	if err != nil {
		t.Fatalf("Verify after the crash: %v", err)
	}
	recs, err := st.AuditEntries(t.Context(), 0, 0)
	if err != nil || int64(len(recs)) != rep.Size {
		t.Fatalf("%d entries, checkpoint size %d (%v)", len(recs), rep.Size, err)
	}
	for idx, req := range acked {
		if idx >= rep.Size {
			t.Fatalf("acknowledged entry %d is beyond the log's %d entries", idx, rep.Size)
		}
		e, err := Decode(recs[idx].Data)
		if err != nil || e.RequestID != req {
			t.Fatalf("entry %d is %q (%v), the child was told %q", idx, e.RequestID, err, req)
		}
	}
	// The log goes on.
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	l := newLog(t, st, signer)
	idx, err := l.Append(t.Context(), testEntry(1_000_000))
	l.Close()
	if err != nil || idx != rep.Size {
		t.Fatalf("append after the crash at %d (%v), want %d", idx, err, rep.Size)
	}
	if rep2, err := Verify(t.Context(), st, testOrigin, v, nil); err != nil || rep2.Size != rep.Size+1 {
		t.Fatalf("Verify after the restart: %+v %v", rep2, err)
	}
}
