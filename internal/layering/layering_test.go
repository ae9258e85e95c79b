package layering

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/contrastive-ssl/contrastive"

// layer gives every package of the module its level; a package may import
// module packages of strictly lower levels only. A new package must be
// added here.
var layer = map[string]int{
	"internal/parallel":    0,
	"internal/layering":    0,
	"internal/npy":         0,
	"internal/fuzzing":     0,
	"internal/version":     0,
	"internal/mpi":         0,
	"dist":                 5,
	"kernels":              1,
	"kernels/kerneltest":   2,
	"tensor":               2,
	"index":                2,
	"internal/safetensors": 3,
	"internal/knn":         3,
	"autograd":             3,
	"augment":              3,
	"autograd/gradcheck":   4,
	"nn":                   4,
	"loss":                 4,
	"optim":                4,
	"checkpoint":           4,
	"data":                 4,
	"video":                4,
	"models":               5,
	"videomodels":          5,
	"detection/dataset":    4,
	"detection":            6,
	"methods":              6,
	"eval":                 6,
	"train":                7,
	"videotrain":           7,
	"internal/benchstep":   6,
	"onnx/onnxpb":          0,
	"export":               6,
	"viz":                  4,
	"tsne":                 2,
	"serve":                8,
	"cmd/contrastive":      9,
}

func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", module+"/...").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		lv, ok := layer[name]
		if !ok {
			t.Errorf("package %s has no layer: add it to the table in internal/layering", p.ImportPath)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			dl, ok := layer[dep]
			if ok && dl >= lv {
				t.Errorf("%s (layer %d) imports %s (layer %d): lower layers must not import higher or equal ones", name, lv, dep, dl)
			}
		}
	}
}
