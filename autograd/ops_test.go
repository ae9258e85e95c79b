package autograd_test

// One table of op cases feeds TestOpsGrad (finite differences through
// gradcheck), TestOpsComplete (every Op but OpLeaf has a case) and
// BenchmarkOps.
//
// Cases are registered from several files: any file of package
// autograd_test appends to gradCases in an init function, e.g.
//
//	func init() {
//		gradCases = append(gradCases, gradCase{
//			name: "conv2d/k3s1p1", op: autograd.OpConv2d,
//			in:   []*tensor.Tensor{randT(1, 2, 5, 5, 3), randT(2, 4, 3, 3, 3)},
//			f: func(v []*autograd.Value) *autograd.Value {
//				return autograd.Conv2d(v[0], v[1], nil, 1, 1)
//			},
//		})
//	}
//
// (the external test package is needed because gradcheck imports autograd).

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/autograd/gradcheck"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// gradCase is one op configuration checked against finite differences.
type gradCase struct {
	name string
	// op is the op under test; TestOpsGrad checks that f's graph contains
	// it and TestOpsComplete that every op has a case.
	op autograd.Op
	// in are the inputs; gradcheck perturbs them in place and restores them.
	in []*tensor.Tensor
	// f builds the op over the inputs. Its output may have any shape: the
	// harness reduces it to a scalar as Σ out ⊙ W with a fixed random W,
	// so every output element gets a distinct upstream gradient.
	f   func(v []*autograd.Value) *autograd.Value
	opt gradcheck.Options
}

// defaultRelTol replaces gradcheck's looser default for cases that set no
// RelTol: with its step of 1e-2 the central difference of these small
// float32 cases is off by at most ~5e-4 (Div's and Pow's curvature).
const defaultRelTol = 2e-3

// gradCases is the shared table; see the package comment above.
var gradCases []gradCase

// seedOf derives a stable seed from a name.
func seedOf(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// randT returns a tensor of standard-normal values drawn from a generator
// seeded by seed, so that cases are reproducible.
func randT(seed uint64, shape ...int) *tensor.Tensor {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	t := tensor.New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(rng.NormFloat64())
	}
	return t
}

// posT returns values uniform in [lo, hi) (for Log, Sqrt, denominators).
func posT(seed uint64, lo, hi float32, shape ...int) *tensor.Tensor {
	rng := rand.New(rand.NewPCG(seed, 0x2545f4914f6cdd1d))
	t := tensor.New(shape...)
	for i := range t.Data {
		t.Data[i] = lo + (hi-lo)*rng.Float32()
	}
	return t
}

// ts is shorthand for a list of inputs.
func ts(t ...*tensor.Tensor) []*tensor.Tensor { return t }

// awayFromZero skips elements of input i lying within 3·eps of 0 (ReLU's
// kink), so that the central difference never straddles it.
func awayFromZero(in []*tensor.Tensor, eps float64) func(i, j int) bool {
	return func(i, j int) bool { return math.Abs(float64(in[i].Data[j])) < 3*eps }
}

func init() {
	bin := func(op autograd.Op, name string, fn func(a, b *autograd.Value) *autograd.Value, sa, sb []int, pos bool) gradCase {
		var b *tensor.Tensor
		if pos { // a denominator: keep it away from 0
			b = posT(seedOf(name+"b"), 0.5, 2, sb...)
		} else {
			b = randT(seedOf(name+"b"), sb...)
		}
		return gradCase{
			name: name, op: op,
			in: ts(randT(seedOf(name+"a"), sa...), b),
			f:  func(v []*autograd.Value) *autograd.Value { return fn(v[0], v[1]) },
		}
	}
	type bcast struct {
		tag    string
		sa, sb []int
	}
	bcasts := []bcast{
		{"same", []int{3, 4}, []int{3, 4}},
		{"bias", []int{3, 4}, []int{4}},
		{"row", []int{3, 4}, []int{3, 1}},
		{"scalar", []int{3, 4}, []int{}},
		{"left", []int{4}, []int{2, 3, 4}},
		{"general", []int{2, 1, 3}, []int{4, 1}},
		{"both1", []int{1, 1}, []int{1}},
	}
	for _, bc := range bcasts {
		gradCases = append(gradCases,
			bin(autograd.OpAdd, "add/"+bc.tag, autograd.Add, bc.sa, bc.sb, false),
			bin(autograd.OpSub, "sub/"+bc.tag, autograd.Sub, bc.sa, bc.sb, false),
			bin(autograd.OpMul, "mul/"+bc.tag, autograd.Mul, bc.sa, bc.sb, false),
			bin(autograd.OpDiv, "div/"+bc.tag, autograd.Div, bc.sa, bc.sb, true),
		)
	}

	un := func(op autograd.Op, name string, x *tensor.Tensor, fn func(a *autograd.Value) *autograd.Value) gradCase {
		return gradCase{name: name, op: op, in: ts(x), f: func(v []*autograd.Value) *autograd.Value { return fn(v[0]) }}
	}
	relu := un(autograd.OpReLU, "relu", randT(seedOf("relu"), 4, 5), autograd.ReLU)
	relu.opt.Kink = awayFromZero(relu.in, 1e-2)
	gradCases = append(gradCases,
		un(autograd.OpNeg, "neg", randT(1, 3, 4), autograd.Neg),
		un(autograd.OpScale, "scale", randT(2, 3, 4), func(a *autograd.Value) *autograd.Value { return autograd.Scale(a, -1.7) }),
		un(autograd.OpAddScalar, "addscalar", randT(3, 3, 4), func(a *autograd.Value) *autograd.Value { return autograd.AddScalar(a, 0.3) }),
		un(autograd.OpExp, "exp", randT(4, 3, 4), autograd.Exp),
		un(autograd.OpLog, "log", posT(5, 0.5, 3, 3, 4), autograd.Log),
		un(autograd.OpSqrt, "sqrt", posT(6, 0.5, 3, 3, 4), autograd.Sqrt),
		un(autograd.OpPow, "pow/2", randT(7, 3, 4), func(a *autograd.Value) *autograd.Value { return autograd.Pow(a, 2) }),
		un(autograd.OpPow, "pow/1", randT(7, 3, 4), func(a *autograd.Value) *autograd.Value { return autograd.Pow(a, 1) }),
		un(autograd.OpPow, "pow/3", randT(8, 3, 4), func(a *autograd.Value) *autograd.Value { return autograd.Pow(a, 3) }),
		un(autograd.OpPow, "pow/-1.5", posT(9, 0.5, 2, 3, 4), func(a *autograd.Value) *autograd.Value { return autograd.Pow(a, -1.5) }),
		relu,
		un(autograd.OpSoftmax, "softmax", randT(10, 2, 3, 5), autograd.Softmax),
		un(autograd.OpLogSoftmax, "logsoftmax", randT(11, 4, 6), autograd.LogSoftmax),
		un(autograd.OpL2Normalize, "l2normalize", randT(12, 4, 6), func(a *autograd.Value) *autograd.Value { return autograd.L2Normalize(a, 1e-12) }),
		un(autograd.OpCrossEntropy, "crossentropy", randT(13, 5, 7), func(a *autograd.Value) *autograd.Value {
			return autograd.CrossEntropy(a, []int{0, 6, 3, 3, 1})
		}),
	)
	// L2Normalize's clamped branch: every row norm lies far below eps, so a
	// step of opt.Eps never crosses the clamp.
	small := randT(14, 3, 4)
	for i := range small.Data {
		small.Data[i] *= 0.01
	}
	gradCases = append(gradCases, gradCase{
		name: "l2normalize/clamped", op: autograd.OpL2Normalize, in: ts(small),
		f:   func(v []*autograd.Value) *autograd.Value { return autograd.L2Normalize(v[0], 0.5) },
		opt: gradcheck.Options{Eps: 1e-3},
	})

	for _, ax := range []struct {
		tag  string
		axes []int
		keep bool
	}{{"all", nil, false}, {"all_keep", nil, true}, {"0", []int{0}, false}, {"-1_keep", []int{-1}, true}, {"0,2", []int{0, 2}, false}, {"1_keep", []int{1}, true}} {
		axes, keep := ax.axes, ax.keep
		gradCases = append(gradCases,
			un(autograd.OpSum, "sum/"+ax.tag, randT(seedOf("sum"+ax.tag), 2, 3, 4), func(a *autograd.Value) *autograd.Value { return autograd.Sum(a, axes, keep) }),
			un(autograd.OpMean, "mean/"+ax.tag, randT(seedOf("mean"+ax.tag), 2, 3, 4), func(a *autograd.Value) *autograd.Value { return autograd.Mean(a, axes, keep) }),
		)
	}

	for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		tA, tB := tr[0], tr[1]
		sa, sb := []int{3, 4}, []int{4, 5}
		if tA {
			sa = []int{4, 3}
		}
		if tB {
			sb = []int{5, 4}
		}
		tag := fmt.Sprintf("%v,%v", tA, tB)
		gradCases = append(gradCases, gradCase{
			name: "matmul/" + tag, op: autograd.OpMatMul,
			in: ts(randT(seedOf("mma"+tag), sa...), randT(seedOf("mmb"+tag), sb...)),
			f:  func(v []*autograd.Value) *autograd.Value { return autograd.MatMul(v[0], v[1], tA, tB) },
		}, gradCase{
			name: "batchedmatmul/" + tag, op: autograd.OpBatchedMatMul,
			in: ts(randT(seedOf("bma"+tag), append([]int{2}, sa...)...), randT(seedOf("bmb"+tag), append([]int{2}, sb...)...)),
			f:  func(v []*autograd.Value) *autograd.Value { return autograd.BatchedMatMul(v[0], v[1], tA, tB) },
		})
	}
	gradCases = append(gradCases, gradCase{
		name: "linear/bias", op: autograd.OpLinear,
		in: ts(randT(20, 2, 3, 4), randT(21, 5, 4), randT(22, 5)),
		f:  func(v []*autograd.Value) *autograd.Value { return autograd.Linear(v[0], v[1], v[2]) },
	}, gradCase{
		name: "linear/nobias", op: autograd.OpLinear,
		in: ts(randT(23, 3, 4), randT(24, 2, 4)),
		f:  func(v []*autograd.Value) *autograd.Value { return autograd.Linear(v[0], v[1], nil) },
	})

	gradCases = append(gradCases, gradCase{
		name: "concat/0", op: autograd.OpConcat,
		in: ts(randT(30, 2, 3), randT(31, 1, 3), randT(32, 3, 3)),
		f:  func(v []*autograd.Value) *autograd.Value { return autograd.Concat(0, v...) },
	}, gradCase{
		name: "concat/-1", op: autograd.OpConcat,
		in: ts(randT(33, 2, 2, 3), randT(34, 2, 2, 1)),
		f:  func(v []*autograd.Value) *autograd.Value { return autograd.Concat(-1, v...) },
	}, gradCase{
		name: "concat/twice", op: autograd.OpConcat, // one input used twice
		in: ts(randT(35, 2, 3)),
		f:  func(v []*autograd.Value) *autograd.Value { return autograd.Concat(1, v[0], v[0]) },
	}, gradCase{
		name: "sliceaxis/0", op: autograd.OpSliceAxis, // a view
		in: ts(randT(36, 5, 3)),
		f:  func(v []*autograd.Value) *autograd.Value { return autograd.SliceAxis(v[0], 0, 1, 4) },
	}, gradCase{
		name: "sliceaxis/1", op: autograd.OpSliceAxis,
		in: ts(randT(37, 2, 5, 3)),
		f:  func(v []*autograd.Value) *autograd.Value { return autograd.SliceAxis(v[0], 1, 2, 5) },
	}, gradCase{
		name: "split", op: autograd.OpSliceAxis,
		in: ts(randT(38, 3, 6)),
		f: func(v []*autograd.Value) *autograd.Value {
			p := autograd.Split(v[0], 1, 2, 3, 1)
			return autograd.Concat(1, autograd.Mul(p[0], p[0]), p[2], autograd.Scale(p[1], 2))
		},
	}, gradCase{
		name: "reshape", op: autograd.OpReshape,
		in: ts(randT(39, 2, 6)),
		f:  func(v []*autograd.Value) *autograd.Value { return autograd.Reshape(v[0], 3, -1) },
	}, gradCase{
		name: "transpose", op: autograd.OpTranspose,
		in: ts(randT(40, 3, 5)),
		f:  func(v []*autograd.Value) *autograd.Value { return autograd.Transpose(v[0]) },
	}, gradCase{
		name: "permute/3d", op: autograd.OpPermute,
		in: ts(randT(41, 2, 3, 4)),
		f:  func(v []*autograd.Value) *autograd.Value { return autograd.Permute(v[0], 2, 0, 1) },
	}, gradCase{
		name: "permute/nhwc-nchw", op: autograd.OpPermute,
		in: ts(randT(42, 2, 3, 2, 4)),
		f:  func(v []*autograd.Value) *autograd.Value { return autograd.Permute(v[0], 0, 3, 1, 2) },
	}, gradCase{
		name: "permute/generic", op: autograd.OpPermute, // no batched-transpose form
		in: ts(randT(48, 2, 3, 4, 2)),
		f:  func(v []*autograd.Value) *autograd.Value { return autograd.Permute(v[0], 2, 0, 3, 1) },
	}, gradCase{
		name: "indexselect", op: autograd.OpIndexSelect, // repeated rows accumulate
		in: ts(randT(43, 5, 3)),
		f:  func(v []*autograd.Value) *autograd.Value { return autograd.IndexSelect(v[0], []int{4, 0, 4, 2}) },
	}, gradCase{
		name: "scatterrows", op: autograd.OpScatterRows,
		in: ts(randT(44, 4, 2, 3)),
		f:  func(v []*autograd.Value) *autograd.Value { return autograd.ScatterRows(6, []int{5, 1, 5, 0}, v[0]) },
	}, gradCase{
		name: "dropout", op: autograd.OpDropout, // the same seeded mask at every evaluation
		in: ts(randT(45, 4, 6)),
		f: func(v []*autograd.Value) *autograd.Value {
			return autograd.Dropout(v[0], 0.3, rand.New(rand.NewPCG(1, 2)), true)
		},
	})
	// Detach: no gradient reaches input 0 through the detached path, which
	// finite differences cannot express, so input 0 is skipped here and
	// TestDetachStopsGradient checks that it receives none.
	gradCases = append(gradCases, gradCase{
		name: "detach", op: autograd.OpDetach,
		in: ts(randT(46, 3, 4), randT(47, 3, 4)),
		f: func(v []*autograd.Value) *autograd.Value {
			return autograd.Mul(autograd.Detach(v[0]), v[1])
		},
		opt: gradcheck.Options{Kink: func(i, _ int) bool { return i == 0 }},
	})
}

// hasOp reports whether op occurs in the graph below v.
func hasOp(v *autograd.Value, op autograd.Op, seen map[*autograd.Value]bool) bool {
	if v == nil || seen[v] {
		return false
	}
	seen[v] = true
	if v.Op() == op {
		return true
	}
	for _, p := range v.Parents() {
		if hasOp(p, op, seen) {
			return true
		}
	}
	return false
}

// scalarLoss returns f reduced to Σ f(v) ⊙ W with W fixed per case.
func scalarLoss(c gradCase) func(v []*autograd.Value) *autograd.Value {
	var w *autograd.Value
	autograd.NoGrad(func() {
		vs := make([]*autograd.Value, len(c.in))
		for i, t := range c.in {
			vs[i] = autograd.Const(t)
		}
		w = autograd.Const(randT(seedOf("W/"+c.name), c.f(vs).Shape()...))
	})
	return func(v []*autograd.Value) *autograd.Value {
		return autograd.Sum(autograd.Mul(c.f(v), w), nil, false)
	}
}

func TestOpsGrad(t *testing.T) {
	for _, c := range gradCases {
		t.Run(c.name, func(t *testing.T) {
			vs := make([]*autograd.Value, len(c.in))
			for i, x := range c.in {
				vs[i] = autograd.Param(x)
			}
			if !hasOp(c.f(vs), c.op, map[*autograd.Value]bool{}) {
				t.Fatalf("case declares op %v but its graph does not contain it", c.op)
			}
			opt := c.opt
			if opt.RelTol == 0 {
				opt.RelTol = defaultRelTol
			}
			if err := gradcheck.Check(scalarLoss(c), c.in, opt); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestOpsComplete(t *testing.T) {
	have := make([]bool, autograd.NumOps)
	for _, c := range gradCases {
		have[c.op] = true
	}
	var missing []string
	for op := autograd.Op(1); int(op) < autograd.NumOps; op++ { // 0 is OpLeaf
		if !have[op] {
			missing = append(missing, op.String())
		}
	}
	if len(missing) > 0 {
		t.Errorf("ops without a gradcheck case in gradCases: %s", strings.Join(missing, ", "))
	}
}

// TestGradcheckCatchesWrongGradient makes sure the harness can fail: a
// function whose recorded gradient is off by a factor (Scale then Detach
// half of it) must be rejected.
func TestGradcheckCatchesWrongGradient(t *testing.T) {
	x := randT(50, 3, 4)
	err := gradcheck.Check(func(v []*autograd.Value) *autograd.Value {
		y := autograd.Add(autograd.Mul(v[0], v[0]), autograd.Mul(autograd.Detach(v[0]), v[0]))
		return autograd.Sum(y, nil, false)
	}, ts(x), gradcheck.Options{})
	if err == nil {
		t.Fatal("gradcheck accepted a gradient missing the detached term")
	}
}

func TestOpsTableNamesUnique(t *testing.T) {
	var names []string
	for _, c := range gradCases {
		names = append(names, c.name)
	}
	slices.Sort(names)
	for i := 1; i < len(names); i++ {
		if names[i] == names[i-1] {
			t.Errorf("duplicate gradcheck case %q", names[i])
		}
	}
}
