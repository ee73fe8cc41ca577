#!/bin/bash
# si_unlock caps on every path it returns by, as unlock.h promises: also
# when the header never loaded (it returned before the cap once). The
# positive control caps after a good unlock; keep-on-failure shows the cap
# comes from the unlock and from nothing else.
. "$(dirname "$0")/../lib/common.sh"
need_driver unlock_cap
swtpm_start || fail "swtpm"
mkimg "$WORK/img"
expect 0 "enroll" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 15
head -c 1M /dev/zero > "$WORK/notluks"

pcr15() { "$SEALINIT" pcrread --pcrs 15; }

# Positive control: a good unlock, then the cap; unsealing again fails.
before=$(pcr15)
run "$DRIVER" "$WORK/img"
[ "$OUT" = "r=0 capped=1 ()" ] || fail "good unlock: $OUT"
[ "$(pcr15)" != "$before" ] || fail "good unlock: PCR 15 unchanged"
expect 4 "unseal after the cap" "$SEALINIT" unlock "$WORK/img" --test

# The header does not load: the cap still happens.
swtpm_restart || fail "swtpm restart"
before=$(pcr15)
run "$DRIVER" "$WORK/notluks"
case "$OUT" in "r=9 capped=1 "*) ;; *) fail "not LUKS: want r=9 capped=1, got $OUT" ;; esac
[ "$(pcr15)" != "$before" ] || fail "not LUKS: PCR 15 was not capped"

# No file at all: the same.
swtpm_restart || fail "swtpm restart"
before=$(pcr15)
run "$DRIVER" "$WORK/missing"
case "$OUT" in *"capped=1 "*) ;; *) fail "missing device: want capped=1, got $OUT" ;; esac
[ "$(pcr15)" != "$before" ] || fail "missing device: PCR 15 was not capped"

# keep-on-failure: no cap on the failed path, and the PCR is untouched.
swtpm_restart || fail "swtpm restart"
before=$(pcr15)
run "$DRIVER" "$WORK/notluks" keep-on-failure
case "$OUT" in "r=9 capped=0 "*) ;; *) fail "keep-on-failure: want r=9 capped=0, got $OUT" ;; esac
[ "$(pcr15)" = "$before" ] || fail "keep-on-failure: PCR 15 changed"
expect 0 "unseal still works after keep-on-failure" "$SEALINIT" unlock "$WORK/img" --test
echo ok
