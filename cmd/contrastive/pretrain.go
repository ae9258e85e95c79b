package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/contrastive-ssl/contrastive/dist"
	"github.com/contrastive-ssl/contrastive/methods"
	"github.com/contrastive-ssl/contrastive/train"
)

func init() {
	register("pretrain", "train an encoder self-supervised (no flags: SimCLR demo on embedded MNIST)", runPretrain)
}

// demoArgs is what `pretrain` with no arguments runs.
var demoArgs = []string{
	"--data", "mnist", "--test-data", "mnist:test", "--width", "0.125", "--epochs", "1",
	"--max-steps", "300", "--batch-size", "128", "--warmup-epochs", "0", "--weight-decay", "1e-4",
	"--checkpoint-every", "100", "--knn-train-size", "10000", "--compare-random",
}

func runPretrain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stdout, "no arguments: running the demo, the same as\n  contrastive pretrain %s\n\n", strings.Join(demoArgs, " "))
		args = demoArgs
	}
	cfg := train.DefaultConfig()
	if path := configFlag(args); path != "" {
		var err error
		if cfg, err = train.LoadConfig(path, cfg); err != nil {
			fmt.Fprintln(stderr, "pretrain:", err)
			return 2
		}
	}
	fs := flag.NewFlagSet("pretrain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.String("config", "", "YAML file with the settings below (keys as in config.yaml); flags override it")
	fs.StringVar(&cfg.Method, "method", cfg.Method, "method: "+strings.Join(methods.Names(), ", "))
	fs.StringVar(&cfg.Data, "data", cfg.Data, "training data PATH[:split]: mnist, an IDX or CIFAR-binary directory, an image folder or .tgz")
	fs.StringVar(&cfg.TestData, "test-data", cfg.TestData, "labelled test data for kNN evaluation (e.g. mnist:test, DIR:test)")
	fs.IntVar(&cfg.TrainSubset, "train-subset", cfg.TrainSubset, "train on N images spread evenly over --data (0: all); kNN memory still uses all")
	fs.BoolVar(&cfg.SkipBad, "skip-bad", cfg.SkipBad, "skip unreadable images with a warning instead of failing")
	fs.StringVar(&cfg.MaxMemory, "max-memory", cfg.MaxMemory, "decoded pixels held in memory per dataset, e.g. 512MiB, 4GiB (default 4GiB); a larger image folder is decoded from disk on every access")
	fs.Int64Var(&cfg.MaxPixels, "max-pixels", cfg.MaxPixels, "refuse images whose header claims more pixels (0: PIL's limit, 89478485)")
	fs.StringVar(&cfg.Arch, "arch", cfg.Arch, "encoder: resnet18, resnet34, resnet50")
	fs.StringVar(&cfg.Init, "init", cfg.Init, "start the encoder from torchvision-format weights (safetensors; see `contrastive export`)")
	fs.StringVar(&cfg.Stem, "stem", cfg.Stem, "encoder stem: cifar (3x3 conv) or imagenet (7x7 conv + max pool)")
	fs.Float64Var(&cfg.Width, "width", cfg.Width, "ResNet width multiplier (base width 64*w)")
	fs.IntVar(&cfg.Epochs, "epochs", cfg.Epochs, "training epochs")
	fs.IntVar(&cfg.BatchSize, "batch-size", cfg.BatchSize, "images per batch")
	fs.IntVar(&cfg.MaxSteps, "max-steps", cfg.MaxSteps, "stop after N optimizer steps (-1: no limit; 0: write the random-init checkpoint)")
	fs.IntVar(&cfg.CheckpointEvery, "checkpoint-every", cfg.CheckpointEvery, "write a checkpoint every N steps (0: only at the end)")
	fs.IntVar(&cfg.LogEvery, "log-every", cfg.LogEvery, "log a metrics line every N steps")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed (weights, shuffling, augmentations)")
	fs.IntVar(&cfg.Workers, "workers", cfg.Workers, "augmentation workers (0: one per core)")
	fs.StringVar(&cfg.Out, "out", cfg.Out, "run directory")
	fs.StringVar(&cfg.Optimizer, "optimizer", cfg.Optimizer, "sgd, lars or adamw")
	fs.Float64Var(&cfg.LR, "lr", cfg.LR, "peak learning rate after warm-up, cosine-decayed (0: the method's default: simclr/swav 0.3, moco/instdisc/pirl 0.06, byol/barlowtwins/mocov3/supcon/supervised 0.1, simsiam/vicreg/dino 0.05; lars 0.6, adamw 1e-3)")
	fs.Float64Var(&cfg.LARSEta, "lars-eta", cfg.LARSEta, "LARS trust coefficient (0: 0.001, main_swav.py's; the step of a layer is lr x eta x |w|/|g|)")
	fs.Float64Var(&cfg.Momentum, "momentum", cfg.Momentum, "SGD/LARS momentum")
	fs.Float64Var(&cfg.WeightDecay, "weight-decay", cfg.WeightDecay, "weight decay (biases and norms excluded)")
	fs.Float64Var(&cfg.WarmupEpochs, "warmup-epochs", cfg.WarmupEpochs, "linear warm-up epochs (-1: min(10 epochs, 10% of the steps that run))")
	fs.Float64Var(&cfg.Temperature, "temperature", cfg.Temperature, "loss temperature (0: the method's default)")
	fs.IntVar(&cfg.ProjHidden, "proj-hidden", cfg.ProjHidden, "projection MLP hidden width (0: the feature width)")
	fs.IntVar(&cfg.ProjDim, "proj-dim", cfg.ProjDim, "embedding width")
	fs.BoolVar(&cfg.ProjBN, "proj-bn", cfg.ProjBN, "batch norm in the projection MLP")
	fs.StringVar(&cfg.Augment, "augment", cfg.Augment, "augmentation preset (default: the method's)")
	fs.IntVar(&cfg.ImageSize, "image-size", cfg.ImageSize, "side N of the training views and the eval centre crop (0: the dataset's side if all images share one, else 224)")
	fs.IntVar(&cfg.KNNEvery, "knn-every", cfg.KNNEvery, "online kNN evaluation every N epochs (needs --test-data; 0: at the end only)")
	fs.IntVar(&cfg.KNNK, "knn-k", cfg.KNNK, "kNN neighbours")
	fs.Float64Var(&cfg.KNNTemperature, "knn-temperature", cfg.KNNTemperature, "kNN weight temperature")
	fs.IntVar(&cfg.KNNTrainSize, "knn-train-size", cfg.KNNTrainSize, "training images used as the kNN memory (0: all)")
	fs.BoolVar(&cfg.CompareRandom, "compare-random", cfg.CompareRandom, "also evaluate the random-init encoder at the end")
	fs.BoolVar(&cfg.SyncBN, "sync-bn", cfg.SyncBN, "under mpirun: batch-norm statistics over the global batch of every process")
	cfg.Methods.RegisterFlags(fs)
	resume := fs.String("resume", "", "continue the run in this directory from its checkpoint (its config.yaml is used; flags override it)")
	jsonOut := fs.Bool("json", false, "print the summary as JSON")
	cpuProfile := fs.String("cpuprofile", "", "write a pprof CPU profile of the whole run to this file (FILE.rankN for each process under mpirun)")
	if path := resumeFlag(args); path != "" {
		c, err := train.LoadConfig(path+"/"+train.ConfigFile, cfg)
		if err != nil {
			fmt.Fprintln(stderr, "pretrain: resume:", err)
			return 2
		}
		cfg = c
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pretrain: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *resume != "" {
		cfg.Out = *resume
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "pretrain:", keyErrorSource(err, fs, configFlag(args), resumeConfig(args)))
		return 2
	}
	comm, err := dist.Init()
	if err != nil {
		fmt.Fprintln(stderr, "pretrain:", err)
		return 1
	}
	if comm.Rank() != 0 {
		stdout = io.Discard // rank 0 reports for the group
	}
	if *cpuProfile != "" && comm.Size() > 1 {
		*cpuProfile += fmt.Sprintf(".rank%d", comm.Rank()) // one profile per process
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "pretrain:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "pretrain: cpu profile %s: %v\n", *cpuProfile, err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := train.Run(ctx, cfg, train.Options{Resume: *resume != "", Log: stdout, Progress: isTerminal(stdout), Comm: comm})
	if err != nil {
		fmt.Fprintln(stderr, "pretrain:", err)
		if errors.Is(err, train.ErrInterrupted) {
			return 130
		}
		return 1
	}
	if *jsonOut {
		b, _ := json.Marshal(sum)
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	fmt.Fprintf(stdout, "trained %d steps (%.2f epochs, warm-up %d steps) in %.0f s, %.1f images/s, final loss %.4f\n", sum.Steps, sum.Epochs, sum.WarmupSteps, sum.Seconds, sum.ImagesSec, sum.FinalLoss)
	if sum.KNN != nil {
		fmt.Fprintf(stdout, "kNN (k=%d) on %s: trained encoder top-1 %.2f%%", cfg.KNNK, cfg.TestData, 100*sum.KNN.Top1)
		if sum.RandomKNN != nil {
			fmt.Fprintf(stdout, "   random-init encoder top-1 %.2f%%", 100*sum.RandomKNN.Top1)
		}
		if sum.BankKNN != nil {
			fmt.Fprintf(stdout, "   memory bank top-1 %.2f%%", 100*sum.BankKNN.Top1)
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "run directory: %s\n", cfg.Out)
	return 0
}

// configFlag finds the value of --config in args before flags are parsed,
// so the file's values become the flags' defaults.
func configFlag(args []string) string { return findFlag(args, "config") }

func resumeFlag(args []string) string { return findFlag(args, "resume") }

// resumeConfig is the config.yaml of the run directory --resume names, or "".
func resumeConfig(args []string) string {
	if d := resumeFlag(args); d != "" {
		return d + "/" + train.ConfigFile
	}
	return ""
}

func findFlag(args []string, name string) string {
	for i, a := range args {
		for _, p := range []string{"-" + name, "--" + name} {
			if a == p && i+1 < len(args) {
				return args[i+1]
			}
			if strings.HasPrefix(a, p+"=") {
				return strings.TrimPrefix(a, p+"=")
			}
		}
	}
	return ""
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
