#!/bin/bash
# SPDX-License-Identifier: MIT
# The reference docs name what the code has, no more and no less
# (scripts/check-docs.py): the boot configuration's keys (and which only
# the file sets, and which are never measured) in docs/boot.md; the
# commands and each one's long options in docs/cli.md, and the commands
# and options the examples in docs/ and README.md use; every SI_E* code
# with its exit code, and no "exit N" in docs/ that sealinit does not
# have; the QEMU scenarios each tests/qemu script accepts in
# tests/qemu/README.md and its own header.
#  (a) the real tree passes, and the checker found enough of each kind
#      that agreeing means something;
#  (b) negative controls, each on a copy of the inputs with one change,
#      which the checker must report naming the item and the file: a key
#      row removed, a key row that the code lacks, a key parsed in the code
#      only, a file-only key documented as settable; a command renamed in
#      its heading, an option row removed, an option no command takes, an
#      option of another command, an option dropped from a mask, an
#      example using an option its command lacks, or a command that does
#      not exist; an SI_E* code without a
#      row, a doc naming exit 36; a scenario row removed, a row for a
#      scenario that does not exist, a scenario added to prod.sh only, a
#      scenario table for uefi.sh (which takes none);
#  (c) positive control: the unchanged copy passes (so each failure is the
#      change's), and a copy missing a section the checker reads is an
#      error (exit 2), never a pass.
# The exit codes' sentences, `sealinit help' against docs/cli.md, are
# tests/host/cli_help.sh's.
. "$(dirname "$0")/../lib/common.sh"
cd "$REPO"
CHECK=$REPO/scripts/check-docs.py
PY=/usr/bin/python3
[ -x "$PY" ] || skip "no /usr/bin/python3"

# check ROOT WANT-EXIT TEXT...: run the checker on ROOT; it must exit
# WANT-EXIT and print each TEXT (fixed strings); a traceback never passes.
check() { expect_checker "$CHECK" "$@"; }

# copy NAME: a fresh copy of everything the checker reads, in $WORK/NAME.
copy() {
	local dir=$WORK/$1 f
	rm -rf "$dir"
	for f in $("$PY" "$CHECK" --inputs) docs/*.md; do
		mkdir -p "$dir/$(dirname "$f")"
		cp "$f" "$dir/$f"
	done
	C=$dir
}

# edit FILE SED-SCRIPT: change the copy's FILE; the change must take.
edit() {
	cp "$C/$1" "$C/$1.orig"
	sed -i "$2" "$C/$1"
	cmp -s "$C/$1" "$C/$1.orig" && fail "could not edit $1 with: $2"
	rm -f "$C/$1.orig"
}

# --- (a) the tree as it is ----------------------------------------------------
check "$REPO" 0 "check-docs: ok"
# At least as many as the tree had when this test was written.
for want in "59 configuration keys" "18 commands" "132 command options" "36 exit codes" "53 QEMU scenarios"; do
	n=$(grep -oE "[0-9]+ ${want#* }" <<<"$OUT" | cut -d' ' -f1)
	[ "${n:-0}" -ge "${want%% *}" ] || fail "the checker found ${n:-no} ${want#* }, fewer than the tree has (${want%% *}): $OUT"
done
echo "ok: $OUT"

# --- (c) positive control: an unchanged copy ----------------------------------
copy same
check "$C" 0 "check-docs: ok"
echo "ok: the unchanged copy passes"

# --- (b) negative controls ----------------------------------------------------
# Keys.
copy key-missing
edit docs/boot.md '/^| `legacy_retries` |/d'
check "$C" 1 "keys: docs/boot.md: configuration key \`legacy_retries' (src/core/bootcfg.c) is not documented"
copy key-extra
edit docs/boot.md 's/^| `name` |/| `frobnicate` | `no` | Nothing. |\n&/'
check "$C" 1 "keys: docs/boot.md: documents configuration key \`frobnicate', which src/core/bootcfg.c does not have"
copy key-code
edit src/core/bootcfg.c 's/^\t} else if (!strcmp(key, "rootfstype")) {/\t} else if (!strcmp(key, "new_key")) {\n\t\tr = 0;\n&/'
check "$C" 1 "configuration key \`new_key' (src/core/bootcfg.c) is not documented"
copy key-fileonly
edit docs/boot.md '/^| `escrow_public_key` |/s/ \*\*File only\.\*\*//'
check "$C" 1 "file-only key (a row saying \"file only\") \`escrow_public_key' (src/core/bootcfg.c) is not documented"
copy key-unmeasured
edit docs/boot.md 's/`failure_delay`, `tpm_timeout`, `device_timeout`, `net_timeout` and/`failure_delay`, `tpm_timeout`, `device_timeout` and/'
check "$C" 1 "key never measured (\"Keys never measured\") \`net_timeout' (src/core/bootcfg.c) is not documented"
echo "ok: keys: a missing row, an extra row, a key of the code only, a lost \"file only\", a lost unmeasured key"

# Commands and options.
copy cmd-renamed
edit docs/cli.md 's/^## `sealinit cap \[/## `sealinit kap [/'
check "$C" 1 "command (a \`sealinit NAME' heading) \`cap' (src/cli/main.c) is not documented" \
	"documents command (a \`sealinit NAME' heading) \`kap', which src/cli/main.c does not have"
copy opt-missing
edit docs/cli.md '/^| `--pin` |/d; /^## `sealinit enroll /s/ \[--pin\]//'
check "$C" 1 "options: docs/cli.md: enroll: option \`--pin' (src/cli/main.c's mask) is not in its heading or tables"
copy opt-unknown
edit docs/cli.md 's/^## `sealinit measure \[--pcr N\]/& [--frob]/'
check "$C" 1 "options: docs/cli.md: measure: documents \`--frob', an option no command takes"
copy opt-other
edit docs/cli.md 's/^## `sealinit cap \[--pcrs LIST\]/& [--json]/'
check "$C" 1 "options: docs/cli.md: cap: documents \`--json', not one it takes"
copy opt-mask
edit src/cli/main.c 's/OPT_KEY_FILE | OPT_SHORT | OPT_PCRS | OPT_PIN | /OPT_KEY_FILE | OPT_SHORT | OPT_PCRS | /'
check "$C" 1 "options: docs/cli.md: enroll: documents \`--pin', not one it takes"
copy opt-tpm
edit docs/cli.md '/^## Options every TPM command takes/,/^## /s/`sign`, //'
check "$C" 1 "\"Options every TPM command takes\" does not name \`sign', which takes --tcti, --tpm-timeout"
copy opt-example
edit docs/boot.md 's/^sealinit boot-config --config initramfs\/sealinit.conf/& --json/'
check "$C" 1 "options: docs/boot.md: example \`sealinit boot-config --config initramfs/sealinit.conf --json"
copy cmd-example
edit README.md '0,/^make demo /s/^make demo /sealinit unseal \/dev\/sda\n&/'
check "$C" 1 "options: README.md: example \`sealinit unseal /dev/sda': no command \`unseal'"
copy opt-global
edit docs/cli.md '0,/--verbose/s/--verbose/--loud/'
check "$C" 1 "options: docs/cli.md: main.c's own option \`--verbose' is not in the text before the first section"
echo "ok: commands and options: a renamed heading, a lost row, an unknown option, another command's, a mask, the TPM list, two examples, main.c's own"

# Exit codes.
copy exit-row
edit src/core/errors.c '/{ SI_ENOTBLANK,/d'
check "$C" 1 "exit codes: src/core/errors.c: SI_ENOTBLANK (src/core/errors.h) has no row in table[]"
copy exit-doc
edit docs/fleet.md '0,/^$/s/^$/The boot fails with exit 36 then.\n/'
check "$C" 1 "exit codes: docs/fleet.md:" "\`exit 36': sealinit has no exit code 36"
copy exit-twice
edit src/core/errors.c 's/{ SI_ENOTBLANK,    35,/{ SI_ENOTBLANK,    34,/'
check "$C" 1 "exit codes: src/core/errors.c: exit code 34 is given to more than one code"
echo "ok: exit codes: a code without its row, an exit code no code has, one exit code twice"

# QEMU scenarios.
copy scen-missing
edit tests/qemu/README.md '/^| `pcr-mismatch` |/d'
check "$C" 1 "scenarios: tests/qemu/README.md: boot.sh scenario \`pcr-mismatch' (tests/qemu/boot.sh) is not documented"
copy scen-extra
edit tests/qemu/README.md 's/^| `tags` |/| `frobnicate` | x | y |\n&/'
check "$C" 1 "scenarios: tests/qemu/README.md: documents boot.sh scenario \`frobnicate', which tests/qemu/boot.sh does not have"
copy scen-code
edit tests/qemu/prod.sh 's/^ALL="happy /ALL="happy newone /'
check "$C" 1 "scenarios: tests/qemu/README.md: prod.sh scenario \`newone' (tests/qemu/prod.sh) is not documented" \
	"scenarios: tests/qemu/prod.sh (its header): prod.sh scenario \`newone' (tests/qemu/prod.sh) is not documented"
copy scen-none
edit tests/qemu/README.md 's/^## uefi.sh: measured UEFI boot$/&\n\n| scenario | what |\n|---|---|\n| `base` | x |\n/'
check "$C" 1 "scenarios: tests/qemu/README.md: lists scenario \`base' under uefi.sh, which takes no scenario names"
echo "ok: scenarios: a lost row, a row of nothing, a scenario of the script only, a table for a script that takes none"

# --- (c) a section the checker reads is gone: an error, not a pass -------------
copy no-section
edit docs/boot.md 's/^## Configuration$/## Settings/'
check "$C" 2 "check-docs: docs/boot.md: no section \"## Configuration\""
copy no-table
edit src/cli/main.c 's/commands\[\] = {/commands_gone[] = {/'
check "$C" 2 "check-docs: src/cli/main.c: found no commands in commands[]"
echo "ok: a missing section or table is exit 2"

echo "PASS: docs/boot.md, docs/cli.md, tests/qemu/README.md and the exit codes agree with the code"
