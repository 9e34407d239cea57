package listen

import (
	"net"
	"testing"
)

func TestTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	defer l.Close()
	p := l.Addr().(*net.TCPAddr).Port
	if !Taken(p) {
		t.Errorf("port %d has a listener on 127.0.0.1 but Taken says free", p)
	}
	f, err := Free()
	if err != nil {
		t.Fatal(err)
	}
	if Taken(f) {
		t.Errorf("Free gave %d, which Taken says is taken", f)
	}
}
