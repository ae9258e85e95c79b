package methods

import "flag"

// InstDiscConfig holds InstDisc's own settings (YAML key "instdisc").
type InstDiscConfig struct {
}

// Defaults sets the paper defaults.
func (c *InstDiscConfig) Defaults() {}

// Flags registers InstDisc's command-line flags on fs.
func (c *InstDiscConfig) Flags(fs *flag.FlagSet) {}
