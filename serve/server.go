package serve

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/index"
)

//go:embed static
var static embed.FS

// Config is what a Server serves.
type Config struct {
	Index    *index.Index
	Embedder Embedder // maps uploads into the index's space
	Images   Images   // the index's images; nil: /v1/images answers 404
	TSNE     string   // a t-SNE CSV (TSNEFile) to show; "": none
	Model    string   // what /v1/info reports as the model (a run directory)
	Limits   Limits   // zero fields take DefaultLimits' values
}

// Server answers the API and the page for one index. It is an
// http.Handler; Close stops its embedding and search goroutines.
type Server struct {
	ix      *index.Index
	emb     Embedder
	images  Images
	lim     Limits
	model   string
	tsne    []byte // the /v1/tsne answer; nil: no map
	labels  []string
	metrics *metrics
	mux     *http.ServeMux

	embedLim, searchLim limiter
	embedQ              *batcher[*augment.Image, []float32]
	searchQ             *batcher[searchQuery, []index.Hit]
}

// searchQuery is one query vector waiting for the batched search.
type searchQuery struct {
	vec  []float32
	k    int
	skip int // a row left out of the results (the query's own), or -1
}

// New checks the configuration, loads the t-SNE map and starts the
// batching goroutines.
func New(cfg Config) (*Server, error) {
	if cfg.Index == nil || cfg.Embedder == nil {
		return nil, errors.New("serve: an index and an embedder are required")
	}
	if d := cfg.Embedder.Dim(); d != cfg.Index.D {
		return nil, fmt.Errorf("serve: the index %s holds %d-dimensional vectors, the encoder gives %d (was the index made from another checkpoint or layer?)", cfg.Index.Dir, cfg.Index.D, d)
	}
	lim, def := cfg.Limits, DefaultLimits()
	orDefault(&lim.MaxBytes, def.MaxBytes)
	orDefault(&lim.MaxPixels, def.MaxPixels)
	orDefault(&lim.MaxK, def.MaxK)
	orDefault(&lim.MaxSize, def.MaxSize)
	orDefault(&lim.MaxEmbeds, def.MaxEmbeds)
	orDefault(&lim.MaxSearches, def.MaxSearches)
	orDefault(&lim.MaxBatch, def.MaxBatch)
	s := &Server{ix: cfg.Index, emb: cfg.Embedder, images: cfg.Images, lim: lim, model: cfg.Model, metrics: newMetrics(),
		embedLim: make(limiter, lim.MaxEmbeds), searchLim: make(limiter, lim.MaxSearches+lim.MaxEmbeds)}
	seen := map[string]bool{}
	for _, e := range s.ix.Entries {
		if e.Label != "" && !seen[e.Label] {
			seen[e.Label] = true
			s.labels = append(s.labels, e.Label)
		}
	}
	if cfg.TSNE != "" {
		m, err := readTSNE(cfg.TSNE, s.ix.N)
		if err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		if s.tsne, err = json.Marshal(m); err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
	}
	s.embedQ = newBatcher(lim.MaxEmbeds, lim.MaxBatch, s.embedBatch, func(n int) { s.metrics.batch("embed", n) })
	s.searchQ = newBatcher(lim.MaxSearches+lim.MaxEmbeds, lim.MaxBatch, s.searchBatch, func(n int) { s.metrics.batch("search", n) })
	s.routes()
	return s, nil
}

// orDefault sets *v to def unless it is positive.
func orDefault[T int | int64](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Close stops the batching goroutines; call it after the HTTP server has
// shut down.
func (s *Server) Close() {
	s.embedQ.close()
	s.searchQ.close()
}

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	handle := func(pattern, route string, h http.HandlerFunc) {
		s.mux.Handle(pattern, s.metrics.instrument(route, h))
	}
	handle("POST /v1/embed", "/v1/embed", s.handleEmbed)
	handle("POST /v1/search", "/v1/search", s.handleSearch)
	handle("GET /v1/search", "/v1/search", s.handleSearch)
	handle("GET /v1/images/{row}", "/v1/images", s.handleImage)
	handle("GET /v1/info", "/v1/info", s.handleInfo)
	handle("GET /v1/tsne", "/v1/tsne", s.handleTSNE)
	handle("GET /healthz", "/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "vectors": s.ix.N})
	})
	handle("GET /metrics", "/metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		s.metrics.write(w, s.ix.N, s.ix.D)
	})
	page, _ := fs.Sub(static, "static")
	files := http.FileServerFS(page)
	handle("GET /{$}", "/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, page, "index.html")
	})
	handle("GET /static/", "/static", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		http.StripPrefix("/static", files).ServeHTTP(w, r)
	})
	handle("/", "other", func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := s.mux.Handler(probe); pattern != "/" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, errorf(http.StatusMethodNotAllowed, "%s %s: use %s", r.Method, r.URL.Path, strings.Join(allow, " or ")))
			return
		}
		writeError(w, errorf(http.StatusNotFound, "no route %s %s", r.Method, r.URL.Path))
	})
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'")
	s.mux.ServeHTTP(w, r)
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"encoding the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, e *httpError) {
	if e.code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, e.code, map[string]string{"error": e.msg})
}

var errBusy = &httpError{code: http.StatusServiceUnavailable, msg: "too many requests in progress; retry after a second"}

// embedUpload admits, decodes and embeds the request's image.
func (s *Server) embedUpload(w http.ResponseWriter, r *http.Request) ([]float32, *httpError) {
	if !s.embedLim.tryAcquire() {
		return nil, errBusy
	}
	defer s.embedLim.release()
	img, herr := readImage(w, r, s.lim)
	if herr != nil {
		return nil, herr
	}
	vec, err := s.embedQ.do(r.Context(), ToImage(img, s.emb.Channels()))
	if err != nil {
		return nil, errorf(http.StatusInternalServerError, "embedding: %v", err)
	}
	return vec, nil
}

func (s *Server) embedBatch(imgs []*augment.Image) ([][]float32, error) {
	vecs, err := s.emb.Embed(imgs)
	if err == nil && len(vecs) != len(imgs) {
		err = fmt.Errorf("the embedder answered %d vectors for %d images", len(vecs), len(imgs))
	}
	return vecs, err
}

func (s *Server) searchBatch(qs []searchQuery) ([][]index.Hit, error) {
	k := 0
	flat := make([]float32, 0, len(qs)*s.ix.D)
	for _, q := range qs {
		k = max(k, q.k)
		flat = append(flat, q.vec...)
	}
	hits, err := s.ix.Search(flat, len(qs), k, func(q, row int) bool { return row == qs[q].skip })
	if err != nil {
		return nil, err
	}
	for i, q := range qs {
		hits[i] = hits[i][:min(len(hits[i]), q.k)]
	}
	return hits, nil
}

func (s *Server) handleEmbed(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.RawQuery) > 0 {
		writeError(w, errorf(http.StatusBadRequest, "/v1/embed takes no query parameters"))
		return
	}
	vec, herr := s.embedUpload(w, r)
	if herr != nil {
		writeError(w, herr)
		return
	}
	v := append([]float32(nil), vec...)
	index.Normalize(v)
	writeJSON(w, http.StatusOK, map[string]any{"dim": len(v), "vector": v})
}

// Result is one search hit as /v1/search answers it.
type Result struct {
	Row   int     `json:"row"`
	Score float32 `json:"score"`
	Path  string  `json:"path"`
	Label string  `json:"label"`
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	p, herr := parseSearch(r.URL.RawQuery, s.ix.N, s.lim)
	if herr != nil {
		writeError(w, herr)
		return
	}
	q := searchQuery{k: p.k, skip: p.row}
	if p.row >= 0 {
		q.vec = s.ix.Vectors[p.row*s.ix.D : (p.row+1)*s.ix.D]
	} else {
		if r.Method != http.MethodPost {
			writeError(w, errorf(http.StatusBadRequest, "GET /v1/search needs ?row=N; POST an image to search by it"))
			return
		}
		if q.vec, herr = s.embedUpload(w, r); herr != nil {
			writeError(w, herr)
			return
		}
	}
	if !s.searchLim.tryAcquire() {
		writeError(w, errBusy)
		return
	}
	hits, err := s.searchQ.do(r.Context(), q)
	s.searchLim.release()
	if err != nil {
		writeError(w, errorf(http.StatusInternalServerError, "search: %v", err))
		return
	}
	res := make([]Result, len(hits))
	for i, h := range hits {
		e := s.ix.Entries[h.Row]
		res[i] = Result{Row: h.Row, Score: h.Score, Path: e.Path, Label: e.Label}
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": res})
}

func (s *Server) handleImage(w http.ResponseWriter, r *http.Request) {
	row, err := strconv.Atoi(r.PathValue("row"))
	if err != nil || row < 0 || row >= s.ix.N {
		writeError(w, errorf(http.StatusNotFound, "no row %q in an index of %d", r.PathValue("row"), s.ix.N))
		return
	}
	q := r.URL.Query()
	for name := range q {
		if name != "size" {
			writeError(w, errorf(http.StatusBadRequest, "unknown query parameter %q (want size)", name))
			return
		}
	}
	size, herr := intParam(q, "size", 0, 1, s.lim.MaxSize)
	if herr != nil {
		writeError(w, herr)
		return
	}
	if s.images == nil {
		writeError(w, errorf(http.StatusNotFound, "the server has no images for this index (start it with --images)"))
		return
	}
	b, err := s.images.ReadImage(s.ix.Entries[row].Path)
	if errors.Is(err, ErrNoImage) {
		writeError(w, errorf(http.StatusNotFound, "row %d: %v", row, err))
		return
	} else if err != nil {
		writeError(w, errorf(http.StatusInternalServerError, "row %d: %v", row, err))
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	ct := http.DetectContentType(b)
	webImage := ct == "image/png" || ct == "image/jpeg" || ct == "image/gif" || ct == "image/webp"
	if webImage && (size == 0 || fitsIn(b, size)) {
		w.Header().Set("Content-Type", ct)
		w.Write(b)
		return
	}
	img, herr := decodeBytes(b, s.lim.MaxPixels)
	if herr != nil {
		writeError(w, errorf(http.StatusInternalServerError, "row %d (%s): %s", row, s.ix.Entries[row].Path, herr.msg))
		return
	}
	out := ToImage(img, 3)
	if size > 0 && max(out.W, out.H) > size {
		h, wd := size, size
		if out.W > out.H {
			h = max(1, int(float64(size)*float64(out.H)/float64(out.W)+0.5))
		} else {
			wd = max(1, int(float64(size)*float64(out.W)/float64(out.H)+0.5))
		}
		out = augment.Resize(out, augment.Size{H: h, W: wd}, augment.Bilinear, true)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, toNRGBA(out)); err != nil {
		writeError(w, errorf(http.StatusInternalServerError, "row %d: encoding: %v", row, err))
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Write(buf.Bytes())
}

// fitsIn reports whether an encoded image's longer side is at most size.
func fitsIn(b []byte, size int) bool {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	return err == nil && max(cfg.Width, cfg.Height) <= size
}

func (s *Server) handleInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"vectors": s.ix.N, "dim": s.ix.D, "model": s.model, "labels": s.labels,
		"images": s.images != nil, "tsne": s.tsne != nil,
		"max_k": s.lim.MaxK, "max_bytes": s.lim.MaxBytes, "max_pixels": s.lim.MaxPixels,
	})
}

func (s *Server) handleTSNE(w http.ResponseWriter, r *http.Request) {
	if s.tsne == nil {
		writeError(w, errorf(http.StatusNotFound, "this index has no t-SNE map (%s, written by eval tsne --index)", TSNEFile))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(s.tsne)
}

// Timeouts of the HTTP server Run starts.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 2 * time.Minute
	ShutdownGrace     = 10 * time.Second
)

// NewHTTPServer wraps h in an http.Server with the read, write and idle
// timeouts above.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: ReadHeaderTimeout, ReadTimeout: ReadTimeout,
		WriteTimeout: WriteTimeout, IdleTimeout: IdleTimeout, MaxHeaderBytes: 64 << 10}
}

// Run serves h on ln until ctx ends, then shuts down gracefully: it stops
// accepting, lets requests in progress finish (at most ShutdownGrace) and
// returns nil.
func Run(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := NewHTTPServer(h)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	<-errc
	return nil
}
