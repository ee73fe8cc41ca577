#!/bin/bash
# SPDX-License-Identifier: MIT
# A token must bind a PCR the boot caps (the configuration's pcrs=), or the
# booted system unseals it again after the cap: systemd-cryptenroll's
# default, PCR 7 alone, is such a token. enroll, migrate and reseal refuse
# it by name and change nothing; --uncapped-pcrs enrolls it (the control
# that the refusal is the check's), and a set with a capped PCR (7+15)
# enrolls without it.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/bootlog.sh"
swtpm_start || fail "swtpm"
CMDLINE="console=ttyS0 root=/dev/vda"
boot_conf "$WORK/boot.conf" 15 "cmdline=$CMDLINE"
C=(--config "$WORK/boot.conf")
hdr() { head -c 16M "$1" | sha256sum; }

# enroll
mkimg "$WORK/img"
h0=$(hdr "$WORK/img")
expect 1 "enroll --pcrs 7" "$SEALINIT" enroll "$WORK/img" "${C[@]}" --key-file "$WORK/pass" --pcrs 7
expect_msg "PCRs 7: none of them is capped by the boot (pcrs=15)"
expect_msg "--uncapped-pcrs"
[ "$h0" = "$(hdr "$WORK/img")" ] || fail "a refused enroll changed the header"
# A signed policy on PCR 7 alone is no better.
command -v openssl >/dev/null || skip "openssl not installed"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/key.pem" 2>/dev/null &&
	openssl pkey -in "$WORK/key.pem" -pubout -out "$WORK/pub.pem" || fail "openssl genpkey"
expect 1 "enroll --public-key-pcrs 7" "$SEALINIT" enroll "$WORK/img" "${C[@]}" --key-file "$WORK/pass" \
	--public-key "$WORK/pub.pem" --public-key-pcrs 7
expect_msg "none of them is capped"
# Without --config: the build's default set (CONFIG_TPM2_DEFAULT_PCRS).
default=$(sed -n 's/^CONFIG_TPM2_DEFAULT_PCRS="\(.*\)"$/\1/p' "$REPO/.config" 2>/dev/null)
case "+${default:-15}+" in
*+7+*) ;;
*) expect 1 "enroll --pcrs 7, no configuration file" "$SEALINIT" enroll "$WORK/img" \
	--config /nonexistent --key-file "$WORK/pass" --pcrs 7 ;;
esac
expect 0 "enroll --pcrs 7 --uncapped-pcrs" "$SEALINIT" enroll "$WORK/img" "${C[@]}" --key-file "$WORK/pass" \
	--pcrs 7 --uncapped-pcrs
expect 0 "enroll --pcrs 7+15" "$SEALINIT" enroll "$WORK/img" "${C[@]}" --key-file "$WORK/pass" --pcrs 7+15
[ "$(cryptsetup luksDump "$WORK/img" | grep -c 'systemd-tpm2')" = 2 ] || fail "not two tokens"

# migrate (the key from a file; the values now: this test's boot measures nothing)
mkimg "$WORK/mig"
h0=$(hdr "$WORK/mig")
expect 1 "migrate --pcrs 7" "$SEALINIT" migrate "$WORK/mig" "${C[@]}" --key-file "$WORK/pass" --pcrs 7 --current
expect_msg "PCRs 7: none of them is capped by the boot (pcrs=15)"
[ "$h0" = "$(hdr "$WORK/mig")" ] || fail "a refused migrate changed the header (a journal?)"
expect 0 "migrate --pcrs 7 --uncapped-pcrs" "$SEALINIT" migrate "$WORK/mig" "${C[@]}" --key-file "$WORK/pass" \
	--pcrs 7 --current --uncapped-pcrs
mkimg "$WORK/mig2"
expect 0 "migrate --pcrs 7+15" "$SEALINIT" migrate "$WORK/mig2" "${C[@]}" --key-file "$WORK/pass" \
	--pcrs 7+15 --current

# reseal, on a booted system: its measurements, logged, and the cap.
mkimg "$WORK/res"
: >"$WORK/log"
boot "$WORK/log" "$WORK/boot.conf" "$CMDLINE" 15
h0=$(hdr "$WORK/res")
# Forced past the "fewer PCRs than pcrs=" check, the cap check still holds.
expect 1 "reseal --pcrs 7 --force" "$SEALINIT" reseal "$WORK/res" "${C[@]}" --key-file "$WORK/pass" \
	--event-log "$WORK/log" --pcrs 7 --force
expect_msg "PCRs 7: none of them is capped by the boot (pcrs=15)"
[ "$h0" = "$(hdr "$WORK/res")" ] || fail "a refused reseal changed the header"
expect 0 "reseal --pcrs 7 --force --uncapped-pcrs" "$SEALINIT" reseal "$WORK/res" "${C[@]}" \
	--key-file "$WORK/pass" --event-log "$WORK/log" --pcrs 7 --force --uncapped-pcrs
expect 0 "reseal --pcrs 7+15" "$SEALINIT" reseal "$WORK/res" "${C[@]}" --key-file "$WORK/pass" \
	--event-log "$WORK/log" --pcrs 7+15
expect_msg "literal, sha256 PCRs 7+15"
echo "PASS"
