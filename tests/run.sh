#!/bin/bash
# SPDX-License-Identifier: MIT
# Every test: unit (cmocka) and host integration (swtpm), each on the normal
# build and again on an AddressSanitizer + UBSan build. Ends with one line:
#   N passed, N failed, N skipped
# Exit status is non-zero when anything failed. With CI=true a skip (exit
# 77, or a suite's skipped scenario) counts as a failure: in CI every test
# dependency is installed first (make check: scripts/deps.sh all), so a
# missing one is a broken machine, not a reason to hide the tests.
#   tests/run.sh [-k PATTERN]     only tests whose name contains PATTERN
#                                 (-k build: every tests/build/*.sh)
# Each host, build, fuzz and QEMU test runs with a TMPDIR of its own (under
# the log directory) and fails if it leaves anything there (tests/lib/
# leftovers.sh). With QEMU_KEEP set, the QEMU tests keep their scratch
# directories on purpose, so they run without that check.
set -u
cd "$(dirname "$0")/.."
. tests/lib/atexit.sh
. tests/lib/leftovers.sh
MAKE=${MAKE:-make}
pattern=""
[ "${1:-}" = "-k" ] && pattern=${2:-}

passed=0 failed=0 skipped=0
failures=()
logdir=$(mktemp -d "${TMPDIR:-/tmp}/sealinit-check.XXXXXX") || exit 1
tmproot=$logdir/tmp   # each test's TMPDIR is a directory in here
# Traversable (not listable) by others: legacy_fetch.sh runs the client as
# nobody on files in its WORK, which is now under $tmproot.
chmod 711 "$logdir"

# Each result line ends with the test's run time, and each section header
# with the time since the run began: where make check's minutes go.
T_START=$EPOCHSECONDS
T_TEST=$EPOCHSECONDS
note() { printf '%-52s %s [%ss]\n' "$1" "$2" $((EPOCHSECONDS - T_TEST)); }
section() { printf '== %s (at %dm%02ds)\n' "$1" $(((EPOCHSECONDS - T_START) / 60)) $(((EPOCHSECONDS - T_START) % 60)); }

# A cmocka binary counts each of its tests.
run_unit() {
	local bin=$1 label=$2 out p f
	T_TEST=$EPOCHSECONDS
	out=$("$bin" 2>&1)
	p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p')
	f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p')
	p=${p:-0} f=${f:-0}
	if [ "$p" = 0 ] && [ "$f" = 0 ]; then f=1; fi  # crashed before reporting
	passed=$((passed + p)) failed=$((failed + f))
	if [ "$f" != 0 ]; then
		failures+=("$label")
		echo "$out" > "$logdir/${label//\//-}.log"
		note "$label" "FAIL ($f failed, log: $logdir/${label//\//-}.log)"
		echo "$out" | grep -E 'FAILED|ERROR|Failure' | head -5 | sed 's/^/    /'
	else
		note "$label" "ok ($p)"
	fi
}

# run_test LABEL CMD...: run a test script in a TMPDIR of its own; sets
# LEFTOVERS to what it left there (empty when nothing).
run_test() {
	local label=$1
	shift
	LEFTOVERS=""
	T_TEST=$EPOCHSECONDS
	case $label in
	qemu/*) if [ -n "${QEMU_KEEP:-}" ]; then "$@"; return; fi ;;
	esac
	run_isolated "$tmproot" "$label" "$@"
}

# leftover_fail LABEL LOG RC: count a test that left files behind as failed,
# naming them (the first three) on its line and all of them in its log.
leftover_fail() {
	local label=$1 log=$2 rc=$3 n what
	{ echo "== left in its TMPDIR (now removed):"; echo "$LEFTOVERS"; } >> "$log"
	n=$(echo "$LEFTOVERS" | wc -l)
	what=$(echo "$LEFTOVERS" | head -3 | paste -sd ',' - | sed 's/,/, /g')
	[ "$n" -le 3 ] || what="$what and $((n - 3)) more"
	failed=$((failed + 1)); failures+=("$label")
	note "$label" "FAIL (exit $rc, left in its TMPDIR: $what; log: $log)"
}

# A host test script is one test: 0 pass, 77 skip, anything else fail; and
# one that leaves files in its TMPDIR fails whatever its status.
run_host() {
	local script=$1 label=$2 sealinit=$3 rc
	run_test "$label" env SEALINIT="$sealinit" timeout 600 bash "$script" > "$logdir/${label//\//-}.log" 2>&1
	rc=$?
	if [ -n "$LEFTOVERS" ]; then
		leftover_fail "$label" "$logdir/${label//\//-}.log" $rc
		[ $rc = 0 ] || [ $rc = 77 ] || tail -5 "$logdir/${label//\//-}.log" | sed 's/^/    /'
		return
	fi
	case $rc in
	0) passed=$((passed + 1)); note "$label" "ok" ;;
	77) if [ "${CI:-}" = true ]; then
		failed=$((failed + 1)); failures+=("$label")
		note "$label" "FAIL (skipped under CI=true: $(tail -1 "$logdir/${label//\//-}.log"))"
	    else
		skipped=$((skipped + 1)); note "$label" "skip: $(tail -1 "$logdir/${label//\//-}.log")"
	    fi ;;
	*) failed=$((failed + 1)); failures+=("$label")
	   note "$label" "FAIL (exit $rc, log: $logdir/${label//\//-}.log)"
	   tail -5 "$logdir/${label//\//-}.log" | sed 's/^/    /' ;;
	esac
}

# A script that runs many scenarios and ends with its own
# "N passed, N failed, N skipped" line: add its counts.
run_suite() {
	local script=$1 label=$2
	shift 2
	run_test "$label" timeout 3000 bash "$script" "$@" > "$logdir/${label//\//-}.log" 2>&1
	suite_verdict "$label" $?
}

# show_failures LOG: a suite's FAIL lines and the indented log tail each
# carries, so that CI's own output says why (the log stays on the runner).
show_failures() {
	awk '/^FAIL/ { n = 26; print; next } n > 0 && /^[ \t]/ { n--; print; next } { n = 0 }' "$1" |
		head -120 | sed 's/^/    /'
}

# suite_verdict LABEL RC: count the suite whose log is LABEL's and which
# exited RC (LEFTOVERS and T_TEST as run_test left them).
suite_verdict() {
	local label=$1 rc=$2 line p f k
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$logdir/${label//\//-}.log" | tail -1)
	if [ -n "$LEFTOVERS" ]; then
		# Its scenarios still count; the leftovers are one failure more.
		if [ -n "$line" ]; then
			p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
			f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
			k=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
			passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + ${k:-0}))
		fi
		leftover_fail "$label" "$logdir/${label//\//-}.log" $rc
		show_failures "$logdir/${label//\//-}.log"
		return
	fi
	if [ -z "$line" ]; then
		if [ $rc = 77 ] && [ "${CI:-}" != true ]; then
			skipped=$((skipped + 1)); note "$label" "skip: $(tail -1 "$logdir/${label//\//-}.log")"
		else
			failed=$((failed + 1)); failures+=("$label")
			note "$label" "FAIL (exit $rc, no summary; log: $logdir/${label//\//-}.log)"
			tail -5 "$logdir/${label//\//-}.log" | sed 's/^/    /'
		fi
		return
	fi
	p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	k=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + ${k:-0}))
	# Under CI=true a skipped scenario is a missing dependency: a failure.
	if [ "${CI:-}" = true ] && [ "${k:-0}" != 0 ]; then
		failed=$((failed + k)) skipped=$((skipped - k)) f=$((f + k))
	fi
	if [ "$f" != 0 ] || { [ $rc != 0 ] && [ $rc != 77 ]; }; then
		[ "$f" = 0 ] && failed=$((failed + 1))
		failures+=("$label")
		note "$label" "FAIL ($line; log: $logdir/${label//\//-}.log)"
		show_failures "$logdir/${label//\//-}.log"
	else
		note "$label" "ok ($line)"
	fi
}

# --- the QEMU suites, beside the rest ---------------------------------------
# One job per suite and arch (each suite takes the arch as its argument).
# A scheduler in the background starts them once the builds are done: one
# at a time while the host tests hold the other core, two once they are
# over (QEMU TCG runs one vCPU on one core; this machine kind has two);
# the longest first; never two of one arch at once, because a suite's
# per-arch caches (kernels, Debian packages, images) are shared. The
# order is by run time, longest first, as make check's result lines show
# it.
# Measured (one suite and arch alone on a core): boot x86_64 12 min,
# boot aarch64 10, prod x86_64 and aarch64 5-8, distro x86_64 3-4 (5-6
# when its images are not cached yet), uefi 1-2 each.
QEMU_JOBS=("boot x86_64" "boot aarch64" "prod x86_64" "prod aarch64" "distro x86_64" "uefi x86_64" "uefi aarch64")
qemu_wanted=()
for job in "${QEMU_JOBS[@]}"; do
	case "qemu-${job% *}" in *"$pattern"*) qemu_wanted+=("$job") ;; esac
done
# qemu_job "SUITE ARCH": run it with a TMPDIR of its own (run_isolated's
# rules); its exit status, run time and leftovers go to files beside its
# log, for the verdict at the end, and the PID of its `timeout' to
# BASE.pid, which the scheduler ends (TERM, which timeout hands the suite,
# whose trap stops its QEMU and swtpm) if it is ended itself.
qemu_job() {
	local label=qemu/${1% *}-${1#* } t0=$EPOCHSECONDS rc dir s=${1% *} a=${1#* }
	local base=$logdir/${label//\//-}
	# A short name ("bx": boot, x86_64): the suites put UNIX sockets (swtpm,
	# the console) in it, whose paths the kernel limits to 107 bytes.
	dir=$tmproot/q${s:0:1}${a:0:1}
	_run_isolated_rm "$dir"
	mkdir -p -m 711 "$tmproot" "$dir"
	TMPDIR=$dir timeout 3000 bash "tests/qemu/${1% *}.sh" "${1#* }" > "$base.log" 2>&1 &
	echo $! > "$base.pid"
	wait $!
	rc=$?
	rm -f "$base.pid"
	# QEMU_KEEP keeps the scratch directories on purpose: no check then.
	if [ -n "${QEMU_KEEP:-}" ]; then : > "$base.leftovers"; else tmp_leftovers "$dir" > "$base.leftovers"; fi
	_run_isolated_rm "$dir"
	echo "$rc $((EPOCHSECONDS - t0))" > "$base.rc"
}
# qemu_jobs_stop: TERM to the `timeout' of each running job (the scheduler's
# cleanup when it is ended itself).
qemu_jobs_stop() {
	local f
	for f in "$logdir"/qemu-*.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
}
# qemu_scheduler: start the wanted jobs as the slots file allows.
qemu_scheduler() {
	local -a queue=("${qemu_wanted[@]}")
	local -A running=()
	local i pid busy slots picked
	at_exit qemu_jobs_stop
	while [ ${#queue[@]} -gt 0 ] || [ ${#running[@]} -gt 0 ]; do
		for pid in "${!running[@]}"; do
			kill -0 "$pid" 2>/dev/null && continue
			wait "$pid" 2>/dev/null
			unset "running[$pid]"
		done
		slots=$(cat "$logdir/qemu.slots" 2>/dev/null || echo 2)
		while [ ${#running[@]} -lt "$slots" ] && [ ${#queue[@]} -gt 0 ]; do
			picked=""
			for i in "${!queue[@]}"; do
				busy=""
				for pid in "${!running[@]}"; do
					[ "${running[$pid]#* }" = "${queue[$i]#* }" ] && busy=1
				done
				[ -z "$busy" ] && { picked=$i; break; }
			done
			[ -n "$picked" ] || break
			qemu_job "${queue[$picked]}" &
			running[$!]=${queue[$picked]}
			unset "queue[$picked]"
			queue=("${queue[@]}")
		done
		sleep 1
	done
}

# --- builds: the host's two and the guest's -----------------------------------
declare -A built=()
for variant in normal sanitize; do
	if [ $variant = normal ]; then san=0; else san=1; fi
	section "build ($variant)"
	T_TEST=$EPOCHSECONDS
	if ! $MAKE --no-print-directory SANITIZE=$san all unit-tests > "$logdir/build-$variant.log" 2>&1; then
		failed=$((failed + 1)); failures+=("build-$variant")
		note "build-$variant" "FAIL (log: $logdir/build-$variant.log)"
		tail -20 "$logdir/build-$variant.log"
		continue
	fi
	built[$variant]=$($MAKE --no-print-directory -s SANITIZE=$san print-build)
done
qemu_pid=""
if [ ${#qemu_wanted[@]} -gt 0 ]; then
	section "build (aarch64, for the QEMU guests)"
	T_TEST=$EPOCHSECONDS
	# The guest runs the arm64 cross-build; make sure it is current.
	if $MAKE --no-print-directory CROSS_COMPILE=aarch64-linux-gnu- all > "$logdir/build-aarch64.log" 2>&1; then
		echo 1 > "$logdir/qemu.slots"
		qemu_scheduler &
		qemu_pid=$!
		echo "(the QEMU suites run in the background from here: ${qemu_wanted[*]})"
	else
		failed=$((failed + 1)); failures+=("build-aarch64")
		note "build-aarch64" "FAIL (log: $logdir/build-aarch64.log)"
	fi
fi
# The scheduler and its QEMU jobs end with this shell.
qemu_scheduler_stop() { [ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null; }
at_exit qemu_scheduler_stop

for variant in normal sanitize; do
	[ -n "${built[$variant]:-}" ] || continue
	build=${built[$variant]}
	# Leaks fail too (LeakSanitizer checks each process at exit).
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	section "unit tests ($variant)"
	for bin in "$build"/tests/test_*; do
		[ -x "$bin" ] && [ "${bin%.o}" = "$bin" ] && [ "${bin%.d}" = "$bin" ] || continue
		name=$(basename "$bin")
		case "$name" in *"$pattern"*) ;; *) continue ;; esac
		run_unit "$bin" "$variant/$name"
	done
	section "host tests against swtpm ($variant)"
	for script in tests/host/*.sh; do
		name=$(basename "$script" .sh)
		case "$name" in *"$pattern"*) ;; *) continue ;; esac
		run_host "$script" "$variant/$name" "$build/sealinit"
	done
done

section "build system"
for script in tests/build/*.sh; do
	name=$(basename "$script" .sh)
	# "build/NAME", so that -k build runs them all (as -k fuzz does).
	case "build/$name" in *"$pattern"*) ;; *) continue ;; esac
	run_host "$script" "build/$name" "$($MAKE --no-print-directory -s print-build)/sealinit"
done

section "fuzz (${FUZZ_SECONDS:-10}s per target)"
case "fuzz" in *"$pattern"*) run_host tests/fuzz/run.sh "fuzz/parsers" "" ;; esac

section "QEMU boots (aarch64 and x86_64, TCG)"
if [ -n "$qemu_pid" ]; then
	case "qemu-smoke" in *"$pattern"*) run_host tests/qemu/smoke.sh "qemu/smoke" "" ;; esac
	echo 2 > "$logdir/qemu.slots"
	wait "$qemu_pid"
	qemu_pid=""
	for job in "${QEMU_JOBS[@]}"; do
		label=qemu/${job% *}-${job#* }
		base=$logdir/${label//\//-}
		case " ${qemu_wanted[*]} " in *" $job "*) ;; *) continue ;; esac
		if [ ! -f "$base.rc" ]; then
			failed=$((failed + 1)); failures+=("$label")
			note "$label" "FAIL (the scheduler never ran it)"
			continue
		fi
		read -r rc secs < "$base.rc"
		LEFTOVERS=$(cat "$base.leftovers")
		T_TEST=$((EPOCHSECONDS - secs))
		suite_verdict "$label" "$rc"
		rm -f "$base.rc" "$base.leftovers" "$base.pid"
	done
fi

echo
if [ ${#failures[@]} -gt 0 ]; then
	echo "Failed: ${failures[*]}"
else
	rm -rf "$logdir"
fi
section "end"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
