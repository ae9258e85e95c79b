package autograd

// Op identifies the operation that produced a Value. Every Op except OpLeaf
// has a backward rule and a gradient-check case (see ops_test.go).
type Op uint8

//go:generate stringer -type=Op -trimprefix=Op
const (
	OpLeaf Op = iota
	OpDetach
	OpMatMul
	OpBatchedMatMul
	OpLinear
	OpAdd
	OpSub
	OpMul
	OpDiv
	OpNeg
	OpScale
	OpAddScalar
	OpSum
	OpMean
	OpExp
	OpLog
	OpSqrt
	OpPow
	OpReLU
	OpL2Normalize
	OpSoftmax
	OpLogSoftmax
	OpCrossEntropy
	OpConcat
	OpSliceAxis
	OpReshape
	OpTranspose
	OpPermute
	OpIndexSelect
	OpScatterRows
	OpDropout
	OpConv2d
	OpBatchNorm
	OpBatchNormReLU
	OpMaxPool2d
	OpAvgPool2d
	OpGlobalAvgPool
	OpFunc
	OpConv3d
	OpMaxPool3d
	OpAddReLU
	numOps
)

var opNames = [numOps]string{
	"Leaf", "Detach", "MatMul", "BatchedMatMul", "Linear", "Add", "Sub", "Mul", "Div", "Neg",
	"Scale", "AddScalar", "Sum", "Mean", "Exp", "Log", "Sqrt", "Pow", "ReLU", "L2Normalize",
	"Softmax", "LogSoftmax", "CrossEntropy", "Concat", "SliceAxis", "Reshape", "Transpose",
	"Permute", "IndexSelect", "ScatterRows", "Dropout", "Conv2d", "BatchNorm", "BatchNormReLU",
	"MaxPool2d", "AvgPool2d", "GlobalAvgPool", "Func", "Conv3d", "MaxPool3d", "AddReLU",
}

func (o Op) String() string {
	if o < numOps {
		return opNames[o]
	}
	return "Op(?)"
}

// NumOps is the number of defined ops (for completeness tests).
const NumOps = int(numOps)
