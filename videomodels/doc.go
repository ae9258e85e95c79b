// Package videomodels holds torchvision's 3-D ResNets for video clips,
// r3d_18 (3×3×3 convolutions, Tran et al. arXiv:1711.11248) and
// r2plus1d_18 (each 3×3×3 convolution factored into a 1×3×3 spatial and a
// 3×1×1 temporal one), with torchvision's module names
// (stem.0.weight, layer1.0.conv1.0.weight, layer1.0.downsample.1.running_mean, …)
// so weights move to and from torchvision.models.video unchanged.
//
// Clips are channels last, [N, T, H, W, C]; the encoder returns the pooled
// feature [N, 8·base] (torchvision's model without fc). Width and input
// channels scale the networks as models.Config does for the 2-D ResNets.
// Inflate starts a 3-D encoder from a 2-D ResNet-18's weights (I3D,
// Carreira and Zisserman arXiv:1705.07750).
package videomodels
