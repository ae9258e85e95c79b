package checkpoint_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/checkpoint"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/internal/version"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// small is a two-tensor model state.
func small() []checkpoint.Entry {
	n := int64(5)
	return []checkpoint.Entry{{Name: "w", F32: tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)}, {Name: "n", I64: &n}}
}

// craft saves a checkpoint of small() at step 9 and rewrites its metadata
// with edit, as a file from another version of the program would be.
func craft(t *testing.T, edit func(meta map[string]string)) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.safetensors")
	if err := checkpoint.Save(p, &checkpoint.Checkpoint{Model: small(), Step: 9, Optimizer: map[string]*tensor.Tensor{"m": tensor.Full(1, 2)}}); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Read(p)
	if err != nil {
		t.Fatal(err)
	}
	edit(f.Metadata)
	if err := safetensors.Write(p, f); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVersionRecorded(t *testing.T) {
	p := craft(t, func(map[string]string) {})
	f, err := safetensors.Read(p)
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata["format"] != "contrastive" || f.Metadata["format_version"] != "1" || f.Metadata["program_version"] != version.String() || version.String() == "" {
		t.Fatalf("metadata %v, want format contrastive 1 and program_version %q", f.Metadata, version.String())
	}
}

func TestVersionRefusedClearly(t *testing.T) {
	for _, c := range []struct {
		name  string
		edit  func(map[string]string)
		want  []string
		newer bool
	}{
		{"newer", func(m map[string]string) { m["format_version"] = "2"; m["program_version"] = "v9.9.9" },
			[]string{"format version 2 (written by contrastive v9.9.9)", "reads versions up to 1", "upgrade contrastive"}, true},
		{"newer-unknown-writer", func(m map[string]string) { m["format_version"] = "17"; delete(m, "program_version") },
			[]string{"format version 17, this program", "reads versions up to 1"}, true},
		{"zero", func(m map[string]string) { m["format_version"] = "0" }, []string{`bad format_version "0"`, "want an integer from 1 to 1"}, false},
		{"garbage", func(m map[string]string) { m["format_version"] = "1.5" }, []string{`bad format_version "1.5"`}, false},
		{"missing", func(m map[string]string) { delete(m, "format_version") }, []string{"format contrastive without a format_version"}, false},
	} {
		p := craft(t, c.edit)
		dst := small()
		_, err := checkpoint.Load(p, dst)
		if err == nil {
			t.Errorf("%s: loaded", c.name)
			continue
		}
		if errors.Is(err, checkpoint.ErrNewerFormat) != c.newer || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v: want the path named and ErrNewerFormat %v", c.name, err, c.newer)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", c.name, err, w)
			}
		}
		if _, err := checkpoint.LoadModel(p, small(), checkpoint.LoadOptions{}); err == nil {
			t.Errorf("%s: LoadModel accepted it", c.name)
		}
		if dst[0].F32.Data[0] != 1 {
			t.Errorf("%s: refused file was copied into the model", c.name)
		}
	}
}

// TestVersionOlderRead: a version 1 file from before program_version was
// recorded, and a file of weights from elsewhere (no format), read as
// what they are.
func TestVersionOlderRead(t *testing.T) {
	p := craft(t, func(m map[string]string) { delete(m, "program_version") })
	dst := small()
	dst[0].F32.Data[0], *dst[1].I64 = -1, 0
	ck, err := checkpoint.Load(p, dst)
	if err != nil {
		t.Fatal(err)
	}
	if dst[0].F32.Data[0] != 1 || *dst[1].I64 != 5 || ck.Step != 9 || ck.Optimizer["m"] == nil {
		t.Fatalf("read step %d, w[0] %g, n %d", ck.Step, dst[0].F32.Data[0], *dst[1].I64)
	}
	foreign := craft(t, func(m map[string]string) { clear(m); m["format"] = "pt" })
	dst = small()
	dst[0].F32.Data[5] = 0
	if _, err := checkpoint.LoadModel(foreign, dst, checkpoint.LoadOptions{}); err != nil || dst[0].F32.Data[5] != 6 {
		t.Fatalf("foreign weights: %v, w[5] %g", err, dst[0].F32.Data[5])
	}
}
