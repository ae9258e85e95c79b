// Package detection is a one-stage object detector over the project's
// ResNet encoders, with the evaluation the detection papers use.
//
// The detector is CenterNet ("Objects as Points", Zhou, Wang and
// Krähenbühl, arXiv:1904.07850): a class heatmap trained with the
// penalty-reduced focal loss, a box-size head and a sub-pixel offset head,
// decoded by taking local maxima of the heatmap (a 3×3 max filter) instead
// of non-maximum suppression. The neck fuses the backbone's stages into
// one stride-8 map, top-down like a small FPN (1×1 lateral convolutions,
// nearest-neighbour 2× upsampling, sums, one 3×3 convolution).
//
// The metrics are detectron2's PascalVOCDetectionEvaluator (VOCAP: VOC2007
// 11-point AP at IoU > 0.5, difficult boxes ignored) and pycocotools'
// COCOeval (COCOAP: 101-point AP at IoU ≥ 0.5, 0.55, …, 0.95, 100
// detections per image), per class and as the mean over classes that have
// ground truth, in percent.
package detection
