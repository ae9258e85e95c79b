package tsne

import "math"

// maxDepth bounds the quadtree: points closer than the root's width/2^20
// share a leaf (coincident points would otherwise split forever).
const maxDepth = 20

// node is a quadtree cell: a square of half-width hw around (cx, cy)
// holding count points with centre of mass (mx, my). A leaf holds its
// points' indices; an inner node its four children (-1: empty).
type node struct {
	cx, cy, hw float64
	mx, my     float64
	count      int
	child      [4]int32
	points     []int32 // leaf only
	leaf       bool
}

type quadtree struct {
	nodes []node
	y     []float64
}

func buildTree(y []float64, n int) *quadtree {
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i := 0; i < n; i++ {
		minX, maxX = math.Min(minX, y[2*i]), math.Max(maxX, y[2*i])
		minY, maxY = math.Min(minY, y[2*i+1]), math.Max(maxY, y[2*i+1])
	}
	hw := math.Max(maxX-minX, maxY-minY)/2*(1+1e-9) + 1e-12
	t := &quadtree{nodes: make([]node, 0, 2*n), y: y}
	t.nodes = append(t.nodes, node{cx: (minX + maxX) / 2, cy: (minY + maxY) / 2, hw: hw, leaf: true, child: [4]int32{-1, -1, -1, -1}})
	for i := 0; i < n; i++ {
		t.insert(0, int32(i), 0)
	}
	return t
}

func (t *quadtree) quadrant(nd *node, i int32) int {
	q := 0
	if t.y[2*i] > nd.cx {
		q |= 1
	}
	if t.y[2*i+1] > nd.cy {
		q |= 2
	}
	return q
}

func (t *quadtree) insert(at int, i int32, depth int) {
	for {
		nd := &t.nodes[at]
		px, py := t.y[2*i], t.y[2*i+1]
		nd.mx = (nd.mx*float64(nd.count) + px) / float64(nd.count+1)
		nd.my = (nd.my*float64(nd.count) + py) / float64(nd.count+1)
		nd.count++
		if nd.leaf {
			if nd.count == 1 || depth >= maxDepth {
				nd.points = append(nd.points, i)
				return
			}
			// Split: push the resident point down, then continue with i.
			old := nd.points[0]
			nd.points, nd.leaf = nil, false
			t.placeChild(at, old, depth)
		}
		at = t.childFor(at, i)
		depth++
	}
}

// placeChild inserts point i (already counted in node at) into its
// child.
func (t *quadtree) placeChild(at int, i int32, depth int) {
	c := t.childFor(at, i)
	t.insert(c, i, depth+1)
}

// childFor returns the child of node at that covers point i, creating it.
func (t *quadtree) childFor(at int, i int32) int {
	q := t.quadrant(&t.nodes[at], i)
	if c := t.nodes[at].child[q]; c >= 0 {
		return int(c)
	}
	nd := t.nodes[at]
	h := nd.hw / 2
	cx, cy := nd.cx-h, nd.cy-h
	if q&1 != 0 {
		cx = nd.cx + h
	}
	if q&2 != 0 {
		cy = nd.cy + h
	}
	t.nodes = append(t.nodes, node{cx: cx, cy: cy, hw: h, leaf: true, child: [4]int32{-1, -1, -1, -1}})
	c := len(t.nodes) - 1
	t.nodes[at].child[q] = int32(c)
	return c
}

// repulsion returns Σ_{j≠i} q_ij² (y_i − y_j) (unnormalised q = (1+d²)⁻¹)
// and Σ_{j≠i} q_ij, cells summarised when width/distance < theta.
func (t *quadtree) repulsion(i int, px, py, theta float64) (fx, fy, z float64) {
	var stack [4 * maxDepth * 4]int32
	sp := 0
	stack[sp] = 0
	sp++
	for sp > 0 {
		sp--
		nd := &t.nodes[stack[sp]]
		if nd.count == 0 {
			continue
		}
		if nd.leaf {
			for _, j := range nd.points {
				if int(j) == i {
					continue
				}
				dx, dy := px-t.y[2*j], py-t.y[2*j+1]
				q := 1 / (1 + dx*dx + dy*dy)
				z += q
				fx += q * q * dx
				fy += q * q * dy
			}
			continue
		}
		dx, dy := px-nd.mx, py-nd.my
		d2 := dx*dx + dy*dy
		if w := 2 * nd.hw; theta > 0 && w*w < theta*theta*d2 {
			q := 1 / (1 + d2)
			c := float64(nd.count)
			z += c * q
			fx += c * q * q * dx
			fy += c * q * q * dy
			continue
		}
		for _, c := range nd.child {
			if c >= 0 {
				stack[sp] = c
				sp++
			}
		}
	}
	return fx, fy, z
}
