package registry

import "github.com/prometheus/client_golang/prometheus"

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
