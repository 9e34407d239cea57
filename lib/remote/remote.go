// Package remote runs one tpm command on several hosts at once, over the
// system's ssh.
//
// The policy: tpm installs nothing of its own on a host and keeps no agent
// there. A host is reached with the user's own ssh (their config, keys and
// known hosts; BatchMode, so that nothing ever waits for a password), and the
// same tpm-* binary is run there from the remote user's PATH, with the remote
// user's own TETRA_DIR. TPM_SSH replaces the ssh command, as GIT_SSH_COMMAND
// does for git. The host "local" is this machine, reached without ssh.
//
// Hosts run in parallel, at most Parallel at a time when their output is
// collected (a stream has every host at once). What a host prints is kept in
// a Spool (memory up to a bound, then an unlinked temporary file), so that a
// long log from many hosts costs bounded memory.
package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tetra-toolkit/tpm/lib/meta"
)

// Local names this machine in a list of hosts.
const Local = "local"

// Parallel bounds the hosts whose output is collected at once: a list of
// two hundred hosts opens sixteen ssh sessions at a time, not two hundred.
const Parallel = 16

// StatusSSH is the status ssh exits with when it could not run the command
// (no connection, refused key, unknown host key); tpm never exits with it.
const StatusSSH = 255

// ParseHosts reads a list of hosts, "web1,web2": blanks around items and
// empty items are dropped, and so are repeats. An empty list means this
// machine: nil.
func ParseHosts(s string) ([]string, error) {
	var out []string
	for _, h := range strings.Split(s, ",") {
		h = strings.TrimSpace(h)
		if h == "" || slices.Contains(out, h) {
			continue
		}
		if err := CheckHost(h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// CheckHost refuses a host ssh would read as an option ("-oProxyCommand=..."
// is a command to run, not a host), and one with blanks or control bytes.
func CheckHost(h string) error {
	if strings.HasPrefix(h, "-") {
		return fmt.Errorf("host %q: a host cannot start with '-'", h)
	}
	for _, r := range h {
		if r <= ' ' || r == 0x7f {
			return fmt.Errorf("host %q: no blanks or control characters in a host", h)
		}
	}
	return nil
}

// OnlyLocal reports whether hosts means this machine alone (no ssh, no HOST
// column): an empty list or just "local".
func OnlyLocal(hosts []string) bool {
	return len(hosts) == 0 || len(hosts) == 1 && hosts[0] == Local
}

// SSHCommand is the ssh command line that comes before the host: TPM_SSH
// split as a shell would (quotes, backslashes, no expansion), else "ssh";
// then tpm's own options. ssh takes the first value it reads of an option,
// so options in TPM_SSH win over these.
func SSHCommand(tpmSSH string) ([]string, error) {
	words := []string{"ssh"}
	if strings.TrimSpace(tpmSSH) != "" {
		w, err := meta.SplitWords(tpmSSH)
		if err != nil {
			return nil, fmt.Errorf("TPM_SSH: %w", err)
		}
		if len(w) == 0 {
			return nil, errors.New("TPM_SSH: no command")
		}
		words = w
	}
	return append(slices.Clone(words),
		// Never a password prompt: a host that asks fails, the others go on.
		"-o", "BatchMode=yes",
		// A host that is down costs seconds, not the TCP timeout.
		"-o", "ConnectTimeout=10",
		// A host that goes away during tpm-log -f is noticed.
		"-o", "ServerAliveInterval=15",
		// No terminal: the output is read as data, stderr apart.
		"-T"), nil
}

// CommandLine is the command line the remote shell runs: env sets vars and
// runs argv, every word quoted for a POSIX shell (bash, zsh, dash), so an
// argument such as 'api-*' or "my app" reaches the remote tpm as it was
// given. env(1) rather than VAR=x: it works under any login shell.
func CommandLine(vars, argv []string) string {
	words := append([]string{"env"}, vars...)
	return meta.JoinWords(append(words, argv...))
}

// Runner runs one command on hosts.
type Runner struct {
	// SSH is the ssh command before the host (SSHCommand).
	SSH []string
	// Vars are NAME=VALUE set for the command on every host, this one
	// included.
	Vars []string
	// Binary finds this machine's binary of a command, for the host "local".
	Binary func(name string) (string, error)
	// Parallel bounds the hosts run at once when output is collected (0:
	// the package's Parallel).
	Parallel int
}

// Job is the run of the command on one host.
type Job struct {
	Host string
	// Stdout and Stderr are what the command printed, when collected.
	Stdout, Stderr *Spool
	// Status is the exit status: the remote command's, StatusSSH when ssh
	// failed, -1 when the command could not be started or died of a signal.
	Status int
	// Err says why the command could not be started (no ssh on PATH).
	Err error

	done chan struct{}
}

// Wait waits for the job's end.
func (j *Job) Wait() { <-j.done }

// Close frees what the job's output holds.
func (j *Job) Close() {
	j.Stdout.Close()
	j.Stderr.Close()
}

// Run starts argv on every host and returns their jobs, in the order of
// hosts; the output of each is collected in its Spools. Wait for each job
// before reading it.
func (r *Runner) Run(ctx context.Context, hosts []string, argv []string) []*Job {
	limit := r.Parallel
	if limit <= 0 {
		limit = Parallel
	}
	slots := make(chan struct{}, limit)
	jobs := make([]*Job, len(hosts))
	for i, h := range hosts {
		j := &Job{Host: h, Stdout: &Spool{}, Stderr: &Spool{}, done: make(chan struct{})}
		jobs[i] = j
		go func() {
			defer close(j.done)
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				j.Status, j.Err = -1, ctx.Err()
				return
			}
			defer func() { <-slots }()
			cmd, err := r.command(ctx, h, argv)
			if err != nil {
				j.Status, j.Err = -1, err
				return
			}
			cmd.Stdout, cmd.Stderr = j.Stdout, j.Stderr
			j.Status, j.Err = status(cmd.Run())
		}()
	}
	return jobs
}

// Piece is a part of a line of a host's output, given to a Stream's
// callback: First is set on the piece that starts a line, and a line's last
// piece ends with '\n' (one is added when the host's output ends without).
// Data is valid during the call only.
type Piece struct {
	Job    *Job
	Stderr bool
	First  bool
	Data   []byte
}

// Stream starts argv on every host at once (a stream has no bound: each host
// follows for as long as it runs) and gives each line of their output to fn
// as it comes, one line at a time: the lines of several hosts never mix. It
// returns when every host has ended or ctx is done (the ssh commands are then
// ended), or once fn returned an error, which it returns.
func (r *Runner) Stream(ctx context.Context, hosts []string, argv []string, fn func(Piece) error) ([]*Job, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var out sync.Mutex // held from the first piece of a line to its last
	var failed error
	var once sync.Once
	fail := func(err error) {
		once.Do(func() { failed = err; cancel() })
	}
	jobs := make([]*Job, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		j := &Job{Host: h, done: make(chan struct{})}
		jobs[i] = j
		cmd, err := r.command(ctx, h, argv)
		if err != nil {
			j.Status, j.Err = -1, err
			close(j.done)
			continue
		}
		ws := [2]*lineWriter{}
		for k := range ws {
			stderr := k == 1
			ws[k] = &lineWriter{lock: &out, fail: fail, fn: func(first bool, data []byte) error {
				return fn(Piece{Job: j, Stderr: stderr, First: first, Data: data})
			}}
		}
		cmd.Stdout, cmd.Stderr = ws[0], ws[1]
		wg.Go(func() {
			defer close(j.done)
			// Run returns once the output is copied (or WaitDelay passed
			// with a pipe still held), so the partial lines can be ended.
			j.Status, j.Err = status(cmd.Run())
			ws[0].end()
			ws[1].end()
		})
	}
	wg.Wait()
	return jobs, failed
}

// lineWriter gives what is written to it to fn line by line, under lock: a
// line is held until its end, or given in pieces when it grows past
// lineMax (the lock is then held until its end, so that no other host's
// line comes inside it).
type lineWriter struct {
	lock sync.Locker
	fn   func(first bool, data []byte) error
	fail func(error)
	buf  []byte // the start of a line, not given yet
	held bool   // the lock is held: a long line is being given
	err  error  // fn failed: the rest is dropped
}

// lineMax is the longest line held whole before it is given in pieces.
const lineMax = 64 << 10

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && w.err == nil {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if !w.held && len(w.buf)+len(p) < lineMax {
				w.buf = append(w.buf, p...)
				return n, nil
			}
			w.give(p, false)
			return n, nil
		}
		w.give(p[:i+1], true)
		p = p[i+1:]
	}
	return n, nil
}

// give passes data (with what is held before it) to fn, taking the lock at
// the start of a line and leaving it at its end.
func (w *lineWriter) give(data []byte, eol bool) {
	first := !w.held
	if first {
		w.lock.Lock()
		w.held = true
		if len(w.buf) > 0 {
			data = append(w.buf, data...)
			w.buf = w.buf[:0]
		}
	}
	if err := w.fn(first, data); err != nil {
		w.err = err
		w.fail(err)
		eol = true
	}
	if eol {
		w.held = false
		w.lock.Unlock()
	}
}

// end ends a last line that has no newline.
func (w *lineWriter) end() {
	if w.err == nil && (w.held || len(w.buf) > 0) {
		w.give([]byte{'\n'}, true)
	}
}

// command is the command that runs argv on host: ssh, or this machine's
// binary for "local".
func (r *Runner) command(ctx context.Context, host string, argv []string) (*exec.Cmd, error) {
	var cmd *exec.Cmd
	if host == Local {
		find := r.Binary
		if find == nil {
			find = exec.LookPath
		}
		path, err := find(argv[0])
		if err != nil {
			return nil, err
		}
		cmd = exec.CommandContext(ctx, path, argv[1:]...)
		cmd.Env = append(os.Environ(), r.Vars...)
	} else {
		if len(r.SSH) == 0 {
			return nil, errors.New("no ssh command")
		}
		args := append(slices.Clone(r.SSH[1:]), host, CommandLine(r.Vars, argv))
		cmd = exec.CommandContext(ctx, r.SSH[0], args...)
	}
	// Ended early (tpm-log -f interrupted, its reader gone): ssh closes the
	// session on TERM, and the remote command sees its output go away.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	return cmd, nil
}

// status reads what Run or Wait returned: the exit status, and an error
// only when the command could not be run at all.
func status(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil // -1 for a signal
	}
	return -1, err
}
