#!/bin/bash
# Keys are never sealed to no PCR, or to PCR 16 or 23, which any process
# with the TPM can reset and replay: enroll and migrate refuse them, and the
# boot refuses tokens bound to them. Tests force them with --unsafe-pcrs.
# Positive controls: the flag enrolls, the CLI still opens such a token
# (recovery, systemd's tokens), and a token on PCR 15 opens under the boot's
# rules.
. "$(dirname "$0")/../lib/common.sh"
need_driver unlock_cap
swtpm_start || fail "swtpm"
mkimg "$WORK/img"

for p in 16 23 7+16 ""; do
	expect 2 "enroll --pcrs '$p'" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs "$p"
	case "$p" in
	"") expect_msg "no PCR" ;;
	*23*) expect_msg "PCR 23 can be reset" ;;
	*) expect_msg "PCR 16 can be reset" ;;
	esac
	expect_msg "--unsafe-pcrs"
done
expect 2 "migrate --pcrs 16" "$SEALINIT" migrate --key-file "$WORK/pass" --pcrs 16 "$WORK/img"
expect_msg "PCR 16 can be reset"
[ "$(cryptsetup luksDump "$WORK/img" | grep -c 'systemd-tpm2')" = 0 ] || fail "a refused enroll left a token"

# Forced: a token on PCR 16, one on no PCR at all.
cp "$WORK/img" "$WORK/none"
expect 0 "enroll --pcrs 16 --unsafe-pcrs" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 16 --unsafe-pcrs
expect 0 "enroll --pcrs '' --unsafe-pcrs" "$SEALINIT" enroll "$WORK/none" --key-file "$WORK/pass" --pcrs "" --unsafe-pcrs
expect 0 "the CLI opens the PCR 16 token" "$SEALINIT" unlock "$WORK/img" --test
expect 0 "the CLI opens the PCR-less token" "$SEALINIT" unlock "$WORK/none" --test

# The boot's rules (the driver asks as the boot stage does).
run env BOOT_RULES=1 "$DRIVER" "$WORK/img"
case "$OUT" in "r=8 "*"PCR 16 can be reset"*"refused at boot"*) ;; *) fail "boot rules, PCR 16 token: $OUT" ;; esac
run env BOOT_RULES=1 "$DRIVER" "$WORK/none"
case "$OUT" in "r=8 "*"no PCR"*"refused at boot"*) ;; *) fail "boot rules, PCR-less token: $OUT" ;; esac

# Positive control for the boot's rules: PCR 15.
mkimg "$WORK/good"
expect 0 "enroll --pcrs 15" "$SEALINIT" enroll "$WORK/good" --key-file "$WORK/pass" --pcrs 15
run env BOOT_RULES=1 "$DRIVER" "$WORK/good"
case "$OUT" in "r=0 capped=1 "*) ;; *) fail "boot rules, PCR 15 token: $OUT" ;; esac
echo ok
