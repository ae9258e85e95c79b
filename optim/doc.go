// Package optim holds the optimizers and schedules of the contrastive
// methods: SGD with momentum and Nesterov, LARS (You et al.,
// arXiv:1708.03888) as SimCLR and SwAV train with it, and AdamW (Loshchilov
// & Hutter, arXiv:1711.05101), each following PyTorch's update rule step
// for step; a linear warm-up + cosine learning-rate schedule and BYOL's
// cosine schedule for EMA momentum.
//
// # Parameters
//
// Optimizers take named parameters ([]Param). Names are the module's
// hierarchical names (nn.Params), they key the optimizer state that
// checkpoints save, and the exclusion rules (ExcludeBiasAndNorm) may look
// at them. Params converts an []nn.Param.
//
// A parameter whose Grad is nil (unused in the step) or that does not
// require a gradient (frozen) is left unchanged, as PyTorch skips
// parameters whose .grad is None.
//
// # State
//
// State returns the optimizer's buffers by name ("momentum_buffer/<param>",
// "exp_avg/<param>", "exp_avg_sq/<param>", "step"), and LoadState restores
// them, so a resumed run continues exactly.
package optim
