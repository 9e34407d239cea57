package supervise

// Model returns what the man page generator (internal/mangen) builds
// tpm-supervise(1) from, as the other commands' Model functions do: a
// grammar naming the one flag the supervisor reads, and its description.
// The supervisor links no flag parser (each one must stay a few MiB), so
// nothing here is parsed at run time: the grammar's tags are only text, and
// the linker drops this function from tpm-supervise, which never calls it.
func Model() (any, string) { return &modelGrammar{}, modelDescription }

type modelGrammar struct {
	Version bool `help:"Print the build of this binary (what tpm-ls --json shows as sup_version) and exit."`
}

const modelDescription = `Keep one program alive: the supervisor tpm-start leaves behind for each
process. Only tpm-start runs it; it is not meant to be run by hand.

It starts the program in its own process group, in its working folder, with
stdin from /dev/null, the saved environment and PORT; writes the pid file and
the meta line once the program runs; and appends each line of the program's
standard output and error to the logs, time-stamped and rotated. When the
program ends it records how, and starts it again by the restart policy, backing
off between quick failures. It takes requests (stop, ready) on its control FIFO
run/NAME.SUPPID.ctl, which tpm-stop and the other commands use. ps shows it as
"tpm-supervise TREE NAME".

TERM or INT sent to the supervisor itself (a shutdown, a logout) take the
program down but keep its pid file, so that the process shows as stale and
tpm-start --stale brings it back. HUP reopens the log files. tpm-upgrade moves
running supervisors to a newly installed binary in place.

It links neither the flag parser nor the JavaScript engine and sleeps while
the program is quiet, so that each supervisor stays a few MiB of memory and
uses no CPU.

Exit codes: 0 its program ended for good (or it was not needed), 1 and 64 to 77
its program could not be started: tpm-start reports why and exits with the same code.`
