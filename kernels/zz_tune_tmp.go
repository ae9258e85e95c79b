package kernels

// TEMPORARY tuning hook (to be deleted).
import (
	"fmt"
	"os"
)

func init() {
	if s := os.Getenv("GEMM_TUNE"); s != "" {
		k := sgemmKernel
		if os.Getenv("GEMM_TUNE_IMPL") == "avx2" {
			k = avx2Kernel
		}
		fmt.Sscanf(s, "%d,%d,%d", &k.kc, &k.mc, &k.nc)
	}
}
