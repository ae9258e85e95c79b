package methods

// DefaultLR is the peak learning rate a method trains with when none is
// given, for SGD with momentum at batch size 256 on small images (for LARS,
// SwAV's 0.6; for AdamW, 1e-3). These are the values the project's recipes
// were measured with: MoCo and the memory-bank methods need a small rate
// (0.06), SimCLR tolerates 0.3; the methods after the survey were set from
// solo-learn's CIFAR recipes scaled to SGD.
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
		return 0.06
	case "swav":
		return 0.3
	case "simsiam", "vicreg", "dino":
		return 0.05
	case "byol", "barlowtwins", "mocov3", "supcon", "supervised":
		return 0.1
	}
	return 0.3
}
