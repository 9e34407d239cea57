package startcmd

import (
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/proc"
	"github.com/tetra-toolkit/tpm/lib/state"
	"github.com/tetra-toolkit/tpm/lib/stop"
)

// tpm-start --foreground is PM2's pm2-runtime, for a container's CMD: it
// starts the apps as usual, then stays: their lines go to its own stdout
// and stderr with a NAME | prefix (two tpm-log -f of its own), TERM and INT
// stop them all, and it ends once every app has ended for good, with the
// worst exit code (or, with --exit-on-error, as soon as one is errored,
// stopping the others). Run as PID 1, it also reaps the orphans a container
// leaves to it.

func foreground(e *cli.Env, g *grammar, t *state.Tree, startErr error) error {
	names := g.started
	if len(names) == 0 {
		if startErr != nil {
			return startErr
		}
		return exit.Errorf(exit.Failure, "nothing was started")
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	defer signal.Stop(sigs)
	reapOrphans()

	followers := []*exec.Cmd{}
	if bin, err := cli.Companion("tpm-log"); err == nil {
		for _, f := range []struct {
			args []string
			out  io.Writer
		}{{[]string{"--out"}, e.Stdout}, {[]string{"--err", "--events"}, e.Stderr}} {
			since := g.began.Truncate(time.Second).Format(time.RFC3339)
			args := append([]string{"-f", "--until-stopped", "-n", "all", "--since", since, "--prefix"}, f.args...)
			c := exec.Command(bin, append(args, names...)...)
			c.Env = append(os.Environ(), "TPM_HOSTS=") // this machine's logs, whatever the user's hosts
			c.Stdout = f.out
			c.Stderr = e.Stderr
			if c.Start() == nil {
				followers = append(followers, c)
			}
		}
	} else {
		e.Warnf("%v: the apps' lines stay in their logs", err)
	}

	// Each app's supervisor ends once its program is down for good.
	ended := make(chan string, len(names))
	for _, n := range names {
		m, err := t.ReadMeta(n)
		if err != nil {
			ended <- n
			continue
		}
		sup, tok := int(m.Int(state.KeySupPid)), m.Value(state.KeySupToken)
		go func() {
			for !proc.WaitGone(sup, tok, 0, time.Hour) {
			}
			ended <- n
		}()
	}
	code, left, stopping := exit.OK, len(names), false
	stopAll := func() {
		stopping = true
		var wg sync.WaitGroup
		for _, n := range names {
			wg.Go(func() { stop.Stop(t, n, stop.Options{}) })
		}
		wg.Wait()
	}
	for left > 0 {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGCHLD {
				reapOrphans()
				continue
			}
			if !stopping {
				go stopAll()
			}
		case n := <-ended:
			left--
			c := finalCode(t, n)
			code = max(code, c)
			if g.ExitOnError && c != exit.OK && !stopping {
				e.Warnf("%s ended with a failure: stopping the others (--exit-on-error)", n)
				go stopAll()
			}
		}
	}
	// The followers end once nothing of the apps runs, every line shown.
	for _, c := range followers {
		c.Wait()
	}
	reapOrphans()
	if code != exit.OK {
		return cli.Silent(code)
	}
	return nil
}

// finalCode is what an app's end means for tpm-start --foreground's exit:
// 0 for an app stopped or ended well, its exit code for one that failed
// (128+N for a signal, 1 when nothing better is known).
func finalCode(t *state.Tree, n string) int {
	m, err := t.ReadMeta(n)
	if err != nil {
		return exit.Failure
	}
	if m.Value(state.KeyState) != state.Errored {
		return exit.OK
	}
	if c, err := strconv.Atoi(m.Value(state.KeyExitCode)); err == nil && c > 0 {
		return min(c, 255)
	}
	return exit.Failure
}

// reapOrphans reaps every child that has ended: the supervisors, and, as
// PID 1 in a container, the orphans given to us.
func reapOrphans() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
