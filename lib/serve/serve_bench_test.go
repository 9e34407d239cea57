package serve

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

// BenchmarkList: GET /v1/processes in the server itself (no network, no
// process to start), with records as bench/ writes them: most stopped, a
// third meant to run and not alive. bench/serve.go times the same against
// tpm-ls --json over HTTP.
func BenchmarkList(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			tr, tok := newTree(b)
			for i := range n {
				line := fmt.Sprintf("script=/srv/app/app%d.js pid=%d port=%d start_time=1764000000 type=cli cwd=/srv/app "+
					"args='--mode production' interpreter=node restart=on-failure token=%d@1a2b3c4d sup_pid=%d sup_token=%d@1a2b3c4d state=stopped restarts=0 exit_code=0\n",
					i, 4000000+i, 10000+i, 100+i, 4100000+i, 99+i)
				name := fmt.Sprintf("app%d-%d", i, 10000+i)
				os.WriteFile(tr.Meta(name), []byte(line), 0o600)
				if i%3 == 0 {
					os.WriteFile(tr.Pid(name), []byte(strconv.Itoa(4000000+i)+"\n"), 0o600)
				}
			}
			h := (&Server{Tree: tr}).Handler()
			b.ResetTimer()
			for b.Loop() {
				if w := do(h, "GET", "/v1/processes", tok, nil); w.Code != 200 {
					b.Fatal(w.Code)
				}
			}
		})
	}
}
