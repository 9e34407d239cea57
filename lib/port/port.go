// Package port finds the PORT a program listens on (SPEC §3). Whether a port
// is free is lib/listen's business.
//
// The ladder, first match wins: --port; PORT in the environment; --port N,
// --port=N or -p N among the program's arguments; a line PORT=N or
// export PORT=N in the first 200 lines of a text script.
package port

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// None is the port of a program that listens on nothing.
const None = 0

// Auto is what Find returns for --port auto: the caller asks the kernel for
// a free port (lib/listen), which needs the network stack this package does
// without, so that commands that only read ports stay small.
const Auto = -1

// Parse reads a port number: 1 to 65535.
func Parse(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("bad port %q: want a number from 1 to 65535", s)
	}
	return n, nil
}

// ErrNotFound is returned by Find when no rung of the ladder gives a port.
var ErrNotFound = errors.New("no PORT found")

// Find walks the ladder. flag is the --port value ("" when not given, or
// "none", "auto" or a number); env is the PORT of the environment the program
// gets, if any; args are its arguments; script is the file to scan ("" for
// none). It returns the port and where it came from.
func Find(flag, env string, args []string, script string) (int, string, error) {
	switch flag {
	case "":
	case "none":
		return None, "--port none", nil
	case "auto":
		return Auto, "--port auto", nil
	default:
		p, err := Parse(flag)
		return p, "--port", err
	}
	if env != "" {
		p, err := Parse(env)
		if err != nil {
			return 0, "", fmt.Errorf("PORT in the environment: %w", err)
		}
		return p, "PORT in the environment", nil
	}
	if p, ok := FromArgs(args); ok {
		return p, "the program's arguments", nil
	}
	if script != "" {
		if p, ok := FromScript(script); ok {
			return p, "a PORT= line of " + script, nil
		}
	}
	return 0, "", ErrNotFound
}

// FromArgs finds --port N, --port=N or -p N among a program's arguments.
func FromArgs(args []string) (int, bool) {
	for i, a := range args {
		var v string
		switch {
		case (a == "--port" || a == "-p") && i+1 < len(args):
			v = args[i+1]
		case strings.HasPrefix(a, "--port="):
			v = a[len("--port="):]
		default:
			continue
		}
		if p, err := Parse(v); err == nil {
			return p, true
		}
	}
	return 0, false
}

// FromScript scans the first 200 lines of a text file for PORT=N or
// export PORT=N. Quotes, a trailing comment and a ${PORT:-N} default are
// understood; a binary file is not scanned.
func FromScript(path string) (int, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 16<<10)
	if head, _ := r.Peek(8 << 10); bytes.IndexByte(head, 0) >= 0 {
		return 0, false
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 0; n < 200 && sc.Scan(); n++ {
		if p, ok := portLine(sc.Text()); ok {
			return p, true
		}
	}
	return 0, false
}

func portLine(line string) (int, bool) {
	s := strings.TrimSpace(line)
	if rest, ok := strings.CutPrefix(s, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
		s = strings.TrimSpace(rest)
	}
	v, ok := strings.CutPrefix(s, "PORT=")
	if !ok {
		return 0, false
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = v[:i]
	}
	v = strings.TrimSpace(v)
	v = strings.Trim(v, `"'`)
	if d, ok := strings.CutPrefix(v, "${PORT:-"); ok {
		v = strings.TrimSuffix(d, "}")
	}
	p, err := Parse(v)
	return p, err == nil
}
