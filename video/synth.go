package video

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Encode writes f as a video file with ffmpeg at fps frames per second:
// lossless FFV1 for .avi and .mkv, H.264 (or MPEG-4 Part 2 when
// libx264 is missing) for .mp4, VP8 for .webm. It makes the small test
// videos of this package's and the CLI's tests.
func Encode(path string, f *Frames, fps int) error {
	bin, err := exec.LookPath(FFmpeg)
	if err != nil {
		return ErrNoFFmpeg
	}
	args := []string{"-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
		"-s", strconv.Itoa(f.W) + "x" + strconv.Itoa(f.H), "-r", strconv.Itoa(fps), "-i", "pipe:0"}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".avi", ".mkv":
		args = append(args, "-c:v", "ffv1")
	case ".webm":
		args = append(args, "-c:v", "libvpx", "-b:v", "1M")
	default:
		args = append(args, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "10")
	}
	args = append(args, path)
	run := func(args []string) error {
		cmd := exec.Command(bin, args...)
		cmd.Stdin = bytes.NewReader(f.Pix)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("video: encode %s: ffmpeg: %v: %s", path, err, firstLine(stderr.String()))
		}
		return nil
	}
	err = run(args)
	if err != nil && strings.Contains(strings.Join(args, " "), "libx264") {
		for i, a := range args {
			if a == "libx264" {
				args[i] = "mpeg4"
			}
		}
		err = run(args)
	}
	return err
}
