// Package benchstep times one SimCLR-style training step of the engine, the
// workload of `contrastive bench step` and of bench/torch_step.py: a batch
// of B images in two views (2B random 3×32×32 inputs through the encoder
// in one batch), a ResNet encoder, the projection MLP feature→2048→128,
// NT-Xent at τ = 0.5, backward and an SGD update (momentum 0.9).
//
// The step runs in segments — each encoder stage and the head are cut at
// their inputs — so that forward and backward time can be reported per
// stage. The arithmetic is exactly that of one unsegmented step: backward
// runs the head first and hands each stage's input gradient to the stage
// before it.
package benchstep
