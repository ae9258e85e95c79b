package autograd

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/tensor"
)

// BackwardReady is Backward that also calls ready for every leaf that
// requires a gradient (a parameter) as soon as its gradient is final:
// after the last op that uses it has run its backward rule, while the
// rest of the backward pass is still to come. Data-parallel training
// starts averaging those gradients across processes there, overlapping
// communication with the remaining backward computation. Leaves are
// reported in the order the pass finishes them, which depends only on the
// graph, so processes that build the same graph see the same order.
// ready runs on the calling goroutine and must not change the leaf's
// gradient before the pass ends (reading or copying it is fine).
func BackwardReady(root *Value, ready func(leaf *Value)) {
	if root.Data.Numel() != 1 {
		panic(fmt.Sprintf("autograd.BackwardReady: root has shape %v, want one element", root.Shape()))
	}
	backward(root, tensor.Full(1, root.Shape()...), ready)
}

// readyAfter maps every position i of order (a topological order, inputs
// first, processed from the end) to the gradient-requiring leaves whose
// last consumer is order[i]: the consumer with the lowest position.
func readyAfter(order []*Value) [][]*Value {
	first := map[*Value]int{}
	for i, v := range order {
		for _, p := range v.parents {
			if p == nil || p.op != OpLeaf || !p.requiresGrad {
				continue
			}
			if _, seen := first[p]; !seen {
				first[p] = i
			}
		}
	}
	fire := make([][]*Value, len(order))
	// Walk order again so leaves sharing a consumer are reported in the
	// order of its parents, not of a map.
	for i, v := range order {
		for _, p := range v.parents {
			if j, ok := first[p]; ok && j == i {
				fire[i] = append(fire[i], p)
				delete(first, p)
			}
		}
	}
	return fire
}
