package methods

import "flag"

// Options holds each method's own settings; the shared ones are in Config.
// Each sub-config is defined in its method's file with YAML keys and a
// Flags method registering its command-line flags.
type Options struct {
	MoCo     MoCoConfig     `yaml:"moco"`
	InstDisc InstDiscConfig `yaml:"instdisc"`
	PIRL     PIRLConfig     `yaml:"pirl"`
	SwAV     SwAVConfig     `yaml:"swav"`

	BYOL        BYOLConfig        `yaml:"byol"`
	SimSiam     SimSiamConfig     `yaml:"simsiam"`
	BarlowTwins BarlowTwinsConfig `yaml:"barlowtwins"`
	VICReg      VICRegConfig      `yaml:"vicreg"`
	MoCoV3      MoCoV3Config      `yaml:"mocov3"`
	DINO        DINOConfig        `yaml:"dino"`
}

// RegisterFlags adds every method's flags to fs, bound to o's fields (whose
// current values become the defaults).
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	o.MoCo.Flags(fs)
	o.InstDisc.Flags(fs)
	o.PIRL.Flags(fs)
	o.SwAV.Flags(fs)
	o.BYOL.Flags(fs)
	o.SimSiam.Flags(fs)
	o.BarlowTwins.Flags(fs)
	o.VICReg.Flags(fs)
	o.MoCoV3.Flags(fs)
	o.DINO.Flags(fs)
}

// DefaultOptions returns every method's paper defaults.
func DefaultOptions() Options {
	var o Options
	o.MoCo.Defaults()
	o.InstDisc.Defaults()
	o.PIRL.Defaults()
	o.SwAV.Defaults()
	o.BYOL.Defaults()
	o.SimSiam.Defaults()
	o.BarlowTwins.Defaults()
	o.VICReg.Defaults()
	o.MoCoV3.Defaults()
	o.DINO.Defaults()
	return o
}
