package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"math"
	"mime/multipart"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

type searchAnswer struct {
	Results []Result `json:"results"`
	Error   string   `json:"error"`
}

func decodeJSON[T any](t *testing.T, resp *http.Response) T {
	t.Helper()
	var v T
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v in %q", resp.Request.URL, err, b)
	}
	return v
}

func multipartBody(t *testing.T, field string, data []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("note", "ignored")
	fw, err := mw.CreateFormFile(field, "query.png")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// bruteForce ranks the fixture's rows by cosine similarity to q in float64.
func bruteForce(f *fixture, q []float32, skip int) []Result {
	var all []Result
	for r := 0; r < f.ix.N; r++ {
		if r == skip {
			continue
		}
		v := f.ix.Vectors[r*f.ix.D : (r+1)*f.ix.D]
		var qq, vv, qv float64
		for i := range q {
			qq += float64(q[i]) * float64(q[i])
			vv += float64(v[i]) * float64(v[i])
			qv += float64(q[i]) * float64(v[i])
		}
		all = append(all, Result{Row: r, Score: float32(qv / math.Sqrt(qq*vv)), Path: f.ix.Entries[r].Path, Label: f.ix.Entries[r].Label})
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Score > all[j].Score })
	return all
}

func checkResults(t *testing.T, what string, got, want []Result, k int) {
	t.Helper()
	if len(got) != k {
		t.Fatalf("%s: %d results, want %d", what, len(got), k)
	}
	for i := range got {
		if got[i].Row != want[i].Row || math.Abs(float64(got[i].Score-want[i].Score)) > 1e-5 || got[i].Path != want[i].Path || got[i].Label != want[i].Label {
			t.Fatalf("%s: result %d is %+v, want %+v", what, i, got[i], want[i])
		}
		if i > 0 && got[i].Score > got[i-1].Score {
			t.Fatalf("%s: results not best first: %v", what, got)
		}
	}
}

func TestSearchByUpload(t *testing.T) {
	f := newFixture(t, 40, Limits{}, false)
	const q = 17
	img, _, _ := image.Decode(bytes.NewReader(f.pngs[q]))
	want := bruteForce(f, meanVec(ToImage(img, 3)), -1)
	mp, mpType := multipartBody(t, "image", f.pngs[q])
	for _, c := range []struct {
		name, ct string
		body     []byte
		k        int
	}{
		{"raw", "image/png", f.pngs[q], 7},
		{"raw-default-k", "image/png", f.pngs[q], 10},
		{"multipart", mpType, mp, 5},
	} {
		path := "/v1/search"
		if c.name != "raw-default-k" {
			path += "?k=" + string(rune('0'+c.k))
		}
		resp := f.do(t, "POST", path, c.ct, c.body)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %s", c.name, resp.Status)
		}
		ans := decodeJSON[searchAnswer](t, resp)
		checkResults(t, c.name, ans.Results, want, c.k)
		if ans.Results[0].Row != q || ans.Results[0].Score < 0.99999 {
			t.Fatalf("%s: best result %+v, want row %d with score 1", c.name, ans.Results[0], q)
		}
	}
}

func TestSearchByRow(t *testing.T) {
	f := newFixture(t, 40, Limits{}, false)
	for _, method := range []string{"GET", "POST"} {
		const row = 3
		ans := decodeJSON[searchAnswer](t, f.do(t, method, "/v1/search?row=3&k=6", "", nil))
		checkResults(t, method, ans.Results, bruteForce(f, f.ix.Vectors[row*4:row*4+4], row), 6)
	}
	// k larger than the index: every other row.
	ans := decodeJSON[searchAnswer](t, f.do(t, "GET", "/v1/search?row=0&k=100", "", nil))
	if len(ans.Results) != 39 {
		t.Fatalf("k=100 over 40 rows: %d results, want 39", len(ans.Results))
	}
}

func TestConcurrentSearchesBatch(t *testing.T) {
	f := newFixture(t, 40, Limits{}, false)
	// Hold the embedder so that uploads queue up, then release them: they
	// must run as one batch and each get its own answer.
	f.emb.gate = make(chan struct{})
	f.emb.entered = make(chan struct{}, 16)
	const n = 6
	type out struct {
		q   int
		ans searchAnswer
	}
	done := make(chan out, n+1)
	go func() {
		resp := f.do(t, "POST", "/v1/search?k=3", "image/png", f.pngs[0])
		done <- out{0, decodeJSON[searchAnswer](t, resp)}
	}()
	<-f.emb.entered // the first upload is being embedded; the rest queue
	for q := 1; q <= n; q++ {
		go func() {
			resp := f.do(t, "POST", "/v1/search?k=3", "image/png", f.pngs[q*5])
			done <- out{q * 5, decodeJSON[searchAnswer](t, resp)}
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(f.srv.embedQ.in) < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(f.emb.gate)
	for i := 0; i <= n; i++ {
		o := <-done
		if len(o.ans.Results) != 3 || o.ans.Results[0].Row != o.q {
			t.Fatalf("query %d: %+v", o.q, o.ans)
		}
	}
	f.emb.mu.Lock()
	defer f.emb.mu.Unlock()
	if len(f.emb.calls) != 2 || f.emb.calls[0] != 1 || f.emb.calls[1] != n {
		t.Fatalf("embedding batches %v, want [1 %d]", f.emb.calls, n)
	}
}

func TestEmbed(t *testing.T) {
	f := newFixture(t, 10, Limits{}, false)
	ans := decodeJSON[struct {
		Dim    int       `json:"dim"`
		Vector []float32 `json:"vector"`
	}](t, f.do(t, "POST", "/v1/embed", "image/png", f.pngs[4]))
	if ans.Dim != 4 || len(ans.Vector) != 4 {
		t.Fatalf("embed: %+v", ans)
	}
	want := f.ix.Vectors[4*4 : 5*4]
	for i := range want {
		if math.Abs(float64(ans.Vector[i]-want[i])) > 1e-6 {
			t.Fatalf("embed: %v, want the index's row 4 %v", ans.Vector, want)
		}
	}
}

func TestImages(t *testing.T) {
	f := newFixture(t, 10, Limits{}, false)
	resp := f.do(t, "GET", "/v1/images/4", "", nil)
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !bytes.Equal(b, f.pngs[4]) {
		t.Fatalf("original image: %s %s, %d bytes (want the file's %d)", resp.Status, resp.Header.Get("Content-Type"), len(b), len(f.pngs[4]))
	}
	for _, c := range []struct {
		size, w, h int
	}{{48, 24, 16}, {24, 24, 16}, {12, 12, 8}, {7, 7, 5}} {
		resp := f.do(t, "GET", "/v1/images/4?size="+itoa(c.size), "", nil)
		img, err := png.Decode(resp.Body)
		if err != nil || img.Bounds().Dx() != c.w || img.Bounds().Dy() != c.h {
			t.Fatalf("size=%d: %v %v, want %dx%d", c.size, err, img.Bounds(), c.w, c.h)
		}
		// The resized image keeps the colour of the original.
		r, g, bl, _ := img.At(c.w-1, 0).RGBA()
		orig := colourImage(4, 10, 24, 16).NRGBAAt(23, 0)
		if d := math.Abs(float64(r>>8)-float64(orig.R)) + math.Abs(float64(g>>8)-float64(orig.G)) + math.Abs(float64(bl>>8)-float64(orig.B)); d > 6 {
			t.Fatalf("size=%d: corner colour %d,%d,%d, want %v", c.size, r>>8, g>>8, bl>>8, orig)
		}
	}
	for path, code := range map[string]int{
		"/v1/images/10": 404, "/v1/images/-1": 404, "/v1/images/x": 404, "/v1/images/1?size=0": 400,
		"/v1/images/1?size=5000": 400, "/v1/images/1?size=a": 400, "/v1/images/1?width=3": 400, "/v1/images/": 404,
	} {
		if resp := f.do(t, "GET", path, "", nil); resp.StatusCode != code {
			t.Errorf("%s: %s, want %d", path, resp.Status, code)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestLimits(t *testing.T) {
	f := newFixture(t, 10, Limits{MaxBytes: 4000, MaxPixels: 1000, MaxK: 20}, false)
	big := make([]byte, 5000)
	copy(big, f.pngs[0])
	huge := encodePNG(t, image.NewGray(image.Rect(0, 0, 100, 11))) // 1100 pixels, a few hundred bytes
	mpHuge, mpType := multipartBody(t, "image", huge)
	mpOther, mpOtherType := multipartBody(t, "photo", f.pngs[0])
	mpBig, mpBigType := multipartBody(t, "image", big)
	for _, c := range []struct {
		name, method, path, ct string
		body                   []byte
		code                   int
		msg                    string
	}{
		{"body over the byte limit", "POST", "/v1/search", "image/png", big, 413, "larger than the limit of 4000 bytes"},
		{"multipart over the byte limit", "POST", "/v1/embed", mpBigType, mpBig, 413, "limit of 4000 bytes"},
		{"image over the pixel limit", "POST", "/v1/search", "image/png", huge, 413, "100×11 = 1100 pixels, the limit is 1000"},
		{"multipart over the pixel limit", "POST", "/v1/embed", mpType, mpHuge, 413, "the limit is 1000"},
		{"not an image", "POST", "/v1/search", "image/png", []byte("hello"), 400, "not a readable"},
		{"empty body", "POST", "/v1/embed", "image/jpeg", nil, 400, "empty image"},
		{"truncated PNG", "POST", "/v1/embed", "image/png", f.pngs[0][:60], 400, "decoding the png image"},
		{"no content type", "POST", "/v1/search", "", f.pngs[0], 415, "no Content-Type"},
		{"text body", "POST", "/v1/search", "text/plain", f.pngs[0], 415, "text/plain"},
		{"bad content type", "POST", "/v1/search", "image/png; =x", f.pngs[0], 400, "Content-Type"},
		{"multipart without boundary", "POST", "/v1/search", "multipart/form-data", f.pngs[0], 400, "boundary"},
		{"multipart without the field", "POST", "/v1/search", mpOtherType, mpOther, 400, "no field \"image\""},
		{"k too large", "POST", "/v1/search?k=21", "image/png", f.pngs[0], 400, "k=21: want 1 to 20"},
		{"k zero", "GET", "/v1/search?row=1&k=0", "", nil, 400, "k=0"},
		{"k not a number", "GET", "/v1/search?row=1&k=ten", "", nil, 400, "not an integer"},
		{"k twice", "GET", "/v1/search?row=1&k=1&k=2", "", nil, 400, "given 2 times"},
		{"row out of range", "GET", "/v1/search?row=10", "", nil, 404, "row=10"},
		{"negative row", "GET", "/v1/search?row=-1", "", nil, 404, "row=-1"},
		{"row not a number", "GET", "/v1/search?row=one", "", nil, 400, "not an integer"},
		{"unknown parameter", "GET", "/v1/search?row=1&q=2", "", nil, 400, "unknown query parameter \"q\""},
		{"bad query", "GET", "/v1/search?row=1&k=%zz", "", nil, 400, "query"},
		{"GET without row", "GET", "/v1/search", "", nil, 400, "needs ?row=N"},
		{"embed with a query", "POST", "/v1/embed?k=3", "image/png", f.pngs[0], 400, "no query parameters"},
		{"wrong method", "DELETE", "/v1/search", "", nil, 405, "use GET or POST"},
		{"wrong method for embed", "GET", "/v1/embed", "", nil, 405, "use POST"},
		{"unknown route", "GET", "/v2/search", "", nil, 404, "no route GET /v2/search"},
	} {
		resp := f.do(t, c.method, c.path, c.ct, c.body)
		var e struct{ Error string }
		b, _ := io.ReadAll(resp.Body)
		json.Unmarshal(b, &e)
		if resp.StatusCode != c.code || e.Error == "" || !strings.Contains(e.Error, c.msg) {
			t.Errorf("%s: %s %q, want %d with %q", c.name, resp.Status, b, c.code, c.msg)
		}
		if resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: Content-Type %q, want application/json", c.name, resp.Header.Get("Content-Type"))
		}
	}
}

func TestBusy(t *testing.T) {
	f := newFixture(t, 10, Limits{MaxEmbeds: 2}, false)
	f.emb.gate = make(chan struct{})
	f.emb.entered = make(chan struct{}, 4)
	codes := make(chan int, 2)
	for range 2 {
		go func() {
			resp := f.do(t, "POST", "/v1/embed", "image/png", f.pngs[1])
			codes <- resp.StatusCode
		}()
	}
	<-f.emb.entered // one embedding runs, the other is admitted and queued
	deadline := time.Now().Add(10 * time.Second)
	for len(f.srv.embedLim) < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	for _, path := range []string{"/v1/embed", "/v1/search"} {
		resp := f.do(t, "POST", path, "image/png", f.pngs[2])
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" {
			t.Fatalf("%s past the embedding limit: %s, Retry-After %q; want 503 with Retry-After: 1", path, resp.Status, resp.Header.Get("Retry-After"))
		}
	}
	// Searches by row need no embedding and still pass.
	if resp := f.do(t, "GET", "/v1/search?row=1", "", nil); resp.StatusCode != 200 {
		t.Fatalf("row search while embeddings are busy: %s", resp.Status)
	}
	close(f.emb.gate)
	for range 2 {
		if c := <-codes; c != 200 {
			t.Fatalf("admitted embedding answered %d", c)
		}
	}
	if resp := f.do(t, "POST", "/v1/embed", "image/png", f.pngs[2]); resp.StatusCode != 200 {
		t.Fatalf("after the queue drained: %s", resp.Status)
	}
}

func TestHealthzAndMetrics(t *testing.T) {
	f := newFixture(t, 12, Limits{}, false)
	h := decodeJSON[map[string]any](t, f.do(t, "GET", "/healthz", "", nil))
	if h["status"] != "ok" || h["vectors"] != 12.0 {
		t.Fatalf("healthz: %v", h)
	}
	f.do(t, "GET", "/v1/search?row=1", "", nil)
	f.do(t, "GET", "/v1/search?row=2", "", nil)
	f.do(t, "GET", "/v1/search?row=99", "", nil)
	f.do(t, "POST", "/v1/embed", "image/png", f.pngs[0])
	resp := f.do(t, "GET", "/metrics", "", nil)
	b, _ := io.ReadAll(resp.Body)
	text := string(b)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("metrics Content-Type %q", resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`contrastive_http_requests_total{route="/v1/search",code="200"} 2`,
		`contrastive_http_requests_total{route="/v1/search",code="404"} 1`,
		`contrastive_http_requests_total{route="/v1/embed",code="200"} 1`,
		`contrastive_http_requests_total{route="/healthz",code="200"} 1`,
		`contrastive_http_request_duration_seconds_bucket{route="/v1/search",le="+Inf"} 3`,
		`contrastive_http_request_duration_seconds_count{route="/v1/search"} 3`,
		`contrastive_http_request_duration_seconds_bucket{route="/v1/search",le="10"} 3`,
		`contrastive_batch_size_count{queue="search"} 2`,
		`contrastive_batch_size_bucket{queue="embed",le="1"} 1`,
		"# TYPE contrastive_http_request_duration_seconds histogram",
		"contrastive_index_vectors 12\n", "contrastive_index_dimension 4\n", "process_cpu_seconds_total ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q:\n%s", want, text)
		}
	}
	// Buckets are cumulative: never decreasing along a route.
	var last float64 = -1
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, `contrastive_http_request_duration_seconds_bucket{route="/v1/search"`) {
			v, _ := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
			if v < last {
				t.Fatalf("bucket counts decrease: %s", line)
			}
			last = v
		}
	}
}

func TestInfoAndTSNE(t *testing.T) {
	f := newFixture(t, 12, Limits{}, false)
	if resp := f.do(t, "GET", "/v1/tsne", "", nil); resp.StatusCode != 404 {
		t.Fatalf("tsne without a map: %s", resp.Status)
	}
	info := decodeJSON[map[string]any](t, f.do(t, "GET", "/v1/info", "", nil))
	if info["vectors"] != 12.0 || info["dim"] != 4.0 || info["tsne"] != false || info["images"] != true || len(info["labels"].([]any)) != 3 {
		t.Fatalf("info: %v", info)
	}
	g := newFixture(t, 12, Limits{}, true)
	m := decodeJSON[tsneMap](t, g.do(t, "GET", "/v1/tsne", "", nil))
	if len(m.Rows) != 12 || m.X[7] != 2.5 || m.Y[7] != 1 || m.Labels[m.Label[7]] != "class1" || len(m.Labels) != 3 {
		t.Fatalf("tsne: %+v", m)
	}
	if info := decodeJSON[map[string]any](t, g.do(t, "GET", "/v1/info", "", nil)); info["tsne"] != true {
		t.Fatalf("info with a map: %v", info)
	}
}

func TestPage(t *testing.T) {
	f := newFixture(t, 5, Limits{}, false)
	for path, want := range map[string]string{
		"/":                 `<script src="/static/app.js">`,
		"/static/app.js":    "searchRow",
		"/static/style.css": ".result",
	} {
		resp := f.do(t, "GET", path, "", nil)
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %s, %d bytes, want %q", path, resp.Status, len(b), want)
		}
	}
	if resp := f.do(t, "GET", "/static/../server.go", "", nil); resp.StatusCode == 200 {
		t.Fatal("/static/../server.go was served")
	}
}

func TestTimeoutsSet(t *testing.T) {
	s := NewHTTPServer(http.NotFoundHandler())
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.WriteTimeout <= 0 || s.IdleTimeout <= 0 || s.MaxHeaderBytes <= 0 {
		t.Fatalf("server without timeouts: %+v", s)
	}
}

func TestGracefulShutdown(t *testing.T) {
	f := newFixture(t, 10, Limits{}, false)
	f.emb.gate = make(chan struct{})
	f.emb.entered = make(chan struct{}, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- Run(ctx, ln, f.srv) }()
	url := "http://" + ln.Addr().String()
	status := make(chan int, 1)
	go func() {
		resp, err := http.Post(url+"/v1/embed", "image/png", bytes.NewReader(f.pngs[3]))
		if err != nil {
			status <- -1
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	<-f.emb.entered
	cancel() // as SIGTERM does: stop accepting, finish what is running
	closed := false
	for deadline := time.Now().Add(10 * time.Second); !closed && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
		if err != nil {
			closed = true
		} else {
			c.Close()
		}
	}
	if !closed {
		t.Fatal("the server still accepts connections 10 s after the shutdown began")
	}
	select {
	case err := <-ran:
		t.Fatalf("Run returned (%v) before the request in progress finished", err)
	default:
	}
	close(f.emb.gate)
	if c := <-status; c != 200 {
		t.Fatalf("request in progress at shutdown answered %d, want 200", c)
	}
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
