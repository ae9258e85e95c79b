package methods

import "flag"

// SwAVConfig holds SwAV's own settings (YAML key "swav").
type SwAVConfig struct {
}

// Defaults sets the paper defaults.
func (c *SwAVConfig) Defaults() {}

// Flags registers SwAV's command-line flags on fs.
func (c *SwAVConfig) Flags(fs *flag.FlagSet) {}
