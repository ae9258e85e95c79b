// Package serve answers image-search questions about an embedded
// collection over HTTP: a JSON API under /v1 and a web page at /, built on
// net/http.
//
// # API
//
//	POST /v1/embed               an image → {"dim", "vector"} (unit length)
//	POST /v1/search?k=10         an image → {"results": [{"row", "score", "path", "label"}, ...]}, best first
//	GET|POST /v1/search?row=N&k= the same from an index row (the row itself left out)
//	GET  /v1/images/{row}?size=N the row's image; with size, shrunk so that its longer side is at most N
//	GET  /v1/info                index size, dimension, labels, whether a t-SNE map is present
//	GET  /v1/tsne                the map's points (404 without one)
//	GET  /healthz                liveness
//	GET  /metrics                Prometheus text: requests, latency histograms, index size
//
// An image is sent as the raw request body (Content-Type: image/png,
// image/jpeg, image/gif or image/webp) or as the multipart form field
// "image". Errors are JSON objects {"error": "..."}: 400 for a malformed
// request or image, 404 for a row or route that does not exist, 413 for an
// upload over the byte or pixel limit, 415 for a body that is not an
// image, 503 with Retry-After when the embedding or search queue is full.
//
// # Concurrency
//
// The engine's autograd state is global, so forward passes run one at a
// time: uploads are decoded in the request goroutines, then queued for one
// embedding goroutine that runs whatever has queued up as one batch.
// Searches are batched the same way into one SGEMM over the index. Both
// queues are bounded (Limits.MaxEmbeds, Limits.MaxSearches); past the
// bound a request is answered 503 at once instead of waiting.
//
// # Files
//
// Only the images named in the index are served, by row: a path from
// index.csv is opened under the image root with os.Root (a folder) or
// looked up among the members read from an archive, so neither a request
// nor an index entry can reach a file outside the images.
package serve
