package servecmd

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tetra-toolkit/tpm/lib/cli"
)

// serveFor runs tpm-serve with args until the test ends (SIGTERM, which
// its signal handler takes), and returns the URL it printed and the token.
func serveFor(t *testing.T, args ...string) (url, token string) {
	t.Helper()
	t.Setenv("TETRA_DIR", filepath.Join(t.TempDir(), "tetra"))
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan int)
	var stderr strings.Builder
	go func() {
		done <- Main(&cli.Env{Name: "tpm-serve", Args: args, Stdout: w, Stderr: &stderr})
		w.Close()
	}()
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("no URL: %v: %s", err, stderr.String())
	}
	t.Cleanup(func() {
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("tpm-serve exited %d: %s", code, stderr.String())
			}
		case <-time.After(10 * time.Second):
			t.Error("tpm-serve did not end on SIGTERM")
		}
	})
	tok, err := os.ReadFile(filepath.Join(os.Getenv("TETRA_DIR"), "tpm", "serve.token"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(line), strings.TrimSpace(string(tok))
}

func get(t *testing.T, c *http.Client, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	url, tok := serveFor(t, "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key)
	if !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("URL %q", url)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	if code, body := get(t, c, url+"v1/processes", tok); code != 200 || body != "[]\n" {
		t.Fatalf("over TLS: %d %q", code, body)
	}
	// Plain HTTP to a TLS port gets nothing of the API.
	if code, _ := get(t, http.DefaultClient, "http"+strings.TrimPrefix(url, "https")+"v1/processes", tok); code == 200 {
		t.Fatal("plain HTTP served on the TLS port")
	}
}

func TestUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "serve.sock")
	url, tok := serveFor(t, "--listen", "unix:"+sock)
	if url != "unix:"+sock {
		t.Fatalf("URL %q", url)
	}
	if fi, err := os.Lstat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v %v", fi, err)
	}
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	if code, _ := get(t, c, "http://tpm/v1/processes", tok); code != 200 {
		t.Fatalf("over the socket: %d", code)
	}
	if code, _ := get(t, c, "http://tpm/v1/processes", "wrong"); code != 401 {
		t.Fatalf("a wrong token over the socket: %d", code)
	}
}

func selfSigned(t *testing.T, dir string) (cert, key string) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tpm test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key
}
