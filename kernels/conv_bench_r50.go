package kernels

// ResNet50ImageNetConvShapes returns each distinct convolution of
// ResNet-50 (torchvision, v1.5: stride on the 3×3) with the ImageNet stem
// on 224×224 inputs: the 7×7/2 stem, and per stage the bottleneck's 1×1
// reduce (first block: from the previous stage's width), 3×3 (stride 2 in
// the first block from layer2 on), 1×1 expand and 1×1 downsample.
func ResNet50ImageNetConvShapes() []ConvBenchShape {
	s := []ConvBenchShape{{"conv1", 3, 224, 224, 64, 7, 2, 3}}
	in, hw := 64, 56
	for i, planes := range []int{64, 128, 256, 512} {
		l := "layer" + string(rune('1'+i))
		stride := 1
		if i > 0 {
			stride = 2
		}
		out := planes * 4
		ohw := hw / stride
		s = append(s,
			ConvBenchShape{l + ".0.conv1", in, hw, hw, planes, 1, 1, 0},
			ConvBenchShape{l + ".0.conv2", planes, hw, hw, planes, 3, stride, 1},
			ConvBenchShape{l + ".0.downsample", in, hw, hw, out, 1, stride, 0},
			ConvBenchShape{l + ".conv1", out, ohw, ohw, planes, 1, 1, 0},
			ConvBenchShape{l + ".conv2", planes, ohw, ohw, planes, 3, 1, 1},
			ConvBenchShape{l + ".conv3", planes, ohw, ohw, out, 1, 1, 0},
		)
		in, hw = out, ohw
	}
	return s
}
