# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# One cleanup stack per shell, so that no helper can replace another's
# cleanup: `trap ... EXIT` keeps only the last command, and a helper that set
# its own trap used to drop the test's (the work directory with its LUKS
# image and passphrase stayed in /tmp).
#
#   at_exit CMD [ARG...]   push a command; it runs when the shell exits
#
# A single EXIT trap pops and runs the commands in reverse order (the last
# pushed runs first: stop the server before removing its directory), each
# once, with errexit and nounset off, and the shell then exits with the
# status it was exiting with. INT exits 130 and TERM 143, through the same
# stack. Signals are ignored while the stack runs, so a second ^C cannot cut
# a cleanup short. A command must not call `exit`: that ends the shell and
# skips the commands under it.
#
# Nothing else in tests/ (nor in scripts that source tests/lib) may call
# `trap`; tests/build/leftovers.sh checks that.
#
# A subshell gets its own, empty stack on its first at_exit (bash does not
# run the parent's EXIT trap in a subshell, and the parent's commands are not
# the subshell's to run). Sourcing this file again is harmless.

# _at_exit_init: an empty stack and the traps, for this (sub)shell.
_at_exit_init() {
	_AT_EXIT_CMDS=()
	_AT_EXIT_PID=$BASHPID
	trap '_at_exit_run $?' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

at_exit() {
	[ $# -gt 0 ] || { echo "at_exit: no command" >&2; return 2; }
	[ "${_AT_EXIT_PID:-}" = "$BASHPID" ] || _at_exit_init
	_AT_EXIT_CMDS+=("$(printf '%q ' "$@")")
}

# _at_exit_run STATUS: run the stack (from the EXIT trap), exit with STATUS.
_at_exit_run() {
	local rc=$1 n cmd
	[ "${_AT_EXIT_PID:-}" = "$BASHPID" ] || exit "$rc"
	trap '' INT TERM
	set +eu
	while n=${#_AT_EXIT_CMDS[@]}; [ "$n" -gt 0 ]; do
		cmd=${_AT_EXIT_CMDS[n - 1]}
		unset '_AT_EXIT_CMDS[n - 1]'   # popped first: it runs once
		eval "$cmd"
	done
	exit "$rc"
}

[ "${_AT_EXIT_PID:-}" = "$BASHPID" ] || _at_exit_init
