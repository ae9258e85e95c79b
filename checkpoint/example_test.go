package checkpoint_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/contrastive-ssl/contrastive/checkpoint"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
)

// Save a ResNet's weights under torchvision names and load them into a
// freshly built network of the same configuration.
func Example() {
	dir, _ := os.MkdirTemp("", "ckpt")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "resnet18.safetensors")

	cfg := models.Config{Arch: "resnet18", Stem: models.StemCIFAR, Width: 0.125}
	a, _ := models.NewResNet(cfg, rand.New(rand.NewPCG(1, 1)))
	if err := checkpoint.SaveModel(path, checkpoint.Entries(nn.State(a)), map[string]string{"note": "example"}); err != nil {
		fmt.Println(err)
		return
	}

	b, _ := models.NewResNet(cfg, rand.New(rand.NewPCG(2, 2)))
	meta, err := checkpoint.LoadModel(path, checkpoint.Entries(nn.State(b)), checkpoint.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(meta["note"], len(nn.State(b)), a.Conv1.Weight.Data.Data[0] == b.Conv1.Weight.Data.Data[0])

	// A ResNet-34 does not match: the error lists every missing tensor.
	c, _ := models.NewResNet(models.Config{Arch: "resnet34", Stem: models.StemCIFAR, Width: 0.125}, rand.New(rand.NewPCG(3, 3)))
	_, err = checkpoint.LoadModel(path, checkpoint.Entries(nn.State(c)), checkpoint.LoadOptions{})
	var mm *checkpoint.MismatchError
	if errors.As(err, &mm) {
		fmt.Println(len(mm.Missing), "missing, first", mm.Missing[0])
	}
	// Output:
	// example 120 true
	// 96 missing, first layer1.2.conv1.weight
}
