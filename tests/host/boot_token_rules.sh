#!/bin/bash
# The boot opens only tokens the cap closes and whose storage key it can
# check. A token bound only to PCRs the boot does not cap (PCR 7,
# systemd-cryptenroll's default) stays unsealable by the booted system, so
# the boot skips it, by name; a token without tpm2_srk (systemd 252 writes
# none) unseals under an unchecked transient primary, so a locked-down boot
# skips it unless its configuration says tpm2_transient_primary=yes.
# Controls: 7+15 opens; the unpinned token opens with the key set and
# without lockdown; a token with tpm2_srk opens locked down. The driver
# asks as the boot stage does (BOOT_RULES=1, pcrs=15 and $BOOT_CONFIG).
# Last, the boot reads the hierarchy passwords after its cap: none on a
# fresh TPM, owner and lockout once root set them.
. "$(dirname "$0")/../lib/common.sh"
need_driver unlock_cap
command -v systemd-cryptenroll >/dev/null || skip "systemd-cryptenroll not installed"
command -v jq >/dev/null || skip "jq not installed"
swtpm_start || fail "swtpm"

# tpm_reboot: PCRs reset, sessions flushed. An orderly shutdown first: the
# systemd tokens are not noDA, and unclean restarts count as DA failures.
tpm_reboot() {
	tpm2_shutdown -c >/dev/null 2>&1
	swtpm_restart || fail "swtpm restart"
}

# cryptenroll IMG PCRS: a systemd-cryptenroll token (no tpm2_srk) on IMG.
# systemd 252 leaves its sessions loaded: tpm_reboot flushes them.
cryptenroll() {
	mkimg "$1"
	tpm_reboot
	run env PASSWORD="$PASSPHRASE" systemd-cryptenroll --tpm2-device="$SEALINIT_TCTI" --tpm2-pcrs="$2" "$1"
	[ "$RC" = 0 ] || fail "systemd-cryptenroll --tpm2-pcrs=$2: $OUT"
	cryptsetup token export --token-id 0 "$1" | jq -e 'has("tpm2_srk") | not' >/dev/null ||
		fail "expected a systemd 252 token without tpm2_srk"
}
# boot_rules IMG CONFIG PATTERN WHAT: the driver's answer must match PATTERN;
# a fresh boot (PCRs reset) before each, since an unlock caps PCR 15.
boot_rules() {
	tpm_reboot
	run env BOOT_RULES=1 BOOT_CONFIG="$2" "$DRIVER" "$1"
	# shellcheck disable=SC2254 # PATTERN is a glob on purpose
	case "$OUT" in $3) ;; *) fail "$4: got $OUT" ;; esac
}

cryptenroll "$WORK/pcr7" 7
cryptenroll "$WORK/pcr7+15" 7+15
cryptenroll "$WORK/pcr15" 15
mkimg "$WORK/ours"
expect 0 "sealinit enroll --pcrs 15" "$SEALINIT" enroll "$WORK/ours" --key-file "$WORK/pass" --pcrs 15
cryptsetup token export --token-id 0 "$WORK/ours" | jq -e 'has("tpm2_srk")' >/dev/null ||
	fail "sealinit's token has no tpm2_srk"

# Item: tokens the cap does not close.
boot_rules "$WORK/pcr7" "" \
	"r=8 capped=1 (token 0: \`tpm2-pcrs': PCRs 7: none of them is capped by the boot (pcrs=15), so the booted system could unseal this key again; refused at boot)" \
	"boot rules, PCR 7 token"
# The attack's premise: outside the boot's rules, the key does come out.
tpm_reboot
expect 0 "the CLI opens the PCR 7 token" "$SEALINIT" unlock "$WORK/pcr7" --test
expect 0 "after the boot's cap of 15, PCR 7 still opens it" "$SEALINIT" unlock "$WORK/pcr7" --test
boot_rules "$WORK/pcr7+15" "" "r=0 capped=1 ()" "boot rules, PCR 7+15 token (control)"

# Item: unpinned primaries.
boot_rules "$WORK/pcr15" "lockdown=yes" \
	"r=10 capped=1 (token 0: no \`tpm2_srk': *refused by a locked-down boot (tpm2_transient_primary=yes*)" \
	"locked down, token without tpm2_srk"
boot_rules "$WORK/pcr15" $'lockdown=yes\ntpm2_transient_primary=yes' "r=0 capped=1 ()" \
	"locked down with tpm2_transient_primary=yes (control)"
boot_rules "$WORK/pcr15" "" "r=0 capped=1 ()" "not locked down (control)"
boot_rules "$WORK/ours" "lockdown=yes" "r=0 capped=1 ()" "locked down, token with tpm2_srk (control)"

# Both rules in one header: the boot skips the refused token and opens
# with the next (token 0 on PCR 7, token 1 on 15 with tpm2_srk).
cp "$WORK/pcr7" "$WORK/both"
tpm_reboot
expect 0 "sealinit enroll --pcrs 15 beside the PCR 7 token" \
	"$SEALINIT" enroll "$WORK/both" --key-file "$WORK/pass" --pcrs 15
boot_rules "$WORK/both" "lockdown=yes" "r=0 capped=1 (token 0: \`tpm2-pcrs': PCRs 7: none of them is capped*)" \
	"PCR 7 token skipped by name, token 1 opens"

# The CLI under the boot's rules (`unlock --boot-rules', what a
# distribution's initramfs step runs): the same refusal by name, from the
# configuration file; without the option the CLI opens it (control above),
# and with it the PCR 7+15 token opens (control).
printf 'pcrs=15\n' >"$WORK/boot.conf"
tpm_reboot
expect 8 "unlock --boot-rules, PCR 7 token" "$SEALINIT" unlock "$WORK/pcr7" --test --boot-rules --config "$WORK/boot.conf"
expect_msg "none of them is capped by the boot (pcrs=15)"
expect_msg "refused at boot"
expect 0 "unlock --boot-rules, PCR 7+15 token (control)" "$SEALINIT" unlock "$WORK/pcr7+15" --test --boot-rules --config "$WORK/boot.conf"
expect_msg "Token 0 has no rollback counter"
printf 'pcrs=15\nlockdown=yes\n' >"$WORK/boot-locked.conf"
expect 10 "unlock --boot-rules locked down, token without tpm2_srk" "$SEALINIT" unlock "$WORK/pcr15" --test --boot-rules --config "$WORK/boot-locked.conf"
expect_msg "refused by a locked-down boot"
expect 2 "unlock --boot-rules with no configuration" "$SEALINIT" unlock "$WORK/ours" --test --boot-rules --config "$WORK/no-such.conf"
expect_msg "no-such.conf"
echo "ok: unlock --boot-rules refuses what the boot refuses, by name"

# A hierarchy password that appeared (root after a container escape runs
# tpm2_changeauth): the boot reads it after the cap and reports it. The
# control is the same TPM before the change, which reads none.
tpm_reboot
run env BOOT_RULES=1 SHOW_AUTH=1 "$DRIVER" "$WORK/ours"
case "$OUT" in "r=0 capped=1 ()"*"auth=none"*) ;; *) fail "fresh TPM: want auth=none, got $OUT" ;; esac
tpm2_changeauth -c owner ownerpw >/dev/null && tpm2_changeauth -c lockout lockoutpw >/dev/null ||
	fail "tpm2_changeauth"
tpm_reboot
run env BOOT_RULES=1 SHOW_AUTH=1 "$DRIVER" "$WORK/ours"
case "$OUT" in "r=0 capped=1 ()"*"auth=owner lockout"*) ;; *) fail "owner and lockout passwords set: want them named, got $OUT" ;; esac
echo ok
