package index

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"testing"
)

// FuzzParseRows feeds arbitrary bytes to the index.csv reader: it must
// return an error or rows that survive a write-and-read round trip, and
// never panic.
func FuzzParseRows(f *testing.F) {
	f.Add([]byte("row,path,label\n0,a.png,cat\n1,\"b,c.png\",\n"))
	f.Add([]byte("row,path,label\n"))
	f.Add([]byte("row,path,label\n1,a.png,cat\n"))
	f.Add([]byte("row,path\n0,a\n"))
	f.Add([]byte("row,path,label\n0,\"a\nb\",\"x\"\"y\"\n"))
	f.Add([]byte{0xff, 0xfe, ',', '\n'})
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := parseRows(bytes.NewReader(b), "fuzz.csv")
		if err != nil {
			return
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write([]string{"row", "path", "label"})
		for i, e := range rows {
			w.Write([]string{strconv.Itoa(i), e.Path, e.Label})
		}
		w.Flush()
		again, err := parseRows(&buf, "again.csv")
		if err != nil {
			t.Fatalf("rows %q did not read back: %v", rows, err)
		}
		if len(again) != len(rows) {
			t.Fatalf("%d rows read back as %d", len(rows), len(again))
		}
		for i := range rows {
			// encoding/csv turns \r\n inside quoted fields into \n, so
			// compare after that normalisation.
			if norm(again[i].Path) != norm(rows[i].Path) || norm(again[i].Label) != norm(rows[i].Label) {
				t.Fatalf("row %d: %q read back as %q", i, rows[i], again[i])
			}
		}
	})
}

func norm(s string) string { return string(bytes.ReplaceAll([]byte(s), []byte("\r\n"), []byte("\n"))) }
