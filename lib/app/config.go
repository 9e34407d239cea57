package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/spec"
)

// ReadConfig reads an ecosystem file by running tpm-ecosystem on it (the
// JavaScript engine lives there, so that tpm-start stays quick to start),
// with env as process.env, --env envName and --only. Its messages (and what
// the config itself prints) pass through to e's stderr.
func ReadConfig(e *cli.Env, config string, env []string, envName, only string) (*spec.Ecosystem, error) {
	path, err := cli.Companion("tpm-ecosystem")
	if err != nil {
		return nil, err
	}
	args := []string{config}
	if envName != "" {
		args = append([]string{"--env", envName}, args...)
	}
	if only != "" {
		args = append([]string{"--only", only}, args...)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	runErr := cmd.Run()
	// Its diagnostics become ours.
	for _, l := range strings.Split(strings.TrimRight(errb.String(), "\n"), "\n") {
		if l == "" {
			continue
		}
		if msg, ok := strings.CutPrefix(l, "tpm-ecosystem: "); ok {
			e.Warnf("%s", msg)
		} else {
			fmt.Fprintln(e.Stderr, l)
		}
	}
	if runErr != nil {
		var ee *exec.ExitError
		if errors.As(runErr, &ee) && ee.ExitCode() > 0 {
			return nil, cli.Silent(ee.ExitCode())
		}
		return nil, fmt.Errorf("tpm-ecosystem: %w", runErr)
	}
	var eco spec.Ecosystem
	if err := json.Unmarshal(out.Bytes(), &eco); err != nil {
		return nil, fmt.Errorf("tpm-ecosystem answered what cannot be read: %w", err)
	}
	return &eco, nil
}
