package cli

import (
	"bytes"
	"slices"
	"testing"

	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/remote"
)

func TestRemoteArgs(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []string
		want []string
	}{
		{"flag and value dropped", []string{"--host", "a,b", "-q", "api"}, []string{"tpm-ls", "-q", "api"}},
		{"flag=value dropped", []string{"--json", "--host=a,b"}, []string{"tpm-ls", "--json"}},
		{"repeated", []string{"--host", "a", "x", "--host=b"}, []string{"tpm-ls", "x"}},
		{"after -- it is an argument", []string{"--host", "a", "--", "--host", "x"}, []string{"tpm-ls", "--", "--host", "x"}},
		{"other flags kept as given", []string{"-n", "10", "--since=1h", "api-*"}, []string{"tpm-ls", "-n", "10", "--since=1h", "api-*"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := RemoteArgs("tpm-ls", c.in); !slices.Equal(got, c.want) {
				t.Fatalf("RemoteArgs(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

type hostGrammar struct {
	Args []string `arg:"" optional:""`

	HostFlag `embed:""`
}

// --host wins over TPM_HOSTS, is repeatable and comma-separated; an empty
// list or local alone means this machine; a bad host is a usage error.
func TestHosts(t *testing.T) {
	for _, c := range []struct {
		name, env string
		args      []string
		want      []string
		code      int
	}{
		{"neither: this machine", "", nil, nil, 0},
		{"TPM_HOSTS", "web1, web2", nil, []string{"web1", "web2"}, 0},
		{"--host wins", "web1", []string{"--host", "web3"}, []string{"web3"}, 0},
		{"--host '' is this machine even with TPM_HOSTS", "web1", []string{"--host", ""}, nil, 0},
		{"local alone is this machine", "local", nil, nil, 0},
		{"local among others is a host", "", []string{"--host=local,web1"}, []string{"local", "web1"}, 0},
		{"repeated and deduplicated", "", []string{"--host", "a,b", "--host", "b,c"}, []string{"a", "b", "c"}, 0},
		{"a bad TPM_HOSTS", "-oProxyCommand=x", nil, nil, exit.Usage},
		{"a bad --host", "", []string{"--host=-p"}, nil, exit.Usage},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("TPM_HOSTS", c.env)
			var g hostGrammar
			var out bytes.Buffer
			e := &Env{Name: "tpm-ls", Args: c.args, Stdout: &out, Stderr: &out}
			if _, code, done := e.Parse(&g, "test"); done {
				if code != c.code {
					t.Fatalf("parse: exit %d, want %d: %s", code, c.code, out.String())
				}
				return
			}
			got, err := g.Hosts()
			if exit.Code(err) != c.code || !slices.Equal(got, c.want) {
				t.Fatalf("Hosts() = %q, %v; want %q, exit %d", got, err, c.want, c.code)
			}
		})
	}
}

func TestWithHost(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"host first, the rest in order, as written", `{"name":"api","pid":12,"cpu":0.50,"x":{"a":[1,2]}}`,
			`{"host":"web1","name":"api","pid":12,"cpu":0.50,"x":{"a":[1,2]}}`},
		{"a member host gives way", `{"name":"api","host":"mine"}`, `{"host":"web1","name":"api"}`},
		{"empty", `{}`, `{"host":"web1"}`},
		{"strings kept byte for byte", `{"line":"<a href=\"x\">\u00e9</a>"}`, `{"host":"web1","line":"<a href=\"x\">\u00e9</a>"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := WithHost("web1", []byte(c.in))
			if err != nil || string(got) != c.want {
				t.Fatalf("WithHost(%s) = %s, %v; want %s", c.in, got, err, c.want)
			}
		})
	}
	if _, err := WithHost("web1", []byte(`[1]`)); err == nil {
		t.Error("an array: no error")
	}
}

// HostCode and HostLine: a remote "tpm-ls: " becomes "tpm-ls: HOST: ", ssh's
// failure and a missing command are 69, a remote code stands.
func TestHostErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		status int
		stderr string
		want   string
		code   int
	}{
		{"the remote's own message", 66, "tpm-ls: no process named \"x\"\ntpm-ls: hint: see tpm-ls\n",
			"tpm-ls: web1: no process named \"x\"\ntpm-ls: web1: hint: see tpm-ls\n", 66},
		{"ssh's message", remote.StatusSSH, "ssh: connect to host web1 port 22: Connection refused\r\n",
			"tpm-ls: web1: ssh: connect to host web1 port 22: Connection refused\n", exit.Unavailable},
		{"ssh failed silently", remote.StatusSSH, "", "tpm-ls: web1: ssh failed (exit status 255)\n", exit.Unavailable},
		{"no tpm there", 127, "bash: line 1: tpm-ls: command not found\n",
			"tpm-ls: web1: bash: line 1: tpm-ls: command not found\ntpm-ls: web1: hint: install tpm there, on the PATH that ssh commands get (ssh web1 'command -v tpm-ls')\n", exit.Unavailable},
		{"a warning and success", 0, "tpm-ls: warning\n", "tpm-ls: web1: warning\n", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			e := &Env{Name: "tpm-ls", Stdout: &out, Stderr: &out}
			j := &remote.Job{Host: "web1", Status: c.status, Stdout: &remote.Spool{}, Stderr: &remote.Spool{}}
			j.Stderr.Write([]byte(c.stderr))
			if code := e.HostErrors(j); code != c.code || out.String() != c.want {
				t.Fatalf("exit %d, printed\n%s\nwant exit %d,\n%s", code, out.String(), c.code, c.want)
			}
		})
	}
}
