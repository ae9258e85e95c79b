package checkpoint_test

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/checkpoint"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

func resnet(t *testing.T, arch string, width float64, seed uint64) *models.ResNet {
	t.Helper()
	r, err := models.NewResNet(models.Config{Arch: arch, Width: width}, rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func sameState(t *testing.T, a, b nn.Module) {
	t.Helper()
	sa, sb := nn.State(a), nn.State(b)
	if len(sa) != len(sb) {
		t.Fatalf("%d vs %d tensors", len(sa), len(sb))
	}
	for i := range sa {
		switch {
		case sa[i].F32 != nil:
			if d := tensor.MaxAbsDiff(sa[i].F32, sb[i].F32); d != 0 {
				t.Fatalf("%s differs by %g", sa[i].Name, d)
			}
		case *sa[i].I64 != *sb[i].I64:
			t.Fatalf("%s: %d vs %d", sa[i].Name, *sa[i].I64, *sb[i].I64)
		}
	}
}

func TestTrainingRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.safetensors")
	a := resnet(t, "resnet18", 0.0625, 1)
	a.BN1.State.NumBatchesTracked = 42
	a.Layers[2].At(0).(*models.BasicBlock).BN2.State.RunningVar.Data[3] = 7.5
	c := &checkpoint.Checkpoint{
		Model:     checkpoint.Entries(nn.State(a)),
		Optimizer: map[string]*tensor.Tensor{"momentum_buffer/conv1.weight": tensor.Full(0.25, 4, 3, 7, 7), "step": tensor.Full(3, 1)},
		Step:      1234,
		RNG:       map[string][]byte{"augment": {1, 2, 3, 255}},
		Loader:    map[string][]int64{"order": {5, 3, 1, 0}, "pos": {2}},
		Extra:     map[string]*tensor.Tensor{"queue": tensor.Full(-1, 8, 4)},
		Config:    `{"method":"simclr","tau":0.5}`,
		Metadata:  map[string]string{"git": "abc"},
	}
	if err := checkpoint.Save(path, c); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d files after an atomic save, want 1", len(entries))
	}
	b := resnet(t, "resnet18", 0.0625, 2)
	got, err := checkpoint.Load(path, checkpoint.Entries(nn.State(b)))
	if err != nil {
		t.Fatal(err)
	}
	sameState(t, a, b)
	if got.Step != 1234 || got.Config != c.Config || got.Metadata["git"] != "abc" {
		t.Errorf("step %d config %q metadata %v", got.Step, got.Config, got.Metadata)
	}
	if string(got.RNG["augment"]) != string([]byte{1, 2, 3, 255}) {
		t.Errorf("rng %v", got.RNG)
	}
	if o := got.Loader["order"]; len(o) != 4 || o[0] != 5 || got.Loader["pos"][0] != 2 {
		t.Errorf("loader %v", got.Loader)
	}
	if q := got.Extra["queue"]; q == nil || q.Dim(0) != 8 || q.Data[31] != -1 {
		t.Errorf("extra %v", got.Extra)
	}
	if m := got.Optimizer["momentum_buffer/conv1.weight"]; m == nil || m.Dim(1) != 3 || m.Data[0] != 0.25 || got.Optimizer["step"].Data[0] != 3 {
		t.Errorf("optimizer %v", got.Optimizer)
	}
}

func TestMismatchListsAllNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r18.safetensors")
	if err := checkpoint.SaveModel(path, checkpoint.Entries(nn.State(resnet(t, "resnet18", 0.0625, 1))), nil); err != nil {
		t.Fatal(err)
	}
	// A ResNet-34 has layer1.2 … layer4.2 that the file lacks.
	dst := resnet(t, "resnet34", 0.0625, 1)
	before := dst.Conv1.Weight.Data.Clone()
	_, err := checkpoint.LoadModel(path, checkpoint.Entries(nn.State(dst)), checkpoint.LoadOptions{})
	var mm *checkpoint.MismatchError
	if !errors.Is(err, checkpoint.ErrMismatch) || !errors.As(err, &mm) {
		t.Fatalf("error %v is not a MismatchError", err)
	}
	if len(mm.Missing) != 216-120 || len(mm.Unexpected) != 0 || mm.Path != path {
		t.Errorf("missing %d unexpected %d path %q", len(mm.Missing), len(mm.Unexpected), mm.Path)
	}
	if !strings.Contains(err.Error(), "layer4.2.bn2.num_batches_tracked") || !strings.Contains(err.Error(), path) {
		t.Errorf("error does not name every tensor and the path: %v", err)
	}
	if tensor.MaxAbsDiff(before, dst.Conv1.Weight.Data) != 0 {
		t.Error("a failed load modified the model")
	}
	// Another width: every conv and BN tensor has the wrong shape.
	_, err = checkpoint.LoadModel(path, checkpoint.Entries(nn.State(resnet(t, "resnet18", 0.125, 1))), checkpoint.LoadOptions{})
	if !errors.As(err, &mm) || len(mm.Shape) != 120-20 {
		t.Fatalf("width mismatch: %v", err)
	}
	if !strings.Contains(err.Error(), "conv1.weight: file [4 3 7 7], model [8 3 7 7]") {
		t.Errorf("shape message: %v", err)
	}
	// The other way round: the file's extra layers are unexpected.
	path34 := filepath.Join(t.TempDir(), "r34.safetensors")
	if err := checkpoint.SaveModel(path34, checkpoint.Entries(nn.State(resnet(t, "resnet34", 0.0625, 1))), nil); err != nil {
		t.Fatal(err)
	}
	_, err = checkpoint.LoadModel(path34, checkpoint.Entries(nn.State(resnet(t, "resnet18", 0.0625, 1))), checkpoint.LoadOptions{})
	if !errors.As(err, &mm) || len(mm.Unexpected) != 96 {
		t.Fatalf("unexpected: %v", err)
	}
}

func TestDTypeMismatch(t *testing.T) {
	r := resnet(t, "resnet18", 0.0625, 1)
	f := safetensors.New()
	for _, e := range nn.State(r) {
		if e.F32 != nil {
			f.PutFloat32(e.Name, e.F32)
		} else {
			f.PutFloat32(e.Name, tensor.New()) // torch would store int64
		}
	}
	path := filepath.Join(t.TempDir(), "bad.safetensors")
	if err := safetensors.Write(path, f); err != nil {
		t.Fatal(err)
	}
	_, err := checkpoint.LoadModel(path, checkpoint.Entries(nn.State(r)), checkpoint.LoadOptions{})
	var mm *checkpoint.MismatchError
	if !errors.As(err, &mm) || len(mm.DType) != 20 || !strings.Contains(err.Error(), "bn1.num_batches_tracked: file F32, model I64") {
		t.Fatalf("dtype mismatch: %v", err)
	}
}

func TestTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cut.safetensors")
	r := resnet(t, "resnet18", 0.0625, 1)
	if err := checkpoint.SaveModel(path, checkpoint.Entries(nn.State(r)), nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	for _, n := range []int{len(b) - 100, 200, 5} {
		if err := os.WriteFile(path, b[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := checkpoint.LoadModel(path, checkpoint.Entries(nn.State(r)), checkpoint.LoadOptions{})
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("%d of %d bytes: error %v", n, len(b), err)
		}
	}
	if _, err := checkpoint.LoadModel(filepath.Join(t.TempDir(), "none"), nil, checkpoint.LoadOptions{}); err == nil {
		t.Error("missing file: no error")
	}
}

func TestPrefixAndIgnoreUnexpected(t *testing.T) {
	enc := resnet(t, "resnet18", 0.0625, 1)
	head := nn.SimCLRProjection(32, 16, 8, false, rand.New(rand.NewPCG(1, 1)))
	whole := nn.NewNamedSequential(nn.Child{Name: "encoder", Module: enc}, nn.Child{Name: "projector", Module: head})
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := checkpoint.SaveModel(path, checkpoint.Entries(nn.State(whole)), map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	dst := resnet(t, "resnet18", 0.0625, 9)
	meta, err := checkpoint.LoadModel(path, checkpoint.Entries(nn.State(dst)), checkpoint.LoadOptions{Prefix: "encoder."})
	if err != nil {
		t.Fatal(err)
	}
	sameState(t, enc, dst)
	if meta["k"] != "v" || meta["format"] != "contrastive" {
		t.Errorf("metadata %v", meta)
	}
	// Encoder saved unprefixed with its head: strict fails, lenient works.
	flat := append(checkpoint.Entries(nn.State(enc)), checkpoint.Entry{Name: "projector.0.weight", F32: head.At(0).(*nn.Linear).Weight.Data})
	if err := checkpoint.SaveModel(path, flat, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := checkpoint.LoadModel(path, checkpoint.Entries(nn.State(dst)), checkpoint.LoadOptions{}); !errors.Is(err, checkpoint.ErrMismatch) {
		t.Errorf("strict load: %v", err)
	}
	if _, err := checkpoint.LoadModel(path, checkpoint.Entries(nn.State(dst)), checkpoint.LoadOptions{IgnoreUnexpected: true}); err != nil {
		t.Errorf("lenient load: %v", err)
	}
	if err := checkpoint.SaveModel(path, []checkpoint.Entry{{Name: "optim/x", F32: tensor.New(1)}}, nil); err == nil {
		t.Error("reserved model name accepted")
	}
}
