package ecosystem

// PM2's saved process list. The policy: `tpm-start ~/.pm2/dump.pm2` starts
// what `pm2 resurrect` would, as the ecosystem file that describes those
// processes would start them. Each process PM2 saved becomes an ecosystem
// app (its pm_exec_path the script, pm_cwd the cwd, exec_interpreter the
// interpreter...) and goes through the same reading, validation and
// warnings as an app of a config: tpm honours the same fields of both.
//
// A dump is not a config, though. `pm2 save` writes PM2's whole record of
// each running process, so:
//   - what PM2 keeps for itself (status, pm_uptime, axm_*, log paths, ids)
//     is dropped in silence, and so are options at PM2's default values
//     (watch false, treekill true): only what the user chose can warn;
//   - every variable of env is also copied beside the fields (PM2 merges
//     them into its record), so a field that is a copy of a variable is
//     not a field;
//   - env is the environment the program ran with: the shell's of `pm2
//     start`, the app's env and the --env it was started with, already
//     merged. PM2's own variables in it (PM2_HOME, PM2_USAGE, unique_id,
//     NODE_APP_INSTANCE, the app's module settings under its own name) are
//     dropped; the rest is the user's and is kept, PATH and HOME too, as
//     `pm2 resurrect` keeps them. env_<NAME> lists are dropped: they were
//     merged when the app started;
//   - the instances of an app are separate entries of one name (pm2 save
//     drops "instances"): they fold back into one app with as many
//     instances, which tpm starts as NAME-0 ... NAME-(N-1) (SPEC §3);
//   - a process PM2 had stopped stays stopped, as `pm2 resurrect` leaves it
//     (PM2 7 registers it without starting it): it is named in a warning,
//     and --only NAME starts it all the same.
//
// `pm2 jlist` prints the same records, each wrapped with its pid and
// metrics; a .json file of that shape is read as a dump too.

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tetra-toolkit/tpm/lib/names"
)

// IsDump reports whether path names a PM2 process list by its name:
// dump.pm2 (or any NAME.pm2), and the backup pm2 save keeps beside it,
// dump.pm2.bak. The folder ~/.pm2 itself is not one.
func IsDump(path string) bool {
	base := strings.ToLower(filepath.Base(path))
	base = strings.TrimSuffix(base, ".bak")
	return strings.HasSuffix(base, ".pm2") && base != ".pm2"
}

// isDumpList reports whether a JSON tree is a list of PM2 process records
// (from pm2 save or pm2 jlist), which no ecosystem file is: every entry has
// pm_exec_path, the absolute script PM2 resolved.
func isDumpList(tree any) bool {
	list, ok := tree.([]any)
	if !ok || len(list) == 0 {
		return false
	}
	for _, v := range list {
		o, ok := v.(*object)
		if !ok {
			return false
		}
		o = unwrapJlist(o)
		if s, ok := o.vals["pm_exec_path"].(string); !ok || s == "" {
			return false
		}
	}
	return true
}

// unwrapJlist returns the record of a pm2 jlist entry ({pid, name, pm_id,
// monit, pm2_env: {...}}), or o itself for a pm2 save entry.
func unwrapJlist(o *object) *object {
	if env, ok := o.vals["pm2_env"].(*object); ok {
		return env
	}
	return o
}

// dumped is one process of a dump, turned into an ecosystem app.
type dumped struct {
	index    int      // its position in the file
	name     string   // as PM2 named it
	stopped  bool     // status "stopped": PM2 would not start it again
	instance int      // its instance number (NODE_APP_INSTANCE), to order instances
	program  []string // what instances of one app share: "script ...", "cwd ...", "args ..."
	app      *object  // the app, as an ecosystem file would give it
}

// readDump reads the processes of a dump as the apps of a config. path is
// the file as the caller named it, dir its folder.
func readDump(path, dir string, tree any, opt Options) ([]App, []string, error) {
	list, ok := tree.([]any)
	if !ok {
		return nil, nil, dataErr(path, "not a PM2 process list: the file holds %s, where pm2 save writes a list", kind(tree))
	}
	if len(list) == 0 {
		return nil, nil, dataErr(path, "no processes: the list is empty (pm2 save --force of no process, or pm2 cleardump)")
	}
	var groups [][]*dumped
	byName := map[string]int{}
	for i, v := range list {
		d, err := readDumped(path, i, v)
		if err != nil {
			return nil, nil, err
		}
		if g, ok := byName[d.name]; ok {
			groups[g] = append(groups[g], d)
			continue
		}
		byName[d.name] = len(groups)
		groups = append(groups, []*dumped{d})
	}

	apps := make([]any, len(groups))
	stopped := make([]bool, len(groups)) // every instance was stopped
	partly := make([]int, len(groups))   // how many of its instances were
	var started []string                 // the names of the others
	for gi, g := range groups {
		slices.SortStableFunc(g, func(a, b *dumped) int { return a.instance - b.instance })
		for _, d := range g {
			if diff := differ(g[0].program, d.program); diff != "" {
				return nil, nil, dataErr(path, "processes[%d] and processes[%d] are both named %q but run different programs (%s); tpm runs one program per name: rename one of them",
					g[0].index, d.index, d.name, diff)
			}
			if d.stopped {
				partly[gi]++
			}
		}
		a := g[0].app
		if len(g) > 1 {
			// What increment_var gave the later instances, tpm gives
			// them again from the first one's value.
			a.set("instances", json.Number(strconv.Itoa(len(g))))
		}
		apps[gi] = a
		if stopped[gi] = partly[gi] == len(g); !stopped[gi] {
			started = append(started, g[0].name)
		}
	}
	asked := opt.Only != nil
	if !asked && len(started) < len(groups) {
		// What --only would keep, so that the fields of a stopped app
		// do not warn; not nil even when nothing is left to start.
		opt.Only = append([]string{}, started...)
	}
	out, warnings, err := readApps(path, dir, apps, opt)
	if err != nil {
		return nil, nil, err
	}
	var notes []string
	for gi, g := range groups {
		if stopped[gi] && !asked {
			name, _ := names.Spaced(g[0].name)
			notes = append(notes, fmt.Sprintf("app %q was stopped when PM2 saved it: not started (--only %s starts it)", name, name))
		}
	}
	for _, a := range out {
		if n, all := partly[a.Index], len(groups[a.Index]); n > 0 && n < all {
			notes = append(notes, fmt.Sprintf("%s: %d of its %d instances were stopped when PM2 saved it; all %d start", a.Label(), n, all, all))
		}
	}
	return out, append(notes, warnings...), nil
}

// readDumped reads process i of a dump.
func readDumped(path string, i int, v any) (*dumped, error) {
	o, ok := v.(*object)
	if !ok {
		return nil, dataErr(path, "processes[%d] is %s, not a process record", i, kind(v))
	}
	o = unwrapJlist(o)
	script, _ := o.vals["pm_exec_path"].(string)
	if script == "" {
		return nil, dataErr(path, "processes[%d] has no pm_exec_path: not a process pm2 save wrote", i)
	}
	d := &dumped{index: i, instance: i}
	switch s := o.vals["name"].(type) {
	case json.Number:
		d.name = numberText(s)
	case string:
		d.name = s
	}
	if strings.TrimSpace(d.name) == "" {
		// PM2's own default: the script's name without its extension.
		base := filepath.Base(script)
		d.name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	d.stopped = o.vals["status"] == "stopped"
	instanceVar := "NODE_APP_INSTANCE"
	if s, ok := o.vals["instance_var"].(string); ok && s != "" {
		instanceVar = s
	}
	if n, ok := o.vals[instanceVar].(json.Number); ok {
		if k, err := strconv.Atoi(string(n)); err == nil {
			d.instance = k
		}
	}

	env, _ := o.vals["env"].(*object)
	a := newObject()
	a.set("name", d.name)
	a.set("script", script)
	for _, k := range o.keys {
		val := o.vals[k]
		switch k {
		case "name", "pm_exec_path", "instances":
		case "pm_cwd":
			a.set("cwd", val)
		case "exec_interpreter":
			a.set("interpreter", val)
		case "env":
			if env != nil {
				a.set("env", userEnv(env, d.name, instanceVar))
			} else {
				a.set("env", val) // not an object: the app's reader says so
			}
		default:
			if env != nil && env.has(k) || pm2Own(k, val, instanceVar) {
				continue
			}
			a.set(k, val)
		}
	}
	if a.vals["cwd"] == nil {
		a.set("cwd", filepath.Dir(script))
	}
	for _, k := range []string{"script", "cwd", "args", "interpreter", "node_args", "exec_mode"} {
		v := a.vals[k]
		if l, ok := v.([]any); ok && len(l) == 0 {
			v = nil // [] and no list at all are the same program
		}
		d.program = append(d.program, k+" "+encodeJSON(v))
	}
	d.app = a
	return d, nil
}

// differ names the first field where two programs differ, with both
// values ("script "/a.sh" and "/b.sh""), or returns "".
func differ(a, b []string) string {
	for i := range a {
		if a[i] != b[i] {
			k, va, _ := strings.Cut(a[i], " ")
			_, vb, _ := strings.Cut(b[i], " ")
			return fmt.Sprintf("%s %s and %s", k, va, vb)
		}
	}
	return ""
}

func (o *object) has(k string) bool {
	_, ok := o.vals[k]
	return ok
}

// pm2Bookkeeping are the fields of a saved process that PM2 keeps for
// itself: its state, ids, metrics, versions, log and pid paths, and the
// few fields whose meaning is taken from elsewhere (pm_exec_path for
// script). None of them is an option the user set.
var pm2Bookkeeping = map[string]bool{
	"status": true, "pm_uptime": true, "created_at": true, "restart_time": true,
	"unstable_restarts": true, "exit_code": true, "pm_id": true, "unique_id": true,
	"version": true, "versioning": true, "node_version": true, "username": true,
	"vizion_running": true, "km_link": true, "pm_out_log_path": true,
	"pm_err_log_path": true, "pm_log_path": true, "pm_pid_path": true,
	"prev_restart_delay": true, "pid": true, "monit": true, "started_inside": true,
	"script": true, "exec": true, "cwd": true, "interpreter": true,
	// Options whose effect is already in the record, or that only PM2's
	// own machinery reads: filter_env shaped env, merge_logs the log
	// paths; git metadata, the APM agent, Windows, its kill poll.
	"filter_env": true, "merge_logs": true, "combine_logs": true, "vizion": true,
	"pmx": true, "automation": true, "windowsHide": true, "kill_retry_time": true,
	"force": true, "autostart": true,
}

// pm2Own reports whether field k of a saved process is PM2's rather than
// an option the user chose: bookkeeping, the env_<NAME> lists (merged into
// env when the app started), instance variables, or an option at PM2's
// default value. The rest goes through the app reader, which honours it or
// names it in a warning.
func pm2Own(k string, v any, instanceVar string) bool {
	switch {
	case pm2Bookkeeping[k], k == instanceVar, k == "NODE_APP_INSTANCE",
		strings.HasPrefix(k, "env_"), strings.HasPrefix(k, "axm_"), strings.HasPrefix(k, "_"):
		return true
	}
	switch k {
	case "treekill":
		return v == true // tpm always signals the whole group
	case "namespace":
		return v == "default" || v == nil
	case "instance_var":
		return v == "NODE_APP_INSTANCE" || v == nil
	case "watch", "ignore_watch":
		switch w := v.(type) {
		case nil:
			return true
		case bool:
			return !w
		case string:
			return w == ""
		case []any:
			return len(w) == 0
		}
	}
	return false
}

// pm2EnvKeys are the variables PM2 writes into a process's env for itself
// (unique_id), or did in older versions (its state beside the fields). No
// program reads them under these lower-case names.
var pm2EnvKeys = map[string]bool{
	"unique_id": true, "pm_id": true, "status": true, "pm_uptime": true, "created_at": true,
	"restart_time": true, "unstable_restarts": true, "exit_code": true, "versioning": true,
	"node_version": true, "vizion_running": true, "km_link": true,
}

// userEnv is a saved env without PM2's own variables: the PM2_* settings
// of its CLI and daemon, the process's unique_id, its instance variable
// (tpm sets NODE_APP_INSTANCE itself for instances), and the entry PM2
// puts under the app's own name (its module settings, "{}" for an app;
// PM2 overwrites any variable of that name with it).
func userEnv(env *object, name, instanceVar string) *object {
	out := newObject()
	for _, k := range env.keys {
		switch {
		case strings.HasPrefix(k, "PM2_"), k == instanceVar, k == "NODE_APP_INSTANCE", k == name,
			pm2EnvKeys[k], strings.HasPrefix(k, "axm_"):
			continue
		}
		out.set(k, env.vals[k])
	}
	return out
}
