#!/bin/bash
# SPDX-License-Identifier: MIT
# On/off build matrix: every bool symbol of Kconfig (read from Kconfig, not
# listed here) is built both on and off. Configs, 2 + 2n of them:
#   allnoconfig, allyesconfig,
#   allno+SYM  (allnoconfig with SYM turned on), for each SYM,
#   allyes-SYM (allyesconfig with SYM turned off), for each SYM.
# Each builds, for the host (CROSS_COMPILE empty), into a BUILD directory of
# its own: `make all unit-tests`. Then every unit-test binary that build made
# must pass (the list follows the config: TPM-only tests are built only with
# CONFIG_TPM2=y), the generated config.h must have ENABLE_SYM as configured
# for every bool, and `sealinit version` must report each feature it names
# as on or off as configured. One line per config; a failed build shows the
# compiler's or linker's first error lines. Exit 1 if any config failed.
#   tests/build/matrix.sh [-k PATTERN]   only configs whose name contains it
. "$(dirname "$0")/../lib/common.sh"
cd "$REPO"
PY=/usr/bin/python3
only=""
[ "${1:-}" = "-k" ] && only=${2:-}
"$PY" -c 'import kconfiglib' 2>/dev/null || skip "no kconfiglib for $PY (python3-kconfiglib)"
# A make above us (make check) must not lend its flags or jobserver.
unset MAKEFLAGS MFLAGS MAKELEVEL

# `sealinit version` names features in words; the symbol behind each. Every
# feature version reports must be here (checked below), so a new one cannot
# go unchecked; a bool that version does not name is checked in config.h.
declare -A VERSION_WORDS=([TPM2]="tpm2" [LEGACY_NET]="legacy network" [RESCUE_SHELL]="rescue shell" [LOCKDOWN]="lockdown")

# kc_bools: "NAME settable" per bool symbol outside a choice (settable 0:
# no prompt, so no config can set it and it is only reported).
kc_bools() {
	"$PY" - Kconfig <<'EOF'
import sys, kconfiglib
k = kconfiglib.Kconfig(sys.argv[1], warn=False)
for s in k.unique_defined_syms:
    if s.type == kconfiglib.BOOL and s.choice is None:
        print(s.name, int(any(n.prompt for n in s.nodes)))
EOF
}
# kc_state CONFIG: "NAME=y|n" for each bool, in Kconfig order, one line.
kc_state() {
	"$PY" - Kconfig "$1" <<'EOF'
import sys, kconfiglib
k = kconfiglib.Kconfig(sys.argv[1], warn=False)
k.load_config(sys.argv[2])
print(" ".join("%s=%s" % (s.name, s.str_value or "n") for s in k.unique_defined_syms
               if s.type == kconfiglib.BOOL and s.choice is None))
EOF
}

syms=() settable=()
while read -r name set; do
	syms+=("$name"); settable+=("$set")
done < <(kc_bools)
[ ${#syms[@]} -gt 0 ] || fail "parsed no bool symbol from Kconfig"
echo "bool symbols in Kconfig: ${syms[*]}"

# allno@O0: allno built at -O0, where the compiler keeps code that only a
# constant ENABLE_* guard makes dead at -O2: a call into a feature's files
# not behind its guard fails to link there.
configs=(allno allno@O0 allyes)
for i in "${!syms[@]}"; do
	[ "${settable[$i]}" = 1 ] && configs+=("allno+${syms[$i]}")
done
for i in "${!syms[@]}"; do
	[ "${settable[$i]}" = 1 ] && configs+=("allyes-${syms[$i]}")
done

ok=0 bad=0 skipped=0 failed_names=() failed_why=()
t_all=$EPOCHREALTIME

# line VERDICT NAME DETAIL: the one line of a config.
line() { printf '%-4s %-26s %s\n' "$1" "$2" "$3"; }

# make_config NAME FILE: write the config; prints why not on failure.
make_config() {
	local name=$1 kc=$2 base sym val
	case $name in
	allno*)  base=allnoconfig  val=y ;;
	allyes*) base=allyesconfig val=n ;;
	esac
	make -s KCONFIG_CONFIG="$kc" "$base" >/dev/null 2>&1 || { echo "make $base failed"; return 1; }
	case ${name%@O0} in
	*[+-]*)
		sym=${name#*[+-]}
		KCONFIG_CONFIG=$kc "$PY" -m setconfig --kconfig Kconfig "$sym=$val" >/dev/null 2>"$kc.err" ||
			{ echo "cannot set $sym=$val on $base: $(tail -1 "$kc.err")"; return 2; }
		;;
	esac
}

# check_config NAME: build, unit tests, config.h, version; one line.
check_config() {
	local name=$1 kc=$WORK/$1.config b=$WORK/build-$1 t0=$EPOCHREALTIME state problems=() why rc
	local log=$WORK/$1.log bin tname tests=0 checks=0 n out v sym want words got cross summary=""
	local cflags=-O2
	case $name in *@O0) cflags=-O0 ;; esac
	why=$(make_config "$name" "$kc")
	rc=$?
	if [ $rc = 2 ]; then
		# A symbol with dependencies cannot be turned on alone.
		skipped=$((skipped + 1)); line skip "$name" "$why"; return
	elif [ $rc != 0 ]; then
		bad=$((bad + 1)); failed_names+=("$name"); failed_why+=("$name: $why"); line FAIL "$name" "$why"; return
	fi
	state=$(kc_state "$kc")
	cross=$(sed -n 's/^CONFIG_CROSS_COMPILE="\(.*\)"$/\1/p' "$kc")
	# CROSS_COMPILE= on the command line wins over the config's; the host
	# build is the one checked here.
	if ! make -k -j2 --no-print-directory BUILD="$b" KCONFIG_CONFIG="$kc" CROSS_COMPILE= \
		SANITIZE=0 V=0 CFLAGS="$cflags -g" all unit-tests > "$log" 2>&1; then
		# make -k: the targets that failed, then the first errors.
		out=$(sed -nE 's|^make: \*\*\* \[[^]]*: ([^]]*)\] Error.*|\1|p' "$log" | sed "s|^$b/||" | paste -sd ' ' -)
		problems+=("build failed (${out:-make failed}); first errors:")
		summary="build failed (${out:-make failed}): $(grep -m1 -E 'undefined reference|multiple definition|error:' "$log" | sed "s|$WORK/||g; s|$REPO/||g")"
		while IFS= read -r out; do problems+=("  $out"); done < <(
			{ grep -E 'undefined reference|multiple definition|ld(\.bfd)?: |collect2|error:' "$log" || tail -6 "$log"; } |
			head -6 | sed "s|$WORK/||g")
	elif ! file -b "$b/sealinit" | grep -q 'x86-64'; then
		problems+=("sealinit is not an x86-64 binary: $(file -b "$b/sealinit")")
	fi
	# Every unit test the build made, whatever the build's outcome.
	for bin in "$b"/tests/test_*; do
		[ -f "$bin" ] && [ -x "$bin" ] || continue
		case $bin in *.o|*.d) continue ;; esac
		tname=${bin##*/}
		tests=$((tests + 1))
		out=$(timeout 120 "$bin" 2>&1)
		rc=$?
		n=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p')
		checks=$((checks + ${n:-0}))
		if [ $rc != 0 ] || [ -z "$n" ] || echo "$out" | grep -q '^\[  FAILED  \]'; then
			echo "$out" > "$WORK/$name-$tname.log"
			problems+=("$tname failed (exit $rc):")
			while IFS= read -r v; do problems+=("  $v"); done < <(echo "$out" | grep -E 'FAILED|ERROR|Failure' | head -4)
		fi
	done
	if [ -x "$b/sealinit" ] && [ ${#problems[@]} = 0 ]; then
		[ "$tests" -gt 0 ] || problems+=("the build made no unit-test binary")
		for v in $state; do
			sym=${v%=*} want=${v#*=}
			grep -q "^#define ENABLE_$sym $([ "$want" = y ] && echo 1 || echo 0)\$" "$b/include/config.h" ||
				problems+=("config.h: $(grep "ENABLE_$sym " "$b/include/config.h" || echo "no ENABLE_$sym"), want $sym=$want")
		done
		out=$("$b/sealinit" version 2>&1) || problems+=("sealinit version failed: $out")
		# Every "WORDS on|off" that version prints must be a known feature.
		while IFS= read -r words; do
			for sym in "${!VERSION_WORDS[@]}"; do [ "${VERSION_WORDS[$sym]}" = "$words" ] && continue 2; done
			problems+=("version reports '$words', which no symbol in VERSION_WORDS names (add it)")
		done < <(echo "$out" | sed -n 's/.*(\(.*\)).*/\1/p' | tr ',' '\n' | sed -nE 's/^ *(.*) (on|off)$/\1/p')
		for v in $state; do
			sym=${v%=*} want=${v#*=}
			words=${VERSION_WORDS[$sym]:-}
			[ -n "$words" ] || continue
			[ "$want" = y ] && want=on || want=off
			got=$(echo "$out" | grep -oE "$words (on|off)" | head -1)
			[ "$got" = "$words $want" ] || problems+=("version says '${got:-nothing about $words}', want '$words $want': $out")
		done
	fi
	local secs
	secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
	if [ ${#problems[@]} = 0 ]; then
		ok=$((ok + 1))
		line ok "$name" "[$state] $tests unit tests ($checks checks) pass, version as configured, ${secs} s${cross:+ (CONFIG_CROSS_COMPILE=$cross overridden)}"
		rm -rf "$b"   # ~10 MiB each
	else
		bad=$((bad + 1)); failed_names+=("$name")
		failed_why+=("$name: ${summary:-${problems[0]%:}}")
		line FAIL "$name" "[$state] ${secs} s, $tests unit tests run"
		printf '    %s\n' "${problems[@]}"
		rm -rf "$b"
	fi
}

for c in "${configs[@]}"; do
	case $c in *"$only"*) ;; *) continue ;; esac
	check_config "$c"
done
total=$(awk -v a="$t_all" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
echo "matrix: $((ok + bad + skipped)) configs: $ok ok, $bad failed, $skipped skipped, in $total s"
# The failures again, one line each, last: what a runner's tail shows.
[ "$bad" = 0 ] || printf 'failed: %s\n' "${failed_why[@]}"
[ "$bad" = 0 ] || fail "$bad of $((ok + bad + skipped)) configs failed: ${failed_names[*]}"
echo ok
