// Package listen asks the network stack about TCP ports: a free one, whether
// one is taken, and by whom.
package listen

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// Free asks the kernel for a TCP port nobody listens on.
func Free() (int, error) {
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Taken reports whether a socket already listens on TCP port p. A port this
// user may not bind (below 1024 without privileges) is not reported taken:
// the program will say so itself.
func Taken(p int) bool {
	if p == 0 {
		return false
	}
	l, err := net.Listen("tcp", ":"+strconv.Itoa(p))
	if err == nil {
		l.Close()
		return false
	}
	return errors.Is(err, syscall.EADDRINUSE)
}
