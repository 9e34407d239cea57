package serve

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/tetra-toolkit/tpm/lib/exit"
)

// ErrReachable is the error of Listen for an address other machines can
// reach, when that was not allowed.
var ErrReachable = errors.New("can be reached from other machines")

// Listen opens the address of --listen: HOST:PORT for TCP, or unix:PATH for
// a Unix socket (created 0600; a stale one that nobody answers on is
// replaced). Unless reachable is set, an address that other machines could
// reach is refused with an error that wraps ErrReachable: every address
// ("", 0.0.0.0, ::) and an IP that is not a loopback one before anything
// is opened, and a host name once it is known what it names.
func Listen(addr string, reachable bool) (net.Listener, error) {
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		return listenUnix(p)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, exit.Errorf(exit.Usage, "--listen %q: want HOST:PORT or unix:PATH", addr)
	}
	if !reachable && !local(host) {
		return nil, exit.With(exit.Usage, fmt.Errorf("%s %w", addr, ErrReachable))
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, listenErr(addr, err)
	}
	if !reachable && !Loopback(l) {
		l.Close()
		return nil, exit.With(exit.Usage, fmt.Errorf("%s (%s) %w", addr, l.Addr(), ErrReachable))
	}
	return l, nil
}

// Loopback reports whether l is a TCP listener on a loopback address.
func Loopback(l net.Listener) bool {
	ta, ok := l.Addr().(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// local: a host that is not known to be reachable from elsewhere (a host
// name is looked at once listened on).
func local(host string) bool {
	if host == "" {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	return true
}

func listenErr(addr string, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return exit.Errorf(exit.Unavailable, "listen on %s: the address is in use", addr)
	case errors.Is(err, syscall.EACCES), errors.Is(err, fs.ErrPermission):
		return exit.Errorf(exit.NoPerm, "listen on %s: permission denied", addr)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return exit.Errorf(exit.Unavailable, "listen on %s: no such address on this machine", addr)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return exit.Errorf(exit.Usage, "listen on %s: %v", addr, err)
	}
	return exit.Errorf(exit.Failure, "listen on %s: %v", addr, err)
}

func listenUnix(p string) (net.Listener, error) {
	if p == "" {
		return nil, exit.Errorf(exit.Usage, "--listen unix:PATH: the path is empty")
	}
	if fi, err := os.Lstat(p); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, exit.Errorf(exit.CantCreate, "listen on unix:%s: a file that is not a socket is there", p)
		}
		if c, err := net.DialTimeout("unix", p, time.Second); err == nil {
			c.Close()
			return nil, exit.Errorf(exit.Unavailable, "listen on unix:%s: another server answers there", p)
		}
		os.Remove(p) // stale: its server is gone
	}
	// The socket is made 0600 from the start: no moment when another user
	// could connect.
	old := syscall.Umask(0o177)
	l, err := net.Listen("unix", p)
	syscall.Umask(old)
	if err != nil {
		return nil, listenErr("unix:"+p, err)
	}
	return l, nil
}

// URL is how a client reaches l.
func URL(l net.Listener, tls bool) string {
	if ua, ok := l.Addr().(*net.UnixAddr); ok {
		return "unix:" + ua.Name
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return fmt.Sprintf("%s://%s/", scheme, l.Addr().String())
}
