package export

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/checkpoint"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Producer is written into the metadata of every exported file.
const Producer = "contrastive export"

// Meta is what an exported torchvision file records besides the weights:
// the encoder's configuration and the input normalisation it expects
// (nil Mean/Std: none).
type Meta struct {
	Config    models.Config
	Mean, Std []float32
}

// WriteTorchvision writes enc's parameters and buffers under torchvision's
// names to path (safetensors, atomically), with the configuration and
// normalisation in the metadata.
func WriteTorchvision(path string, enc *models.ResNet, mean, std []float32) error {
	f := safetensors.New()
	for _, e := range nn.State(enc) {
		if e.F32 != nil {
			f.PutFloat32(e.Name, e.F32)
		} else {
			f.PutInt64(e.Name, []int64{*e.I64})
		}
	}
	cfg := enc.Config()
	f.Metadata["producer"] = Producer
	f.Metadata["arch"] = cfg.Arch
	f.Metadata["stem"] = cfg.Stem
	f.Metadata["width"] = strconv.FormatFloat(cfg.Width, 'g', -1, 64)
	f.Metadata["in_channels"] = strconv.Itoa(cfg.InChannels)
	if mean != nil {
		f.Metadata["mean"] = floats(mean)
		f.Metadata["std"] = floats(std)
	}
	if err := safetensors.Write(path, f); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

func floats(v []float32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(float64(x), 'g', -1, 32)
	}
	return strings.Join(s, ",")
}

func parseFloats(s string) ([]float32, error) {
	if s == "" {
		return nil, nil
	}
	var out []float32
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 32)
		if err != nil {
			return nil, err
		}
		out = append(out, float32(v))
	}
	return out, nil
}

var blockName = regexp.MustCompile(`^layer([1-4])\.([0-9]+)\.conv1\.weight$`)

// InferConfig works out the encoder configuration from the names and
// shapes of a torchvision state: the stem from conv1's kernel (7: ImageNet,
// 3: CIFAR), the input channels and base width from conv1's shape, the
// block kind from layer1.0.conv3 (Bottleneck) and the architecture from
// the block counts of the four stages.
func InferConfig(shapes map[string][]int) (models.Config, error) {
	var cfg models.Config
	w, ok := shapes["conv1.weight"]
	if !ok || len(w) != 4 {
		return cfg, fmt.Errorf("no conv1.weight of rank 4 (not a torchvision ResNet state)")
	}
	switch w[2] {
	case 7:
		cfg.Stem = models.StemImageNet
	case 3:
		cfg.Stem = models.StemCIFAR
	default:
		return cfg, fmt.Errorf("conv1.weight has a %d×%d kernel, want 7×7 (ImageNet stem) or 3×3 (CIFAR stem)", w[2], w[3])
	}
	cfg.InChannels = w[1]
	cfg.Width = float64(w[0]) / 64
	var blocks [4]int
	for name := range shapes {
		if m := blockName.FindStringSubmatch(name); m != nil {
			s, _ := strconv.Atoi(m[1])
			j, _ := strconv.Atoi(m[2])
			blocks[s-1] = max(blocks[s-1], j+1)
		}
	}
	_, bottleneck := shapes["layer1.0.conv3.weight"]
	for _, arch := range models.Archs() {
		if archBlocks(arch) == blocks && isBottleneck(arch) == bottleneck {
			cfg.Arch = arch
			return cfg, nil
		}
	}
	return cfg, fmt.Errorf("stages of %v blocks (bottleneck %v) match no known ResNet (%v)", blocks, bottleneck, models.Archs())
}

func archBlocks(arch string) [4]int {
	switch arch {
	case "resnet18":
		return [4]int{2, 2, 2, 2}
	case "resnet34", "resnet50":
		return [4]int{3, 4, 6, 3}
	case "resnet101":
		return [4]int{3, 4, 23, 3}
	case "resnet152":
		return [4]int{3, 8, 36, 3}
	}
	return [4]int{}
}

func isBottleneck(arch string) bool { return arch != "resnet18" && arch != "resnet34" }

// ReadTorchvision builds the encoder a torchvision-format safetensors file
// describes and loads its weights strictly: every encoder tensor must be
// present with its shape; the only tensors allowed beyond them are the
// classifier's fc.weight and fc.bias. It returns the metadata's
// normalisation when the file records one (files this package wrote).
func ReadTorchvision(path string) (*models.ResNet, Meta, error) {
	var meta Meta
	f, err := safetensors.Read(path)
	if err != nil {
		return nil, meta, fmt.Errorf("init: %w", err)
	}
	shapes := map[string][]int{}
	for name, e := range f.Entries {
		shapes[name] = e.Shape
	}
	cfg, err := InferConfig(shapes)
	if err != nil {
		return nil, meta, fmt.Errorf("init %s: %w", path, err)
	}
	enc, err := models.NewResNet(cfg, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, meta, fmt.Errorf("init %s: %w", path, err)
	}
	state := nn.State(enc)
	want := map[string]bool{}
	for _, e := range state {
		want[e.Name] = true
	}
	var extra []string
	for name := range shapes {
		if !want[name] && name != "fc.weight" && name != "fc.bias" {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return nil, meta, fmt.Errorf("init %s: tensors that are not part of a torchvision %s: %s", path, cfg.Arch, strings.Join(extra, ", "))
	}
	if _, err := checkpoint.LoadModel(path, checkpoint.Entries(state), checkpoint.LoadOptions{IgnoreUnexpected: true}); err != nil {
		return nil, meta, fmt.Errorf("init: %w", err)
	}
	meta.Config = enc.Config()
	if meta.Mean, err = parseFloats(f.Metadata["mean"]); err == nil {
		meta.Std, err = parseFloats(f.Metadata["std"])
	}
	if err != nil || len(meta.Mean) != len(meta.Std) {
		return nil, meta, fmt.Errorf("init %s: bad mean/std metadata %q / %q", path, f.Metadata["mean"], f.Metadata["std"])
	}
	return enc, meta, nil
}

// WriteReference writes a check file for an exported encoder: a seeded
// random input batch "input.nchw" [n, C, size, size] (standard normal, the
// scale of normalised images) and the encoder's evaluation-mode features
// "features" [n, D] on it, computed here. tools/check_torchvision.py runs
// torchvision on the input and compares.
func WriteReference(path string, enc *models.ResNet, n, size int, seed uint64) error {
	c := enc.Config().InChannels
	rng := rand.New(rand.NewPCG(seed, 0x7e5))
	nchw := tensor.New(n, c, size, size)
	for i := range nchw.Data {
		nchw.Data[i] = float32(rng.NormFloat64())
	}
	x := tensor.New(n, size, size, c)
	for b := 0; b < n; b++ {
		for ch := 0; ch < c; ch++ {
			for p := 0; p < size*size; p++ {
				x.Data[(b*size*size+p)*c+ch] = nchw.Data[(b*c+ch)*size*size+p]
			}
		}
	}
	nn.SetTraining(enc, false)
	defer nn.SetTraining(enc, true)
	var feats *tensor.Tensor
	autograd.Inference(func(func(*autograd.Value)) { feats = enc.Forward(autograd.Const(x)).Data.Clone() })
	f := safetensors.New()
	f.PutFloat32("input.nchw", nchw)
	f.PutFloat32("features", feats)
	f.Metadata["producer"] = Producer
	if err := safetensors.Write(path, f); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}
