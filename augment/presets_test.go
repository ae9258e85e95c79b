package augment

import (
	"math/rand/v2"
	"strings"
	"testing"
)

type viewShape struct{ h, w, c int }

func TestPresetShapes(t *testing.T) {
	for _, tc := range []struct {
		name        string
		size, ch    int
		wantName    string
		want        []viewShape
		wantMeanLen int
	}{
		{"simclr", 32, 3, "simclr-cifar", []viewShape{{32, 32, 3}, {32, 32, 3}}, 3},
		{"simclr", 96, 3, "simclr-imagenet", []viewShape{{96, 96, 3}, {96, 96, 3}}, 3},
		{"simclr-imagenet", 32, 3, "simclr-imagenet", []viewShape{{32, 32, 3}, {32, 32, 3}}, 3},
		{"moco-v1", 32, 3, "moco-v1-cifar", []viewShape{{32, 32, 3}, {32, 32, 3}}, 3},
		{"moco-v2-cifar", 96, 3, "moco-v2-cifar", []viewShape{{96, 96, 3}, {96, 96, 3}}, 3},
		{"instdisc", 28, 1, "instdisc-cifar", []viewShape{{28, 28, 1}}, 1},
		{"pirl", 32, 3, "pirl-cifar", []viewShape{{32, 32, 3}, {81, 9, 3}}, 3},
		{"pirl", 224, 3, "pirl-imagenet", []viewShape{{224, 224, 3}, {576, 64, 3}}, 3},
		{"swav", 32, 3, "swav-cifar", []viewShape{{32, 32, 3}, {32, 32, 3}, {16, 16, 3}, {16, 16, 3}, {16, 16, 3}, {16, 16, 3}, {16, 16, 3}, {16, 16, 3}}, 3},
		{"swav", 224, 1, "swav-imagenet", []viewShape{{224, 224, 1}, {224, 224, 1}, {96, 96, 1}, {96, 96, 1}, {96, 96, 1}, {96, 96, 1}, {96, 96, 1}, {96, 96, 1}}, 1},
	} {
		t.Run(tc.name+"/"+tc.wantName, func(t *testing.T) {
			mv, err := Preset(tc.name, tc.size, tc.ch)
			if err != nil {
				t.Fatal(err)
			}
			if mv.Name != tc.wantName || len(mv.Mean) != tc.wantMeanLen {
				t.Errorf("name %q mean %v, want %q and %d values", mv.Name, mv.Mean, tc.wantName, tc.wantMeanLen)
			}
			src := randImage(tc.size+tc.size/3, tc.size+5, tc.ch, 41)
			orig := src.Clone()
			rng := rand.New(rand.NewPCG(7, 0))
			for range 3 {
				views := mv.Views(src, rng)
				if len(views) != len(tc.want) {
					t.Fatalf("%d views, want %d", len(views), len(tc.want))
				}
				for i, v := range views {
					if (viewShape{v.H, v.W, v.C}) != tc.want[i] {
						t.Errorf("view %d is %dx%dx%d, want %v", i, v.H, v.W, v.C, tc.want[i])
					}
					if d := mv.Display(i, v); d.C != tc.ch {
						t.Errorf("display of view %d has %d channels", i, d.C)
					}
				}
			}
			if d, _ := maxAbsDiff(src, orig); d != 0 {
				t.Error("Views modified its input")
			}
		})
	}
}

func TestPresetErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		size, ch  int
		errSubstr string
	}{
		{"byol", 32, 3, "unknown preset"},
		{"simclr", 4, 3, "too small"},
		{"swav", 32, 4, "channels"},
	} {
		if _, err := Preset(tc.name, tc.size, tc.ch); err == nil || !strings.Contains(err.Error(), tc.errSubstr) {
			t.Errorf("Preset(%q, %d, %d) error %v, want one containing %q", tc.name, tc.size, tc.ch, err, tc.errSubstr)
		}
	}
}

func TestPresetDeterminism(t *testing.T) {
	src := randImage(40, 48, 3, 43)
	for _, name := range PresetNames() {
		mv, err := Preset(name, 32, 3)
		if err != nil {
			t.Fatal(err)
		}
		a := mv.Views(src, rand.New(rand.NewPCG(99, 1)))
		b := mv.Views(src, rand.New(rand.NewPCG(99, 1)))
		c := mv.Views(src, rand.New(rand.NewPCG(100, 1)))
		same, differ := true, false
		for i := range a {
			if d, _ := maxAbsDiff(a[i], b[i]); d != 0 {
				same = false
			}
			if d, _ := maxAbsDiff(a[i], c[i]); d != 0 {
				differ = true
			}
		}
		if !same {
			t.Errorf("%s: the same seed gave different views", name)
		}
		if !differ {
			t.Errorf("%s: different seeds gave the same views", name)
		}
		// The two views of a pair differ (they are independent draws).
		if len(a) > 1 && a[0].H == a[1].H && a[0].W == a[1].W {
			if d, _ := maxAbsDiff(a[0], a[1]); d == 0 {
				t.Errorf("%s: views 0 and 1 are identical", name)
			}
		}
	}
}

// The Small variant has no blur; the Large one blurs with SimCLR's kernel.
func TestPresetSteps(t *testing.T) {
	count := func(p Transform) (blur, gray, jitter int) {
		var walk func(Transform)
		walk = func(t Transform) {
			switch x := t.(type) {
			case Compose:
				for _, s := range x {
					walk(s)
				}
			case *RandomApply:
				walk(x.T)
			case *Jigsaw:
				if x.PatchTransform != nil {
					walk(x.PatchTransform)
				}
			case *GaussianBlur:
				blur++
				if x.KernelSize != 23 && x.KernelSize != 9 && x.KernelSize != 3 {
					panic("unexpected kernel")
				}
			case *RandomGrayscale:
				gray++
			case *ColorJitter:
				jitter++
			}
		}
		walk(p)
		return
	}
	for _, name := range PresetNames() {
		small, _ := Preset(name, 32, 3)
		large, _ := Preset(name, 224, 3)
		gray, _ := Preset(name, 28, 1)
		b, g, j := count(small.Pipelines[0])
		if b != 0 || g != 1 || j != 1 {
			t.Errorf("%s small: %d blur %d gray %d jitter, want 0 1 1", name, b, g, j)
		}
		b, _, _ = count(large.Pipelines[0])
		if wantBlur := name == "simclr" || name == "moco-v2" || name == "swav"; (b == 1) != wantBlur {
			t.Errorf("%s large: %d blur steps", name, b)
		}
		_, g, _ = count(gray.Pipelines[0])
		if g != 0 {
			t.Errorf("%s gray: %d grayscale steps, want 0", name, g)
		}
		jit := gray.Pipelines[0].(Compose)
		for _, s := range jit {
			var cj *ColorJitter
			if ra, ok := s.(*RandomApply); ok {
				cj, _ = ra.T.(*ColorJitter)
			} else {
				cj, _ = s.(*ColorJitter)
			}
			if cj != nil && (!off(cj.Saturation, 1) || !off(cj.Hue, 0)) {
				t.Errorf("%s gray: jitter %+v still changes saturation or hue", name, cj)
			}
		}
	}
}

func TestComposeDoesNotModifyInput(t *testing.T) {
	img := randImage(10, 10, 3, 47)
	orig := img.Clone()
	pipe := Compose{&RandomHorizontalFlip{P: 1}, NewColorJitter(0.5, 0.5, 0.5, 0.2), &RandomGrayscale{P: 1},
		&RandomApply{P: 1, T: NewGaussianBlur(3)}, &RandomSolarize{Threshold: 0.5, P: 1}, &Normalize{Mean: CIFAR10Mean, Std: CIFAR10Std}}
	out := pipe.Apply(img, newRNG(3))
	if d, _ := maxAbsDiff(img, orig); d != 0 {
		t.Fatal("Compose of in-place steps modified its input")
	}
	if d, _ := maxAbsDiff(out, orig); d == 0 {
		t.Fatal("pipeline did nothing")
	}
	// A pipeline that does nothing returns its input; Views copies it.
	id := Compose{&RandomHorizontalFlip{P: 0}}
	if id.Apply(img, newRNG(1)) != img {
		t.Error("identity pipeline did not return its input")
	}
	mv := &MultiView{Pipelines: []Transform{id}}
	if v := mv.Views(img, newRNG(1)); v[0] == img {
		t.Error("Views returned the source image itself")
	}
}

func TestStackAndGrid(t *testing.T) {
	a, b := randImage(4, 5, 3, 1), randImage(4, 5, 3, 2)
	s := Stack([]*Image{a, b})
	if sh := s.Shape(); len(sh) != 4 || sh[0] != 2 || sh[1] != 4 || sh[2] != 5 || sh[3] != 3 {
		t.Fatalf("stack shape %v", sh)
	}
	if s.Data[60] != b.Pix[0] || s.Data[59] != a.Pix[59] {
		t.Error("stack content misplaced")
	}
	g := Grid([][]*Image{{a, b}, {randImage(2, 2, 1, 3)}}, 3)
	if w, h := g.Bounds().Dx(), g.Bounds().Dy(); w != 2*(15+GridGap)+GridGap || h != 2*(12+GridGap)+GridGap {
		t.Errorf("grid %dx%d", w, h)
	}
	// Pixel (0,0) of a, enlarged 3×, starts at (GridGap, GridGap).
	r := g.RGBAAt(GridGap+2, GridGap+2).R
	if want := toByte(a.Pix[0]); r != want {
		t.Errorf("grid pixel %d, want %d", r, want)
	}
}

// The loader calls Views from several goroutines at once: results must not
// depend on that (run with -race to check for shared state).
func TestViewsConcurrent(t *testing.T) {
	srcs := NoiseImages(8, 40, 36, 3, 61)
	for _, name := range []string{"simclr-imagenet", "pirl", "swav"} {
		mv, err := Preset(name, 32, 3)
		if err != nil {
			t.Fatal(err)
		}
		want := make([][]*Image, len(srcs))
		for i, s := range srcs {
			want[i] = mv.Views(s, rand.New(rand.NewPCG(5, uint64(i))))
		}
		got := make([][]*Image, len(srcs))
		done := make(chan int)
		for i := range srcs {
			go func() {
				got[i] = mv.Views(srcs[i], rand.New(rand.NewPCG(5, uint64(i))))
				done <- i
			}()
		}
		for range srcs {
			<-done
		}
		for i := range srcs {
			for v := range want[i] {
				if d, _ := maxAbsDiff(got[i][v], want[i][v]); d != 0 {
					t.Fatalf("%s: image %d view %d differs when made concurrently", name, i, v)
				}
			}
		}
	}
}
