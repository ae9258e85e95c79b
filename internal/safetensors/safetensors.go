// Package safetensors reads and writes the safetensors format
// (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length, a JSON header mapping tensor names to dtype, shape and byte
// offsets (plus an optional "__metadata__" string map), then the raw
// little-endian tensor bytes. It executes no code and loads nothing but
// numbers, so checkpoints from anywhere are safe to open.
//
// Checkpoints, exported weights and the test fixtures written by tools/
// all use this format.
package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/contrastive-ssl/contrastive/tensor"
)

// Entry is one named tensor as stored: dtype ("F32", "I64", "I32", "U8",
// "F64"), shape and raw little-endian bytes.
type Entry struct {
	DType string
	Shape []int
	Data  []byte
}

// File is the content of a safetensors file.
type File struct {
	Metadata map[string]string
	Entries  map[string]*Entry
}

// New returns an empty File.
func New() *File { return &File{Metadata: map[string]string{}, Entries: map[string]*Entry{}} }

var dtypeSize = map[string]int{"F32": 4, "F64": 8, "I64": 8, "I32": 4, "U8": 1, "F16": 2, "BF16": 2, "I8": 1, "I16": 2, "BOOL": 1}

type headerEntry struct {
	DType   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// maxHeader bounds the JSON header so a corrupt length cannot make us
// allocate gigabytes.
const maxHeader = 100 << 20

// Parse decodes a safetensors image held in memory. Errors say what is
// wrong (truncated, bad header, offsets out of range); callers add the path.
func Parse(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("safetensors: truncated: %d bytes, need at least 8", len(b))
	}
	n := binary.LittleEndian.Uint64(b[:8])
	if n > maxHeader || n > uint64(len(b)-8) {
		return nil, fmt.Errorf("safetensors: header length %d exceeds file size %d (truncated or not a safetensors file)", n, len(b))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &raw); err != nil {
		return nil, fmt.Errorf("safetensors: bad JSON header: %w", err)
	}
	data := b[8+n:]
	f := New()
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &f.Metadata); err != nil {
				return nil, fmt.Errorf("safetensors: bad __metadata__: %w", err)
			}
			continue
		}
		var h headerEntry
		if err := json.Unmarshal(msg, &h); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: bad header entry: %w", name, err)
		}
		size, ok := dtypeSize[h.DType]
		if !ok {
			return nil, fmt.Errorf("safetensors: tensor %q: unknown dtype %q", name, h.DType)
		}
		count := int64(1)
		for _, d := range h.Shape {
			if d < 0 {
				return nil, fmt.Errorf("safetensors: tensor %q: negative dimension in shape %v", name, h.Shape)
			}
			if d > 0 && count > math.MaxInt64/int64(size)/int64(d) {
				return nil, fmt.Errorf("safetensors: tensor %q: shape %v is too large", name, h.Shape)
			}
			count *= int64(d)
		}
		lo, hi := h.Offsets[0], h.Offsets[1]
		if lo < 0 || hi < lo || hi > int64(len(data)) {
			return nil, fmt.Errorf("safetensors: tensor %q: data offsets [%d, %d) outside the %d data bytes (truncated file?)", name, lo, hi, len(data))
		}
		if hi-lo != count*int64(size) {
			return nil, fmt.Errorf("safetensors: tensor %q: %d bytes for %s shape %v, want %d", name, hi-lo, h.DType, h.Shape, count*int64(size))
		}
		f.Entries[name] = &Entry{DType: h.DType, Shape: h.Shape, Data: data[lo:hi:hi]}
	}
	return f, nil
}

// Read reads and parses the file at path; errors name the path.
func Read(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return f, nil
}

// Names returns the tensor names in sorted order.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Entries))
	for n := range f.Entries {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// PutFloat32 stores t under name as F32.
func (f *File) PutFloat32(name string, t *tensor.Tensor) {
	b := make([]byte, 4*len(t.Data))
	for i, v := range t.Data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	f.Entries[name] = &Entry{DType: "F32", Shape: append([]int{}, t.Shape()...), Data: b}
}

// PutInt64 stores integer values under name as I64 with the given shape.
func (f *File) PutInt64(name string, vals []int64, shape ...int) {
	b := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	if shape == nil {
		shape = []int{len(vals)}
	}
	f.Entries[name] = &Entry{DType: "I64", Shape: shape, Data: b}
}

// PutBytes stores raw bytes under name as U8 (RNG states, opaque blobs).
func (f *File) PutBytes(name string, b []byte) {
	f.Entries[name] = &Entry{DType: "U8", Shape: []int{len(b)}, Data: append([]byte(nil), b...)}
}

// Float32 returns the tensor called name as float32 (F32 or F64 stored).
func (f *File) Float32(name string) (*tensor.Tensor, error) {
	e, ok := f.Entries[name]
	if !ok {
		return nil, fmt.Errorf("safetensors: no tensor %q", name)
	}
	t := tensor.New(e.Shape...)
	switch e.DType {
	case "F32":
		for i := range t.Data {
			t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(e.Data[4*i:]))
		}
	case "F64":
		for i := range t.Data {
			t.Data[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(e.Data[8*i:])))
		}
	default:
		return nil, fmt.Errorf("safetensors: tensor %q has dtype %s, want F32", name, e.DType)
	}
	return t, nil
}

// Int64 returns the integer tensor called name (I64 or I32 stored).
func (f *File) Int64(name string) ([]int64, []int, error) {
	e, ok := f.Entries[name]
	if !ok {
		return nil, nil, fmt.Errorf("safetensors: no tensor %q", name)
	}
	switch e.DType {
	case "I64":
		out := make([]int64, len(e.Data)/8)
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(e.Data[8*i:]))
		}
		return out, e.Shape, nil
	case "I32":
		out := make([]int64, len(e.Data)/4)
		for i := range out {
			out[i] = int64(int32(binary.LittleEndian.Uint32(e.Data[4*i:])))
		}
		return out, e.Shape, nil
	}
	return nil, nil, fmt.Errorf("safetensors: tensor %q has dtype %s, want I64", name, e.DType)
}

// Ints is Int64 converted to []int.
func (f *File) Ints(name string) ([]int, error) {
	v, _, err := f.Int64(name)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out, nil
}

// Bytes returns the raw bytes of the tensor called name.
func (f *File) Bytes(name string) ([]byte, error) {
	e, ok := f.Entries[name]
	if !ok {
		return nil, fmt.Errorf("safetensors: no tensor %q", name)
	}
	return e.Data, nil
}

// Encode serialises f. Tensors are laid out in sorted name order, each
// aligned to 8 bytes in the data section as the reference writer does.
func (f *File) Encode() ([]byte, error) {
	header := map[string]any{}
	if len(f.Metadata) > 0 {
		header["__metadata__"] = f.Metadata
	}
	var off int64
	names := f.Names()
	for _, name := range names {
		e := f.Entries[name]
		header[name] = headerEntry{DType: e.DType, Shape: nonNil(e.Shape), Offsets: [2]int64{off, off + int64(len(e.Data))}}
		off += int64(len(e.Data))
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return nil, fmt.Errorf("safetensors: encode header: %w", err)
	}
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	out := make([]byte, 8, 8+len(hj)+int(off))
	binary.LittleEndian.PutUint64(out, uint64(len(hj)))
	out = append(out, hj...)
	for _, name := range names {
		out = append(out, f.Entries[name].Data...)
	}
	return out, nil
}

func nonNil(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}

// Write encodes f and writes it to path atomically: a temporary file in
// the same directory, synced, then renamed over path. A crash leaves
// either the old file or the new one, never a torn one.
func Write(path string, f *File) error {
	b, err := f.Encode()
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return WriteFileAtomic(path, b)
}

// WriteFileAtomic writes b to path through a temporary file and a rename.
// When any step fails (a full disk, a read-only file system, no
// permission) the error names path, the temporary file is removed and the
// file at path, if any, is untouched.
func WriteFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	tmp, err := fsys.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	name := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		fsys.Remove(name)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fail(err)
	}
	if _, err := tmp.Write(b); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		fsys.Remove(name)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := fsys.Rename(name, path); err != nil {
		fsys.Remove(name)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
