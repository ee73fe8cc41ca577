#!/bin/bash
# SPDX-License-Identifier: MIT
# `sealinit last-failure [--clear] [--json]': the boot stage's record of
# the last failed boot (an EFI variable; here a directory laid out as
# efivarfs lays it out, through $SEALINIT_EFIVARS). The record is printed
# once the strict parser took it; a record that the booted system's root
# rewrote with a terminal escape or a second line is refused, not printed
# (the control: the genuine record prints, on its lines, unchanged);
# --clear removes it. The QEMU UEFI boot (tests/qemu/boot.sh
# failure-record) shows the boot stage writing and reading it. No TPM.
. "$(dirname "$0")/../lib/common.sh"

export SEALINIT_EFIVARS=$WORK/efivars
mkdir -p "$SEALINIT_EFIVARS"
VAR=$SEALINIT_EFIVARS/SealinitLastFailure-a2504ad1-3114-4646-8943-1a06cf0ddc12
# var TEXT: the variable as efivarfs shows it: 4 bytes of attributes
# (NV|BS|RT, little-endian), then the record.
var() { { printf '\007\000\000\000'; printf '%s' "$1"; } >"$VAR"; }
REC='sealinit-failure 1
consecutive=2
failures=5
time=1733500000
uptime_ms=4321
policy=reboot
version=0.1
failed=data device PARTLABEL=models did not appear within 20000 ms
'

# Nothing recorded.
expect 0 "no record" "$SEALINIT" last-failure
expect_msg "No failed boot recorded"
expect 0 "no record, json" "$SEALINIT" last-failure --json
grep -q '"recorded":false' <<<"$(tr -d ' \n' <<<"$OUT")" || fail "json without a record: $OUT"

# The genuine record (the control).
var "$REC"
expect 0 "a record" "$SEALINIT" last-failure
[ "$(sed -n 2p <<<"$OUT")" = "  FAILED: data device PARTLABEL=models did not appear within 20000 ms" ] ||
	fail "the FAILED line: $OUT"
expect_msg "Last failed boot: 2024-12-06 15:46:40 UTC, after 4321 ms, sealinit 0.1, failure policy reboot"
expect_msg "failed boots in a row: 2"
[ "$(wc -l <<<"$OUT")" = 4 ] || fail "the record is not 4 lines: $OUT"
expect 0 "a record, json" "$SEALINIT" last-failure --json
[ "$(/usr/bin/python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(j["consecutive"], j["failures"], j["policy"], j["failed"])' "$OUT")" = \
  "2 5 reboot data device PARTLABEL=models did not appear within 20000 ms" ] || fail "json: $OUT"
# A message the boot stored escaped prints escaped, on its line.
var "${REC/failed=data*/failed=config: \`x\\x0aFAILED: y\\x1b[1A\'}"
expect 0 "an escaped record" "$SEALINIT" last-failure
[ "$(sed -n 2p <<<"$OUT")" = '  FAILED: config: `x\x0aFAILED: y\x1b[1A'"'" ] || fail "escaped line: $OUT"

# The attack: the record rewritten with raw control bytes, to forge a
# line or move the cursor. Refused by the parser, nothing of it printed.
var "${REC/failed=data/failed=$'\e[2K\e[1A'data}"
expect 1 "a record with ESC" "$SEALINIT" last-failure
expect_msg "bad failed value"
case "$OUT" in *$'\e'*) fail "an ESC byte reached the output: $(printf '%q' "$OUT")" ;; esac
var "$REC"$'consecutive=0\n'
expect 1 "a record with a key twice" "$SEALINIT" last-failure
expect_msg "\`consecutive' given twice"
var "${REC/failed=data/failed=data$'\r'  FAILED: forged}"
expect 1 "a record with CR" "$SEALINIT" last-failure
expect_msg "bad failed value"

# --clear: removes it (even one that does not parse), once.
expect 0 "clear a bad record" "$SEALINIT" last-failure --clear
expect_msg "Cleared the failure record"
[ ! -e "$VAR" ] || fail "--clear left $VAR"
expect 0 "clear again" "$SEALINIT" last-failure --clear
expect_msg "No failure record to clear"
expect 0 "after clear" "$SEALINIT" last-failure
expect_msg "No failed boot recorded"

# Without $SEALINIT_EFIVARS, on a host not booted through UEFI or with
# efivarfs unmounted: said, exit 1.
if [ ! -d /sys/firmware/efi ]; then
	SEALINIT_EFIVARS="" expect 1 "no EFI" "$SEALINIT" last-failure
	expect_msg "did not boot through UEFI"
fi
echo "PASS"
