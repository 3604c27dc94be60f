// Command loadgen sends HTTP GET requests to one URL at a constant rate and
// prints latency percentiles, as wrk2 does and wrk (closed-loop: each
// connection waits for its answer before sending the next request) cannot.
//
// Request i is due at start + i/rate whatever happened before it, and its
// latency is measured from that due time, not from when a worker got to
// send it: a server that stalls is charged for the requests queued behind
// the stall (no coordinated omission). The service time (from the actual
// send) is reported beside it. Requests due during -warmup are sent but not
// counted.
//
//	loadgen -url http://127.0.0.1:8700/v2/p/r/manifests/v1 -rate 500 -duration 30s \
//	  -header 'Accept: application/vnd.oci.image.manifest.v1+json' -token-env TOKEN
//
// The bearer token is read from the environment variable named by
// -token-env, so that it appears neither in the process list nor in output.
// The last line of output is machine-readable: key=value pairs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

type options struct {
	url      string
	rate     float64
	duration time.Duration
	warmup   time.Duration
	workers  int
	timeout  time.Duration
	header   http.Header
}

// sample is one counted request.
type sample struct {
	due     time.Duration // when it was due, from the start
	latency time.Duration // from due to the end of the response body
	service time.Duration // from sending to the end of the response body
	done    time.Duration // when it ended, from the start
	err     string        // empty when the answer was 200 with its body read
}

func main() {
	var o options
	var hs headers
	var tokenEnv string
	flag.StringVar(&o.url, "url", "", "`URL` to GET")
	flag.Float64Var(&o.rate, "rate", 500, "requests per second")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "how long to count requests, after the warm-up")
	flag.DurationVar(&o.warmup, "warmup", 5*time.Second, "send at the rate for this long before counting")
	flag.IntVar(&o.workers, "workers", 64, "concurrent requests at most (one connection each)")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "give up on a request after this long")
	flag.Var(&hs, "header", "request header `NAME: VALUE` (repeatable)")
	flag.StringVar(&tokenEnv, "token-env", "", "send 'Authorization: Bearer' with the token in this environment `VARIABLE`")
	flag.Parse()
	if err := run(o, hs, tokenEnv); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(o options, hs headers, tokenEnv string) error {
	if o.url == "" || o.rate <= 0 || o.duration <= 0 || o.warmup < 0 || o.workers < 1 {
		return errors.New("need -url, and -rate, -duration, -workers above zero")
	}
	o.header = http.Header{}
	for _, h := range hs {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return fmt.Errorf("header %q: want NAME: VALUE", h)
		}
		o.header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if tokenEnv != "" {
		tok := os.Getenv(tokenEnv)
		if tok == "" {
			return fmt.Errorf("environment variable %s is empty", tokenEnv)
		}
		o.header.Set("Authorization", "Bearer "+tok)
	}
	req, err := http.NewRequest(http.MethodGet, o.url, nil)
	if err != nil {
		return err
	}
	req.Header = o.header
	// One check before the clock starts, so that a wrong URL or token is
	// reported as such rather than as 100% errors.
	client := &http.Client{
		Timeout: o.timeout,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: o.workers,
			DisableCompression:  true,
		},
	}
	if msg := get(client, req); msg != "" {
		return fmt.Errorf("first request: %s", msg)
	}
	samples := load(client, req, o)
	report(samples, o)
	return nil
}

// get sends req and reads the answer, returning "" or what went wrong.
func get(client *http.Client, req *http.Request) string {
	resp, err := client.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return "read body: " + err.Error()
	}
	if resp.StatusCode != http.StatusOK {
		return resp.Status
	}
	return ""
}

// load sends the requests on schedule and returns the counted ones.
func load(client *http.Client, req *http.Request, o options) []sample {
	interval := time.Duration(float64(time.Second) / o.rate)
	total := int((o.warmup + o.duration) / interval)
	due := make(chan time.Duration, total)
	start := time.Now()
	var wg sync.WaitGroup
	results := make([][]sample, o.workers)
	for w := range o.workers {
		wg.Go(func() {
			r := req.Clone(context.Background()) // one request per worker
			for d := range due {
				sent := time.Since(start)
				msg := get(client, r)
				end := time.Since(start)
				if d < o.warmup {
					continue
				}
				results[w] = append(results[w], sample{due: d, latency: end - d, service: end - sent, done: end, err: msg})
			}
		})
	}
	for i := range total {
		d := time.Duration(i) * interval
		if wait := time.Until(start.Add(d)); wait > 0 {
			time.Sleep(wait)
		}
		due <- d
	}
	close(due)
	wg.Wait()
	return slices.Concat(results...)
}

// pct returns the q-quantile (nearest rank) of sorted durations, in ms.
func pct(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return float64(sorted[i]) / float64(time.Millisecond)
}

func report(samples []sample, o options) {
	var lat, svc []time.Duration
	var errs int
	var firstErr string
	var last time.Duration
	for _, s := range samples {
		if s.err != "" {
			errs++
			if firstErr == "" {
				firstErr = s.err
			}
			continue
		}
		lat = append(lat, s.latency)
		svc = append(svc, s.service)
		last = max(last, s.done)
	}
	slices.Sort(lat)
	slices.Sort(svc)
	// Achieved rate: answers to the counted requests over the time from the
	// first one being due to the last one ending; below the target rate
	// when the server falls behind.
	achieved := 0.0
	if span := last - o.warmup; len(lat) > 0 && span > 0 {
		achieved = float64(len(lat)) / span.Seconds()
	}
	fmt.Printf("target %.0f req/s for %s after %s warm-up, %d workers: %d requests, %d errors\n",
		o.rate, o.duration, o.warmup, o.workers, len(samples), errs)
	if firstErr != "" {
		fmt.Printf("first error: %s\n", firstErr)
	}
	fmt.Printf("latency from due time (ms): p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
		pct(lat, 0.5), pct(lat, 0.9), pct(lat, 0.99), pct(lat, 0.999), pct(lat, 1))
	fmt.Printf("service time (ms):          p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
		pct(svc, 0.5), pct(svc, 0.9), pct(svc, 0.99), pct(svc, 0.999), pct(svc, 1))
	fmt.Printf("requests=%d errors=%d rate=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f svc_p50_ms=%.3f svc_p99_ms=%.3f\n",
		len(samples), errs, achieved, pct(lat, 0.5), pct(lat, 0.9), pct(lat, 0.99), pct(lat, 0.999), pct(lat, 1),
		pct(svc, 0.5), pct(svc, 0.99))
}
