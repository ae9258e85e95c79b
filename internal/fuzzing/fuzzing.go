// Package fuzzing holds what the project's fuzz targets share: a
// measurement of the heap bytes a function allocates, so that a target can
// check that a parser allocates no more than a bound set by what its input
// declares (a header's sizes, the input's length), and a writer for the
// seed corpora committed under each package's testdata/fuzz.
//
// The allocation count comes from runtime/metrics and covers every
// goroutine. Large allocations are counted when made, small ones when
// their span is refilled, and the fuzzing engine allocates beside the
// target, so a measurement can be off by a MiB or so: bounds carry Slack.
// That is far below what the checks are for: a header that makes a parser
// allocate hundreds of MiB before it finds that the data is not there.
package fuzzing

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"testing"
)

// Slack is the measurement error a bound should allow for.
const Slack = 4 << 20

// Bytes returns the heap bytes allocated while fn ran.
func Bytes(fn func()) uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	before := s[0].Value.Uint64()
	fn()
	metrics.Read(s)
	return s[0].Value.Uint64() - before
}

// Check fails t when fn allocates more than bound+Slack bytes.
func Check(t testing.TB, bound uint64, fn func()) {
	t.Helper()
	if got := Bytes(fn); got > bound+Slack {
		t.Fatalf("allocated %d bytes, bound %d (+%d slack)", got, bound, Slack)
	}
}

// Seed is one entry of a seed corpus: a name and the target's arguments
// ([]byte, string, bool or int values).
type Seed struct {
	Name string
	Args []any
}

// Encode renders args in the "go test fuzz v1" corpus file format.
func Encode(args ...any) []byte {
	var b bytes.Buffer
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%s)\n", strconv.Quote(string(v)))
		case string:
			fmt.Fprintf(&b, "string(%s)\n", strconv.Quote(v))
		case bool:
			fmt.Fprintf(&b, "bool(%v)\n", v)
		case int:
			fmt.Fprintf(&b, "int(%d)\n", v)
		default:
			panic(fmt.Sprintf("fuzzing: unsupported corpus value %T", a))
		}
	}
	return b.Bytes()
}

// SyncCorpus compares the seed corpus of target under testdata/fuzz with
// seeds (files named seed-NAME; other files, the regression cases of past
// findings, are left alone). With the environment variable
// CONTRASTIVE_WRITE_SEEDS=1 it writes the files; otherwise a missing file
// fails t, naming the command that writes them. The bytes are not
// compared: encoders (gzip, JPEG) may change between Go releases, and
// any seed is as good as another.
func SyncCorpus(t *testing.T, target string, seeds []Seed) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	write := os.Getenv("CONTRASTIVE_WRITE_SEEDS") == "1"
	if write {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range seeds {
		p := filepath.Join(dir, "seed-"+s.Name)
		want := Encode(s.Args...)
		if write {
			if err := os.WriteFile(p, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := os.Stat(p); err != nil {
			t.Errorf("seed corpus file %s is missing: rerun with CONTRASTIVE_WRITE_SEEDS=1 (%v)", p, err)
		}
	}
}
