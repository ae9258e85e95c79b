package index

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

func TestWriteOpenSearch(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ix")
	w, err := Create(dir, 4, false)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 300
	raw := make([][]float32, n)
	for i := range raw {
		raw[i] = []float32{float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())}
		if err := w.Add(raw[i], Entry{Path: "img/" + string(rune('a'+i%26)) + ".png", Label: "c,\"x\""}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{EmbeddingsFile, RowsFile} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Mode().Perm() != 0o644 {
			t.Fatalf("%s: mode %v (%v), want 0644", name, st.Mode().Perm(), err)
		}
	}
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ix.N != n || ix.D != 4 || ix.Entries[5].Path != "img/f.png" || ix.Entries[5].Label != "c,\"x\"" {
		t.Fatalf("opened %d×%d, entry %+v", ix.N, ix.D, ix.Entries[5])
	}
	q := append(append([]float32(nil), raw[7]...), raw[42]...)
	hits, err := ix.Search(q, 2, 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	for qi, self := range []int{7, 42} {
		// brute force in float64
		type sc struct {
			row int
			s   float64
		}
		var all []sc
		for i := range raw {
			all = append(all, sc{i, cos(raw[self], raw[i])})
		}
		sort.Slice(all, func(a, b int) bool { return all[a].s > all[b].s })
		for j, h := range hits[qi] {
			if h.Row != all[j].row || math.Abs(float64(h.Score)-all[j].s) > 1e-5 {
				t.Fatalf("query %d hit %d: %+v, want row %d score %.6f", qi, j, h, all[j].row, all[j].s)
			}
		}
		if hits[qi][0].Row != self || hits[qi][0].Score < 0.99999 {
			t.Fatalf("query %d: best hit %+v, want itself", qi, hits[qi][0])
		}
	}
	noSelf, _ := ix.Search(raw[7], 1, 1, func(_, row int) bool { return row == 7 })
	if noSelf[0][0].Row == 7 {
		t.Fatal("skip did not drop the query's own row")
	}
}

func cos(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

func TestDuplicatesAndErrors(t *testing.T) {
	dir := t.TempDir()
	w, _ := Create(dir, 2, true)
	for _, v := range [][]float32{{1, 0}, {0, 1}, {2, 0.001}, {0, 3}, {-1, 0}} {
		w.Add(v, Entry{Path: "p"})
	}
	if err := w.Add([]float32{1}, Entry{}); err == nil {
		t.Fatal("a vector of the wrong length was accepted")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := ix.Duplicates(0.999)
	if len(got) != 2 || got[0].A != 1 || got[0].B != 3 || got[1].A != 0 || got[1].B != 2 {
		t.Fatalf("duplicates %+v, want (1,3) then (0,2)", got)
	}
	os.WriteFile(filepath.Join(dir, RowsFile), []byte("row,path,label\n0,a,\n"), 0o644)
	if _, err := Open(dir); err == nil {
		t.Fatal("an index whose csv and npy disagree was accepted")
	}
}

// Search scores the index in row blocks and queries in groups; the result
// must not depend on the block size (single rows, odd sizes, one block).
func TestSearchBlocksAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, d, nq, k = 500, 8, 300, 7
	ix := &Index{N: n, D: d, Vectors: make([]float32, n*d)}
	for i := range ix.Vectors {
		ix.Vectors[i] = float32(rng.NormFloat64())
	}
	for i := 0; i < n; i++ {
		Normalize(ix.Vectors[i*d : (i+1)*d])
	}
	copy(ix.Vectors[7*d:8*d], ix.Vectors[3*d:4*d]) // a tie: rows 3 and 7
	q := make([]float32, nq*d)
	for i := range q {
		q[i] = float32(rng.NormFloat64())
	}
	copy(q[:d], ix.Vectors[3*d:4*d])
	skip := func(qi, row int) bool { return row == qi }
	want, err := ix.Search(q, nq, k, skip)
	if err != nil {
		t.Fatal(err)
	}
	if want[0][0].Row != 3 || want[0][1].Row != 7 {
		t.Fatalf("tie: %+v, want rows 3 then 7", want[0][:2])
	}
	defer func(c int) { chunkRows = c }(chunkRows)
	for _, c := range []int{50, 5000, 77777} {
		chunkRows = c
		got, err := ix.Search(q, nq, k, skip)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if len(got[i]) != k {
				t.Fatalf("chunk %d query %d: %d hits", c, i, len(got[i]))
			}
			for j := range want[i] {
				if got[i][j] != want[i][j] {
					t.Fatalf("chunk %d query %d hit %d: %+v, want %+v", c, i, j, got[i][j], want[i][j])
				}
				if got[i][j].Row == i {
					t.Fatalf("query %d found its skipped row", i)
				}
			}
		}
	}
}
