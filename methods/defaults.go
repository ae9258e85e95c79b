package methods

// DefaultLR is the peak learning rate a method trains with when none is
// given, for SGD with momentum at batch size 256 on small images (for LARS,
// SwAV's 0.6; for AdamW, 1e-3). These are the values the project's recipes
// were measured with: MoCo and the memory-bank methods need the paper's
// small rate (0.03–0.06), SimCLR tolerates 0.3.
func DefaultLR(method, optimizer string) float64 {
	switch optimizer {
	case "adamw":
		return 1e-3
	case "lars":
		return 0.6
	}
	switch method {
	case "moco":
		return 0.06
	case "instdisc", "pirl":
		return 0.03
	case "swav":
		return 0.3
	}
	return 0.3
}
