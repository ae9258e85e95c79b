// Command _asm generates the SGEMM micro-kernels of package kernels
// (sgemm_avx512_amd64.s, sgemm_avx2_amd64.s). It is its own module and is
// not part of the build; run it from package kernels with
//
//	go generate ./kernels/
//
// and commit the output.
//
// Each kernel computes one MR×NR tile of C from packed panels:
//
//	for p := 0; p < kc; p++ {
//		for i := 0; i < MR; i++ {
//			for j := 0; j < NR; j++ {
//				acc[i][j] += a[p*MR+i] * b[p*NR+j]
//			}
//		}
//	}
//	C[i*ldc+j] = acc[i][j]          (accumulate == 0)
//	C[i*ldc+j] += acc[i][j]         (accumulate != 0)
//
// The accumulators live in registers for the whole k loop (register
// blocking); A is broadcast one element at a time, B is loaded as NR/lanes
// vectors per k step.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
)

// kernel describes one register-blocked micro-kernel.
type kernel struct {
	name     string // Go function name
	requires string // "// Requires:" line
	mr, nr   int    // tile rows and columns
	lanes    int    // float32 lanes per vector register (16 zmm, 8 ymm)
	reg      string // register prefix: "Z" or "Y"
	unroll   int    // k steps per loop iteration
	bcastMem bool   // use embedded-broadcast memory operands instead of VBROADCASTSS
	zero     string // instruction used to zero an accumulator
	prefA    int    // PREFETCHT0 distance into the A panel in k steps (0: none)
	// strideA reads A in place instead of from a packed panel: step p's mr
	// values are a[p*lda : p*lda+mr] (A transposed, k×m, row stride lda);
	// the function takes lda as a seventh argument.
	strideA bool
}

func main() {
	out := flag.String("out", ".", "directory to write the .s files to")
	flag.Parse()
	ks := []struct {
		file string
		k    kernel
	}{
		{"sgemm_avx512_amd64.s", kernel{
			name: "sgemmKernelAVX512", requires: "AVX512F",
			mr: 14, nr: 32, lanes: 16, reg: "Z", unroll: 4, zero: "VPXORD", prefA: 0,
		}},
		{"sgemm_avx512_amd64.s", kernel{
			name: "sgemmKernelAVX512StrideA", requires: "AVX512F",
			mr: 14, nr: 32, lanes: 16, reg: "Z", unroll: 4, zero: "VPXORD", strideA: true,
		}},
		{"sgemm_avx2_amd64.s", kernel{
			name: "sgemmKernelAVX2", requires: "AVX, FMA3",
			mr: 6, nr: 16, lanes: 8, reg: "Y", unroll: 4, zero: "VXORPS",
		}},
	}
	files := map[string]*bytes.Buffer{}
	var order []string
	for _, k := range ks {
		buf := files[k.file]
		if buf == nil {
			buf = new(bytes.Buffer)
			files[k.file] = buf
			order = append(order, k.file)
			header(buf, k.k.requires)
		}
		gen(buf, k.k)
	}
	for _, f := range order {
		write(filepath.Join(*out, f), files[f].Bytes())
	}
	var buf bytes.Buffer
	genTranspose(&buf)
	genCopyPanels(&buf)
	write(filepath.Join(*out, "sgemm_pack_avx512_amd64.s"), buf.Bytes())
}

// genCopyPanels writes copyPanelsAVX512, the packing routine for operands
// whose micro-panel runs along rows (A transposed, B not transposed):
//
//	for p := 0; p < kcur; p++ {
//		for q := 0; q < panels; q++ {
//			for c := 0; c < width; c++ {   // width ≤ 32
//				d[q*width*kcur + p*width + c] = alpha * src[p*ld + q*width + c]
//			}
//		}
//	}
//
// except that the last panel reads only the columns in masks lastLo/lastHi
// and zero-fills the rest. Each piece is one or two zeroing masked loads
// and masked stores.
func genCopyPanels(w *bytes.Buffer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("")
	p("// func copyPanelsAVX512(d, src *float32, ld, kcur, panels, width int, alpha float32, lastLo, lastHi int)")
	p("TEXT ·copyPanelsAVX512(SB), NOSPLIT, $0-72")
	p("\tMOVQ d+0(FP), DI")
	p("\tMOVQ src+8(FP), SI")
	p("\tMOVQ ld+16(FP), AX")
	p("\tMOVQ kcur+24(FP), CX")
	p("\tMOVQ panels+32(FP), R9")
	p("\tMOVQ width+40(FP), R8")
	p("\tVBROADCASTSS alpha+48(FP), Z2")
	p("\tSHLQ $2, AX") // ld in bytes
	// K1/K2: masks of a full panel (low 16 lanes, high lanes); K3/K4: the last panel's.
	p("\tMOVQ R8, BX")
	p("\tCMPQ BX, $16")
	p("\tJLE lowonly")
	p("\tMOVL $0xffff, DX")
	p("\tKMOVW DX, K1")
	p("\tSUBQ $16, BX")
	p("\tMOVL $1, DX")
	p("\tSHLXL BX, DX, DX")
	p("\tDECL DX")
	p("\tKMOVW DX, K2")
	p("\tJMP masks")
	p("lowonly:")
	p("\tMOVL $1, DX")
	p("\tSHLXL BX, DX, DX")
	p("\tDECL DX")
	p("\tKMOVW DX, K1")
	p("\tKXORW K2, K2, K2")
	p("masks:")
	p("\tMOVQ lastLo+56(FP), DX")
	p("\tKMOVW DX, K3")
	p("\tMOVQ lastHi+64(FP), DX")
	p("\tKMOVW DX, K4")
	p("\tMOVQ R8, R10")
	p("\tSHLQ $2, R10") // width in bytes: source step between panels, destination row step
	p("\tMOVQ R10, R11")
	p("\tIMULQ CX, R11") // panel size in bytes: destination step between panels
	p("\tTESTQ CX, CX")
	p("\tJZ done")
	p("\tTESTQ R9, R9")
	p("\tJZ done")
	p("row:")
	p("\tMOVQ SI, R12")
	p("\tMOVQ DI, R13")
	p("\tMOVQ R9, BX")
	p("panel:")
	p("\tCMPQ BX, $1")
	p("\tJEQ last")
	p("\tVMOVUPS.Z (R12), K1, Z0")
	p("\tVMULPS.Z Z2, Z0, K1, Z0")
	p("\tVMOVUPS Z0, K1, (R13)")
	p("\tKORTESTW K2, K2")
	p("\tJZ next")
	p("\tVMOVUPS.Z 64(R12), K2, Z1")
	p("\tVMULPS.Z Z2, Z1, K2, Z1")
	p("\tVMOVUPS Z1, K2, 64(R13)")
	p("next:")
	p("\tADDQ R10, R12")
	p("\tADDQ R11, R13")
	p("\tDECQ BX")
	p("\tJMP panel")
	p("last:")
	p("\tVMOVUPS.Z (R12), K3, Z0")
	p("\tVMULPS.Z Z2, Z0, K3, Z0") // zeroing: the padding is +0 whatever alpha's sign
	p("\tVMOVUPS Z0, K1, (R13)")
	p("\tKORTESTW K2, K2")
	p("\tJZ rowdone")
	p("\tVMOVUPS.Z 64(R12), K4, Z1")
	p("\tVMULPS.Z Z2, Z1, K4, Z1")
	p("\tVMOVUPS Z1, K2, 64(R13)")
	p("rowdone:")
	p("\tADDQ AX, SI")
	p("\tADDQ R10, DI")
	p("\tDECQ CX")
	p("\tJNZ row")
	p("done:")
	p("\tVZEROUPPER")
	p("\tRET")
}

func write(path string, b []byte) {
	if err := os.WriteFile(path, b, 0o644); err != nil {
		log.Fatalf("write %s: %v", path, err)
	}
}

// genTranspose writes transpose16AVX512, the packing routine for operands
// whose micro-panel runs across rows (A not transposed, B transposed):
//
//	for p := 0; p < 16*blocks; p++ {
//		for r := 0; r < rows; r++ {
//			d[p*dstride+r] = alpha * src[r*ld+p]
//		}
//	}
//
// Each block of 16 columns is 16 row loads (rows past rows are zero), a
// 16×16 in-register transpose (4 rounds of 16 shuffles) and 16 stores
// masked to rows lanes.
func genTranspose(w *bytes.Buffer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	z := func(i int) string { return fmt.Sprintf("Z%d", i) }
	p("// Code generated by kernels/_asm. DO NOT EDIT.")
	p("")
	p("//go:build amd64 && !noasm")
	p("")
	p("#include \"textflag.h\"")
	p("")
	p("// Requires: AVX512F")
	p("")
	p("// func transpose16AVX512(d, src *float32, ld, rows, blocks, dstride int, alpha float32)")
	p("TEXT ·transpose16AVX512(SB), NOSPLIT, $0-52")
	p("\tMOVQ d+0(FP), DI")
	p("\tMOVQ src+8(FP), SI")
	p("\tMOVQ ld+16(FP), AX")
	p("\tMOVQ rows+24(FP), R9")
	p("\tMOVQ blocks+32(FP), CX")
	p("\tMOVQ dstride+40(FP), R8")
	p("\tSHLQ $2, AX")
	p("\tSHLQ $2, R8")
	// K1 = (1<<rows)-1
	p("\tMOVL $1, BX")
	p("\tSHLXL R9, BX, BX")
	p("\tDECL BX")
	p("\tKMOVW BX, K1")
	p("\tTESTQ CX, CX")
	p("\tJZ done")
	p("block:")
	for i := 0; i < 16; i++ {
		p("\tVPXORD %s, %s, %s", z(i), z(i), z(i))
	}
	p("\tMOVQ SI, R10")
	for i := 0; i < 16; i++ {
		p("\tVMOVUPS (R10), %s", z(i))
		if i < 15 {
			p("\tCMPQ R9, $%d", i+1)
			p("\tJEQ loaded")
			p("\tADDQ AX, R10")
		}
	}
	p("loaded:")
	// Round 1: interleave 32-bit elements of row pairs.
	for i := 0; i < 16; i += 2 {
		p("\tVUNPCKLPS %s, %s, %s", z(i+1), z(i), z(16+i))
		p("\tVUNPCKHPS %s, %s, %s", z(i+1), z(i), z(16+i+1))
	}
	// Round 2: interleave 64-bit pairs.
	for g := 0; g < 16; g += 4 {
		t := 16 + g
		p("\tVUNPCKLPD %s, %s, %s", z(t+2), z(t), z(g))
		p("\tVUNPCKHPD %s, %s, %s", z(t+2), z(t), z(g+1))
		p("\tVUNPCKLPD %s, %s, %s", z(t+3), z(t+1), z(g+2))
		p("\tVUNPCKHPD %s, %s, %s", z(t+3), z(t+1), z(g+3))
	}
	// Round 3: 128-bit lanes within 8-row halves.
	for h := 0; h < 16; h += 8 {
		for j := 0; j < 4; j++ {
			p("\tVSHUFF32X4 $0x88, %s, %s, %s", z(h+4+j), z(h+j), z(16+h+j))
			p("\tVSHUFF32X4 $0xdd, %s, %s, %s", z(h+4+j), z(h+j), z(16+h+4+j))
		}
	}
	// Round 4: combine the halves; Z(i) is column i.
	for j := 0; j < 8; j++ {
		p("\tVSHUFF32X4 $0x88, %s, %s, %s", z(16+8+j), z(16+j), z(j))
		p("\tVSHUFF32X4 $0xdd, %s, %s, %s", z(16+8+j), z(16+j), z(8+j))
	}
	p("\tMOVQ DI, R10")
	for i := 0; i < 16; i++ {
		p("\tVMULPS.BCST alpha+48(FP), %s, %s", z(i), z(i))
		p("\tVMOVUPS %s, K1, (R10)", z(i))
		p("\tADDQ R8, R10")
	}
	p("\tMOVQ R10, DI")
	p("\tADDQ $64, SI")
	p("\tDECQ CX")
	p("\tJNZ block")
	p("done:")
	p("\tVZEROUPPER")
	p("\tRET")
}

// header starts a generated .s file.
func header(w *bytes.Buffer, requires string) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("// Code generated by kernels/_asm. DO NOT EDIT.")
	p("")
	p("//go:build amd64 && !noasm")
	p("")
	p("#include \"textflag.h\"")
	p("")
	p("// Requires: %s", requires)
}

func gen(w *bytes.Buffer, k kernel) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	nv := k.nr / k.lanes  // vectors per row of the tile
	nacc := k.mr * nv     // accumulator registers
	bReg := nacc          // first register holding B
	aReg := bReg + nv     // two registers for broadcast A
	vbytes := k.lanes * 4 // bytes per vector
	aStep, bStep := k.mr*4, k.nr*4
	r := func(i int) string { return fmt.Sprintf("%s%d", k.reg, i) }

	p("")
	if k.strideA {
		p("// func %s(kc int, a, b, c *float32, ldc int, accumulate int, lda int)", k.name)
		p("//")
		p("// %s computes one %d×%d tile of C from %d columns of a k×m A read in", k.name, k.mr, k.nr, k.mr)
		p("// place (row stride lda) and a packed %d-column B panel (see sgemm_amd64.go).", k.nr)
		p("TEXT ·%s(SB), NOSPLIT, $0-56", k.name)
		p("\tMOVQ lda+48(FP), R11")
		p("\tSHLQ $2, R11")
	} else {
		p("// func %s(kc int, a, b, c *float32, ldc int, accumulate int)", k.name)
		p("//")
		p("// %s computes one %d×%d tile of C from a packed %d-row A panel and a", k.name, k.mr, k.nr, k.mr)
		p("// packed %d-column B panel (see sgemm_amd64.go).", k.nr)
		p("TEXT ·%s(SB), NOSPLIT, $0-48", k.name)
	}
	p("\tMOVQ kc+0(FP), CX")
	p("\tMOVQ a+8(FP), SI")
	p("\tMOVQ b+16(FP), DI")
	p("\tMOVQ c+24(FP), DX")
	p("\tMOVQ ldc+32(FP), R8")
	p("\tMOVQ accumulate+40(FP), R9")
	p("\tSHLQ $2, R8")
	// Prefetch the C tile: it is read (accumulate) or written at the end.
	p("\tMOVQ DX, R10")
	for i := 0; i < k.mr; i++ {
		for off := 0; off < k.nr*4; off += 64 {
			p("\tPREFETCHT0 %d(R10)", off)
		}
		if i < k.mr-1 {
			p("\tADDQ R8, R10")
		}
	}
	for i := 0; i < nacc; i++ {
		p("\t%s %s, %s, %s", k.zero, r(i), r(i), r(i))
	}
	step := func(s int) {
		for v := 0; v < nv; v++ {
			p("\tVMOVUPS %d(DI), %s", s*bStep+v*vbytes, r(bReg+v))
		}
		if k.prefA > 0 {
			p("\tPREFETCHT0 %d(SI)", (s+k.prefA)*aStep)
		}
		for i := 0; i < k.mr; i++ {
			off := s*aStep + i*4
			if k.strideA {
				off = i * 4
			}
			if k.bcastMem {
				for v := 0; v < nv; v++ {
					p("\tVFMADD231PS.BCST %d(SI), %s, %s", off, r(bReg+v), r(i*nv+v))
				}
				continue
			}
			ar := r(aReg + i%2)
			p("\tVBROADCASTSS %d(SI), %s", off, ar)
			for v := 0; v < nv; v++ {
				p("\tVFMADD231PS %s, %s, %s", ar, r(bReg+v), r(i*nv+v))
			}
		}
		if k.strideA {
			p("\tADDQ R11, SI")
		}
	}
	aAdvance := func(steps int) {
		if !k.strideA {
			p("\tADDQ $%d, SI", steps*aStep)
		}
	}
	p("\tMOVQ CX, BX")
	p("\tSHRQ $%d, BX", log2(k.unroll))
	p("\tJZ tail")
	p("\tPCALIGN $32")
	p("loop:")
	for s := 0; s < k.unroll; s++ {
		step(s)
	}
	aAdvance(k.unroll)
	p("\tADDQ $%d, DI", k.unroll*bStep)
	p("\tDECQ BX")
	p("\tJNZ loop")
	p("tail:")
	p("\tANDQ $%d, CX", k.unroll-1)
	p("\tJZ store")
	p("loop1:")
	step(0)
	aAdvance(1)
	p("\tADDQ $%d, DI", bStep)
	p("\tDECQ CX")
	p("\tJNZ loop1")
	p("store:")
	p("\tTESTQ R9, R9")
	p("\tJZ overwrite")
	for i := 0; i < k.mr; i++ {
		for v := 0; v < nv; v++ {
			p("\tVADDPS %d(DX), %s, %s", v*vbytes, r(i*nv+v), r(i*nv+v))
			p("\tVMOVUPS %s, %d(DX)", r(i*nv+v), v*vbytes)
		}
		if i < k.mr-1 {
			p("\tADDQ R8, DX")
		}
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("overwrite:")
	for i := 0; i < k.mr; i++ {
		for v := 0; v < nv; v++ {
			p("\tVMOVUPS %s, %d(DX)", r(i*nv+v), v*vbytes)
		}
		if i < k.mr-1 {
			p("\tADDQ R8, DX")
		}
	}
	p("\tVZEROUPPER")
	p("\tRET")
}

func log2(n int) int {
	l := 0
	for 1<<l < n {
		l++
	}
	if 1<<l != n {
		log.Fatalf("unroll %d is not a power of two", n)
	}
	return l
}
