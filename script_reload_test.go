package tpm_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

func init() {
	commands["hammer"] = hammer
}

// hammer URL STOPFILE [PROGRESS] requests URL over and over, each on a new
// connection, one at a time, until STOPFILE exists; then it prints
// "ok=N failed=M" (and the first failures on stderr). With PROGRESS it
// writes the number of requests made so far to that file every 20
// requests. It is how the reload tests count the requests that found
// nothing answering.
func hammer() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: hammer URL STOPFILE [PROGRESS]")
		os.Exit(2)
	}
	url, stop := os.Args[1], os.Args[2]
	progress := ""
	if len(os.Args) > 3 {
		progress = os.Args[3]
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	ok, failed := 0, 0
	deadline := time.Now().Add(2 * time.Minute) // a test that forgets the stop file still ends
	for n := 1; time.Now().Before(deadline); n++ {
		if _, err := os.Stat(stop); err == nil {
			break
		}
		resp, err := c.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				err = fmt.Errorf("status %s", resp.Status)
			}
		}
		if err != nil {
			failed++
			if failed <= 5 {
				fmt.Fprintf(os.Stderr, "request %d: %v\n", n, err)
			}
		} else {
			ok++
		}
		if progress != "" && n%20 == 0 {
			os.WriteFile(progress+".tmp", []byte(strconv.Itoa(n)+"\n"), 0o600)
			os.Rename(progress+".tmp", progress)
		}
	}
	fmt.Printf("ok=%d failed=%d\n", ok, failed)
}
