// Package models builds the encoders of the contrastive methods: ResNet-18,
// -34 and -50 (and -101, -152) exactly as torchvision builds them (He et al.,
// "Deep Residual Learning for Image Recognition", arXiv:1512.03385), with
// the stride of the Bottleneck on its 3×3 convolution (torchvision's
// "ResNet v1.5") and without the classification layer: the encoder returns
// the globally average-pooled feature, [N, 512·w] for ResNet-18/34 and
// [N, 2048·w] for ResNet-50, where w is the width multiplier.
//
// # Stems
//
// StemImageNet is torchvision's: 7×7 convolution with stride 2, batch norm,
// ReLU and a 3×3 max pool with stride 2. StemCIFAR, for 32×32 images as
// solo-learn and lightly use it, is a 3×3 convolution with stride 1 and no
// max pool. Any number of input channels is accepted (1 for MNIST).
//
// # Width
//
// Width scales every stage: the base width is max(1, round(64·w)) and the
// four stages have base, 2·base, 4·base and 8·base channels (times 4 at the
// Bottleneck outputs). Width 1 is torchvision's network; 0.25 gives a
// ResNet-18 with 16-channel stem for small CPU runs.
//
// # Names
//
// Parameter and buffer names are torchvision's ("conv1.weight",
// "bn1.running_mean", "layer1.0.conv1.weight",
// "layer2.0.downsample.0.weight", "layer2.0.downsample.1.bias"), so
// nn.State of a ResNet is a torchvision state_dict without the "fc."
// entries, and parameter counts equal torchvision's (ResNet-50 without fc:
// 23,508,032).
//
// Activations are NHWC: Forward takes [N, H, W, C] (see tensor.FromNCHW).
package models
