package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/api"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus collectors.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	seal     *sealCollector
	keys     *keyCounter
}

func newMetrics(c *custodian.Custodian, opts Options) (*metrics, error) {
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "custodian", Subsystem: "http", Name: "requests_total",
			Help: "Requests by route and result code (ok, or the error code of docs/api.md).",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "custodian", Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time from the request's routing to its last byte written, by route.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route"}),
		seal: newSealCollector(c, opts.Logger),
		keys: newKeyCounter(c, opts.KeyCountInterval, opts.Logger),
	}
	var done []prometheus.Collector
	for _, col := range []prometheus.Collector{m.requests, m.latency, m.seal, m.keys} {
		if err := reg.Register(col); err != nil {
			for _, d := range done {
				reg.Unregister(d)
			}
			return nil, err
		}
		done = append(done, col)
	}
	return m, nil
}

func (m *metrics) close() {
	for _, col := range []prometheus.Collector{m.requests, m.latency, m.seal, m.keys} {
		m.reg.Unregister(col)
	}
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// routeMetrics are one route's series, resolved once so that a request
// costs no label hashing.
type routeMetrics struct {
	latency prometheus.Observer
	vec     *prometheus.CounterVec
	route   string
	byCode  map[string]prometheus.Counter
}

func (m *metrics) route(name string) *routeMetrics {
	rm := &routeMetrics{latency: m.latency.WithLabelValues(name), vec: m.requests, route: name,
		byCode: map[string]prometheus.Counter{"ok": m.requests.WithLabelValues(name, "ok")}}
	for _, c := range api.Codes {
		rm.byCode[c.Code] = m.requests.WithLabelValues(name, c.Code)
	}
	return rm
}

func (rm *routeMetrics) observe(code string, d time.Duration) {
	c, ok := rm.byCode[code]
	if !ok {
		c = rm.vec.WithLabelValues(rm.route, code)
	}
	c.Inc()
	rm.latency.Observe(d.Seconds())
}

// sealCollector reports the seal's status at scrape time.
type sealCollector struct {
	c                   *custodian.Custodian
	log                 *slog.Logger
	sealed, initialized *prometheus.Desc
}

func newSealCollector(c *custodian.Custodian, log *slog.Logger) *sealCollector {
	return &sealCollector{c: c, log: log,
		sealed:      prometheus.NewDesc("custodian_sealed", "1 while the custodian is sealed (or not initialized), 0 while it serves keys.", nil, nil),
		initialized: prometheus.NewDesc("custodian_initialized", "1 once the store has a root key.", nil, nil),
	}
}

func (sc *sealCollector) Describe(ch chan<- *prometheus.Desc) { ch <- sc.sealed; ch <- sc.initialized }

func (sc *sealCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := sc.c.Status(ctx)
	if err != nil {
		sc.log.Warn("metrics: seal status failed", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(sc.sealed, prometheus.GaugeValue, b2f(st.Sealed))
	ch <- prometheus.MustNewConstMetric(sc.initialized, prometheus.GaugeValue, b2f(st.Initialized))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// keyCounter reports keys by state. Counting lists every key, so a count
// is kept for an interval and scrapes in between reuse it; scrapes that
// arrive while a count runs wait for it rather than start another.
type keyCounter struct {
	c     *custodian.Custodian
	log   *slog.Logger
	every time.Duration
	desc  *prometheus.Desc

	mu     sync.Mutex
	at     time.Time
	counts map[custodian.State]int // nil: no count to report
}

func newKeyCounter(c *custodian.Custodian, every time.Duration, log *slog.Logger) *keyCounter {
	return &keyCounter{c: c, log: log, every: every,
		desc: prometheus.NewDesc("custodian_keys", "Keys by lifecycle state, counted at most once per interval (see docs/api.md).", []string{"state"}, nil)}
}

func (k *keyCounter) Describe(ch chan<- *prometheus.Desc) { ch <- k.desc }

func (k *keyCounter) Collect(ch chan<- prometheus.Metric) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.at.IsZero() || time.Since(k.at) >= k.every {
		counts, err := k.count()
		if err != nil && !errors.Is(err, custodian.ErrSealed) {
			k.log.Warn("metrics: counting keys failed", "err", err)
		}
		// A failed count (sealed, say) reports nothing rather than an
		// old count, and is not tried again before the interval ends.
		k.counts, k.at = counts, time.Now()
	}
	if k.counts == nil {
		return
	}
	for _, st := range custodian.States() {
		ch <- prometheus.MustNewConstMetric(k.desc, prometheus.GaugeValue, float64(k.counts[st]), string(st))
	}
}

func (k *keyCounter) count() (map[custodian.State]int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return k.c.CountKeys(ctx)
}
