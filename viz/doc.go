// Package viz draws the pictures of the representation commands: a grid
// of query images and their nearest neighbours with captions
// (NeighborGrid) and a 2-D scatter of points coloured by class with a
// legend (Scatter, for t-SNE maps). Pictures are written as PNG files
// atomically (WritePNG).
package viz
