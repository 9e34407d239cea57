package cli

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// numericKeys are the meta fields written as JSON numbers when they hold an
// integer; every other field is a string.
var numericKeys = []string{
	"pid", "port", "start_time", state.KeySupPid, state.KeyRestarts, state.KeyExitCode, state.KeyExitTime, state.KeyInstance,
	"max_restarts", "log_max_size", "log_keep", "tsm_id",
}

// Object builds a JSON object whose keys keep the order they were added in.
type Object struct {
	b strings.Builder
}

func (o *Object) key(k string) {
	if o.b.Len() == 0 {
		o.b.WriteByte('{')
	} else {
		o.b.WriteByte(',')
	}
	kb, _ := json.Marshal(k)
	o.b.Write(kb)
	o.b.WriteByte(':')
}

// Str adds a string member.
func (o *Object) Str(k, v string) {
	o.key(k)
	vb, _ := json.Marshal(v)
	o.b.Write(vb)
}

// Raw adds a member whose value is already JSON.
func (o *Object) Raw(k, v string) {
	o.key(k)
	o.b.WriteString(v)
}

// Int adds a number member.
func (o *Object) Int(k string, v int64) { o.Raw(k, strconv.FormatInt(v, 10)) }

// Meta adds every field of m but those named in skip, numbers as numbers.
func (o *Object) Meta(m *meta.Meta, skip ...string) {
	for _, f := range m.Fields {
		if slices.Contains(skip, f.Key) {
			continue
		}
		if slices.Contains(numericKeys, f.Key) {
			if _, err := strconv.ParseInt(f.Value, 10, 64); err == nil {
				o.Raw(f.Key, f.Value)
				continue
			}
		}
		o.Str(f.Key, f.Value)
	}
}

// String closes the object and returns it.
func (o *Object) String() string {
	if o.b.Len() == 0 {
		return "{}"
	}
	return o.b.String() + "}"
}
