package ecosystem

// From the tree to apps. Values are taken as PM2 takes them: a number
// where a string is meant ("PORT: 3000"), a string where a number or a
// boolean is meant ("instances: '2'", "autorestart: 'false'"), null for
// "not set". Every app is read and checked, even those --only leaves out:
// a config with a broken app is a broken config.

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/names"
	"github.com/tetra-toolkit/tpm/lib/spec"
)

// readApps finds the app list in the tree, reads every app, and applies
// --only. dir is the config file's folder.
func readApps(path, dir string, tree any, opt Options) ([]App, []string, error) {
	list, err := appList(tree)
	if err != nil {
		return nil, nil, dataErr(path, "%v", err)
	}
	apps := make([]App, len(list))
	extra := make([][]string, len(list))
	renamed := make([]string, len(list))
	for i, v := range list {
		o, ok := v.(*object)
		if !ok {
			return nil, nil, dataErr(path, "apps[%d] is %s, not an app", i, kind(v))
		}
		if apps[i], extra[i], renamed[i], err = readApp(o, i, dir, opt.EnvName); err != nil {
			return nil, nil, exit.With(exit.DataErr, fmt.Errorf("%s: %w", path, err))
		}
	}
	seen := map[string]int{}
	for i, a := range apps {
		if a.Name == "" {
			continue
		}
		if j, ok := seen[a.Name]; ok {
			return nil, nil, dataErr(path, "apps[%d] and apps[%d] are both named %q", j, i, a.Name)
		}
		seen[a.Name] = i
	}
	if err := checkOrder(apps); err != nil {
		return nil, nil, exit.With(exit.DataErr, fmt.Errorf("%s: %w", path, err))
	}

	keep := make([]bool, len(apps))
	if opt.Only == nil {
		for i := range keep {
			keep[i] = true
		}
	}
	for _, want := range opt.Only {
		want, _ = names.Spaced(strings.TrimSpace(want))
		if want == "" {
			continue
		}
		i, ok := seen[want]
		if !ok {
			return nil, nil, exit.Errorf(exit.NoInput, "%s: no app named %q", path, want)
		}
		keep[i] = true
	}

	var out []App
	var warnings []string
	unused := map[string]bool{}
	hasEnv := false
	for i, a := range apps {
		if !keep[i] {
			continue
		}
		out = append(out, a)
		if renamed[i] != "" {
			warnings = append(warnings, fmt.Sprintf("app %q renamed %s", renamed[i], a.Name))
		}
		if a.ClusterMode {
			warnings = append(warnings, a.Label()+": exec_mode cluster runs its instances as separate processes")
		}
		if v, _ := list[i].(*object).get("wait_ready"); truthy(v) && a.Policy[spec.KeyWaitLog] == "" {
			// PM2's readiness is a message over its own IPC channel,
			// which a program under tpm has no end of.
			warnings = append(warnings, a.Label()+": wait_ready: tpm cannot receive process.send('ready'); use wait_log with your ready line")
		}
		for _, k := range extra[i] {
			unused[k] = true
		}
		if opt.EnvName != "" {
			if _, ok := list[i].(*object).get("env_" + opt.EnvName); ok {
				hasEnv = true
			}
		}
	}
	if opt.EnvName != "" && !hasEnv {
		warnings = append(warnings, fmt.Sprintf("no app has env_%s", opt.EnvName))
	}
	if len(unused) > 0 {
		keys := make([]string, 0, len(unused))
		for k := range unused {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		warnings = append(warnings, "ignoring fields tpm does not use: "+strings.Join(keys, ", "))
	}
	return out, warnings, nil
}

// appList finds the apps: the "apps" (or legacy "pm2") list of an object,
// an object that is itself one app, or a list of apps.
func appList(tree any) ([]any, error) {
	var list []any
	switch v := tree.(type) {
	case *object:
		key := "apps"
		apps, ok := v.get(key)
		if !ok {
			key = "pm2"
			apps, ok = v.get(key)
		}
		switch {
		case ok:
			switch a := apps.(type) {
			case []any:
				list = a
			case *object:
				list = []any{a}
			default:
				return nil, fmt.Errorf("%q is %s, not a list of apps", key, kind(apps))
			}
		case has(v, "script") || has(v, "exec"):
			list = []any{v}
		case len(v.keys) == 0:
			return nil, errors.New(`no apps: the config is an empty object (want {"apps": [...]})`)
		default:
			return nil, fmt.Errorf(`no apps: the config is an object with %s and no "apps" list`, keyList(v.keys))
		}
	case []any:
		list = v
	default:
		return nil, fmt.Errorf(`no apps: the config is %s, not an object with an "apps" list`, kind(tree))
	}
	if len(list) == 0 {
		return nil, errors.New(`the "apps" list is empty`)
	}
	return list, nil
}

func has(o *object, k string) bool {
	v, ok := o.get(k)
	return ok && v != nil
}

func keyList(keys []string) string {
	q := make([]string, 0, 6)
	for i, k := range keys {
		if i == 5 {
			q = append(q, "...")
			break
		}
		q = append(q, strconv.Quote(k))
	}
	if len(keys) == 1 {
		return "the key " + q[0]
	}
	return "the keys " + strings.Join(q, ", ")
}

// kind names the type of a tree value for messages.
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case *object:
		return "an object"
	}
	return fmt.Sprintf("a %T", v)
}

// readApp reads app i. It returns the app, the keys it does not use, and
// the name as written when white space had to be replaced.
func readApp(o *object, i int, dir, envName string) (App, []string, string, error) {
	a := App{Index: i, Cwd: dir, Instances: 1, Env: map[string]string{}}
	r := &reader{o: o, label: fmt.Sprintf("apps[%d]", i)}

	var renamed string
	if s, ok := r.str("name"); ok && strings.TrimSpace(s) != "" {
		name, changed := names.Spaced(s)
		if err := names.Check(name); err != nil {
			return a, nil, "", fmt.Errorf("%s: %v", r.label, err)
		}
		if changed {
			renamed = s
		}
		a.Name = name
		r.label = fmt.Sprintf("app %q", name)
	}

	if s, ok := r.str("cwd"); ok && s != "" {
		if !filepath.IsAbs(s) {
			s = filepath.Join(dir, s)
		}
		a.Cwd = filepath.Clean(s)
	}

	script, ok := r.str("script")
	if !ok || strings.TrimSpace(script) == "" {
		script, ok = r.str("exec")
	}
	if r.err == nil && (!ok || strings.TrimSpace(script) == "") {
		return a, nil, "", fmt.Errorf(`%s has no "script"`, r.label)
	}
	a.Script = script
	if strings.ContainsFunc(script, isSpace) {
		p := script
		if !filepath.IsAbs(p) {
			p = filepath.Join(a.Cwd, p)
		}
		if _, err := os.Stat(p); err != nil {
			// A command line, as "npm start" users write it.
			words, err := meta.SplitWords(script)
			switch {
			case err != nil:
				r.fail("script", "%v", err)
			case len(words) == 0:
				r.fail("script", "empty command")
			default:
				a.Script = words[0]
				a.Args = words[1:]
			}
		}
	}
	a.Args = append(a.Args, r.words("args")...)

	if s, ok := r.str("interpreter"); ok {
		a.Interpreter = s
	} else if s, ok := r.str("exec_interpreter"); ok {
		a.Interpreter = s
	}
	a.Interpreter = strings.TrimSpace(a.Interpreter)
	if has(o, "interpreter_args") {
		a.InterpreterArgs = r.words("interpreter_args")
	} else {
		a.InterpreterArgs = r.words("node_args")
	}

	if v, ok := r.value("instances"); ok {
		a.Instances = r.instances("instances", v)
	}
	if s, ok := r.str("exec_mode"); ok {
		switch s {
		case "cluster", "cluster_mode":
			a.ClusterMode = true
		case "fork", "fork_mode", "":
		default:
			r.fail("exec_mode", "want fork or cluster, not %q", s)
		}
	}

	if v, ok := r.value("env"); ok {
		r.env("env", v, a.Env)
	}
	for _, k := range o.keys {
		// Every env_NAME is checked, selected or not: a bad one should
		// not wait for the day someone deploys with --env NAME.
		if name, ok := strings.CutPrefix(k, "env_"); ok && name != "" && name != envName {
			if v, ok := r.value(k); ok {
				r.env(k, v, map[string]string{})
			}
		}
	}
	if envName != "" {
		if v, ok := r.value("env_" + envName); ok {
			r.env("env_"+envName, v, a.Env)
		}
	}
	if v, ok := r.value("port"); ok {
		port := r.integer("port", v)
		if r.err == nil && (port < 1 || port > 65535) {
			r.fail("port", "%d is not a TCP port", port)
		}
		if _, set := a.Env["PORT"]; !set && r.err == nil {
			a.Env["PORT"] = strconv.Itoa(port)
		}
	}
	a.NodeEnv = a.Env["NODE_ENV"]
	a.IncrementVar, _ = r.str("increment_var")

	if v, ok := r.value("autorestart"); ok {
		b := r.boolean("autorestart", v)
		a.Autorestart = &b
	}
	if v, ok := r.value("max_restarts"); ok {
		n := r.integer("max_restarts", v)
		if n < 0 && r.err == nil {
			r.fail("max_restarts", "%d is negative", n)
		}
		a.MaxRestarts = &n
	}
	a.MinUptime = r.duration("min_uptime")
	a.RestartDelay = r.duration("restart_delay")
	a.ExpBackoff = r.duration("exp_backoff_restart_delay")
	a.KillTimeout = r.duration("kill_timeout")
	if v, ok := r.value("stop_exit_codes"); ok {
		a.StopExitCodes = r.codes("stop_exit_codes", v)
	}
	if s, ok := r.str("kill_signal"); ok && s != "" {
		sig, err := spec.NormSignal(s)
		if err != nil {
			r.fail("kill_signal", "%v", err)
		}
		a.Signal = sig
	}
	if v, ok := r.value("time"); ok {
		b := r.boolean("time", v)
		a.Time = &b
	}
	a.LogDateFormat, _ = r.str("log_date_format")
	if v, ok := r.value("listen"); ok {
		a.Listen = r.boolean("listen", v)
	}
	a.Policy = r.policy()
	if r.err == nil {
		if err := checkPolicy(a.Policy); err != nil {
			r.err = fmt.Errorf("%s: %v", r.label, err)
		}
	}

	if r.err != nil {
		return a, nil, "", r.err
	}
	var extra []string
	for _, k := range o.keys {
		if !known(k) {
			extra = append(extra, k)
		}
	}
	return a, extra, renamed, nil
}

// honoured are the app fields tpm uses; env_<NAME> is one too.
var honoured = []string{
	"name", "script", "exec", "args", "interpreter", "exec_interpreter",
	"interpreter_args", "node_args", "cwd", "instances", "exec_mode", "env",
	"port", "increment_var", "autorestart", "max_restarts", "min_uptime",
	"restart_delay", "exp_backoff_restart_delay", "stop_exit_codes",
	"kill_timeout", "kill_signal", "time", "log_date_format", "listen",
	"max_memory_restart", "cron_restart", "watch", "ignore_watch", "watch_delay",
	"health_http", "health_cmd", "health_every", "health_fails", "wait_log", "depends_on", "on_event",
	"wait_ready", // with wait_log; without it, a warning of its own (readApps)
}

// truthy reports whether a field we only look at says yes, however it is
// written; it never fails on an odd value.
func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(strings.TrimSpace(v), "true")
	case json.Number:
		return numberText(v) == "1"
	}
	return false
}

// policy maps the policy fields (PM2's and tpm's own) to the record's keys
// (lib/spec, policy.go), which check them: PM2's names where it has them
// (max_memory_restart "200M", cron_restart, watch true or paths,
// ignore_watch, watch_delay in milliseconds), tpm's for the rest.
func (r *reader) policy() map[string]string {
	out := map[string]string{}
	if v, ok := r.str("max_memory_restart"); ok {
		out[spec.KeyMaxMemory] = v
	}
	if v, ok := r.str("cron_restart"); ok {
		out[spec.KeyCronRestart] = v
	}
	if v, ok := r.value("watch"); ok {
		if b, isBool := v.(bool); isBool {
			if b {
				out[spec.KeyWatch] = "."
			}
		} else if w := r.words("watch"); len(w) > 0 {
			out[spec.KeyWatch] = strings.Join(w, ",")
		}
	}
	if w := r.words("ignore_watch"); len(w) > 0 {
		out[spec.KeyWatchIgnore] = strings.Join(w, ",")
	}
	if d := r.duration("watch_delay"); d != nil {
		out[spec.KeyWatchDelay] = spec.FormatDuration(*d)
	}
	if d := r.duration("health_every"); d != nil {
		out[spec.KeyHealthEvery] = spec.FormatDuration(*d)
	}
	for _, k := range []string{"health_http", "health_cmd", "health_fails", "wait_log", "on_event"} {
		if v, ok := r.str(k); ok && v != "" {
			out[k] = v
		}
	}
	if w := r.words("depends_on"); len(w) > 0 {
		out[spec.KeyDependsOn] = strings.Join(w, ",")
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// checkPolicy checks the policy fields as tpm-meta checks a record's
// (lib/spec): a bad value refuses the file, and nothing starts. The
// message names the field as the file has it.
func checkPolicy(p map[string]string) error {
	if len(p) == 0 {
		return nil
	}
	m := &meta.Meta{}
	m.Set("script", "-")
	for _, k := range slices.Sorted(maps.Keys(p)) {
		m.Set(k, p[k])
	}
	if _, err := spec.FromMeta("app", m); err != nil {
		msg := err.Error()
		for rec, field := range map[string]string{spec.KeyMaxMemory: "max_memory_restart", spec.KeyWatchIgnore: "ignore_watch"} {
			if rest, ok := strings.CutPrefix(msg, rec+"="); ok {
				msg = field + "=" + rest
			}
		}
		return errors.New(msg)
	}
	return nil
}

func known(k string) bool {
	return slices.Contains(honoured, k) || strings.HasPrefix(k, "env_") && len(k) > len("env_")
}

func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f'
}

// reader reads the fields of one app; the first error sticks.
type reader struct {
	o     *object
	label string
	err   error
}

func (r *reader) fail(field, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%s: %s: %s", r.label, field, fmt.Sprintf(format, args...))
	}
}

// value returns a field that is set to something other than null.
func (r *reader) value(k string) (any, bool) {
	v, ok := r.o.get(k)
	return v, ok && v != nil
}

// str reads a field meant as a string; a number is taken as its text.
func (r *reader) str(k string) (string, bool) {
	v, ok := r.value(k)
	if !ok {
		return "", false
	}
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return numberText(v), true
	}
	r.fail(k, "want a string, not %s", kind(v))
	return "", false
}

// words reads a list of words: a string split as a shell would (without
// expansion), or a list of strings and numbers.
func (r *reader) words(k string) []string {
	v, ok := r.value(k)
	if !ok {
		return nil
	}
	switch v := v.(type) {
	case string:
		w, err := meta.SplitWords(v)
		if err != nil {
			r.fail(k, "%v", err)
		}
		return w
	case json.Number:
		return []string{numberText(v)}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			switch x := x.(type) {
			case string:
				out = append(out, x)
			case json.Number:
				out = append(out, numberText(x))
			case bool:
				out = append(out, strconv.FormatBool(x))
			default:
				r.fail(k, "want a list of strings, found %s in it", kind(x))
				return nil
			}
		}
		return out
	}
	r.fail(k, "want a string or a list of strings, not %s", kind(v))
	return nil
}

// integer reads a whole number, or a string holding one.
func (r *reader) integer(k string, v any) int {
	var s string
	switch v := v.(type) {
	case json.Number:
		s = string(v)
	case string:
		s = strings.TrimSpace(v)
	default:
		r.fail(k, "want a number, not %s", kind(v))
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		r.fail(k, "want a whole number, not %q", s)
		return 0
	}
	return int(f)
}

func (r *reader) instances(k string, v any) int {
	var s string
	switch v := v.(type) {
	case json.Number:
		n := r.integer(k, v)
		if r.err != nil {
			return 1
		}
		s = strconv.Itoa(n)
	case string:
		s = strings.ToLower(strings.TrimSpace(v))
	default:
		r.fail(k, "want a number, max or -1, not %s", kind(v))
		return 1
	}
	n, err := spec.Instances(s)
	if err != nil {
		r.fail(k, "%v", err)
		return 1
	}
	return n
}

func (r *reader) boolean(k string, v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "yes", "1":
			return true
		case "false", "no", "0":
			return false
		}
		r.fail(k, "want true or false, not %q", v)
	case json.Number:
		switch numberText(v) {
		case "1":
			return true
		case "0":
			return false
		}
		r.fail(k, "want true or false, not %s", v)
	default:
		r.fail(k, "want true or false, not %s", kind(v))
	}
	return false
}

// duration reads a time in milliseconds, or a string such as "5s", "1m"
// or "2000" (milliseconds again), as PM2 does.
func (r *reader) duration(k string) *time.Duration {
	v, ok := r.value(k)
	if !ok {
		return nil
	}
	var s string
	switch v := v.(type) {
	case json.Number:
		s = string(v)
	case string:
		s = v
	default:
		r.fail(k, "want milliseconds or a duration such as 5s, not %s", kind(v))
		return nil
	}
	d, err := spec.ParseDuration(s, time.Millisecond)
	if err != nil {
		r.fail(k, "%v", err)
		return nil
	}
	return &d
}

// codes reads exit codes: a number, a list of them, or "0,143".
func (r *reader) codes(k string, v any) []int {
	var parts []string
	switch v := v.(type) {
	case json.Number:
		parts = []string{string(v)}
	case string:
		parts = []string{v}
	case []any:
		for _, x := range v {
			switch x := x.(type) {
			case json.Number:
				parts = append(parts, string(x))
			case string:
				parts = append(parts, x)
			default:
				r.fail(k, "want exit codes, found %s in the list", kind(x))
				return nil
			}
		}
	default:
		r.fail(k, "want an exit code or a list of them, not %s", kind(v))
		return nil
	}
	codes, err := spec.ParseCodes(strings.Join(parts, ","))
	if err != nil {
		r.fail(k, "%v", err)
	}
	return codes
}

// env reads an env object into dst: values become strings as they would
// in the program's environment (numbers as written, booleans as true and
// false, objects and lists as JSON, as PM2 does); null drops the key.
func (r *reader) env(k string, v any, dst map[string]string) {
	o, ok := v.(*object)
	if !ok {
		r.fail(k, "want an object of variables, not %s", kind(v))
		return
	}
	for _, name := range o.keys {
		if name == "" || strings.ContainsAny(name, "=\x00") {
			r.fail(k, "bad variable name %q", name)
			return
		}
		var s string
		switch x := o.vals[name].(type) {
		case nil:
			delete(dst, name)
			continue
		case string:
			s = x
		case json.Number:
			s = numberText(x)
		case bool:
			s = strconv.FormatBool(x)
		default:
			s = encodeJSON(x)
		}
		if strings.ContainsRune(s, 0) {
			r.fail(k, "%s holds a NUL byte", name)
			return
		}
		dst[name] = s
	}
}
