package cli

import (
	"os"
	"os/exec"
	"path/filepath"

	"github.com/tetra-toolkit/tpm/lib/exit"
)

// Companion finds another tpm binary (tpm-supervise, tpm-ecosystem):
// beside the running one first (they are installed together), then in
// $TPM_BIN, then on PATH.
func Companion(name string) (string, error) {
	var dirs []string
	if exe, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Dir(exe))
	}
	if d := os.Getenv("TPM_BIN"); d != "" {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", exit.Errorf(exit.Failure, "%s not found beside %s, in $TPM_BIN or on PATH", name, filepath.Base(os.Args[0]))
}
