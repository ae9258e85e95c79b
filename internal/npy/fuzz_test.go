package npy

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
)

func encode(rows, cols int, v []float32) []byte {
	b := header(rows, cols)
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// FuzzDecode feeds arbitrary bytes to Decode, with the size known and
// unknown: it must fail with ErrFormat or return rows×cols values that
// re-encode and decode to the same bits, and must never panic or allocate
// beyond what the input holds.
func FuzzDecode(f *testing.F) {
	f.Add(encode(2, 3, []float32{1, 2, 3, 4, 5, 6}))
	f.Add(encode(0, 4, nil))
	f.Add(encode(1, 1, []float32{float32(math.NaN())}))
	f.Add([]byte("\x93NUMPY\x01\x00\x1e\x00{'descr': '<f8', 'shape': (1,)}\n"))
	f.Add([]byte("\x93NUMPY\x02\x00\x40\x00\x00\x00{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }      \n\x00\x00\x80\x3f"))
	f.Add([]byte("\x93NUMPY\x01\x00\x46\x00{'descr': '<f4', 'fortran_order': False, 'shape': (99999999, 99999999), }\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, size := range []int64{int64(len(b)), -1} {
			data, rows, cols, err := Decode(bytes.NewReader(b), size)
			if err != nil {
				continue
			}
			if len(data) != rows*cols {
				t.Fatalf("%d values for shape (%d, %d)", len(data), rows, cols)
			}
			if cols == 0 {
				continue
			}
			again, r2, c2, err := Decode(bytes.NewReader(encode(rows, cols, data)), -1)
			if err != nil || r2 != rows || c2 != cols {
				t.Fatalf("re-encoded (%d, %d) decoded as (%d, %d): %v", rows, cols, r2, c2, err)
			}
			for i := range data {
				if math.Float32bits(again[i]) != math.Float32bits(data[i]) {
					t.Fatalf("value %d: %x became %x", i, math.Float32bits(data[i]), math.Float32bits(again[i]))
				}
			}
		}
	})
}
