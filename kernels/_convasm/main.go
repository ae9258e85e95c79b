// Command _convasm generates conv_avx512_amd64.s, the AVX-512 kernels of
// the convolution, batch-norm and pooling code in package kernels. It is
// its own module and is not part of the build; run it from package kernels
// with
//
//	go generate ./kernels/
//
// and commit the output.
//
// convTile<MR>AVX512 (MR = 1…14) computes one MR×32 tile of C = A·B where neither operand
// is packed: A is read in place through two strides (rows rs, depth ps
// apart), B row by row (ldb apart). With rs = lda, ps = 1 it is a
// row-major A (an im2col chunk, the output gradient); with rs = 1,
// ps = lda it is a transposed A (the output gradient in the weight
// gradient). The 14 row addresses come from four base registers and one
// scaled index (rows 0,1,2,4,8 from a; 3,4,5,7,11 from a+3rs; 5,6,7,9,13
// from a+5rs; 10,11,12 from a+10rs), so no row pointer table is needed.
//
// vecAccAVX512 adds one float32 slice into another. The bn*AVX512 kernels
// run the batch-norm loops over a block of up to 64 channels (four zmm,
// masked at the end) and any number of rows.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
)

type gen struct{ bytes.Buffer }

func (g *gen) f(format string, args ...any) { fmt.Fprintf(&g.Buffer, "\t"+format+"\n", args...) }
func (g *gen) label(l string)               { fmt.Fprintf(&g.Buffer, "%s:\n", l) }

// rowAddr returns the memory operand of A's row i (0 ≤ i < 14).
func rowAddr(i int) string {
	return [14]string{
		"(R8)", "(R8)(R12*1)", "(R8)(R12*2)", "(R9)", "(R8)(R12*4)", "(R10)", "(R10)(R12*1)",
		"(R9)(R12*4)", "(R8)(R12*8)", "(R10)(R12*4)", "(R11)", "(R11)(R12*1)", "(R11)(R12*2)", "(R10)(R12*8)",
	}[i]
}

// rowBase returns the base register row i is addressed from.
func rowBase(i int) string {
	return map[int]string{0: "R8", 1: "R8", 2: "R8", 4: "R8", 8: "R8", 3: "R9", 7: "R9", 5: "R10", 6: "R10", 9: "R10", 13: "R10", 10: "R11", 11: "R11", 12: "R11"}[i]
}

// convTile emits convTile<mr>AVX512, the tile of mr rows (1 ≤ mr ≤ 14).
func (g *gen) convTile(mr int) {
	name := fmt.Sprintf("convTile%dAVX512", mr)
	fmt.Fprintf(&g.Buffer, `
// func %[1]s(a, b, c *float32, args *convTileArgs)
//
// %[1]s computes one %[2]d×32 tile (see convTileGo in conv_tile.go for the
// loop and convTileArgs for the arguments).
TEXT ·%[1]s(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), R8
	MOVQ b+8(FP), DI
	MOVQ args+24(FP), AX
	MOVQ 0(AX), CX    // kc
	MOVQ 8(AX), R12   // rs
	MOVQ 16(AX), R13  // ps
	MOVQ 24(AX), R14  // ldb
	SHLQ $2, R12
	SHLQ $2, R13
	SHLQ $2, R14
	MOVQ 48(AX), BX   // column masks
	KMOVW BX, K1
	SHRQ $16, BX
	KMOVW BX, K2
`, name, mr)
	used := map[string]bool{}
	for i := 0; i < mr; i++ {
		used[rowBase(i)] = true
	}
	if used["R9"] {
		g.f("LEAQ (R12)(R12*2), BX")
		g.f("LEAQ (R8)(BX*1), R9 // a + 3rs")
	}
	if used["R10"] || used["R11"] {
		g.f("LEAQ (R12)(R12*4), BX")
		g.f("LEAQ (R8)(BX*1), R10 // a + 5rs")
		g.f("LEAQ (R10)(BX*1), R11 // a + 10rs")
	}
	for i := 0; i < 2*mr; i++ {
		g.f("VPXORD Z%d, Z%d, Z%d", i, i, i)
	}
	g.f("TESTQ CX, CX")
	g.f("JZ store")
	g.f("PCALIGN $32")
	g.label("loop")
	g.f("VMOVUPS.Z (DI), K1, Z28")
	g.f("VMOVUPS.Z 64(DI), K2, Z29")
	for i := 0; i < mr; i++ {
		r := 30 + i%2
		g.f("VBROADCASTSS %s, Z%d", rowAddr(i), r)
		g.f("VFMADD231PS Z%d, Z28, Z%d", r, 2*i)
		g.f("VFMADD231PS Z%d, Z29, Z%d", r, 2*i+1)
	}
	for _, r := range []string{"R8", "R9", "R10", "R11"} {
		if used[r] || (r == "R10" && used["R11"]) {
			g.f("ADDQ R13, %s", r)
		}
	}
	g.f("ADDQ R14, DI")
	g.f("DECQ CX")
	g.f("JNZ loop")
	g.label("store")
	g.f("MOVQ c+16(FP), DX")
	g.f("MOVQ args+24(FP), AX")
	g.f("MOVQ 32(AX), BX // ldc")
	g.f("SHLQ $2, BX")
	g.f("MOVQ 40(AX), SI // skip")
	g.f("MOVQ 56(AX), CX // accumulate")
	g.f("TESTQ CX, CX")
	g.f("JNZ accstore")
	for _, acc := range []bool{false, true} {
		pre := "st"
		if acc {
			pre = "acc"
			g.label("accstore")
		}
		for i := 0; i < mr; i++ {
			next := fmt.Sprintf("%s%d", pre, i+1)
			g.f("CMPQ SI, $%d", i)
			g.f("JGT %s", next)
			if acc {
				g.f("VMOVUPS.Z (DX), K1, Z30")
				g.f("VMOVUPS.Z 64(DX), K2, Z31")
				g.f("VADDPS Z30, Z%d, Z%d", 2*i, 2*i)
				g.f("VADDPS Z31, Z%d, Z%d", 2*i+1, 2*i+1)
			}
			g.f("VMOVUPS Z%d, K1, (DX)", 2*i)
			g.f("VMOVUPS Z%d, K2, 64(DX)", 2*i+1)
			g.label(next)
			g.f("ADDQ BX, DX")
		}
		g.f("VZEROUPPER")
		g.f("RET")
	}
}

func (g *gen) vecAcc() {
	g.WriteString(`
// func vecAccAVX512(dst, src *float32, n int)
//
// vecAccAVX512 computes dst[i] += src[i] for i < n.
TEXT ·vecAccAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	CMPQ CX, $64
	JLT acc16
	PCALIGN $32
acc64:
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VMOVUPS 192(DI), Z3
	VADDPS (SI), Z0, Z0
	VADDPS 64(SI), Z1, Z1
	VADDPS 128(SI), Z2, Z2
	VADDPS 192(SI), Z3, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ $256, DI
	ADDQ $256, SI
	SUBQ $64, CX
	CMPQ CX, $64
	JGE acc64
acc16:
	CMPQ CX, $16
	JLT tail
	VMOVUPS (DI), Z0
	VADDPS (SI), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $16, CX
	JMP acc16
tail:
	TESTQ CX, CX
	JZ done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z (SI), K1, Z1
	VADDPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)
done:
	VZEROUPPER
	RET
`)
}

// bnPrologue loads the channel masks K1..K4 from the mask argument at off.
func (g *gen) masks(off int) {
	g.f("MOVQ mask+%d(FP), AX", off)
	for v := 1; v <= 4; v++ {
		g.f("KMOVW AX, K%d", v)
		if v < 4 {
			g.f("SHRQ $16, AX")
		}
	}
}

// vec emits one instruction per 16-channel vector v (0..3), formatting
// format with the vector index substituted by fn.
func (g *gen) vec(fn func(v int) string) {
	for v := 0; v < 4; v++ {
		g.f("%s", fn(v))
	}
}

func (g *gen) bn() {
	// func bnStatsAVX512(x, shift, s1, s2 *float32, rows, ld int, mask uint64)
	g.WriteString(`
// func bnStatsAVX512(x, shift, s1, s2 *float32, rows, ld int, mask uint64)
//
// bnStatsAVX512 is bnStatsBlock (bn.go) for the channels set in mask.
TEXT ·bnStatsAVX512(SB), NOSPLIT, $0-56
	MOVQ x+0(FP), SI
	MOVQ shift+8(FP), R8
	MOVQ s1+16(FP), R9
	MOVQ s2+24(FP), R10
	MOVQ rows+32(FP), CX
	MOVQ ld+40(FP), DX
	SHLQ $2, DX
`)
	g.masks(48)
	g.vec(func(v int) string { return fmt.Sprintf("VMOVUPS.Z %d(R8), K%d, Z%d", 64*v, v+1, 16+v) })
	g.vec(func(v int) string { return fmt.Sprintf("VMOVUPS.Z %d(R9), K%d, Z%d", 64*v, v+1, v) })
	g.vec(func(v int) string { return fmt.Sprintf("VMOVUPS.Z %d(R10), K%d, Z%d", 64*v, v+1, 4+v) })
	g.f("TESTQ CX, CX")
	g.f("JZ statsdone")
	g.label("statsloop")
	g.vec(func(v int) string { return fmt.Sprintf("VMOVUPS.Z %d(SI), K%d, Z%d", 64*v, v+1, 8+v) })
	g.vec(func(v int) string { return fmt.Sprintf("VSUBPS Z%d, Z%d, Z%d", 16+v, 8+v, 8+v) })
	g.vec(func(v int) string { return fmt.Sprintf("VADDPS Z%d, Z%d, Z%d", 8+v, v, v) })
	g.vec(func(v int) string { return fmt.Sprintf("VFMADD231PS Z%d, Z%d, Z%d", 8+v, 8+v, 4+v) })
	g.f("ADDQ DX, SI")
	g.f("DECQ CX")
	g.f("JNZ statsloop")
	g.label("statsdone")
	g.vec(func(v int) string { return fmt.Sprintf("VMOVUPS Z%d, K%d, %d(R9)", v, v+1, 64*v) })
	g.vec(func(v int) string { return fmt.Sprintf("VMOVUPS Z%d, K%d, %d(R10)", 4+v, v+1, 64*v) })
	g.f("VZEROUPPER")
	g.f("RET")

	// func bnApplyAVX512(x, y, scale, shift *float32, rows, ld int, mask uint64, relu int)
	g.WriteString(`
// func bnApplyAVX512(x, y, scale, shift *float32, rows, ld int, mask uint64, relu int)
//
// bnApplyAVX512 is bnApplyBlock (bn.go) for the channels set in mask.
TEXT ·bnApplyAVX512(SB), NOSPLIT, $0-64
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ scale+16(FP), R8
	MOVQ shift+24(FP), R9
	MOVQ rows+32(FP), CX
	MOVQ ld+40(FP), DX
	SHLQ $2, DX
`)
	g.masks(48)
	g.vec(func(v int) string { return fmt.Sprintf("VMOVUPS.Z %d(R8), K%d, Z%d", 64*v, v+1, 16+v) })
	g.vec(func(v int) string { return fmt.Sprintf("VMOVUPS.Z %d(R9), K%d, Z%d", 64*v, v+1, 20+v) })
	g.f("VPXORD Z24, Z24, Z24")
	g.f("TESTQ CX, CX")
	g.f("JZ applydone")
	g.f("MOVQ relu+56(FP), AX")
	g.f("TESTQ AX, AX")
	g.f("JNZ applyrelu")
	for _, relu := range []bool{false, true} {
		l := "applyloop"
		if relu {
			l = "applyrelu"
		}
		g.label(l)
		g.vec(func(v int) string { return fmt.Sprintf("VMOVUPS.Z %d(SI), K%d, Z%d", 64*v, v+1, v) })
		g.vec(func(v int) string { return fmt.Sprintf("VFMADD213PS Z%d, Z%d, Z%d", 20+v, 16+v, v) })
		if relu {
			g.vec(func(v int) string { return fmt.Sprintf("VMAXPS Z24, Z%d, Z%d", v, v) })
		}
		g.vec(func(v int) string { return fmt.Sprintf("VMOVUPS Z%d, K%d, %d(DI)", v, v+1, 64*v) })
		g.f("ADDQ DX, SI")
		g.f("ADDQ DX, DI")
		g.f("DECQ CX")
		g.f("JNZ %s", l)
		g.f("JMP applydone")
	}
	g.label("applydone")
	g.f("VZEROUPPER")
	g.f("RET")

	// func bnDyAVX512(x, dy, y, mean, s1, s2 *float32, rows, ld int, mask uint64)
	g.WriteString(`
// func bnDyAVX512(x, dy, y, mean, s1, s2 *float32, rows, ld int, mask uint64)
//
// bnDyAVX512 is bnDyBlock (bn.go) for the channels set in mask; y is nil
// for a plain batch norm.
TEXT ·bnDyAVX512(SB), NOSPLIT, $0-72
	MOVQ x+0(FP), SI
	MOVQ dy+8(FP), R8
	MOVQ y+16(FP), DI
	MOVQ mean+24(FP), R9
	MOVQ s1+32(FP), R10
	MOVQ s2+40(FP), R11
	MOVQ rows+48(FP), CX
	MOVQ ld+56(FP), DX
	SHLQ $2, DX
`)
	g.masks(64)
	g.vec(func(v int) string { return fmt.Sprintf("VMOVUPS.Z %d(R9), K%d, Z%d", 64*v, v+1, 16+v) })
	g.vec(func(v int) string { return fmt.Sprintf("VMOVUPS.Z %d(R10), K%d, Z%d", 64*v, v+1, v) })
	g.vec(func(v int) string { return fmt.Sprintf("VMOVUPS.Z %d(R11), K%d, Z%d", 64*v, v+1, 4+v) })
	g.f("VPXORD Z24, Z24, Z24")
	g.f("TESTQ CX, CX")
	g.f("JZ dydone")
	g.f("TESTQ DI, DI")
	g.f("JNZ dyrelu")
	for _, relu := range []bool{false, true} {
		l := "dyloop"
		if relu {
			l = "dyrelu"
		}
		g.label(l)
		for v := 0; v < 4; v++ {
			m := fmt.Sprintf("K%d", v+1)
			if relu {
				g.f("VMOVUPS.Z %d(DI), K%d, Z%d", 64*v, v+1, 12+v)
				g.f("VCMPPS $0x1e, Z24, Z%d, K%d, K5", 12+v, v+1) // y > 0 (ordered, quiet)
				m = "K5"
			}
			g.f("VMOVUPS.Z %d(R8), %s, Z%d", 64*v, m, 8+v)
			g.f("VMOVUPS.Z %d(SI), K%d, Z%d", 64*v, v+1, 12+v)
			g.f("VSUBPS Z%d, Z%d, Z%d", 16+v, 12+v, 12+v)
			g.f("VADDPS Z%d, Z%d, Z%d", 8+v, v, v)
			g.f("VFMADD231PS Z%d, Z%d, Z%d", 8+v, 12+v, 4+v)
		}
		g.f("ADDQ DX, SI")
		g.f("ADDQ DX, R8")
		if relu {
			g.f("ADDQ DX, DI")
		}
		g.f("DECQ CX")
		g.f("JNZ %s", l)
		g.f("JMP dydone")
	}
	g.label("dydone")
	g.vec(func(v int) string { return fmt.Sprintf("VMOVUPS Z%d, K%d, %d(R10)", v, v+1, 64*v) })
	g.vec(func(v int) string { return fmt.Sprintf("VMOVUPS Z%d, K%d, %d(R11)", 4+v, v+1, 64*v) })
	g.f("VZEROUPPER")
	g.f("RET")

	// func bnDxAVX512(x, dy, y, dx, a, b, d *float32, rows, ld int, mask uint64)
	g.WriteString(`
// func bnDxAVX512(x, dy, y, dx, a, b, d *float32, rows, ld int, mask uint64)
//
// bnDxAVX512 is bnDxBlock (bn.go) for the channels set in mask; y is nil
// for a plain batch norm.
TEXT ·bnDxAVX512(SB), NOSPLIT, $0-80
	MOVQ x+0(FP), SI
	MOVQ dy+8(FP), R8
	MOVQ y+16(FP), DI
	MOVQ dx+24(FP), R9
	MOVQ a+32(FP), R10
	MOVQ b+40(FP), R11
	MOVQ d+48(FP), R12
	MOVQ rows+56(FP), CX
	MOVQ ld+64(FP), DX
	SHLQ $2, DX
`)
	g.masks(72)
	g.vec(func(v int) string { return fmt.Sprintf("VMOVUPS.Z %d(R10), K%d, Z%d", 64*v, v+1, 16+v) })
	g.vec(func(v int) string { return fmt.Sprintf("VMOVUPS.Z %d(R11), K%d, Z%d", 64*v, v+1, 20+v) })
	g.vec(func(v int) string { return fmt.Sprintf("VMOVUPS.Z %d(R12), K%d, Z%d", 64*v, v+1, 24+v) })
	g.f("VPXORD Z28, Z28, Z28")
	g.f("TESTQ CX, CX")
	g.f("JZ dxdone")
	g.f("TESTQ DI, DI")
	g.f("JNZ dxrelu")
	for _, relu := range []bool{false, true} {
		l := "dxloop"
		if relu {
			l = "dxrelu"
		}
		g.label(l)
		for v := 0; v < 4; v++ {
			m := fmt.Sprintf("K%d", v+1)
			if relu {
				g.f("VMOVUPS.Z %d(DI), K%d, Z%d", 64*v, v+1, 12+v)
				g.f("VCMPPS $0x1e, Z28, Z%d, K%d, K5", 12+v, v+1)
				m = "K5"
			}
			// Z(v) = d + b·x;  Z(v) += a·g;  dx += Z(v)
			g.f("VMOVUPS.Z %d(SI), K%d, Z%d", 64*v, v+1, 8+v)
			g.f("VMOVAPS Z%d, Z%d", 24+v, v)
			g.f("VFMADD231PS Z%d, Z%d, Z%d", 20+v, 8+v, v)
			g.f("VMOVUPS.Z %d(R8), %s, Z%d", 64*v, m, 12+v)
			g.f("VFMADD231PS Z%d, Z%d, Z%d", 16+v, 12+v, v)
			g.f("VMOVUPS.Z %d(R9), K%d, Z%d", 64*v, v+1, 8+v)
			g.f("VADDPS Z%d, Z%d, Z%d", 8+v, v, v)
			g.f("VMOVUPS Z%d, K%d, %d(R9)", v, v+1, 64*v)
		}
		g.f("ADDQ DX, SI")
		g.f("ADDQ DX, R8")
		g.f("ADDQ DX, R9")
		if relu {
			g.f("ADDQ DX, DI")
		}
		g.f("DECQ CX")
		g.f("JNZ %s", l)
		g.f("JMP dxdone")
	}
	g.label("dxdone")
	g.f("VZEROUPPER")
	g.f("RET")
}

func (g *gen) panelCopy() {
	g.WriteString(`
// func panelCopyAVX512(dst, src *float32, n, dstStride int)
//
// panelCopyAVX512 copies n 32-float rows of src into rows dstStride apart:
// dst[v*dstStride+j] = src[v*32+j] for v < n, j < 32.
TEXT ·panelCopyAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ dstStride+24(FP), DX
	SHLQ $2, DX
	TESTQ CX, CX
	JZ pcdone
pcloop:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ $128, SI
	ADDQ DX, DI
	DECQ CX
	JNZ pcloop
pcdone:
	VZEROUPPER
	RET
`)
}

func (g *gen) gather() {
	g.WriteString(`
// func gatherAVX512(dst, src *float32, n, dstStep, srcStep, stride int)
//
// gatherAVX512 copies n strided 16-float columns into rows:
// dst[v*dstStep+l] = src[v*srcStep+l*stride] for v < n, l < 16.
TEXT ·gatherAVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ dstStep+24(FP), DX
	MOVQ srcStep+32(FP), R8
	MOVQ stride+40(FP), AX
	SHLQ $2, DX
	SHLQ $2, R8
	VPBROADCASTD AX, Z1
	VPMULLD ·gatherLanes(SB), Z1, Z1 // lane·stride
	TESTQ CX, CX
	JZ gatherdone
gatherloop:
	KXNORW K0, K0, K1
	VGATHERDPS (SI)(Z1*4), K1, Z0
	VMOVUPS Z0, (DI)
	ADDQ DX, DI
	ADDQ R8, SI
	DECQ CX
	JNZ gatherloop
gatherdone:
	VZEROUPPER
	RET
`)
	g.WriteString("\nDATA ·gatherLanes+0(SB)/4, $0\n")
	for l := 1; l < 16; l++ {
		fmt.Fprintf(&g.Buffer, "DATA ·gatherLanes+%d(SB)/4, $%d\n", 4*l, l)
	}
	g.WriteString("GLOBL ·gatherLanes(SB), RODATA|NOPTR, $64\n")
}

func main() {
	out := flag.String("out", ".", "directory to write conv_avx512_amd64.s to")
	flag.Parse()
	var g gen
	g.WriteString("// Code generated by kernels/_convasm. DO NOT EDIT.\n\n//go:build amd64 && !noasm\n\n#include \"textflag.h\"\n\n// Requires: AVX512F\n")
	for mr := 1; mr <= 14; mr++ {
		g.convTile(mr)
	}
	g.vecAcc()
	g.bn()
	g.gather()
	g.panelCopy()
	path := filepath.Join(*out, "conv_avx512_amd64.s")
	if err := os.WriteFile(path, g.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
