package supervise

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/tetra-toolkit/tpm/lib/envfile"
	"github.com/tetra-toolkit/tpm/lib/exit"
)

// Socket activation (--listen): the supervisor binds the PORT itself, on
// every address, and hands the listening socket to each run as fd 3 by
// systemd's protocol (LISTEN_FDS=1, LISTEN_PID, LISTEN_FDNAMES). It keeps
// the socket for its whole life, so that connections that arrive while the
// program restarts or reloads wait in the kernel's queue instead of being
// refused. LISTEN_PID must be the program's own PID, which is known only
// after the fork: a shell sets it and executes the program in its place.

// listenFD is where a run finds the socket.
const listenFD = 3

// activationShim sets LISTEN_PID to its own PID and becomes the program.
const activationShim = `LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"`

// openListener binds the PORT.
func (s *sup) openListener() error {
	f, err := bindTCP(s.spec.Port)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return exit.Errorf(exit.Unavailable, "--listen: port %d is taken", s.spec.Port)
		}
		return exit.With(exit.Unavailable, fmt.Errorf("--listen: %w", err))
	}
	s.listener = f
	return nil
}

// bindTCP makes a socket listening on port on every address: IPv6 and IPv4
// in one where the system allows, else IPv4. It is made with system calls,
// not the net package, which would double the supervisor's size for this.
func bindTCP(port int) (*os.File, error) {
	for _, family := range []int{syscall.AF_INET6, syscall.AF_INET} {
		syscall.ForkLock.RLock()
		fd, err := syscall.Socket(family, syscall.SOCK_STREAM, 0)
		if err == nil {
			syscall.CloseOnExec(fd)
		}
		syscall.ForkLock.RUnlock()
		if err != nil {
			if family == syscall.AF_INET6 {
				continue // no IPv6 here
			}
			return nil, err
		}
		syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
		var sa syscall.Sockaddr = &syscall.SockaddrInet4{Port: port}
		if family == syscall.AF_INET6 {
			syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 0)
			sa = &syscall.SockaddrInet6{Port: port}
		}
		if err = syscall.Bind(fd, sa); err == nil {
			err = syscall.Listen(fd, syscall.SOMAXCONN)
		}
		if err != nil {
			syscall.Close(fd)
			if family == syscall.AF_INET6 && !errors.Is(err, syscall.EADDRINUSE) {
				continue
			}
			return nil, err
		}
		return os.NewFile(uintptr(fd), "listener"), nil
	}
	return nil, errors.New("no socket family to listen with")
}

// activation returns how to run the program with the socket: through the
// shim, with the protocol's variables set.
func (s *sup) activation(path string, argv []string) (string, []string, []string) {
	env := envfile.Set(s.env, "LISTEN_FDS", "1")
	env = envfile.Set(env, "LISTEN_FDNAMES", s.name)
	env = envfile.Unset(env, "LISTEN_PID")
	return "/bin/sh", append([]string{"sh", "-c", activationShim, path}, argv[1:]...), env
}

// closeListener lets the PORT go, when the program is down for good.
func (s *sup) closeListener() {
	if s.listener != nil {
		s.listener.Close()
		s.listener = nil
	}
}
