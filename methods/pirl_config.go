package methods

import "flag"

// PIRLConfig holds PIRL's own settings (YAML key "pirl").
type PIRLConfig struct {
}

// Defaults sets the paper defaults.
func (c *PIRLConfig) Defaults() {}

// Flags registers PIRL's command-line flags on fs.
func (c *PIRLConfig) Flags(fs *flag.FlagSet) {}
