// Package servecmd is tpm-serve: an HTTP server over tpm's state tree (the
// API, /metrics and the page are lib/serve's). It is optional: no other
// command needs it, and it keeps no state of its own but its token.
package servecmd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/serve"
	"github.com/tetra-toolkit/tpm/lib/state"
)

type grammar struct {
	Listen      string `default:"127.0.0.1:9615" placeholder:"ADDR" help:"HOST:PORT, or unix:PATH for a Unix socket (default 127.0.0.1:9615; port 0 picks a free one)."`
	TLSCert     string `name:"tls-cert" placeholder:"FILE" type:"path" help:"Serve HTTPS with this certificate (PEM; with --tls-key)."`
	TLSKey      string `name:"tls-key" placeholder:"FILE" type:"path" help:"The certificate's private key (PEM)."`
	Insecure    bool   `help:"Allow plain HTTP on an address other machines can reach (the token then crosses the network in clear)."`
	RotateToken bool   `name:"rotate-token" help:"Replace the token with a new one and exit: running servers refuse the old one at once."`
}

const description = `Serve tpm's processes over HTTP: a JSON API, Prometheus metrics and a web page.

  GET  /                                 the page (the process table, logs, buttons)
  GET  /v1/processes[?status=S,...]      the objects of tpm-ls --json
  GET  /v1/processes/NAME                one of them
  GET  /v1/processes/NAME/log            ?stream=out,err,events &n=100 &follow=1 (Server-Sent Events)
  GET  /v1/processes/NAME/events         the lifecycle events (same parameters)
  POST /v1/processes/NAME/start|stop|restart   body: {"wait":"10s","timeout":"5s","signal":"INT"}
  GET  /metrics                          Prometheus metrics (no token needed)

Every request but /metrics and the page needs the token of
$TETRA_DIR/tpm/serve.token (made on first run, 0600) as "Authorization: Bearer
TOKEN". An address other machines can reach needs --tls-cert and --tls-key, or
--insecure. It prints the URL it serves on, and runs until SIGINT or SIGTERM.

Exit codes: 0 ok (ended by a signal), 64 usage, 66 a TLS file is missing,
69 the address is in use, 73 the token cannot be written, 77 permission denied.`

// Main runs tpm-serve and returns its exit status.
func Main(e *cli.Env) int {
	var g grammar
	return e.Run(&g, description, func() error { return run(e, &g) })
}

func run(e *cli.Env, g *grammar) error {
	if (g.TLSCert == "") != (g.TLSKey == "") {
		return cli.Usagef("--tls-cert and --tls-key go together")
	}
	t, err := state.OpenCreate()
	if err != nil {
		return err
	}
	if g.RotateToken {
		_, err := serve.RotateToken(t)
		return err
	}
	if _, err := serve.EnsureToken(t); err != nil {
		return err
	}
	var certs []tls.Certificate
	if g.TLSCert != "" {
		c, err := tls.LoadX509KeyPair(g.TLSCert, g.TLSKey)
		if err != nil {
			code := exit.DataErr
			if errors.Is(err, os.ErrNotExist) {
				code = exit.NoInput
			}
			return exit.Errorf(code, "--tls-cert/--tls-key: %v", err)
		}
		certs = []tls.Certificate{c}
	}
	l, err := serve.Listen(g.Listen, certs != nil || g.Insecure)
	if errors.Is(err, serve.ErrReachable) {
		return cli.WithHint(fmt.Errorf("--listen %w: the token would cross the network in clear", err),
			"give --tls-cert FILE --tls-key FILE, or --insecure, or listen on 127.0.0.1")
	}
	if err != nil {
		return err
	}
	// On loopback, only loopback Host names: see lib/serve (DNS rebinding).
	s := &serve.Server{Tree: t, Companion: cli.Companion, LoopbackOnly: serve.Loopback(l)}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	hs := serve.HTTPServer(s.Handler())
	// Log streams end with the server: their context is the server's.
	hs.BaseContext = func(net.Listener) context.Context { return ctx }
	if certs != nil {
		hs.TLSConfig = &tls.Config{Certificates: certs, MinVersion: tls.VersionTLS12}
		l = tls.NewListener(l, hs.TLSConfig)
	}
	fmt.Fprintln(e.Stdout, serve.URL(l, certs != nil))
	done := make(chan error, 1)
	go func() { done <- hs.Serve(l) }()
	select {
	case err := <-done:
		return exit.Errorf(exit.Failure, "serve: %v", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shut); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return exit.Errorf(exit.Failure, "shut down: %v", err)
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return exit.Errorf(exit.Failure, "serve: %v", err)
	}
	return nil
}
