#!/bin/bash
# PIN tokens: right PIN works, wrong PIN fails, no PIN is its own error,
# and DA lockout is reported as lockout.
. "$(dirname "$0")/../lib/common.sh"
swtpm_start || fail "swtpm"
mkimg "$WORK/img"
echo 2468 > "$WORK/pin"
echo 1357 > "$WORK/wrong"

expect 0 "enroll --pin" bash -c "'$SEALINIT' enroll '$WORK/img' --key-file '$WORK/pass' --pcrs 16 --unsafe-pcrs --pin < '$WORK/pin'"
expect_msg "with PIN"
[ "$(cryptsetup token export --token-id 0 "$WORK/img" | jq '."tpm2-pin"')" = true ] || fail "tpm2-pin not true"

expect 0 "right PIN" bash -c "'$SEALINIT' unlock '$WORK/img' --test < '$WORK/pin'"
expect 6 "wrong PIN" bash -c "'$SEALINIT' unlock '$WORK/img' --test < '$WORK/wrong'"
expect_msg "wrong PIN"
expect 15 "no PIN" bash -c "'$SEALINIT' unlock '$WORK/img' --test < /dev/null"
expect_msg "PIN"

# Lockout: allow 2 failures, then the TPM refuses; sealinit says so.
tpm2_dictionarylockout --setup-parameters --max-tries=2 --recovery-time=600 \
	--lockout-recovery-time=600 --clear-lockout >/dev/null || fail "dictionarylockout"
run bash -c "'$SEALINIT' unlock '$WORK/img' --test < '$WORK/wrong'"
run bash -c "'$SEALINIT' unlock '$WORK/img' --test < '$WORK/wrong'"
expect 5 "after max-tries wrong PINs" bash -c "'$SEALINIT' unlock '$WORK/img' --test < '$WORK/pin'"
expect_msg "lockout"
tpm2_dictionarylockout --clear-lockout >/dev/null || fail "clear lockout"
expect 0 "right PIN after clearing lockout" bash -c "'$SEALINIT' unlock '$WORK/img' --test < '$WORK/pin'"
echo ok
