package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/contrastive-ssl/contrastive/index"
	"github.com/contrastive-ssl/contrastive/serve"
)

func init() {
	register("serve", "image search over an index: JSON API and web page", runServe)
	register("serve load", "load-test a running server on this machine", runServeLoad)
}

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lim := serve.DefaultLimits()
	dir := fs.String("index", "", "index directory (embeddings.npy + index.csv) (required)")
	run := fs.String("checkpoint", "", "run directory or checkpoint file of the encoder that made the index (default: the index's "+serve.MetaFile+")")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	images := fs.String("images", "", "folder or .tar/.tgz archive the index's paths are relative to, or the dataset PATH[:split] of an index whose paths are NAME#i (default: the data recorded in the index's "+serve.MetaFile+")")
	tsne := fs.String("tsne", "", "t-SNE map CSV (row,x,y,label) (default: "+serve.TSNEFile+" in the index directory when present)")
	size := fs.Int("image-size", 0, "side of the encoder's input (default: the index's "+serve.MetaFile+", else the first indexed image's shorter side)")
	imagesMem := fs.Int64("images-memory", 2048, "MiB of archive members held in memory at most")
	fs.Int64Var(&lim.MaxBytes, "max-upload", lim.MaxBytes, "largest upload in bytes (413 above)")
	fs.Int64Var(&lim.MaxPixels, "max-pixels", lim.MaxPixels, "largest uploaded image in pixels (413 above)")
	fs.IntVar(&lim.MaxK, "max-k", lim.MaxK, "largest k a search may ask for")
	fs.IntVar(&lim.MaxEmbeds, "max-embeds", lim.MaxEmbeds, "embeddings admitted at once, queued or running (503 above)")
	fs.IntVar(&lim.MaxSearches, "max-searches", lim.MaxSearches, "searches admitted at once (503 above)")
	fs.IntVar(&lim.MaxBatch, "max-batch", lim.MaxBatch, "most queued requests embedded or searched as one batch")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || *dir == "" {
		fmt.Fprintln(stderr, "serve: --index is required and no arguments are taken")
		return 2
	}
	fail := func(err error) int { fmt.Fprintln(stderr, "serve:", err); return 1 }
	meta, err := serve.ReadMeta(*dir)
	if err != nil {
		return fail(err)
	}
	if *run == "" {
		*run = meta.Checkpoint
	}
	if *run == "" {
		fmt.Fprintf(stderr, "serve: --checkpoint is required (%s has no %s naming a run)\n", *dir, serve.MetaFile)
		return 2
	}
	if *images == "" {
		*images = meta.Data
	}
	if *size == 0 {
		*size = meta.Size
	}
	if meta.Layer != "" && meta.Layer != "pool" {
		fmt.Fprintf(stderr, "serve: %s was embedded at --layer %s; serve embeds uploads with the encoder's pooled features (--layer pool) only\n", *dir, meta.Layer)
		return 1
	}
	ix, err := index.Open(*dir)
	if err != nil {
		return fail(err)
	}
	var im serve.Images
	if *images != "" {
		paths := make([]string, len(ix.Entries))
		for i, e := range ix.Entries {
			paths[i] = e.Path
		}
		if im, err = serve.OpenImages(*images, paths, *imagesMem<<20); err != nil {
			return fail(err)
		}
	} else {
		fmt.Fprintln(stderr, "serve: no --images: results are shown without pictures")
	}
	model, err := serve.LoadModel(*run, *size, firstImageSize(im, ix))
	if err != nil {
		return fail(err)
	}
	if *tsne == "" {
		if p := filepath.Join(*dir, serve.TSNEFile); fileExists(p) {
			*tsne = p
		}
	}
	srv, err := serve.New(serve.Config{Index: ix, Embedder: model, Images: im, TSNE: *tsne, Model: *run, Limits: lim})
	if err != nil {
		return fail(err)
	}
	defer srv.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "serving %d vectors of %d dimensions from %s (encoder %s at %d px); images: %s; t-SNE map: %s\n",
		ix.N, ix.D, *dir, *run, model.Size(), orNone(*images), orNone(*tsne))
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	if err := serve.Run(ctx, ln, srv); err != nil {
		return fail(err)
	}
	fmt.Fprintln(stdout, "shut down")
	return 0
}

// firstImageSize is the shorter side of the index's first image, or 0.
func firstImageSize(im serve.Images, ix *index.Index) int {
	if im == nil || ix.N == 0 {
		return 0
	}
	return serve.ImageSide(im, ix.Entries[0].Path)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func runServeLoad(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg serve.LoadConfig
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "the server (loopback addresses only)")
	image := fs.String("image", "", "image to upload (PNG, JPEG, GIF or WebP) (required)")
	fs.IntVar(&cfg.Requests, "requests", 2000, "requests per phase at most")
	fs.DurationVar(&cfg.Duration, "duration", 20*time.Second, "time per phase at most")
	fs.IntVar(&cfg.Concurrency, "concurrency", 4, "requests in flight at once")
	fs.IntVar(&cfg.K, "k", 10, "neighbours per search")
	jsonOut := fs.Bool("json", false, "print the phases as JSON")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *image == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "serve load: --image is required and no arguments are taken")
		return 2
	}
	b, err := os.ReadFile(*image)
	if err != nil {
		fmt.Fprintln(stderr, "serve load:", err)
		return 1
	}
	cfg.Image = b
	cfg.ContentType = serve.ImageType(b)
	stats, err := serve.LoadTest(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(stderr, "serve load:", err)
		return 1
	}
	if *jsonOut {
		out, _ := json.Marshal(stats)
		fmt.Fprintln(stdout, string(out))
		return 0
	}
	fmt.Fprintf(stdout, "%-16s %9s %7s %10s %9s %9s %14s\n", "phase", "requests", "errors", "req/s", "p50 ms", "p99 ms", "server CPU ms")
	for _, s := range stats {
		fmt.Fprintf(stdout, "%-16s %9d %7d %10.1f %9.2f %9.2f %14.2f\n", s.Phase, s.Requests, s.Errors, s.PerSecond, s.P50ms, s.P99ms, s.CPUms)
	}
	return 0
}
