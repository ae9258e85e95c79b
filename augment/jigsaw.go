package augment

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"sync"
)

// DefaultPermutations is the size of the permutation set a Jigsaw uses when
// it is given none. Noroozi & Favaro (arXiv:1603.09246) compare sets of
// 100 to 1000 permutations; 100 keeps the one-off computation of the set
// fast (about a tenth of a second for a 3×3 grid).
const DefaultPermutations = 100

// PermutationSeed is the seed of the default permutation set.
const PermutationSeed = 1

var permCache sync.Map // permKey → [][]int

type permKey struct {
	m, n int
	seed uint64
}

// PermutationSet returns n permutations of m = grid² tiles chosen for a
// large minimum Hamming distance, after Noroozi & Favaro's Algorithm 1 with
// the max-min criterion: starting from a random permutation, it adds the
// permutation whose smallest distance to those already chosen is largest,
// ties broken by a seeded random order of all m! permutations. The same
// (grid, n, seed) always gives the same set; results are cached and must
// not be modified. grid is 2 or 3 and n at most m!.
func PermutationSet(grid, n int, seed uint64) [][]int {
	if grid != 2 && grid != 3 {
		panic(fmt.Sprintf("augment.PermutationSet: grid %d (want 2 or 3)", grid))
	}
	m := grid * grid
	total := 1
	for i := 2; i <= m; i++ {
		total *= i
	}
	if n < 1 || n > total {
		panic(fmt.Sprintf("augment.PermutationSet: %d permutations of %d tiles (want 1..%d)", n, m, total))
	}
	key := permKey{m, n, seed}
	if v, ok := permCache.Load(key); ok {
		return v.([][]int)
	}
	// Every permutation packed as m 4-bit nibbles.
	cand := make([]uint64, 0, total)
	p := make([]int, m)
	for i := range p {
		p[i] = i
	}
	var gen func(k int)
	gen = func(k int) {
		if k == m {
			var v uint64
			for i, x := range p {
				v |= uint64(x) << (4 * i)
			}
			cand = append(cand, v)
			return
		}
		for i := k; i < m; i++ {
			p[k], p[i] = p[i], p[k]
			gen(k + 1)
			p[k], p[i] = p[i], p[k]
		}
	}
	gen(0)
	rng := rand.New(rand.NewPCG(seed, 0x6a6967736177))
	rng.Shuffle(len(cand), func(i, j int) { cand[i], cand[j] = cand[j], cand[i] })
	var low uint64 // bit 0 of every nibble
	for i := 0; i < m; i++ {
		low |= 1 << (4 * i)
	}
	dist := func(a, b uint64) int {
		x := a ^ b
		x |= x >> 1
		x |= x >> 2
		return bits.OnesCount64(x & low)
	}
	minDist := make([]uint8, len(cand))
	for i := range minDist {
		minDist[i] = uint8(m + 1)
	}
	chosen := make([]uint64, 0, n)
	pick := 0
	for len(chosen) < n {
		c := cand[pick]
		chosen = append(chosen, c)
		best, bestD := 0, -1
		for i, v := range cand {
			if d := uint8(dist(v, c)); d < minDist[i] {
				minDist[i] = d
			}
			if int(minDist[i]) > bestD {
				best, bestD = i, int(minDist[i])
			}
		}
		pick = best
	}
	out := make([][]int, n)
	for k, v := range chosen {
		out[k] = make([]int, m)
		for i := range out[k] {
			out[k][i] = int(v>>(4*i)) & 15
		}
	}
	v, _ := permCache.LoadOrStore(key, out)
	return v.([][]int)
}

// Jigsaw is the context pretext task of Noroozi & Favaro
// (arXiv:1603.09246), used by PIRL (arXiv:1912.01991): the image is split
// into a Grid×Grid grid of cells, a Patch×Patch patch is cropped at a
// random position inside each cell, and the patches are shuffled by a
// permutation drawn from a fixed set.
type Jigsaw struct {
	Grid  int // cells per side: 2 or 3
	Patch int // patch side; at most the cell side
	// Perms is the permutation set (each a permutation of 0..Grid²-1);
	// nil means PermutationSet(Grid, DefaultPermutations, PermutationSeed).
	Perms [][]int
	// PatchTransform, if set, is applied to every patch independently (for
	// example a per-patch colour jitter); it must keep the patch size.
	PatchTransform Transform
}

// NewJigsaw returns a 3×3 Jigsaw with patches of the given side and the
// default permutation set.
func NewJigsaw(patch int) *Jigsaw { return &Jigsaw{Grid: 3, Patch: patch} }

func (j *Jigsaw) perms() [][]int {
	if j.Perms != nil {
		return j.Perms
	}
	return PermutationSet(j.Grid, DefaultPermutations, PermutationSeed)
}

// Patches cuts img into Grid² patches and shuffles them: it draws a
// permutation index perm and returns patches with patches[k] taken from
// cell Perms[perm][k] (cells numbered row by row). img is not modified.
func (j *Jigsaw) Patches(img *Image, rng *rand.Rand) (patches []*Image, perm int) {
	img.check("Jigsaw")
	g := j.Grid
	ch, cw := img.H/max(g, 1), img.W/max(g, 1)
	if g < 1 || j.Patch < 1 || j.Patch > ch || j.Patch > cw {
		panic(fmt.Sprintf("augment.Jigsaw: %d×%d grid of %d-pixel patches does not fit a %dx%d image",
			g, g, j.Patch, img.H, img.W))
	}
	perms := j.perms()
	perm = rng.IntN(len(perms))
	order := perms[perm]
	if len(order) != g*g {
		panic(fmt.Sprintf("augment.Jigsaw: permutation of %d tiles for a %d×%d grid", len(order), g, g))
	}
	patches = make([]*Image, g*g)
	for k, cell := range order {
		top := (cell/g)*ch + rng.IntN(ch-j.Patch+1)
		left := (cell%g)*cw + rng.IntN(cw-j.Patch+1)
		p := Crop(img, top, left, j.Patch, j.Patch)
		if j.PatchTransform != nil {
			p, _ = applyStep(j.PatchTransform, p, true, rng)
			if p.H != j.Patch || p.W != j.Patch || p.C != img.C {
				panic(fmt.Sprintf("augment.Jigsaw: PatchTransform turned a %d-pixel patch into %dx%dx%d",
					j.Patch, p.H, p.W, p.C))
			}
		}
		patches[k] = p
	}
	return patches, perm
}

// Apply returns the shuffled patches stacked vertically as one
// (Grid²·Patch)×Patch image: patch k occupies rows k·Patch to
// (k+1)·Patch. Stacking B such views gives a (B, Grid²·Patch, Patch, C)
// tensor whose memory is exactly (B·Grid², Patch, Patch, C), so a method
// reshapes instead of copying. img is not modified.
func (j *Jigsaw) Apply(img *Image, rng *rand.Rand) *Image {
	patches, _ := j.Patches(img, rng)
	n := len(patches[0].Pix)
	out := NewImage(len(patches)*j.Patch, j.Patch, img.C)
	for k, p := range patches {
		copy(out.Pix[k*n:(k+1)*n], p.Pix)
	}
	return out
}

// Mosaic lays out the grid² patches of a jigsaw strip (see Jigsaw.Apply)
// as a grid×grid picture with gap pixels of white between them, for
// display.
func Mosaic(strip *Image, grid, gap int) *Image {
	strip.check("Mosaic")
	p := strip.W
	if grid < 1 || strip.H != grid*grid*p {
		panic(fmt.Sprintf("augment.Mosaic: %dx%d image is not a strip of %d square patches", strip.H, strip.W, grid*grid))
	}
	side := grid*p + (grid-1)*gap
	out := NewImage(side, side, strip.C)
	for i := range out.Pix {
		out.Pix[i] = 1
	}
	c := strip.C
	for k := 0; k < grid*grid; k++ {
		top, left := (k/grid)*(p+gap), (k%grid)*(p+gap)
		for y := 0; y < p; y++ {
			src := strip.Pix[(k*p+y)*p*c : (k*p+y+1)*p*c]
			copy(out.Pix[((top+y)*side+left)*c:], src)
		}
	}
	return out
}
