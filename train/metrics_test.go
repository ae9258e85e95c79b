package train

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMetricsResumeTruncatesAndPlots(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "metrics.jsonl")
	m, err := OpenMetrics(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	acc := 0.42
	for s := 1; s <= 10; s++ {
		m.Write(Record{Step: s, Loss: 5 - float64(s)/10, LR: 0.1})
	}
	m.Write(Record{Step: 10, KNNTop1: &acc})
	m.Close()
	// A resume from step 6 keeps steps 1..6 only.
	m, err = OpenMetrics(path, 6)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	recs, err := ReadMetrics(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 6 || recs[5].Step != 6 || recs[5].Loss != 5-0.6 {
		t.Fatalf("after resume at 6: %d records, last %+v", len(recs), recs[len(recs)-1])
	}
	png := filepath.Join(dir, "loss.png")
	if err := PlotCurves(png, append(recs, Record{Step: 6, KNNTop1: &acc})); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(png)
	if err != nil || len(b) < 1000 || string(b[1:4]) != "PNG" {
		t.Fatalf("loss.png: %d bytes, err %v", len(b), err)
	}
}

func TestReadProcessStats(t *testing.T) {
	ps := readProcessStats()
	if ps.Goroutines < 1 || ps.HeapBytes <= 0 {
		t.Fatalf("process stats %+v: want at least one goroutine and a positive heap", ps)
	}
	if _, err := os.Stat("/proc/self/statm"); err == nil && (ps.RSSBytes < 1<<20 || ps.OpenFDs < 3) {
		t.Fatalf("process stats %+v: on Linux want RSS >= 1 MiB and >= 3 open files", ps)
	}
}

// A run killed while appending a record leaves a torn last line; resuming
// must drop it (found by the soak run: every resume after such a kill
// failed with "unexpected end of JSON input").
func TestMetricsTornLastLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	good := "{\"step\":10,\"loss\":1.5}\n{\"step\":20,\"loss\":1.25}\n"
	if err := os.WriteFile(path, []byte(good+"{\"step\":30,\"lo"), 0o644); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadMetrics(path)
	if err != nil || len(recs) != 2 || recs[1].Step != 20 || recs[1].Loss != 1.25 {
		t.Fatalf("ReadMetrics of a torn file: %+v, %v; want the two whole records", recs, err)
	}
	m, err := OpenMetrics(path, 20)
	if err != nil {
		t.Fatal(err)
	}
	m.Flush()
	if b, _ := os.ReadFile(path); string(b) != "{\"step\":10,\"epoch\":0,\"loss\":1.5,\"lr\":0,\"images_per_sec\":0,\"elapsed_s\":0}\n{\"step\":20,\"epoch\":0,\"loss\":1.25,\"lr\":0,\"images_per_sec\":0,\"elapsed_s\":0}\n" {
		t.Fatalf("rewritten log:\n%s", b)
	}
	// A malformed line that is not the last is still an error naming it.
	os.WriteFile(path, []byte("{\"step\":1}\n{bad}\n{\"step\":2}\n"), 0o644)
	if _, err := ReadMetrics(path); err == nil || !strings.Contains(err.Error(), "metrics.jsonl:2") {
		t.Fatalf("malformed middle line: %v, want an error naming line 2", err)
	}
}
