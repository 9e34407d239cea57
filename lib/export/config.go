package export

import (
	"os"

	"github.com/tetra-toolkit/tpm/lib/app"
	"github.com/tetra-toolkit/tpm/lib/spec"
)

// FromApp turns an app of an ecosystem file (as tpm-ecosystem reads it)
// into its processes, as tpm-start would start them (lib/app: one rule for
// both).
func FromApp(a spec.App, base []string) ([]*Process, error) {
	ps, err := app.Processes(a, base, os.Getenv("PATH"))
	if err != nil {
		return nil, err
	}
	out := make([]*Process, len(ps))
	for i, p := range ps {
		out[i] = &Process{Spec: p.Spec, Env: programEnv(p.Spec, p.Env)}
	}
	return out, nil
}
