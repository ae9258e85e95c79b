// Package eval measures the quality of frozen features the way the
// self-supervised literature does: a weighted k-nearest-neighbour
// classifier on L2-normalised features (Wu et al., InstDisc,
// arXiv:1805.01978) and a linear probe (multinomial logistic regression
// trained with SGD and a cosine schedule on features computed once).
package eval
