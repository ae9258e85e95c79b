package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"

	"github.com/contrastive-ssl/contrastive/train"
)

var reFlagValue = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-([^:]+): `)

// parseFlags parses args into fs. A value of the wrong type is reported
// with the flag, the value and the type wanted ("flag --batch-size: "many"
// is not an integer"), not the flag package's "parse error" and usage
// dump; -h prints the usage as usual.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	cmd := fs.Name()
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return err
	}
	if m := reFlagValue.FindStringSubmatch(err.Error()); m != nil {
		if f := fs.Lookup(m[2]); f != nil {
			fmt.Fprintf(stderr, "%s: flag --%s: %q is not %s\n", cmd, m[2], m[1], flagType(f))
			return err
		}
	}
	fmt.Fprintf(stderr, "%s: %v (run 'contrastive %s -h' for the flags)\n", cmd, err, cmd)
	return err
}

// flagType names the kind of value a flag takes.
func flagType(f *flag.Flag) string {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return "a valid value"
	}
	switch g.Get().(type) {
	case int, int64:
		return "an integer"
	case uint, uint64:
		return "a non-negative integer"
	case float64:
		return "a number"
	case bool:
		return "true or false"
	}
	return "a valid value"
}

// keyErrorSource says where the value of a configuration error came from:
// a flag set on the command line names the flag, a config file (--config,
// or the run directory's config.yaml with --resume) that sets the key
// names the file and line, otherwise it is a default's.
func keyErrorSource(err error, fs *flag.FlagSet, files ...string) error {
	var ke *train.KeyError
	if !errors.As(err, &ke) || ke.File != "" {
		return err
	}
	name := train.FlagName(ke.Key)
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name || (name == "instdisc-loss" && f.Name == "loss") {
			ke.Flag = f.Name
		}
	})
	if ke.Flag != "" {
		return ke
	}
	for _, f := range files {
		if f != "" {
			if loc := train.LocateFile(err, f); loc != err {
				return loc
			}
		}
	}
	return err
}
