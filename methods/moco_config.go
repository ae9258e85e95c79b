package methods

import "flag"

// MoCoConfig holds MoCo's own settings (YAML key "moco").
type MoCoConfig struct {
}

// Defaults sets the paper defaults.
func (c *MoCoConfig) Defaults() {}

// Flags registers MoCo's command-line flags on fs.
func (c *MoCoConfig) Flags(fs *flag.FlagSet) {}
