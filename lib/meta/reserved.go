package meta

import "slices"

// The policy: a meta line is eval'd by bash and zsh scripts, so no key may be
// a name either shell keeps for itself. Bash's own variables are all upper
// case (keys never are) except "_"; zsh has many lower-case ones. Assigning
// to them does one of three things, all of them bad for a script that evals
// the line:
//   - the eval fails and the fields after it are not set: read-only
//     parameters, and the special hashes of the zsh/parameter, zsh/system,
//     zsh/terminfo... modules, which refuse a scalar;
//   - the shell changes: path is $PATH, fpath, cdpath, prompt (PS1), argv
//     (the positional parameters), dirstack, histchars...;
//   - the value is silently dropped: "_" and pipestatus.
//
// The list below was taken from zsh 5.9 itself: every lower-case parameter
// that `zsh -f` reports as special or read-only once all its modules are
// loaded (TestReservedMatchesZsh checks it against the zsh on the machine),
// plus the lower-case parameters zsh reads for its own use (signals,
// zle_bracketed_paste, zle_highlight).
//
// watch is the one special name allowed: it is a key of SPEC §12, and zsh's
// watch array only makes an interactive zsh report the logins and logouts of
// the users it names (nothing runs, nothing fails, the value reads back).
var reserved = []string{
	"_",
	"aliases",
	"argv",
	"builtins",
	"cdpath",
	"commands",
	"dirstack",
	"dis_aliases",
	"dis_builtins",
	"dis_functions",
	"dis_functions_source",
	"dis_galiases",
	"dis_patchars",
	"dis_reswords",
	"dis_saliases",
	"epochtime",
	"errnos",
	"fignore",
	"fpath",
	"funcfiletrace",
	"funcsourcetrace",
	"funcstack",
	"functions",
	"functions_source",
	"functrace",
	"galiases",
	"histchars",
	"history",
	"historywords",
	"jobdirs",
	"jobstates",
	"jobtexts",
	"keymaps",
	"langinfo",
	"mailpath",
	"manpath",
	"mapfile",
	"module_path",
	"modules",
	"nameddirs",
	"options",
	"parameters",
	"patchars",
	"path",
	"pipestatus",
	"prompt",
	"psvar",
	"reswords",
	"saliases",
	"signals",
	"status",
	"sysparams",
	"termcap",
	"terminfo",
	"userdirs",
	"usergroups",
	"widgets",
	"zcurses_attrs",
	"zcurses_colors",
	"zcurses_keycodes",
	"zcurses_windows",
	"zgdbm_tied",
	"zle_bracketed_paste",
	"zle_highlight",
	"zsh_eval_context",
	"zsh_scheduled_events",
}

// Reserved reports whether k is a name bash or zsh keeps for itself, so that
// a meta line with that key would not be safe to eval.
func Reserved(k string) bool {
	_, ok := slices.BinarySearch(reserved, k)
	return ok
}
