package serve

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// latencyBuckets are the upper bounds (seconds) of the request latency
// histogram.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// metrics counts requests per route and status and keeps a latency
// histogram per route, written in the Prometheus text format (0.0.4).
type metrics struct {
	mu       sync.Mutex
	requests map[[2]string]uint64 // (route, code) → count
	hist     map[string]*histogram
	batches  map[string]*histogram // batch sizes per queue
}

type histogram struct {
	counts []uint64 // per bucket (not cumulative), last is +Inf
	sum    float64
	n      uint64
}

func newHistogram(nb int) *histogram { return &histogram{counts: make([]uint64, nb+1)} }

func (h *histogram) observe(bounds []float64, v float64) {
	i := sort.SearchFloat64s(bounds, v) // first bound >= v
	h.counts[i]++
	h.sum += v
	h.n++
}

func newMetrics() *metrics {
	return &metrics{requests: map[[2]string]uint64{}, hist: map[string]*histogram{}, batches: map[string]*histogram{}}
}

// batchBuckets bound the batch-size histograms.
var batchBuckets = []float64{1, 2, 4, 8, 16, 32, 64}

func (m *metrics) observe(route string, code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[[2]string{route, strconv.Itoa(code)}]++
	h := m.hist[route]
	if h == nil {
		h = newHistogram(len(latencyBuckets))
		m.hist[route] = h
	}
	h.observe(latencyBuckets, d.Seconds())
}

func (m *metrics) batch(queue string, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.batches[queue]
	if h == nil {
		h = newHistogram(len(batchBuckets))
		m.batches[queue] = h
	}
	h.observe(batchBuckets, float64(n))
}

// statusWriter records the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument wraps h to count its requests under route.
func (m *metrics) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		m.observe(route, sw.code, time.Since(start))
	})
}

// write prints every metric; gauges are the index's size and dimension.
func (m *metrics) write(w io.Writer, vectors, dim int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintln(w, "# HELP contrastive_http_requests_total HTTP requests answered, by route and status code.")
	fmt.Fprintln(w, "# TYPE contrastive_http_requests_total counter")
	keys := make([][2]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][0] < keys[j][0] || keys[i][0] == keys[j][0] && keys[i][1] < keys[j][1]
	})
	for _, k := range keys {
		fmt.Fprintf(w, "contrastive_http_requests_total{route=%q,code=%q} %d\n", k[0], k[1], m.requests[k])
	}
	writeHists(w, "contrastive_http_request_duration_seconds", "Time to answer a request, by route.", "route", latencyBuckets, m.hist)
	writeHists(w, "contrastive_batch_size", "Requests run together in one batch, by queue.", "queue", batchBuckets, m.batches)
	fmt.Fprintln(w, "# HELP contrastive_index_vectors Vectors in the index.")
	fmt.Fprintln(w, "# TYPE contrastive_index_vectors gauge")
	fmt.Fprintf(w, "contrastive_index_vectors %d\n", vectors)
	fmt.Fprintln(w, "# HELP contrastive_index_dimension Dimension of the index's vectors.")
	fmt.Fprintln(w, "# TYPE contrastive_index_dimension gauge")
	fmt.Fprintf(w, "contrastive_index_dimension %d\n", dim)
	if cpu, ok := processCPU(); ok {
		fmt.Fprintln(w, "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.")
		fmt.Fprintln(w, "# TYPE process_cpu_seconds_total counter")
		fmt.Fprintf(w, "process_cpu_seconds_total %s\n", strconv.FormatFloat(cpu, 'f', 6, 64))
	}
}

func writeHists(w io.Writer, name, help, label string, bounds []float64, hs map[string]*histogram) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)
	keys := make([]string, 0, len(hs))
	for k := range hs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		h := hs[k]
		var cum uint64
		for i, b := range bounds {
			cum += h.counts[i]
			fmt.Fprintf(w, "%s_bucket{%s=%q,le=%q} %d\n", name, label, k, strconv.FormatFloat(b, 'g', -1, 64), cum)
		}
		fmt.Fprintf(w, "%s_bucket{%s=%q,le=\"+Inf\"} %d\n", name, label, k, h.n)
		fmt.Fprintf(w, "%s_sum{%s=%q} %s\n", name, label, k, strconv.FormatFloat(h.sum, 'g', -1, 64))
		fmt.Fprintf(w, "%s_count{%s=%q} %d\n", name, label, k, h.n)
	}
}
