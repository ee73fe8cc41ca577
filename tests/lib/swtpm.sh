# SPDX-License-Identifier: MIT
# Shell helpers for host tests: a fresh swtpm per test on 127.0.0.1.
# Source this file, then call swtpm_start; it pushes swtpm_stop on the
# cleanup stack (tests/lib/atexit.sh), so swtpm is stopped and its state
# directory removed when the shell exits, before anything pushed earlier.

. "$(dirname "${BASH_SOURCE[0]}")/atexit.sh"

SWTPM_PID=""
SWTPM_DIR=""
SWTPM_PORT=""
SWTPM_AT_EXIT=""

# swtpm_start [STATEDIR]: start swtpm with a fresh (or the given) state
# directory on a free port pair; exports SEALINIT_TCTI and TPM2TOOLS_TCTI.
# The fresh directory is made under $TMPDIR.
swtpm_start() {
	local tries port
	# Pushed before anything is started, once per (sub)shell (swtpm_restart
	# calls this again).
	[ "$SWTPM_AT_EXIT" = "$BASHPID" ] || { at_exit swtpm_stop; SWTPM_AT_EXIT=$BASHPID; }
	SWTPM_DIR=${1:-$(mktemp -d "${TMPDIR:-/tmp}/sealinit-swtpm.XXXXXX")} || return 1
	mkdir -p "$SWTPM_DIR"
	for tries in 1 2 3 4 5 6 7 8 9 10; do
		port=$(( 20000 + (RANDOM % 20000) * 2 ))
		swtpm socket --tpm2 --tpmstate dir="$SWTPM_DIR" \
			--server type=tcp,port=$port,bindaddr=127.0.0.1 \
			--ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
			--flags not-need-init,startup-clear \
			--log file="$SWTPM_DIR/swtpm.log" >/dev/null 2>&1 &
		SWTPM_PID=$!
		# Bounded wait for the data port to accept connections.
		local i
		for i in $(seq 1 50); do
			if ! kill -0 "$SWTPM_PID" 2>/dev/null; then break; fi
			if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
				SWTPM_PORT=$port
				export SEALINIT_TCTI="swtpm:host=127.0.0.1,port=$port"
				export TPM2TOOLS_TCTI="$SEALINIT_TCTI"
				return 0
			fi
			sleep 0.1
		done
		kill "$SWTPM_PID" 2>/dev/null; wait "$SWTPM_PID" 2>/dev/null
		SWTPM_PID=""
	done
	echo "swtpm_start: could not start swtpm" >&2
	return 1
}

# swtpm_restart: stop and start again on the same state (a "reboot": PCRs
# reset, persistent objects kept).
swtpm_restart() {
	local dir=$SWTPM_DIR
	swtpm_kill
	swtpm_start "$dir"
}

swtpm_kill() {
	if [ -n "$SWTPM_PID" ]; then
		kill "$SWTPM_PID" 2>/dev/null
		wait "$SWTPM_PID" 2>/dev/null
		SWTPM_PID=""
	fi
}

swtpm_stop() {
	swtpm_kill
	if [ -n "$SWTPM_DIR" ] && [ -d "$SWTPM_DIR" ]; then rm -rf "$SWTPM_DIR"; fi
	SWTPM_DIR=""
}
