package fuzzing

import (
	"testing"
)

var sink []byte

func TestBytes(t *testing.T) {
	for _, n := range []int{0, 1 << 20, 64 << 20} {
		got := Bytes(func() { sink = make([]byte, n) })
		if got < uint64(n) || got > uint64(n)+Slack {
			t.Errorf("make(%d): measured %d bytes, want [%d, %d]", n, got, n, n+Slack)
		}
	}
}

func TestEncode(t *testing.T) {
	got := string(Encode([]byte("a\x00\xff\""), "é", true, -3))
	want := "go test fuzz v1\n[]byte(\"a\\x00\\xff\\\"\")\nstring(\"é\")\nbool(true)\nint(-3)\n"
	if got != want {
		t.Errorf("Encode = %q, want %q", got, want)
	}
}
