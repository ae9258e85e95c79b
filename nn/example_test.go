package nn_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// A SimCLR projection head with batch norm: its tensors carry
// torch.nn.Sequential's positional names, and Params lists what an
// optimizer trains.
func ExampleSimCLRProjection() {
	head := nn.SimCLRProjection(512, 2048, 128, true, rand.New(rand.NewPCG(1, 2)))
	for _, e := range nn.State(head) {
		if e.F32 != nil {
			fmt.Println(e.Name, e.F32.Shape())
		} else {
			fmt.Println(e.Name, "int64")
		}
	}
	fmt.Println(len(nn.Params(head)), "parameters,", nn.NumParams(head), "values")
	z := head.Forward(autograd.Const(tensor.New(4, 512)))
	fmt.Println("output", z.Shape())
	// Output:
	// 0.weight [2048 512]
	// 1.weight [2048]
	// 1.bias [2048]
	// 1.running_mean [2048]
	// 1.running_var [2048]
	// 1.num_batches_tracked int64
	// 3.weight [128 2048]
	// 3.bias [128]
	// 5 parameters, 1314944 values
	// output [4 128]
}
