package proc

// Measure reports ErrNoMemory: macOS tells a process's resident memory
// through libproc only, which Go cannot call without cgo.
func (g *GroupMeter) Measure() (Usage, error) { return Usage{}, ErrNoMemory }

// MeasuresMemory tells whether Measure sees resident memory here.
const MeasuresMemory = false
