package serve

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestLoadTestLoopbackOnly(t *testing.T) {
	for _, u := range []string{"http://10.0.0.1:8080", "http://example.com", "ftp://127.0.0.1", "127.0.0.1:80", "http://[2001:db8::1]:80", "http://0.0.0.0:8080"} {
		if _, err := LoadTest(context.Background(), LoadConfig{URL: u, Requests: 1, Duration: time.Second, Concurrency: 1, K: 1}); err == nil {
			t.Errorf("%s: accepted", u)
		}
	}
	for _, u := range []string{"http://127.0.0.1:1", "http://localhost:1", "http://[::1]:1"} {
		if _, err := checkLoopback(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
}

func TestLoadTest(t *testing.T) {
	f := newFixture(t, 30, Limits{}, false)
	stats, err := LoadTest(context.Background(), LoadConfig{URL: f.ts.URL, Image: f.pngs[3], ContentType: "image/png",
		Requests: 40, Duration: 20 * time.Second, Concurrency: 4, K: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 3 {
		t.Fatalf("%d phases", len(stats))
	}
	for _, s := range stats {
		if s.Requests != 40 || s.Errors != 0 || s.PerSecond <= 0 || s.P50ms <= 0 || s.P99ms < s.P50ms || s.CPUms <= 0 {
			t.Errorf("%+v", s)
		}
	}
	// A phase whose every request fails is an error that says why.
	_, err = LoadTest(context.Background(), LoadConfig{URL: f.ts.URL, Image: []byte("not an image"), ContentType: "image/png",
		Requests: 3, Duration: 5 * time.Second, Concurrency: 1, K: 5})
	if err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("uploads of a non-image: %v", err)
	}
}
