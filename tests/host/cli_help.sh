#!/bin/bash
# `sealinit help' lists the exit codes from the core's table (errors.c) and
# the commands from main.c's table; docs/cli.md documents both. Each list
# must match the other: the same codes with the same sentences, and every
# command in help and in the doc. No TPM needed.
. "$(dirname "$0")/../lib/common.sh"

DOC=$REPO/docs/cli.md
MAIN=$REPO/src/cli/main.c

run "$SEALINIT" help
[ "$RC" = 0 ] || fail "help: expected exit 0, got $RC: $OUT"
HELP=$OUT

# help_codes TEXT: one line per exit code that help lists, "N<TAB>sentence"
# (only N for 0-2, whose wording help shortens to "ok", "error", "usage").
help_codes() {
	printf '%s\n' "$1" | sed -n '/^Exit codes:/,/^See /p' | sed '/^See /d; s/^Exit codes://' |
		tr '\n' ' ' | sed 's/\. *$//; s/, */\n/g' | sed 's/^ *//; s/ *$//; /^$/d' |
		awk '{ n = $1; $1 = ""; sub(/^ /, ""); if (n + 0 < 3) print n; else print n "\t" $0 }'
}

# doc_codes FILE: the same, from the exit-code table of docs/cli.md.
doc_codes() {
	sed -n '/^## Exit codes/,/^## [^E]/p' "$1" | grep -E '^\| [0-9]+ \|' |
		awk -F'|' '{ n = $2; m = $3; gsub(/^ +| +$/, "", n); gsub(/^ +| +$/, "", m);
			     if (n + 0 < 3) print n; else print n "\t" m }'
}

# same_codes HELP_TEXT DOC_FILE: both list the same codes with the same sentences.
same_codes() {
	diff <(help_codes "$1" | sort -n) <(doc_codes "$2" | sort -n)
}

# commands: the names in main.c's table of subcommands.
commands() {
	grep -oE '^[[:space:]]*\{ "[a-z-]+", [a-z_]+_main,' "$MAIN" | sed -E 's/^[^"]*"([^"]+)".*/\1/'
}

# commands_listed HELP_TEXT DOC_FILE NAME...: each NAME is a command line of
# help and has a `sealinit NAME ...` heading or mention in the doc; and help
# lists no command that is not a NAME.
commands_listed() {
	local help=$1 doc=$2 name listed r=0
	shift 2
	for name in "$@"; do
		printf '%s\n' "$help" | grep -qE "^  $name( |\$)" || { echo "help lacks $name"; r=1; }
		grep -qE "\`sealinit $name[ \`]" "$doc" || { echo "$doc lacks $name"; r=1; }
	done
	listed=$(printf '%s\n' "$help" | sed -n '/^Usage:/,/^Options/p' | grep -oE '^  [a-z][a-z-]*' | sed 's/^  //')
	for name in $listed; do
		case " $* " in *" $name "*) ;; *) echo "help lists $name, not in the table"; r=1 ;; esac
	done
	return $r
}

# The lists are not empty, so agreement means something.
n=$(help_codes "$HELP" | wc -l)
[ "$n" -ge 20 ] || fail "help lists only $n exit codes: $HELP"
help_codes "$HELP" | grep -qx "0" || fail "help does not list exit code 0"
help_codes "$HELP" | grep -q "^4	system state changed since enrollment" ||
	fail "help does not give code 4 its sentence: $(help_codes "$HELP")"
CMDS=$(commands)
[ "$(printf '%s\n' $CMDS | wc -l)" -ge 10 ] || fail "found only these commands in $MAIN: $CMDS"

same_codes "$HELP" "$DOC" || fail "exit codes of \`sealinit help' and $DOC differ (< help, > doc)"
# shellcheck disable=SC2086
commands_listed "$HELP" "$DOC" $CMDS || fail "commands missing from help or $DOC"

# Negative controls: the comparisons must catch each kind of drift.
grep -v '^| 17 |' "$DOC" > "$WORK/missing-row.md"
! same_codes "$HELP" "$WORK/missing-row.md" >/dev/null || fail "a doc missing row 17 passed"
sed 's/^| 20 | server refused the credentials/| 20 | server refused the password/' "$DOC" > "$WORK/reworded.md"
cmp -s "$DOC" "$WORK/reworded.md" && fail "could not reword row 20 of the doc copy"
! same_codes "$HELP" "$WORK/reworded.md" >/dev/null || fail "a doc with another sentence for 20 passed"
sed 's/^| 28 |/| 29 |/' "$DOC" > "$WORK/renumbered.md"
! same_codes "$HELP" "$WORK/renumbered.md" >/dev/null || fail "a doc numbering 28 as 29 passed"
! same_codes "$(printf '%s\n' "$HELP" | sed 's/, 13 TPM error,/,/')" "$DOC" >/dev/null ||
	fail "help missing code 13 passed"
# shellcheck disable=SC2086
! commands_listed "$HELP" "$DOC" $CMDS frobnicate >/dev/null || fail "an unknown command passed"
sed 's/`sealinit boot-config/`sealinit b00t-config/g' "$DOC" > "$WORK/no-bootcfg.md"
# shellcheck disable=SC2086
! commands_listed "$HELP" "$WORK/no-bootcfg.md" $CMDS >/dev/null || fail "a doc without boot-config passed"
# shellcheck disable=SC2086
! commands_listed "$HELP" "$DOC" $(printf '%s\n' $CMDS | grep -vx cap) >/dev/null ||
	fail "help listing a command the table lacks passed"

# One command's help: its usage and only its options, exit 0; the same
# from `help COMMAND'. The control: another command's option is absent.
for form in "revoke --help" "revoke -h" "help revoke" "revoke --counter-value 3 --help"; do
	# shellcheck disable=SC2086
	run "$SEALINIT" $form
	[ "$RC" = 0 ] || fail "$form: exit $RC: $OUT"
	grep -q '^Usage: sealinit revoke ' <<<"$OUT" && grep -q -- '^  --nv-index INDEX' <<<"$OUT" ||
		fail "$form: not revoke's help: $OUT"
	grep -q -- '--private-key' <<<"$OUT" && fail "$form: lists sign's --private-key: $OUT"
done
run "$SEALINIT" help frobnicate
[ "$RC" = 2 ] || fail "help of an unknown command: exit $RC"
run "$SEALINIT" help --help
[ "$RC" = 0 ] && grep -q '^Exit codes:' <<<"$OUT" || fail "help --help: exit $RC: $OUT"

echo "PASS: help and docs/cli.md agree on $n exit codes and $(printf '%s\n' $CMDS | wc -l) commands"
