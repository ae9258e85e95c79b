// Package data opens the image datasets of contrastive learning and feeds
// them to training through a seeded, parallel, resumable loader.
//
// # Datasets
//
// Open takes a dataset reference PATH[:split], split "train" (the default),
// "val" (alias "validation") or "test", and recognises:
//
//   - "mnist": MNIST, embedded in the binary (data/mnist, the four official
//     .gz files by Yann LeCun, Corinna Cortes and Christopher J.C. Burges,
//     CC BY-SA 3.0). It is decoded on first use only, once per process.
//   - A directory of IDX files in the MNIST layout
//     (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-*):
//     MNIST, Fashion-MNIST, EMNIST.
//   - A CIFAR binary directory: CIFAR-10 (data_batch_*.bin, test_batch.bin)
//     or CIFAR-100 (train.bin, test.bin; fine labels), or its parent holding
//     cifar-10-batches-bin or cifar-100-binary.
//   - An image folder of PNG, JPEG, GIF, WebP or PPM/PGM files of any
//     sizes, recognised by content: DIR/train/<class>/*, DIR/val/<class>/*
//     (or validation/) and DIR/test/<class>/* (classes are the sorted
//     folder names of all splits, so the splits share one label
//     numbering), DIR/<class>/* (one split, "train"), or a flat folder of
//     unlabelled images.
//   - A CSV file list (*.csv): one image a row, "path" or "path,label",
//     paths relative to the list.
//   - A shard folder written by WriteShards (`contrastive prepare`):
//     DIR/index.json and tar shards in the WebDataset layout, or
//     DIR/<split>/index.json.
//   - A .tar, .tgz or .tar.gz archive of any of the above, such as
//     ../shared/datasets/cifar10-png.tgz (cifar10/train/<class>/*.png).
//
// Archives are read directly: one sequential pass through the (gzip) tar
// stream keeps the encoded files of the requested split in memory, then
// all of them are decoded in parallel (parallel.For) into the dataset's
// uint8 pixel buffer and the encoded bytes are dropped. Nothing is written
// to disk, so a changed archive can never meet a stale cache. Only an
// archive whose decoded pixels exceed OpenOptions.MaxMemory is unpacked,
// once, into a cache directory (os.UserCacheDir()/contrastive/unpacked) and
// streamed from there.
//
// # Memory
//
// Decoded images stay in memory as uint8 HWC pixels: a dataset costs
// N×H×W×C bytes, e.g. CIFAR-10 train 50000×32×32×3 = 153.6 MB, CIFAR-10
// test 30.7 MB, MNIST train 60000×28×28 = 47.0 MB, MNIST test 7.8 MB.
// Image converts one image to float32 in [0, 1] (4 bytes a value) on
// demand. An image folder or archive whose pixels would exceed
// OpenOptions.MaxMemory (DefaultMaxMemory unless set) is not decoded up
// front: its images are decoded from disk on every access.
//
// # Decoding
//
// Images decode as PIL's Image.open(f).convert("RGB") would: gray, CMYK
// and palette images become RGB (a folder of only gray images stays one
// channel), alpha is dropped, 16-bit samples keep their high byte, a GIF
// gives its first frame. An image whose header claims more than
// OpenOptions.MaxPixels pixels (DefaultMaxPixels, PIL's 89,478,485) is
// refused from its header before anything is allocated for it.
//
// # Loader
//
// NewLoader turns a Dataset and a views function (the augmentation
// pipeline: one image in, its views out) into batches of NHWC tensors, one
// per view index. Shuffling uses a PCG generator seeded from (seed,
// epoch); each sample's views get an RNG seeded from (seed, epoch, index),
// so the same seed gives the same batches for any number of workers, and
// a Position (epoch, index) restarts a run exactly where it stopped.
// Augmentation runs on a pool of worker goroutines that prefetch a few
// batches ahead; the loader is the one place in the module besides
// internal/parallel that starts goroutines (I/O-side pipelining, not
// kernel parallelism).
//
// # Errors
//
// Bad input (a corrupt or truncated image, an IDX file with a wrong magic
// number or size, an empty class folder, a folder of images of different
// sizes, a label file that disagrees with its image file) is reported as a
// *FormatError naming the file; with OpenOptions.SkipBad a bad image file
// is skipped with a warning instead, and Skipped lists the files skipped.
// Nothing in this package panics on user input; an index out of range or
// an invalid loader call is a programming error and panics.
package data
