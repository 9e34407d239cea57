// The serve scripts (testdata/scripts/serve_*.txtar): tpm-serve registered
// as a command, and a small HTTP client for them.
package tpm_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/cmd/servecmd"
)

func init() {
	commands["tpm-serve"] = func() { os.Exit(servecmd.Main(cli.Std("tpm-serve"))) }
	scriptCmds["freeport"] = cmdFreeport
	scriptCmds["api"] = cmdAPI
	scriptCmds["sse"] = cmdSSE
	scriptCmds["openfiles"] = cmdOpenfiles
}

// freeport VAR sets VAR to a TCP port of 127.0.0.1 that is free now.
func cmdFreeport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ts.Setenv(args[0], strconv.Itoa(port))
}

// token is the script's serve token, read from its tree.
func serveToken(ts *testscript.TestScript) string {
	b, err := os.ReadFile(filepath.Join(ts.Getenv("TETRA_DIR"), "tpm", "serve.token"))
	ts.Check(err)
	return strings.TrimSpace(string(b))
}

// api [-token T | -token-file F | -no-token] [-host H] [-body TEXT | -body-size N [-chunked]] METHOD URL STATUS
// sends one request and checks the answer's status. The token is the tree's
// serve.token unless given (-no-token: no Authorization header). The answer's
// body goes to stdout, its headers to stderr ("Name: value", sorted, Date
// left out), for the stdout and stderr commands.
func cmdAPI(ts *testscript.TestScript, neg bool, args []string) {
	usage := "usage: api [-token T | -token-file F | -no-token] [-host H] [-body TEXT | -body-size N [-chunked]] METHOD URL STATUS"
	if neg {
		ts.Fatalf("%s (no !: give the status)", usage)
	}
	tok, useToken := "", true
	var body io.Reader
	size, chunked, host := int64(-1), false, ""
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch {
		case args[0] == "-no-token":
			useToken, args = false, args[1:]
		case args[0] == "-chunked":
			chunked, args = true, args[1:]
		case len(args) > 1 && args[0] == "-token":
			tok, args = args[1], args[2:]
		case len(args) > 1 && args[0] == "-token-file":
			b, err := os.ReadFile(ts.MkAbs(args[1]))
			ts.Check(err)
			tok, args = strings.TrimSpace(string(b)), args[2:]
		case len(args) > 1 && args[0] == "-host":
			host, args = args[1], args[2:]
		case len(args) > 1 && args[0] == "-body":
			body, args = strings.NewReader(args[1]), args[2:]
		case len(args) > 1 && args[0] == "-body-size":
			n, err := strconv.ParseInt(args[1], 10, 64)
			ts.Check(err)
			size, args = n, args[2:]
			body = io.LimitReader(zeros{}, n)
		default:
			ts.Fatalf("%s", usage)
		}
	}
	if len(args) != 3 {
		ts.Fatalf("%s", usage)
	}
	want := atoi(ts, args[2])
	req, err := http.NewRequest(args[0], args[1], body)
	ts.Check(err)
	if size >= 0 {
		req.ContentLength = size
		if chunked {
			// Not announced: the server finds out while reading.
			req.ContentLength = -1
			req.Body = io.NopCloser(io.LimitReader(zeros{}, size))
		}
	}
	if host != "" {
		req.Host = host
	}
	if useToken {
		if tok == "" {
			tok = serveToken(ts)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	c := http.Client{Timeout: 20 * time.Second}
	resp, err := c.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	ts.Check(err)
	var hs []string
	for k, vs := range resp.Header {
		if k == "Date" {
			continue
		}
		for _, v := range vs {
			hs = append(hs, k+": "+v)
		}
	}
	slices.Sort(hs)
	fmt.Fprintln(ts.Stderr(), strings.Join(hs, "\n"))
	ts.Stdout().Write(data)
	if resp.StatusCode != want {
		ts.Fatalf("%s %s: %s, want %d: %s", args[0], args[1], resp.Status, want, strings.TrimSpace(string(data)))
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// sse [-t D] URL N reads a Server-Sent Events stream with the tree's token
// until it has N data lines (past the deadline, default 10s, the script
// fails), prints them on stdout without "data: ", and hangs up.
func cmdSSE(ts *testscript.TestScript, neg bool, args []string) {
	timeout := defaultWait
	if len(args) >= 2 && args[0] == "-t" {
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		timeout, args = d, args[2:]
	}
	if neg || len(args) != 2 {
		ts.Fatalf("usage: sse [-t D] URL N")
	}
	n := atoi(ts, args[1])
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", args[0], nil)
	ts.Check(err)
	req.Header.Set("Authorization", "Bearer "+serveToken(ts))
	resp, err := http.DefaultClient.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		ts.Fatalf("sse %s: %s", args[0], resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		ts.Fatalf("sse %s: Content-Type %q", args[0], ct)
	}
	sc := bufio.NewScanner(resp.Body)
	var got []string
	for len(got) < n && sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			got = append(got, d)
		}
	}
	if len(got) < n {
		ts.Fatalf("sse %s: %d data lines of %d (%v): %s", args[0], len(got), n, sc.Err(), strings.Join(got, "\n"))
	}
	fmt.Fprintln(ts.Stdout(), strings.Join(got, "\n"))
}

// openfiles CMDLINE TARGET N waits (up to 20s) until the one live process
// whose command line matches the regexp CMDLINE has exactly N open file
// descriptors whose link (/proc/PID/fd/*) matches the regexp TARGET.
func cmdOpenfiles(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: openfiles CMDLINE TARGET N")
	}
	cmdRE, targetRE := regexp.MustCompile(args[0]), regexp.MustCompile(args[1])
	want := atoi(ts, args[2])
	var pid int
	for _, in := range ours(ts.Getenv("TETRA_DIR")) {
		if cmdRE.MatchString(in.cmdline) {
			if pid != 0 {
				ts.Fatalf("openfiles: several processes match %q", args[0])
			}
			pid = in.pid
		}
	}
	if pid == 0 {
		ts.Fatalf("openfiles: no process matches %q", args[0])
	}
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	var got []string
	deadline := time.Now().Add(defaultWait)
	for {
		got = got[:0]
		ents, err := os.ReadDir(dir)
		ts.Check(err)
		for _, e := range ents {
			if l, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && targetRE.MatchString(l) {
				got = append(got, l)
			}
		}
		if len(got) == want {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("openfiles: %d descriptors match %q, want %d: %s", len(got), args[1], want, strings.Join(got, ", "))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
