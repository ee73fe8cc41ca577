#!/bin/bash
# SPDX-License-Identifier: MIT
# Test hygiene: the cleanup stack (tests/lib/atexit.sh) and the leftover
# check tests/run.sh applies to every host, build, fuzz and QEMU test
# (tests/lib/leftovers.sh), each with fake tests that must be flagged
# (negative controls) and clean ones that must not (positive controls):
#  - nothing under tests/ calls `trap` but atexit.sh (a helper's own trap is
#    what used to drop the test's cleanup);
#  - at_exit runs every command once, last pushed first, keeps the exit
#    status, exits 130 on INT and 143 on TERM, and survives a failing
#    cleanup command;
#  - a test sourcing common.sh that starts swtpm and the proxy and fails
#    leaves nothing in its TMPDIR and no process running;
#  - run_isolated gives the command a fresh TMPDIR and reports what is left
#    in it: a leaked mktemp -d, a file, and a WORK whose cleanup a stray
#    `trap` replaced are named; clean tests report nothing.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/leftovers.sh"
cd "$REPO"

# --- no trap but the stack's ----------------------------------------------
# trap_calls FILE...: print "file:line: text" for each trap command.
trap_calls() {
	grep -nHE '(^|[;&|({]|then|do|else)[[:space:]]*trap[[:space:]]' "$@" 2>/dev/null |
		grep -vE '^[^:]*:[0-9]+:[[:space:]]*#'
}
# Every shell file under tests/, and the scripts elsewhere that source tests/lib.
files=()
while IFS= read -r f; do
	# atexit.sh owns the traps; this file plants some in fake tests.
	case $f in tests/lib/atexit.sh|tests/build/leftovers.sh) continue ;; esac
	head -c 200 "$f" | grep -qE '^#!.*(ba)?sh|shellcheck shell=' || case $f in *.sh) ;; *) continue ;; esac
	files+=("$f")
done < <({ find tests -type f \( -name '*.sh' -o -perm -u+x \) -not -path 'tests/fuzz/corpus/*';
	grep -rlE '(\.|source) .*tests/lib/' scripts bench 2>/dev/null; } | sort -u)
[ ${#files[@]} -gt 10 ] || fail "found only ${#files[@]} shell files to check"
found=$(trap_calls "${files[@]}")
[ -z "$found" ] || fail "trap outside tests/lib/atexit.sh (use at_exit): $found"
# Negative control: the patterns this replaced are found.
printf '#!/bin/bash\n# trap in a comment is fine\nx=1; trap cleanup EXIT\n\ttrap '\''a; b'\'' EXIT\n' > "$WORK/trapper.sh"
[ "$(trap_calls "$WORK/trapper.sh" | wc -l)" = 2 ] || fail "trap_calls missed a trap: $(trap_calls "$WORK/trapper.sh")"
echo "ok: no trap in ${#files[@]} files but atexit.sh; a planted one is found"

# --- at_exit ----------------------------------------------------------------
# A fake test: pushes three commands that record themselves (the middle one
# also fails and uses an unset variable), then ends as told by $1.
cat > "$WORK/stack.sh" <<'EOF'
set -eu
. "$1/tests/lib/atexit.sh"
rec=$2
at_exit sh -c "echo A >> '$rec'"
middle() { false; echo "B$unset_variable" >> "$rec"; }   # needs errexit, nounset off
at_exit middle
at_exit sh -c "echo C >> '$rec'"
( at_exit sh -c "echo sub >> '$rec'" )   # a subshell's own stack, run at its exit
case $3 in
exit*) exit "${3#exit}" ;;
fail) false ;;
TERM|INT) kill -"$3" $$; sleep 5; echo "still running after $3" >> "$rec" ;;
esac
EOF
# at_exit_case HOW WANT: run the fake, expect exit WANT and the record
# "sub C B A" (B gets written only with errexit and nounset off).
at_exit_case() {
	local how=$1 want=$2 rc got
	: > "$WORK/rec"
	# The python wrapper resets SIGINT to the default: a shell started
	# with it ignored (as an async job of a script is) cannot trap it.
	/usr/bin/python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp("bash", ["bash"] + sys.argv[1:])' "$WORK/stack.sh" "$REPO" "$WORK/rec" "$how"
	rc=$?
	got=$(paste -sd ' ' "$WORK/rec")
	[ "$rc" = "$want" ] || fail "at_exit, $how: exit $rc, want $want (record: $got)"
	[ "$got" = "sub C B A" ] || fail "at_exit, $how: ran '$got', want 'sub C B A' (each once, last first)"
}
at_exit_case exit0 0
at_exit_case exit1 1
at_exit_case exit77 77
at_exit_case fail 1
at_exit_case TERM 143
at_exit_case INT 130
echo "ok: at_exit: each once, last first, status kept (0 1 77, errexit 1, TERM 143, INT 130)"

# --- host test helpers: nothing left, nothing running -----------------------
# A fake host test that starts swtpm (and the proxy in front of it), records
# where its things are, and fails; as it would when a check fails.
cat > "$WORK/host.sh" <<'EOF'
. "$REPO_UNDER_TEST/tests/lib/common.sh"
swtpm_start || fail "swtpm"
proxy_start "$WORK/tpm.log"
echo "$TMPDIR $WORK $SWTPM_DIR $SWTPM_PID $PROXY_PID" > "$RECORD"
[ -d "$WORK" ] && [ -d "$SWTPM_DIR" ] || exit 3
fail "on purpose"
EOF
if command -v swtpm >/dev/null; then
	run_isolated "$WORK/tmp" host env REPO_UNDER_TEST="$REPO" RECORD="$WORK/host.rec" \
		SEALINIT=/bin/true bash "$WORK/host.sh" > "$WORK/host.out" 2>&1
	rc=$?
	[ "$rc" = 1 ] || fail "fake host test: exit $rc, want 1: $(cat "$WORK/host.out")"
	read -r tmp work sdir spid ppid < "$WORK/host.rec" || fail "fake host test recorded nothing"
	[ "$tmp" = "$WORK/tmp/host" ] || fail "fake host test's TMPDIR was '$tmp', want $WORK/tmp/host"
	case "$work $sdir" in "$tmp/"*" $tmp/"*) ;; *) fail "WORK ($work) or swtpm state ($sdir) not under TMPDIR $tmp" ;; esac
	[ -z "$LEFTOVERS" ] || fail "swtpm + proxy + fail left: $LEFTOVERS"
	for p in "$spid" "$ppid"; do
		[ -n "$p" ] || fail "fake host test recorded no PID"
		! kill -0 "$p" 2>/dev/null || fail "process $p (swtpm or proxy) still runs after the test"
	done
	echo "ok: swtpm + proxy + fail: exit 1, nothing left in TMPDIR, swtpm and proxy ended"
else
	echo "note: no swtpm, the swtpm + proxy case not run"
fi

# --- run_isolated + tmp_leftovers --------------------------------------------
# tmp_leftovers on its own: an empty or absent directory is clean.
mkdir "$WORK/empty"
out=$(tmp_leftovers "$WORK/empty") || fail "tmp_leftovers: empty dir reported: $out"
out=$(tmp_leftovers "$WORK/absent") || fail "tmp_leftovers: absent dir reported: $out"
mkdir -p "$WORK/full/d/e"; : > "$WORK/full/f"; head -c 5000 /dev/zero > "$WORK/full/d/e/g"
out=$(tmp_leftovers "$WORK/full") && fail "tmp_leftovers: leftovers not reported"
[ "$(echo "$out" | sed 's/ (.*//' | paste -sd ' ')" = "d/ f" ] ||
	fail "tmp_leftovers listed '$out', want d/ and f"

# Fake tests, each run as tests/run.sh runs it.
cat > "$WORK/clean.sh" <<'EOF'
. "$REPO_UNDER_TEST/tests/lib/common.sh"
mkimg "$WORK/img"          # a 20 MiB image in WORK, as host tests make
echo "$TMPDIR" > "$RECORD"
exit "${1:-0}"
EOF
cat > "$WORK/leaks-dir.sh" <<'EOF'
mkdir -p "$(mktemp -d "${TMPDIR:-/tmp}/sealinit-fake.XXXXXX")/sub"
EOF
cat > "$WORK/leaks-file.sh" <<'EOF'
mktemp "${TMPDIR:-/tmp}/fake-file.XXXXXX" >/dev/null; chmod 000 "$TMPDIR"/fake-file.*
EOF
cat > "$WORK/replaced.sh" <<'EOF'
. "$REPO_UNDER_TEST/tests/lib/common.sh"
trap 'true' EXIT           # the bug this replaced: a helper's own trap
mkimg "$WORK/img"
EOF
# isolated NAME WANT-RC SCRIPT [ARG]: run it; check its status; LEFTOVERS set.
isolated() {
	local name=$1 want=$2 rc
	shift 2
	run_isolated "$WORK/tmp" "$name" env REPO_UNDER_TEST="$REPO" RECORD="$WORK/$name.rec" \
		SEALINIT=/bin/true bash "$@" > "$WORK/$name.out" 2>&1
	rc=$?
	[ "$rc" = "$want" ] || fail "$name: exit $rc, want $want: $(cat "$WORK/$name.out")"
	[ ! -e "$WORK/tmp/$name" ] || fail "$name: its TMPDIR was not removed"
}
isolated clean 0 "$WORK/clean.sh"
[ -z "$LEFTOVERS" ] || fail "clean test flagged: $LEFTOVERS"
[ "$(cat "$WORK/clean.rec")" = "$WORK/tmp/clean" ] || fail "clean test ran with TMPDIR=$(cat "$WORK/clean.rec")"
isolated clean-fail 1 "$WORK/clean.sh" 1
[ -z "$LEFTOVERS" ] || fail "clean failing test flagged: $LEFTOVERS"
isolated clean-skip 77 "$WORK/clean.sh" 77
[ -z "$LEFTOVERS" ] || fail "clean skipped test flagged: $LEFTOVERS"
echo "ok: clean tests (exit 0, 1, 77) ran in their own TMPDIR and are not flagged"

isolated leaks-dir 0 "$WORK/leaks-dir.sh"
case "$LEFTOVERS" in "sealinit-fake."??????"/ ("*")") ;; *) fail "leaked dir: reported '$LEFTOVERS'" ;; esac
isolated leaks-file 0 "$WORK/leaks-file.sh"
case "$LEFTOVERS" in "fake-file."??????" ("*")") ;; *) fail "leaked file: reported '$LEFTOVERS'" ;; esac
isolated replaced 0 "$WORK/replaced.sh"
case "$LEFTOVERS" in "sealinit-test."??????"/ ("*"M)") ;; *) fail "replaced trap: reported '$LEFTOVERS'" ;; esac
echo "ok: flagged: a leaked dir, a leaked unreadable file, a WORK whose cleanup a trap replaced ($LEFTOVERS)"
echo ok
