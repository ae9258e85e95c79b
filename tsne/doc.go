// Package tsne embeds high-dimensional points in two dimensions with
// t-distributed stochastic neighbour embedding (van der Maaten & Hinton,
// JMLR 2008), accelerated with the Barnes-Hut approximation (van der
// Maaten, "Accelerating t-SNE using Tree-Based Algorithms", JMLR 2014).
//
// # Algorithm
//
// Input similarities are sparse: each point's 3·perplexity nearest
// neighbours (exact, by a blocked SGEMM of the inputs) get conditional
// probabilities p_j|i ∝ exp(-β_i·|x_i - x_j|²), with β_i found by
// bisection so that the entropy of row i is log(perplexity); P is the
// symmetrised (p_j|i + p_i|j) / 2N. The 2-D points start at N(0, 10⁻⁴)
// and follow gradient descent on KL(P‖Q) with Student-t similarities
//
//	∂C/∂y_i = 4 Σ_j (p_ij − q_ij) (1 + |y_i − y_j|²)⁻¹ (y_i − y_j),
//
// split into an attractive term over P's non-zeros and a repulsive term
// whose sum over all pairs a quadtree approximates: a cell of width w at
// distance d from y_i counts as one point at its centre of mass when
// w/d < θ (θ = 0.5). The optimiser is the reference implementation's:
// early exaggeration 12 for 250 iterations, momentum 0.5 then 0.8,
// per-coordinate gains (delta-bar-delta, +0.2 / ×0.8, floor 0.01) and a
// learning rate of max(N/12, 50) (the "auto" rate of Belkina et al. 2019,
// scikit-learn's default).
//
// The tests compare every fast path with its O(N²) definition on small
// inputs: the neighbour lists, P with all neighbours, the gradient with
// θ = 0 and θ = 0.5, and the final KL divergence with an exact run.
package tsne
