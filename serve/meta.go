package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MetaFile, when an index directory holds it, records how `contrastive
// embed` made the index: {"checkpoint": RUN, "data": "PATH[:split]",
// "layer": "pool", "size": N, ...}. `serve` takes its --checkpoint,
// --images and --image-size defaults from it; every field is optional.
const MetaFile = "embed.json"

// Meta is the part of MetaFile that serve reads.
type Meta struct {
	Checkpoint string `json:"checkpoint,omitempty"`
	Init       string `json:"init,omitempty"` // torchvision-format weights instead of a run
	Data       string `json:"data,omitempty"`
	Layer      string `json:"layer,omitempty"` // "pool" (or ""): the encoder's pooled features
	Size       int    `json:"size,omitempty"`  // side of the encoder's input
}

// ReadMeta reads dir's MetaFile; a missing file is an empty Meta.
func ReadMeta(dir string) (Meta, error) {
	var m Meta
	b, err := os.ReadFile(filepath.Join(dir, MetaFile))
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return m, fmt.Errorf("index: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("index: %s: %w", filepath.Join(dir, MetaFile), err)
	}
	return m, nil
}

// DataPath is the file or folder of a dataset reference PATH[:split].
func DataPath(ref string) string {
	if i := strings.LastIndexByte(ref, ':'); i > 0 && (ref[i+1:] == "train" || ref[i+1:] == "test") {
		return ref[:i]
	}
	return ref
}
