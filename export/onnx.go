package export

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/onnx/onnxpb"
)

// ONNX versions written by WriteONNX.
const (
	ONNXIRVersion = 8
	ONNXOpset     = 13
)

// graph accumulates nodes and initializers; values are named after the
// torchvision module that produces them.
type graph struct {
	g *onnxpb.GraphProto
}

func (b *graph) init(name string, data []float32, dims ...int) string {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	d := make([]int64, len(dims))
	for i, v := range dims {
		d[i] = int64(v)
	}
	b.g.Initializer = append(b.g.Initializer, &onnxpb.TensorProto{
		Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: d, RawData: raw,
	})
	return name
}

func ints(name string, v ...int) *onnxpb.AttributeProto {
	d := make([]int64, len(v))
	for i, x := range v {
		d[i] = int64(x)
	}
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: d}
}

func attrInt(name string, v int) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(int64(v))}
}

func attrFloat(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func (b *graph) node(op, name string, inputs []string, attrs ...*onnxpb.AttributeProto) string {
	out := name
	b.g.Node = append(b.g.Node, &onnxpb.NodeProto{
		OpType: proto.String(op), Name: proto.String(name), Input: inputs, Output: []string{out}, Attribute: attrs,
	})
	return out
}

func (b *graph) conv(name, x string, c *nn.Conv2d) string {
	w := c.Weight.Data
	s := w.Shape()
	in := []string{x, b.init(name+".weight", w.Data, s...)}
	if c.Bias != nil {
		in = append(in, b.init(name+".bias", c.Bias.Data.Data, c.Bias.Data.Shape()...))
	}
	return b.node("Conv", name, in, ints("kernel_shape", s[2], s[3]), ints("strides", c.Stride, c.Stride),
		ints("pads", c.Pad, c.Pad, c.Pad, c.Pad), ints("dilations", 1, 1), attrInt("group", 1))
}

func (b *graph) bn(name, x string, n *nn.BatchNorm) string {
	c := len(n.Weight.Data.Data)
	return b.node("BatchNormalization", name, []string{x,
		b.init(name+".weight", n.Weight.Data.Data, c), b.init(name+".bias", n.Bias.Data.Data, c),
		b.init(name+".running_mean", n.State.RunningMean.Data, c), b.init(name+".running_var", n.State.RunningVar.Data, c)},
		attrFloat("epsilon", n.State.Eps), attrFloat("momentum", 1-n.State.Momentum))
}

func (b *graph) relu(name, x string) string { return b.node("Relu", name, []string{x}) }

func (b *graph) downsample(name, x string, d *nn.Sequential) string {
	if d == nil {
		return x
	}
	return b.bn(name+".1", b.conv(name+".0", x, d.Layers[0].Module.(*nn.Conv2d)), d.Layers[1].Module.(*nn.BatchNorm))
}

func (b *graph) block(name, x string, m nn.Module) (string, error) {
	switch blk := m.(type) {
	case *models.BasicBlock:
		h := b.relu(name+".relu1", b.bn(name+".bn1", b.conv(name+".conv1", x, blk.Conv1), blk.BN1))
		h = b.bn(name+".bn2", b.conv(name+".conv2", h, blk.Conv2), blk.BN2)
		sum := b.node("Add", name+".add", []string{h, b.downsample(name+".downsample", x, blk.Downsample)})
		return b.relu(name+".relu", sum), nil
	case *models.Bottleneck:
		h := b.relu(name+".relu1", b.bn(name+".bn1", b.conv(name+".conv1", x, blk.Conv1), blk.BN1))
		h = b.relu(name+".relu2", b.bn(name+".bn2", b.conv(name+".conv2", h, blk.Conv2), blk.BN2))
		h = b.bn(name+".bn3", b.conv(name+".conv3", h, blk.Conv3), blk.BN3)
		sum := b.node("Add", name+".add", []string{h, b.downsample(name+".downsample", x, blk.Downsample)})
		return b.relu(name+".relu", sum), nil
	}
	return "", fmt.Errorf("export: block %s is a %T, not a ResNet block", name, m)
}

func valueInfo(name string, dims ...any) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		dim := &onnxpb.TensorShapeProto_Dimension{}
		switch v := d.(type) {
		case int:
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(v)}
		case string:
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: v}
		}
		shape.Dim = append(shape.Dim, dim)
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Shape: shape}}}}
}

// ONNXModel builds the ModelProto of enc in evaluation mode: input
// "input" [N, C, H, W] (NCHW, torchvision's layout; N, H and W symbolic),
// output "features" [N, FeatureDim]. The weights are copied.
func ONNXModel(enc *models.ResNet) (*onnxpb.ModelProto, error) {
	cfg := enc.Config()
	b := &graph{g: &onnxpb.GraphProto{Name: proto.String(cfg.Arch)}}
	x := b.relu("relu", b.bn("bn1", b.conv("conv1", "input", enc.Conv1), enc.BN1))
	if mp := enc.MaxPool; mp != nil {
		x = b.node("MaxPool", "maxpool", []string{x}, ints("kernel_shape", mp.Kernel, mp.Kernel),
			ints("strides", mp.Stride, mp.Stride), ints("pads", mp.Pad, mp.Pad, mp.Pad, mp.Pad))
	}
	for i, l := range enc.Layers {
		for _, c := range l.Layers {
			var err error
			if x, err = b.block("layer"+strconv.Itoa(i+1)+"."+c.Name, x, c.Module); err != nil {
				return nil, err
			}
		}
	}
	x = b.node("GlobalAveragePool", "avgpool", []string{x})
	b.node("Flatten", "features", []string{x}, attrInt("axis", 1))
	b.g.Input = []*onnxpb.ValueInfoProto{valueInfo("input", "N", cfg.InChannels, "H", "W")}
	b.g.Output = []*onnxpb.ValueInfoProto{valueInfo("features", "N", cfg.FeatureDim())}
	return &onnxpb.ModelProto{
		IrVersion:       proto.Int64(ONNXIRVersion),
		OpsetImport:     []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(ONNXOpset)}},
		ProducerName:    proto.String(Producer),
		ProducerVersion: proto.String("1"),
		DocString: proto.String(fmt.Sprintf("%s encoder (stem %s, width %g, %d input channels): NCHW input, average-pooled features",
			cfg.Arch, cfg.Stem, cfg.Width, cfg.InChannels)),
		Graph: b.g,
	}, nil
}

// WriteONNX writes enc as an ONNX model file (see ONNXModel), atomically.
// mean/std, when set, are recorded in the model's metadata_props as the
// normalisation the input expects.
func WriteONNX(path string, enc *models.ResNet, mean, std []float32) error {
	m, err := ONNXModel(enc)
	if err != nil {
		return err
	}
	if mean != nil {
		m.MetadataProps = []*onnxpb.StringStringEntryProto{
			{Key: proto.String("mean"), Value: proto.String(floats(mean))},
			{Key: proto.String("std"), Value: proto.String(floats(std))},
		}
	}
	raw, err := proto.Marshal(m)
	if err != nil {
		return fmt.Errorf("export: encode %s: %w", path, err)
	}
	if err := safetensors.WriteFileAtomic(path, raw); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}
