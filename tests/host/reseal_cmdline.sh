#!/bin/bash
# SPDX-License-Identifier: MIT
# A recovery boot runs on the command line the console user gave; reseal
# seals the configured state, not that one.
#  - The configuration pins no cmdline= (x86 production ships it so): a
#    log with a tampered command line is refused by name; with the expected
#    one given (--cmdline), the new token binds the genuine state (opens
#    after a genuine boot, not after the tampered one) and reseal says
#    what differed. The control: the genuine log reseals with nothing said.
#  - --force seals to the logged command line, and says so.
#  - The configuration pins cmdline=: the tampered log is sealed to the
#    configured state, and that is said.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/bootlog.sh"
swtpm_start || fail "swtpm"
GOOD="console=ttyS0 root=/dev/vda"
BAD="console=ttyS0 root=/dev/vda systemd.unit=rescue.target"
boot_conf "$WORK/free.conf" 15
boot_conf "$WORK/pinned.conf" 15 "cmdline=$GOOD"
hdr() { head -c 16M "$1" | sha256sum; }
mkimg "$WORK/img"
cp --sparse=always "$WORK/img" "$WORK/clean"

# reboot_into CONF CMDLINE: a fresh boot of the same TPM, measured.
reboot_into() {
	swtpm_restart || fail "swtpm restart"
	: >"$WORK/log"
	boot "$WORK/log" "$1" "$2"
}

# The tampered boot, capped.
reboot_into "$WORK/free.conf" "$BAD"
log_extend "$WORK/log" 15 "sealinit:cap"
h0=$(hdr "$WORK/img")
expect 1 "reseal, nothing pins the command line" "$SEALINIT" reseal "$WORK/img" --config "$WORK/free.conf" \
	--key-file "$WORK/pass" --event-log "$WORK/log"
expect_msg "the configuration pins no cmdline="
expect_msg "$BAD"
expect_msg "--cmdline TEXT"
[ "$h0" = "$(hdr "$WORK/img")" ] || fail "a refused reseal changed the header"
cp --sparse=always "$WORK/img" "$WORK/forced"
expect 0 "reseal --cmdline, the expected one" "$SEALINIT" reseal "$WORK/img" --config "$WORK/free.conf" \
	--key-file "$WORK/pass" --event-log "$WORK/log" --cmdline "$GOOD"
expect_msg "this boot's command line differs from the configuration's"
expect_msg "sealing to the configured one"
expect 0 "reseal --force" "$SEALINIT" reseal "$WORK/forced" --config "$WORK/free.conf" \
	--key-file "$WORK/pass" --event-log "$WORK/log" --force
expect_msg "unchecked (--force)"

reboot_into "$WORK/free.conf" "$GOOD"
expect 0 "the token in the genuine state" "$SEALINIT" unlock "$WORK/img" --test
expect 4 "the forced token in the genuine state" "$SEALINIT" unlock "$WORK/forced" --test
reboot_into "$WORK/free.conf" "$BAD"
expect 4 "the token in the tampered state" "$SEALINIT" unlock "$WORK/img" --test
expect 0 "the forced token in the tampered state" "$SEALINIT" unlock "$WORK/forced" --test

# The control: the genuine boot's log, the same --cmdline: nothing differs.
reboot_into "$WORK/free.conf" "$GOOD"
log_extend "$WORK/log" 15 "sealinit:cap"
cp --sparse=always "$WORK/clean" "$WORK/genuine"
expect 0 "reseal the genuine boot" "$SEALINIT" reseal "$WORK/genuine" --config "$WORK/free.conf" \
	--key-file "$WORK/pass" --event-log "$WORK/log" --cmdline "$GOOD"
case "$OUT" in *differs*) fail "the genuine boot differs: $OUT" ;; esac
# With cmdline= pinned, --cmdline must agree with it.
expect 2 "--cmdline against the pinned one" "$SEALINIT" reseal "$WORK/genuine" --config "$WORK/pinned.conf" \
	--key-file "$WORK/pass" --event-log "$WORK/log" --cmdline "$BAD"
expect_msg "differs from cmdline= in the configuration"

# Pinned: a log whose command line is not the pinned one (the events of
# a boot that took another) is sealed to the configured state.
reboot_into "$WORK/pinned.conf" "$GOOD"
mapfile -t GOODEV < <(boot_events "$WORK/pinned.conf" "$GOOD")
swtpm_restart || fail "swtpm restart"
: >"$WORK/log"
mapfile -t BADEV < <(boot_events "$WORK/free.conf" "$BAD")
log_extend "$WORK/log" 15 "${BADEV[0]}" "${GOODEV[@]:1}" "sealinit:cap"
cp --sparse=always "$WORK/clean" "$WORK/pinned"
expect 0 "reseal, pinned" "$SEALINIT" reseal "$WORK/pinned" --config "$WORK/pinned.conf" \
	--key-file "$WORK/pass" --event-log "$WORK/log"
expect_msg "this boot's command line differs from the configuration's"
reboot_into "$WORK/pinned.conf" "$GOOD"
expect 0 "the pinned token in the configured state" "$SEALINIT" unlock "$WORK/pinned" --test
echo "PASS"
