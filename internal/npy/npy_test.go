package npy

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestRoundTripAndHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.npy")
	w, err := Create(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]float32{1, 2, 3, 4, 5, 6}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]float32{-1.5, 0, 7}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("file visible before Close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	// numpy.save's layout: magic, version 1.0, header length, dict, padded
	// with spaces and ended by a newline so the data starts 64-aligned.
	want := "\x93NUMPY\x01\x00\x76\x00{'descr': '<f4', 'fortran_order': False, 'shape': (3, 3), }"
	if !bytes.HasPrefix(b, []byte(want)) || b[127] != '\n' || len(b) != 128+36 {
		t.Fatalf("header %q (len %d)", b[:128], len(b))
	}
	data, r, c, err := Read(path)
	if err != nil || r != 3 || c != 3 || data[6] != -1.5 || data[8] != 7 {
		t.Fatalf("read %v %d×%d %v", data, r, c, err)
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
}

func TestDecodeRefusesBadHeaders(t *testing.T) {
	good := append(header(2, 2), make([]byte, 16)...)
	cases := map[string][]byte{
		"magic":     append([]byte("XNUMPY"), good[6:]...),
		"truncated": good[:len(good)-4],
		"huge":      append(header(1<<40, 1<<20), 0, 0, 0, 0),
		"dtype":     bytes.Replace(good, []byte("<f4"), []byte("<f8"), 1),
		"short":     good[:5],
	}
	for name, b := range cases {
		if _, _, _, err := Decode(bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err %v, want ErrFormat", name, err)
		}
	}
}
