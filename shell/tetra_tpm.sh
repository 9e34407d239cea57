# shellcheck shell=bash
#  _____ ___ __  __
# |_   _| _ \  \/  |   tetra_tpm.sh: tpm for bash (4 and later) and zsh (5 and later)
#   | | |  _/ |\/| |
#   |_| |_| |_|  |_|   Source it from ~/.bashrc or ~/.zshrc:  . /path/to/tetra_tpm.sh
#
# It defines tetra_tpm_start, tetra_tpm_stop, tetra_tpm_restart,
# tetra_tpm_reload, tetra_tpm_upgrade, tetra_tpm_startup, tetra_tpm_export,
# tetra_tpm_serve,
# tetra_tpm_list (and tetra_tpm_ls), tetra_tpm_logs,
# tetra_tpm_delete, tetra_tpm_clean, tetra_tpm_meta and tetra_tpm_ports, and a
# `tpm` command that dispatches
# `tpm start|stop|restart|reload|upgrade|startup|export|serve|ls|list|logs|delete|del|clean|meta|ports|help ...` to
# them, with completion of subcommands and process names in both shells. When a
# `tpm` command or alias already exists (tmux's plugin manager is one), `tpm` is
# left alone and only the tetra_tpm_* functions are defined.
#
# Each function runs one tpm-<verb> binary with the arguments it was given and
# returns its exit status unchanged; the logic lives in the binaries. Sourcing
# prints nothing, may be repeated, and returns 0. No function is exported and no
# variable is left behind; the functions work under `set -e` and `set -u`.
#
# Environment variables it honours:
#   - $TPM_BIN       the folder of the tpm-* binaries (default: found on PATH)
#   - $TETRA_DIR     where tpm keeps its state (default: $HOME/tetra; read by the binaries)
#   - $NO_COLOR      no colour in tables and logs (read by the binaries)
#   - $TPM_TERMINAL  1 or 0: force the terminal form of tpm-ls and tpm-log on or off

# _tetra_tpm_run VERB ARGS... runs tpm-VERB from $TPM_BIN or PATH.
_tetra_tpm_run() {
	if [ -n "${TPM_BIN:-}" ]; then
		"${TPM_BIN}/tpm-$1" "${@:2}"
	else
		command "tpm-$1" "${@:2}"
	fi
}

tetra_tpm_start() { _tetra_tpm_run start "$@"; }
tetra_tpm_stop() { _tetra_tpm_run stop "$@"; }
tetra_tpm_list() { _tetra_tpm_run ls "$@"; }
tetra_tpm_ls() { _tetra_tpm_run ls "$@"; }
tetra_tpm_logs() { _tetra_tpm_run log "$@"; }
tetra_tpm_clean() { _tetra_tpm_run clean "$@"; }
tetra_tpm_meta() { _tetra_tpm_run meta "$@"; }

tetra_tpm_restart() { _tetra_tpm_run restart "$@"; }
tetra_tpm_upgrade() { _tetra_tpm_run upgrade "$@"; }
tetra_tpm_reload() { _tetra_tpm_run reload "$@"; }
tetra_tpm_startup() { _tetra_tpm_run startup "$@"; }
tetra_tpm_export() { _tetra_tpm_run export "$@"; }
tetra_tpm_serve() { _tetra_tpm_run serve "$@"; }

# tetra_tpm_delete NAME|PATTERN...: stop, then remove every file of the
# processes (meta, env, pid, logs).
tetra_tpm_delete() {
	if [ "$#" -eq 0 ]; then
		printf '%s\n' "tpm: delete needs NAMEs" >&2
		return 64
	fi
	_tetra_tpm_run stop "$@" || return
	_tetra_tpm_run clean "$@"
}

# tetra_tpm_ports [PATTERN...] prints "NAME PORT" for each process with a port.
tetra_tpm_ports() {
	local _tpm_out
	_tpm_out=$(TPM_TERMINAL=0 _tetra_tpm_run ls "$@") || return
	[ -n "$_tpm_out" ] || return 0
	printf '%s\n' "$_tpm_out" | command awk -F '\t' '$4 != 0 { print $1, $4 }'
}

_tetra_tpm_usage() {
	command cat <<'EOF'
usage: tpm COMMAND [ARGS...]

  start SCRIPT [ARGS...] | CONFIG | NAME...   start programs (tpm-start)
  stop NAME... | --all | --port PORT          stop them (tpm-stop)
  restart NAME... | --all                     stop, then start again from the records (tpm-restart)
  reload NAME...                              replace programs with no moment without a listener (tpm-reload)
  upgrade [NAME...]                           move supervisors to the installed binary, in place (tpm-upgrade)
  startup [--print | --remove]                start the stale processes at boot (tpm-startup)
  export systemd|nomad NAME... | CONFIG       print systemd units or a Nomad job (tpm-export)
  serve [--listen ADDR]                       serve the API, metrics and a web page (tpm-serve)
  ls, list [PATTERN...]                       list processes (tpm-ls)
  logs NAME... | --all                        print and follow logs (tpm-log)
  delete, del NAME...                         stop, then remove every file of them
  clean [NAME...]                             tidy the state, or delete files (tpm-clean)
  meta NAME [KEY | KEY=VALUE...]              print or set record fields (tpm-meta)
  ports [PATTERN...]                          print NAME PORT lines
  help                                        this text

Each command takes --help.
EOF
}

# _tetra_tpm_dispatch COMMAND ARGS... is what `tpm` runs.
_tetra_tpm_dispatch() {
	if [ "$#" -eq 0 ]; then
		_tetra_tpm_usage
		return 0
	fi
	case $1 in
	start) tetra_tpm_start "${@:2}" ;;
	stop) tetra_tpm_stop "${@:2}" ;;
	restart) tetra_tpm_restart "${@:2}" ;;
	upgrade) tetra_tpm_upgrade "${@:2}" ;;
	reload) tetra_tpm_reload "${@:2}" ;;
	startup) tetra_tpm_startup "${@:2}" ;;
	export) tetra_tpm_export "${@:2}" ;;
	serve) tetra_tpm_serve "${@:2}" ;;
	ls | list) tetra_tpm_list "${@:2}" ;;
	logs | log) tetra_tpm_logs "${@:2}" ;;
	delete | del) tetra_tpm_delete "${@:2}" ;;
	clean) tetra_tpm_clean "${@:2}" ;;
	meta) tetra_tpm_meta "${@:2}" ;;
	ports) tetra_tpm_ports "${@:2}" ;;
	help | -h | --help) _tetra_tpm_usage ;;
	*)
		printf 'tpm: unknown command "%s"\n' "$1" >&2
		printf '%s\n' "tpm: hint: tpm help lists the commands" >&2
		return 64
		;;
	esac
}

# _tetra_tpm_candidates CWORD WORD0 WORD1... prints, one per line, what may
# complete word CWORD of the command line WORD0 WORD1...: a subcommand first,
# then process names (and, for start, nothing: the shell completes files).
# Both shells' completion functions use it.
_tetra_tpm_candidates() {
	local _tpm_cword=$1 _tpm_sub=""
	shift
	case ${1:-} in
	tpm)
		if [ "$_tpm_cword" -le 1 ]; then
			printf '%s\n' start stop restart reload upgrade ls list logs delete del clean meta ports startup export serve help
			return 0
		fi
		_tpm_sub=${2:-}
		;;
	tetra_tpm_*) _tpm_sub=${1#tetra_tpm_} ;;
	*) return 0 ;;
	esac
	case $_tpm_sub in
	export)
		# The engine first (word 2 of tpm export, word 1 of tetra_tpm_export).
		local _tpm_first=1
		[ "${1:-}" = tpm ] && _tpm_first=2
		if [ "$_tpm_cword" -le "$_tpm_first" ]; then
			printf '%s\n' systemd nomad
		else
			_tetra_tpm_run ls -q 2>/dev/null
		fi
		;;
	stop | restart | reload | upgrade | logs | log | delete | del | clean | meta | ls | list | ports | start)
		_tetra_tpm_run ls -q 2>/dev/null
		;;
	esac
	return 0
}

if [ -n "${ZSH_VERSION:-}" ]; then
	# zsh: the completion function, registered with compdef once the
	# completion system is loaded. This file never runs compinit itself; when
	# it is sourced before compinit, a precmd hook registers it at the next
	# prompt and removes itself.
	_tetra_tpm_zsh_complete() {
		local -a _tpm_cands
		# zsh syntax, which shellcheck (reading this file as bash) does not
		# know: split the lines, dropping empty ones.
		# shellcheck disable=SC2296,SC2206
		_tpm_cands=(${(f)"$(_tetra_tpm_candidates $((CURRENT - 1)) "${words[@]}")"})
		if [ "${words[1]}" = tpm ] && [ "$CURRENT" -le 2 ]; then
			compadd -a _tpm_cands
			return
		fi
		case "${words[1]}:${words[2]:-}" in
		tpm:start | tetra_tpm_start:*)
			compadd -a _tpm_cands
			_files
			;;
		*) compadd -a _tpm_cands ;;
		esac
	}
	_tetra_tpm_zsh_register() {
		# shellcheck disable=SC2154 # zsh's $functions, with compdef in it
		(( $+functions[compdef] )) || return 0
		local _tpm_fn
		for _tpm_fn in tetra_tpm_start tetra_tpm_stop tetra_tpm_restart tetra_tpm_reload tetra_tpm_upgrade tetra_tpm_list tetra_tpm_ls \
			tetra_tpm_export tetra_tpm_logs tetra_tpm_delete tetra_tpm_clean tetra_tpm_meta tetra_tpm_ports; do
			compdef _tetra_tpm_zsh_complete "$_tpm_fn"
		done
		if [ "$(whence -w tpm 2>/dev/null || true)" = "tpm: function" ]; then
			compdef _tetra_tpm_zsh_complete tpm
		fi
		if (( ${+precmd_functions} )); then
			# shellcheck disable=SC2296 # zsh: the array without this hook
			precmd_functions=("${(@)precmd_functions:#_tetra_tpm_zsh_register}")
		fi
	}
else
	# bash: complete -F with COMP_WORDS, through the shared candidates.
	_tetra_tpm_bash_complete() {
		local _tpm_cur=${COMP_WORDS[COMP_CWORD]:-} _tpm_line
		COMPREPLY=()
		while IFS= read -r _tpm_line; do
			case $_tpm_line in
			"$_tpm_cur"*) COMPREPLY+=("$_tpm_line") ;;
			esac
		done < <(_tetra_tpm_candidates "$COMP_CWORD" "${COMP_WORDS[@]}")
		if { [ "${COMP_WORDS[0]}" = tpm ] && [ "$COMP_CWORD" -ge 2 ] && [ "${COMP_WORDS[1]}" = start ]; } ||
			[ "${COMP_WORDS[0]}" = tetra_tpm_start ]; then
			# Files too: quoted, and folders ending in a slash.
			compopt -o filenames 2>/dev/null
			while IFS= read -r _tpm_line; do
				COMPREPLY+=("$_tpm_line")
			done < <(compgen -f -- "$_tpm_cur")
		fi
	}
fi

# Define `tpm` unless something else already answers to that name.
_tetra_tpm_define_tpm() {
	local _tpm_kind=""
	if [ -n "${ZSH_VERSION:-}" ]; then
		_tpm_kind=$(whence -w tpm 2>/dev/null) || true
		_tpm_kind=${_tpm_kind#tpm: }
	else
		_tpm_kind=$(type -t tpm 2>/dev/null) || true
	fi
	case $_tpm_kind in
	"" | none) ;;
	function)
		# Ours, from an earlier source, may be defined again.
		case $(typeset -f tpm 2>/dev/null || true) in
		*_tetra_tpm_dispatch*) ;;
		*) return 0 ;;
		esac
		;;
	*) return 0 ;; # an alias, a command or a builtin: leave it
	esac
	eval 'tpm() { _tetra_tpm_dispatch "$@"; }'
}
_tetra_tpm_define_tpm

if [ -n "${ZSH_VERSION:-}" ]; then
	if (( $+functions[compdef] )); then
		_tetra_tpm_zsh_register
	elif [ -z "${precmd_functions[(r)_tetra_tpm_zsh_register]:-}" ]; then
		precmd_functions+=(_tetra_tpm_zsh_register)
	fi
elif command -v complete >/dev/null 2>&1; then
	complete -F _tetra_tpm_bash_complete tetra_tpm_start tetra_tpm_stop tetra_tpm_restart tetra_tpm_reload tetra_tpm_upgrade tetra_tpm_list tetra_tpm_export \
		tetra_tpm_ls tetra_tpm_logs tetra_tpm_delete tetra_tpm_clean tetra_tpm_meta tetra_tpm_ports
	if [ "$(type -t tpm 2>/dev/null || true)" = function ]; then
		case $(declare -f tpm) in
		*_tetra_tpm_dispatch*) complete -F _tetra_tpm_bash_complete tpm ;;
		esac
	fi
fi
true
