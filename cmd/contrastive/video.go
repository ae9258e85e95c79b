package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/contrastive-ssl/contrastive/videomodels"
	"github.com/contrastive-ssl/contrastive/videotrain"
)

func init() {
	register("pretrain video", "self-supervised pretraining of a 3-D encoder on video clips (temporal or cross-modal)", pretrainVideo)
	register("eval video linear", "action recognition: linear classifier on a video encoder's frozen clip features", func(a []string, o, e io.Writer) int {
		return evalVideo(videotrain.EvalLinear, a, o, e)
	})
	register("eval video finetune", "action recognition: fine-tune a video encoder with a linear head", func(a []string, o, e io.Writer) int {
		return evalVideo(videotrain.EvalFinetune, a, o, e)
	})
}

// parseSize parses "WxH".
func parseSize(s string) (w, h int, err error) {
	a, b, ok := strings.Cut(s, "x")
	if ok {
		w, err = strconv.Atoi(a)
		if err == nil {
			h, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil || w < 1 || h < 1 {
		return 0, 0, fmt.Errorf("size %q, want WIDTHxHEIGHT such as 80x60", s)
	}
	return w, h, nil
}

func pretrainVideo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pretrain video", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c videotrain.Config
	fs.StringVar(&c.Data, "data", "", "video dataset PATH[:split]: a folder or .tgz of <split>/<class>/<video file or frame folder> (required)")
	fs.StringVar(&c.Out, "out", "runs/video", "run directory")
	fs.StringVar(&c.Arch, "arch", videomodels.R3D18, "encoder: "+strings.Join(videomodels.Archs(), ", "))
	fs.Float64Var(&c.Width, "width", 0.25, "width multiplier: base width max(1, round(64·width))")
	fs.StringVar(&c.Method, "method", videotrain.MethodSimCLR, "simclr or moco (temporal pretext)")
	fs.StringVar(&c.Pretext, "pretext", videotrain.PretextTemporal, "temporal (two clips of a video are positives, CVRL) or crossmodal (RGB vs frame differences, two encoders, CMC)")
	fs.StringVar(&c.Init2D, "init-2d", "", "inflate a 2-D ResNet-18 run or checkpoint into the encoder first (I3D)")
	fs.IntVar(&c.Frames, "frames", 8, "frames per clip")
	fs.IntVar(&c.Stride, "stride", 2, "temporal stride between a clip's frames")
	fs.IntVar(&c.Size, "size", 56, "clip crop size (pixels)")
	decode := fs.String("decode", "80x60", "decode size WIDTHxHEIGHT every frame is scaled to")
	fs.IntVar(&c.CacheMB, "cache-mb", 1024, "memory budget for decoded frames (MiB)")
	fs.IntVar(&c.Batch, "batch-size", 16, "videos per batch")
	fs.IntVar(&c.Steps, "max-steps", 200, "optimizer steps (0: write the initial encoder)")
	fs.Float64Var(&c.LR, "lr", 0.05, "SGD learning rate (warm-up, cosine)")
	fs.Float64Var(&c.WeightDecay, "weight-decay", 1e-4, "weight decay")
	fs.Float64Var(&c.Temperature, "temperature", 0.1, "softmax temperature")
	fs.IntVar(&c.MoCoQueue, "moco-queue-size", 256, "MoCo queue length")
	fs.Float64Var(&c.MoCoM, "moco-momentum", 0.99, "MoCo key-encoder momentum")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed")
	fs.IntVar(&c.SaveEvery, "save-every", 50, "checkpoint every N steps (0: only at the end)")
	frameCache := fs.String("frame-cache", videotrain.DiskCache, `directory keeping decoded frames between runs ("" disables)`)
	resume := fs.Bool("resume", false, "continue the run in --out with its saved settings (--max-steps, if given, changes its length)")
	stopAt := fs.Int("stop-at", 0, "stop after this many steps, checkpointed, as an interruption would (0: run to --max-steps)")
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	videotrain.DiskCache = *frameCache
	if *resume {
		given := false
		fs.Visit(func(f *flag.Flag) { given = given || f.Name == "max-steps" })
		if !given {
			c.Steps = 0 // keep the saved length
		}
	}
	c.StopAt = *stopAt
	var err error
	if c.DecodeW, c.DecodeH, err = parseSize(*decode); err != nil {
		fmt.Fprintln(stderr, "pretrain video:", err)
		return 2
	}
	if c.Data == "" && !*resume {
		fmt.Fprintln(stderr, "pretrain video: --data is required")
		return 2
	}
	res, err := videotrain.Pretrain(c, *resume, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "pretrain video:", err)
		return 1
	}
	if *jsonOut {
		b, _ := json.Marshal(res)
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	fmt.Fprintf(stdout, "%d steps in %.1f s (%.1f clips/s), final loss %.4f; run in %s\n", res.Steps, res.Seconds, res.ClipsPerSec, res.Loss, c.Out)
	return 0
}

func evalVideo(kind string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("eval video "+kind, flag.ContinueOnError)
	fs.SetOutput(stderr)
	ec := videotrain.EvalConfig{Kind: kind}
	fs.StringVar(&ec.Checkpoint, "checkpoint", "", "video run directory or checkpoint (required)")
	fs.StringVar(&ec.Train, "train", "", "labelled training videos PATH[:split] (required)")
	fs.StringVar(&ec.Test, "test", "", "labelled test videos PATH[:split] (required)")
	fs.IntVar(&ec.Epochs, "epochs", 0, "epochs (linear 100 over the features, finetune 10)")
	fs.IntVar(&ec.Batch, "batch-size", 8, "fine-tuning batch size")
	fs.Float64Var(&ec.LR, "lr", 0, "learning rate (linear 0.1, finetune 0.01)")
	fs.IntVar(&ec.Clips, "clips", 4, "evenly spaced clips per video (features, video-level score)")
	fs.StringVar(&ec.Modality, "modality", videotrain.ModalityRGB, "rgb (RGB clips into the encoder) or motion (frame differences into a cross-modal run's motion encoder, else into its encoder)")
	fs.Uint64Var(&ec.Seed, "seed", 1, "seed")
	jsonOut := fs.Bool("json", false, `print {"clip_top1": ..., "video_top1": ...}`)
	frameCache := fs.String("frame-cache", videotrain.DiskCache, `directory keeping decoded frames between runs ("" disables)`)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	videotrain.DiskCache = *frameCache
	if ec.Checkpoint == "" || ec.Train == "" || ec.Test == "" {
		fmt.Fprintf(stderr, "eval video %s: --checkpoint, --train and --test are required\n", kind)
		return 2
	}
	log := stderr
	if *jsonOut {
		log = io.Discard
	}
	res, err := videotrain.Evaluate(ec, log)
	if err != nil {
		fmt.Fprintf(stderr, "eval video %s: %v\n", kind, err)
		return 1
	}
	if *jsonOut {
		b, _ := json.Marshal(res)
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	fmt.Fprintf(stdout, "%s: clip top-1 %.2f%% (%d clips)  video top-1 %.2f%% (%d videos)\n", kind, res.ClipTop1, res.Clips, res.VideoTop1, res.Videos)
	return 0
}

// videoSummary is "model summary" for the 3-D encoders.
func videoSummary(cfg videomodels.Config, asJSON bool, stdout, stderr io.Writer) int {
	r, err := videomodels.New(cfg, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		fmt.Fprintf(stderr, "model summary: %v\n", err)
		return 2
	}
	s := videomodels.Summarize(r)
	if asJSON {
		if err := json.NewEncoder(stdout).Encode(s); err != nil {
			fmt.Fprintf(stderr, "model summary: %v\n", err)
			return 1
		}
		return 0
	}
	for _, t := range s.Tensors {
		fmt.Fprintf(stdout, "%-40s %v\n", t.Name, t.Shape)
	}
	fmt.Fprintf(stdout, "%s (%d input channels, width %g): %d parameters, %d running-statistics values, feature dim %d\n",
		s.Arch, s.InChannels, s.Width, s.Params, s.Buffers, s.FeatureDim)
	return 0
}
