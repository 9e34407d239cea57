package tpm_test

import (
	"bytes"
	"os"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	scriptCmds["logseries"] = cmdLogseries
}

// logseries [-max SIZE] LOG DST writes to DST one log stream as the program
// wrote it: LOG's rotated files oldest first (LOG.N ... LOG.1), then LOG,
// joined as they are (a rotation may fall inside a line), with the stamp at
// the start of each line removed. With -max, every file of the stream must
// hold at most SIZE bytes.
func cmdLogseries(ts *testscript.TestScript, neg bool, args []string) {
	limit := int64(-1)
	if len(args) > 1 && args[0] == "-max" {
		limit, args = int64(atoi(ts, args[1])), args[2:]
	}
	if neg || len(args) != 2 {
		ts.Fatalf("usage: logseries [-max SIZE] LOG DST")
	}
	path := ts.MkAbs(args[0])
	files := []string{path}
	for i := 1; ; i++ {
		p := path + "." + strconv.Itoa(i)
		if _, err := os.Lstat(p); err != nil {
			break
		}
		files = append([]string{p}, files...)
	}
	var all bytes.Buffer
	for _, f := range files {
		data, err := os.ReadFile(f)
		ts.Check(err)
		if limit >= 0 && int64(len(data)) > limit {
			ts.Fatalf("%s holds %d bytes, more than %d", f, len(data), limit)
		}
		all.Write(data)
	}
	ts.Logf("%d files, %d bytes", len(files), all.Len())
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), stampRE.ReplaceAll(all.Bytes(), nil), 0o600))
}
