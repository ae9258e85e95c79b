package models_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Build a CIFAR-stem ResNet-18 at a quarter of torchvision's width and
// encode a batch of two 32×32 RGB images (NHWC) into pooled features.
func ExampleNewResNet() {
	enc, err := models.NewResNet(models.Config{Arch: "resnet18", Stem: models.StemCIFAR, Width: 0.25}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		fmt.Println(err)
		return
	}
	x := autograd.Const(tensor.New(2, 32, 32, 3))
	h := enc.Forward(x)
	fmt.Println("features", h.Shape(), "dim", enc.FeatureDim())
	fmt.Println("parameters", nn.NumParams(enc))
	st := nn.State(enc)
	fmt.Println(len(st), "tensors:", st[0].Name, st[5].Name, st[len(st)-1].Name)
	// Output:
	// features [2 128] dim 128
	// parameters 700176
	// 120 tensors: conv1.weight bn1.num_batches_tracked layer4.1.bn2.num_batches_tracked
}

// Fold a network's batch norms into its convolutions for inference and
// embed a batch; the features equal the evaluation-mode Forward's.
func ExampleNewInference() {
	rng := rand.New(rand.NewPCG(1, 2))
	enc := models.MustResNet(models.Config{Arch: "resnet18", Stem: models.StemCIFAR, Width: 0.25}, rng)
	x := tensor.New(2, 32, 32, 3)
	nn.Normal(x, 0, 1, rng)

	inf := models.NewInference(enc)
	out := make([]float32, 2*inf.FeatureDim())
	inf.Forward(x, out)

	nn.SetTraining(enc, false)
	var want *tensor.Tensor
	autograd.NoGrad(func() { want = enc.Forward(autograd.Const(x)).Data })
	fmt.Printf("%d features, max difference below 1e-5: %v\n", len(out), tensor.MaxAbsDiff(tensor.FromSlice(out, 2, 128), want) < 1e-5)
	fmt.Printf("%.2f GFLOP per 32-px image\n", inf.FLOPs(32, 32)/1e9)
	// Output:
	// 256 features, max difference below 1e-5: true
	// 0.07 GFLOP per 32-px image
}
