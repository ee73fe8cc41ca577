#!/bin/bash
# measure/cap/pcrread: values computed independently (Python hashlib) from
# TPM2_PCR_Event's definition: PCR' = H(PCR || H(data)) in every bank.
. "$(dirname "$0")/../lib/common.sh"
swtpm_start || fail "swtpm"

expect 0 "measure string" "$SEALINIT" measure --pcr 15 --string "rootfs:abc"
want=$(/usr/bin/python3 -c '
import hashlib
d = hashlib.sha256(b"rootfs:abc").digest()
print(hashlib.sha256(bytes(32) + d).hexdigest())')
expect 0 "pcrread" "$SEALINIT" pcrread --pcrs 15
[ "$OUT" = "sha256:15 $want" ] || fail "after measure: got '$OUT', want sha256:15 $want"

# The sha1 bank got the same event.
want1=$(/usr/bin/python3 -c '
import hashlib
d = hashlib.sha1(b"rootfs:abc").digest()
print(hashlib.sha1(bytes(20) + d).hexdigest())')
expect 0 "pcrread sha1" "$SEALINIT" pcrread --pcrs 15 --bank sha1
[ "$OUT" = "sha1:15 $want1" ] || fail "sha1 bank: got '$OUT', want sha1:15 $want1"

printf 'image' > "$WORK/f"
expect 0 "measure file" "$SEALINIT" measure --pcr 14 --file "$WORK/f"
want=$(/usr/bin/python3 -c '
import hashlib
d = hashlib.sha256(hashlib.sha256(b"image").digest()).digest()
print(hashlib.sha256(bytes(32) + d).hexdigest())')
expect 0 "pcrread 14" "$SEALINIT" pcrread --pcrs 14
[ "$OUT" = "sha256:14 $want" ] || fail "after measure --file: got '$OUT'"

expect 0 "cap" "$SEALINIT" cap --pcrs 14+15
expect 0 "pcrread after cap" "$SEALINIT" pcrread --pcrs 14,15
echo "$OUT" | grep -q "$want" && fail "cap did not change PCR 14"
expect 2 "measure without data" "$SEALINIT" measure --pcr 15
expect 2 "measure bad pcr" "$SEALINIT" measure --pcr 24 --string x
expect_msg "Invalid --pcr: \`24'"
expect 2 "pcrread bad bank" "$SEALINIT" pcrread --bank md5
echo ok
