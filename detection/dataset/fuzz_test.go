package dataset

import (
	"testing"
)

// The fuzz targets check that the parsers never panic and that whatever
// they accept satisfies their documented invariants. Seeds are the
// samples of the unit tests plus the files under testdata/fuzz.

func FuzzParseVOC(f *testing.F) {
	f.Add([]byte(vocSample))
	f.Add([]byte(`<annotation><object><name>a</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object></annotation>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseVOC(b)
		if err != nil {
			return
		}
		for _, o := range a.Objects {
			if bx := o.Box(0); !bx.valid() || o.Name == "" {
				t.Fatalf("accepted invalid object %+v", o)
			}
		}
	})
}

func FuzzParsePennFudan(f *testing.F) {
	f.Add([]byte(pfSample))
	f.Add([]byte("Bounding box for object 1 \"x\" (Xmin, Ymin) - (Xmax, Ymax) : (1, 2) - (3, 4)\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParsePennFudan(b)
		if err != nil {
			return
		}
		for _, bx := range a.Boxes {
			if bx[2] < bx[0] || bx[3] < bx[1] {
				t.Fatalf("accepted box %v", bx)
			}
		}
	})
}

func FuzzParseCOCO(f *testing.F) {
	f.Add([]byte(cocoSample))
	f.Add([]byte(`{"images":[{"id":1,"file_name":"a.png"}],"categories":[{"id":1,"name":"a"}],"annotations":[{"image_id":1,"category_id":1,"bbox":[0,0,1,1]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCOCO(b)
		if err != nil {
			return
		}
		d := c.Dataset(func(string) ([]byte, error) { return nil, nil }, func(s string) string { return s })
		if len(d.Classes) != len(c.Categories) || len(d.Samples) != len(c.Images) {
			t.Fatalf("dataset of %d classes, %d samples from %d categories, %d images", len(d.Classes), len(d.Samples), len(c.Categories), len(c.Images))
		}
		for _, s := range d.Samples {
			for _, bx := range s.Boxes {
				if !bx.valid() || bx.Class < 0 || bx.Class >= len(d.Classes) {
					t.Fatalf("accepted box %+v", bx)
				}
			}
		}
	})
}
