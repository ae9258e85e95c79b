// Package methods holds the self-supervised methods of the survey's four
// architectures behind one small interface (Method): end-to-end (SimCLR),
// memory bank (InstDisc, PIRL), momentum encoder (MoCo) and clustering
// (SwAV), and the methods after it: BYOL, SimSiam, Barlow Twins, VICReg,
// MoCo v3, DINO, SupCon and a supervised cross-entropy baseline. Each
// method lives in its own file and reads like its paper's
// pseudocode; the loss math lives in package loss, the networks in nn and
// models. The registry (registry.go) maps a method name to its constructor.
//
// A method changes its non-gradient state (EMA targets, queues, memory
// banks) only in AfterStep, never as a side effect of a gradient.
package methods
