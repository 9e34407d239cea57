package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/remote"
)

// HostFlag is --host, embedded (`embed:""`) in the grammars of the commands
// that run on several machines: tpm-ls, tpm-log, tpm-start NAME, tpm-stop,
// tpm-restart. Without it, TPM_HOSTS gives the hosts; an empty list or
// "local" is this machine.
type HostFlag struct {
	Host hostList `placeholder:"H1,H2" help:"Run on these hosts over ssh, all at once (comma-separated; local is this machine); default $TPM_HOSTS. TPM_SSH replaces the ssh command."`
}

// hostList is the value of --host: repeatable, comma-separated.
type hostList struct {
	set  bool
	list []string
}

func (h *hostList) Decode(ctx *kong.DecodeContext) error {
	var s string
	if err := ctx.Scan.PopValueInto("host", &s); err != nil {
		return err
	}
	hs, err := remote.ParseHosts(s)
	if err != nil {
		return err
	}
	h.set = true
	for _, x := range hs {
		if !slices.Contains(h.list, x) {
			h.list = append(h.list, x)
		}
	}
	return nil
}

// Hosts returns the hosts to run on, or nil for this machine alone: those of
// --host, else those of TPM_HOSTS.
func (f *HostFlag) Hosts() ([]string, error) {
	hs := f.Host.list
	if !f.Host.set {
		var err error
		if hs, err = remote.ParseHosts(os.Getenv("TPM_HOSTS")); err != nil {
			return nil, exit.With(exit.Usage, fmt.Errorf("TPM_HOSTS: %w", err))
		}
	}
	if remote.OnlyLocal(hs) {
		return nil, nil
	}
	return hs, nil
}

// FromEnv reports whether the hosts come from TPM_HOSTS (no --host given),
// for messages that must say where they come from.
func (f *HostFlag) FromEnv() bool { return !f.Host.set }

// RemoteArgs is the command line to run on each host: the command's name
// and its arguments without --host (a host never fans out again). Only what
// comes before a "--" can be the flag.
func RemoteArgs(name string, args []string) []string {
	out := []string{name}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(out, args[i:]...)
		case a == "--host":
			i++ // and its value
		case strings.HasPrefix(a, "--host="):
		default:
			out = append(out, a)
		}
	}
	return out
}

// Runner returns the runner of a command on hosts: ssh as TPM_SSH says,
// vars set on every host (TPM_HOSTS emptied first, so that a host whose
// environment sets it does not fan out again), and this machine's binaries
// found as Companion finds them.
func Runner(vars ...string) (*remote.Runner, error) {
	ssh, err := remote.SSHCommand(os.Getenv("TPM_SSH"))
	if err != nil {
		return nil, exit.With(exit.Usage, err)
	}
	return &remote.Runner{
		SSH:    ssh,
		Vars:   append([]string{"TPM_HOSTS="}, vars...),
		Binary: Companion,
	}, nil
}

// HostLine prints a line a host's command wrote on stderr as this command's
// own, "tpm-ls: HOST: message": the remote "tpm-ls: " is replaced, and any
// other line (ssh's, the remote shell's) is kept whole after the host.
func (e *Env) HostLine(host, line string) {
	line = strings.TrimRight(line, "\r\n")
	msg := strings.TrimPrefix(line, e.Name+": ")
	if strings.TrimSpace(msg) == "" {
		return
	}
	fmt.Fprintf(e.Stderr, "%s: %s: %s\n", e.Name, host, msg)
}

// HostErrors prints what a collected job wrote on stderr (HostLine) and
// returns the exit code it stands for (HostCode).
func (e *Env) HostErrors(j *remote.Job) int {
	said := false
	sc := bufio.NewScanner(j.Stderr.Reader())
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			said = true
		}
		e.HostLine(j.Host, sc.Text())
	}
	code := e.HostCode(j, said)
	if err := j.Stdout.Err(); err != nil {
		e.HostLine(j.Host, fmt.Sprintf("part of its output is lost: %v", err))
		code = max(code, exit.Failure)
	}
	return code
}

// HostCode returns the exit code of a job's end, saying what its own
// messages (said: there were some) leave out: ssh that failed (69, as a
// host that cannot be reached is a resource unavailable), a command not
// found there (69, with a hint), one killed by a signal (1). A remote
// command's own code stands as it is.
func (e *Env) HostCode(j *remote.Job, said bool) int {
	name := e.Name
	switch {
	case j.Err != nil:
		e.HostLine(j.Host, fmt.Sprintf("cannot run: %v", j.Err))
		return exit.Unavailable
	case j.Status == remote.StatusSSH:
		if !said {
			e.HostLine(j.Host, "ssh failed (exit status 255)")
		}
		return exit.Unavailable
	case j.Status == 126 || j.Status == 127:
		if !said {
			e.HostLine(j.Host, fmt.Sprintf("%s could not be run there (exit status %d)", name, j.Status))
		}
		e.HostLine(j.Host, fmt.Sprintf("hint: install tpm there, on the PATH that ssh commands get (ssh %s 'command -v %s')", j.Host, name))
		return exit.Unavailable
	case j.Status < 0:
		e.HostLine(j.Host, "ended by a signal")
		return exit.Failure
	}
	return j.Status
}

// WithHost writes a JSON object again with "host" as its first member and
// every other member as it came, in its order (a member "host" it had, a
// meta field of that name, gives way).
func WithHost(host string, obj []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object: %.40q", obj)
	}
	var o Object
	o.Str("host", host)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if k != "host" {
			o.Raw(k, string(v))
		}
	}
	return []byte(o.String()), nil
}

// OnHosts runs argv on hosts (RemoteArgs) and prints, host by host in the
// order given as soon as each is done, every line it printed prefixed
// "HOST: ", and its errors as HostErrors does. The error carries the worst
// exit code. It is the whole of tpm-stop, tpm-start NAME and tpm-restart
// with --host: their lines say what was done, one per process.
func (e *Env) OnHosts(hosts, argv []string) error {
	r, err := Runner("TPM_TERMINAL=0", "NO_COLOR=1")
	if err != nil {
		return err
	}
	code := exit.OK
	for _, j := range r.Run(context.Background(), hosts, argv) {
		j.Wait()
		var b strings.Builder
		sc := bufio.NewScanner(j.Stdout.Reader())
		sc.Buffer(make([]byte, 0, 4096), 1<<20)
		for sc.Scan() {
			b.WriteString(j.Host)
			b.WriteString(": ")
			b.WriteString(sc.Text())
			b.WriteByte('\n')
		}
		io.WriteString(e.Stdout, b.String())
		code = max(code, e.HostErrors(j))
		j.Close()
	}
	if code != exit.OK {
		return Silent(code)
	}
	return nil
}
