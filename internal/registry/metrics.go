package registry

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/palisade-sec/palisade/internal/store"
)

// registryMetrics are the registry's own figures, beside the HTTP ones
// the server keeps per route.
type registryMetrics struct {
	uploads       *prometheus.CounterVec // by outcome
	blobBytesIn   prometheus.Counter
	blobBytesOut  prometheus.Counter
	manifestsPut  prometheus.Counter
	inProgressSet bool
}

func newRegistryMetrics(reg prometheus.Registerer) *registryMetrics {
	m := &registryMetrics{
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "palisade", Subsystem: "registry", Name: "blob_uploads_total",
			Help: "Blob uploads finished, by outcome: committed (new blob), deduplicated (the project had it), mounted, rejected (digest or size mismatch), aborted.",
		}, []string{"outcome"}),
		blobBytesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "palisade", Subsystem: "registry", Name: "blob_bytes_committed_total",
			Help: "Plaintext bytes of new blobs committed to storage.",
		}),
		blobBytesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "palisade", Subsystem: "registry", Name: "blob_bytes_served_total",
			Help: "Plaintext bytes of blobs served to clients.",
		}),
		manifestsPut: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "palisade", Subsystem: "registry", Name: "manifests_pushed_total",
			Help: "Manifests pushed.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.uploads, m.blobBytesIn, m.blobBytesOut, m.manifestsPut)
	}
	return m
}

// registerInProgress adds a gauge of uploads in progress.
func (m *registryMetrics) registerInProgress(reg prometheus.Registerer, f func() float64) {
	if reg == nil || m.inProgressSet {
		return
	}
	m.inProgressSet = true
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "palisade", Subsystem: "registry", Name: "blob_uploads_in_progress",
		Help: "Blob uploads begun and not yet committed or aborted on this server.",
	}, f))
}

// storageCollector reports what each project stores, read from the
// metadata store at each scrape.
type storageCollector struct {
	st       store.Store
	blobs    *prometheus.Desc
	bytes    *prometheus.Desc
	manifest *prometheus.Desc
	quota    *prometheus.Desc
}

func newStorageCollector(st store.Store) *storageCollector {
	return &storageCollector{
		st: st,
		blobs: prometheus.NewDesc("palisade_storage_blobs", "Blobs stored, by project.",
			[]string{"project"}, nil),
		bytes: prometheus.NewDesc("palisade_storage_blob_bytes", "Plaintext bytes of the blobs stored, by project.",
			[]string{"project"}, nil),
		manifest: prometheus.NewDesc("palisade_storage_manifests", "Manifests stored, by project.",
			[]string{"project"}, nil),
		quota: prometheus.NewDesc("palisade_quota", "Quota of each project that has one: bytes or artifacts.",
			[]string{"project", "resource"}, nil),
	}
}

func (c *storageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.blobs
	ch <- c.bytes
	ch <- c.manifest
	ch <- c.quota
}

// scrapeTimeout bounds the store queries of one scrape.
const scrapeTimeout = 5 * time.Second

func (c *storageCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	ps, err := c.st.ListProjects(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.blobs, err)
		return
	}
	for _, p := range ps {
		u, err := c.st.ProjectUsage(ctx, p.Name)
		if err != nil {
			continue // deleted meanwhile, or the store is failing (readyz says so)
		}
		ch <- prometheus.MustNewConstMetric(c.blobs, prometheus.GaugeValue, float64(u.Blobs), p.Name)
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(u.BlobBytes), p.Name)
		ch <- prometheus.MustNewConstMetric(c.manifest, prometheus.GaugeValue, float64(u.Manifests), p.Name)
		if p.Quota.Bytes > 0 {
			ch <- prometheus.MustNewConstMetric(c.quota, prometheus.GaugeValue, float64(p.Quota.Bytes), p.Name, "bytes")
		}
		if p.Quota.Artifacts > 0 {
			ch <- prometheus.MustNewConstMetric(c.quota, prometheus.GaugeValue, float64(p.Quota.Artifacts), p.Name, "artifacts")
		}
	}
}
