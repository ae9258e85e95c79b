// Package tensor is the engine's n-dimensional float32 array: a shape and a
// contiguous row-major buffer, cheap views (reshape, slices along the first
// axis) and a buffer pool so that a training step allocates next to nothing
// after warm-up.
//
// # Layout
//
// Tensors are always contiguous and row-major, so the strides follow from
// the shape (see Strides). Image activations inside the engine are NHWC
// (channels last: the layout that makes convolution a single large GEMM);
// torchvision's NCHW arrives and leaves through FromNCHW and ToNCHW.
// Convolution weights keep torchvision's OIHW layout, so parameter tensors
// match torchvision's shapes exactly.
//
// # Errors
//
// A shape mismatch or an out-of-range index is a programming error: the
// functions here panic with a message naming the operation and the shapes
// involved. Nothing in this package handles user input.
package tensor
