// Package videotrain pretrains 3-D encoders on unlabelled video clips and
// evaluates them on action recognition.
//
// # Pretext tasks
//
//   - temporal (CVRL, Qian et al. arXiv:2008.03800): two clips drawn at
//     independent times of one video, each with its own spatial
//     augmentation, are a positive pair; the other videos of the batch
//     (SimCLR, NT-Xent) or a queue of earlier keys (MoCo, InfoNCE with a
//     momentum key encoder) are the negatives.
//   - cross-modal (CMC, Tian et al. arXiv:1906.05849): an RGB clip and the
//     frame differences of the same window ("motion", a cheap stand-in for
//     optical flow) are two views encoded by two encoders; the symmetric
//     NT-Xent between their projections pulls the modalities of one clip
//     together (in-batch negatives instead of CMC's memory bank).
//   - inflation (I3D, arXiv:1705.07750): Config.Init2D starts the encoder
//     from a 2-D ResNet-18 checkpoint, each kernel repeated over time.
//
// # Evaluation
//
// Evaluate fits a linear classifier on frozen clip features ("linear") or
// fine-tunes the encoder with a linear head ("finetune") on the labelled
// training split, then reports clip-level top-1 (each evaluation clip on
// its own) and video-level top-1 (softmax scores averaged over a video's
// evenly spaced clips).
//
// A run directory holds checkpoint.safetensors (the encoder under
// torchvision's names, heads, key encoder or motion encoder, optimizer
// state, step, MoCo's queue, the run config) and metrics.jsonl. Resuming
// continues at the saved step; the loader's clips are a function of the
// seed and step, so a resumed run repeats the uninterrupted one.
package videotrain
