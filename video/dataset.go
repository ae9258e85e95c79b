package video

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"container/list"
	"fmt"
	"image"
	_ "image/gif"  // frame folders
	_ "image/jpeg" // frame folders
	_ "image/png"  // frame folders
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/contrastive-ssl/contrastive/augment"
)

// Options configures Open.
type Options struct {
	// Width and Height are the decode size every frame is scaled to
	// (default 112×84, 4:3 like most surveillance and phone footage).
	Width, Height int
	// MaxFrames keeps at most this many frames of each video (0: all).
	MaxFrames int
	// CacheBytes bounds the decoded frames kept in memory (default 1 GiB);
	// videos beyond it are decoded again when needed.
	CacheBytes int
	// Workers decode videos in parallel at Open (default 2).
	Workers int
	// DiskCache, if set, is a directory where the decoded frames of a
	// dataset split are kept between runs (see DefaultCacheDir); the
	// file's name hashes the data's path, size, time and decode options.
	DiskCache string
}

func (o *Options) defaults() {
	if o.Width == 0 {
		o.Width = 112
	}
	if o.Height == 0 {
		o.Height = 84
	}
	if o.CacheBytes == 0 {
		o.CacheBytes = 1 << 30
	}
	if o.Workers == 0 {
		o.Workers = 2
	}
}

var videoExts = map[string]bool{".mp4": true, ".avi": true, ".webm": true, ".mkv": true, ".mov": true, ".mpg": true, ".mpeg": true, ".m4v": true, ".ogv": true, ".gif": true}
var frameExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true}

// source is where one video's bytes are: a file, an archive member, or
// the frame images of a folder (on disk or in an archive).
type source struct {
	name       string   // for messages: path or archive!member
	file       string   // video file on disk
	data       []byte   // video file from an archive
	frameFiles []string // frame images on disk, sorted
	frameData  [][]byte // frame images from an archive, sorted by name
}

// Dataset is one split of a labelled video dataset.
type Dataset struct {
	Name    string
	Classes []string // sorted class-folder names; Label indexes them
	Labels  []int    // per video
	Names   []string // per video: class/file
	// NumFrames is each video's decoded frame count.
	NumFrames []int
	opt       Options
	src       []source
	cache     *frameCache
}

// Len returns the number of videos.
func (d *Dataset) Len() int { return len(d.src) }

// NumClasses returns the number of classes.
func (d *Dataset) NumClasses() int { return len(d.Classes) }

// Size returns the decode size (height, width).
func (d *Dataset) Size() (h, w int) { return d.opt.Height, d.opt.Width }

// Open reads the split of ref ("PATH[:split]", split "train" by default)
// and decodes every video once (checking it and counting its frames,
// keeping the frames while the cache budget lasts).
func Open(ref string, opt Options) (*Dataset, error) {
	opt.defaults()
	root, split := ref, "train"
	if i := strings.LastIndexByte(ref, ':'); i > 0 && !strings.ContainsAny(ref[i+1:], `/\`) {
		root, split = ref[:i], ref[i+1:]
	}
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("video: open %s: %w", root, err)
	}
	type entry struct {
		class, video string
		src          source
	}
	byKey := map[string]*entry{}
	add := func(class, video string, s source, frame string, frameBytes []byte, frameFile string) {
		k := class + "/" + video
		e := byKey[k]
		if e == nil {
			e = &entry{class: class, video: video}
			byKey[k] = e
		}
		switch {
		case frame == "":
			e.src = s
		case frameBytes != nil:
			e.src.frameData = append(e.src.frameData, frameBytes)
			e.src.name = s.name
		default:
			e.src.frameFiles = append(e.src.frameFiles, frameFile)
			e.src.name = s.name
		}
	}
	if st.IsDir() {
		dir := filepath.Join(root, split)
		classes, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("video: open %s: split %q: %w", root, split, err)
		}
		for _, c := range classes {
			if !c.IsDir() {
				continue
			}
			vids, err := os.ReadDir(filepath.Join(dir, c.Name()))
			if err != nil {
				return nil, fmt.Errorf("video: %w", err)
			}
			for _, v := range vids {
				p := filepath.Join(dir, c.Name(), v.Name())
				if v.IsDir() {
					frames, err := os.ReadDir(p)
					if err != nil {
						return nil, fmt.Errorf("video: %w", err)
					}
					for _, f := range frames {
						if frameExts[strings.ToLower(filepath.Ext(f.Name()))] {
							add(c.Name(), v.Name(), source{name: p}, f.Name(), nil, filepath.Join(p, f.Name()))
						}
					}
				} else if videoExts[strings.ToLower(filepath.Ext(v.Name()))] {
					add(c.Name(), v.Name(), source{name: p, file: p}, "", nil, "")
				}
			}
		}
	} else {
		if err := readArchive(root, split, add); err != nil {
			return nil, err
		}
	}
	if len(byKey) == 0 {
		return nil, fmt.Errorf("video: %s: no videos under split %q (want %s/%s/<class>/<video file or frame folder>)", root, split, root, split)
	}
	keys := make([]string, 0, len(byKey))
	classSet := map[string]bool{}
	for k, e := range byKey {
		keys = append(keys, k)
		classSet[e.class] = true
	}
	sort.Strings(keys)
	d := &Dataset{Name: ref, opt: opt}
	for c := range classSet {
		d.Classes = append(d.Classes, c)
	}
	sort.Strings(d.Classes)
	label := map[string]int{}
	for i, c := range d.Classes {
		label[c] = i
	}
	for _, k := range keys {
		e := byKey[k]
		sort.Strings(e.src.frameFiles) // frameData arrive in archive order: sorted below
		d.src = append(d.src, e.src)
		d.Labels = append(d.Labels, label[e.class])
		d.Names = append(d.Names, k)
	}
	d.NumFrames = make([]int, len(d.src))
	d.cache = newFrameCache(opt.CacheBytes, len(d.src))
	dc := d.diskCachePath(root, split)
	if d.loadDisk(dc) {
		return d, nil
	}
	if err := d.preload(); err != nil {
		return nil, err
	}
	if err := d.saveDisk(dc); err != nil {
		fmt.Fprintf(os.Stderr, "video: warning: could not write the frame cache %s: %v\n", dc, err)
	}
	return d, nil
}

// readArchive lists the split's videos of a tar archive (optionally
// gzipped), allowing one top-level folder.
func readArchive(root, split string, add func(class, video string, s source, frame string, frameBytes []byte, frameFile string)) error {
	f, err := os.Open(root)
	if err != nil {
		return fmt.Errorf("video: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(root, ".tgz") || strings.HasSuffix(root, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("video: %s: %w", root, err)
		}
		defer gz.Close()
		r = gz
	} else if !strings.HasSuffix(root, ".tar") {
		return fmt.Errorf("video: %s: not a directory, .tar, .tgz or .tar.gz", root)
	}
	tr := tar.NewReader(r)
	type frameMember struct {
		class, video, name string
		data               []byte
	}
	var frames []frameMember
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("video: %s: %w", root, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		comps := strings.Split(path.Clean(h.Name), "/")
		i := -1
		for j := 0; j < len(comps) && j < 2; j++ {
			if comps[j] == split {
				i = j
				break
			}
		}
		if i < 0 {
			continue
		}
		rest := comps[i+1:]
		member := root + "!" + h.Name
		switch {
		case len(rest) == 2 && videoExts[strings.ToLower(path.Ext(rest[1]))]:
			b, err := io.ReadAll(tr)
			if err != nil {
				return fmt.Errorf("video: %s: %w", member, err)
			}
			add(rest[0], rest[1], source{name: member, data: b}, "", nil, "")
		case len(rest) == 3 && frameExts[strings.ToLower(path.Ext(rest[2]))]:
			b, err := io.ReadAll(tr)
			if err != nil {
				return fmt.Errorf("video: %s: %w", member, err)
			}
			frames = append(frames, frameMember{rest[0], rest[1], rest[2], b})
		}
	}
	sort.Slice(frames, func(a, b int) bool { return frames[a].name < frames[b].name })
	for _, fm := range frames {
		add(fm.class, fm.video, source{name: root + "!" + path.Join(split, fm.class, fm.video)}, fm.name, fm.data, "")
	}
	return nil
}

// preload decodes every video once, in parallel.
func (d *Dataset) preload() error {
	errs := make([]error, len(d.src))
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(1, d.opt.Workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f, err := d.decode(i)
				if err != nil {
					errs[i] = err
					continue
				}
				d.NumFrames[i] = f.N
				d.cache.put(i, f)
			}
		}()
	}
	for i := range d.src {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Frames returns video i's decoded frames, from the cache or decoded
// again.
func (d *Dataset) Frames(i int) (*Frames, error) {
	if f := d.cache.get(i); f != nil {
		return f, nil
	}
	f, err := d.decode(i)
	if err != nil {
		return nil, err
	}
	d.cache.put(i, f)
	return f, nil
}

// CachedBytes returns the bytes of decoded frames held in memory.
func (d *Dataset) CachedBytes() int { return d.cache.bytes() }

func (d *Dataset) decode(i int) (*Frames, error) {
	s := d.src[i]
	w, h := d.opt.Width, d.opt.Height
	switch {
	case s.file != "":
		return DecodeFile(s.file, w, h, d.opt.MaxFrames)
	case s.data != nil:
		tmp, err := os.CreateTemp("", "contrastive-video-*"+path.Ext(s.name))
		if err != nil {
			return nil, fmt.Errorf("video: %s: %w", s.name, err)
		}
		defer os.Remove(tmp.Name())
		_, err = tmp.Write(s.data)
		if err2 := tmp.Close(); err == nil {
			err = err2
		}
		if err != nil {
			return nil, fmt.Errorf("video: %s: temporary copy: %w", s.name, err)
		}
		f, err := DecodeFile(tmp.Name(), w, h, d.opt.MaxFrames)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		return f, nil
	}
	n := max(len(s.frameFiles), len(s.frameData))
	if d.opt.MaxFrames > 0 {
		n = min(n, d.opt.MaxFrames)
	}
	out := &Frames{N: n, H: h, W: w, Pix: make([]uint8, n*h*w*3)}
	for k := 0; k < n; k++ {
		var b []byte
		name := s.name
		if s.frameData != nil {
			b = s.frameData[k]
		} else {
			var err error
			name = s.frameFiles[k]
			if b, err = os.ReadFile(name); err != nil {
				return nil, fmt.Errorf("video: %w", err)
			}
		}
		img, _, err := image.Decode(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("video: %s: frame %d: %w", name, k, err)
		}
		putFrame(out.Frame(k), img, w, h)
	}
	return out, nil
}

// putFrame scales img to w×h (bilinear, antialiased) into dst as RGB.
func putFrame(dst []uint8, img image.Image, w, h int) {
	b := img.Bounds()
	src := augment.NewImage(b.Dy(), b.Dx(), 3)
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			r, g, bb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			p := src.Pix[(y*b.Dx()+x)*3:]
			p[0], p[1], p[2] = float32(r)/65535, float32(g)/65535, float32(bb)/65535
		}
	}
	if b.Dx() != w || b.Dy() != h {
		src = augment.Resize(src, augment.Size{H: h, W: w}, augment.Bilinear, true)
	}
	for i, v := range src.Pix {
		dst[i] = uint8(min(max(v*255+0.5, 0), 255))
	}
}

// frameCache keeps decoded videos, least recently used first out, within
// a byte budget.
type frameCache struct {
	mu     sync.Mutex
	budget int
	used   int
	lru    *list.List // of int (video index), front = most recent
	elems  []*list.Element
	frames []*Frames
}

func newFrameCache(budget, n int) *frameCache {
	return &frameCache{budget: budget, lru: list.New(), elems: make([]*list.Element, n), frames: make([]*Frames, n)}
}

func (c *frameCache) get(i int) *Frames {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.elems[i] == nil {
		return nil
	}
	c.lru.MoveToFront(c.elems[i])
	return c.frames[i]
}

func (c *frameCache) put(i int, f *Frames) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.elems[i] != nil || f.Bytes() > c.budget {
		return
	}
	for c.used+f.Bytes() > c.budget {
		e := c.lru.Back()
		j := e.Value.(int)
		c.lru.Remove(e)
		c.used -= c.frames[j].Bytes()
		c.elems[j], c.frames[j] = nil, nil
	}
	c.elems[i] = c.lru.PushFront(i)
	c.frames[i] = f
	c.used += f.Bytes()
}

func (c *frameCache) bytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}
