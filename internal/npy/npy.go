// Package npy reads and writes 2-D float32 arrays in NumPy's .npy format
// (version 1.0, little-endian '<f4', C order), the file numpy.load reads.
// The writer streams rows of a matrix whose row count is known only at the
// end: it reserves a fixed-size header and rewrites it on Close.
package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
)

var magic = []byte("\x93NUMPY")

// headerLen is the fixed length of the header the writer reserves (magic,
// version, length and the padded dictionary): room for any row count.
const headerLen = 128

// MaxElements bounds what Read accepts from a header before allocating
// (1<<31 float32 values, 8 GiB); larger files are refused, not allocated.
const MaxElements = 1 << 31

func header(rows, cols int) []byte {
	dict := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", rows, cols)
	n := headerLen - 10 - len(dict) - 1
	b := make([]byte, 0, headerLen)
	b = append(b, magic...)
	b = append(b, 1, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(headerLen-10))
	b = append(b, dict...)
	b = append(b, bytes.Repeat([]byte{' '}, n)...)
	return append(b, '\n')
}

// Writer streams the rows of an N×cols float32 matrix into a .npy file.
// The file appears under its name only when Close succeeds (written to a
// temporary file in the same directory and renamed), so an interrupted
// write never leaves a truncated array behind.
type Writer struct {
	path, tmp string
	f         *os.File
	w         *bufio.Writer
	cols      int
	rows      int
	buf       []byte
}

// Create starts a .npy file of rows of cols float32 values.
func Create(path string, cols int) (*Writer, error) {
	if cols <= 0 {
		return nil, fmt.Errorf("npy: %s: %d columns", path, cols)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	// CreateTemp makes the file private (0600); the array is an ordinary
	// output file, readable like any other the program writes.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("npy: %w", err)
	}
	w := &Writer{path: path, tmp: f.Name(), f: f, w: bufio.NewWriterSize(f, 1<<20), cols: cols}
	if _, err := w.w.Write(header(0, cols)); err != nil {
		w.Abort()
		return nil, fmt.Errorf("npy: %s: %w", path, err)
	}
	return w, nil
}

// Write appends one or more rows (len(v) a multiple of cols).
func (w *Writer) Write(v []float32) error {
	if len(v)%w.cols != 0 {
		return fmt.Errorf("npy: %s: %d values are not whole rows of %d", w.path, len(v), w.cols)
	}
	w.buf = w.buf[:0]
	for _, x := range v {
		w.buf = binary.LittleEndian.AppendUint32(w.buf, math.Float32bits(x))
	}
	if _, err := w.w.Write(w.buf); err != nil {
		return fmt.Errorf("npy: %s: %w", w.path, err)
	}
	w.rows += len(v) / w.cols
	return nil
}

// Rows is the number of rows written so far.
func (w *Writer) Rows() int { return w.rows }

// Close writes the final header, syncs and renames the file into place.
func (w *Writer) Close() error {
	err := w.w.Flush()
	if err == nil {
		_, err = w.f.WriteAt(header(w.rows, w.cols), 0)
	}
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.tmp, w.path)
	}
	if err != nil {
		os.Remove(w.tmp)
		return fmt.Errorf("npy: writing %s: %w", w.path, err)
	}
	return nil
}

// Abort discards the partial file.
func (w *Writer) Abort() {
	w.f.Close()
	os.Remove(w.tmp)
}

var (
	reDescr = regexp.MustCompile(`'descr'\s*:\s*'([^']*)'`)
	reOrder = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	reShape = regexp.MustCompile(`'shape'\s*:\s*\(\s*(\d+)\s*,\s*(\d+)\s*,?\s*\)`)
)

// ErrFormat is wrapped by every error about a malformed file.
var ErrFormat = errors.New("not a 2-D little-endian float32 .npy array")

// Decode reads a 2-D '<f4' C-order array from r (size: the bytes that r
// holds, used to refuse a header that claims more data than there is
// before allocating; <0 when unknown).
func Decode(r io.Reader, size int64) (data []float32, rows, cols int, err error) {
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, 0, 0, fmt.Errorf("%w: short header: %v", ErrFormat, err)
	}
	if !bytes.Equal(pre[:6], magic) {
		return nil, 0, 0, fmt.Errorf("%w: bad magic", ErrFormat)
	}
	var hl int
	rest := 10
	switch pre[6] {
	case 1:
		hl = int(binary.LittleEndian.Uint16(pre[8:]))
	case 2, 3:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return nil, 0, 0, fmt.Errorf("%w: short header", ErrFormat)
		}
		hl = int(binary.LittleEndian.Uint32(append(pre[8:10:10], ext[:]...)))
		rest = 12
	default:
		return nil, 0, 0, fmt.Errorf("%w: version %d.%d", ErrFormat, pre[6], pre[7])
	}
	if hl > 1<<16 {
		return nil, 0, 0, fmt.Errorf("%w: header of %d bytes", ErrFormat, hl)
	}
	h := make([]byte, hl)
	if _, err := io.ReadFull(r, h); err != nil {
		return nil, 0, 0, fmt.Errorf("%w: short header: %v", ErrFormat, err)
	}
	d := reDescr.FindSubmatch(h)
	o := reOrder.FindSubmatch(h)
	s := reShape.FindSubmatch(h)
	if d == nil || o == nil || s == nil {
		return nil, 0, 0, fmt.Errorf("%w: header %q", ErrFormat, bytes.TrimSpace(h))
	}
	if string(d[1]) != "<f4" || string(o[1]) != "False" {
		return nil, 0, 0, fmt.Errorf("%w: dtype %s, fortran_order %s", ErrFormat, d[1], o[1])
	}
	rows, err1 := strconv.Atoi(string(s[1]))
	cols, err2 := strconv.Atoi(string(s[2]))
	if err1 != nil || err2 != nil || rows < 0 || cols < 0 || (cols > 0 && rows > MaxElements/cols) || cols > MaxElements {
		return nil, 0, 0, fmt.Errorf("%w: shape (%s, %s)", ErrFormat, s[1], s[2])
	}
	n := int64(rows) * int64(cols)
	if size >= 0 && int64(rest+hl)+4*n != size {
		return nil, 0, 0, fmt.Errorf("%w: shape (%d, %d) needs %d data bytes, the file holds %d", ErrFormat, rows, cols, 4*n, size-int64(rest+hl))
	}
	data = make([]float32, 0, min(n, 1<<20))
	buf := make([]byte, 1<<16)
	for left := 4 * n; left > 0; {
		m := min(left, int64(len(buf)))
		if _, err := io.ReadFull(r, buf[:m]); err != nil {
			return nil, 0, 0, fmt.Errorf("%w: data truncated after %d of %d values", ErrFormat, len(data), n)
		}
		for i := int64(0); i < m; i += 4 {
			data = append(data, math.Float32frombits(binary.LittleEndian.Uint32(buf[i:])))
		}
		left -= m
	}
	return data, rows, cols, nil
}

// Read reads a 2-D float32 .npy file.
func Read(path string) (data []float32, rows, cols int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("npy: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, 0, fmt.Errorf("npy: %w", err)
	}
	data, rows, cols, err = Decode(bufio.NewReaderSize(f, 1<<20), st.Size())
	if err != nil {
		return nil, 0, 0, fmt.Errorf("npy: %s: %w", path, err)
	}
	return data, rows, cols, nil
}
