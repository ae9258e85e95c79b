package models

// SetInferBudget sets the Inference buffer budget (floats) and returns the
// previous one (tests).
func SetInferBudget(n int) int {
	old := inferBudget
	inferBudget = n
	return old
}
