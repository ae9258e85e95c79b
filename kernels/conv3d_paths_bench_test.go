package kernels

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"
)

// TestConv3dPathTimes prints, per r3d_18 shape, the fastest forward +
// backward of each 3-D path (the default per shape, the tap sum forced)
// over each 2-D kernel choice (the default per map size, direct tiles on
// every map). It only runs with
// CONV3D_PATH_TIMES=1, or =NAME for the one shape NAME (a measurement,
// not a check): the data behind Conv3dShape.tapSum.
func TestConv3dPathTimes(t *testing.T) {
	if os.Getenv("CONV3D_PATH_TIMES") == "" {
		t.Skip("set CONV3D_PATH_TIMES=1 to time the Conv3d paths")
	}
	defer func(tp bool) { conv3dForceTaps = tp }(conv3dForceTaps)
	// rounds alternate the paths, so that load from other processes falls
	// on all of them alike; each keeps its fastest repetition
	shapes := R3DConvShapes()
	if only := os.Getenv("CONV3D_PATH_TIMES"); only != "1" {
		shapes = slices.DeleteFunc(shapes, func(sh Conv3dBenchShape) bool { return sh.Name != only })
	}
	type key struct{ shape, path2, path3 string }
	best := map[key]float64{}
	for round := 0; round < 3; round++ {
		for _, sh := range shapes {
			for _, path2 := range []string{"auto", "direct"} {
				for _, path3 := range []string{"auto", "taps"} {
					restore := setConvPath(path2)
					conv3dForceTaps = path3 == "taps"
					r, err := BenchConv3d([]Conv3dBenchShape{sh}, BenchConvOptions{MinTime: 200 * time.Millisecond})
					restore()
					if err != nil {
						t.Fatal(err)
					}
					k := key{sh.Name, path2, path3}
					if v, ok := best[k]; !ok || r[0].MsMin < v {
						best[k] = r[0].MsMin
					}
				}
			}
		}
	}
	for _, sh := range shapes {
		line := fmt.Sprintf("%-26s", sh.Name)
		for _, path2 := range []string{"auto", "direct"} {
			for _, path3 := range []string{"auto", "taps"} {
				line += fmt.Sprintf("  %s/%s %6.1f", path3, path2, best[key{sh.Name, path2, path3}])
			}
		}
		t.Log(line)
	}
}
