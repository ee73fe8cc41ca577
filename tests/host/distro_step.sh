#!/bin/bash
# The step of a distribution's initramfs (dist/initramfs-tools/sealinit-step,
# which dist/dracut runs too), with this build's sealinit against swtpm, no
# chroot: `predict --step' gives the PCR 15 the step produces (checked
# against the formula in dist/initramfs-tools/README.md, computed in
# Python), a token enrolled for it with `enroll --expect' unseals, and the
# step ends with PCR 15 at predict's capped value, so the token no longer
# unseals (the control). The attacks: a changed command line (init=/bin/sh)
# mismatches, opens nothing and is capped all the same; a token bound only
# to a PCR the step does not cap (7, systemd-cryptenroll's default) opens
# under the plain CLI but is refused by the step's `unlock --boot-rules',
# by name. And predict --step's usage errors.
# Activation needs device-mapper: where it is missing the step's unlock
# reaches it and fails naming the volume (exit 1), which still shows the
# key was unsealed.
. "$(dirname "$0")/../lib/common.sh"
command -v python3 >/dev/null || skip "python3 not installed"
STEP=$REPO/dist/initramfs-tools/sealinit-step
swtpm_start || fail "swtpm"

# The environment's SEALINIT_TCTI, a kernel command-line word in the
# initramfs, is dropped by the step: --tcti gives swtpm's port.
printf '%s\n' "data=$WORK/data.img" "name=sealstep-$$" "pcrs=15" "device_timeout=300" >"$WORK/step.conf"
CMDLINE="root=/dev/vda ro quiet"
printf '%s\n' "$CMDLINE" >"$WORK/cmdline"
printf '%s\n' "$CMDLINE init=/bin/sh" >"$WORK/cmdline.evil"

# predict --step, beside the README's formula.
expect 2 "predict --step without --cmdline" "$SEALINIT" predict --step --config "$WORK/step.conf"
expect_msg "--step needs --cmdline TEXT"
expect 2 "predict --step with --init" "$SEALINIT" predict --step --config "$WORK/step.conf" \
	--cmdline "$CMDLINE" --init /bin/sh
expect_msg "drop --init"
expect 2 "predict --step, no configuration" "$SEALINIT" predict --step --config "$WORK/none.conf" \
	--cmdline "$CMDLINE"
expect 0 "predict --step" "$SEALINIT" predict --step --config "$WORK/step.conf" --cmdline "$CMDLINE"
printf '%s\n' "$OUT" >"$WORK/expect"
predicted=$(sed -n 's/^pcr15=//p' "$WORK/expect")
predicted_capped=$(sed -n 's/^pcr15-capped=//p' "$WORK/expect")
# formula CMDLINE-FILE CONF [cap]
formula() {
	python3 - "$@" <<'PY'
import hashlib, sys
h = lambda b: hashlib.sha256(b).digest()
p = bytes(32)
for f in sys.argv[1:3]:
    p = h(p + h(h(open(f, "rb").read())))
if len(sys.argv) > 3:
    p = h(p + h(b"sealinit:cap"))
print(p.hex())
PY
}
[ "$predicted" = "$(formula "$WORK/cmdline" "$WORK/step.conf")" ] ||
	fail "predict --step says $predicted, the README's formula $(formula "$WORK/cmdline" "$WORK/step.conf")"
[ "$predicted_capped" = "$(formula "$WORK/cmdline" "$WORK/step.conf" cap)" ] ||
	fail "predict --step's capped value differs from the formula's"
echo "ok: predict --step gives the README's formula, and refuses what it cannot use"

mkimg "$WORK/data.img"
expect 0 "enroll for predict --step" "$SEALINIT" enroll "$WORK/data.img" --key-file "$WORK/pass" \
	--pcrs 15 --expect "$WORK/expect" --name "sealstep-$$"
pcr15() { "$SEALINIT" pcrread --pcrs 15 | sed -n 's/^sha256:15 //p'; }
step() { # step CMDLINE-FILE
	run env SEALINIT_TCTI=device:/dev/no-such-tpm "$STEP" --sealinit "$SEALINIT" \
		--conf "$WORK/step.conf" --cmdline "$1" --tcti "$SEALINIT_TCTI"
}

# Control: the genuine command line.
step "$WORK/cmdline"
step_rc=$RC
if [ "$RC" = 0 ]; then
	[ -e "/dev/mapper/sealstep-$$" ] || fail "the step says it opened sealstep-$$, which is not there: $OUT"
	cryptsetup close "sealstep-$$" || fail "cryptsetup close sealstep-$$"
else
	[ "$RC" = 1 ] || fail "the step: exit $RC: $OUT"
	expect_msg "activating \`$WORK/data.img' as \`sealstep-$$'"
	case "$OUT" in *"policy mismatch"* | *"refused at boot"*) fail "the genuine state was refused: $OUT" ;; esac
fi
[ "$(pcr15)" = "$predicted_capped" ] ||
	fail "PCR 15 after the step is $(pcr15), not predict's capped $predicted_capped"
expect 4 "the token after the step's cap" "$SEALINIT" unlock "$WORK/data.img" --test --name "sealstep-$$"
expect_msg "PCR policy mismatch"
echo "ok: the step unseals in the predicted state (exit $step_rc), ends at predict's capped PCR 15, and the token no longer unseals"

# Attack: a changed command line.
swtpm_restart || fail "swtpm restart"
step "$WORK/cmdline.evil"
[ "$RC" = 1 ] || fail "the step with init=/bin/sh: exit $RC: $OUT"
expect_msg "PCR policy mismatch"
expect_msg "leaving it to the passphrase prompt"
[ -e "/dev/mapper/sealstep-$$" ] && fail "the step opened the volume for a changed command line"
[ "$(pcr15)" = "$(formula "$WORK/cmdline.evil" "$WORK/step.conf" cap)" ] ||
	fail "PCR 15 after the refused step is not capped: $(pcr15)"
echo "ok: a changed command line is refused by the TPM, opens nothing, and PCR 15 is capped"

# Attack: a token the step's cap does not close (PCR 7 only). The plain CLI
# opens it, in any state of PCR 15 (the premise); the step refuses it.
swtpm_restart || fail "swtpm restart"
mkimg "$WORK/pcr7.img"
expect 0 "enroll on PCR 7" "$SEALINIT" enroll "$WORK/pcr7.img" --key-file "$WORK/pass" --pcrs 7 --uncapped-pcrs
expect 0 "the plain CLI opens the PCR 7 token" "$SEALINIT" unlock "$WORK/pcr7.img" --test
sed "s|^data=.*|data=$WORK/pcr7.img|" "$WORK/step.conf" >"$WORK/step7.conf"
run env "$STEP" --sealinit "$SEALINIT" --conf "$WORK/step7.conf" --cmdline "$WORK/cmdline" --tcti "$SEALINIT_TCTI"
[ "$RC" = 1 ] || fail "the step with a PCR 7 token: exit $RC: $OUT"
expect_msg "none of them is capped by the boot (pcrs=15)"
expect_msg "leaving it to the passphrase prompt"
case "$OUT" in *"activating"*) fail "the step tried to activate with the PCR 7 token: $OUT" ;; esac
echo "ok: the step refuses a token its cap does not close, which the plain CLI opens"
