#!/bin/bash
# First-boot provisioning (sealinit provision, core/provision.c).
#  1. The control: a blank image becomes a LUKS2 volume the TPM opens (a
#     literal PCR policy, and a signed one with the rollback counter), the
#     recovery key printed by --show-recovery-key opens it too, the
#     builder's keyslot is gone, the header file is gone.
#  2. The attack (formatting over data) fails: an image with ext4, LUKS2,
#     LUKS1, a LUKS2 volume whose primary header was wiped, a GPT, swap,
#     xfs, btrfs, one non-zero byte at 8 MiB, a forged copy marker beside
#     data, is refused by name and its sha256 is unchanged. So is a
#     provisioning that fails before the copy (no recovery key destination,
#     no device-mapper).
#  3. Power cuts: the process is SIGKILLed (strace inject) at every write
#     and every fsync it makes to the image. After each kill the image is
#     blank or a cut copy (--check-blank, exit 0, nothing written by the
#     check) and a rerun provisions it, or it is a complete volume the TPM
#     opens and a rerun says it is not blank. Torn sectors beyond what a
#     process kill leaves: a torn secondary header provisions again; a torn
#     primary opens from the secondary.
#  4. With device-mapper only (skipped here otherwise, saying so): --mkfs
#     makes a file system e2fsck accepts; an mkfs killed mid-way leaves the
#     image as it was and no mapping behind.
. "$(dirname "$0")/../lib/common.sh"
command -v strace >/dev/null || skip "strace not installed"
command -v openssl >/dev/null || skip "openssl not installed"
swtpm_start || fail "swtpm"
printf 'pcrs=7+15\n' >"$WORK/boot.conf"
W=$WORK/w   # the workdir: the header file must not outlive a run
mkdir -p "$W"
IMG=$WORK/img

prov() { "$SEALINIT" provision --config "$WORK/boot.conf" --pcrs 7 --workdir "$W" "$@"; }
blank() { rm -f "$1"; truncate -s "${2:-48M}" "$1"; }
tpm_opens() { "$SEALINIT" unlock --test "$1" >/dev/null 2>&1; }
key_opens() { printf '%s' "$2" | cryptsetup open --test-passphrase --key-file - "$1" 2>/dev/null; }
workdir_empty() { [ -z "$(ls -A "$W")" ] || fail "$1: the workdir keeps $(ls -A "$W")"; }

# --- 1. the control ---------------------------------------------------------
blank "$IMG"
expect 0 "check-blank on a blank image" "$SEALINIT" provision --check-blank "$IMG"
expect_msg "is blank"
"$SEALINIT" provision --config "$WORK/boot.conf" --pcrs 7 --workdir "$W" --show-recovery-key \
	"$IMG" >"$WORK/rk" 2>"$WORK/err" || fail "provision: $(cat "$WORK/err")"
grep -q "building the LUKS2 header" "$WORK/err" || fail "no progress on stderr: $(cat "$WORK/err")"
RK=$(cat "$WORK/rk")
[[ $RK =~ ^([cbdefghijklnrtuv]{8}-){7}[cbdefghijklnrtuv]{8}$ ]] ||
	fail "stdout is not exactly the recovery key: $RK"
grep -q "$RK" "$WORK/err" && fail "the recovery key reached stderr"
workdir_empty "provision"
tpm_opens "$IMG" || fail "the TPM does not open the provisioned volume"
key_opens "$IMG" "$RK" || fail "the recovery key does not open the provisioned volume"
key_opens "$IMG" "wrong-key" && fail "a wrong key opens the volume: the key test tests nothing"
dump=$(cryptsetup luksDump --dump-json-metadata "$IMG")
echo "$dump" | jq -e '(.keyslots | keys) == ["0","1"]' >/dev/null ||
	fail "keyslots other than the TPM's and the recovery key's: $(echo "$dump" | jq -c '.keyslots | keys')"
echo "$dump" | jq -e '[.tokens[] | select(.type == "systemd-tpm2") | .keyslots[]] == ["0"]' >/dev/null ||
	fail "the TPM token is not keyslot 0's: $(echo "$dump" | jq -c '.tokens')"
echo "$dump" | jq -e '[.tokens[].type] | sort == ["systemd-recovery","systemd-tpm2"]' >/dev/null ||
	fail "tokens: $(echo "$dump" | jq -c '[.tokens[].type]')"
echo "$dump" | jq -e '.segments["0"].offset == "16777216" and .config.json_size == "12288"' >/dev/null ||
	fail "layout: $(echo "$dump" | jq -c '{s: .segments, c: .config}')"
# The copy's marker is gone: the volume's last header sector is zero again.
[ "$(dd if="$IMG" bs=512 skip=$((32768 - 1)) count=1 2>/dev/null | tr -d '\0' | wc -c)" = 0 ] ||
	fail "the copy's marker is still on the volume"
h=$(digest "$IMG")
expect 35 "provision over the volume just made" prov --show-recovery-key "$IMG"
expect_msg "crypto_LUKS"
[ "$h" = "$(digest "$IMG")" ] || fail "a refused provision changed the volume"
echo "ok: provision (literal PCR 7), TPM and recovery key open it"

# Signed policy with the rollback counter, as the fleet enrolls.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/key.pem" 2>/dev/null &&
	openssl pkey -in "$WORK/key.pem" -pubout -out "$WORK/pub.pem" || fail "openssl genpkey"
blank "$IMG"
expect 0 "provision, signed policy + counter" "$SEALINIT" provision --config "$WORK/boot.conf" \
	--workdir "$W" --public-key "$WORK/pub.pem" --public-key-pcrs 15 --counter --show-recovery-key "$IMG"
expect_msg "rollback counter: NV index"
v=$(printf '%s\n' "$OUT" | sed -n 's/.*rollback counter: NV index [^,]*, value \([0-9]*\).*/\1/p')
[ -n "$v" ] || fail "no counter value in: $OUT"
expect 30 "unlock before any signature" "$SEALINIT" unlock --test "$IMG" --signature "$WORK/none.json"
expect 0 "sign" "$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 15 --current \
	--counter-value "$v" --signature "$WORK/sig.json"
expect 0 "unlock, signed" "$SEALINIT" unlock --test "$IMG" --signature "$WORK/sig.json"
echo "ok: provision with a signed policy and the rollback counter"
# A device provisioned after two revocations, by a release signed for the
# counter's limit v+2: the counter is raised to it, so the older release's
# signature (limit v, revoked on the rest of the fleet) does not open the
# new volume; the release's own does (the control).
expect 0 "sign the later release" "$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 15 \
	--current --counter-value $((v + 2)) --signature "$WORK/sig-later.json"
blank "$IMG"
expect 0 "provision by the later release" "$SEALINIT" provision --config "$WORK/boot.conf" \
	--workdir "$W" --public-key "$WORK/pub.pem" --public-key-pcrs 15 --counter \
	--signature "$WORK/sig-later.json" --show-recovery-key "$IMG"
expect_msg "value $((v + 2))"
expect 33 "the revoked release's signature on the new volume" "$SEALINIT" unlock --test "$IMG" \
	--signature "$WORK/sig.json"
expect_msg "is at most $v; it is $((v + 2)): revoked"
expect 0 "the later release's signature" "$SEALINIT" unlock --test "$IMG" \
	--signature "$WORK/sig-later.json"
echo "ok: provisioning raises the counter to the release's limit ($v to $((v + 2)))"

# --- 2. refusals, nothing written -------------------------------------------
# refused WHAT TEXT: provision and --check-blank refuse $IMG naming TEXT,
# and leave it byte for byte as it was.
refused() {
	local what=$1 text=$2 h
	h=$(digest "$IMG")
	expect 35 "provision over $what" prov --show-recovery-key "$IMG"
	expect_msg "$text"
	expect 35 "check-blank on $what" "$SEALINIT" provision --check-blank "$IMG"
	expect_msg "$text"
	[ "$h" = "$(digest "$IMG")" ] || fail "provision over $what changed the image"
	workdir_empty "provision over $what"
}
blank "$IMG"; mkfs.ext4 -q -F "$IMG" >/dev/null || fail "mkfs.ext4"
refused "ext4" "a \`ext4' signature"
blank "$IMG"; mkimg "$IMG"
refused "LUKS2" "a \`crypto_LUKS' signature"
blank "$IMG"
cryptsetup luksFormat --batch-mode --type luks1 --pbkdf-force-iterations 1000 "$IMG" "$WORK/pass" >/dev/null ||
	fail "luksFormat luks1"
refused "LUKS1" "a \`crypto_LUKS' signature"
# A LUKS2 volume whose primary header was wiped still has its data and a
# secondary header: not blank.
blank "$IMG"; mkimg "$IMG"
dd if=/dev/zero of="$IMG" bs=4096 count=4 conv=notrunc 2>/dev/null
key_opens "$IMG" "$PASSPHRASE" || fail "a LUKS2 volume without its primary header does not open"
refused "LUKS2 with its primary header wiped" "crypto_LUKS"
blank "$IMG"; echo 'label: gpt' | sfdisk -q "$IMG" >/dev/null || fail "sfdisk"
refused "a GPT" "a \`gpt' signature"
blank "$IMG"; mkswap "$IMG" >/dev/null 2>&1 || fail "mkswap"
refused "swap" "a \`swap' signature"
blank "$IMG"; printf '\001' | dd of="$IMG" bs=1 seek=$((8 << 20)) conv=notrunc 2>/dev/null
refused "one byte at 8 MiB" "byte 8388608 (0x800000)"
blank "$IMG"; printf '\001' | dd of="$IMG" bs=1 seek=$(((16 << 20) - 1)) conv=notrunc 2>/dev/null
refused "one byte at the header area's last" "byte 16777215"
# The copy's marker beside data in the primary header's place: not ours.
blank "$IMG"; printf 'sealinit-provision-copy-v1\0' | dd of="$IMG" bs=1 seek=$(((16 << 20) - 512)) conv=notrunc 2>/dev/null
cp "$IMG" "$WORK/marker-only"
printf '\001' | dd of="$IMG" bs=1 seek=100 conv=notrunc 2>/dev/null
refused "a copy marker and a byte at 100" "byte 100"
# Control: the marker alone (a copy cut after its first write) restarts.
cp "$WORK/marker-only" "$IMG"
expect 0 "check-blank on a cut copy" "$SEALINIT" provision --check-blank "$IMG"
expect_msg "provisions again"
# The marker beside a complete volume: the volume wins.
blank "$IMG"; mkimg "$IMG"
printf 'sealinit-provision-copy-v1\0' | dd of="$IMG" bs=1 seek=$(((16 << 20) - 512)) conv=notrunc 2>/dev/null
dd if=/dev/zero of="$IMG" bs=4096 count=4 conv=notrunc 2>/dev/null   # and its primary wiped
refused "a LUKS2 volume with a marker" "crypto_LUKS"
for fs in xfs btrfs; do
	if ! command -v mkfs.$fs >/dev/null; then
		echo "SKIP (this case only): mkfs.$fs not installed, no $fs image to refuse"
		continue
	fi
	blank "$IMG" 320M
	mkfs.$fs -q -f "$IMG" >/dev/null 2>&1 || fail "mkfs.$fs"
	refused "$fs" "a \`$fs' signature"
done
# Too small for a header and a file system: refused before any write.
blank "$IMG" 24M; h=$(digest "$IMG")
expect 1 "provision of 24 MiB" prov --show-recovery-key "$IMG"
expect_msg "provisioning needs at least"
[ "$h" = "$(digest "$IMG")" ] || fail "a refused provision changed the image"
# Nobody could recover it: refused (usage), nothing written.
blank "$IMG"; h=$(digest "$IMG")
expect 2 "provision with no recovery key destination" prov "$IMG"
expect_msg "the recovery key must go somewhere"
# The record and the escrow: either written, or refused before the copy.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/escrow.pem" 2>/dev/null &&
	openssl pkey -in "$WORK/escrow.pem" -pubout -out "$WORK/escrow.pub" || fail "openssl genpkey"
mkdir -p "$WORK/escrow"
expect 0 "provision with escrow" prov --escrow-dir "$WORK/escrow" --escrow-key "$WORK/escrow.pub" "$IMG"
uuid=$(cryptsetup luksUUID "$IMG")
[ -s "$WORK/escrow/sealinit-escrow-$uuid.json" ] || fail "no escrow file for $uuid: $(ls "$WORK/escrow")"
tpm_opens "$IMG" || fail "the TPM does not open a volume provisioned with escrow"
# The escrowed key opens the volume, and the header says where it went.
"$SEALINIT" escrow-open --key "$WORK/escrow.pem" "$WORK/escrow/sealinit-escrow-$uuid.json" \
	>"$WORK/rk" 2>/dev/null || fail "escrow-open of the provisioned volume's document"
tr -d '\n' <"$WORK/rk" | cryptsetup open --test-passphrase --key-file - "$IMG" 2>/dev/null ||
	fail "the escrowed recovery key does not open the volume"
cryptsetup luksDump --dump-json-metadata "$IMG" 2>/dev/null |
	jq -e --arg fp "$(openssl pkey -pubin -in "$WORK/escrow.pub" -outform DER | sha256sum | cut -c1-64)" \
	'[.tokens[] | select(.type == "sealinit-escrow" and .key_fp == $fp and .keyslots == [])] | length == 1' \
	>/dev/null || fail "no sealinit-escrow token naming the escrow key in the header"
"$SEALINIT" status --json "$IMG" >"$WORK/st.json" 2>/dev/null || fail "status --json"
jq -e --arg fp "$(openssl pkey -pubin -in "$WORK/escrow.pub" -outform DER | sha256sum | cut -c1-64)" \
	'.fleet.escrow.escrowed and .fleet.escrow.key_fp == $fp and .fleet.provisioned' \
	"$WORK/st.json" >/dev/null || fail "status --json: the escrow: $(jq -c .fleet "$WORK/st.json")"
echo "ok: provision with escrow: the escrowed key opens, the header names the escrow key"
workdir_empty "provision with escrow"
blank "$IMG"; h=$(digest "$IMG")
expect 2 "--record without a signature" prov --show-recovery-key --record "$IMG"
expect_msg "--record needs --public-key and --signature"
# No record entry for this state (a token entry only): refused before any
# write to the partition.
"$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 15 --current --signature "$WORK/norec.json" \
	>/dev/null 2>&1 || fail "sign without --record"
expect 30 "provision --record, no record entry" "$SEALINIT" provision --config "$WORK/boot.conf" \
	--workdir "$W" --public-key "$WORK/pub.pem" --public-key-pcrs 15 --signature "$WORK/norec.json" \
	--record --show-recovery-key "$IMG"
[ "$h" = "$(digest "$IMG")" ] || fail "a refused record write changed the image"
workdir_empty "provision with a refused record"
# Control: signed with the record's entry, the record is written and the
# unlock that pins to it opens the volume.
"$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 15 --current --record \
	--signature "$WORK/rec.json" >/dev/null 2>&1 || fail "sign --record"
expect 0 "provision --record" "$SEALINIT" provision --config "$WORK/boot.conf" --workdir "$W" \
	--public-key "$WORK/pub.pem" --public-key-pcrs 15 --signature "$WORK/rec.json" --record \
	--show-recovery-key "$IMG"
expect 0 "unlock --record of the provisioned volume" "$SEALINIT" unlock --test "$IMG" --record \
	--public-key "$WORK/pub.pem" --signature "$WORK/rec.json"
# What a fleet backend reads: provisioned, the record's Name and id.
"$SEALINIT" status --json --record --public-key "$WORK/pub.pem" "$IMG" >"$WORK/st.json" 2>/dev/null ||
	fail "status --json --record"
jq -e '.fleet.provisioned and (.fleet.record.volume_id | test("^[0-9a-f]{64}$")) and
	(.fleet.record.name | test("^000b[0-9a-f]{64}$")) and .fleet.escrow == null' "$WORK/st.json" \
	>/dev/null || fail "status --json --record: $(jq -c .fleet "$WORK/st.json")"
# Another fleet's key: the record is not its, and the device not provisioned.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null | openssl pkey -pubout \
	-out "$WORK/other.pub" || fail "openssl"
"$SEALINIT" status --json --record --public-key "$WORK/other.pub" "$IMG" >"$WORK/st.json" 2>/dev/null ||
	fail "status --json --record, another key"
jq -e '(.fleet.provisioned | not) and (.fleet.record.error | test("policy|Name|attributes"))' \
	"$WORK/st.json" >/dev/null || fail "status with another fleet's key: $(jq -c .fleet "$WORK/st.json")"
echo "ok: provision --record: refused without the record's entry, written with it; status reports it"
workdir_empty "provision with a record"
echo "ok: refusals"

# --- 3. kills at every write and fsync ----------------------------------------
# kill_at SYSCALL N CMD...: run CMD with a SIGKILL injected at the Nth SYSCALL
# on the image. Sets KILLED=1 if the kill happened.
kill_at() { cut_at "$IMG" "$@"; }

# after_cut WHAT: the image is blank or a cut copy (and a rerun makes the
# volume), or a complete volume (and a rerun refuses it).
after_cut() {
	local what=$1 h state
	h=$(digest "$IMG")
	run "$SEALINIT" provision --check-blank "$IMG"
	[ "$h" = "$(digest "$IMG")" ] || fail "$what: --check-blank wrote to the image"
	case "$RC:$OUT" in
	0:*"is blank"*) state=blank; blanks=$((blanks + 1)) ;;
	0:*"provisions again"*) state=cut; resumes=$((resumes + 1)) ;;
	35:*crypto_LUKS*)
		tpm_opens "$IMG" || fail "$what: a LUKS volume the TPM does not open (neither blank nor whole)"
		volumes=$((volumes + 1))
		# The unlock repairs a missing primary header from the
		# secondary, as libcryptsetup does: the volume as it now is.
		h=$(digest "$IMG")
		expect 35 "$what: a second provision" prov --show-recovery-key "$IMG"
		[ "$h" = "$(digest "$IMG")" ] || fail "$what: a refused rerun changed the volume"
		return ;;
	*) fail "$what: neither blank nor a volume: exit $RC: $OUT" ;;
	esac
	expect 0 "$what: rerun" prov --show-recovery-key "$IMG"
	case $state:$OUT in
	cut:*"after a cut copy"*|blank:*) ;;
	*) fail "$what: rerun over a $state image: $OUT" ;;
	esac
	tpm_opens "$IMG" || fail "$what: rerun: the TPM does not open"
}

cuts=0 blanks=0 resumes=0 volumes=0
for sc in pwrite64 fsync; do
	for n in $(seq 1 80); do
		blank "$IMG"
		rm -f "$W"/*
		kill_at "$sc" "$n" "$SEALINIT" provision --config "$WORK/boot.conf" --pcrs 7 --workdir "$W" \
			--show-recovery-key "$IMG"
		[ "$KILLED" = 1 ] || break
		cuts=$((cuts + 1))
		after_cut "killed at $sc #$n"
	done
	[ "$n" -gt 1 ] || fail "provision made no $sc call on the image: the cut test tests nothing"
	echo "ok: provision killed at each of $((n - 1)) ${sc}s"
done
# Each outcome happened: the states the argument above rests on were reached.
[ "$blanks" -gt 0 ] && [ "$resumes" -gt 0 ] && [ "$volumes" -gt 0 ] ||
	fail "kills left $blanks blank, $resumes cut copies, $volumes volumes: one kind never happened"
rm -f "$W"/*

# Torn sectors, which a process kill does not leave: a secondary header
# whose binary part landed without its JSON (a cut copy: provisions again),
# and a volume whose primary header is torn (opens from the secondary).
blank "$IMG"
kill_at pwrite64 18 "$SEALINIT" provision --config "$WORK/boot.conf" --pcrs 7 --workdir "$W" --show-recovery-key "$IMG"
[ "$KILLED" = 1 ] || fail "no kill at the secondary header's write"
rm -f "$W"/*
printf 'SKUL\272\276\000\002' | dd of="$IMG" bs=1 seek=16384 conv=notrunc 2>/dev/null
head -c 4088 /dev/urandom | dd of="$IMG" bs=1 seek=$((16384 + 8)) conv=notrunc 2>/dev/null
expect 0 "check-blank, torn secondary header" "$SEALINIT" provision --check-blank "$IMG"
expect_msg "provisions again"
expect 0 "provision over a torn secondary header" prov --show-recovery-key "$IMG"
tpm_opens "$IMG" || fail "torn secondary, rerun: the TPM does not open"
head -c 8192 /dev/urandom | dd of="$IMG" bs=1 seek=4096 conv=notrunc 2>/dev/null
tpm_opens "$IMG" || fail "a torn primary header: the volume does not open from the secondary"
expect 35 "provision over a volume with a torn primary" prov --show-recovery-key "$IMG"
echo "ok: torn secondary provisions again, torn primary opens"

# --- 4. mkfs, through dm-crypt ---------------------------------------------
if ! dmsetup version 2>/dev/null | grep -q '^Driver version'; then
	blank "$IMG"; h=$(digest "$IMG")
	expect 14 "provision --mkfs without device-mapper" prov --show-recovery-key \
		--mkfs "$(command -v mkfs.ext4) -q" "$IMG"
	expect_msg "to make its file system"
	[ "$h" = "$(digest "$IMG")" ] || fail "a failed mkfs changed the image"
	workdir_empty "provision --mkfs without device-mapper"
	echo "SKIP (this part only): no device-mapper in this kernel; the mkfs failure leaves the image" \
	     "as it was, the file system and a kill inside mkfs need dm-crypt (QEMU)"
else
	blank "$IMG"
	"$SEALINIT" provision --config "$WORK/boot.conf" --pcrs 7 --workdir "$W" --show-recovery-key \
		--mkfs "$(command -v mkfs.ext4) -q" "$IMG" >"$WORK/rk" 2>"$WORK/err" ||
		fail "provision --mkfs: $(cat "$WORK/err")"
	cryptsetup open --key-file <(tr -d '\n' <"$WORK/rk") "$IMG" sealinit-provision-test ||
		fail "open the provisioned volume"
	at_exit cryptsetup close sealinit-provision-test
	e2fsck -n /dev/mapper/sealinit-provision-test >/dev/null 2>&1 || fail "e2fsck -n on the new volume"
	cryptsetup close sealinit-provision-test
	# An mkfs killed mid-way: the image as it was, no mapping behind.
	printf '#!/bin/sh\nkill -KILL $$\n' >"$WORK/mkfs-killed"
	chmod +x "$WORK/mkfs-killed"
	blank "$IMG"; h=$(digest "$IMG")
	expect 1 "provision, mkfs killed" prov --show-recovery-key --mkfs "$WORK/mkfs-killed" "$IMG"
	expect_msg "signal 9"
	[ "$h" = "$(digest "$IMG")" ] || fail "a killed mkfs changed the image"
	dmsetup ls | grep -q sealinit-provision- && fail "a killed mkfs left its mapping"
	workdir_empty "provision, mkfs killed"
	echo "ok: mkfs through dm-crypt, e2fsck clean; a killed mkfs leaves nothing"
fi
echo "PASS ($cuts kills: $blanks blank, $resumes cut copies, $volumes volumes)"
