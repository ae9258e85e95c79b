package autograd

import (
	"testing"

	"github.com/contrastive-ssl/contrastive/tensor"
)

func TestInferenceReturnsBuffers(t *testing.T) {
	x := Const(tensor.Full(1, 64, 64))
	w := Param(tensor.Full(0.5, 64, 64))
	step := func() float32 {
		var out float32
		Inference(func(keep func(*Value)) {
			h := MatMul(x, w, false, false)
			y := Exp(Scale(h, 0.01))
			kept := Sum(y, nil, false)
			keep(kept)
			out = kept.Item()
			Free(kept)
		})
		return out
	}
	want := step()
	allocs := testing.AllocsPerRun(5, func() {
		if got := step(); got != want {
			t.Fatalf("inference result changed: %v, want %v", got, want)
		}
	})
	// Graph nodes and closures are small; the 64x64 buffers (16 KiB each)
	// must come from the pool. Count allocations of big buffers indirectly
	// through the bytes allocated.
	var before, after runtimeStats
	before.read()
	for range 10 {
		step()
	}
	after.read()
	if per := (after.bytes - before.bytes) / 10; per > 8<<10 {
		t.Errorf("Inference step allocates %d bytes after warm-up, want < 8 KiB (buffers not returned to the pool); %v allocs/op", per, allocs)
	}
	if GradEnabled() != true {
		t.Error("grad mode not restored after Inference")
	}
}
