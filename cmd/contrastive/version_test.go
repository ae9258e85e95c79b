package main

import (
	"bytes"
	"regexp"
	"testing"
)

func TestVersionCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"version"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	// A test binary's main module version is "(devel)" or empty.
	if !regexp.MustCompile(`(?m)^contrastive \S+\n(.|\n)*^checkpoint format contrastive 1$`).MatchString(out.String()) {
		t.Fatalf("version output:\n%s", out.String())
	}
	if code := run([]string{"version", "x"}, &out, &errb); code != 2 {
		t.Fatalf("version x: exit %d, want 2", code)
	}
}
