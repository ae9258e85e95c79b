package detection

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/contrastive-ssl/contrastive/checkpoint"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
)

// Meta describes a saved detector: enough to rebuild it and to prepare
// its inputs.
type Meta struct {
	Arch      string    `json:"arch"`
	Stem      string    `json:"stem"`
	Width     float64   `json:"width"`
	Classes   []string  `json:"classes"`
	Size      int       `json:"size"` // short side of the inputs, pixels
	Mean      []float32 `json:"mean"`
	Std       []float32 `json:"std"`
	NeckWidth int       `json:"neck_width"`
	HeadWidth int       `json:"head_width"`
	FrozenBN  bool      `json:"frozen_bn"`
	Init      string    `json:"init"` // where the backbone came from
}

// metaKey is the checkpoint metadata key holding Meta as JSON.
const metaKey = "detector"

// Save writes the detector's weights and meta to path atomically.
func Save(path string, m *CenterNet, meta Meta) error {
	b, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("detection: save %s: %w", path, err)
	}
	return checkpoint.SaveModel(path, checkpoint.Entries(nn.State(m)), map[string]string{metaKey: string(b)})
}

// Load rebuilds the detector saved at path.
func Load(path string) (*CenterNet, Meta, error) {
	var meta Meta
	f, err := safetensors.Read(path)
	if err != nil {
		return nil, meta, fmt.Errorf("detection: load %s: %w", path, err)
	}
	s, ok := f.Metadata[metaKey]
	if !ok {
		return nil, meta, fmt.Errorf("detection: load %s: not a detector checkpoint (no %q metadata; written by contrastive detect train)", path, metaKey)
	}
	if err := json.Unmarshal([]byte(s), &meta); err != nil {
		return nil, meta, fmt.Errorf("detection: load %s: bad %q metadata: %w", path, metaKey, err)
	}
	bb, err := models.NewResNet(models.Config{Arch: meta.Arch, Stem: meta.Stem, Width: meta.Width}, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, meta, fmt.Errorf("detection: load %s: %w", path, err)
	}
	m, err := NewCenterNet(bb, len(meta.Classes), meta.NeckWidth, meta.HeadWidth, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, meta, fmt.Errorf("detection: load %s: %w", path, err)
	}
	m.FrozenBN = meta.FrozenBN
	if _, err := checkpoint.LoadModel(path, checkpoint.Entries(nn.State(m)), checkpoint.LoadOptions{}); err != nil {
		return nil, meta, err
	}
	m.SetTraining(false)
	return m, meta, nil
}
