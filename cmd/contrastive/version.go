package main

import (
	"fmt"
	"io"

	"github.com/contrastive-ssl/contrastive/checkpoint"
	"github.com/contrastive-ssl/contrastive/internal/version"
)

func init() {
	register("version", "print the program's version (from the Go build information)", runVersion)
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "version: unexpected argument %q\n", args[0])
		return 2
	}
	in := version.Read()
	fmt.Fprintf(stdout, "contrastive %s\n", in)
	if in.Module != "" {
		fmt.Fprintf(stdout, "module %s\n", in.Module)
	}
	if in.Revision != "" {
		dirty := ""
		if in.Modified {
			dirty = " (modified)"
		}
		fmt.Fprintf(stdout, "revision %s%s %s\n", in.Revision, dirty, in.Time)
	}
	fmt.Fprintf(stdout, "built with %s\ncheckpoint format %s %d\n", in.Go, checkpoint.Format, checkpoint.FormatVersion)
	return 0
}
