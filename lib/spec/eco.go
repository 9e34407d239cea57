package spec

import (
	"path/filepath"
	"strings"
)

// IsConfig reports whether path names an ecosystem file rather than a
// program: .json, .yaml and .yml files, and .js, .cjs and .mjs files whose
// name without extension ends in ".config" or starts with "ecosystem"
// (ecosystem.config.js, app.config.cjs, ecosystem.js).
func IsConfig(path string) bool {
	base := strings.ToLower(filepath.Base(path))
	ext := filepath.Ext(base)
	switch ext {
	case ".json", ".yaml", ".yml":
		return true
	case ".js", ".cjs", ".mjs":
		stem := strings.TrimSuffix(base, ext)
		return strings.HasSuffix(stem, ".config") || strings.HasPrefix(stem, "ecosystem")
	case ".pm2": // PM2's saved process list, ~/.pm2/dump.pm2 (not the folder ~/.pm2)
		return base != ".pm2"
	case ".bak": // the backup pm2 save keeps beside it
		return strings.HasSuffix(base, ".pm2.bak")
	}
	return false
}

// Ecosystem is what tpm-ecosystem prints about an ecosystem file, and what
// tpm-start reads back: the apps, normalized and validated. tpm-start does
// not evaluate JavaScript itself: the engine would double its start-up time.
type Ecosystem struct {
	Path     string   `json:"path"`
	Apps     []App    `json:"apps"`
	Warnings []string `json:"warnings,omitempty"`
	// What the config changed in process.env (dotenv): every app starts
	// with it, as under PM2.
	EnvSet   map[string]string `json:"process_env,omitempty"`
	EnvUnset []string          `json:"process_env_unset,omitempty"`
}

// App is one app of an ecosystem file. Durations are Go durations ("1.6s").
type App struct {
	Index           int               `json:"index"`
	Name            string            `json:"name,omitempty"`
	Script          string            `json:"script"`
	Args            []string          `json:"args,omitempty"`
	Interpreter     string            `json:"interpreter,omitempty"`
	InterpreterArgs []string          `json:"interpreter_args,omitempty"`
	Cwd             string            `json:"cwd"`
	Instances       int               `json:"instances"`
	Env             map[string]string `json:"env,omitempty"`
	NodeEnv         string            `json:"node_env,omitempty"`
	IncrementVar    string            `json:"increment_var,omitempty"`
	Autorestart     *bool             `json:"autorestart,omitempty"`
	MaxRestarts     *int              `json:"max_restarts,omitempty"`
	MinUptime       string            `json:"min_uptime,omitempty"`
	RestartDelay    string            `json:"restart_delay,omitempty"`
	ExpBackoff      string            `json:"exp_backoff_restart_delay,omitempty"`
	StopExitCodes   []int             `json:"stop_exit_codes,omitempty"`
	KillTimeout     string            `json:"kill_timeout,omitempty"`
	Listen          bool              `json:"listen,omitempty"` // tpm's: the supervisor binds the PORT (tpm-start --listen)
	Policy          map[string]string `json:"policy,omitempty"` // record keys of the policies (policy.go)
	Signal          string            `json:"kill_signal,omitempty"`
	ClusterMode     bool              `json:"cluster_mode,omitempty"`
}
