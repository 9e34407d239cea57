// Package lscmd is tpm-ls: it lists processes with their derived status.
//
// On a terminal it prints an aligned table with a header and human units;
// piped, one process per line, fields separated by single tabs, raw numbers
// (seconds, bytes), no header. It reads files and /proc only: it never takes
// a lock, so it never waits on another tpm command.
package lscmd

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/events"
	"github.com/tetra-toolkit/tpm/lib/proc"
	"github.com/tetra-toolkit/tpm/lib/state"
)

type grammar struct {
	Quiet    bool     `short:"q" help:"Print names only."`
	JSON     bool     `help:"Print a JSON array: every meta field plus status, uptime, cpu, memory and the last lifecycle event."`
	Status   []string `placeholder:"S" help:"Only processes with this status (online, launching, restarting, stopping, stopped, exited, errored, stale, unsupervised, unhealthy, invalid); a comma-separated list or repeated."`
	Patterns []string `arg:"" optional:"" name:"PATTERN" help:"Names or shell globs ('api-*') to list; all when none."`

	cli.HostFlag `embed:""` // --host: lscmd/host.go
}

const description = `List tpm's processes.

Columns: NAME STATUS PID PORT UPTIME RESTARTS CPU MEM. CPU is the processor time
and MEM the resident memory of the whole process group. On a terminal: an
aligned table with a header and human units. Piped: no header, one process per
line, fields separated by single tabs, raw numbers (seconds, bytes).

Exit codes: 0 ok, 64 usage, 66 a name or pattern matches nothing.`

// Main runs tpm-ls and returns its exit status.
func Main(e *cli.Env) int {
	var g grammar
	return e.Run(&g, description, func() error { return run(e, &g) })
}

type row struct {
	r      *state.Record
	uptime time.Duration
	usage  proc.Usage
}

func run(e *cli.Env, g *grammar) error {
	if done, err := onHosts(e, g); done {
		return err
	}
	var statuses []string
	for _, s := range g.Status {
		for _, one := range strings.Split(s, ",") {
			if !slices.Contains(state.Statuses, one) {
				return cli.Usagef("unknown status %q: want one of %s", one, strings.Join(state.Statuses, ", "))
			}
			statuses = append(statuses, one)
		}
	}
	t, err := state.Open()
	if err != nil {
		return err
	}
	var want []string
	if len(g.Patterns) > 0 {
		if want, err = cli.Resolve(t, g.Patterns); err != nil {
			return err
		}
	}
	recs, err := t.LoadAll()
	if err != nil {
		return err
	}
	kept := recs[:0]
	for _, r := range recs {
		if want != nil && !slices.Contains(want, r.Name) {
			continue
		}
		if len(statuses) > 0 && !slices.Contains(statuses, r.Status) {
			continue
		}
		if r.Err != nil {
			e.Warnf("%v", r.Err)
		}
		kept = append(kept, r)
	}
	rows := make([]row, len(kept))
	if g.Quiet {
		for i, r := range kept {
			rows[i].r = r
		}
	} else {
		ps, err := Measure(kept) // what tpm-serve shows too
		if err != nil {
			e.Warnf("cannot measure CPU and memory: %v", err)
		}
		for i, p := range ps {
			rows[i] = row{r: p.Record, uptime: p.Uptime, usage: p.Usage}
		}
	}
	switch {
	case g.Quiet:
		var b strings.Builder
		for _, r := range rows {
			b.WriteString(r.r.Name)
			b.WriteByte('\n')
		}
		_, err = fmt.Fprint(e.Stdout, b.String())
	case g.JSON:
		err = writeJSON(e, t, rows)
	default:
		err = writeTable(e, rows)
	}
	return err
}

func writeTable(e *cli.Env, rows []row) error {
	human := cli.Terminal(e.Stdout)
	colour := cli.Colour(e.Stdout)
	var tb cli.Table
	if human {
		tb.Row("NAME", "STATUS", "PID", "PORT", "UPTIME", "RESTARTS", "CPU", "MEM")
	}
	for _, rw := range rows {
		r := rw.r
		var pid, port, restarts int64
		if m := r.Meta; m != nil {
			port, restarts = m.Int("port"), m.Int(state.KeyRestarts)
			if r.ProgAlive {
				pid = int64(r.Prog.PID)
			}
		}
		if !human {
			tb.Row(r.Name, r.Status, itoa(pid), itoa(port), itoa(int64(rw.uptime/time.Second)), itoa(restarts),
				strconv.FormatFloat(rw.usage.CPU.Seconds(), 'f', 2, 64), itoa(rw.usage.RSS))
			continue
		}
		dash := func(n int64, s string) string {
			if n == 0 {
				return "-"
			}
			return s
		}
		up, cpu, mem := "-", "-", "-"
		if r.ProgAlive {
			up, cpu, mem = cli.Duration(rw.uptime), cli.CPUTime(rw.usage.CPU), cli.Bytes(rw.usage.RSS)
		}
		tb.Row(r.Name, cli.Paint(colour, statusColour[r.Status], r.Status), dash(pid, itoa(pid)), dash(port, itoa(port)),
			up, itoa(restarts), cpu, mem)
	}
	if human && len(rows) == 0 {
		return nil
	}
	return tb.Write(e.Stdout, human)
}

var statusColour = map[string]string{
	state.Online: "green", state.Launching: "cyan", state.Restarting: "yellow", state.Stopping: "yellow",
	state.Stopped: "grey", state.Exited: "grey", state.Errored: "red", state.Stale: "magenta", state.Invalid: "red",
	// Alive but unwatched: as a stale record, something to look at.
	state.Unsupervised: "magenta",
	state.Unhealthy:    "red",
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// derived are the members tpm-ls adds; a meta field of the same name (a
// TSM-era status=, say) is left out rather than written twice.
var derived = []string{"name", "status", "error", "uptime", "cpu", "memory", "processes", "supervised", "last_event"}

func writeJSON(e *cli.Env, t *state.Tree, rows []row) error {
	last := lastEvents(t, rows)
	var b strings.Builder
	b.WriteString("[")
	for i, rw := range rows {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n  ")
		var o cli.Object
		o.Str("name", rw.r.Name)
		o.Str("status", rw.r.Status)
		if rw.r.Meta != nil {
			o.Meta(rw.r.Meta, derived...)
		} else {
			o.Str("error", rw.r.Err.Error())
		}
		o.Int("uptime", int64(rw.uptime/time.Second))
		o.Raw("cpu", strconv.FormatFloat(rw.usage.CPU.Seconds(), 'f', 2, 64))
		o.Int("memory", rw.usage.RSS)
		o.Int("processes", int64(rw.usage.N))
		o.Raw("supervised", strconv.FormatBool(rw.r.SupAlive))
		o.Raw("last_event", last[i])
		b.WriteString(o.String())
	}
	if len(rows) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	_, err := fmt.Fprint(e.Stdout, b.String())
	return err
}

// usageOf is the CPU and memory of a record's program: its whole group when
// it leads one (a shell script's children count), else the program alone. A
// program that does not lead its group (one the bash TPM started with its
// shell's group, say) shares it with processes that are not its own.
func usageOf(r *state.Record, groups map[int]proc.Usage) proc.Usage {
	switch {
	case !r.ProgAlive:
		return proc.Usage{}
	case r.Prog.PGID == r.Prog.PID:
		return groups[r.Prog.PGID]
	}
	return proc.Usage{CPU: r.Prog.CPU, RSS: r.Prog.RSS, N: 1}
}

// lastEvents reads the last event of each row, on every CPU as state reads
// the records: a file to open per process is most of --json's extra cost.
func lastEvents(t *state.Tree, rows []row) []string {
	out := make([]string, len(rows))
	state.Each(len(rows), func(i int) { out[i] = lastEvent(t, rows[i].r.Name) })
	return out
}

// lastEvent is the JSON form of the last line of NAME's events file, or
// null when it has none: {"time": RFC 3339, "event": KIND, its fields as
// strings}. Only --json reads it, and only the end of the file (one pread),
// so a long list stays cheap.
func lastEvent(t *state.Tree, name string) string {
	ev, ok, err := events.Last(t.Events(name))
	if err != nil || !ok {
		return "null"
	}
	var o cli.Object
	o.Str("time", ev.Time.Format(time.RFC3339))
	o.Str("event", ev.Kind)
	for _, f := range ev.Extra() {
		o.Str(f.Key, f.Value)
	}
	return o.String()
}
