package npy

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/contrastive-ssl/contrastive/internal/fuzzing"
)

// FuzzDecode decodes a .npy image, with its size known (as Read does) and
// unknown (a stream); both agree, and what decodes re-encodes to a file
// that decodes to the same values. Seeds: testdata/fuzz/FuzzDecode
// (TestFuzzSeeds, CONTRASTIVE_WRITE_SEEDS=1). Run with
//
//	go test -run XXX -fuzz FuzzDecode -fuzztime 5m -parallel 1 ./internal/npy
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var data, data2 []float32
		var rows, cols, rows2, cols2 int
		var err, err2 error
		// Values grow with the bytes read; an unknown size starts with at
		// most 1<<20 values' room whatever the header claims.
		fuzzing.Check(t, 16*uint64(len(b))+4<<20+1<<17, func() {
			data, rows, cols, err = Decode(bytes.NewReader(b), int64(len(b)))
			data2, rows2, cols2, err2 = Decode(bytes.NewReader(b), -1)
		})
		if err == nil && (err2 != nil || rows2 != rows || cols2 != cols || !sameBits(data, data2)) {
			t.Fatalf("known size decodes (%d, %d); unknown size gives (%d, %d, %v)", rows, cols, rows2, cols2, err2)
		}
		if err != nil {
			return
		}
		if len(data) != rows*cols {
			t.Fatalf("shape (%d, %d) with %d values", rows, cols, len(data))
		}
		enc := header(rows, cols)
		for _, v := range data {
			enc = binary.LittleEndian.AppendUint32(enc, math.Float32bits(v))
		}
		again, r, c, err := Decode(bytes.NewReader(enc), int64(len(enc)))
		if err != nil || r != rows || c != cols || !sameBits(again, data) {
			t.Fatalf("re-encoded file decodes to (%d, %d, %v)", r, c, err)
		}
	})
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestFuzzSeeds(t *testing.T) {
	two := header(2, 3)
	for i := range 6 {
		two = binary.LittleEndian.AppendUint32(two, math.Float32bits(float32(i)-2.5))
	}
	// numpy.save's own layout: version 1.0, header padded to 64 bytes.
	np := []byte("\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }                                                            \n")
	np = append(np, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40)
	v2 := append([]byte("\x93NUMPY\x02\x00\x76\x00\x00\x00"), np[10:]...)
	fuzzing.SyncCorpus(t, "FuzzDecode", []fuzzing.Seed{
		{Name: "writer", Args: []any{two}},
		{Name: "numpy", Args: []any{np}},
		{Name: "version2", Args: []any{v2}},
		{Name: "empty", Args: []any{header(0, 4)}},
		{Name: "truncated", Args: []any{two[:len(two)-2]}},
		{Name: "fortran", Args: []any{bytes.Replace(two, []byte("False"), []byte("True "), 1)}},
		{Name: "huge", Args: []any{header(1<<30, 1<<30)}},
	})
}
