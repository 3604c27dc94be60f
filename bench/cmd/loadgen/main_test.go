package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestPct(t *testing.T) {
	t.Parallel()
	ms := func(n ...int) []time.Duration {
		out := make([]time.Duration, len(n))
		for i, v := range n {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   float64
	}{
		{"empty", nil, 0.99, 0},
		{"one", ms(7), 0.5, 7},
		{"median of four", ms(1, 2, 3, 4), 0.5, 2},
		{"p99 of 100", ms(hundred...), 0.99, 99},
		{"max", ms(hundred...), 1, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := pct(tt.sorted, tt.q); got != tt.want {
				t.Errorf("pct(%v, %v) = %v, want %v", tt.sorted, tt.q, got, tt.want)
			}
		})
	}
}

func TestLoadCountsEveryDueRequest(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte("{}"))
	}))
	t.Cleanup(srv.Close)
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer secret")
	o := options{rate: 200, duration: 250 * time.Millisecond, warmup: 50 * time.Millisecond, workers: 4}
	samples := load(srv.Client(), req, o)
	if got, want := len(samples), 50; got != want {
		t.Errorf("counted %d requests, want %d (rate x duration)", got, want)
	}
	for _, s := range samples {
		if s.err != "" {
			t.Fatalf("request failed: %s", s.err)
		}
		if s.due < o.warmup || s.latency < s.service {
			t.Fatalf("sample %+v: due before the warm-up ended, or latency below service time", s)
		}
	}
}
