package node

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// newMetrics returns the instance's Prometheus registry, served at GET
// /metrics, and the HTTP layer's measurements. Each instance has a registry
// of its own, not the global default one, so several instances can run in
// one process (the tests, the benchmark). The counters of the store, the
// view and the service are theirs (plain atomic counts); the collector here
// reads them at scrape time, so the hot paths pay no Prometheus code.
func newMetrics(n *Node) (*prometheus.Registry, *httpMetrics) {
	reg := prometheus.NewRegistry()
	hm := newHTTPMetrics()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		hm.requests, hm.duration, hm.logins,
		&nodeCollector{n: n},
	)
	return reg, hm
}

// metricsHandler serves reg in the Prometheus text (or OpenMetrics) format.
func metricsHandler(reg *prometheus.Registry, log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling:     promhttp.ContinueOnError,
		Registry:          reg, // counts its own scrapes and their errors
		EnableOpenMetrics: true,
	})
}

// httpMetrics implements httpapi.Metrics.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	logins   *prometheus.CounterVec

	mu    sync.Mutex                        // serializes additions to cache
	cache atomic.Pointer[map[reqKey]reqObs] // copied on write: read on every request without a lock
}

type reqKey struct {
	route, method string
	status        int
}

type reqObs struct {
	count prometheus.Counter
	hist  prometheus.Observer
}

func newHTTPMetrics() *httpMetrics {
	labels := []string{"route", "method", "status"}
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssoattr_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ssoattr_http_request_duration_seconds",
			Help: "Time from the start of a request's handling to its answer, by route pattern, method and status code.",
			// From a local read (tens of µs) to the request deadline (10 s).
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, labels),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssoattr_logins_total",
			Help: `Logins (POST /zato/sso/user/login) by outcome: "ok", the sub_status code that refused the login, "bad_request" or "error".`,
		}, []string{"outcome"}),
	}
	m.cache.Store(&map[reqKey]reqObs{})
	return m
}

// knownMethods keeps the method label to a fixed set: any other method
// (a client may send anything) is counted as "OTHER".
var knownMethods = map[string]string{"GET": "GET", "HEAD": "HEAD", "POST": "POST", "PUT": "PUT",
	"PATCH": "PATCH", "DELETE": "DELETE", "OPTIONS": "OPTIONS"}

// Request implements httpapi.Metrics.
func (m *httpMetrics) Request(route, method string, status int, took time.Duration) {
	k := reqKey{route, method, status}
	o, ok := (*m.cache.Load())[k]
	if !ok {
		o = m.add(k)
	}
	o.count.Inc()
	o.hist.Observe(took.Seconds())
}

// add makes the series of a new route, method and status, and caches them.
func (m *httpMetrics) add(k reqKey) reqObs {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.cache.Load()
	if o, ok := old[k]; ok {
		return o
	}
	route, method := k.route, knownMethods[k.method]
	if route == "" {
		route = "unmatched" // a 404: the raw path would be a label per probe of a scanner
	}
	if method == "" {
		method = "OTHER"
	}
	status := httpStatus(k.status)
	o := reqObs{count: m.requests.WithLabelValues(route, method, status),
		hist: m.duration.WithLabelValues(route, method, status)}
	if method == "OTHER" {
		return o // not cached: the map stays bounded whatever methods clients send
	}
	next := make(map[reqKey]reqObs, len(old)+1)
	for kk, v := range old {
		next[kk] = v
	}
	next[k] = o
	m.cache.Store(&next)
	return o
}

func httpStatus(code int) string {
	if code < 100 || code > 999 {
		return "other"
	}
	return string([]byte{byte('0' + code/100), byte('0' + code/10%10), byte('0' + code%10)})
}

// Login implements httpapi.Metrics.
func (m *httpMetrics) Login(outcome string) { m.logins.WithLabelValues(outcome).Inc() }

// nodeCollector reads the counters of the instance's parts at scrape time.
type nodeCollector struct{ n *Node }

var (
	descAppended = prometheus.NewDesc("ssoattr_events_appended_total",
		"Events this instance appended to the stream (stored and acknowledged), by kind.", []string{"kind"}, nil)
	descApplied = prometheus.NewDesc("ssoattr_events_applied_total",
		"Events this instance's view applied, by kind, from whichever instance wrote them.", []string{"kind"}, nil)
	descRejected = prometheus.NewDesc("ssoattr_events_rejected_total",
		"Stream messages the view refused to apply: unsigned, forged, stored on another owner's subject, or not decodable (each logged with its sequence).", nil, nil)
	descConflicts = prometheus.NewDesc("ssoattr_write_conflicts_total",
		"Appends the stream refused because the owner had changed since the writer read it (optimistic concurrency).", nil, nil)
	descRetries = prometheus.NewDesc("ssoattr_write_retries_total",
		"Writes decided again after losing a race for their owner.", nil, nil)
	descRefused = prometheus.NewDesc("ssoattr_backoff_refusals_total",
		"Logins and sign-up confirmations the back-off refused unchecked (answered as a wrong credential, E005001).", nil, nil)
	descBackoffRejected = prometheus.NewDesc("ssoattr_backoff_records_rejected_total",
		"Reads of a login back-off record that did not verify or decode, each counted as a fresh back-off window (fail closed) and logged with its key.", nil, nil)
	descAppliedSeq = prometheus.NewDesc("ssoattr_view_applied_sequence",
		"Stream sequence of the last message the view applied.", nil, nil)
	descLast = prometheus.NewDesc("ssoattr_stream_last_sequence",
		"The stream's last sequence, read at scrape time.", nil, nil)
	descLagSeq = prometheus.NewDesc("ssoattr_view_lag_sequences",
		"How many stream messages the view has not applied yet.", nil, nil)
	descLagSec = prometheus.NewDesc("ssoattr_view_lag_seconds",
		"Age of the oldest stream message the view has not applied yet (0 when caught up).", nil, nil)
	descExpiryRounds = prometheus.NewDesc("ssoattr_expiry_rounds_total",
		`Expiry rounds run (recording expired attributes and sessions), by result: "ok" or "failed".`, []string{"result"}, nil)
	descExpired = prometheus.NewDesc("ssoattr_expired_total",
		`Expired items this instance recorded: "attr" (attributes, one attr.expired event per owner) or "session".`, []string{"item"}, nil)
	descExpiryConflicts = prometheus.NewDesc("ssoattr_expiry_conflicts_total",
		"Expiries another instance recorded first, or whose owner changed meanwhile.", nil, nil)
	descSweeps = prometheus.NewDesc("ssoattr_view_sweeps_total",
		"Local sweeps of the view (the safety net freeing expired items no event removed).", nil, nil)
	descSwept = prometheus.NewDesc("ssoattr_view_swept_total",
		`Expired items a local sweep freed because no event had removed them: "attr" or "session".`, []string{"item"}, nil)
	descConnected = prometheus.NewDesc("ssoattr_nats_connected",
		"1 when the instance's NATS connection is connected, else 0.", nil, nil)
	descReconnects = prometheus.NewDesc("ssoattr_nats_reconnects_total",
		"Times the instance's NATS connection reconnected.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRefused, descBackoffRejected, descAppended, descApplied, descRejected, descConflicts, descRetries,
		descAppliedSeq, descLast, descLagSeq, descLagSec, descExpiryRounds, descExpired, descExpiryConflicts,
		descSweeps, descSwept, descConnected, descReconnects} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *nodeCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.n
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	n.Store.Appended(func(kind string, v uint64) { counter(descAppended, v, kind) })
	n.View.AppliedKinds(func(kind string, v uint64) { counter(descApplied, v, kind) })
	counter(descRejected, n.View.Skipped())
	counter(descConflicts, n.Store.Conflicts())
	counter(descRetries, n.SSO.Retries())
	counter(descRefused, n.SSO.BackoffRefusals())
	counter(descBackoffRejected, n.Attempts.Rejected())

	ex := n.SSO.ExpiryStats()
	counter(descExpiryRounds, ex.Rounds-ex.Failed, "ok")
	counter(descExpiryRounds, ex.Failed, "failed")
	counter(descExpired, ex.Attrs, "attr")
	counter(descExpired, ex.Sessions, "session")
	counter(descExpiryConflicts, ex.Conflicts)
	sweeps, attrs, sessions := n.View.SweepStats()
	counter(descSweeps, sweeps)
	counter(descSwept, attrs, "attr")
	counter(descSwept, sessions, "session")

	connected := 0.0
	if n.nc.Status() == nats.CONNECTED {
		connected = 1
	}
	gauge(descConnected, connected)
	counter(descReconnects, n.nc.Stats().Reconnects)

	applied := n.View.Applied()
	gauge(descAppliedSeq, float64(applied))
	c.collectLag(ch, applied)
}

// collectLag reports the stream's last sequence and how far behind it the
// view is; nothing when the stream cannot be asked (ssoattr_nats_connected
// says why, usually).
func (c *nodeCollector) collectLag(ch chan<- prometheus.Metric, applied uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	last, err := c.n.Store.LastSeq(ctx)
	if err != nil {
		c.n.log.Warn("metrics: stream's last sequence", slog.Any("err", err))
		return
	}
	ch <- prometheus.MustNewConstMetric(descLast, prometheus.GaugeValue, float64(last))
	var behind uint64
	if last > applied {
		behind = last - applied
	}
	ch <- prometheus.MustNewConstMetric(descLagSeq, prometheus.GaugeValue, float64(behind))
	age := 0.0
	if behind > 0 {
		stored, err := c.n.Store.StoredAt(ctx, applied+1)
		if err != nil {
			c.n.log.Warn("metrics: time of the first message not applied", slog.Any("err", err))
			return
		}
		age = max(time.Since(stored).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(descLagSec, prometheus.GaugeValue, age)
}
