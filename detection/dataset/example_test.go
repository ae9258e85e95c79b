package dataset_test

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/detection/dataset"
)

func ExampleParseVOC() {
	a, err := dataset.ParseVOC([]byte(`<annotation><size><width>640</width><height>480</height></size>
<object><name>RBC</name><difficult>0</difficult><bndbox><xmin>78</xmin><ymin>336</ymin><xmax>184</xmax><ymax>435</ymax></bndbox></object>
</annotation>`))
	if err != nil {
		panic(err)
	}
	b := a.Objects[0].Box(0)
	fmt.Printf("%s: x %g–%g, y %g–%g, %g×%g pixels\n", a.Objects[0].Name, b.X0, b.X1, b.Y0, b.Y1, b.W(), b.H())
	// Output:
	// RBC: x 77–184, y 335–435, 107×100 pixels
}
