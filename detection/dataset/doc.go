// Package dataset reads object-detection annotations: PASCAL VOC folders
// (JPEGImages, Annotations/*.xml, ImageSets/Main/<split>.txt, the
// "difficult" flag kept), the Penn-Fudan pedestrian database ("PASCAL
// Annotation Version 1.00" text files) and COCO JSON (instances files with
// images, annotations and categories), each as a folder or a .tar/.tgz
// archive read without unpacking.
//
// # Coordinates
//
// Every box is stored in continuous pixel coordinates [X0, X1) × [Y0, Y1)
// with the origin at the top-left corner of the top-left pixel. The
// 1-based inclusive pixel boxes of VOC and Penn-Fudan become
// X0 = xmin − 1, X1 = xmax (detectron2's convention: a box from pixel 1 to
// pixel 10 is 10 wide); COCO's [x, y, w, h] becomes X0 = x, X1 = x + w.
//
// # Errors
//
// Malformed input is an error wrapped in a *FormatError naming the file;
// nothing here panics on user input.
package dataset
