package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/systemd"
)

// Nomad task drivers tpm-export writes for. raw_exec runs the program as it
// runs under tpm (same files, same user as the Nomad client); exec isolates
// it in a chroot, where the script, its interpreter and its folder must be
// found (the client's chroot_env).
const (
	DriverRawExec = "raw_exec"
	DriverExec    = "exec"
)

// PortLabel names the PORT in the group's network: NOMAD_PORT_http.
const PortLabel = "http"

// JobOptions say how to write the job.
type JobOptions struct {
	ID          string
	Datacenters []string
	Driver      string
	// DynamicPorts lets Nomad choose each allocation's port (PORT is
	// ${NOMAD_PORT_http}); otherwise a fixed PORT is reserved as it is.
	DynamicPorts bool
}

// Group is the processes that become one task group: the instances
// NAME-0 ... NAME-(N-1) of one app, or one process.
type Group struct {
	Name  string
	Procs []*Process
}

// Groups gathers instances of one app (same base name, instance numbers
// recorded) into one group each, in the order first seen.
func Groups(ps []*Process) []*Group {
	var out []*Group
	byName := map[string]*Group{}
	for _, p := range ps {
		name := p.Spec.Name
		if i := p.Spec.Instance; i >= 0 {
			name = strings.TrimSuffix(name, "-"+strconv.Itoa(i))
		}
		g := byName[name]
		if g == nil {
			g = &Group{Name: name}
			byName[name] = g
			out = append(out, g)
		}
		g.Procs = append(g.Procs, p)
	}
	return out
}

// NomadJob builds the job of the processes ps: a service job with one task
// group per app. It returns, besides, what did not carry over, each line
// naming its group.
func NomadJob(ps []*Process, o JobOptions) (*api.Job, []string, error) {
	job := api.NewServiceJob(o.ID, o.ID, "", 0)
	// Region and priority left to the cluster's defaults.
	job.Region, job.Priority = nil, nil
	job.Datacenters = o.Datacenters
	// Marks the job as tpm-export's: --write replaces only such a file.
	job.Meta = map[string]string{"exported_by": "tpm-export"}
	var warnings []string
	for _, g := range Groups(ps) {
		tg, ws, err := taskGroup(g, o)
		if err != nil {
			return nil, nil, err
		}
		for _, w := range ws {
			warnings = append(warnings, g.Name+": "+w)
		}
		job.AddTaskGroup(tg)
	}
	return job, warnings, nil
}

func taskGroup(g *Group, o JobOptions) (*api.TaskGroup, []string, error) {
	first := g.Procs[0]
	s := first.Spec
	var warnings []string
	tg := api.NewTaskGroup(g.Name, len(g.Procs))

	argv, err := command(first)
	if err != nil {
		return nil, nil, err
	}
	config := map[string]any{"command": argv[0], "args": argv[1:]}
	if s.Cwd != "" {
		// raw_exec and exec start the program in the allocation's folder;
		// a shell moves to the program's own first, then becomes the
		// program (exec), so that Nomad's signals reach it.
		config = map[string]any{
			"command": "/bin/sh",
			"args":    append([]string{"-c", `cd "$0" && exec "$@"`, s.Cwd}, argv...),
		}
	}
	task := api.NewTask(g.Name, o.Driver)
	task.Config = config

	env, ws := groupEnv(g)
	warnings = append(warnings, ws...)
	ports := map[int]bool{}
	for _, p := range g.Procs {
		ports[p.Spec.Port] = true
	}
	switch {
	case s.Port == 0 && len(ports) == 1:
		// Listens on nothing.
	case o.DynamicPorts || len(ports) > 1:
		if !o.DynamicPorts {
			warnings = append(warnings, "its instances have a PORT each (increment_var): Nomad gives each allocation its own, ${NOMAD_PORT_http}")
		}
		tg.Networks = []*api.NetworkResource{{DynamicPorts: []api.Port{{Label: PortLabel}}}}
		env["PORT"] = "${NOMAD_PORT_" + PortLabel + "}"
	default:
		tg.Networks = []*api.NetworkResource{{ReservedPorts: []api.Port{{Label: PortLabel, Value: s.Port}}}}
		if len(g.Procs) > 1 {
			warnings = append(warnings, fmt.Sprintf("its %d instances share port %d: Nomad places them on different clients (or give --dynamic-ports)", len(g.Procs), s.Port))
		}
	}
	task.Env = env

	delay := restartDelay(s)
	burst, interval := startLimit(s, delay)
	// Nomad refuses an interval under 5s.
	interval = max(interval, 5*time.Second)
	rp := &api.RestartPolicy{
		Attempts: new(burst - 1),
		Interval: new(interval),
		Delay:    new(delay),
		Mode:     new("fail"),
	}
	rs := &api.ReschedulePolicy{
		// Once the local restarts are spent (tpm's errored), Nomad may
		// place the group elsewhere, backing off as it does by default.
		Delay:         new(30 * time.Second),
		DelayFunction: new("exponential"),
		MaxDelay:      new(time.Hour),
		Unlimited:     new(true),
	}
	if s.Restart == spec.RestartNo {
		rp.Attempts = new(0)
		rs = &api.ReschedulePolicy{Attempts: new(0), Unlimited: new(false)}
		warnings = append(warnings, "restart=no: Nomad neither restarts nor reschedules a failed run, but a service job is meant to run for good: one that ends is not left stopped as under tpm (a batch job runs once)")
	}
	if s.Restart == spec.RestartOnFailure {
		warnings = append(warnings, "restart=on-failure: Nomad restarts a service task whatever its exit code")
	}
	if len(s.StopExitCodes) > 0 {
		warnings = append(warnings, "stop_exit_codes: Nomad has no exit code that ends a service task for good")
	}
	tg.RestartPolicy = rp
	tg.ReschedulePolicy = rs

	task.KillTimeout = new(s.KillTimeout)
	if _, err := strconv.Atoi(s.Signal); err == nil {
		warnings = append(warnings, fmt.Sprintf("signal %s: Nomad takes signal names only; it stops the task with SIGINT", s.Signal))
	} else {
		task.KillSignal = killSignal(s.Signal)
	}
	if mem, ok := maxMemory(first); ok {
		mb := int((mem + 1<<20 - 1) >> 20)
		task.Resources = &api.Resources{MemoryMB: &mb}
	}
	warnings = append(warnings, first.Warnings...)
	tg.AddTask(task)
	return tg, warnings, nil
}

// groupEnv is the environment of a group's task: its first process's, with
// NODE_APP_INSTANCE following Nomad's allocation index. A variable whose
// value differs between instances (besides PORT and NODE_APP_INSTANCE) takes
// the first instance's value, and says so.
func groupEnv(g *Group) (map[string]string, []string) {
	env := map[string]string{}
	var skipped []string
	for _, kv := range g.Procs[0].Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if !systemd.EnvName(k) {
			skipped = append(skipped, k)
			continue
		}
		env[k] = v
	}
	var warnings []string
	if len(skipped) > 0 {
		warnings = append(warnings, "left out of the environment (not a variable name): "+strings.Join(skipped, " "))
	}
	if g.Procs[0].Spec.Instance >= 0 {
		env["NODE_APP_INSTANCE"] = "${NOMAD_ALLOC_INDEX}"
	}
	var differ []string
	for _, p := range g.Procs[1:] {
		for _, kv := range p.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			if k == "PORT" || k == "NODE_APP_INSTANCE" || !systemd.EnvName(k) {
				continue
			}
			if cur, ok := env[k]; (!ok || cur != v) && !slices.Contains(differ, k) {
				differ = append(differ, k)
			}
		}
	}
	if len(differ) > 0 {
		slices.Sort(differ)
		warnings = append(warnings, "its instances differ in "+strings.Join(differ, " ")+": every allocation gets the first instance's value")
	}
	return env, warnings
}

// EncodeJob writes job as Nomad's API and `nomad job run -json` read it,
// {"Job": {...}}, indented, leaving out the fields the api types write as
// null or "" (unset, to Nomad, as when absent), so that a person can read
// it.
func EncodeJob(job *api.Job) ([]byte, error) {
	var raw bytes.Buffer
	enc := json.NewEncoder(&raw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct{ Job *api.Job }{job}); err != nil {
		return nil, exit.With(exit.Failure, err)
	}
	lean, err := dropNulls(raw.Bytes())
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, lean, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// dropNulls removes the members of every object whose value is null or
// the empty string, keeping the order of the rest.
func dropNulls(data []byte) ([]byte, error) {
	data = bytes.TrimSpace(data)
	switch {
	case len(data) > 0 && data[0] == '{':
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		var b bytes.Buffer
		b.WriteByte('{')
		n := 0
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return nil, err
			}
			if t := string(bytes.TrimSpace(v)); t == "null" || t == `""` {
				continue
			}
			if v, err = dropNulls(v); err != nil {
				return nil, err
			}
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			k, _ := json.Marshal(tok)
			b.Write(k)
			b.WriteByte(':')
			b.Write(v)
		}
		b.WriteByte('}')
		return b.Bytes(), nil
	case len(data) > 0 && data[0] == '[':
		var items []json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return nil, err
		}
		var b bytes.Buffer
		b.WriteByte('[')
		for i, it := range items {
			it, err := dropNulls(it)
			if err != nil {
				return nil, err
			}
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(it)
		}
		b.WriteByte(']')
		return b.Bytes(), nil
	}
	return data, nil
}
