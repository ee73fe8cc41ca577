# SPDX-License-Identifier: MIT
# Shared helpers for host tests. A test script sources this, does its work
# and exits 0 (pass), 1 (fail) or 77 (skip).

set -u
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO=$(cd "$TESTS_DIR/.." && pwd)
SEALINIT=${SEALINIT:-$REPO/build/$(uname -m)/sealinit}
. "$TESTS_DIR/lib/atexit.sh"
. "$TESTS_DIR/lib/swtpm.sh"

# The work directory goes under $TMPDIR (tests/run.sh gives each test its
# own, and fails a test that leaves anything in it).
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sealinit-test.XXXXXX") || { echo "FAIL: mktemp" >&2; exit 1; }
at_exit rm -rf "$WORK"
PASSPHRASE="correct horse battery staple"
printf '%s' "$PASSPHRASE" > "$WORK/pass"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

# mkimg FILE: a small LUKS2 image whose keyslot 0 opens with $WORK/pass.
# PBKDF2 at 1000 iterations keeps each open cheap (DESIGN: test images).
mkimg() {
	truncate -s 20M "$1"
	cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 \
		--pbkdf-force-iterations 1000 "$1" "$WORK/pass" >/dev/null ||
		fail "luksFormat $1"
}

# run CMD...: run, keep stdout+stderr in $OUT and the exit code in $RC.
run() {
	OUT=$("$@" 2>&1)
	RC=$?
}

# expect CODE WHAT CMD...: the command must exit with CODE.
expect() {
	local code=$1 what=$2
	shift 2
	run "$@"
	[ "$RC" = "$code" ] || fail "$what: expected exit $code, got $RC: $OUT"
}

# expect_msg TEXT: the last command's output must mention TEXT.
# expect_checker PROGRAM INPUT WANT-EXIT TEXT...: a checker script of
# scripts/ (run with /usr/bin/python3) on INPUT must exit WANT-EXIT and
# print each TEXT (fixed strings); a traceback is never a pass.
expect_checker() {
	local prog=$1 input=$2 want=$3 t
	shift 3
	run /usr/bin/python3 "$prog" "$input"
	case "$OUT" in *Traceback*) fail "$(basename "$prog") crashed on $input: $OUT" ;; esac
	[ "$RC" = "$want" ] || fail "$(basename "$input"): $(basename "$prog") exited $RC, want $want: $OUT"
	for t in "$@"; do
		case "$OUT" in *"$t"*) ;; *) fail "$(basename "$input"): no \`$t' in: $OUT" ;; esac
	done
}

expect_msg() {
	case "$OUT" in
	*"$1"*) ;;
	*) fail "expected message containing \`$1', got: $OUT" ;;
	esac
}

# digest FILE: its SHA-256, in hex. Pure bash past sha256sum, so that a
# test's own function named like a tool cannot change it; empty output
# fails the test rather than compare equal to another empty one.
digest() {
	local h
	h=$(sha256sum "$1") && [ -n "${h%% *}" ] || fail "sha256sum $1"
	echo "${h%% *}"
}

# extend PCR with a fixed digest in the sha256 bank.
extend() {
	tpm2_pcrextend "$1:sha256=$(printf '%064d' 1)" >/dev/null || fail "extend PCR $1"
}

# measure_logged LOG EVENT...: extend each EVENT into PCR 15 (sealinit
# measure) and append its CEL-JSON record to LOG, written here independently
# (Python, RFC 7464 framing, as systemd writes the log).
measure_logged() {
	local log=$1 e
	shift
	for e in "$@"; do
		"$SEALINIT" measure --pcr 15 --string "$e" >/dev/null || fail "measure $e"
		/usr/bin/python3 - "$e" >>"$log" <<'PY'
import hashlib, json, sys
s = sys.argv[1]
rec = {"pcr": 15, "digests": [{"hashAlg": "sha256", "digest": hashlib.sha256(s.encode()).hexdigest()}],
       "content_type": "systemd", "content": {"string": s}}
sys.stdout.write("\x1e" + json.dumps(rec) + "\n")
PY
	done
}

# flip_sig IN OUT: the signature file IN with one bit of its first entry's
# signature flipped, as OUT (an attacker's edit; the file stays well formed).
flip_sig() {
	/usr/bin/python3 - "$1" "$2" <<'PY' || fail "flip_sig $1"
import base64, json, sys
j = json.load(open(sys.argv[1]))
s = bytearray(base64.b64decode(j["sha256"][0]["sig"])); s[10] ^= 1
j["sha256"][0]["sig"] = base64.b64encode(bytes(s)).decode()
json.dump(j, open(sys.argv[2], "w"))
PY
	cmp -s "$1" "$2" && fail "flip_sig: $2 is $1"
}

# rsa_key PRIV PUB: a 2048-bit RSA key pair as PEM files (a policy-signing
# key, as openssl makes it for systemd-measure).
rsa_key() {
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null &&
		openssl pkey -in "$1" -pubout -out "$2" || fail "openssl genpkey $1"
}

[ -x "$SEALINIT" ] || fail "no sealinit binary at $SEALINIT (run make)"

# need_driver NAME: sets DRIVER to the host-test driver NAME that
# `make unit-tests` builds beside $SEALINIT (tests/host/drivers/NAME.c).
need_driver() {
	DRIVER=$(dirname "$SEALINIT")/tests/host_$1
	[ -x "$DRIVER" ] || fail "no driver at $DRIVER (make unit-tests builds it)"
}

# proxy_start LOG [PROXY-OPTION...]: put the command-recording proxy between us and swtpm;
# sets PROXY_TCTI. Stopped at exit (at_exit proxy_stop), before swtpm.
PROXY_PID=""
PROXY_AT_EXIT=""
proxy_start() {
	local log=$1 port
	shift
	: > "$log"
	[ "$PROXY_AT_EXIT" = "$BASHPID" ] || { at_exit proxy_stop; PROXY_AT_EXIT=$BASHPID; }
	coproc PROXY { exec /usr/bin/python3 "$TESTS_DIR/lib/tpmproxy.py" \
		--target-port "$SWTPM_PORT" --log "$log" "$@"; }
	PROXY_PID=$PROXY_PID
	read -r -t 10 port <&"${PROXY[0]}" || fail "tpmproxy did not start"
	PROXY_TCTI="swtpm:host=127.0.0.1,port=$port"
}
proxy_stop() {
	if [ -n "$PROXY_PID" ]; then
		kill "$PROXY_PID" 2>/dev/null
		wait "$PROXY_PID" 2>/dev/null
		PROXY_PID=""
	fi
}

# commands LOG: the command names recorded, one per line.
commands() {
	grep -v '^#' "$1" | awk '{print $1}'
}

# cut_at PATH SYSCALL N CMD...: run CMD with a SIGKILL injected by strace at
# its Nth SYSCALL (on PATH only, unless PATH is empty); KILLED=1 when the
# kill happened, 0 when CMD ran to the end; any other end fails the test.
cut_at() {
	local path=$1 sc=$2 n=$3
	shift 3
	local -a p=()
	[ -n "$path" ] && p=(-P "$path")
	# The subshell keeps bash's "Killed" notice off the log. LeakSanitizer
	# cannot run under ptrace: the sanitize build's leak check is off here
	# (every other run of the same commands has it).
	( ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	  strace -f -o /dev/null "${p[@]}" -e trace="$sc" -e inject="$sc:signal=KILL:when=$n" "$@" \
		>/dev/null 2>&1; echo $? >"$WORK/cut.rc" ) 2>/dev/null
	# strace exits 128+9 when the traced command dies of SIGKILL.
	case $(cat "$WORK/cut.rc") in 137) KILLED=1 ;; 0) KILLED=0 ;;
	*) fail "$* under strace exited $(cat "$WORK/cut.rc") without the kill" ;; esac
}
