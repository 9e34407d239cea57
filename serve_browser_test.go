// tpm-serve's page in a real browser: headless Chromium driven through the
// DevTools protocol (chromedp), against the real binaries and a real
// process. Skipped when no Chromium is installed, except in CI (CI=true),
// where a missing browser fails the test: .ci/run installs it.
package tpm_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds a Chromium or Chrome to drive.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH: the browser test needs it in CI (apt-get install chromium)")
	}
	t.Skip("no chromium on PATH (apt-get install chromium); skipping the browser test")
	return ""
}

func TestServeBrowser(t *testing.T) {
	browser := chromium(t)
	dir := t.TempDir()
	env := append(os.Environ(), "TETRA_DIR="+filepath.Join(dir, "tetra"), "HOME="+filepath.Join(dir, "home"), "NO_COLOR=1")
	run := func(name string, args ...string) string {
		t.Helper()
		c := exec.Command(name, args...)
		c.Env, c.Dir = env, dir
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// The program prints what comes through a FIFO: a line written when
	// the test says, not before the page follows the log.
	fifo := filepath.Join(dir, "say")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	run("tpm-start", "--port", "none", "--name", "pager", "sh", "-c",
		`echo started; exec 3<>"$0"; while read -r l <&3; do echo "said: $l"; done`, fifo)
	t.Cleanup(func() {
		c := exec.Command("tpm-stop", "--all")
		c.Env = env
		c.Run()
	})

	// tpm-serve on a free port, which it prints.
	srv := exec.Command("tpm-serve", "--listen", "127.0.0.1:0")
	srv.Env, srv.Dir = env, dir
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
	})
	url, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("tpm-serve printed no URL: %v", err)
	}
	url = strings.TrimSpace(url)
	tok, err := os.ReadFile(filepath.Join(dir, "tetra", "tpm", "serve.token"))
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.NoSandbox, // root in CI; the page is our own
		chromedp.DisableGPU,
		chromedp.WindowSize(1400, 860),
		chromedp.UserDataDir(filepath.Join(dir, "chromium")),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			shot(t, bctx)
			t.Fatalf("%s: %v", what, err)
		}
	}
	row := `tr[data-name="pager"]`
	// The token, typed once into the page's dialog.
	step("open the page and give the token",
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(`#token-input`)),
		chromedp.SendKeys(chromedp.CSS(`#token-input`), strings.TrimSpace(string(tok))),
		chromedp.Click(chromedp.CSS(`#token-save`)),
	)
	// The table shows the process, alive.
	step("the table shows the process running",
		chromedp.WaitVisible(chromedp.CSS(row+`[data-status="online"], `+row+`[data-status="launching"]`)),
	)
	// Its detail, and a line the program writes once the tail is live.
	step("open the process",
		chromedp.Click(chromedp.CSS(row)),
		chromedp.WaitVisible(chromedp.CSS(`#detail`)),
		waitText(`#log-state`, "live"),
		waitText(`#log`, "started"),
	)
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "hello from the browser test")
	f.Close()
	step("the live tail shows the new line", waitText(`#log`, "said: hello from the browser test"))
	if path := os.Getenv("TPM_SCREENSHOT"); path != "" {
		// For a person to look at: TPM_SCREENSHOT=page.png go test -run TestServeBrowser
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(path, png, 0o644)
	}
	// Stop from the page: the table says stopped, and so do the files.
	step("stop from the page",
		chromedp.WaitEnabled(chromedp.CSS(`#act-stop`)),
		chromedp.Click(chromedp.CSS(`#act-stop`)),
		chromedp.WaitVisible(chromedp.CSS(row+`[data-status="stopped"]`)),
	)
	if out := run("tpm-ls"); !strings.HasPrefix(out, "pager\tstopped\t") {
		t.Fatalf("tpm-ls after a stop from the page: %q", out)
	}
}

// waitText waits until the element of sel holds text.
func waitText(sel, text string) chromedp.Action[chromedp.Void] {
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q); })()`, sel, text)
	poll := chromedp.Poll[bool](js, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := poll(ctx, t)
		return chromedp.Void{}, err
	}
}

// shot saves what the page looked like when a step failed.
func shot(t *testing.T, ctx context.Context) {
	sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot()); err == nil {
		p := filepath.Join(os.TempDir(), "tpm-serve-browser-failure.png")
		if os.WriteFile(p, png, 0o644) == nil {
			t.Logf("screenshot of the page: %s", p)
		}
	}
}
