#!/bin/bash
# The systemd direction, for real: systemd 254 (Debian bookworm-backports,
# unpacked privately, nothing installed) unseals a token that sealinit
# enrolled, through tpm2_srk and the persistent SRK. systemd-cryptsetup's
# built-in TPM2 path takes a TCTI (the token plugin insists on /dev/tpmrm0);
# only its final activation fails here, for lack of device-mapper.
. "$(dirname "$0")/../lib/common.sh"
root=$("$REPO/scripts/fetch-backports.sh" amd64 systemd libsystemd-shared 2>"$WORK/fetch.err") ||
	skip "systemd 254 from bookworm-backports is not reachable: $(tail -1 "$WORK/fetch.err")"
cs=$root/lib/systemd/systemd-cryptsetup
[ -x "$cs" ] || fail "no systemd-cryptsetup in $root"
export LD_LIBRARY_PATH=$root/usr/lib/x86_64-linux-gnu/systemd

swtpm_start || fail "swtpm"
mkimg "$WORK/img"
expect 0 "sealinit enroll" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 7+16 --unsafe-pcrs

attach() {
	run env SYSTEMD_LOG_LEVEL=debug timeout 60 "$cs" attach sealinit-compat "$WORK/img" - \
		"tpm2-device=swtpm:host=127.0.0.1\\,port=$SWTPM_PORT,headless=1"
	# It leaves a session loaded and swtpm has no resource manager.
	swtpm_restart || fail "swtpm restart"
}
attach
echo "$OUT" | grep -q 'Found existing SRK key to use' || fail "systemd 254 did not use tpm2_srk: $OUT"
echo "$OUT" | grep -q 'Completed TPM2 key unsealing' || fail "systemd 254 could not unseal sealinit's token: $OUT"
echo "$OUT" | grep -q 'Activating volume sealinit-compat \[keyslot 1\] using passphrase' ||
	fail "systemd 254 did not go on to keyslot 1: $OUT"

# And the policy binds for systemd too: after extending PCR 16, no unseal.
extend 16
run env SYSTEMD_LOG_LEVEL=debug timeout 60 "$cs" attach sealinit-compat "$WORK/img" - \
	"tpm2-device=swtpm:host=127.0.0.1\\,port=$SWTPM_PORT,headless=1"
echo "$OUT" | grep -q 'Completed TPM2 key unsealing' && fail "systemd 254 unsealed after PCR 16 changed"
echo ok
