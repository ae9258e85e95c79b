package serve

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds a Chromium binary: $CHROMIUM, then Debian's
// /usr/bin/chromium, then chromium or google-chrome on the PATH.
func chromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowser drives the page in headless Chromium: upload an image, see
// the results (the image itself first, score 1), click the second result
// and see the search start from it, then save a screenshot.
//
// With CONTRASTIVE_SERVE_URL it drives that server instead of a test one
// (uploading CONTRASTIVE_UPLOAD), and CONTRASTIVE_SCREENSHOT names the
// PNG to write: the README's screenshot is made this way.
func TestBrowser(t *testing.T) {
	exe := chromium()
	if exe == "" {
		t.Skip("Chromium not found (Debian: apt-get install -y chromium; or set CHROMIUM): skipping the browser test")
	}
	url, upload, wantFirst := os.Getenv("CONTRASTIVE_SERVE_URL"), os.Getenv("CONTRASTIVE_UPLOAD"), "7"
	if url == "" {
		f := newFixture(t, 40, Limits{}, true)
		url = f.ts.URL
		upload = filepath.Join(t.TempDir(), "query.png")
		if err := os.WriteFile(upload, f.pngs[7], 0o644); err != nil {
			t.Fatal(err)
		}
	} else {
		wantFirst = ""
	}
	shot := os.Getenv("CONTRASTIVE_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(t.TempDir(), "page.png")
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.WindowSize(1180, 1000), chromedp.DisableGPU)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()

	// Uncaught exceptions of the page fail the test.
	cctx, stopConsole := context.WithCancel(ctx)
	messages := chromedp.Console(cctx)
	var exceptions []string
	consoleDone := make(chan struct{})
	go func() {
		defer close(consoleDone)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleException {
				exceptions = append(exceptions, m.Text)
			}
		}
	}()

	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s on the page at %s: %v", what, url, err)
		}
	}
	poll := func(what, expr string) {
		t.Helper()
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr))
		step("waiting for "+what, err)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		step("reading "+sel, err)
		return s
	}
	attr := func(sel, name string) string {
		t.Helper()
		a, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
		step("reading "+sel, err)
		return a.Value
	}
	step("loading", chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#drop"))))
	poll("the page to start", `document.getElementById("status").textContent === "ready"`)
	step("uploading", chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{upload}),
		chromedp.WaitVisible(chromedp.CSS(".result"))))
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".result").length`))
	step("counting results", err)
	first, firstScore, second := attr(".result:nth-child(1)", "data-row"), text(".result:nth-child(1) .score"), attr(".result:nth-child(2)", "data-row")
	step("clicking the second result", chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".result:nth-child(2)"))))
	poll("the search from the clicked result", `document.getElementById("result-note").textContent.includes("from row")`)
	note, status := text("#result-note"), text("#status")
	poll("the pictures", `Array.from(document.images).every(i => i.complete)`)
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	step("taking a screenshot", err)
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	stopConsole()
	<-consoleDone
	t.Logf("%d results, first row %s (score %s), clicked row %s: %q, %q; screenshot %s (%d bytes)", n, first, firstScore, second, note, status, shot, len(png))
	if len(exceptions) > 0 {
		t.Errorf("JavaScript exceptions on the page: %q", exceptions)
	}
	if n != 12 {
		t.Errorf("%d results on the page, want the default 12", n)
	}
	if wantFirst != "" && (first != wantFirst || firstScore != "1.000") {
		t.Errorf("first result row %s score %s, want row %s score 1.000 (the uploaded image itself)", first, firstScore, wantFirst)
	}
	if note != fmt.Sprintf("(from row %s)", second) || !strings.Contains(status, "results for the row "+second) {
		t.Errorf("after clicking row %s: note %q, status %q", second, note, status)
	}
}
