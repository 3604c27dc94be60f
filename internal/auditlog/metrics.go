package auditlog

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the log's figures for Prometheus: what an operator alerts
// on when the log stops taking entries (and so the server stops taking
// changes).
type metrics struct {
	appended   prometheus.Counter
	failed     prometheus.Counter
	commit     prometheus.Histogram
	lastAppend prometheus.Gauge
}

// scrapeTimeout bounds the store query behind the tree size gauge.
const scrapeTimeout = 2 * time.Second

func newMetrics(reg prometheus.Registerer, st Reader) (*metrics, error) {
	m := &metrics{
		appended: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "palisade", Subsystem: "audit", Name: "entries_appended_total",
			Help: "Audit entries this server appended (durable, under a signed checkpoint).",
		}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "palisade", Subsystem: "audit", Name: "append_failures_total",
			Help: "Audit entries that could not be appended (store error, invalid entry, log closed, caller gone): each refused a change (503) or lost the record of a denial or authentication.",
		}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "palisade", Subsystem: "audit", Name: "commit_seconds",
			Help:    "Time to integrate one batch of entries: the transaction with its hashes and signed checkpoint.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		lastAppend: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "palisade", Subsystem: "audit", Name: "last_append_timestamp_seconds",
			Help: "Unix time of this server's latest successful append.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	size := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "palisade", Subsystem: "audit", Name: "tree_size",
		Help: "Entries in the audit log (all servers), read from the store at each scrape; -1 when it cannot be read.",
	}, func() float64 {
		// A scrape carries no context of its own.
		ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
		defer cancel()
		n, err := st.AuditSize(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	})
	for _, c := range []prometheus.Collector{m.appended, m.failed, m.commit, m.lastAppend, size} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register the audit log's metrics: %w", err)
		}
	}
	return m, nil
}

// observe records the outcome of one batch's commit.
func (m *metrics) observe(entries int, took time.Duration, err error, now time.Time) {
	if err != nil {
		m.failed.Add(float64(entries))
		return
	}
	m.appended.Add(float64(entries))
	m.commit.Observe(took.Seconds())
	m.lastAppend.Set(float64(now.UnixNano()) / 1e9)
}
