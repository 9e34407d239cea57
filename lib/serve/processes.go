package serve

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/tetra-toolkit/tpm/lib/cmd/lscmd"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// list answers GET /v1/processes: the array of tpm-ls --json, built by
// tpm-ls's own code from the files as they are now. ?status=S[,S...]
// filters as tpm-ls --status does.
func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	var statuses []string
	for _, v := range r.URL.Query()["status"] {
		for _, one := range strings.Split(v, ",") {
			if !slices.Contains(state.Statuses, one) {
				s.fail(w, http.StatusBadRequest, "unknown status "+strconv.Quote(one)+": want one of "+strings.Join(state.Statuses, ", "))
				return
			}
			statuses = append(statuses, one)
		}
	}
	recs, err := s.Tree.LoadAll()
	if err != nil {
		s.failErr(w, err)
		return
	}
	if len(statuses) > 0 {
		recs = slices.DeleteFunc(recs, func(r *state.Record) bool { return !slices.Contains(statuses, r.Status) })
	}
	// A failure to measure CPU and memory leaves them at 0, as tpm-ls does
	// (it warns; an answer has nowhere to).
	ps, _ := lscmd.Measure(recs)
	b, err := lscmd.JSON(s.Tree, ps)
	if err != nil {
		s.failErr(w, err)
		return
	}
	writeRaw(w, http.StatusOK, b)
}

// one answers GET /v1/processes/NAME: its object of tpm-ls --json.
func (s *Server) one(w http.ResponseWriter, r *http.Request, name string) {
	b, err := s.object(name)
	if err != nil {
		s.failErr(w, err)
		return
	}
	writeRaw(w, http.StatusOK, append(b, '\n'))
}

// object is the tpm-ls --json object of name.
func (s *Server) object(name string) ([]byte, error) {
	rec, err := s.Tree.Load(name)
	if err != nil {
		return nil, err
	}
	ps, _ := lscmd.Measure([]*state.Record{rec})
	b, err := lscmd.JSON(s.Tree, ps)
	if err != nil {
		return nil, err
	}
	// The array of one: "[\n  {...}\n]\n".
	b = bytes.TrimSpace(b)
	b = bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimPrefix(b, []byte("[")), []byte("]")))
	return b, nil
}
