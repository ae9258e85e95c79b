package export_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/contrastive-ssl/contrastive/export"
	"github.com/contrastive-ssl/contrastive/models"
)

// The ONNX graph of a ResNet-18 with the CIFAR stem: one node per
// torchvision module, weights as initializers.
func ExampleONNXModel() {
	enc := models.MustResNet(models.Config{Arch: "resnet18", Stem: models.StemCIFAR, Width: 0.125}, rand.New(rand.NewPCG(1, 1)))
	m, err := export.ONNXModel(enc)
	if err != nil {
		panic(err)
	}
	ops := map[string]int{}
	for _, n := range m.Graph.Node {
		ops[n.GetOpType()]++
	}
	fmt.Println("IR", m.GetIrVersion(), "opset", m.OpsetImport[0].GetVersion())
	fmt.Println(m.Graph.Input[0].GetName(), "->", m.Graph.Output[0].GetName(), ops)
	// Output:
	// IR 8 opset 13
	// input -> features map[Add:8 BatchNormalization:20 Conv:20 Flatten:1 GlobalAveragePool:1 Relu:17]
}
