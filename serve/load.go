package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// LoadConfig bounds a load test: each phase stops after Requests requests
// or Duration, whichever comes first.
type LoadConfig struct {
	URL         string        // the server, on a loopback address only
	Image       []byte        // the image uploaded by the embed and image-search phases
	ContentType string        // its type (image/png, ...)
	Requests    int           // per phase
	Duration    time.Duration // per phase
	Concurrency int           // requests in flight at once
	K           int           // neighbours per search
}

// LoadStats is one phase's outcome; latencies in milliseconds.
type LoadStats struct {
	Phase       string  `json:"phase"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	Seconds     float64 `json:"seconds"`
	PerSecond   float64 `json:"requests_per_second"`
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
	Concurrency int     `json:"concurrency"`
	// CPUms is the server's CPU time per request (its
	// process_cpu_seconds_total over the phase), 0 when it does not say:
	// on a shared machine, the cost that wall-clock rates hide.
	CPUms float64 `json:"server_cpu_ms_per_request,omitempty"`
}

// checkLoopback refuses a load test against anything but this machine.
func checkLoopback(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("load test: %q is not an http URL", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return u, nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("load test: %s is not a loopback address: the load test runs against this machine only (127.0.0.1, ::1, localhost)", host)
	}
	return u, nil
}

// LoadTest measures the server at cfg.URL in three phases: uploads to
// /v1/embed, searches by an uploaded image, and searches by index row
// (rows taken in turn). It refuses non-loopback URLs.
func LoadTest(ctx context.Context, cfg LoadConfig) ([]LoadStats, error) {
	u, err := checkLoopback(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Requests <= 0 || cfg.Duration <= 0 || cfg.Concurrency <= 0 || cfg.K <= 0 {
		return nil, fmt.Errorf("load test: requests %d, duration %v, concurrency %d, k %d: want all positive", cfg.Requests, cfg.Duration, cfg.Concurrency, cfg.K)
	}
	base := u.Scheme + "://" + u.Host
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Concurrency, MaxConnsPerHost: cfg.Concurrency}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(base + "/v1/info")
	if err != nil {
		return nil, fmt.Errorf("load test: %w", err)
	}
	var info struct {
		Vectors int `json:"vectors"`
	}
	err = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if err != nil || info.Vectors == 0 {
		return nil, fmt.Errorf("load test: %s/v1/info: %d vectors (%v)", base, info.Vectors, err)
	}
	k := strconv.Itoa(cfg.K)
	phases := []struct {
		name string
		req  func(i int) (*http.Request, error)
	}{
		{"embed", func(int) (*http.Request, error) {
			return upload(ctx, base+"/v1/embed", cfg)
		}},
		{"search by image", func(int) (*http.Request, error) {
			return upload(ctx, base+"/v1/search?k="+k, cfg)
		}},
		{"search by row", func(i int) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, "GET", base+"/v1/search?k="+k+"&row="+strconv.Itoa(i*7919%info.Vectors), nil)
		}},
	}
	var out []LoadStats
	for _, p := range phases {
		cpu0, ok0 := serverCPU(client, base)
		st, err := loadPhase(ctx, client, cfg, p.req)
		if err != nil {
			return out, fmt.Errorf("load test: %s: %w", p.name, err)
		}
		if cpu1, ok1 := serverCPU(client, base); ok0 && ok1 && st.Requests > 0 {
			st.CPUms = 1000 * (cpu1 - cpu0) / float64(st.Requests)
		}
		st.Phase = p.name
		out = append(out, st)
	}
	return out, nil
}

// serverCPU reads process_cpu_seconds_total from the server's /metrics.
func serverCPU(client *http.Client, base string) (float64, bool) {
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "process_cpu_seconds_total "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}

func upload(ctx context.Context, u string, cfg LoadConfig) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", u, bytes.NewReader(cfg.Image))
	if err == nil {
		req.Header.Set("Content-Type", cfg.ContentType)
	}
	return req, err
}

// loadPhase runs one phase and summarises its latencies. A non-200 answer
// counts as an error; the first is reported when every request failed.
func loadPhase(ctx context.Context, client *http.Client, cfg LoadConfig, mk func(int) (*http.Request, error)) (LoadStats, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var next atomic.Int64
	var mu sync.Mutex
	var lat []float64
	var errs int
	var firstErr error
	start := time.Now()
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= cfg.Requests || ctx.Err() != nil {
					return
				}
				req, err := mk(i)
				if err != nil {
					mu.Lock()
					errs++
					firstErr = err
					mu.Unlock()
					return
				}
				t0 := time.Now()
				resp, err := client.Do(req.WithContext(ctx))
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("%s answered %s", req.URL.Path, resp.Status)
					}
				}
				d := time.Since(t0).Seconds()
				mu.Lock()
				if err == nil {
					lat = append(lat, d)
				} else if ctx.Err() == nil {
					errs++
					if firstErr == nil {
						firstErr = err
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	if len(lat) == 0 {
		if firstErr == nil {
			firstErr = fmt.Errorf("no request finished within %v", cfg.Duration)
		}
		return LoadStats{}, firstErr
	}
	sort.Float64s(lat)
	q := func(p float64) float64 { return 1000 * lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	return LoadStats{Requests: len(lat), Errors: errs, Seconds: elapsed, PerSecond: float64(len(lat)) / elapsed,
		P50ms: q(0.50), P99ms: q(0.99), Concurrency: cfg.Concurrency}, nil
}
