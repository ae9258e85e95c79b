// Package autograd is the engine's reverse-mode automatic differentiation:
// a Value wraps a tensor, every op in op_<name>.go computes its output and
// records, right beside it, the closure that accumulates gradients into its
// inputs, and Backward runs those closures in reverse topological order.
//
// Gradients always accumulate (+=), so a value used twice (a residual
// connection, two views through one encoder) receives the sum of both
// contributions. Inside NoGrad no graph is recorded: inference, EMA targets,
// queues and memory banks update in place there.
//
// # Memory
//
// Op outputs take their buffers from the tensor pool. After Backward (and
// after reading whatever is needed from the graph) call Free on the loss:
// it returns every intermediate buffer to the pool, so the next step of the
// same shapes allocates next to nothing. Leaves (parameters, inputs) and
// their gradients are never freed by Free. Backward itself releases an op
// result's gradient as soon as that op's backward has run: only leaves and
// the root keep a Grad after it.
//
// # Errors
//
// Shape mismatches and out-of-range indices are programming errors: ops
// panic with a message naming the op and the shapes. Nothing here handles
// user input.
package autograd
