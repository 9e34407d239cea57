package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/stop"
)

// options are what an action's body may say (a JSON object, or nothing).
// Each is what the command's flag of the same name does.
type options struct {
	// Wait (start, restart): return once the program is ready, at most
	// this long (tpm-start --wait=D).
	Wait string `json:"wait"`
	// Timeout (stop, restart): the grace before KILL (tpm-stop --timeout).
	Timeout string `json:"timeout"`
	// Signal (stop): the first signal (tpm-stop --signal).
	Signal string `json:"signal"`
}

// actionResult is the answer of a successful action.
type actionResult struct {
	Name   string   `json:"name"`
	Action string   `json:"action"`
	Output []string `json:"output"`
	// Process is the process as GET /v1/processes/NAME shows it after
	// the action.
	Process json.RawMessage `json:"process,omitempty"`
}

// action answers POST /v1/processes/NAME/{start,stop,restart}: what
// tpm-start NAME, tpm-stop NAME and tpm-restart NAME do, with their exit
// codes as HTTP statuses (StatusOf). A start or restart runs the installed
// command; a stop is lib/stop's, as tpm-stop's. An action, once begun, runs
// to its end even if the client goes away: half a stop is worse than none.
func (s *Server) action(w http.ResponseWriter, r *http.Request, name, verb string) {
	var o options
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.fail(w, http.StatusRequestEntityTooLarge, "request body over 64 KiB")
			return
		}
		s.fail(w, http.StatusBadRequest, "read the body: "+err.Error())
		return
	}
	if len(bytes.TrimSpace(body)) > 0 {
		d := json.NewDecoder(bytes.NewReader(body))
		d.DisallowUnknownFields()
		if err := d.Decode(&o); err != nil {
			s.fail(w, http.StatusBadRequest, "body: want a JSON object with wait, timeout or signal: "+err.Error())
			return
		}
	}
	if err := s.known(name); err != nil {
		s.failErr(w, err)
		return
	}
	// Commands end on their own (a stop within its grace, a wait within
	// its timeout): the answer waits for them.
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{})
	var out []string
	switch verb {
	case "stop":
		out, err = s.stop(name, o)
	default:
		out, err = s.run(verb, name, o)
	}
	if err != nil {
		code := exit.Code(err)
		if code == exit.TempFail {
			w.Header().Set("Retry-After", "1")
		}
		writeJSON(w, StatusOf(code), errorBody{Error: err.Error(), Code: code, Output: out})
		return
	}
	res := actionResult{Name: name, Action: verb, Output: out}
	if b, err := s.object(name); err == nil {
		res.Process = b
	}
	if res.Output == nil {
		res.Output = []string{}
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) stop(name string, o options) ([]string, error) {
	if o.Wait != "" {
		return nil, exit.Errorf(exit.Usage, "stop takes no wait")
	}
	var so stop.Options
	if o.Timeout != "" {
		d, err := spec.ParseDuration(o.Timeout, time.Second)
		if err != nil {
			return nil, exit.Errorf(exit.Usage, "timeout: %v", err)
		}
		so.Timeout, so.TimeoutSet = d, true
	}
	if o.Signal != "" {
		sig, err := spec.NormSignal(o.Signal)
		if err != nil {
			return nil, exit.Errorf(exit.Usage, "signal: %v", err)
		}
		so.Signal = sig
	}
	line, err := stop.Stop(s.Tree, name, so)
	if err != nil {
		return nil, err
	}
	return []string{line}, nil
}

// run runs tpm-start NAME or tpm-restart NAME. Each value goes in one
// argument of the --flag=value form, so none can be read as another flag,
// and a name never starts with "-". The command runs in an empty folder of
// its own: tpm-start takes an argument that names a file in its folder for
// a script to start, and a NAME must only ever mean the record.
func (s *Server) run(verb, name string, o options) ([]string, error) {
	cmdName := "tpm-" + verb
	args := []string{}
	if o.Wait != "" {
		args = append(args, "--wait="+o.Wait)
	}
	switch {
	case o.Signal != "":
		return nil, exit.Errorf(exit.Usage, "%s takes no signal", verb)
	case o.Timeout != "" && verb == "start":
		return nil, exit.Errorf(exit.Usage, "start takes no timeout")
	case o.Timeout != "":
		args = append(args, "--timeout="+o.Timeout)
	}
	args = append(args, name)
	find := s.Companion
	if find == nil {
		find = exec.LookPath
	}
	path, err := find(cmdName)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tpm-serve-")
	if err != nil {
		return nil, exit.Errorf(exit.CantCreate, "%s: %v", cmdName, err)
	}
	defer os.Remove(dir)
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TPM_HOSTS=") // this machine's process, whatever hosts the user's shell names
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	out := lines(stdout.String())
	if err == nil {
		return out, nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() < 0 {
		return out, exit.Errorf(exit.Failure, "%s: %v", cmdName, err)
	}
	// Its messages, without the "tpm-start: " of each line.
	var msgs []string
	for _, l := range lines(stderr.String()) {
		msgs = append(msgs, strings.TrimPrefix(l, cmdName+": "))
	}
	if len(msgs) == 0 {
		msgs = []string{cmdName + " failed"}
	}
	return out, exit.Errorf(ee.ExitCode(), "%s", strings.Join(msgs, "; "))
}

func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
