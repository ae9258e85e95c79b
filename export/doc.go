// Package export carries an encoder out of and into this program.
//
// # Torchvision
//
// WriteTorchvision stores a ResNet's state under torchvision's names
// (conv1.weight, layer1.0.bn1.running_var, …, num_batches_tracked as
// int64) in safetensors. After `model.fc = nn.Identity()` the file loads
// into torchvision.models.resnetXX with load_state_dict(strict=True);
// tools/check_torchvision.py checks that and the features. ReadTorchvision
// reads such a file back, or a torchvision state_dict saved to safetensors
// with its fc layer, inferring the architecture, stem, width and input
// channels from the tensor shapes (the --init flag of pretrain and eval).
//
// # ONNX
//
// WriteONNX writes the encoder as an ONNX ModelProto (IR version 8, opset
// 13): input "input" [N, C, H, W] float32 (NCHW, batch and size dynamic),
// output "features" [N, D], the average-pooled feature. Convolutions,
// batch norms (inference form, running statistics), ReLU, MaxPool, Add and
// GlobalAveragePool map one to one onto ONNX operators. The protocol buffer
// types are generated into contrastive/onnx/onnxpb.
package export
