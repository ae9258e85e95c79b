package eval

import (
	"github.com/contrastive-ssl/contrastive/internal/knn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Result holds classification accuracies in [0, 1].
type Result struct {
	Top1 float64 `json:"top1"`
	Top5 float64 `json:"top5"`
}

// KNNConfig configures the weighted kNN classifier.
type KNNConfig = knn.Config

// KNN classifies every test feature by a vote of its K nearest training
// features under cosine similarity, each neighbour weighted by
// exp(similarity / T) as in InstDisc, and returns top-1/top-5 accuracy.
//
//	train [N, D], test [M, D]; labels in [0, NumClasses)
//
// Features are L2-normalised here (copies; the inputs are not modified).
func KNN(train *tensor.Tensor, trainLabels []int, test *tensor.Tensor, testLabels []int, cfg KNNConfig) (Result, error) {
	top1, top5, err := knn.Classify(train, trainLabels, test, testLabels, cfg)
	return Result{Top1: top1, Top5: top5}, err
}
