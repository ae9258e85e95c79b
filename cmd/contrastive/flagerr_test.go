package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigErrorMessages: a bad value names its source (the file and
// line, or the flag), the key and the type or range wanted, before any
// work starts (exit status 2).
func TestConfigErrorMessages(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfgFile, []byte("epochs: 2\nbatch_size: many\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unknown := filepath.Join(dir, "u.yaml")
	if err := os.WriteFile(unknown, []byte("method: simclr\nbatchsize: 8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rangeFile := filepath.Join(dir, "r.yaml")
	if err := os.WriteFile(rangeFile, []byte("epochs: 2\nmomentum: 1.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--config", cfgFile}, "pretrain: config " + cfgFile + `: line 2: batch_size: "many" is not an integer`},
		{[]string{"--config", unknown}, "pretrain: config " + unknown + ": line 2: batchsize: unknown key (known keys: "},
		{[]string{"--config", rangeFile}, "pretrain: config " + rangeFile + ": line 2: momentum: 1.5, want 0 <= momentum < 1"},
		{[]string{"--config", rangeFile, "--momentum", "0.9", "--epochs", "0"}, "pretrain: flag --epochs: 0, want >= 1"},
		{[]string{"--batch-size", "many"}, `pretrain: flag --batch-size: "many" is not an integer`},
		{[]string{"--batch-size", "1"}, "pretrain: flag --batch-size: 1, want >= 2"},
		{[]string{"--lr", "-0.1"}, "pretrain: flag --lr: -0.1, want > 0"},
		{[]string{"--seed", "-3"}, `pretrain: flag --seed: "-3" is not a non-negative integer`},
		{[]string{"--proj-bn=maybe"}, `pretrain: flag --proj-bn: "maybe" is not true or false`},
		{[]string{"--method", "moco", "--moco-momentum", "3"}, "pretrain: flag --moco-momentum: 3, want 0 < m < 1"},
		{[]string{"--nope"}, "pretrain: flag provided but not defined: -nope (run 'contrastive pretrain -h' for the flags)"},
	} {
		var out, errb bytes.Buffer
		code := run(append([]string{"pretrain", "--out", filepath.Join(dir, "run")}, c.args...), &out, &errb)
		if code != 2 || !strings.HasPrefix(errb.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", c.args, code, errb.String(), c.want)
		}
	}
	for _, c := range [][]string{{"eval", "knn", "--k", "many"}, {"model", "summary", "--width", "wide"}} {
		var out, errb bytes.Buffer
		if code := run(c, &out, &errb); code != 2 || !strings.Contains(errb.String(), "flag --") || !strings.Contains(errb.String(), " is not ") {
			t.Errorf("%v: exit %d, stderr %q", c, code, errb.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "run")); !os.IsNotExist(err) {
		t.Errorf("a run directory was created before the configuration was checked: %v", err)
	}
}
