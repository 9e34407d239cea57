package logcmd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/remote"
)

// tpm-log --host: tpm-log runs on every host at once (lib/remote) with the
// same arguments. From one host its lines come as they are. From several,
// each line is prefixed "HOST:NAME | " (the hosts' tpm-log are asked for
// their "NAME | " prefix, which becomes this one), and the hosts' lines are
// shown host by host in the order given; with -f, as they come from all the
// hosts at once, whole lines only. With --json each object gets a "host"
// member first. A host that fails says so on stderr ("tpm-log: HOST:
// message") and the others go on; the exit code is the worst.

// onHosts runs tpm-log on the hosts of --host or TPM_HOSTS; done is false
// when there are none (this machine alone).
func onHosts(e *cli.Env, g *grammar) (done bool, err error) {
	hosts, err := g.Hosts()
	if hosts == nil || err != nil {
		return err != nil, err
	}
	return true, logHosts(e, g, hosts)
}

// hostLog turns the hosts' lines into this command's.
type hostLog struct {
	out      *bufio.Writer
	prefixed bool // "HOST:NAME | ": several hosts
	json     bool // a "host" member in each object
	terminal bool
	colour   bool
	pad      int            // the width of HOST:NAME on a terminal
	colours  map[string]int // HOST:NAME's colour, in the order seen
}

func logHosts(e *cli.Env, g *grammar, hosts []string) error {
	terminal := cli.Terminal(e.Stdout)
	h := &hostLog{
		out:      bufio.NewWriterSize(e.Stdout, 64<<10),
		prefixed: len(hosts) > 1 && !g.NoPrefix && !g.JSON,
		json:     g.JSON,
		terminal: terminal,
		colour:   cli.Colour(e.Stdout),
		colours:  map[string]int{},
	}
	vars := []string{"TPM_TERMINAL=0", "NO_COLOR=1"}
	if terminal {
		vars[0] = "TPM_TERMINAL=1" // events marked as on a terminal here
	}
	if h.colour && !h.prefixed {
		vars = vars[:1] // one host's lines come as they are, colours too
	}
	r, err := cli.Runner(vars...)
	if err != nil {
		return err
	}
	argv := cli.RemoteArgs(e.Name, e.Args)
	if h.prefixed {
		// Each host's "NAME | ", even for one process: the host goes in it.
		argv = append([]string{argv[0], "--prefix"}, argv[1:]...)
	}
	if g.Follow {
		return h.follow(e, r, hosts, argv)
	}
	// A reader that goes away (| head) ends the hosts still running.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	jobs := r.Run(ctx, hosts, argv)
	if h.prefixed && terminal {
		for _, j := range jobs {
			j.Wait()
			h.widen(j)
		}
	}
	code := exit.OK
	for _, j := range jobs {
		j.Wait()
		err := h.copy(j, j.Stdout.Reader())
		if err == nil {
			err = closed(h.out.Flush())
		}
		if err != nil {
			cancel()
			for _, j := range jobs {
				j.Wait()
				j.Close()
			}
			return err
		}
		code = max(code, e.HostErrors(j))
		j.Close()
	}
	if code != exit.OK {
		return cli.Silent(code)
	}
	return nil
}

// widen makes room for the names of a host's lines, from its first line
// (a host's tpm-log on a terminal pads its names to one width).
func (h *hostLog) widen(j *remote.Job) {
	first, err := bufio.NewReaderSize(j.Stdout.Reader(), 4096).ReadSlice('\n')
	if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
		return
	}
	if i := bytes.Index(first, []byte(" | ")); i > 0 {
		h.pad = max(h.pad, len(j.Host)+1+i)
	}
}

// copy writes what a host printed, each line in this command's form.
func (h *hostLog) copy(j *remote.Job, r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	first := true
	for {
		data, err := br.ReadSlice('\n')
		if len(data) > 0 {
			if werr := h.piece(j.Host, first, data); werr != nil {
				return werr
			}
			first = data[len(data)-1] == '\n'
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case err == io.EOF:
			if !first {
				return closed(h.out.WriteByte('\n'))
			}
			return nil
		default:
			return err
		}
	}
}

// piece writes a piece of a host's line: a line's first piece with the
// host put in (prefix or JSON member), the others as they are.
func (h *hostLog) piece(host string, first bool, data []byte) error {
	switch {
	case !first || !h.prefixed && !h.json:
		_, err := h.out.Write(data)
		return closed(err)
	case h.json:
		line := bytes.TrimRight(data, "\r\n")
		obj, err := cli.WithHost(host, line)
		if err != nil {
			obj = line // not an object (cut in pieces, or a newer form): as it came
		}
		h.out.Write(obj)
		if len(line) < len(data) {
			return closed(h.out.WriteByte('\n'))
		}
		return nil
	}
	// "NAME   | line" (names have no blanks) becomes "HOST:NAME | line".
	name, rest := "", data
	if sp := bytes.IndexByte(data, ' '); sp > 0 {
		after := bytes.TrimLeft(data[sp:], " ")
		if r, ok := bytes.CutPrefix(after, []byte("| ")); ok {
			name, rest = string(data[:sp]), r
		}
	}
	key := host
	if name != "" {
		key = host + ":" + name
	}
	c, ok := h.colours[key]
	if !ok {
		c = len(h.colours) % len(cli.Palette)
		h.colours[key] = c
	}
	if h.terminal {
		h.pad = max(h.pad, len(key))
	}
	h.out.WriteString(cli.Paint(h.colour, cli.Palette[c], key))
	if h.terminal && h.pad > len(key) {
		h.out.WriteString(strings.Repeat(" ", h.pad-len(key)))
	}
	h.out.WriteString(" | ")
	_, err := h.out.Write(rest)
	return closed(err)
}

// follow streams the hosts' lines as they come, until every host's tpm-log
// ends (--until-stopped, or a host that fails), SIGINT or SIGTERM comes, or
// the reader goes away. Those end it quietly, and the hosts' sessions with
// it: their tpm-log see their output close and end.
func (h *hostLog) follow(e *cli.Env, r *remote.Runner, hosts, argv []string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sig)
	var gone <-chan struct{}
	if f, ok := e.Stdout.(*os.File); ok {
		gone = hangup(f)
	}
	ended := make(chan struct{})
	var quit atomic.Bool
	go func() {
		select {
		case <-sig:
		case <-gone:
		case <-ended:
			return
		}
		// What ssh says of its end ("Killed by signal 15.") is not news.
		quit.Store(true)
		cancel()
	}()
	said := map[*remote.Job]bool{}
	partial := map[*remote.Job][]byte{} // a line of stderr not yet ended
	jobs, err := r.Stream(ctx, hosts, argv, func(p remote.Piece) error {
		if p.Stderr {
			if quit.Load() {
				return nil
			}
			line := append(partial[p.Job], p.Data...)
			if line[len(line)-1] != '\n' {
				if len(line) < 64<<10 {
					partial[p.Job] = line
				}
				return nil
			}
			delete(partial, p.Job)
			if strings.TrimSpace(string(line)) != "" {
				said[p.Job] = true
			}
			e.HostLine(p.Job.Host, string(line))
			return nil
		}
		if err := h.piece(p.Job.Host, p.First, p.Data); err != nil {
			return err
		}
		if p.Data[len(p.Data)-1] == '\n' {
			return closed(h.out.Flush())
		}
		return nil
	})
	close(ended)
	if quit.Load() {
		return errClosed // as tpm-log -f ended by ^C: 0, whatever the hosts said before
	}
	if err != nil {
		return err // the reader went away: errClosed
	}
	code := exit.OK
	for _, j := range jobs {
		code = max(code, e.HostCode(j, said[j]))
	}
	if code != exit.OK {
		return cli.Silent(code)
	}
	return nil
}
