package supervise

import (
	"reflect"
	"testing"
)

// What crosses an upgrade's exec comes back whole: a quoted meta line, a
// request cut in the middle, negative counts, flags.
func TestResumeRoundTrip(t *testing.T) {
	st := resume{
		Tree: "/srv/my tree/tpm", Name: "api-3000", From: "abc123-dirty", Reply: "/t/run/.api.reply.tmp1-1",
		First: `script='/srv/it'\''s.sh' pid=0 port=3000 start_time=0 type=cli args='--x "y"'`,
		Lock:  3, Null: 4, Ctl: 9, OutR: 5, ErrR: 7, OutW: 6, ErrW: 8, Listener: -1,
		CtlLeft: []byte("stop TE\x00\xff"),
		PID:     4242, Token: "123@cafebabe", Started: 1764440000123456789, Adopted: true, Session: 4200,
		Quick: 2, Restarts: 17, Launched: true, OutRun: -1, ErrRun: 1234, EvRun: 0,
	}
	var back resume
	if err := back.decode(st.encode()); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(st, back) {
		t.Errorf("got  %+v\nwant %+v", back, st)
	}
	if err := back.decode("tree=/x name=a"); err == nil {
		t.Error("a state without its pid decoded")
	}
}
