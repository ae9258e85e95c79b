// Package video reads labelled video datasets and turns them into clips
// for 3-D encoders.
//
// # Layout
//
// A dataset is a directory or a .tar/.tgz/.tar.gz archive in the class-folder
// layout of the image datasets: ROOT/<split>/<class>/<video> where a video
// is a file ffmpeg reads (.mp4, .avi, .webm, .mkv, .mov, …) or a folder of
// frames (.jpg/.png, sorted by name). One top-level folder inside an
// archive is skipped (arid6.tgz holds arid6/train/…). A reference is
// "PATH[:split]", split "train" by default.
//
// # Decoding
//
// Video files are decoded by Debian's ffmpeg run as a subprocess with
// explicit arguments, scaled to the dataset's decode size and read as raw
// RGB frames from its standard output (-f rawvideo -pix_fmt rgb24). A
// missing ffmpeg is ErrNoFFmpeg, whose message says how to install it.
// Decoded frames are kept as uint8 in an LRU cache bounded by a byte
// budget; an evicted video is decoded again when next needed.
//
// # Clips
//
// A Sampler takes Frames frames Stride apart; in training the start is
// uniform over the video (temporal jitter), in evaluation Clips starts are
// spread evenly. One spatial augmentation (crop box, flip, colour jitter,
// grayscale) is drawn per clip and applied to all its frames. The Loader
// assembles batches whose randomness is a function of (seed, epoch,
// position), so a run resumed at a step repeats the uninterrupted run's
// clips exactly.
package video
