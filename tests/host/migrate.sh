#!/bin/bash
# Migration from the legacy key to the TPM, and its power-cut safety.
#  1. migrate enrolls a TPM keyslot next to the legacy one; both open;
#     a second migrate replaces the TPM keyslot instead of adding one;
#     --finish removes the legacy keyslot only once this boot's record says
#     the TPM opened the volume (--boot-record); no record, a legacy one,
#     another volume's, or one whose keyslot is no longer a TPM token's are
#     refused and change nothing (the attack: a finish after a migrate that
#     sealed a state no genuine boot reaches).
#  2. The process is killed (SIGKILL, injected by strace) at every write
#     and every fsync it makes to the volume, during migrate and during
#     --finish. After each kill the volume must open with the legacy key or
#     the TPM, and a rerun must complete with exactly two keyslots.
. "$(dirname "$0")/../lib/common.sh"
command -v strace >/dev/null || skip "strace not installed"
swtpm_start || fail "swtpm"
TCTI="swtpm:host=127.0.0.1,port=$SWTPM_PORT"
PCR=14   # any PCR the test can extend; migrate refuses the resettable 16 and 23
# The boot caps 14 and 15 here, so a token on 14 is one the cap closes;
# --current: the values now (this test's "boot" measures nothing).
printf '%s\n' pcrs=14+15 >"$WORK/boot.conf"
KEY=$WORK/pass  # the "legacy" passphrase
IMG=$WORK/img

migrate() { "$SEALINIT" migrate --tcti "$TCTI" --config "$WORK/boot.conf" "$@"; }
# record IMG [SOURCE]: the boot's unlock record after it unlocked IMG through
# its (first) TPM token, as /run/sealinit/unlock holds it.
record() {
	local img=$1 src=${2:-tpm2}
	cryptsetup luksDump --dump-json-metadata "$img" | jq -r --arg src "$src" --arg uuid "$(cryptsetup luksUUID "$img")" \
		'[.tokens | to_entries[] | select(.value.type == "systemd-tpm2")][0] |
		 "source=\($src)\ntoken=\(.key)\nkeyslot=\(.value.keyslots[0])\ndevice=/dev/vdb\nuuid=\($uuid)"'
}
legacy_opens() { cryptsetup open --test-passphrase --key-file "$KEY" "$1" 2>/dev/null; }
tpm_opens() { "$SEALINIT" unlock --test --tcti "$TCTI" "$1" >/dev/null 2>&1; }
slots() { cryptsetup luksDump "$1" | grep -cE '^  [0-9]+: luks2'; }
tokens() { cryptsetup luksDump "$1" | grep -cE '^  [0-9]+: (systemd-tpm2|sealinit-migration)'; }

# --- 1. the sequence --------------------------------------------------------
mkimg "$IMG"
expect 0 "migrate" migrate --key-file "$KEY" --pcrs $PCR --current "$IMG"
expect_msg "Enrolled TPM keyslot 1"
legacy_opens "$IMG" || fail "legacy key no longer opens after migrate"
tpm_opens "$IMG" || fail "TPM does not open after migrate"
expect 0 "status" migrate --status "$IMG"
expect_msg "legacy keyslot: 0"
expect_msg "TPM keyslot:    1"
expect 0 "migrate again, the key on stdin" sh -c "'$SEALINIT' migrate --tcti '$TCTI' --config '$WORK/boot.conf' --current --key-file - --pcrs $PCR '$IMG' < '$KEY'"
expect_msg "Replaced the earlier TPM keyslot 1"
[ "$(slots "$IMG")" = 2 ] || fail "after a second migrate: $(slots "$IMG") keyslots, expected 2"
[ "$(tokens "$IMG")" = 2 ] || fail "after a second migrate: $(tokens "$IMG") tokens, expected 2"
tpm_opens "$IMG" || fail "TPM does not open after the second migrate"
printf 'wrong' > "$WORK/wrong"
expect 11 "migrate with a wrong legacy key" migrate --key-file "$WORK/wrong" --pcrs $PCR --current "$IMG"

# --finish without proof that a boot opened the volume through the TPM:
# refused, by name, the legacy keyslot kept.
h0=$(head -c 16M "$IMG" | sha256sum)
expect 1 "finish without a boot record" migrate --finish --boot-record "$WORK/none" "$IMG"
expect_msg "no record that this boot unlocked the volume through the TPM"
record "$IMG" legacy >"$WORK/rec.legacy"
expect 1 "finish after a legacy unlock" migrate --finish --boot-record "$WORK/rec.legacy" "$IMG"
expect_msg "with source=legacy, not the TPM"
mkimg "$WORK/other"
record "$IMG" | sed "s/^uuid=.*/uuid=$(cryptsetup luksUUID "$WORK/other")/" >"$WORK/rec.other"
expect 1 "finish with another volume's record" migrate --finish --boot-record "$WORK/rec.other" "$IMG"
expect_msg "not $IMG"
[ "$h0" = "$(head -c 16M "$IMG" | sha256sum)" ] || fail "a refused finish changed the header"
# The boot opened the volume through the TPM token of keyslot 2; a migrate
# on the capped system then replaced that token (and its keyslot) with one
# no genuine boot opens: the record no longer proves anything.
record "$IMG" >"$WORK/rec.before"
expect 0 "re-migrate (the token the boot used is replaced)" migrate --key-file "$KEY" --pcrs $PCR --current "$IMG"
expect 1 "finish with the replaced token's record" migrate --finish --boot-record "$WORK/rec.before" "$IMG"
expect_msg "is not a TPM token of $IMG any more"
legacy_opens "$IMG" || fail "a refused finish removed the legacy keyslot"
# The control: the record of a boot that opened it through the current token.
record "$IMG" >"$WORK/rec"
expect 0 "finish" migrate --finish --boot-record "$WORK/rec" "$IMG"
expect_msg "Removed legacy keyslot 0"
legacy_opens "$IMG" && fail "the legacy key still opens after --finish"
tpm_opens "$IMG" || fail "TPM does not open after --finish"
expect 1 "finish twice" migrate --finish --boot-record "$WORK/rec" "$IMG"
expect_msg "no migration journal"
echo "ok: migrate, re-migrate, finish"

# --- 2. kills at every write and fsync ----------------------------------------
# kill_at SYSCALL N CMD...: run CMD with a SIGKILL injected at the Nth SYSCALL
# on the image. Sets KILLED=1 if the kill happened.
kill_at() { cut_at "$IMG" "$@"; }

# check WHAT: after a cut, one of the keys opens the volume.
check_open() {
	legacy_opens "$IMG" || tpm_opens "$IMG" || fail "$1: the volume opens with neither key"
}

cuts=0
for sc in write fsync; do
	for n in $(seq 1 60); do
		mkimg "$IMG"
		kill_at "$sc" "$n" "$SEALINIT" migrate --tcti "$TCTI" --config "$WORK/boot.conf" --current --key-file "$KEY" --pcrs $PCR "$IMG"
		[ "$KILLED" = 1 ] || break
		cuts=$((cuts + 1))
		legacy_opens "$IMG" || fail "migrate killed at $sc #$n: the legacy key no longer opens"
		expect 0 "rerun after migrate killed at $sc #$n" migrate --key-file "$KEY" --pcrs $PCR --current "$IMG"
		[ "$(slots "$IMG")" = 2 ] || fail "migrate killed at $sc #$n, rerun: $(slots "$IMG") keyslots"
		tpm_opens "$IMG" || fail "migrate killed at $sc #$n, rerun: the TPM does not open"
	done
	[ "$n" -gt 1 ] || fail "migrate made no $sc call on the image: the cut test tests nothing"
	echo "ok: migrate killed at each of $((n - 1)) ${sc}s"
done

for sc in write fsync; do
	for n in $(seq 1 60); do
		mkimg "$IMG"
		expect 0 "migrate" migrate --key-file "$KEY" --pcrs $PCR --current "$IMG"
		record "$IMG" >"$WORK/rec"
		kill_at "$sc" "$n" "$SEALINIT" migrate --tcti "$TCTI" --config "$WORK/boot.conf" --finish --boot-record "$WORK/rec" "$IMG"
		[ "$KILLED" = 1 ] || break
		cuts=$((cuts + 1))
		check_open "finish killed at $sc #$n"
		tpm_opens "$IMG" || fail "finish killed at $sc #$n: the TPM no longer opens"
		# Killed after the journal's removal reached the first header copy:
		# the finish had happened, and a rerun finds nothing to do.
		run migrate --finish --boot-record "$WORK/rec" "$IMG"
		case "$RC:$OUT" in
		0:*|"1:"*"no migration journal"*) ;;
		*) fail "rerun finish after a kill at $sc #$n: exit $RC: $OUT" ;;
		esac
		legacy_opens "$IMG" && fail "finish killed at $sc #$n, rerun: legacy key still opens"
		[ "$(slots "$IMG")" = 1 ] || fail "finish killed at $sc #$n, rerun: $(slots "$IMG") keyslots"
	done
	[ "$n" -gt 1 ] || fail "finish made no $sc call on the image"
	echo "ok: finish killed at each of $((n - 1)) ${sc}s"
done
echo "PASS ($cuts kills)"
