package checkpoint

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/internal/version"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Format and FormatVersion are written into every checkpoint's metadata
// (keys "format" and "format_version"), with the version of the program
// that wrote it ("program_version", from internal/version). A reader
// refuses a format version it does not know: newer ones (ErrNewerFormat)
// and malformed ones. Version 1 is the first; a future version 2 must keep
// reading version 1 files or refuse them by name, never misread them.
//
// Safetensors files without format "contrastive" (torchvision weights
// exported by tools/, other programs' files) hold model weights only and
// load as such.
const (
	Format        = "contrastive"
	FormatVersion = 1
)

// Metadata keys of the format and of the writing program's version.
const (
	KeyFormat         = "format"
	KeyFormatVersion  = "format_version"
	KeyProgramVersion = "program_version"
)

// ErrNewerFormat is matched (errors.Is) by the error for a checkpoint
// written in a newer format than this program reads.
var ErrNewerFormat = errors.New("checkpoint format is newer than this program's")

// Reserved name prefixes of training state.
const (
	PrefixOptim  = "optim/"
	PrefixRNG    = "rng/"
	PrefixLoader = "loader/"
	PrefixExtra  = "extra/"
	nameStep     = "train/step"
)

var reserved = []string{PrefixOptim, PrefixRNG, PrefixLoader, PrefixExtra, "train/"}

func isReserved(name string) bool {
	for _, p := range reserved {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// Entry is one named model tensor: float data (F32) or an int64 scalar
// (I64, such as BatchNorm's num_batches_tracked). Loading writes into the
// tensor or the integer it points to.
type Entry struct {
	Name string
	F32  *tensor.Tensor
	I64  *int64
}

// Entries converts any slice of structs with Entry's fields (nn.Entry, as
// nn.State returns) into a []Entry: checkpoint.Entries(nn.State(model)).
func Entries[E ~struct {
	Name string
	F32  *tensor.Tensor
	I64  *int64
}](es []E) []Entry {
	out := make([]Entry, len(es))
	for i, e := range es {
		out[i] = Entry(e)
	}
	return out
}

// ErrMismatch is matched (errors.Is) by every *MismatchError.
var ErrMismatch = errors.New("checkpoint: tensors do not match the model")

// MismatchError lists every model tensor that does not match between a
// file and the destination.
type MismatchError struct {
	Path       string
	Missing    []string // in the model, not in the file
	Unexpected []string // in the file, not in the model
	Shape      []string // "name: file [a b], model [c d]"
	DType      []string // "name: file I64, model F32"
}

func (e *MismatchError) Error() string {
	var parts []string
	add := func(kind string, names []string) {
		if len(names) > 0 {
			parts = append(parts, fmt.Sprintf("%s (%d): %s", kind, len(names), strings.Join(names, ", ")))
		}
	}
	add("missing", e.Missing)
	add("unexpected", e.Unexpected)
	add("shape mismatch", e.Shape)
	add("dtype mismatch", e.DType)
	return fmt.Sprintf("checkpoint: %s: tensors do not match the model: %s", e.Path, strings.Join(parts, "; "))
}

// Is reports whether target is ErrMismatch.
func (e *MismatchError) Is(target error) bool { return target == ErrMismatch }

// Checkpoint is the state of a training run.
type Checkpoint struct {
	Model     []Entry                   // plain (torchvision) names
	Optimizer map[string]*tensor.Tensor // optimizer buffers by name
	Step      int64                     // schedule position: steps taken
	RNG       map[string][]byte         // random-generator states
	Loader    map[string][]int64        // data-loader positions
	Extra     map[string]*tensor.Tensor // queues, memory banks, …
	Config    string                    // the run's configuration, JSON
	Metadata  map[string]string         // anything else (string values)
}

// SaveModel writes model weights (and optional metadata) to path
// atomically.
func SaveModel(path string, model []Entry, meta map[string]string) error {
	return Save(path, &Checkpoint{Model: model, Metadata: meta})
}

// Save writes c to path atomically. Model names must not use the reserved
// prefixes; the error names the first that does.
func Save(path string, c *Checkpoint) error {
	f := safetensors.New()
	for k, v := range c.Metadata {
		f.Metadata[k] = v
	}
	f.Metadata[KeyFormat] = Format
	f.Metadata[KeyFormatVersion] = strconv.Itoa(FormatVersion)
	f.Metadata[KeyProgramVersion] = version.String()
	if c.Config != "" {
		f.Metadata["config"] = c.Config
	}
	for _, e := range c.Model {
		if isReserved(e.Name) || e.Name == "" {
			return fmt.Errorf("checkpoint: save %s: model tensor name %q is empty or uses a reserved prefix", path, e.Name)
		}
		if _, dup := f.Entries[e.Name]; dup {
			return fmt.Errorf("checkpoint: save %s: duplicate model tensor %q", path, e.Name)
		}
		switch {
		case e.F32 != nil:
			f.PutFloat32(e.Name, e.F32)
		case e.I64 != nil:
			f.PutInt64(e.Name, []int64{*e.I64}, []int{}...)
		default:
			return fmt.Errorf("checkpoint: save %s: model tensor %q has no data", path, e.Name)
		}
	}
	for k, v := range c.Optimizer {
		f.PutFloat32(PrefixOptim+k, v)
	}
	for k, v := range c.Extra {
		f.PutFloat32(PrefixExtra+k, v)
	}
	for k, v := range c.RNG {
		f.PutBytes(PrefixRNG+k, v)
	}
	for k, v := range c.Loader {
		f.PutInt64(PrefixLoader+k, v)
	}
	if c.Step != 0 || c.Optimizer != nil {
		f.PutInt64(nameStep, []int64{c.Step}, []int{}...)
	}
	if err := safetensors.Write(path, f); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// LoadOptions selects which file tensors form the model.
type LoadOptions struct {
	// Prefix, if set, loads only the file tensors whose names start with
	// it, with the prefix removed ("encoder." for an encoder saved inside a
	// larger model). Others are ignored.
	Prefix string
	// IgnoreUnexpected accepts model tensors in the file that the
	// destination lacks (a projection head when only the encoder is
	// wanted). Missing tensors are always an error.
	IgnoreUnexpected bool
}

// LoadModel copies the model tensors of the file at path into model and
// returns the file's metadata. Nothing is written unless every tensor
// matches; otherwise the error is a *MismatchError listing every offender.
func LoadModel(path string, model []Entry, opt LoadOptions) (map[string]string, error) {
	f, err := read(path)
	if err != nil {
		return nil, err
	}
	if err := loadModel(path, f, model, opt); err != nil {
		return nil, err
	}
	return f.Metadata, nil
}

// Load reads a training checkpoint, copies its model tensors into model
// (strictly: every name must match) and returns the rest of the state;
// the returned Checkpoint's Model is model.
func Load(path string, model []Entry) (*Checkpoint, error) {
	f, err := read(path)
	if err != nil {
		return nil, err
	}
	if err := loadModel(path, f, model, LoadOptions{}); err != nil {
		return nil, err
	}
	c := &Checkpoint{Model: model, Config: f.Metadata["config"], Metadata: map[string]string{}}
	for k, v := range f.Metadata {
		if k != "config" && k != KeyFormat && k != KeyFormatVersion {
			c.Metadata[k] = v
		}
	}
	for _, name := range f.Names() {
		e := f.Entries[name]
		var err error
		switch {
		case strings.HasPrefix(name, PrefixOptim):
			c.Optimizer = putF32(c.Optimizer, strings.TrimPrefix(name, PrefixOptim), name, f, &err)
		case strings.HasPrefix(name, PrefixExtra):
			c.Extra = putF32(c.Extra, strings.TrimPrefix(name, PrefixExtra), name, f, &err)
		case strings.HasPrefix(name, PrefixRNG):
			if c.RNG == nil {
				c.RNG = map[string][]byte{}
			}
			c.RNG[strings.TrimPrefix(name, PrefixRNG)] = append([]byte(nil), e.Data...)
		case strings.HasPrefix(name, PrefixLoader):
			var v []int64
			v, _, err = f.Int64(name)
			if c.Loader == nil {
				c.Loader = map[string][]int64{}
			}
			c.Loader[strings.TrimPrefix(name, PrefixLoader)] = v
		case name == nameStep:
			var v []int64
			v, _, err = f.Int64(name)
			if err == nil && len(v) != 1 {
				err = fmt.Errorf("%s has %d values, want 1", name, len(v))
			}
			if err == nil {
				c.Step = v[0]
			}
		}
		if err != nil {
			return nil, fmt.Errorf("checkpoint: %s: %w", path, err)
		}
	}
	return c, nil
}

func putF32(m map[string]*tensor.Tensor, key, name string, f *safetensors.File, errp *error) map[string]*tensor.Tensor {
	if m == nil {
		m = map[string]*tensor.Tensor{}
	}
	t, err := f.Float32(name)
	if err != nil {
		*errp = err
		return m
	}
	m[key] = t
	return m
}

func read(path string) (*safetensors.File, error) {
	f, err := safetensors.Read(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if err := checkFormat(f.Metadata); err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	return f, nil
}

// checkFormat accepts the format versions this program reads.
func checkFormat(meta map[string]string) error {
	if meta[KeyFormat] != Format {
		return nil // weights from elsewhere: no training state to misread
	}
	writer := ""
	if v := meta[KeyProgramVersion]; v != "" {
		writer = " (written by contrastive " + v + ")"
	}
	v, ok := meta[KeyFormatVersion]
	if !ok {
		return fmt.Errorf("format %s without a format_version%s: damaged, or not a checkpoint of this program", Format, writer)
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil || n < 1:
		return fmt.Errorf("bad format_version %q%s: want an integer from 1 to %d", v, writer, FormatVersion)
	case n > FormatVersion:
		return fmt.Errorf("%w: format version %d%s, this program (contrastive %s) reads versions up to %d; upgrade contrastive to read it",
			ErrNewerFormat, n, writer, version.String(), FormatVersion)
	}
	return nil
}

func loadModel(path string, f *safetensors.File, model []Entry, opt LoadOptions) error {
	file := map[string]*safetensors.Entry{}
	for name, e := range f.Entries {
		if isReserved(name) {
			continue
		}
		if opt.Prefix != "" {
			if !strings.HasPrefix(name, opt.Prefix) {
				continue
			}
			name = strings.TrimPrefix(name, opt.Prefix)
		}
		file[name] = e
	}
	mm := &MismatchError{Path: path}
	want := map[string]bool{}
	for _, m := range model {
		if want[m.Name] {
			return fmt.Errorf("checkpoint: load %s: duplicate model tensor %q", path, m.Name)
		}
		want[m.Name] = true
		e, ok := file[m.Name]
		if !ok {
			mm.Missing = append(mm.Missing, m.Name)
			continue
		}
		switch {
		case m.F32 != nil:
			if e.DType != "F32" {
				mm.DType = append(mm.DType, fmt.Sprintf("%s: file %s, model F32", m.Name, e.DType))
			} else if !tensor.EqualShape(e.Shape, m.F32.Shape()) {
				mm.Shape = append(mm.Shape, fmt.Sprintf("%s: file %v, model %v", m.Name, e.Shape, m.F32.Shape()))
			}
		case m.I64 != nil:
			if e.DType != "I64" {
				mm.DType = append(mm.DType, fmt.Sprintf("%s: file %s, model I64", m.Name, e.DType))
			} else if len(e.Data) != 8 {
				mm.Shape = append(mm.Shape, fmt.Sprintf("%s: file %v, model []", m.Name, e.Shape))
			}
		default:
			return fmt.Errorf("checkpoint: load %s: model tensor %q has no destination", path, m.Name)
		}
	}
	if !opt.IgnoreUnexpected {
		for name := range file {
			if !want[name] {
				mm.Unexpected = append(mm.Unexpected, name)
			}
		}
		sort.Strings(mm.Unexpected)
	}
	if len(mm.Missing)+len(mm.Unexpected)+len(mm.Shape)+len(mm.DType) > 0 {
		return mm
	}
	for _, m := range model {
		e := file[m.Name]
		if m.F32 != nil {
			d := m.F32.Data
			for i := range d {
				d[i] = math.Float32frombits(binary.LittleEndian.Uint32(e.Data[4*i:]))
			}
		} else {
			*m.I64 = int64(binary.LittleEndian.Uint64(e.Data))
		}
	}
	return nil
}
