package export

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/onnx/onnxpb"
)

const onnxTools = "../tools/onnxcheck"

var onnxCases = []models.Config{
	{Arch: "resnet18", Stem: models.StemCIFAR, Width: 0.125, InChannels: 3},
	{Arch: "resnet50", Stem: models.StemImageNet, Width: 0.0625, InChannels: 1},
}

// TestONNXStructure decodes the written file again and checks the
// versions, the graph's interface and that every initializer is used.
func TestONNXStructure(t *testing.T) {
	enc := randomEncoder(t, onnxCases[0], 5)
	path := filepath.Join(t.TempDir(), "enc.onnx")
	if err := WriteONNX(path, enc, []float32{0.5, 0.5, 0.5}, []float32{0.25, 0.25, 0.25}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.GetIrVersion() != 8 || len(m.OpsetImport) != 1 || m.OpsetImport[0].GetVersion() != 13 {
		t.Errorf("ir %d opset %v", m.GetIrVersion(), m.OpsetImport)
	}
	g := m.Graph
	if g.Input[0].GetName() != "input" || g.Output[0].GetName() != "features" {
		t.Errorf("interface %s -> %s", g.Input[0].GetName(), g.Output[0].GetName())
	}
	used := map[string]bool{}
	ops := map[string]int{}
	for _, n := range g.Node {
		ops[n.GetOpType()]++
		for _, in := range n.Input {
			used[in] = true
		}
	}
	for _, init := range g.Initializer {
		if !used[init.GetName()] {
			t.Errorf("initializer %s is not used", init.GetName())
		}
	}
	// ResNet-18: 20 convolutions (17 + 3 downsamples), as many batch norms,
	// 8 residual additions, no max pool with the CIFAR stem.
	if ops["Conv"] != 20 || ops["BatchNormalization"] != 20 || ops["Add"] != 8 || ops["MaxPool"] != 0 || ops["GlobalAveragePool"] != 1 {
		t.Errorf("operators %v", ops)
	}
	if len(g.Initializer) != 20+20*4 {
		t.Errorf("%d initializers, want 100", len(g.Initializer))
	}
}

// TestONNXCheckerAndRuntime runs Debian's python3-onnx checker on the
// exported models and onnxruntime-node on a random batch, comparing with
// the Go features to 1e-4. It skips when python3-onnx, node or the npm
// package (`ONNXRUNTIME_NODE_INSTALL=skip npm ci` in tools/onnxcheck) is
// missing.
func TestONNXCheckerAndRuntime(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import onnx").Run(); err != nil {
		t.Skipf("python3-onnx is not installed (apt-get install python3-onnx): %v", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	if _, err := os.Stat(filepath.Join(onnxTools, "node_modules", "onnxruntime-node")); err != nil {
		t.Skipf("onnxruntime-node is not installed: run `ONNXRUNTIME_NODE_INSTALL=skip npm ci` in tools/onnxcheck (%v)", err)
	}
	for i, cfg := range onnxCases {
		t.Run(cfg.Arch, func(t *testing.T) {
			enc := randomEncoder(t, cfg, uint64(10+i))
			dir := t.TempDir()
			model := filepath.Join(dir, "enc.onnx")
			if err := WriteONNX(model, enc, nil, nil); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(py, filepath.Join(onnxTools, "check.py"), model).CombinedOutput()
			if err != nil {
				t.Fatalf("onnx checker: %v\n%s", err, out)
			}
			t.Logf("%s", out)
			const n, h, w = 3, 24, 20
			c := cfg.InChannels
			x := randomInput(n, h, w, c, uint64(i))
			want := features(enc, x)
			in := make([]byte, 4*len(x.Data))
			for b := 0; b < n; b++ {
				for ch := 0; ch < c; ch++ {
					for y := 0; y < h; y++ {
						for xx := 0; xx < w; xx++ {
							v := x.Data[((b*h+y)*w+xx)*c+ch]
							binary.LittleEndian.PutUint32(in[4*(((b*c+ch)*h+y)*w+xx):], math.Float32bits(v))
						}
					}
				}
			}
			inPath, outPath := filepath.Join(dir, "x.bin"), filepath.Join(dir, "y.bin")
			if err := os.WriteFile(inPath, in, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(node, filepath.Join(onnxTools, "run.js"), model, inPath,
				strconv.Itoa(n), strconv.Itoa(c), strconv.Itoa(h), strconv.Itoa(w), outPath)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("onnxruntime: %v\n%s", err, out)
			} else {
				t.Logf("onnxruntime: %s", out)
			}
			raw, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatal(err)
			}
			if len(raw) != 4*len(want) {
				t.Fatalf("onnxruntime returned %d values, want %d", len(raw)/4, len(want))
			}
			got := make([]float32, len(want))
			for j := range got {
				got[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
			}
			d, s := maxAbsDiff(want, got)
			t.Logf("max |go - onnxruntime| = %.3g (max |feature| %.3g)", d, s)
			if d > 1e-4*max(1, s) || s == 0 {
				t.Errorf("onnxruntime features differ from Go's by %g (scale %g)", d, s)
			}
		})
	}
}
