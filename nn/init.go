package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/contrastive-ssl/contrastive/tensor"
)

// fans returns (fan_in, fan_out) of a weight as torch.nn.init computes
// them: for [out, in, k...] fan_in = in·Πk and fan_out = out·Πk.
func fans(op string, t *tensor.Tensor) (int, int) {
	s := t.Shape()
	if len(s) < 2 {
		panic(fmt.Sprintf("nn.%s: weight of shape %v has fewer than 2 dimensions", op, s))
	}
	field := 1
	for _, d := range s[2:] {
		field *= d
	}
	return s[1] * field, s[0] * field
}

// KaimingNormalFanOut fills a weight [out, in, k...] from N(0, 2/fan_out),
// torch.nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"),
// the initialisation torchvision's ResNet gives its convolutions.
func KaimingNormalFanOut(w *tensor.Tensor, rng *rand.Rand) {
	_, fanOut := fans("KaimingNormalFanOut", w)
	Normal(w, 0, math.Sqrt(2/float64(fanOut)), rng)
}

// KaimingUniform fills a weight [out, in, k...] from U(-b, b) with
// b = √(6/((1+a²)·fan_in)): torch.nn.init.kaiming_uniform_(w, a). With
// a = √5 (PyTorch's Linear and Conv2d default) b = 1/√fan_in.
func KaimingUniform(w *tensor.Tensor, a float64, rng *rand.Rand) {
	fanIn, _ := fans("KaimingUniform", w)
	b := math.Sqrt(6 / ((1 + a*a) * float64(fanIn)))
	Uniform(w, -b, b, rng)
}

// Uniform fills t from U(lo, hi).
func Uniform(t *tensor.Tensor, lo, hi float64, rng *rand.Rand) {
	for i := range t.Data {
		t.Data[i] = float32(lo + (hi-lo)*rng.Float64())
	}
}

// Normal fills t from N(mean, std²).
func Normal(t *tensor.Tensor, mean, std float64, rng *rand.Rand) {
	for i := range t.Data {
		t.Data[i] = float32(mean + std*rng.NormFloat64())
	}
}
