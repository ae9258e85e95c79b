package methods

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"contrastive/augment"
	"contrastive/autograd"
	"contrastive/data"
	"contrastive/models"
	"contrastive/nn"
	"contrastive/optim"
)

func meanCos(a []float32, d int) float64 {
	n := len(a) / d
	var s float64
	var c int
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			var dot float64
			for k := 0; k < d; k++ {
				dot += float64(a[i*d+k]) * float64(a[j*d+k])
			}
			s += dot
			c++
		}
	}
	return s / float64(c)
}

func TestZZDiag(t *testing.T) {
	if os.Getenv("DIAG") == "" {
		t.Skip()
	}
	lr, _ := strconv.ParseFloat(os.Getenv("LR"), 64)
	steps, _ := strconv.Atoi(os.Getenv("STEPS"))
	ds, err := data.Open("mnist", data.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mv, _ := augment.Preset("instdisc", 28, 1)
	cfg := Config{Encoder: models.Config{Arch: "resnet18", Stem: "cifar", InChannels: 1, Width: 0.125}, DatasetSize: ds.Len()}
	cfg.Options = DefaultOptions()
	if os.Getenv("LOSS") != "" {
		cfg.Options.InstDisc.Loss = os.Getenv("LOSS")
	}
	if os.Getenv("TAU") != "" {
		f, _ := strconv.ParseFloat(os.Getenv("TAU"), 64)
		cfg.Temperature = float32(f)
	}
	m0, err := New("instdisc", cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := m0.(*InstDisc)
	opt, _ := optim.NewSGD(optim.Params(nn.Params(m.Model())), optim.SGDConfig{LR: lr, Momentum: 0.9, WeightDecay: 1e-4})
	ld, err := data.NewLoader(ds, data.LoaderConfig{BatchSize: 128, Seed: 1, Shuffle: true, DropLast: true, Workers: 2}, mv.Views)
	if err != nil {
		t.Fatal(err)
	}
	defer ld.Close()
	visited := make([]bool, ds.Len())
	for s := 0; s < steps; s++ {
		b, _ := ld.Next()
		l := m.Loss(Batch{Views: b.Views, Indices: b.Indices, Step: s})
		v := m.bank.staged.Data
		// cos of v with visited noise rows
		var cn float64
		var nc int
		d := 128
		for _, k := range m.noise[:512] {
			if !visited[k] {
				continue
			}
			for i := 0; i < 16; i++ {
				var dot float64
				for j := 0; j < d; j++ {
					dot += float64(v[i*d+j]) * float64(m.bank.Rows.Data[k*d+j])
				}
				cn += dot
				nc++
			}
		}
		if s%20 == 0 {
			fmt.Printf("step %d loss %.3f meancos(v) %.3f cos(v,visited noise) %.3f (n=%d) logZ %.2f\n", s, l.Item(), meanCos(v[:64*d], d), cn/float64(max(nc, 1)), nc, m.logZ)
		}
		autograd.Backward(l)
		opt.Step()
		opt.ZeroGrad()
		autograd.Free(l)
		m.AfterStep(s)
		for _, i := range b.Indices {
			visited[i] = true
		}
	}
}
