// Package onnxpb holds the Go types of ONNX's protocol buffers (ModelProto,
// GraphProto, NodeProto, TensorProto, …), generated from the onnx.proto of
// Debian's libonnx-dev (ONNX 1.12, /usr/include/onnx/onnx.proto) with
// protoc 3.21 and protoc-gen-go v1.36.10. Regenerate with
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.10
//	cp /usr/include/onnx/onnx.proto /tmp/ && cd /tmp && protoc --go_out=. \
//	    --go_opt=Monnx.proto=contrastive/onnx/onnxpb --go_opt=paths=source_relative onnx.proto
//	cp /tmp/onnx.pb.go onnx/onnxpb/
package onnxpb
