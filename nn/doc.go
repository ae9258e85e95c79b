// Package nn provides the layers the encoders and heads are built from:
// Conv2d, BatchNorm, Linear, ReLU, MaxPool2d, GlobalAvgPool
// (AdaptiveAvgPool2d(1)), Sequential and Residual composition, and the
// projection heads of the contrastive-learning papers (heads.go).
//
// # Modules and names
//
// A Module computes Forward and lists its own tensors (Tensors) and its
// child modules (Children), each in registration order, exactly as a
// PyTorch nn.Module registers them. State and Params walk that tree and
// produce the hierarchical names of a torchvision state_dict:
// "conv1.weight", "layer1.0.bn1.running_mean", "layer1.0.downsample.0.weight".
// Checkpoints (package checkpoint) and the optimizers (package optim) use
// those names, so a checkpoint written here loads into torchvision and the
// other way round.
//
// Activations are NHWC (channels last); convolution weights keep
// torchvision's OIHW layout, so parameter shapes equal torchvision's.
//
// # Initialisation
//
// Constructors take a *rand.Rand and initialise like PyTorch's layer
// defaults (kaiming-uniform with a=√5 for Linear and Conv2d, ones and zeros
// for BatchNorm). Encoders that need torchvision's ResNet initialisation
// call KaimingNormalFanOut on their convolutions.
//
// # Training mode
//
// Modules start in training mode, as in PyTorch. SetTraining(m, false)
// switches every module below m that has a mode (BatchNorm) to evaluation:
// batch norm then normalises with its running statistics and leaves them
// unchanged.
//
// # Errors
//
// Wrong shapes or sizes are programming errors: constructors and Forward
// panic with the layer name and the shapes involved.
package nn
