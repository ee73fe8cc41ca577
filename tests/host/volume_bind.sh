#!/bin/bash
# The data volume bound to the enrolled one (docs/threat-model.md): an
# attacker with the disk makes a second LUKS2 volume that opens with the
# same passphrase and a TPM token that unseals here, even with the first
# one's UUID. Only its volume key differs. The pin (--fixate-volume-key,
# fixate_volume_key= at boot) refuses it before anything is activated, and
# the measurement (--tpm2-measure-pcr) extends what systemd extends. Every
# expected value is computed here, from the volume key that cryptsetup
# dumps, with OpenSSL and Python: not by sealinit.
. "$(dirname "$0")/../lib/common.sh"

passed=0 failed=0
check() {
	if [ "$1" = ok ]; then
		echo "PASS: $2"
		passed=$((passed + 1))
	else
		echo "FAIL: $2${3:+: $3}"
		failed=$((failed + 1))
	fi
}
# is CODE WHAT CMD...: like expect, but counts instead of stopping.
is() {
	local code=$1 what=$2
	shift 2
	run "$@"
	if [ "$RC" = "$code" ]; then check ok "$what"; else check no "$what" "exit $RC, expected $code: $OUT"; fi
}
says() {
	case "$OUT" in
	*"$1"*) check ok "$2" ;;
	*) check no "$2" "no \`$1' in: $OUT" ;;
	esac
}

# vkid IMG NAME: HMAC-SHA256(volume key, "cryptsetup:NAME:UUID"), as
# systemd's cryptsetup_get_volume_key_id() computes it.
vkhex() {
	cryptsetup luksDump -q --dump-volume-key --volume-key-file "$WORK/vk.$$" \
		--key-file "$WORK/pass" "$1" >/dev/null || fail "luksDump --dump-volume-key $1"
	od -An -v -tx1 "$WORK/vk.$$" | tr -d ' \n'
	rm -f "$WORK/vk.$$"
}
vkid() {
	printf '%s' "cryptsetup:$2:$(cryptsetup luksUUID "$1")" |
		openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(vkhex "$1")" | sed 's/.*= //'
}
head16() {
	head -c 16M "$1" | sha256sum | cut -d' ' -f1
}
pcr() {
	tpm2_pcrread "$1:$2" -o "$WORK/pcr.bin" >/dev/null || fail "pcrread $1:$2"
	od -An -v -tx1 "$WORK/pcr.bin" | tr -d ' \n'
}

swtpm_start || fail "swtpm"
mkimg "$WORK/a"
# The rogue volume: same passphrase, same UUID, its own volume key.
truncate -s 20M "$WORK/b"
cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	--uuid "$(cryptsetup luksUUID "$WORK/a")" "$WORK/b" "$WORK/pass" >/dev/null || fail "luksFormat b"

run "$SEALINIT" enroll "$WORK/a" --key-file "$WORK/pass" --pcrs 7
[ "$RC" = 0 ] || fail "enroll a: $OUT"
printed=$(printf '%s\n' "$OUT" | sed -n 's/^Volume key id for \/dev\/mapper\/sealdata: \([0-9a-f]*\)$/\1/p')
ida=$(vkid "$WORK/a" sealdata)
idb=$(vkid "$WORK/b" sealdata)
[ ${#ida} = 64 ] && [ "$ida" != "$idb" ] || fail "ids: a=$ida b=$idb"
if [ "$printed" = "$ida" ]; then check ok "enroll prints the id computed with OpenSSL"
else check no "enroll prints the id computed with OpenSSL" "printed \`$printed', expected $ida"; fi
case "$OUT" in *"fixate-volume-key=$ida"*) check ok "enroll names systemd's option" ;;
*) check no "enroll names systemd's option" "$OUT" ;; esac
run "$SEALINIT" enroll "$WORK/b" --key-file "$WORK/pass" --pcrs 7
[ "$RC" = 0 ] || fail "enroll b: $OUT"

# Control: the enrolled volume, pinned, opens.
is 0 "a, pinned to its own id, opens" "$SEALINIT" unlock "$WORK/a" --test --fixate-volume-key "$ida"
says "matches fixate-volume-key" "the pin was checked"
# Control: the rogue volume opens when nothing is pinned: the attack works
# without the defence, so the refusal below is the pin's doing.
is 0 "b, unpinned, opens (the attack without the defence)" "$SEALINIT" unlock "$WORK/b" --test

# The attack: b answers to the device, with a's id pinned.
before=$(head16 "$WORK/b")
is 29 "b, pinned to a's id, is refused" "$SEALINIT" unlock "$WORK/b" --test --fixate-volume-key "$ida"
says "is not the enrolled volume" "the refusal names the cause"
says "$idb" "the refusal shows the volume's id"
after=$(head16 "$WORK/b")
if [ "$before" = "$after" ]; then check ok "b's first 16 MiB are unchanged"
else check no "b's first 16 MiB are unchanged" "$before -> $after"; fi
# With a NAME, the refusal comes before activation: exit 29, not the
# activation's answer. Control: a, pinned, goes on to activate (exit 0
# where device-mapper works, 14 naming the activation where it does not).
ida_n=$(vkid "$WORK/a" sealbind-$$)
is 29 "b, pinned to a's id, is refused before activation" "$SEALINIT" unlock "$WORK/b" \
	sealbind-$$ --fixate-volume-key "$ida_n"
run "$SEALINIT" unlock "$WORK/a" sealbind-$$ --fixate-volume-key "$ida_n"
if [ "$RC" = 0 ]; then
	cryptsetup close sealbind-$$ || fail "cryptsetup close sealbind-$$"
	check ok "a, pinned, is activated"
elif [ "$RC" = 14 ] && case "$OUT" in *"activating \`$WORK/a' as \`sealbind-$$'"*) true ;; *) false ;; esac; then
	check ok "a, pinned, reaches activation (no device-mapper here)"
else
	check no "a, pinned, reaches activation" "exit $RC: $OUT"
fi
# The other way: a, pinned to another volume's id.
before=$(head16 "$WORK/a")
is 29 "a, pinned to b's id, is refused" "$SEALINIT" unlock "$WORK/a" --test --fixate-volume-key "$idb"
[ "$before" = "$(head16 "$WORK/a")" ] && check ok "a's first 16 MiB are unchanged" ||
	check no "a's first 16 MiB are unchanged"
# The name is bound too, as in systemd: a's id is for /dev/mapper/sealdata.
is 29 "a's id does not hold for another name" "$SEALINIT" unlock "$WORK/a" --test --name other \
	--fixate-volume-key "$ida"
is 0 "a's id for that name holds" "$SEALINIT" unlock "$WORK/a" --test --name other \
	--fixate-volume-key "$(vkid "$WORK/a" other)"
# systemd compares lower-case hex: an upper-case pin is refused up front.
is 2 "an upper-case pin is a usage error" "$SEALINIT" unlock "$WORK/a" --test \
	--fixate-volume-key "$(echo "$ida" | tr a-f A-F)"

# The measurement: each bank extended with HMAC_bank(volume key, prefix),
# predicted here from the old values and the dumped key.
prefix="cryptsetup:sealdata:$(cryptsetup luksUUID "$WORK/a")"
vk=$(vkhex "$WORK/a")
declare -A old
for b in sha1 sha256 sha384 sha512; do old[$b]=$(pcr $b 15); done
# Refused volumes are not measured.
is 29 "b, refused, with the measurement asked for" "$SEALINIT" unlock "$WORK/b" --test \
	--fixate-volume-key "$ida" --tpm2-measure-pcr 15
[ "$(pcr sha256 15)" = "${old[sha256]}" ] && check ok "a refused volume leaves PCR 15 alone" ||
	check no "a refused volume leaves PCR 15 alone"
is 0 "a, pinned, measured into PCR 15" "$SEALINIT" unlock "$WORK/a" --test \
	--fixate-volume-key "$ida" --tpm2-measure-pcr 15
says "Measured $prefix into PCR 15 (sha256 $ida)" "the measurement is reported"
for b in sha1 sha256 sha384 sha512; do
	want=$(/usr/bin/python3 -c 'import hashlib, hmac, sys
b, old, vk, prefix = sys.argv[1:]
mac = hmac.new(bytes.fromhex(vk), prefix.encode(), b).digest()
print(hashlib.new(b, bytes.fromhex(old) + mac).hexdigest())' "$b" "${old[$b]}" "$vk" "$prefix")
	got=$(pcr $b 15)
	if [ "$got" = "$want" ]; then check ok "PCR 15 $b is the predicted extend"
	else check no "PCR 15 $b is the predicted extend" "got $got, expected $want"; fi
done
# Negative control of the prediction: b's key would have given another value.
wrong=$(/usr/bin/python3 -c 'import hashlib, hmac, sys
old, vk, prefix = sys.argv[1:]
print(hashlib.sha256(bytes.fromhex(old) + hmac.new(bytes.fromhex(vk), prefix.encode(), "sha256").digest()).hexdigest())' \
	"${old[sha256]}" "$(vkhex "$WORK/b")" "$prefix")
[ "$wrong" != "$(pcr sha256 15)" ] && check ok "another volume's key predicts another PCR" ||
	check no "another volume's key predicts another PCR"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
