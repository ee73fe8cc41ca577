#!/bin/bash
# Power cuts must not lock a device out. An unclean TPM restart counts as a
# dictionary-attack failure when a DA-protected key was used since the last
# orderly shutdown; the SRK therefore has noDA, as do sealed objects without
# a PIN. swtpm locks out after 3 failures, so 6 cuts would brick a device
# that got this wrong (measured: it did, before the SRK had noDA).
. "$(dirname "$0")/../lib/common.sh"
swtpm_start || fail "swtpm"
mkimg "$WORK/img"
expect 0 "enroll" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 16 --unsafe-pcrs

counter() {
	tpm2_getcap properties-variable | sed -n 's/^TPM2_PT_LOCKOUT_COUNTER: //p'
}
for cut in 1 2 3 4 5 6; do
	expect 0 "unlock before power cut $cut" "$SEALINIT" unlock "$WORK/img" --test
	swtpm_restart || fail "swtpm restart"   # SIGTERM: no TPM2_Shutdown, like a power cut
	[ "$(counter)" = 0x0 ] || fail "lockout counter is $(counter) after $cut power cuts"
done
expect 0 "unlock after 6 power cuts" "$SEALINIT" unlock "$WORK/img" --test

# The SRK and the sealed object both carry noDA.
tpm2_readpublic -c 0x81000001 | grep -q noda || fail "SRK lacks noDA"
echo ok
