#!/bin/bash
# SPDX-License-Identifier: MIT
# Recovery with the firmware's PCRs, on the x86 production set
# (pcrs=4+7+9+15): the boot caps PCRs 4, 7 and 9 after the firmware's own
# events, which are in the firmware's binary log, not in sealinit's.
#  - reseal replays the firmware's log, then sealinit's, per PCR: the new
#    token binds 4+7+9+15 in the state before the cap; it opens after a
#    reboot into that state and not once PCR 4 is capped (the control);
#    without the firmware's log the capped PCRs do not replay: refused.
#  - the workaround that wrote a replayable token, `reseal --pcrs 15', is
#    refused by name; --force is the way to insist (the control).
#  - status shows 4, 7, 9 and 15 capped and replaying with the firmware's
#    log; without it, 4, 7 and 9 neither (the control: the log matters).
#  - revoke DEVICE checks the signature for that state and lets the counter
#    move; without the firmware's log it cannot know the state: refused.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/bootlog.sh"
command -v tpm2_pcrextend >/dev/null || skip "tpm2-tools not installed"
swtpm_start || fail "swtpm"
CMDLINE="console=ttyS0,115200 root=PARTLABEL=root ro quiet"
boot_conf "$WORK/boot.conf" 4+7+9+15 "cmdline=$CMDLINE"
C=(--config "$WORK/boot.conf")
fw_log "$WORK/fw.bin" "$CMDLINE"
F=(--firmware-log "$WORK/fw.bin")
field() { /usr/bin/python3 -c 'import json, sys; s = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
hdr() { head -c 16M "$1" | sha256sum; }

mkimg "$WORK/img"
# A booted device: the firmware's events, the boot's measurements and the cap.
booted() {
	: >"$WORK/log"
	fw_boot "$WORK/fw.bin"
	boot "$WORK/log" "$WORK/boot.conf" "$CMDLINE" "$@"
}
booted
expect 0 "predict" "$SEALINIT" predict "${C[@]}" --cmdline "$CMDLINE" --init "$WORK/init" "${F[@]}" --pcrs 4+7+9+15
printf '%s\n' "$OUT" >"$WORK/predicted"
expect 0 "pcrread before the cap" "$SEALINIT" pcrread --pcrs 4+7+9+15
for p in 4 7 9 15; do
	grep -qx "pcr$p=$(sed -n "s/^sha256:$p  *//p" <<<"$OUT")" "$WORK/predicted" ||
		fail "PCR $p: the TPM's value is not predict's from the firmware log: $OUT"
done
for p in 4 7 9 15; do log_extend "$WORK/log" $p "sealinit:cap"; done

# Without the firmware's log, PCR 4's cap record does not replay.
h0=$(hdr "$WORK/img")
expect 1 "reseal without the firmware's log" "$SEALINIT" reseal "$WORK/img" "${C[@]}" --key-file "$WORK/pass" \
	--event-log "$WORK/log" --firmware-log /nonexistent
expect_msg "/nonexistent: No such file"
expect 1 "reseal, the firmware's log of another boot" "$SEALINIT" reseal "$WORK/img" "${C[@]}" \
	--key-file "$WORK/pass" --event-log "$WORK/log" --firmware-log "$REPO/tests/fuzz/corpus/tcglog/ovmf-x86_64.bin"
expect_msg "does not replay to PCR 4's value after the firmware's events"
# The downgrade: PCR 15 alone.
expect 1 "reseal --pcrs 15" "$SEALINIT" reseal "$WORK/img" "${C[@]}" "${F[@]}" --key-file "$WORK/pass" \
	--event-log "$WORK/log" --pcrs 15
expect_msg "would not bind PCR 4+7+9"
expect_msg "--force"
[ "$h0" = "$(hdr "$WORK/img")" ] || fail "a refused reseal changed the header"
cp --sparse=always "$WORK/img" "$WORK/forced"
expect 0 "reseal --pcrs 15 --force" "$SEALINIT" reseal "$WORK/forced" "${C[@]}" "${F[@]}" \
	--key-file "$WORK/pass" --event-log "$WORK/log" --pcrs 15 --force
# The fix: the firmware's log, then sealinit's.
expect 0 "reseal with the firmware's log" "$SEALINIT" reseal "$WORK/img" "${C[@]}" "${F[@]}" \
	--key-file "$WORK/pass" --event-log "$WORK/log"
expect_msg "literal, sha256 PCRs 4+7+9+15"
expect_msg "PCR 4+7+9+15 sealed to the state this boot's logs replay to"
hash=$(cryptsetup token export --token-id 0 "$WORK/img" | jq -r '."tpm2-policy-hash"')
[ "$hash" = "$(sed -n 's/^policy=//p' "$WORK/predicted")" ] || fail "the token's policy $hash is not predict's"

# status: 4, 7, 9 and 15 capped, and the log replays; without the
# firmware's log, 4, 7 and 9 do not.
expect 0 "status" "$SEALINIT" status "$WORK/img" --json --event-log "$WORK/log" "${F[@]}"
[ "$(field "$OUT" '[(p["pcr"], p["log_replays"], p["capped"]) for p in s["tpm"]["pcrs"]]')" = \
	"[(4, True, True), (7, True, True), (9, True, True), (15, True, True)]" ] ||
	fail "status with the firmware's log: $(field "$OUT" 's["tpm"]["pcrs"]')"
expect 0 "status, no firmware log" "$SEALINIT" status "$WORK/img" --json --event-log "$WORK/log"
[ "$(field "$OUT" '[(p["pcr"], p["log_replays"], p["capped"]) for p in s["tpm"]["pcrs"]]')" = \
	"[(4, False, False), (7, False, False), (9, False, False), (15, True, True)]" ] ||
	fail "status without the firmware's log: $(field "$OUT" 's["tpm"]["pcrs"]')"

# The resealed token: shut now (capped), open after a reboot into the same
# state, shut again once PCR 4 is capped.
expect 4 "the resealed token on the capped system" "$SEALINIT" unlock "$WORK/img" --test
swtpm_restart || fail "swtpm restart"
booted
expect 0 "the resealed token in the state before the cap" "$SEALINIT" unlock "$WORK/img" --test
"$SEALINIT" measure --pcr 4 --string "sealinit:cap" >/dev/null
expect 4 "the resealed token once PCR 4 is capped" "$SEALINIT" unlock "$WORK/img" --test

# revoke DEVICE with a signed counter token on 4+7+9+15.
command -v openssl >/dev/null || skip "openssl not installed"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/key.pem" 2>/dev/null &&
	openssl pkey -in "$WORK/key.pem" -pubout -out "$WORK/pub.pem" || fail "openssl genpkey"
swtpm_restart || fail "swtpm restart"
mkimg "$WORK/dev"
expect 0 "enroll --counter" "$SEALINIT" enroll "$WORK/dev" "${C[@]}" --key-file "$WORK/pass" \
	--public-key "$WORK/pub.pem" --public-key-pcrs 4+7+9+15 --counter
c=$(echo "$OUT" | sed -n 's/.*value \([0-9]*\);.*/\1/p')
[ -n "$c" ] || fail "no counter value: $OUT"
booted 4 7 9 15
expect 0 "sign the state for the next value" "$SEALINIT" sign --private-key "$WORK/key.pem" \
	--pcrs 4+7+9+15 --values "$WORK/predicted" --counter-value $((c + 1)) --signature "$WORK/next.json"
expect 1 "revoke DEVICE without the firmware's log" "$SEALINIT" revoke "$WORK/dev" --signature "$WORK/next.json" \
	--event-log "$WORK/log" --firmware-log /nonexistent
run "$SEALINIT" status "$WORK/dev" --json --event-log "$WORK/log" "${F[@]}"
[ "$(echo "$OUT" | jq -r '.tpm.counters[0].value')" = "$c" ] || fail "a refused revoke moved the counter"
expect 0 "revoke DEVICE with the firmware's log" "$SEALINIT" revoke "$WORK/dev" --signature "$WORK/next.json" \
	--event-log "$WORK/log" "${F[@]}"
expect_msg "token 0 unlocks at the next boot with the counter at $((c + 1))"
echo "PASS"
