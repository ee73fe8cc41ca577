#!/bin/bash
# SPDX-License-Identifier: MIT
# `sealinit predict' with the firmware's PCRs:
#  - --firmware-log on two real logs (OVMF x86_64 and AAVMF aarch64 boots
#    of tests/qemu/uefi.sh, kept in the tcglog fuzz corpus) gives the sha256
#    values tpm2_eventlog replays, for every PCR either names; one changed
#    digest byte changes predict's value of that PCR only;
#  - --firmware-pcrs takes `sealinit pcrread' output as it stands, and
#    policy= is the tpm2-policy-hash of the token `enroll --pcrs 4+7+9+15
#    --expect' seals to the printed values (against swtpm); that token
#    opens once the TPM holds them, and not one firmware event short;
#  - bad combinations and bad files are refused (exit 2), naming why.
. "$(dirname "$0")/../lib/common.sh"
command -v tpm2_eventlog >/dev/null || skip "no tpm2_eventlog (tpm2-tools)"
CORPUS=$REPO/tests/fuzz/corpus/tcglog
ZERO=0000000000000000000000000000000000000000000000000000000000000000

# eventlog_sha256 LOG: "pcrN=HEX" per sha256 PCR tpm2_eventlog replays.
eventlog_sha256() {
	tpm2_eventlog "$1" | awk '/^pcrs:/ { p = 1 } p && /^  sha256:/ { s = 1; next }
		p && s && /^  [a-z]/ { exit } p && s { sub(/^0x/, "", $3); print "pcr" $1 "=" $3 }'
}

for log in "$CORPUS"/ovmf-x86_64.bin "$CORPUS"/aavmf-aarch64.bin; do
	name=$(basename "$log" .bin)
	want=$(eventlog_sha256 "$log")
	[ "$(grep -c . <<<"$want")" -ge 8 ] || fail "$name: tpm2_eventlog replayed only: $want"
	expect 0 "$name: predict --firmware-log" "$SEALINIT" predict --firmware-log "$log"
	got=$(grep '^pcr' <<<"$OUT")
	[ "$got" = "$want" ] || fail "$name: predict's replay differs from tpm2_eventlog's:
$(diff <(echo "$want") <(echo "$got"))"
	grep -q '^policy=[0-9a-f]\{64\}$' <<<"$OUT" || fail "$name: no policy= line: $OUT"
	# PCR 8 has no event: zero, as a PCR the firmware never extended.
	expect 0 "$name: --pcrs 8" "$SEALINIT" predict --firmware-log "$log" --pcrs 8
	grep -qx "pcr8=$ZERO" <<<"$OUT" || fail "$name: PCR 8 is not zero: $OUT"
	# A PCR the OS extends (10: IMA) cannot come from the firmware's log.
	expect 2 "$name: --pcrs 10" "$SEALINIT" predict --firmware-log "$log" --pcrs 10
	expect_msg "no value for PCR 10"
done

# One digest byte changed: the last sha256 digest of the log (the last
# record is PCR 5's ExitBootServices action: its digest is the 32 bytes
# before the record's EventSize and data).
cp "$CORPUS/ovmf-x86_64.bin" "$WORK/log"
python3 - "$WORK/log" <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
# Walk the records to the last one (the header's event size at 28).
pos = 32 + struct.unpack_from('<I', d, 28)[0]
sizes = {4: 20, 11: 32, 12: 48, 13: 64}
last = None
while pos < len(d):
    start = pos
    count, = struct.unpack_from('<I', d, pos + 8)
    pos += 12
    for _ in range(count):
        alg, = struct.unpack_from('<H', d, pos)
        if alg == 11:
            sha256 = pos + 2
        pos += 2 + sizes[alg]
    size, = struct.unpack_from('<I', d, pos)
    pos += 4 + size
    last = (start, sha256)
assert struct.unpack_from('<I', d, last[0])[0] == 5
d[last[1]] ^= 1
open(sys.argv[1], 'wb').write(d)
EOF
expect 0 "perturbed log" "$SEALINIT" predict --firmware-log "$WORK/log"
base=$("$SEALINIT" predict --firmware-log "$CORPUS/ovmf-x86_64.bin" | grep '^pcr')
changed=$(diff <(echo "$base") <(grep '^pcr' <<<"$OUT") | grep -c '^>')
[ "$changed" = 1 ] && grep -q '^pcr5=' <(grep '^pcr' <<<"$OUT" | grep -vxF "$base") ||
	fail "one byte of PCR 5's last digest changed $changed PCRs: $OUT"

# --firmware-pcrs from a read-out, and the token sealed to it.
swtpm_start || fail "swtpm"
mkimg "$WORK/img"
ROOTHASH=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
printf '%s\n' root=/dev/vda hashdev=/dev/vdc data=/dev/vdb pcrs=4+7+9+15 "roothash=$ROOTHASH" >"$WORK/boot.conf"
printf '#!/bin/sh\necho init\n' >"$WORK/init"
BOOT=(--config "$WORK/boot.conf" --cmdline "console=ttyS0 root=/dev/vda" --init "$WORK/init")
firmware() { # what a firmware would have measured, for this test
	for p in 4 7 9; do "$SEALINIT" measure --pcr $p --string "firmware $p" >/dev/null || fail "measure $p"; done
}
firmware
"$SEALINIT" measure --pcr 15 --string "the booted system" >/dev/null || fail "measure 15"
expect 0 "pcrread" "$SEALINIT" pcrread --pcrs 4+7+9+15
printf '%s\n' "$OUT" >"$WORK/readout"
grep -q '^sha256:4  [0-9a-f]\{64\}$' "$WORK/readout" || fail "pcrread's format changed: $OUT"
expect 0 "predict --firmware-pcrs" "$SEALINIT" predict "${BOOT[@]}" --firmware-pcrs "$WORK/readout"
printf '%s\n' "$OUT" >"$WORK/predicted"
for p in 4 7 9; do
	v=$(sed -n "s/^sha256:$p  *//p" "$WORK/readout")
	grep -qx "pcr$p=$v" "$WORK/predicted" || fail "PCR $p is not the read-out's $v: $OUT"
done
# PCR 15 is the boot's prediction, not the read-out's (capped) value.
alone=$("$SEALINIT" predict "${BOOT[@]}" | sed -n 's/^pcr15=//p')
grep -qx "pcr15=$alone" "$WORK/predicted" || fail "PCR 15 is not the boot's prediction $alone: $OUT"
POLICY=$(sed -n 's/^policy=//p' "$WORK/predicted")
[ ${#POLICY} = 64 ] || fail "no policy=: $OUT"

expect 0 "enroll --expect the prediction" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" \
	--pcrs 4+7+9+15 --expect "$WORK/predicted"
hash=$(cryptsetup token export --token-id 0 "$WORK/img" | jq -r '."tpm2-policy-hash"')
[ "$hash" = "$POLICY" ] || fail "the token's tpm2-policy-hash $hash is not predict's policy=$POLICY"
# Control: the policy of other values is another digest.
sed "s/^pcr7=.*/pcr7=$ZERO/" "$WORK/predicted" >"$WORK/other"
other=$("$SEALINIT" predict "${BOOT[@]}" --firmware-pcrs "$WORK/other" | sed -n 's/^policy=//p')
[ -n "$other" ] && [ "$other" != "$POLICY" ] || fail "PCR 7 zero gave the same policy $other"
expect 0 "predict --pcrs 4+9+15" "$SEALINIT" predict "${BOOT[@]}" --firmware-pcrs "$WORK/readout" --pcrs 4+9+15
grep -q "^policy=$POLICY$" <<<"$OUT" && fail "another PCR set gave the same policy"
grep -q '^pcr7=' <<<"$OUT" && fail "--pcrs 4+9+15 printed PCR 7: $OUT"

# The TPM in the predicted state: the token opens; one firmware event short, not.
expect 4 "the token refuses the booted state" "$SEALINIT" unlock "$WORK/img" --test
swtpm_restart || fail "swtpm restart"
firmware
sed -n 's/^15 //p' "$WORK/predicted" | while IFS= read -r e; do
	"$SEALINIT" measure --pcr 15 --string "$e" >/dev/null || fail "measure $e"
done
expect 0 "the token opens in the predicted state" "$SEALINIT" unlock "$WORK/img" --test
swtpm_restart || fail "swtpm restart"
for p in 4 9; do "$SEALINIT" measure --pcr $p --string "firmware $p" >/dev/null; done
sed -n 's/^15 //p' "$WORK/predicted" | while IFS= read -r e; do "$SEALINIT" measure --pcr 15 --string "$e" >/dev/null; done
expect 4 "PCR 7's event missing" "$SEALINIT" unlock "$WORK/img" --test

# Refusals.
expect 2 "--initrd without a log" "$SEALINIT" predict --firmware-pcrs "$WORK/readout" --initrd "$WORK/init"
expect_msg "--firmware-log FILE, which is needed"
expect 2 "both sources" "$SEALINIT" predict --firmware-pcrs "$WORK/readout" --firmware-log "$CORPUS/ovmf-x86_64.bin"
expect_msg "not both"
expect 2 "--pcrs 8 not in the read-out" "$SEALINIT" predict --firmware-pcrs "$WORK/readout" --pcrs 8
expect_msg "no value for PCR 8"
printf 'sha1:4  %040d\n' 0 >"$WORK/bad-readout"
expect 2 "a sha1 read-out" "$SEALINIT" predict --firmware-pcrs "$WORK/bad-readout"
expect_msg "only sha256 values"
head -c 100 "$CORPUS/ovmf-x86_64.bin" >"$WORK/short.bin"
expect 2 "a truncated log" "$SEALINIT" predict --firmware-log "$WORK/short.bin"
expect_msg "event log record 1"
expect 2 "a kernel that is not PE" "$SEALINIT" predict --firmware-log "$CORPUS/ovmf-x86_64.bin" --kernel "$WORK/init"
expect_msg "PE image: e_magic"
expect 2 "a command line that is not UTF-8" "$SEALINIT" predict --firmware-log "$CORPUS/ovmf-x86_64.bin" \
	--firmware-cmdline $'a\xff'
expect_msg "not UTF-8"
# Control: the same with PCR 9 left out does not need the command line.
expect 0 "--pcrs 7 ignores the command line" "$SEALINIT" predict --firmware-log "$CORPUS/ovmf-x86_64.bin" \
	--firmware-cmdline $'a\xff' --pcrs 7
echo "PASS"
