package serve

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestDirImagesStayInside(t *testing.T) {
	top := t.TempDir()
	root := filepath.Join(top, "images")
	os.MkdirAll(filepath.Join(root, "a"), 0o755)
	os.WriteFile(filepath.Join(root, "a", "ok.png"), []byte("inside"), 0o644)
	os.WriteFile(filepath.Join(top, "secret.png"), []byte("outside"), 0o644)
	if err := os.Symlink(filepath.Join(top, "secret.png"), filepath.Join(root, "a", "link.png")); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	os.Symlink(top, filepath.Join(root, "up"))
	im, err := OpenImages(root, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := im.ReadImage("a/ok.png"); err != nil || string(b) != "inside" {
		t.Fatalf("a/ok.png: %q %v", b, err)
	}
	for _, p := range []string{"../secret.png", "a/../../secret.png", "/etc/passwd", filepath.Join(top, "secret.png"),
		"a/link.png", "up/secret.png", "a", "", ".", "a/missing.png", "a\x00.png"} {
		b, err := im.ReadImage(p)
		if !errors.Is(err, ErrNoImage) || b != nil {
			t.Errorf("ReadImage(%q) = %q, %v; want ErrNoImage", p, b, err)
		}
	}
}

func TestImagesEscapeThroughTheServer(t *testing.T) {
	f := newFixture(t, 6, Limits{}, false)
	secret := filepath.Join(filepath.Dir(f.root), "secret.png")
	os.WriteFile(secret, f.pngs[0], 0o644)
	// An index entry that points outside the image root is refused too.
	f.ix.Entries[2].Path = "../" + filepath.Base(secret)
	f.ix.Entries[3].Path = secret
	for _, row := range []string{"2", "3"} {
		resp := f.do(t, "GET", "/v1/images/"+row, "", nil)
		if resp.StatusCode != 404 {
			t.Fatalf("row %s with an escaping path: %s, want 404", row, resp.Status)
		}
	}
	for _, p := range []string{"/v1/images/..%2F..%2Fsecret.png", "/v1/images/../../secret.png", "/v1/images/1/../../x"} {
		if resp := f.do(t, "GET", p, "", nil); resp.StatusCode == 200 {
			t.Fatalf("%s answered 200", p)
		}
	}
}

func writeTar(t *testing.T, path string, gz bool, members map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range members {
		typ := byte(tar.TypeReg)
		if body == "<dir>" {
			typ, body = tar.TypeDir, ""
		}
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: typ, Size: int64(len(body)), Mode: 0o644})
		tw.Write([]byte(body))
	}
	tw.Close()
	b := buf.Bytes()
	if gz {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(b)
		zw.Close()
		b = z.Bytes()
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestArchiveImages(t *testing.T) {
	dir := t.TempDir()
	members := map[string]string{
		"cifar/": "<dir>", "cifar/test/cat/1.png": "cat1", "cifar/test/dog/2.png": "dog2",
		"cifar/train/cat/3.png": "cat3", "cifar/README.md": "readme", "../evil.png": "evil",
	}
	for _, name := range []string{"x.tgz", "x.tar"} {
		p := filepath.Join(dir, name)
		writeTar(t, p, name == "x.tgz", members)
		im, err := OpenImages(p, []string{"test/cat/1.png", "cifar/test/dog/2.png", "evil.png", "../evil.png", "test/bird/9.png"}, 100)
		if err != nil {
			t.Fatal(err)
		}
		for p, want := range map[string]string{"test/cat/1.png": "cat1", "cifar/test/dog/2.png": "dog2"} {
			if b, err := im.ReadImage(p); err != nil || string(b) != want {
				t.Errorf("%s: %s: %q %v, want %q", name, p, b, err, want)
			}
		}
		// Members the index does not name are not read; neither are
		// members whose names leave the archive's root.
		for _, p := range []string{"train/cat/3.png", "cifar/train/cat/3.png", "README.md", "test/bird/9.png", "../evil.png", "evil.png"} {
			if _, err := im.ReadImage(p); !errors.Is(err, ErrNoImage) {
				t.Errorf("%s: %s: %v, want ErrNoImage", name, p, err)
			}
		}
		if _, err := OpenImages(p, []string{"test/cat/1.png", "cifar/test/dog/2.png"}, 5); err == nil {
			t.Errorf("%s: 8 bytes of members under a limit of 5: no error", name)
		}
	}
	if _, err := OpenImages(filepath.Join(dir, "x.zip"), nil, 1); err == nil {
		t.Error("a missing file: no error")
	}
	os.WriteFile(filepath.Join(dir, "y.zip"), []byte("PK"), 0o644)
	if _, err := OpenImages(filepath.Join(dir, "y.zip"), nil, 1); err == nil {
		t.Error("a zip file: no error")
	}
}

func TestDatasetImages(t *testing.T) {
	root := t.TempDir()
	var want [][]byte
	for i, class := range []string{"a", "a", "b"} {
		os.MkdirAll(filepath.Join(root, "test", class), 0o755)
		b := encodePNG(t, colourImage(i, 3, 8, 6))
		want = append(want, b)
		os.WriteFile(filepath.Join(root, "test", class, string(rune('0'+i))+".png"), b, 0o644)
	}
	ref := root + ":test"
	im, err := OpenImages(ref, []string{ref + "#0", ref + "#1", ref + "#2"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		b, err := im.ReadImage(ref + "#" + strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := png.Decode(bytes.NewReader(b))
		orig, _ := png.Decode(bytes.NewReader(w))
		if got.Bounds() != orig.Bounds() || color.NRGBAModel.Convert(got.At(3, 1)) != color.NRGBAModel.Convert(orig.At(3, 1)) {
			t.Fatalf("image %d: %v %v, want %v %v", i, got.Bounds(), got.At(3, 1), orig.Bounds(), orig.At(3, 1))
		}
	}
	for _, p := range []string{ref + "#3", ref + "#-1", ref + "#01", ref + "#x", root + ":train#0", "#0", ref} {
		if _, err := im.ReadImage(p); !errors.Is(err, ErrNoImage) {
			t.Errorf("ReadImage(%q): %v, want ErrNoImage", p, err)
		}
	}
	// A plain folder reference does not take NAME#i paths of another split.
	if _, err := OpenImages(root, []string{ref + "#0"}, 0); err != nil {
		t.Fatalf("folder: %v", err)
	}
}
