package videomodels

import "github.com/contrastive-ssl/contrastive/nn"

// Summary describes a video encoder, with the JSON fields of the 2-D
// encoders' models.Summary (Stem is "video").
type Summary struct {
	Arch       string        `json:"arch"`
	Stem       string        `json:"stem"`
	InChannels int           `json:"in_channels"`
	Width      float64       `json:"width"`
	Params     int           `json:"params"`  // torchvision's count without fc
	Buffers    int           `json:"buffers"` // running_mean and running_var elements
	FeatureDim int           `json:"feature_dim"`
	Tensors    []TensorShape `json:"tensors"`
}

// TensorShape is one state tensor's torchvision name and shape.
type TensorShape struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

// Summarize lists r's tensors in state_dict order and counts them.
func Summarize(r *VideoResNet) Summary {
	c := r.Config()
	s := Summary{Arch: c.Arch, Stem: "video", InChannels: c.InChannels, Width: c.Width,
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
