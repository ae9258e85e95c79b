package video

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// ErrNoFFmpeg is returned when the ffmpeg executable cannot be found.
var ErrNoFFmpeg = errors.New("video: ffmpeg not found in PATH: decoding video files needs it (Debian/Ubuntu: apt-get install ffmpeg)")

// FFmpeg is the decoder executable, looked up in PATH.
var FFmpeg = "ffmpeg"

// HaveFFmpeg reports whether the ffmpeg executable is available.
func HaveFFmpeg() bool {
	_, err := exec.LookPath(FFmpeg)
	return err == nil
}

// Frames is a decoded video: N frames of H×W RGB pixels, uint8, frame
// after frame in HWC order.
type Frames struct {
	N, H, W int
	Pix     []uint8 // len N·H·W·3
}

// Bytes returns the memory the frames hold.
func (f *Frames) Bytes() int { return len(f.Pix) }

// Frame returns frame i's pixels (H·W·3 values).
func (f *Frames) Frame(i int) []uint8 {
	n := f.H * f.W * 3
	return f.Pix[i*n : (i+1)*n]
}

// DecodeFile decodes the video file at path with ffmpeg, scaled to w×h,
// keeping at most maxFrames frames (0: all). The error names the file and
// quotes ffmpeg's message.
func DecodeFile(path string, w, h, maxFrames int) (*Frames, error) {
	if w < 1 || h < 1 {
		return nil, fmt.Errorf("video: decode %s: size %dx%d", path, w, h)
	}
	bin, err := exec.LookPath(FFmpeg)
	if err != nil {
		return nil, ErrNoFFmpeg
	}
	args := []string{"-nostdin", "-v", "error", "-i", path, "-an", "-vf", "scale=" + strconv.Itoa(w) + ":" + strconv.Itoa(h) + ":flags=area"}
	if maxFrames > 0 {
		args = append(args, "-frames:v", strconv.Itoa(maxFrames))
	}
	args = append(args, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1")
	cmd := exec.Command(bin, args...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("video: decode %s: ffmpeg: %v: %s", path, err, firstLine(stderr.String()))
	}
	size := w * h * 3
	if out.Len() == 0 || out.Len()%size != 0 {
		return nil, fmt.Errorf("video: decode %s: ffmpeg wrote %d bytes, not a whole number of %dx%d RGB frames (%s)", path, out.Len(), w, h, firstLine(stderr.String()))
	}
	return &Frames{N: out.Len() / size, H: h, W: w, Pix: out.Bytes()}, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return "no message"
	}
	return s
}
