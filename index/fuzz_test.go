package index

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"contrastive/internal/fuzzing"
)

// FuzzParseRows reads an index.csv; what it accepts, written back the way
// Writer writes it, reads back the same. Seeds: testdata/fuzz/FuzzParseRows
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
