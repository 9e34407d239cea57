package lscmd_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/cmd/lscmd"
)

// BenchmarkList1000 lists a tree of 1000 records in process, for profiling
// (go test -bench List -cpuprofile). bench/ measures the real binary.
func BenchmarkList1000(b *testing.B) { benchList(b) }

// BenchmarkListJSON1000 is the same with --json, each process with an events
// file whose last line is read.
func BenchmarkListJSON1000(b *testing.B) { benchList(b, "--json") }

func benchList(b *testing.B, args ...string) {
	dir := b.TempDir()
	procs := filepath.Join(dir, "tpm", "processes")
	os.MkdirAll(procs, 0o700)
	os.MkdirAll(filepath.Join(dir, "tpm", "pids"), 0o700)
	logs := filepath.Join(dir, "tpm", "logs")
	os.MkdirAll(logs, 0o700)
	for i := range 1000 {
		line := fmt.Sprintf("script=/srv/app%d.sh pid=%d port=%d start_time=1694123456 type=cli cwd=/srv token=5@ab sup_pid=%d sup_token=7@ab state=online restarts=0\n",
			i, 3000000+i, 10000+i, 3100000+i)
		os.WriteFile(filepath.Join(procs, fmt.Sprintf("app%d-%d.meta", i, 10000+i)), []byte(line), 0o600)
		ev := "2026-11-29 19:40:01 event=start pid=1\n2026-11-29 19:40:03 event=exit pid=1 code=1 uptime=2.1s\n"
		os.WriteFile(filepath.Join(logs, fmt.Sprintf("app%d-%d.events", i, 10000+i)), []byte(ev), 0o600)
	}
	b.Setenv("TETRA_DIR", dir)
	null, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	defer null.Close()
	for b.Loop() {
		if code := lscmd.Main(&cli.Env{Name: "tpm-ls", Args: args, Stdout: null, Stderr: os.Stderr}); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}
