#!/bin/bash
# The SRK is created once, persisted at 0x81000001 and reused; the unlock
# path issues no CreatePrimary and at most 8 TPM commands; a substituted or
# missing SRK is refused with its own exit code.
. "$(dirname "$0")/../lib/common.sh"
swtpm_start || fail "swtpm"
mkimg "$WORK/a"
mkimg "$WORK/b"
proxy_start "$WORK/tpm.log"

expect 0 "first enroll" "$SEALINIT" enroll "$WORK/a" --key-file "$WORK/pass" --pcrs 16 --unsafe-pcrs --tcti "$PROXY_TCTI"
expect_msg "created the storage key"
[ "$(commands "$WORK/tpm.log" | grep -c '^CreatePrimary$')" = 1 ] || fail "first enroll: CreatePrimary count"
[ "$(commands "$WORK/tpm.log" | grep -c '^EvictControl$')" = 1 ] || fail "first enroll: EvictControl count"
# The sealed secret crosses the bus encrypted (command parameter encryption).
grep '^Create ' "$WORK/tpm.log" | grep -q 'dec' || fail "Create parameter not encrypted: $(grep '^Create ' "$WORK/tpm.log")"
name1=$(tpm2_readpublic -c 0x81000001 2>/dev/null | sed -n 's/^name: //p')
[ -n "$name1" ] || fail "no SRK at 0x81000001"

: > "$WORK/tpm.log"
expect 0 "second enroll" "$SEALINIT" enroll "$WORK/b" --key-file "$WORK/pass" --pcrs 16 --unsafe-pcrs --tcti "$PROXY_TCTI"
case "$OUT" in *"created the storage key"*) fail "second enroll created another SRK" ;; esac
commands "$WORK/tpm.log" | grep -qE '^(CreatePrimary|EvictControl)$' && fail "second enroll re-created the SRK"
[ "$(tpm2_getcap handles-persistent | grep -c 0x)" = 1 ] || fail "persistent handles: $(tpm2_getcap handles-persistent)"
name2=$(tpm2_readpublic -c 0x81000001 2>/dev/null | sed -n 's/^name: //p')
[ "$name1" = "$name2" ] || fail "SRK changed: $name1 -> $name2"

: > "$WORK/tpm.log"
expect 0 "unlock" "$SEALINIT" unlock "$WORK/a" --test --tcti "$PROXY_TCTI"
cmds=$(commands "$WORK/tpm.log")
n=$(echo "$cmds" | grep -c .)
echo "unlock issued $n TPM commands:" $cmds
commands "$WORK/tpm.log" | grep -q '^CreatePrimary$' && fail "unlock issued CreatePrimary"
[ "$n" -le 8 ] || fail "unlock issued $n TPM commands (goal <= 8): $cmds"
echo "$cmds" | grep -q '^Unseal$' || fail "no Unseal seen: $cmds"
# Unseal runs in a session with an encrypted response (bus sniffing).
grep '^Unseal ' "$WORK/tpm.log" | grep -q 'enc' || fail "Unseal response not encrypted: $(grep '^Unseal ' "$WORK/tpm.log")"
proxy_stop

# Substituted SRK: a different key at 0x81000001 is refused (exit 10).
tpm2_evictcontrol -C o -c 0x81000001 >/dev/null || fail "evict"
tpm2_createprimary -C o -G rsa2048 -c "$WORK/other.ctx" >/dev/null || fail "createprimary"
tpm2_evictcontrol -C o -c "$WORK/other.ctx" 0x81000001 >/dev/null || fail "persist other"
expect 10 "unlock with a substituted SRK" "$SEALINIT" unlock "$WORK/a" --test
expect_msg "not the one this volume was enrolled with"

# Missing SRK (TPM cleared): exit 10 with its own message.
tpm2_clear >/dev/null || fail "clear"
expect 10 "unlock after TPM clear" "$SEALINIT" unlock "$WORK/a" --test
expect_msg "no storage key"
echo ok
