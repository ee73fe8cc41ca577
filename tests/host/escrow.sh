#!/bin/bash
# SPDX-License-Identifier: MIT
# The recovery key's escrow with real keys and a real volume: a recovery key
# enrolled on a LUKS2 image is sealed to a fleet escrow key made by
# OpenSSL (what provisioning does: si_escrow_seal, si_escrow_write, through
# the escrow_seal driver), into a 0600 file that holds no plaintext.
# OpenSSL's own RSA-OAEP-256 decryption opens the ciphertext (it is the
# standard scheme, nothing of ours), and `sealinit escrow-open' gives the
# key, which cryptsetup takes for the volume. Refused, each named: another
# escrow key, a document edited to name another volume, a flipped
# ciphertext, an EC escrow key, a 1024-bit one, an Ed25519 private key.
# An escrow medium of several devices' documents (the boot's slots): the
# latest document of the volume named opens; a cut slot is named and
# skipped; without a UUID, several volumes are listed and no key printed.
. "$(dirname "$0")/../lib/common.sh"
need_driver escrow_seal
command -v openssl >/dev/null || skip "no openssl"
K=$WORK/keys
mkdir "$K" "$WORK/escrow"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$K/fleet.pem" 2>/dev/null &&
	openssl pkey -in "$K/fleet.pem" -pubout -out "$K/fleet.pub" &&
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$K/other.pem" 2>/dev/null &&
	openssl pkey -in "$K/other.pem" -pubout -out "$K/other.pub" &&
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$K/small.pem" 2>/dev/null &&
	openssl pkey -in "$K/small.pem" -pubout -out "$K/small.pub" &&
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$K/ec.pem" &&
	openssl pkey -in "$K/ec.pem" -pubout -out "$K/ec.pub" &&
	openssl genpkey -algorithm ed25519 -out "$K/ed.pem" || fail "openssl genpkey"

mkimg "$WORK/img"
expect 0 "enroll --recovery" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --recovery
KEY=$(grep -oE '^  [cbdefghijklnrtuv]{8}(-[cbdefghijklnrtuv]{8}){7}$' <<<"$OUT" | tr -d ' ')
VID=$(grep -oE 'Volume key id for [^ ]*: [0-9a-f]{64}' <<<"$OUT" | grep -oE '[0-9a-f]{64}$')
[ ${#KEY} = 71 ] && [ ${#VID} = 64 ] || fail "enroll --recovery printed no key or id: $OUT"
UUID=$(cryptsetup luksUUID "$WORK/img")

# Seal and write, as provisioning does.
OUT=$(printf '%s\n' "$KEY" | "$DRIVER" "$K/fleet.pub" "$UUID" "$VID" "$WORK/escrow" 2>&1) ||
	fail "escrow_seal: $OUT"
DOC=$WORK/escrow/sealinit-escrow-$UUID.json
[ "$OUT" = "$DOC" ] || fail "escrow_seal wrote \`$OUT', expected \`$DOC'"
[ "$(stat -c %a "$DOC")" = 600 ] || fail "the document is mode $(stat -c %a "$DOC"), not 0600"
[ "$(ls -A "$WORK/escrow" | wc -l)" = 1 ] || fail "files beside the document: $(ls -A "$WORK/escrow")"
grep -q "${KEY:0:8}" "$DOC" && fail "the document holds a piece of the key"
grep -q "${KEY//-/}" "$DOC" && fail "the document holds the key"
python3 - "$DOC" "$UUID" "$VID" "$K/fleet.pub" <<'PY' || fail "the document's fields"
import base64, hashlib, json, subprocess, sys
doc = json.load(open(sys.argv[1]))
assert sorted(doc) == sorted(["type", "version", "uuid", "volume_id", "key_fp", "alg", "ciphertext"]), doc
assert doc["type"] == "sealinit-escrow" and doc["version"] == 1 and doc["alg"] == "RSA-OAEP-256", doc
assert doc["uuid"] == sys.argv[2] and doc["volume_id"] == sys.argv[3], doc
der = subprocess.run(["openssl", "pkey", "-pubin", "-in", sys.argv[4], "-outform", "DER"],
                     capture_output=True, check=True).stdout
assert doc["key_fp"] == hashlib.sha256(der).hexdigest(), (doc["key_fp"], "not sha256(SPKI DER)")
assert len(base64.b64decode(doc["ciphertext"], validate=True)) == 384
PY

# OpenSSL opens it with the standard scheme: RSA-OAEP, SHA-256, MGF1-SHA-256.
python3 -c 'import base64,json,sys; sys.stdout.buffer.write(base64.b64decode(json.load(open(sys.argv[1]))["ciphertext"]))' \
	"$DOC" >"$WORK/ct" || fail "ciphertext"
openssl pkeyutl -decrypt -inkey "$K/fleet.pem" -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 \
	-in "$WORK/ct" -out "$WORK/plain" || fail "openssl pkeyutl -decrypt (oaep, sha256) refused the ciphertext"
printf '%s\n%s\n%s\n' "$KEY" "$UUID" "$VID" | cmp -s - "$WORK/plain" ||
	fail "openssl decrypted something else: $(od -c "$WORK/plain" | head -3)"
# Control: the same ciphertext is not PKCS#1 v1.5, nor OAEP with SHA-1.
openssl pkeyutl -decrypt -inkey "$K/fleet.pem" -in "$WORK/ct" -out /dev/null 2>/dev/null &&
	fail "the ciphertext opened as PKCS#1 v1.5"
openssl pkeyutl -decrypt -inkey "$K/fleet.pem" -pkeyopt rsa_padding_mode:oaep -in "$WORK/ct" \
	-out /dev/null 2>/dev/null && fail "the ciphertext opened as OAEP with SHA-1"

# escrow-open: the key on stdout, the volume on stderr; cryptsetup takes it.
"$SEALINIT" escrow-open --key "$K/fleet.pem" "$DOC" >"$WORK/out" 2>"$WORK/err" ||
	fail "escrow-open: $(cat "$WORK/err")"
[ "$(cat "$WORK/out")" = "$KEY" ] || fail "escrow-open printed \`$(cat "$WORK/out")', not the key"
grep -qx "uuid $UUID volume_id $VID" "$WORK/err" || fail "escrow-open's stderr: $(cat "$WORK/err")"
printf '%s' "$(cat "$WORK/out")" | cryptsetup open --test-passphrase --key-file - "$WORK/img" ||
	fail "cryptsetup does not open the volume with the escrowed key"

# Attacks, each refused and named, nothing on stdout.
refused() {
	local what=$1 named=$2
	shift 2
	"$SEALINIT" escrow-open "$@" >"$WORK/out" 2>"$WORK/err" && fail "$what: escrow-open succeeded"
	[ -s "$WORK/out" ] && fail "$what: something on stdout: $(cat "$WORK/out")"
	grep -qF -- "$named" "$WORK/err" || fail "$what: expected \`$named', got: $(cat "$WORK/err")"
}
refused "another escrow key" "key_fp" --key "$K/other.pem" "$DOC"
OTHER_UUID=$(python3 -c 'import uuid; print(uuid.uuid4())')
sed "s/$UUID/$OTHER_UUID/" "$DOC" >"$WORK/moved.json"
refused "a document naming another volume" "uuid \`$OTHER_UUID' is not the sealed one" --key "$K/fleet.pem" "$WORK/moved.json"
python3 - "$DOC" "$WORK/flipped.json" <<'PY' || fail "flip"
import base64, json, sys
doc = json.load(open(sys.argv[1]))
ct = bytearray(base64.b64decode(doc["ciphertext"]))
ct[100] ^= 0x80
doc["ciphertext"] = base64.b64encode(bytes(ct)).decode()
open(sys.argv[2], "w").write(json.dumps(doc, separators=(",", ":")) + "\n")
PY
refused "a flipped ciphertext" "ciphertext does not decrypt" --key "$K/fleet.pem" "$WORK/flipped.json"
refused "an Ed25519 private key" "key type Ed25519" --key "$K/ed.pem" "$DOC"
refused "no --key" "--key PRIVATE.pem is needed" "$DOC"
# Control beside them: the genuine document still opens.
expect 0 "escrow-open (control)" "$SEALINIT" escrow-open --key "$K/fleet.pem" "$DOC"

# An escrow medium, as the boot writes it (boot/fleet.h): one document per
# 4 KiB slot, zero-padded, in order, the first empty slot the end. Here:
# an older document for this volume (a provisioning that never landed),
# another volume's, a slot cut short by a power cut, the volume's latest,
# and one for this volume sealed to another escrow key. The latest
# document sealed to this key opens; the others are not returned.
mkimg "$WORK/img2"
expect 0 "enroll --recovery (second volume)" "$SEALINIT" enroll "$WORK/img2" --key-file "$WORK/pass" --recovery
KEY2=$(grep -oE '^  [cbdefghijklnrtuv]{8}(-[cbdefghijklnrtuv]{8}){7}$' <<<"$OUT" | tr -d ' ')
UUID2=$(cryptsetup luksUUID "$WORK/img2")
OLD=vvvvvvvv-cccccccc-bbbbbbbb-dddddddd-eeeeeeee-ffffffff-gggggggg-hhhhhhhh
seal_to() { # seal_to PUB KEY UUID OUT
	mkdir -p "$WORK/s"
	printf '%s\n' "$2" | "$DRIVER" "$1" "$3" "$VID" "$WORK/s" >/dev/null || fail "escrow_seal $3"
	mv "$WORK/s/sealinit-escrow-$3.json" "$4"
}
seal_to "$K/fleet.pub" "$OLD" "$UUID" "$WORK/d-old"
seal_to "$K/fleet.pub" "$KEY2" "$UUID2" "$WORK/d-2"
seal_to "$K/other.pub" "$OLD" "$UUID" "$WORK/d-other"
head -c 300 "$DOC" >"$WORK/d-cut"
python3 - "$WORK/medium" "$WORK/d-old" "$WORK/d-2" "$WORK/d-cut" "$DOC" "$WORK/d-other" <<'PY' || fail "medium"
import sys
with open(sys.argv[1], "wb") as m:
    for p in sys.argv[2:]:
        d = open(p, "rb").read()
        m.write(d + b"\0" * (4096 - len(d)))
    m.write(b"\0" * 4096 * 4)
PY
"$SEALINIT" escrow-open --key "$K/fleet.pem" "$WORK/medium" "$UUID" >"$WORK/out" 2>"$WORK/err" ||
	fail "escrow-open on the medium: $(cat "$WORK/err")"
[ "$(cat "$WORK/out")" = "$KEY" ] || fail "the medium gave \`$(cat "$WORK/out")', not the latest key"
grep -q "slot 2 skipped: escrow: not one JSON object" "$WORK/err" || fail "the cut slot not named: $(cat "$WORK/err")"
expect 0 "escrow-open, the medium, the second volume" "$SEALINIT" escrow-open --key "$K/fleet.pem" \
	"$WORK/medium" "$UUID2"
expect_msg "$KEY2"
expect 2 "escrow-open, the medium, no UUID" "$SEALINIT" escrow-open --key "$K/fleet.pem" "$WORK/medium"
expect_msg "several volumes; name one"
expect_msg "$UUID2"
case "$OUT" in *"$KEY"*|*"$KEY2"*) fail "a key printed without a UUID chosen: $OUT" ;; esac
expect 1 "escrow-open, the medium, another volume" "$SEALINIT" escrow-open --key "$K/fleet.pem" \
	"$WORK/medium" 00000000-0000-0000-0000-000000000000
expect_msg "no escrow document for 00000000-0000-0000-0000-000000000000 sealed to this key"
# The other key opens only its own document there.
"$SEALINIT" escrow-open --key "$K/other.pem" "$WORK/medium" >"$WORK/out" 2>/dev/null ||
	fail "escrow-open with the other key on the medium"
[ "$(cat "$WORK/out")" = "$OLD" ] || fail "the other key opened \`$(cat "$WORK/out")'"

# Escrow keys that are not RSA of 2048-4096 bits: refused by name, no file.
mkdir "$WORK/none"
for k in ec:"key type EC" small:"an RSA key of 1024 bits"; do
	OUT=$(printf '%s\n' "$KEY" | "$DRIVER" "$K/${k%%:*}.pub" "$UUID" "$VID" "$WORK/none" 2>&1) &&
		fail "sealed to $k"
	grep -qF "${k#*:}" <<<"$OUT" || fail "${k%%:*}: expected \`${k#*:}', got: $OUT"
done
[ -z "$(ls -A "$WORK/none")" ] || fail "a refused seal left files: $(ls -A "$WORK/none")"
echo "escrow: OpenSSL and escrow-open open the document and the medium; the attacks refused by name"
