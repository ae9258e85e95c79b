package index

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/internal/fuzzing"
)

// FuzzParseRows reads an index.csv; what it accepts, written back the way
// Writer writes it, reads back the same (Writer refuses the entries that
// would not: a CR LF pair, which CSV readers turn into LF). Seeds: testdata/fuzz/FuzzParseRows
// (TestFuzzSeeds, CONTRASTIVE_WRITE_SEEDS=1). Run with
//
//	go test -run XXX -fuzz FuzzParseRows -fuzztime 5m -parallel 1 ./index
func FuzzParseRows(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var rows []Entry
		var err error
		fuzzing.Check(t, 16*uint64(len(b)), func() { rows, err = parseRows(bytes.NewReader(b), "ix/index.csv") })
		if err != nil {
			if !strings.Contains(err.Error(), "ix/index.csv") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		for _, e := range rows {
			if checkEntry(e) != nil {
				return // readable, but Writer refuses to write it
			}
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write([]string{"row", "path", "label"})
		for i, e := range rows {
			w.Write([]string{strconv.Itoa(i), e.Path, e.Label})
		}
		w.Flush()
		again, err := parseRows(&buf, "again")
		if err != nil {
			t.Fatalf("rewritten rows do not parse: %v", err)
		}
		if len(rows) > 0 && !reflect.DeepEqual(again, rows) {
			t.Fatalf("round trip changed the rows: %q → %q", rows, again)
		}
	})
}

func TestFuzzSeeds(t *testing.T) {
	fuzzing.SyncCorpus(t, "FuzzParseRows", []fuzzing.Seed{
		{Name: "rows", Args: []any{[]byte("row,path,label\n0,img/a.png,cat\n1,\"img/b,c.png\",\"c,\"\"x\"\"\"\n2,img/d.png,\n")}},
		{Name: "header-only", Args: []any{[]byte("row,path,label\n")}},
		{Name: "bad-number", Args: []any{[]byte("row,path,label\n1,a,b\n")}},
		{Name: "crlf", Args: []any{[]byte("row,path,label\r\n0,a,b\r\n")}},
		{Name: "short-record", Args: []any{[]byte("row,path,label\n0,a\n")}},
	})
}

// TestWriterRefusesCRLF: an entry that index.csv would not keep is refused
// before anything is written for it.
func TestWriterRefusesCRLF(t *testing.T) {
	w, err := Create(t.TempDir(), 2, false)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if err := w.Add([]float32{1, 2}, Entry{Path: "a\r\nb.png", Label: "x"}); err == nil || !strings.Contains(err.Error(), "row 0: path \"a\\r\\nb.png\" holds a CR LF pair") {
		t.Fatalf("Add: %v", err)
	}
	if err := w.Add([]float32{1, 2}, Entry{Path: "a\rb\n.png", Label: "x"}); err != nil || w.Len() != 1 {
		t.Fatalf("Add of a CR and an LF apart: %v, %d rows", err, w.Len())
	}
}
