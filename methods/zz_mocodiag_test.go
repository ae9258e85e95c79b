//go:build mocodiag

package methods

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"testing"

	"contrastive/augment"
	"contrastive/autograd"
	"contrastive/data"
	"contrastive/loss"
	"contrastive/models"
	"contrastive/nn"
	"contrastive/optim"
)

func envf(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
		return v
	}
	return def
}

func TestMoCoDiag(t *testing.T) {
	ds, err := data.Open("mnist", data.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mv, _ := augment.Preset("moco-v2", 28, 1)
	cfg := Config{Encoder: models.Config{Arch: "resnet18", Stem: "cifar", InChannels: 1, Width: 0.125}, DatasetSize: ds.Len(), ProjBN: envf("PBN", 0) == 1}
	cfg.Options.MoCo = MoCoConfig{Version: 2, Momentum: envf("M", 0.99), BNSplits: int(envf("S", 8)), QueueSize: int(envf("K", 4096))}
	mm, err := New("moco", cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := mm.(*MoCo)
	opt, _ := optim.NewSGD(optim.Params(nn.Params(m.Model())), optim.SGDConfig{LR: envf("LR", 0.3), Momentum: 0.9, WeightDecay: 1e-4})
	ld, _ := data.NewLoader(ds, data.LoaderConfig{BatchSize: 128, Seed: 1, Shuffle: true, DropLast: true, Workers: 2}, mv.Views)
	defer ld.Close()
	for step := 0; step < int(envf("N", 60)); step++ {
		b, _ := ld.Next()
		l := m.Loss(Batch{Views: b.Views, Indices: b.Indices, Step: step})
		// diagnostics: lPos, lNeg from the graph's pieces
		q := m.k // placeholder to keep it simple
		_ = q
		autograd.Backward(l)
		opt.Step()
		opt.ZeroGrad()
		if step%5 == 0 {
			diag(m, l.Item(), step)
			// same batch, same keys and queue, after the step
			var after float32
			autograd.NoGrad(func() {
				qq := autograd.L2Normalize(concat(m.query.bn.forward(m.query.forward, b.Views[0], m.splits(128))), 1e-12)
				after = loss.InfoNCE(qq, autograd.Const(m.k), autograd.Const(m.queue.Keys), m.tau).Item()
			})
			fmt.Printf("   same-batch loss after the step %.4f\n", after)
		}
		autograd.Free(l)
		m.AfterStep(step)
	}
}

// diag prints key statistics: mean pairwise cosine among this batch's keys,
// mean cosine of keys with the queue.
func diag(m *MoCo, loss float32, step int) {
	k := m.k
	n, c := k.Dim(0), k.Dim(1)
	var within float64
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			within += dot(k.Data[i*c:(i+1)*c], k.Data[j*c:(j+1)*c])
		}
	}
	within /= float64(n * (n - 1) / 2)
	var withQ float64
	kq := m.queue.Keys
	for i := 0; i < n; i++ {
		for j := 0; j < kq.Dim(0); j += 7 {
			withQ += dot(k.Data[i*c:(i+1)*c], kq.Data[j*c:(j+1)*c])
		}
	}
	withQ /= float64(n * ((kq.Dim(0) + 6) / 7))
	fmt.Printf("step %3d loss %.4f  log(K+1) %.3f  key-key cos %.4f  key-queue cos %.4f\n", step, loss, math.Log(float64(kq.Dim(0)+1)), within, withQ)
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}
