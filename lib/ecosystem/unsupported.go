//go:build !linux && !darwin

package ecosystem

// tpm runs on Linux and macOS only: it reads process identities from /proc
// (Linux) or sysctl (macOS). This line makes a build for any other system
// fail with a message that says so, rather than with undefined symbols.
var _ = tpm_builds_on_Linux_and_macOS_only
