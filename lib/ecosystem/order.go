package ecosystem

// Start order: depends_on (process-compose's name; PM2 has none) lists the
// apps an app waits for. It is a property of the file, so it is checked
// here, over every app of the file before --only keeps some: a name that
// is no app of the file, or a cycle, refuses the whole file (exit 65), and
// nothing starts. tpm-start does the waiting (startcmd, order.go).

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tetra-toolkit/tpm/lib/names"
	"github.com/tetra-toolkit/tpm/lib/spec"
)

// checkOrder checks the depends_on of every app against the apps' names,
// writes each list back with the names as the apps have them (white space
// made '-', as for the apps' own names; duplicates dropped), and refuses a
// cycle, naming it.
func checkOrder(apps []App) error {
	index := map[string]int{}
	for i, a := range apps {
		if a.Name != "" {
			index[a.Name] = i
		}
	}
	deps := make([][]int, len(apps))
	for i := range apps {
		a := &apps[i]
		v := a.Policy[spec.KeyDependsOn]
		if v == "" {
			continue
		}
		var list []string
		for _, d := range strings.Split(v, ",") {
			d, _ = names.Spaced(d)
			if d == "" || slices.Contains(list, d) {
				continue
			}
			j, ok := index[d]
			switch {
			case names.Check(d) != nil:
				return fmt.Errorf("%s: depends_on: %q is not an app name", a.Label(), d)
			case !ok:
				return fmt.Errorf("%s: depends_on: no app is named %q", a.Label(), d)
			}
			list = append(list, d)
			deps[i] = append(deps[i], j)
		}
		if len(list) == 0 {
			delete(a.Policy, spec.KeyDependsOn)
			continue
		}
		a.Policy[spec.KeyDependsOn] = strings.Join(list, ",")
	}
	if c := cycle(deps); c != nil {
		path := make([]string, len(c))
		for k, i := range c {
			path[k] = apps[i].Name
		}
		return fmt.Errorf("depends_on makes a cycle: %s", strings.Join(path, " -> "))
	}
	return nil
}

// cycle returns a cycle of the graph (deps[i] are the nodes i depends on)
// as its nodes, the first one again at the end, or nil when there is none.
func cycle(deps [][]int) []int {
	const (
		unseen = iota
		open   // on the current path
		done
	)
	mark := make([]int, len(deps))
	var path []int
	var visit func(i int) []int
	visit = func(i int) []int {
		mark[i] = open
		path = append(path, i)
		for _, j := range deps[i] {
			switch mark[j] {
			case open:
				k := slices.Index(path, j)
				return append(slices.Clone(path[k:]), j)
			case unseen:
				if c := visit(j); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		mark[i] = done
		return nil
	}
	for i := range deps {
		if mark[i] == unseen {
			if c := visit(i); c != nil {
				return c
			}
		}
	}
	return nil
}
