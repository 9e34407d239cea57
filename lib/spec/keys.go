package spec

// The keys of a meta line: which exist, who writes each, and how each is
// checked. This is the one table of them; the supervisor, tpm-meta and the
// documentation (docs/files.md) follow it.

// Owner says who writes a key.
type Owner string

const (
	// OwnerSpec keys say what the program is and how it is kept: tpm-start
	// writes them from its flags or an ecosystem file; a person may change
	// them with tpm-meta (checked by FromMeta), and a start from the record
	// uses them.
	OwnerSpec Owner = "spec"
	// OwnerSupervisor keys describe the current run: the supervisor writes
	// them, and rewrites them at every start; hand edits are overwritten.
	OwnerSupervisor Owner = "supervisor"
	// OwnerUser keys are anything else: kept as they are, in their place.
)

// A Key is one row of the table.
type Key struct {
	Name  string
	Owner Owner
	Doc   string
}

// Table lists every key tpm writes, required fields first.
var Table = []Key{
	{"script", OwnerSpec, "the script or command, absolute"},
	{"pid", OwnerSupervisor, "the program's PID (the last one once it has ended; never 1)"},
	{"port", OwnerSpec, "the PORT, 0 for none"},
	{"start_time", OwnerSupervisor, "when the program started (Unix seconds)"},
	{"type", OwnerSpec, "cli or ecosystem"},
	{"cwd", OwnerSpec, "the working folder"},
	{"node_env", OwnerSpec, "NODE_ENV of an ecosystem app"},
	{KeyArgs, OwnerSpec, "the program's arguments, quoted as a shell would read them"},
	{KeyInterpreter, OwnerSpec, "the interpreter command, when the script does not run itself"},
	{KeyInterpArgs, OwnerSpec, "the interpreter's own arguments"},
	{KeyInstance, OwnerSpec, "the instance number of NAME-i"},
	{KeyRestart, OwnerSpec, "restart policy: no, on-failure or always"},
	{KeyMaxRestarts, OwnerSpec, "quick failures in a row before errored"},
	{KeyMinUptime, OwnerSpec, "a run this long is no failure and resets the back-off"},
	{KeyRestartDelay, OwnerSpec, "a fixed delay before each restart"},
	{KeyBackoff, OwnerSpec, "the first back-off delay"},
	{KeyStopExitCodes, OwnerSpec, "exit codes that end the program for good, as success"},
	{KeyKillTimeout, OwnerSpec, "grace between the stop signal and KILL"},
	{KeySignal, OwnerSpec, "the first stop signal"},
	{KeyLogMaxSize, OwnerSpec, "rotate a log past this many bytes"},
	{KeyLogKeep, OwnerSpec, "rotated logs kept"},
	{KeyTimestamps, OwnerSpec, "no: log lines without stamps"},
	{KeyConfig, OwnerSpec, "the ecosystem file an app came from, absolute"},
	{KeyConfigEnv, OwnerSpec, "a digest of the environment that file gives the app"},
	{KeyListen, OwnerSpec, "1: the supervisor binds the PORT and passes it as fd 3"},
	{KeyMaxMemory, OwnerSpec, "restart past this many bytes of the process group's memory"},
	{KeyCronRestart, OwnerSpec, "restart, or start again, on this schedule"},
	{KeyWatch, OwnerSpec, "restart when files change under these paths"},
	{KeyWatchIgnore, OwnerSpec, "globs the watch ignores"},
	{KeyWatchDelay, OwnerSpec, "the watch's debounce"},
	{KeyHealthHTTP, OwnerSpec, "health check: a path on 127.0.0.1:PORT"},
	{KeyHealthCmd, OwnerSpec, "health check: a shell command"},
	{KeyHealthEvery, OwnerSpec, "how often the health check runs"},
	{KeyHealthFails, OwnerSpec, "failed checks in a row before unhealthy"},
	{KeyWaitLog, OwnerSpec, "ready at the first output line matching this"},
	{KeyDependsOn, OwnerSpec, "processes that must be ready first"},
	{KeyOnEvent, OwnerSpec, "a shell command run on lifecycle events"},
	{"token", OwnerSupervisor, "the start-time token of pid"},
	{"sup_pid", OwnerSupervisor, "the supervisor's PID"},
	{"sup_token", OwnerSupervisor, "the supervisor's start-time token"},
	{"sup_version", OwnerSupervisor, "the supervisor's build"},
	{"state", OwnerSupervisor, "what the supervisor last recorded (tpm-ls derives the status)"},
	{"restarts", OwnerSupervisor, "restarts so far"},
	{"exit_code", OwnerSupervisor, "the last run's exit code (unknown for an adopted program)"},
	{"exit_signal", OwnerSupervisor, "the signal that ended the last run"},
	{"exit_time", OwnerSupervisor, "when the last run ended (Unix seconds)"},
	{"error", OwnerSupervisor, "why the program could not be started"},
}

// OwnerOf returns who writes key k ("" for a key of the user's).
func OwnerOf(k string) Owner {
	for _, r := range Table {
		if r.Name == k {
			return r.Owner
		}
	}
	return ""
}
