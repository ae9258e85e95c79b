package tensor

import (
	"strings"
	"testing"
)

func mustPanic(t *testing.T, want string, fn func()) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one mentioning %q", want)
		}
		if msg, _ := r.(string); !strings.Contains(msg, want) {
			t.Fatalf("panic %q, want one mentioning %q", r, want)
		}
	}()
	fn()
}

func TestReshapeAndSliceAreViews(t *testing.T) {
	x := New(4, 3, 2)
	for i := range x.Data {
		x.Data[i] = float32(i)
	}
	r := x.Reshape(-1, 6)
	if !EqualShape(r.Shape(), []int{4, 6}) {
		t.Fatalf("Reshape(-1, 6) shape %v", r.Shape())
	}
	r.Data[7] = 100
	if x.At(1, 0, 1) != 100 {
		t.Fatalf("reshape does not share memory: x[1,0,1] = %v", x.At(1, 0, 1))
	}
	s := x.Slice(1, 3)
	if !EqualShape(s.Shape(), []int{2, 3, 2}) || s.At(0, 0, 1) != 100 || s.At(1, 2, 1) != 17 {
		t.Fatalf("Slice(1,3) = %v %v", s.Shape(), s.Data)
	}
	if got := x.Strides(); !EqualShape(got, []int{6, 2, 1}) {
		t.Fatalf("strides %v", got)
	}
	mustPanic(t, "cannot reshape", func() { x.Reshape(5, -1) })
	mustPanic(t, "out of range", func() { x.Slice(2, 5) })
	mustPanic(t, "out of range", func() { x.At(4, 0, 0) })
}

func TestNCHWRoundTrip(t *testing.T) {
	n, c, h, w := 2, 3, 4, 5
	x := New(n, c, h, w)
	for i := range x.Data {
		x.Data[i] = float32(i)
	}
	y := FromNCHW(x)
	if !EqualShape(y.Shape(), []int{n, h, w, c}) {
		t.Fatalf("FromNCHW shape %v", y.Shape())
	}
	for _, idx := range [][4]int{{0, 0, 0, 0}, {1, 2, 3, 4}, {0, 1, 2, 3}, {1, 0, 3, 1}} {
		b, ch, yy, xx := idx[0], idx[1], idx[2], idx[3]
		if got, want := y.At(b, yy, xx, ch), x.At(b, ch, yy, xx); got != want {
			t.Fatalf("NHWC[%d,%d,%d,%d] = %v, NCHW value %v", b, yy, xx, ch, got, want)
		}
	}
	if d := MaxAbsDiff(ToNCHW(y), x); d != 0 {
		t.Fatalf("round trip differs by %v", d)
	}
}

func TestPoolReusesBuffers(t *testing.T) {
	ResetPool()
	a := Get(16, 16)
	a.Data[3] = 7
	ptr := &a.Data[0]
	Put(a)
	b := Get(256)
	if &b.Data[0] != ptr {
		t.Fatal("Get after Put of the same length did not reuse the buffer")
	}
	if b.Data[3] != 0 {
		t.Fatalf("Get returned a dirty buffer: %v", b.Data[3])
	}
	if allocs := testing.AllocsPerRun(10, func() { Put(GetDirty(256)) }); allocs > 3 {
		t.Fatalf("Get/Put cycle allocates %v times, want at most 3 (the Tensor header and its shape, never the 1 KiB buffer)", allocs)
	}
}
