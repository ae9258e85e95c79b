package methods

import (
	"fmt"
	"sort"
)

// constructors maps a method name to its constructor.
var constructors = map[string]func(cfg Config, seed uint64) (Method, error){
	"simclr":   func(cfg Config, seed uint64) (Method, error) { return NewSimCLR(cfg, seed) },
	"moco":     func(cfg Config, seed uint64) (Method, error) { return NewMoCo(cfg, seed) },
	"instdisc": func(cfg Config, seed uint64) (Method, error) { return NewInstDisc(cfg, seed) },
	"pirl":     func(cfg Config, seed uint64) (Method, error) { return NewPIRL(cfg, seed) },
	"swav":     func(cfg Config, seed uint64) (Method, error) { return NewSwAV(cfg, seed) },

	"byol":        func(cfg Config, seed uint64) (Method, error) { return NewBYOL(cfg, seed) },
	"simsiam":     func(cfg Config, seed uint64) (Method, error) { return NewSimSiam(cfg, seed) },
	"barlowtwins": func(cfg Config, seed uint64) (Method, error) { return NewBarlowTwins(cfg, seed) },
	"vicreg":      func(cfg Config, seed uint64) (Method, error) { return NewVICReg(cfg, seed) },
	"mocov3":      func(cfg Config, seed uint64) (Method, error) { return NewMoCoV3(cfg, seed) },
	"dino":        func(cfg Config, seed uint64) (Method, error) { return NewDINO(cfg, seed) },
	"supcon":      func(cfg Config, seed uint64) (Method, error) { return NewSupCon(cfg, seed) },
	"supervised":  func(cfg Config, seed uint64) (Method, error) { return NewSupervised(cfg, seed) },
}

// Names lists the registered methods.
func Names() []string {
	var out []string
	for n := range constructors {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// New builds the method called name; cfg is defaulted and validated first.
func New(name string, cfg Config, seed uint64) (Method, error) {
	ctor, ok := constructors[name]
	if !ok {
		return nil, fmt.Errorf("unknown method %q (have %v)", name, Names())
	}
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("method %s: %w", name, err)
	}
	return ctor(cfg, seed)
}
