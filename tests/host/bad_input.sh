#!/bin/bash
# Bad input gets a clear error naming what was wrong, a distinct exit code,
# and leaves the image byte-identical.
. "$(dirname "$0")/../lib/common.sh"
swtpm_start || fail "swtpm"
mkimg "$WORK/img"
before=$(digest "$WORK/img")

printf 'wrong' > "$WORK/wrong"
expect 11 "enroll with a wrong passphrase" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/wrong" --pcrs 16 --unsafe-pcrs
expect_msg "existing passphrase opens no keyslot"
expect 2 "enroll with a bad PCR list" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 7+99
expect_msg "Invalid PCR list: \`7+99'"
expect 1 "enroll with a missing key file" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/nope"
expect_msg "cannot read --key-file"
expect 2 "enroll with two devices" "$SEALINIT" enroll "$WORK/img" "$WORK/img" --key-file "$WORK/pass"
expect 2 "bad --tpm-timeout" "$SEALINIT" unlock "$WORK/img" --test --tpm-timeout 0
expect_msg "Invalid --tpm-timeout: \`0'"
[ "$(digest "$WORK/img")" = "$before" ] || fail "image changed by failed enrolls"

expect 7 "unlock a volume without tokens" "$SEALINIT" unlock "$WORK/img" --test
expect_msg "no systemd-tpm2 token"

head -c 4M /dev/zero > "$WORK/zero"
expect 9 "unlock something that is not LUKS" "$SEALINIT" unlock "$WORK/zero" --test
expect_msg "not a LUKS2 volume"
truncate -s 20M "$WORK/luks1"
cryptsetup luksFormat --batch-mode --type luks1 --pbkdf-force-iterations 1000 "$WORK/luks1" "$WORK/pass" >/dev/null
expect 9 "unlock a LUKS1 volume" "$SEALINIT" unlock "$WORK/luks1" --test
expect 1 "unlock a missing device" "$SEALINIT" unlock "$WORK/missing" --test
expect_msg "missing"

# A damaged header: both binary headers' magic wiped. Exit 9, and the
# failed unlock writes nothing.
cp "$WORK/img" "$WORK/dmg"
expect 0 "enroll" "$SEALINIT" enroll "$WORK/dmg" --key-file "$WORK/pass" --pcrs 16 --unsafe-pcrs
printf 'XXXXXX' | dd of="$WORK/dmg" bs=1 seek=0 conv=notrunc status=none
printf 'XXXXXX' | dd of="$WORK/dmg" bs=1 seek=16384 conv=notrunc status=none
b=$(digest "$WORK/dmg")
expect 9 "unlock a damaged header" "$SEALINIT" unlock "$WORK/dmg" --test
[ "$(digest "$WORK/dmg")" = "$b" ] || fail "failed unlock changed the damaged image"

expect 2 "unknown command" "$SEALINIT" frobnicate
expect_msg "unknown command \`frobnicate'"
expect 0 "help" "$SEALINIT" help
expect_msg "Exit codes"
echo ok
