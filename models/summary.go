package models

import "github.com/contrastive-ssl/contrastive/nn"

// Summary describes an encoder: what `contrastive model summary` prints.
type Summary struct {
	Arch       string  `json:"arch"`
	Stem       string  `json:"stem"`
	InChannels int     `json:"in_channels"`
	Width      float64 `json:"width"`
	// Params counts every parameter element (torchvision's count without
	// fc); Buffers counts the batch-norm running statistics
	// (running_mean and running_var elements; the num_batches_tracked
	// counters are listed in Tensors but not counted).
	Params     int           `json:"params"`
	Buffers    int           `json:"buffers"`
	FeatureDim int           `json:"feature_dim"`
	Tensors    []TensorShape `json:"tensors"`
}

// TensorShape is one state tensor's torchvision name and shape ([] for the
// scalar num_batches_tracked).
type TensorShape struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

// Summarize lists r's tensors in state_dict order and counts its
// parameters and running statistics.
func Summarize(r *ResNet) Summary {
	c := r.Config()
	s := Summary{Arch: c.Arch, Stem: c.Stem, InChannels: c.InChannels, Width: c.Width,
		Params: nn.NumParams(r), FeatureDim: r.FeatureDim(), Tensors: []TensorShape{}}
	params := map[string]bool{}
	for _, p := range nn.Params(r) {
		params[p.Name] = true
	}
	for _, e := range nn.State(r) {
		shape := []int{}
		if e.F32 != nil {
			shape = append(shape, e.F32.Shape()...)
			if !params[e.Name] {
				s.Buffers += e.F32.Numel()
			}
		}
		s.Tensors = append(s.Tensors, TensorShape{Name: e.Name, Shape: shape})
	}
	return s
}
