package spec

import (
	"slices"
	"testing"

	"github.com/tetra-toolkit/tpm/lib/meta"
)

// The table of keys is whole: every key a spec writes is in it as the
// spec's, once, and so is every required field of a meta line.
func TestKeyTable(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Table {
		if seen[k.Name] {
			t.Errorf("%s twice", k.Name)
		}
		seen[k.Name] = true
		if k.Doc == "" {
			t.Errorf("%s has no description", k.Name)
		}
	}
	for _, k := range Keys {
		if OwnerOf(k) != OwnerSpec {
			t.Errorf("spec key %s: owner %q", k, OwnerOf(k))
		}
	}
	for _, k := range meta.Required {
		if !seen[k] {
			t.Errorf("required field %s missing", k)
		}
	}
	m := New()
	m.Script, m.Name = "/bin/true", "x"
	line := m.Meta()
	for _, f := range line.Fields {
		if OwnerOf(f.Key) == "" {
			t.Errorf("a spec writes %s, which the table lacks", f.Key)
		}
	}
	if !slices.Contains(Keys, KeyOnEvent) {
		t.Error("policy keys missing from Keys")
	}
}
