package videomodels_test

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/checkpoint"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
	"github.com/contrastive-ssl/contrastive/videomodels"
)

const fixtureHint = "re-run: /usr/bin/python3 tools/gen_video_fixtures.py"

// torchvisionNames reads testdata/torchvision_video.txt: per arch the
// state_dict names and shapes of torchvision's model (fc removed) and its
// parameter count.
func torchvisionNames(t *testing.T) (names map[string][]string, params map[string]int) {
	t.Helper()
	f, err := os.Open("testdata/torchvision_video.txt")
	if err != nil {
		t.Fatalf("%v (%s)", err, fixtureHint)
	}
	defer f.Close()
	names, params = map[string][]string{}, map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		switch {
		case len(fs) == 4 && fs[0] == "#" && fs[2] == "params":
			n, err := strconv.Atoi(fs[3])
			if err != nil {
				t.Fatalf("torchvision_video.txt: %q (%s)", sc.Text(), fixtureHint)
			}
			params[fs[1]] = n
		case len(fs) == 3 && fs[0] != "#":
			names[fs[0]] = append(names[fs[0]], fs[1]+" "+fs[2])
		}
	}
	return names, params
}

// TestTorchvisionNamesAndParams builds both networks at full width and
// compares every state tensor's name and shape, in order, and the
// parameter count with torchvision's (r3d_18 33,166,272 and r2plus1d_18
// 31,300,125 without fc).
func TestTorchvisionNamesAndParams(t *testing.T) {
	names, params := torchvisionNames(t)
	want := map[string]int{videomodels.R3D18: 33166272, videomodels.R2Plus1D18: 31300125}
	for _, arch := range videomodels.Archs() {
		if params[arch] != want[arch] {
			t.Fatalf("torchvision_video.txt: %s params %d, want %d (%s)", arch, params[arch], want[arch], fixtureHint)
		}
		r := videomodels.MustNew(videomodels.Config{Arch: arch}, rand.New(rand.NewPCG(1, 1)))
		if got := nn.NumParams(r); got != want[arch] {
			t.Errorf("%s: %d parameters, torchvision has %d", arch, got, want[arch])
		}
		var got []string
		for _, e := range nn.State(r) {
			shape := "scalar"
			if e.F32 != nil {
				s := make([]string, e.F32.Rank())
				for i, d := range e.F32.Shape() {
					s[i] = strconv.Itoa(d)
				}
				shape = strings.Join(s, "x")
			}
			got = append(got, e.Name+" "+shape)
		}
		if len(got) != len(names[arch]) {
			t.Fatalf("%s: %d state tensors, torchvision %d", arch, len(got), len(names[arch]))
		}
		for i := range got {
			if got[i] != names[arch][i] {
				t.Errorf("%s: tensor %d is %q, torchvision %q", arch, i, got[i], names[arch][i])
			}
		}
		if d := r.FeatureDim(); d != 512 {
			t.Errorf("%s: feature dim %d, want 512", arch, d)
		}
	}
}

// TestTorchvisionFeatures loads narrow torchvision VideoResNets (random
// weights, non-trivial batch-norm statistics) and compares eval-mode
// pooled features on the same clips.
func TestTorchvisionFeatures(t *testing.T) {
	for _, arch := range videomodels.Archs() {
		t.Run(arch, func(t *testing.T) {
			path := "testdata/" + arch + "_w0.0625.safetensors"
			f, err := safetensors.Read(path)
			if err != nil {
				t.Fatalf("%v (%s)", err, fixtureHint)
			}
			if f.Metadata["producer"] != "tools/gen_video_fixtures.py" || f.Metadata["arch"] != arch {
				t.Fatalf("%s: metadata %v (%s)", path, f.Metadata, fixtureHint)
			}
			r := videomodels.MustNew(videomodels.Config{Arch: arch, Width: 0.0625}, rand.New(rand.NewPCG(2, 2)))
			if _, err := checkpoint.LoadModel(path, checkpoint.Entries(nn.State(r)), checkpoint.LoadOptions{IgnoreUnexpected: true}); err != nil {
				t.Fatalf("%v (%s)", err, fixtureHint)
			}
			x, err1 := f.Float32("input.nthwc")
			want, err2 := f.Float32("features")
			if err1 != nil || err2 != nil {
				t.Fatalf("%v %v (%s)", err1, err2, fixtureHint)
			}
			nn.SetTraining(r, false)
			var got *tensor.Tensor
			autograd.NoGrad(func() { got = r.Forward(autograd.Const(x)).Data })
			if !tensor.SameShape(got, want) {
				t.Fatalf("features %v, torchvision %v", got.Shape(), want.Shape())
			}
			var scale float64
			for _, v := range want.Data {
				scale = math.Max(scale, math.Abs(float64(v)))
			}
			if e := tensor.MaxAbsDiff(got, want) / scale; e > 1e-4 || scale == 0 {
				t.Errorf("features differ from torchvision: relative error %.3g > 1e-4 (scale %.3g)", e, scale)
			}
		})
	}
}

// TestInflate inflates a 2-D ResNet-18 into r3d_18 and checks that on a
// clip of identical frames the stem's middle output frame equals the 2-D
// stem convolution of that frame (the I3D property: away from the
// temporal padding the inflated kernel sums to the 2-D one).
func TestInflate(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	r2 := models.MustResNet(models.Config{Arch: "resnet18", Width: 0.0625}, rng)
	src := map[string]*tensor.Tensor{}
	for _, e := range nn.State(r2) {
		if e.F32 != nil {
			src[e.Name] = e.F32
		} else {
			src[e.Name] = tensor.New()
		}
	}
	r3 := videomodels.MustNew(videomodels.Config{Arch: videomodels.R3D18, Width: 0.0625}, rng)
	if err := videomodels.Inflate(r3, src); err != nil {
		t.Fatal(err)
	}
	frame := tensor.New(1, 16, 16, 3)
	for i := range frame.Data {
		frame.Data[i] = float32(rng.NormFloat64())
	}
	clip := tensor.New(1, 3, 16, 16, 3)
	for t := 0; t < 3; t++ {
		copy(clip.Data[t*len(frame.Data):], frame.Data)
	}
	var y2, y3 *tensor.Tensor
	autograd.NoGrad(func() {
		y2 = r2.Conv1.Forward(autograd.Const(frame)).Data
		y3 = r3.Stem.At(0).Forward(autograd.Const(clip)).Data
	})
	n := len(y2.Data)
	mid := tensor.FromSlice(y3.Data[n:2*n], y2.Shape()...)
	if d := tensor.MaxAbsDiff(mid, y2); d > 1e-4 {
		t.Errorf("inflated stem, middle frame: max |diff| %.3g from the 2-D convolution", d)
	}
	if err := videomodels.Inflate(videomodels.MustNew(videomodels.Config{Arch: videomodels.R3D18, Width: 0.125}, rng), src); err == nil || !strings.Contains(err.Error(), "stem.0.weight") {
		t.Errorf("inflating into a wider network: error %v, want one naming stem.0.weight", err)
	}
	if err := videomodels.Inflate(videomodels.MustNew(videomodels.Config{Arch: videomodels.R2Plus1D18, Width: 0.0625}, rng), src); err == nil {
		t.Error("inflating into r2plus1d_18 succeeded, want an error")
	}
}

// TestTrainStep runs one forward and backward pass in training mode and
// checks every parameter received a finite, non-zero gradient.
func TestTrainStep(t *testing.T) {
	for _, arch := range videomodels.Archs() {
		r := videomodels.MustNew(videomodels.Config{Arch: arch, Width: 0.0625, InChannels: 2}, rand.New(rand.NewPCG(4, 4)))
		x := tensor.New(2, 4, 16, 16, 2)
		rng := rand.New(rand.NewPCG(5, 5))
		for i := range x.Data {
			x.Data[i] = float32(rng.NormFloat64())
		}
		y := r.Forward(autograd.Const(x))
		autograd.Backward(autograd.Sum(autograd.Mul(y, y), nil, false))
		for _, p := range nn.Params(r) {
			var s float64
			for _, g := range p.Value.Grad.Data {
				s += math.Abs(float64(g))
			}
			if !(s > 0) || math.IsInf(s, 0) {
				t.Errorf("%s: %s gradient |sum| %v", arch, p.Name, s)
			}
		}
		autograd.Free(y)
	}
}

func ExampleNew() {
	// r3d_18 at width 1/4: base width 16, a 128-d clip feature.
	r := videomodels.MustNew(videomodels.Config{Arch: videomodels.R3D18, Width: 0.25}, rand.New(rand.NewPCG(0, 0)))
	fmt.Println(nn.NumParams(r), r.FeatureDim())
	// Output: 2079984 128
}
