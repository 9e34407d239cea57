package lscmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/exit"
)

// tpm-ls --host: tpm-ls runs on every host at once (lib/remote), in its
// piped form, -q or --json, and its rows come back here with the host in
// front: a HOST column first in the table and in piped output, a "host"
// member first in each JSON object. A host that fails says so on stderr
// ("tpm-ls: HOST: message"); the others' rows are printed all the same,
// and the exit code is the worst of them.

// onHosts runs tpm-ls on the hosts of --host or TPM_HOSTS; done is false
// when there are none (this machine alone).
func onHosts(e *cli.Env, g *grammar) (done bool, err error) {
	hosts, err := g.Hosts()
	if hosts == nil || err != nil {
		return err != nil, err
	}
	return true, listHosts(e, g, hosts)
}

func listHosts(e *cli.Env, g *grammar, hosts []string) error {
	r, err := cli.Runner("TPM_TERMINAL=0", "NO_COLOR=1")
	if err != nil {
		return err
	}
	human := !g.Quiet && !g.JSON && cli.Terminal(e.Stdout)
	colour := cli.Colour(e.Stdout)
	var tb cli.Table
	if human {
		tb.Row("HOST", "NAME", "STATUS", "PID", "PORT", "UPTIME", "RESTARTS", "CPU", "MEM")
	}
	rows := 0
	var objs [][]byte
	code := exit.OK
	bad := func(host string, err error) {
		e.HostLine(host, fmt.Sprintf("unreadable answer: %v", err))
		code = max(code, exit.Failure)
	}
	jobs := r.Run(context.Background(), hosts, cli.RemoteArgs(e.Name, e.Args))
	for _, j := range jobs {
		j.Wait()
		code = max(code, e.HostErrors(j))
		if g.JSON {
			got, err := hostObjects(j.Host, j.Stdout.Reader())
			if err != nil {
				bad(j.Host, err)
			}
			objs = append(objs, got...)
			j.Close()
			continue
		}
		sc := bufio.NewScanner(j.Stdout.Reader())
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		for sc.Scan() {
			line := sc.Text()
			rows++
			if !human {
				tb.Row(j.Host, line)
				continue
			}
			tb.Row(append([]string{j.Host}, humanRow(strings.Split(line, "\t"), colour)...)...)
		}
		if err := sc.Err(); err != nil {
			bad(j.Host, err)
		}
		j.Close()
	}
	if g.JSON {
		err = writeObjects(e, objs)
	} else if rows > 0 || !human {
		err = tb.Write(e.Stdout, human)
	}
	if err != nil {
		return err
	}
	if code != exit.OK {
		return cli.Silent(code)
	}
	return nil
}

// humanRow turns a piped row (raw numbers) into the terminal's cells, as
// writeTable writes them. A row of another form (a newer tpm there) is
// shown as it came.
func humanRow(f []string, colour bool) []string {
	if len(f) != 8 {
		return f
	}
	pid, err1 := strconv.ParseInt(f[2], 10, 64)
	secs, err2 := strconv.ParseInt(f[4], 10, 64)
	cpu, err3 := strconv.ParseFloat(f[6], 64)
	rss, err4 := strconv.ParseInt(f[7], 10, 64)
	if errors.Join(err1, err2, err3, err4) != nil {
		return f
	}
	dash := func(s string) string {
		if s == "0" {
			return "-"
		}
		return s
	}
	// The piped form gives a PID only while the program runs.
	up, cput, mem := "-", "-", "-"
	if pid != 0 {
		up = cli.Duration(time.Duration(secs) * time.Second)
		cput = cli.CPUTime(time.Duration(cpu * float64(time.Second)))
		mem = cli.Bytes(rss)
	}
	return []string{f[0], cli.Paint(colour, statusColour[f[1]], f[1]), dash(f[2]), dash(f[3]), up, f[5], cput, mem}
}

// hostObjects reads a host's JSON array and gives each object a "host"
// member first (one the objects had, a meta field named host, gives way).
func hostObjects(host string, r io.Reader) ([][]byte, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil // the host said why on stderr
	}
	var arr []json.RawMessage
	if err := json.Unmarshal(data, &arr); err != nil {
		return nil, err
	}
	out := make([][]byte, 0, len(arr))
	for _, raw := range arr {
		obj, err := cli.WithHost(host, raw)
		if err != nil {
			return out, err
		}
		out = append(out, obj)
	}
	return out, nil
}

// writeObjects prints the objects as tpm-ls --json prints its own.
func writeObjects(e *cli.Env, objs [][]byte) error {
	var b bytes.Buffer
	b.WriteString("[")
	for i, o := range objs {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n  ")
		b.Write(o)
	}
	if len(objs) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	_, err := e.Stdout.Write(b.Bytes())
	return err
}
