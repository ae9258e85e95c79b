// Command contrastive trains and evaluates contrastive self-supervised
// image encoders (SimCLR, MoCo, InstDisc, PIRL, SwAV) on the CPU.
//
// Usage:
//
//	contrastive pretrain [flags]        train an encoder (no flags: SimCLR on embedded MNIST)
//	contrastive eval knn|linear [flags] evaluate a checkpoint's frozen features
//	contrastive eval video linear|finetune [flags]  action recognition with a video encoder
//	contrastive model summary [flags]   list an encoder's tensors and parameter count
//	contrastive augment [flags]         write a PNG grid of augmented views
//	contrastive bench gemm|conv|conv3d|step|augment [flags]
//
// Run "contrastive help" for the list of commands and "contrastive CMD -h"
// for the flags of one.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/contrastive-ssl/contrastive/dist"
)

// command is one subcommand: name is its words ("bench gemm"), run gets
// the arguments after them and returns the exit status.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

var commands = map[string]*command{}

// register adds a subcommand; each subcommand's file calls it from init.
func register(name, summary string, run func(args []string, stdout, stderr io.Writer) int) {
	if _, dup := commands[name]; dup {
		panic("duplicate command " + name)
	}
	commands[name] = &command{name: name, summary: summary, run: run}
}

func main() {
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	if err := dist.Shutdown(); err != nil { // MPI_Finalize when a command joined a group
		fmt.Fprintln(os.Stderr, err)
		code = max(code, 1)
	}
	os.Exit(code)
}

// run dispatches to the longest registered command name that prefixes args.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	for n := min(len(args), 3); n >= 1; n-- { // up to three words: "eval video linear"
		if c, ok := commands[strings.Join(args[:n], " ")]; ok {
			return c.run(args[n:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "contrastive: unknown command %q\n\n", strings.Join(args[:min(len(args), 2)], " "))
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: contrastive COMMAND [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-16s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'contrastive COMMAND -h' for the flags of a command.")
}
