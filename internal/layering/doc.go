// Package layering holds the test that keeps the architecture's layers
// honest: engine (kernels, tensor, autograd) at the bottom, then nn /
// models / optim / checkpoint, data / augment, methods, eval, train, and
// cmd/contrastive on top. A package may import only packages of a lower
// layer.
package layering
