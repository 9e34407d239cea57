package spec

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/tetra-toolkit/tpm/lib/meta"
)

// The policies of SPEC §12 that PM2 users set in their ecosystem files:
// a memory limit, a schedule, a file watch, a health check, a readiness
// line, a start order and an event hook. Each is a meta key of its own,
// parsed and checked here, in one place, for tpm-start's flags, the
// ecosystem mapping, tpm-meta's checks and the supervisor's live reload.
const (
	KeyMaxMemory   = "max_memory"   // bytes
	KeyCronRestart = "cron_restart" // five-field cron, or @daily and friends
	KeyWatch       = "watch"        // comma-separated paths, relative to cwd
	KeyWatchIgnore = "watch_ignore" // comma-separated globs
	KeyWatchDelay  = "watch_delay"  // debounce
	KeyHealthHTTP  = "health_http"  // a path on 127.0.0.1:PORT
	KeyHealthCmd   = "health_cmd"   // a shell command
	KeyHealthEvery = "health_every"
	KeyHealthFails = "health_fails"
	KeyWaitLog     = "wait_log"   // a regular expression
	KeyDependsOn   = "depends_on" // comma-separated names
	KeyOnEvent     = "on_event"   // a shell command
)

// PolicyKeys lists them.
var PolicyKeys = []string{KeyMaxMemory, KeyCronRestart, KeyWatch, KeyWatchIgnore, KeyWatchDelay, KeyHealthHTTP,
	KeyHealthCmd, KeyHealthEvery, KeyHealthFails, KeyWaitLog, KeyDependsOn, KeyOnEvent}

// Defaults of the policies.
const (
	DefaultWatchDelay  = time.Second
	DefaultHealthEvery = 10 * time.Second
	DefaultHealthFails = 3
	// MinHealthEvery and MinMemoryEvery bound how often a supervisor
	// wakes for a timed policy.
	MinHealthEvery = 100 * time.Millisecond
)

// DefaultWatchIgnore is ignored by every watch: version control, node's
// packages, dot-files (tpm's own tree is ignored wherever it is).
var DefaultWatchIgnore = []string{".git", "node_modules", "__pycache__", ".*"}

// Policy holds the policies of a Spec.
type Policy struct {
	MaxMemory   int64
	CronRestart string
	Watch       []string
	WatchIgnore []string
	WatchDelay  time.Duration
	HealthHTTP  string
	HealthCmd   string
	HealthEvery time.Duration
	HealthFails int
	WaitLog     string
	DependsOn   []string
	OnEvent     string
}

// CronParser reads cron_restart: five fields, or a descriptor such as
// @daily or @every 2s.
var CronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// CheckCron reports whether expr is a schedule tpm can follow.
func CheckCron(expr string) error {
	if _, err := CronParser.Parse(expr); err != nil {
		return fmt.Errorf("cron_restart %q: %v", expr, err)
	}
	return nil
}

// list splits a comma-separated value, dropping empty items.
func list(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// readPolicy reads the policy keys of m into p, checking each.
func readPolicy(m *meta.Meta, p *Policy) error {
	p.WatchDelay, p.HealthEvery, p.HealthFails = DefaultWatchDelay, DefaultHealthEvery, DefaultHealthFails
	if v, ok := m.Get(KeyMaxMemory); ok && v != "" {
		n, err := ParseSize(v)
		if err != nil || n < 1 {
			return fmt.Errorf("max_memory=%q: want a size such as 300M", v)
		}
		p.MaxMemory = n
	}
	if v := m.Value(KeyCronRestart); v != "" {
		if err := CheckCron(v); err != nil {
			return err
		}
		p.CronRestart = v
	}
	p.Watch = list(m.Value(KeyWatch))
	p.WatchIgnore = list(m.Value(KeyWatchIgnore))
	for _, g := range p.WatchIgnore {
		if _, err := path.Match(strings.ReplaceAll(g, "**", "*"), ""); err != nil {
			return fmt.Errorf("watch_ignore %q: %v", g, err)
		}
	}
	dur := func(k string, dst *time.Duration, min time.Duration) error {
		if v := m.Value(k); v != "" {
			d, err := ParseDuration(v, time.Second)
			if err != nil || d < min {
				return fmt.Errorf("%s=%q: want a duration of at least %v", k, v, min)
			}
			*dst = d
		}
		return nil
	}
	if err := dur(KeyWatchDelay, &p.WatchDelay, 0); err != nil {
		return err
	}
	if err := dur(KeyHealthEvery, &p.HealthEvery, MinHealthEvery); err != nil {
		return err
	}
	if v := m.Value(KeyHealthFails); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("health_fails=%q: want a count of at least 1", v)
		}
		p.HealthFails = n
	}
	p.HealthHTTP, p.HealthCmd = m.Value(KeyHealthHTTP), m.Value(KeyHealthCmd)
	if p.HealthHTTP != "" && !strings.HasPrefix(p.HealthHTTP, "/") {
		return fmt.Errorf("health_http=%q: want a path such as /healthz", p.HealthHTTP)
	}
	if p.HealthHTTP != "" && p.HealthCmd != "" {
		return fmt.Errorf("health_http and health_cmd: give one health check, not both")
	}
	if v := m.Value(KeyWaitLog); v != "" {
		if _, err := regexp.Compile(v); err != nil {
			return fmt.Errorf("wait_log: %v", err)
		}
		p.WaitLog = v
	}
	p.DependsOn = list(m.Value(KeyDependsOn))
	p.OnEvent = m.Value(KeyOnEvent)
	return nil
}

// applyPolicy writes p into m, leaving out what is not set.
func applyPolicy(p *Policy, m *meta.Meta) {
	set := func(k, v string) {
		if v == "" {
			m.Del(k)
		} else {
			m.Set(k, v)
		}
	}
	size := ""
	if p.MaxMemory > 0 {
		size = strconv.FormatInt(p.MaxMemory, 10)
	}
	set(KeyMaxMemory, size)
	set(KeyCronRestart, p.CronRestart)
	set(KeyWatch, strings.Join(p.Watch, ","))
	set(KeyWatchIgnore, strings.Join(p.WatchIgnore, ","))
	set(KeyWatchDelay, nonDefault(p.WatchDelay, DefaultWatchDelay, len(p.Watch) > 0))
	set(KeyHealthHTTP, p.HealthHTTP)
	set(KeyHealthCmd, p.HealthCmd)
	health := p.HealthHTTP != "" || p.HealthCmd != ""
	set(KeyHealthEvery, nonDefault(p.HealthEvery, DefaultHealthEvery, health))
	fails := ""
	if health && p.HealthFails != DefaultHealthFails {
		fails = strconv.Itoa(p.HealthFails)
	}
	set(KeyHealthFails, fails)
	set(KeyWaitLog, p.WaitLog)
	set(KeyDependsOn, strings.Join(p.DependsOn, ","))
	set(KeyOnEvent, p.OnEvent)
}

func nonDefault(d, def time.Duration, used bool) string {
	if !used || d == def {
		return ""
	}
	return FormatDuration(d)
}

// Timed reports whether a policy makes the supervisor wake on a period of
// its own (SPEC §12's cost rule: none of these, no CPU while quiet).
func (p *Policy) Timed() bool {
	return p.MaxMemory > 0 || p.HealthHTTP != "" || p.HealthCmd != ""
}
