// Tpm-serve serves tpm's processes over HTTP: a JSON API, Prometheus
// metrics and a live web page.
//
// Usage:
//
//	tpm-serve [--listen 127.0.0.1:9615 | --listen unix:PATH] [--tls-cert FILE --tls-key FILE] [--insecure]
//	tpm-serve --rotate-token
//
// It prints the URL it serves on. Requests but /metrics and the page need
// the token of $TETRA_DIR/tpm/serve.token. See tpm-serve --help and the
// README.
package main

import (
	"os"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/cmd/servecmd"
)

func main() { os.Exit(servecmd.Main(cli.Std("tpm-serve"))) }
