#!/bin/bash
# The data volume's high-water mark of the rollback counter, on the booted
# system's side: `sealinit revoke' raises it when the volume is mounted
# where the boot configuration says (mount=, from /dev/mapper/<name>), so
# that a TPM store restored from before the revoke is caught at the very
# next boot. Here the mount is a tmpfs mounted with that source name (no
# device-mapper on the host; the boot's own check runs in QEMU:
# tests/qemu/boot.sh store-rollback).
#   - not mounted: the revoke says so, and writes nothing (control of the
#     mount detection);
#   - mounted: the mark follows the counter, 0600, never lowered;
#   - the attack's premise, with swtpm's state restored from before a
#     revoke: the revoked signature unlocks again (`unlock --test'), the
#     TPM's counter is below the volume's mark, and a revoke on that TPM
#     leaves the mark where it was;
#   - a mark that cannot be written: the revoke fails, saying the counter
#     moved and the mark did not.
. "$(dirname "$0")/../lib/common.sh"
command -v openssl >/dev/null || skip "openssl not installed"
[ "$(id -u)" = 0 ] || skip "needs root to mount a tmpfs"
NV=0x01805e00
NAME=hwmtest$$
MNT=$WORK/mnt
mkdir -p "$MNT"
printf 'name=%s\nmount=%s\n' "$NAME" "$MNT" >"$WORK/sealinit.conf"
FILE=$MNT/.sealinit/counter-$NV

swtpm_start || fail "swtpm"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/key.pem" 2>/dev/null &&
	openssl pkey -in "$WORK/key.pem" -pubout -out "$WORK/pub.pem" || fail "openssl genpkey"
mkimg "$WORK/img"
expect 0 "enroll --counter" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" \
	--public-key "$WORK/pub.pem" --public-key-pcrs 15 --counter
v0=$(echo "$OUT" | sed -n 's/.*defined now, value \([0-9]*\);.*/\1/p')
[ -n "$v0" ] || fail "no counter value in: $OUT"

# Not mounted: the counter moves, the mark is left to the next boot, said.
expect 0 "revoke, volume not mounted" "$SEALINIT" revoke --config "$WORK/sealinit.conf"
v1=$((v0 + 1))
expect_msg ": $v0 -> $v1."
expect_msg "The data volume (/dev/mapper/$NAME) is not mounted on $MNT"
[ ! -e "$MNT/.sealinit" ] || fail "a mark was written into the unmounted directory"

# Mounted (as the boot stage mounts it: source /dev/mapper/<name>).
mount -t tmpfs -o mode=0755 "/dev/mapper/$NAME" "$MNT" || skip "cannot mount a tmpfs"
at_exit umount -l "$MNT"
# Another source on the same mount point is not the volume: nothing written.
mount -t tmpfs -o mode=0755 other "$MNT" || fail "mount over"
expect 0 "revoke to the same value, another mount on top" "$SEALINIT" revoke \
	--config "$WORK/sealinit.conf" --counter-value "$v1"
expect_msg "is not mounted on $MNT"
umount "$MNT" || fail "umount the one on top"
[ ! -e "$FILE" ] || fail "a mark was written under another mount"
# The same, on the volume: the mark catches up with the counter.
expect 0 "revoke to the same value, volume mounted" "$SEALINIT" revoke \
	--config "$WORK/sealinit.conf" --counter-value "$v1"
expect_msg "nothing to do"
expect_msg "High-water mark $MNT/.sealinit/counter-$NV: $v1 (none before)"
[ "$(cat "$FILE")" = "$v1" ] || fail "mark '$(cat "$FILE")', want $v1"
[ "$(stat -c %a "$FILE") $(stat -c %a "$MNT/.sealinit")" = "600 700" ] ||
	fail "modes $(stat -c %a "$FILE") $(stat -c %a "$MNT/.sealinit"), want 600 700"

# Signatures good up to v1, and the state of the TPM before the revoke.
expect 0 "sign v1" "$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 15 --current \
	--signature "$WORK/sig-v1.json" --counter-value "$v1"
expect 0 "control: v1 unlocks" "$SEALINIT" unlock "$WORK/img" --test --signature "$WORK/sig-v1.json"
dir=$SWTPM_DIR
swtpm_kill
rm -rf "$WORK/tpm-before"
cp -a "$dir" "$WORK/tpm-before" || fail "copy swtpm state"
swtpm_start "$dir" || fail "swtpm restart"

v2=$((v1 + 1))
expect 0 "revoke, volume mounted" "$SEALINIT" revoke --config "$WORK/sealinit.conf"
expect_msg ": $v1 -> $v2."
expect_msg "High-water mark $MNT/.sealinit/counter-$NV: $v1 -> $v2"
[ "$(cat "$FILE")" = "$v2" ] || fail "mark '$(cat "$FILE")', want $v2"
expect 33 "v1 revoked" "$SEALINIT" unlock "$WORK/img" --test --signature "$WORK/sig-v1.json"

# The attack: swtpm's state restored from before the revoke. The TPM
# takes the revoked signature again; only the volume remembers.
swtpm_kill
rm -rf "$dir"
cp -a "$WORK/tpm-before" "$dir" || fail "restore swtpm state"
swtpm_start "$dir" || fail "swtpm restart"
expect 0 "restored store: the revoked signature unlocks again" "$SEALINIT" unlock "$WORK/img" \
	--test --signature "$WORK/sig-v1.json"
# A revoke run on that TPM never lowers the mark.
expect 0 "revoke --counter-value on the restored store" "$SEALINIT" revoke \
	--config "$WORK/sealinit.conf" --counter-value "$v1"
expect_msg "Rollback counter $NV is $v1 already"
expect_msg "High-water mark $MNT/.sealinit/counter-$NV: $v2 already"
[ "$(cat "$FILE")" = "$v2" ] || fail "mark '$(cat "$FILE")' after the restored store, want $v2"

# A mark that cannot be written: the revoke fails and says what moved.
mount -o remount,ro "$MNT" || fail "remount ro"
expect 1 "revoke, mark read-only" "$SEALINIT" revoke --config "$WORK/sealinit.conf" \
	--counter-value $((v2 + 1))
expect_msg "the counter $NV is at $((v2 + 1)), but the data volume's high-water mark was not raised"
expect_msg "Read-only file system"
mount -o remount,rw "$MNT" || fail "remount rw"
[ "$(cat "$FILE")" = "$v2" ] || fail "mark '$(cat "$FILE")' after a failed write, want $v2"
[ ! -e "$FILE.tmp" ] || fail "a temporary file was left behind"
# Retried: the counter is high enough, the mark catches up.
expect 0 "revoke retried" "$SEALINIT" revoke --config "$WORK/sealinit.conf" --counter-value $((v2 + 1))
expect_msg "High-water mark $MNT/.sealinit/counter-$NV: $v2 -> $((v2 + 1))"
echo "PASS"
