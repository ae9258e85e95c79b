package optim

import (
	"fmt"
	"math"
)

// WarmupCosine is a per-step schedule: linear warm-up from Start to Base
// over WarmupSteps, then cosine decay from Base to Final at TotalSteps
// (solo-learn's LinearWarmupCosineAnnealingLR, per step):
//
//	v(s) = Start + (Base−Start)·s/W                           s < W
//	v(s) = Final + (Base−Final)·(1 + cos(π·(s−W)/(T−W)))/2     W ≤ s < T
//	v(s) = Final                                              s ≥ T
type WarmupCosine struct {
	Base, Final, Start float64
	WarmupSteps        int
	TotalSteps         int
}

// Validate reports an inconsistent schedule.
func (s WarmupCosine) Validate() error {
	if s.TotalSteps < 1 || s.WarmupSteps < 0 || s.WarmupSteps > s.TotalSteps {
		return fmt.Errorf("optim.WarmupCosine: warm-up %d and total %d steps, want 0 ≤ warm-up ≤ total, total ≥ 1", s.WarmupSteps, s.TotalSteps)
	}
	return nil
}

// At returns the value for step s (0-based).
func (s WarmupCosine) At(step int) float64 {
	switch {
	case step < 0:
		return s.Start
	case step < s.WarmupSteps:
		return s.Start + (s.Base-s.Start)*float64(step)/float64(s.WarmupSteps)
	case step >= s.TotalSteps:
		return s.Final
	}
	frac := float64(step-s.WarmupSteps) / float64(s.TotalSteps-s.WarmupSteps)
	return s.Final + (s.Base-s.Final)*(1+math.Cos(math.Pi*frac))/2
}

// CosineMomentum is BYOL's schedule for the EMA coefficient of a target
// network (Grill et al., arXiv:2006.07733), which starts at τ_base = 0.996
// and rises to 1 at the end of training:
//
//	τ(k) = 1 − (1 − Base)·(cos(πk/K) + 1)/2
//
// generalised to end at Final instead of 1: τ(0) = Base, τ(K) = Final.
type CosineMomentum struct {
	Base, Final float64
	TotalSteps  int
}

// At returns τ at step k; steps beyond TotalSteps give Final.
func (c CosineMomentum) At(k int) float64 {
	if c.TotalSteps <= 0 || k >= c.TotalSteps {
		return c.Final
	}
	if k < 0 {
		k = 0
	}
	return c.Final - (c.Final-c.Base)*(math.Cos(math.Pi*float64(k)/float64(c.TotalSteps))+1)/2
}
