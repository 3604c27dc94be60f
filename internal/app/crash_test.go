package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"

	"golang.org/x/mod/sumdb/note"

	"github.com/palisade-sec/palisade/internal/auditlog"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

// crashToken is the fake admin token of the crash test.
const crashToken = "pal_crash-test-admin-token-0000000000000000000"

// serverProcess is 'palisade server' running as a child process.
type serverProcess struct {
	cmd  *exec.Cmd
	addr string
	logs *bytes.Buffer
}

func startProcess(t *testing.T, bin, dataDir, addr string) *serverProcess {
	t.Helper()
	logs := &bytes.Buffer{}
	cmd := exec.Command(bin, "server", "--data", dataDir, "--listen", addr)
	cmd.Env = append(os.Environ(), "PALISADE_ADMIN_TOKEN="+crashToken)
	cmd.Stdout, cmd.Stderr = io.Discard, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProcess{cmd: cmd, addr: addr, logs: logs}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for i := 0; ; i++ {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if i == 400 {
			t.Fatalf("server did not start: %v", err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (p *serverProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
}

func (p *serverProcess) repo(t *testing.T, name string) *remote.Repository {
	t.Helper()
	r, err := remote.NewRepository(p.addr + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	r.PlainHTTP = true
	r.Client = &auth.Client{
		Client:     &http.Client{Timeout: 30 * time.Second},
		Cache:      auth.NewCache(),
		Credential: auth.StaticCredential(p.addr, auth.Credential{Username: "crash", Password: crashToken}),
	}
	return r
}

// admin calls the native API with the admin token.
func (p *serverProcess) admin(t *testing.T, method, path, body string, out any) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+p.addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+crashToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s = %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatal(err)
		}
	}
}

// pushed is what a client saw succeed.
type pushed struct {
	repo, tag string
	manifest  ocispec.Descriptor
	blobs     map[digest.Digest][]byte
}

// pushOne pushes a config, two random layers (one of them large enough to
// take a while) and a manifest tagged tag.
func pushOne(ctx context.Context, r *remote.Repository, name, tag string, size int) (pushed, error) {
	p := pushed{repo: name, tag: tag, blobs: map[digest.Digest][]byte{}}
	var layers []ocispec.Descriptor
	for _, n := range []int{size, 1 << 10} {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		d := content.NewDescriptorFromBytes("application/octet-stream", b)
		if err := r.Push(ctx, d, bytes.NewReader(b)); err != nil {
			return p, err
		}
		p.blobs[d.Digest] = b
		layers = append(layers, d)
	}
	cfg := []byte(fmt.Sprintf(`{"push":%q}`, name+":"+tag))
	cd := content.NewDescriptorFromBytes("application/vnd.oci.image.config.v1+json", cfg)
	if err := r.Push(ctx, cd, bytes.NewReader(cfg)); err != nil {
		return p, err
	}
	p.blobs[cd.Digest] = cfg
	man, err := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: cd, Layers: layers,
	})
	if err != nil {
		return p, err
	}
	md := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, man)
	if err := r.PushReference(ctx, md, bytes.NewReader(man), tag); err != nil {
		return p, err
	}
	p.manifest = md
	return p, nil
}

// TestCrashDuringPushes kills the server with SIGKILL while clients push
// blobs (chunked and monolithic) and manifests, restarts it, and checks
// that every push a client saw succeed is intact, that nothing partial is
// visible (fsck finds no missing, corrupt, tampered or dangling data;
// only orphaned data, which gc removes), and that concurrent pushes to one
// tag left one consistent winner.
func TestCrashDuringPushes(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	bin := filepath.Join(t.TempDir(), "palisade")
	build := exec.Command("go", "build", "-o", bin, "github.com/palisade-sec/palisade/cmd/palisade")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	data := filepath.Join(t.TempDir(), "data")
	srv := startProcess(t, bin, data, addr)
	srv.admin(t, "POST", "/api/v1/projects", `{"name":"crash"}`, nil)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu        sync.Mutex
		succeeded []pushed
		wg        sync.WaitGroup
	)
	// Eight clients push in a loop until the server dies: four to their
	// own repositories, four to one shared tag.
	for c := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name, tag := fmt.Sprintf("crash/client%d", c), ""
			if c >= 4 {
				name = "crash/shared"
			}
			r := srv.repo(t, name)
			for i := 0; ctx.Err() == nil; i++ {
				tag = fmt.Sprintf("v%d", i)
				if c >= 4 {
					tag = "latest"
				}
				p, err := pushOne(ctx, r, name, tag, (256+c*64)<<10)
				if err != nil {
					return // the server died
				}
				mu.Lock()
				succeeded = append(succeeded, p)
				mu.Unlock()
			}
		}()
	}
	// Let the pushes run, then kill the server mid-flight.
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(succeeded)
		mu.Unlock()
		if n >= 24 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(37 * time.Millisecond) // not at a push boundary
	srv.kill(t)
	cancel()
	wg.Wait()
	if len(succeeded) < 8 {
		t.Fatalf("only %d pushes succeeded before the kill; the test proves little", len(succeeded))
	}

	srv = startProcess(t, bin, data, addr)
	rctx := t.Context()
	// Every push a client saw succeed is there, byte for byte.
	for _, p := range succeeded {
		r := srv.repo(t, p.repo)
		rc, err := r.Fetch(rctx, p.manifest)
		if err != nil {
			t.Errorf("manifest %s of %s lost: %v", p.manifest.Digest, p.repo, err)
			continue
		}
		if _, err := content.ReadAll(rc, p.manifest); err != nil {
			t.Errorf("manifest %s of %s: %v", p.manifest.Digest, p.repo, err)
		}
		rc.Close()
		for d, want := range p.blobs {
			desc := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: d, Size: int64(len(want))}
			rc, err := r.Blobs().Fetch(rctx, desc)
			if err != nil {
				t.Errorf("blob %s of %s lost: %v", d, p.repo, err)
				continue
			}
			got, err := content.ReadAll(rc, desc)
			rc.Close()
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("blob %s of %s differs: %v", d, p.repo, err)
			}
		}
		if p.tag != "latest" {
			if desc, err := r.Resolve(rctx, p.tag); err != nil || desc.Digest != p.manifest.Digest {
				t.Errorf("tag %s:%s = %v, %v; want %s", p.repo, p.tag, desc.Digest, err, p.manifest.Digest)
			}
		}
	}
	// The shared tag names one of the manifests pushed to it, whole.
	shared := srv.repo(t, "crash/shared")
	if desc, err := shared.Resolve(rctx, "latest"); err == nil {
		found := false
		for _, p := range succeeded {
			found = found || p.repo == "crash/shared" && p.manifest.Digest == desc.Digest
		}
		if !found {
			// The winner may be a push whose response the kill swallowed:
			// it must still be complete.
			rc, err := shared.Fetch(rctx, desc)
			if err != nil {
				t.Errorf("shared tag names an unreadable manifest: %v", err)
			} else {
				rc.Close()
			}
		}
	} else if !errors.Is(err, errdef.ErrNotFound) {
		t.Errorf("resolve the shared tag: %v", err)
	}

	// The audit log survived: its checkpoints verify against the key the
	// server publishes, with no gap or duplicate, and every push a client
	// saw succeed has its entry (recorded before the change was made).
	var info struct {
		Origin, VerifierKey, Checkpoint string
		Size                            int64
	}
	srv.admin(t, "GET", "/api/v1/audit", "", &info)
	v, err := note.NewVerifier(info.VerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(rctx, sqlite.Options{Path: filepath.Join(data, config.DatabaseFileName)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := auditlog.Verify(rctx, st, info.Origin, v, nil); err != nil {
		t.Errorf("the audit log after the crash: %v", err)
	}
	recs, err := st.AuditEntries(rctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	pushes := map[string]bool{}
	for _, rec := range recs {
		e, err := auditlog.Decode(rec.Data)
		if err != nil {
			t.Fatalf("audit entry %d: %v", rec.Index, err)
		}
		if e.Action == auditlog.ActionArtifactPush && e.Outcome == auditlog.OutcomeAllowed {
			pushes[e.Object.Repository+"@"+e.Object.Digest] = true
		}
	}
	for _, p := range succeeded {
		if !pushes[p.repo+"@"+string(p.manifest.Digest)] {
			t.Errorf("the push of %s %s that a client saw succeed has no audit entry", p.repo, p.manifest.Digest)
		}
	}

	var rep struct {
		Blobs    int
		Problems []struct{ Kind, Project, Digest, Detail string }
	}
	srv.admin(t, "POST", "/api/v1/admin/fsck", "", &rep)
	orphans := len(rep.Problems)
	for _, p := range rep.Problems {
		if p.Kind != "orphaned" {
			t.Errorf("fsck after the crash: %s %s %s: %s", p.Kind, p.Project, p.Digest, p.Detail)
		}
	}
	if rep.Blobs < 3*len(succeeded)/2 {
		t.Errorf("fsck saw %d blobs for %d pushes", rep.Blobs, len(succeeded))
	}
	// gc removes crash leftovers; fsck is then clean.
	srv.admin(t, "POST", "/api/v1/admin/gc", `{"min_age":"1ns"}`, nil)
	rep.Problems = nil
	srv.admin(t, "POST", "/api/v1/admin/fsck", "", &rep)
	if len(rep.Problems) != 0 {
		t.Errorf("fsck after gc: %+v", rep.Problems)
	}
	t.Logf("%d pushes succeeded before SIGKILL; all intact after restart; %d orphaned objects removed by gc", len(succeeded), orphans)
}
