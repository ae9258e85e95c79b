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

// MetaFile, when an index directory holds it, records how the index was
// made: {"data": "PATH[:split]", "checkpoint": "RUN", "image_size": N}.
// `serve` takes its --images, --checkpoint and --image-size defaults from
// it; every field is optional.
const MetaFile = "index.json"

// Meta is the content of MetaFile.
type Meta struct {
	Data       string `json:"data"`
	Checkpoint string `json:"checkpoint"`
	ImageSize  int    `json:"image_size"`
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
