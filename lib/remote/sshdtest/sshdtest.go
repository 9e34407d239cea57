// Package sshdtest starts throwaway OpenSSH servers on 127.0.0.1, each one a
// "host" for the tests and the benchmark of tpm's --host: a host key and a
// user key made for the occasion, an ssh config that names every host, and a
// TETRA_DIR of its own per host (the "remote machine"), given to its
// sessions by authorized_keys' environment= options. Nothing of the system's
// ssh setup is read or changed, except /run/sshd, sshd's privilege
// separation folder, created when it is missing (sshd refuses to start
// without it; the distribution's service creates it at boot).
package sshdtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/proc"
)

// Packages names what provides the programs, for the message of a machine
// that lacks them (Debian and Ubuntu's names).
const Packages = "openssh-server openssh-client"

// Down is a host of the ssh config that nothing answers: a port of
// 127.0.0.1 with no server.
const Down = "down"

// Host is one server.
type Host struct {
	Name string
	// Env is the environment of its sessions, NAME=VALUE: TETRA_DIR (its
	// tree, which also marks its processes for Stop), PATH, and HOME (a
	// folder of the test's: the login shell then reads no rc file of the
	// machine's user).
	Env []string
}

// Servers are the running servers.
type Servers struct {
	// Dir holds the keys, the ssh config and a folder per host.
	Dir string
	// Config is the ssh config (ssh -F) that reaches each host by name.
	Config string
	// SSH is the TPM_SSH that uses it.
	SSH string

	hosts   []Host
	daemons []*exec.Cmd
	done    []chan struct{}
}

// Find returns the paths of sshd, ssh and ssh-keygen: on PATH, or for sshd
// in the sbin folders that a user's PATH may lack.
func Find() (sshd, ssh, keygen string, err error) {
	look := func(name string, dirs ...string) string {
		if p, err := exec.LookPath(name); err == nil {
			if abs, err := filepath.Abs(p); err == nil {
				return abs
			}
		}
		for _, d := range dirs {
			p := filepath.Join(d, name)
			if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
				return p
			}
		}
		return ""
	}
	sshd = look("sshd", "/usr/sbin", "/usr/local/sbin", "/sbin")
	ssh, keygen = look("ssh"), look("ssh-keygen")
	var missing []string
	for _, p := range []struct{ name, path string }{{"sshd", sshd}, {"ssh", ssh}, {"ssh-keygen", keygen}} {
		if p.path == "" {
			missing = append(missing, p.name)
		}
	}
	if len(missing) > 0 {
		return "", "", "", fmt.Errorf("%s not found (packages: %s)", strings.Join(missing, ", "), Packages)
	}
	return sshd, ssh, keygen, nil
}

// Start starts one sshd per host, in dir, and returns once each accepts
// connections. Stop them with Stop.
func Start(dir string, hosts []Host) (*Servers, error) {
	sshd, _, keygen, err := Find()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		if _, err := os.Stat("/run/sshd"); errors.Is(err, os.ErrNotExist) {
			os.MkdirAll("/run/sshd", 0o755)
		}
	}
	hostKey, userKey := filepath.Join(dir, "host_key"), filepath.Join(dir, "id")
	for _, k := range []string{hostKey, userKey} {
		if _, err := os.Stat(k); err == nil {
			continue
		}
		out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "tpm-test", "-f", k).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("ssh-keygen: %v: %s", err, out)
		}
	}
	hostPub, err := os.ReadFile(hostKey + ".pub")
	if err != nil {
		return nil, err
	}
	userPub, err := os.ReadFile(userKey + ".pub")
	if err != nil {
		return nil, err
	}
	me, err := user.Current()
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(len(hosts) + 1)
	if err != nil {
		return nil, err
	}
	s := &Servers{Dir: dir, Config: filepath.Join(dir, "config"), hosts: hosts}
	s.SSH = "ssh -F " + meta.Quote(s.Config)

	var config, known bytes.Buffer
	keyType := strings.Join(strings.Fields(string(hostPub))[:2], " ")
	for i, h := range hosts {
		fmt.Fprintf(&config, "Host %s\n  Port %d\n", h.Name, ports[i])
		fmt.Fprintf(&known, "[127.0.0.1]:%d %s\n", ports[i], keyType)
	}
	fmt.Fprintf(&config, "Host %s\n  Port %d\n", Down, ports[len(hosts)])
	// ssh takes the first value it reads: the common part comes last.
	fmt.Fprintf(&config, `Host *
  HostName 127.0.0.1
  User %s
  IdentityFile %s
  IdentitiesOnly yes
  UserKnownHostsFile %s
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  PasswordAuthentication no
  LogLevel ERROR
`, me.Username, userKey, filepath.Join(dir, "known_hosts"))
	if err := os.WriteFile(s.Config, config.Bytes(), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "known_hosts"), known.Bytes(), 0o600); err != nil {
		return nil, err
	}

	for i, h := range hosts {
		hd := filepath.Join(dir, h.Name)
		if err := os.MkdirAll(hd, 0o700); err != nil {
			s.Stop()
			return nil, err
		}
		var opts []string
		for _, kv := range h.Env {
			opts = append(opts, `environment="`+strings.ReplaceAll(kv, `"`, `\"`)+`"`)
		}
		auth := strings.Join(opts, ",") + " " + strings.TrimSpace(string(userPub)) + "\n"
		if err := os.WriteFile(filepath.Join(hd, "authorized_keys"), []byte(auth), 0o600); err != nil {
			s.Stop()
			return nil, err
		}
		cfg := filepath.Join(hd, "sshd_config")
		conf := fmt.Sprintf(`ListenAddress 127.0.0.1
Port %d
HostKey %s
AuthorizedKeysFile %s
PidFile %s
UsePAM no
StrictModes no
PermitRootLogin yes
PermitUserEnvironment yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
PrintMotd no
LogLevel INFO
`, ports[i], hostKey, filepath.Join(hd, "authorized_keys"), filepath.Join(hd, "sshd.pid"))
		if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
			s.Stop()
			return nil, err
		}
		logf, err := os.Create(filepath.Join(hd, "sshd.log"))
		if err != nil {
			s.Stop()
			return nil, err
		}
		// sshd re-executes itself for each connection: it wants its
		// absolute path. Its own process group keeps a terminal's ^C to
		// the test from reaching it before Stop does.
		d := exec.Command(sshd, "-D", "-e", "-f", cfg)
		d.Stdout, d.Stderr = logf, logf
		d.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		err = d.Start()
		logf.Close()
		if err != nil {
			s.Stop()
			return nil, fmt.Errorf("sshd: %w", err)
		}
		done := make(chan struct{})
		go func() { d.Wait(); close(done) }()
		s.daemons, s.done = append(s.daemons, d), append(s.done, done)
		if err := waitListening(ports[i], done); err != nil {
			log, _ := os.ReadFile(filepath.Join(hd, "sshd.log"))
			s.Stop()
			return nil, fmt.Errorf("sshd for %s: %v: %s", h.Name, err, bytes.TrimSpace(log))
		}
	}
	return s, nil
}

// Pids are the servers' process IDs (a benchmark reads the CPU time of
// their reaped sessions).
func (s *Servers) Pids() []int {
	var out []int
	for _, d := range s.daemons {
		out = append(out, d.Process.Pid)
	}
	return out
}

// freePorts returns n ports of 127.0.0.1 that are free now.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// waitListening polls until something accepts connections on port, or the
// server ends, or a deadline passes.
func waitListening(port int, done <-chan struct{}) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-done:
			return errors.New("it ended")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on port %d", port)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop ends the servers. Sessions end by themselves once their client has
// gone; Stop gives them a moment, then kills what is left of them, and
// every process that runs with a host's TETRA_DIR (a supervisor started
// there and not stopped). It returns what it had to kill: a test that
// stops what it starts leaves nothing.
func (s *Servers) Stop() (left []string) {
	var daemons []int
	for _, d := range s.daemons {
		daemons = append(daemons, d.Process.Pid)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		found := descendants(daemons)
		if len(found) == 0 {
			break
		}
		if time.Now().After(deadline) {
			for _, in := range found {
				left = append(left, describe(in.PID))
				syscall.Kill(in.PID, syscall.SIGKILL)
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i, d := range s.daemons {
		d.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done[i]:
		case <-time.After(5 * time.Second):
			d.Process.Kill()
			<-s.done[i]
		}
	}
	for range 3 {
		found := marked(s.marks())
		if len(found) == 0 {
			break
		}
		for _, in := range found {
			left = append(left, describe(in.PID))
			syscall.Kill(in.PID, syscall.SIGKILL)
			if in.PGID == in.PID {
				syscall.Kill(-in.PID, syscall.SIGKILL)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return left
}

// descendants are the live processes below the given ones.
func descendants(roots []int) []proc.Info {
	all, _ := proc.All()
	below := map[int]bool{}
	for _, r := range roots {
		below[r] = true
	}
	var out []proc.Info
	for grew := true; grew; {
		grew = false
		for _, in := range all {
			if below[in.PPID] && !below[in.PID] {
				below[in.PID] = true
				grew = true
				if !in.Zombie {
					out = append(out, in)
				}
			}
		}
	}
	return out
}

// marks are what the environment of the hosts' processes holds: their
// TETRA_DIR.
func (s *Servers) marks() [][]byte {
	var out [][]byte
	for _, h := range s.hosts {
		for _, kv := range h.Env {
			if strings.HasPrefix(kv, "TETRA_DIR=") {
				out = append(out, []byte(kv+"\x00"))
			}
		}
	}
	return out
}

// marked are the live processes whose environment holds one of marks.
func marked(marks [][]byte) []proc.Info {
	all, _ := proc.All()
	var out []proc.Info
	for _, in := range all {
		if in.PID == os.Getpid() || in.Zombie {
			continue
		}
		env, err := os.ReadFile("/proc/" + strconv.Itoa(in.PID) + "/environ")
		if err != nil {
			continue
		}
		if slices.ContainsFunc(marks, func(m []byte) bool { return bytes.Contains(env, m) }) {
			out = append(out, in)
		}
	}
	return out
}

// Marked lists the live processes (as "PID (command line)") that run with
// one of the hosts' TETRA_DIR and whose command line matches match, for
// tests that wait for a remote command to start or to end.
func (s *Servers) Marked(match func(cmdline string) bool) []string {
	var out []string
	for _, in := range marked(s.marks()) {
		if d := describe(in.PID); match(d) {
			out = append(out, d)
		}
	}
	return out
}

func describe(pid int) string {
	cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return strconv.Itoa(pid) + " (" + strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " ")) + ")"
}
