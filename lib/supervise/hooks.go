package supervise

// hook runs the process's on_event command for an event (hooks are being
// written: for now, nothing).
func (s *sup) hook(kind string, kv []string) {}
