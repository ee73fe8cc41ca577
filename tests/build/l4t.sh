#!/bin/bash
# SPDX-License-Identifier: MIT
# The Jetson Linux flash path (board/jetson-orin-nano/): each check has its
# negative beside it, a broken copy that must be refused by name.
#  (a) the layout fragment: well-formed XML in NVIDIA's form (the element
#      and attribute names of flash_l4t_t234_nvme.xml; type, id, sizes,
#      allocation), no encrypted=, unique names, exactly the partitions
#      sealinit.conf names. Refused: encrypted="true" on models, a
#      duplicate name, a name the config does not reference, a name NVIDIA's
#      layout has, id="1", a size not in bytes, an element NVIDIA's format
#      does not have, a missing <size>, a filename on the data partition,
#      truncated XML, a config naming a partition no layout makes.
#  (b) the merge into a stand-in of NVIDIA's NVMe layout (its partition
#      names, ids and types, written here): sealinit's partitions before
#      APP, NVIDIA's kept in order, APP and secondary_gpt last.
#  (c) extlinux.conf.example: every word of its APPEND (with the ${cbootargs}
#      L4T puts there, docs/boot.md) is accepted by `sealinit boot-config`
#      of the locked-down jetson_orin_nano build (built here for the host),
#      which keeps its own root and a read-only root; roothash= added is
#      refused, and so is a sealinit.pcrs=.
#  (d) install-l4t.sh on a fake Linux_for_Tegra tree: a dry run changes
#      nothing (sha256 listing before and after); a real run puts the files
#      where L4T takes them; a second run changes nothing; a directory that
#      is not an L4T tree, a missing --initramfs and a file that is not an
#      initramfs are refused by name, with nothing changed.
. "$(dirname "$0")/../lib/common.sh"
cd "$REPO"
B=$REPO/board/jetson-orin-nano
MERGE=$B/merge-layout.py
CONF=$B/sealinit.conf
PY=/usr/bin/python3
[ -x "$PY" ] || skip "no $PY"
command -v mke2fs >/dev/null || [ -x /sbin/mke2fs ] || skip "no mke2fs (e2fsprogs)"
unset MAKEFLAGS MFLAGS MAKELEVEL

ok() { echo "ok: $*"; }

# --- (b) first: the stand-in of NVIDIA's layout the checks also use -------
# Partition names, ids and types as NVIDIA's NVMe layout for t234 has them
# (tools/kernel_flash/flash_l4t_t234_nvme.xml, r35/r36); sizes shortened.
nvpart() {  # NAME TYPE [ID]
	printf '        <partition name="%s"%s type="%s">\n' "$1" "${3:+ id=\"$3\"}" "$2"
	printf '            <allocation_policy> sequential </allocation_policy>\n'
	printf '            <filesystem_type> basic </filesystem_type>\n'
	printf '            <size> 1048576 </size>\n'
	printf '            <file_system_attribute> 0 </file_system_attribute>\n'
	printf '            <allocation_attribute> 8 </allocation_attribute>\n'
	printf '            <percent_reserved> 0 </percent_reserved>\n'
	printf '        </partition>\n'
}
NVXML=$WORK/flash_l4t_t234_nvme.xml
{
	echo '<partition_layout version="01.00.0000">'
	echo '    <device type="external" instance="0" sector_size="512" num_sectors="EXT_NUM_SECTORS">'
	nvpart master_boot_record protective_master_boot_record
	nvpart primary_gpt primary_gpt
	nvpart A_kernel kernel 2
	nvpart A_kernel-dtb kernel_dtb
	nvpart A_reserved_on_user data
	nvpart B_kernel kernel
	nvpart B_kernel-dtb kernel_dtb
	nvpart B_reserved_on_user data
	nvpart RECNAME kernel
	nvpart RECDTB-NAME kernel_dtb
	nvpart esp data
	nvpart RECNAME_alt kernel
	nvpart RECDTB-NAME_alt kernel_dtb
	nvpart esp_alt data
	nvpart UDA data
	echo '        <!-- Recalculate the size if RECSIZE changed -->'
	nvpart reserved data
	nvpart APP data 1
	nvpart secondary_gpt secondary_gpt
	echo '    </device>'
	echo '</partition_layout>'
} > "$NVXML"
NVNAMES="master_boot_record primary_gpt A_kernel A_kernel-dtb A_reserved_on_user B_kernel B_kernel-dtb B_reserved_on_user RECNAME RECDTB-NAME esp RECNAME_alt RECDTB-NAME_alt esp_alt UDA reserved"

# --- (a) the fragment -----------------------------------------------------
FRAG=$B/flash-layout-nvme.xml
run "$PY" "$MERGE" check "$FRAG" --config "$CONF" --base "$NVXML"
[ "$RC" = 0 ] || fail "the shipped fragment is refused: $OUT"
expect_msg "4 partitions (tee-store, models, APP_verity, APP_root)"
ok "the shipped fragment: $OUT"

# broken NAME PYTHON: a copy of the fragment changed by PYTHON (on the text
# in s), in $WORK/NAME.xml.
broken() {
	"$PY" - "$FRAG" "$WORK/$1.xml" "$2" <<'EOF' || fail "could not make the broken copy $1"
import sys
s = open(sys.argv[1]).read()
t = s
exec(sys.argv[3])
assert t != s, "the edit changed nothing"
open(sys.argv[2], "w").write(t)
EOF
}
# refused NAME MESSAGE [CONFIG]: the broken copy NAME is refused, naming MESSAGE.
refused() {
	run "$PY" "$MERGE" check "$WORK/$1.xml" --config "${3:-$CONF}" --base "$NVXML"
	[ "$RC" = 1 ] || fail "$1: expected refusal (exit 1), got exit $RC: $OUT"
	expect_msg "$2"
	ok "$1 refused: $(echo "$OUT" | grep -F -m1 "$2" | sed 's/^merge-layout.py: [^:]*: //')"
}

broken encrypted 't = s.replace("<partition name=\"models\" type=\"data\">", "<partition name=\"models\" type=\"data\" encrypted=\"true\">")'
refused encrypted 'partition models: encrypted="true": must not be set'
broken reencrypt 't = s.replace("<partition name=\"tee-store\" type=\"data\">", "<partition name=\"tee-store\" type=\"data\" reencrypt=\"false\">")'
refused reencrypt 'partition tee-store: reencrypt="false": must not be set'
broken duplicate 't = s.replace("<partition name=\"APP_verity\"", "<partition name=\"models\"")'
refused duplicate "partition models: name given twice"
broken unreferenced 't = s.replace("name=\"tee-store\"", "name=\"scratch\"")'
refused unreferenced "partition scratch: not referenced by the boot configuration"
broken nvidia-name 't = s.replace("name=\"tee-store\"", "name=\"UDA\"")'
refused nvidia-name "partition UDA: already in NVIDIA's layout"
broken id1 't = s.replace("<partition name=\"models\" type=\"data\">", "<partition name=\"models\" id=\"1\" type=\"data\">")'
refused id1 "partition models: id=\"1\": NVIDIA's APP and A_kernel hold ids 1 and 2"
broken size 't = s.replace("<size> 34359738368 </size>", "<size> 32G </size>")'
refused size "partition models: size '32G': expected a byte count"
broken unaligned 't = s.replace("<size> 16777216 </size>", "<size> 16777217 </size>")'
refused unaligned "partition tee-store: size '16777217'"
broken element 't = s.replace("<percent_reserved> 0 </percent_reserved>\n            <align_boundary> 16384", "<percent_reserved> 0 </percent_reserved>\n            <sizee> 1 </sizee>\n            <align_boundary> 16384", 1)'
refused element "element <sizee>: not one of NVIDIA's"
broken nosize 't = s.replace("            <size> 268435456 </size>\n", "")'
refused nosize "partition APP_verity: no <size>: NVIDIA's format requires it"
broken type 't = s.replace("<partition name=\"APP_root\" type=\"data\">", "<partition name=\"APP_root\" type=\"kernel\">")'
refused type 'partition APP_root: type="kernel": expected "data"'
broken datafile 't = s.replace("<align_boundary> 16384 </align_boundary>\n            <description> sealinit data", "<align_boundary> 16384 </align_boundary>\n            <filename> models.img </filename>\n            <description> sealinit data", 1)'
refused datafile "partition models: <filename>models.img</filename>: data= must reach the first boot blank"
broken truncated 't = s[:len(s) // 2]'
refused truncated "not well-formed XML"
# The other direction: a configuration naming a partition that no layout makes.
sed 's/^data=PARTLABEL=models$/data=PARTLABEL=model/' "$CONF" > "$WORK/conf-typo"
cmp -s "$CONF" "$WORK/conf-typo" && fail "could not make the config with data=PARTLABEL=model"
cp "$FRAG" "$WORK/shipped.xml"
refused shipped "data=PARTLABEL=model: no such partition" "$WORK/conf-typo"
# The commented store line is what names tee-store: without it, refused.
grep -v '^#tee_storage=' "$CONF" > "$WORK/conf-nostore"
refused shipped "partition tee-store: not referenced by the boot configuration" "$WORK/conf-nostore"

# --- (b) the merge ---------------------------------------------------------
"$PY" "$MERGE" merge "$FRAG" --config "$CONF" --base "$NVXML" --out "$WORK/merged.xml" ||
	fail "merge failed"
got=$("$PY" - "$WORK/merged.xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
print(" ".join(p.get("name") for p in r.find("device").findall("partition")))
EOF
) || fail "the merged layout is not XML"
want="$NVNAMES tee-store models APP_verity APP_root APP secondary_gpt"
[ "$got" = "$want" ] || fail "merged partition order: got '$got', expected '$want'"
grep -q 'Recalculate the size if RECSIZE changed' "$WORK/merged.xml" || fail "the merge lost NVIDIA's comments"
run "$PY" "$MERGE" check "$FRAG" --config "$CONF" --base "$WORK/merged.xml"
[ "$RC" = 1 ] || fail "merging twice: expected refusal, got exit $RC: $OUT"
expect_msg "partition tee-store: already in NVIDIA's layout"
ok "merged: sealinit's partitions before APP, NVIDIA's in order, comments kept; a second merge refused"

# --- (c) the extlinux entry against the locked-down build ----------------
EX=$B/extlinux.conf.example
grep -q 'roothash' <(grep -v '^#' "$EX") && fail "extlinux.conf.example puts roothash= on the command line"
grep -Eq '^[[:space:]]*INITRD /boot/initrd$' "$EX" || fail "extlinux.conf.example: no INITRD /boot/initrd"
append=$(sed -n 's/^[[:space:]]*APPEND[[:space:]]*//p' "$EX")
[ -n "$append" ] || fail "extlinux.conf.example: no APPEND line"
# ${cbootargs} as docs/boot.md quotes L4T's (r35/r36, Orin).
cboot='root=PARTUUID=0f3a0d4c-5c2d-4a1e-9d1e-3c4b5a697887 rw rootwait rootfstype=ext4 mminit_loglevel=4 console=ttyTCU0,115200 firmware_class.path=/etc/firmware fbcon=map:0 net.ifnames=0 nospectre_bhb video=efifb:off console=tty0 bl_prof_dataptr=2031616@0x271E10000 bl_prof_ro_ptr=65536@0x271E00000'
cmdline=${append//'${cbootargs}'/$cboot}
case $cmdline in *'${'*) fail "APPEND has a variable other than \${cbootargs}: $append" ;; esac

kc=$WORK/jetson.config
KCONFIG_CONFIG=$kc make -s jetson_orin_nano_defconfig >/dev/null || fail "make jetson_orin_nano_defconfig"
grep -q '^CONFIG_LOCKDOWN=y' "$kc" || fail "jetson_orin_nano_defconfig is not locked down"
grep -q "^CONFIG_BOOT_CONFIG=\"board/jetson-orin-nano/sealinit.conf\"" "$kc" ||
	fail "jetson_orin_nano_defconfig does not use board/jetson-orin-nano/sealinit.conf"
run make -s -j2 --no-print-directory BUILD="$WORK/build-jetson" KCONFIG_CONFIG="$kc" CROSS_COMPILE= SANITIZE=0 all
[ "$RC" = 0 ] || fail "host build of jetson_orin_nano_defconfig: $(echo "$OUT" | grep -m3 -E 'error|Error')"
BIN=$WORK/build-jetson/sealinit
"$BIN" version | grep -q 'lockdown on' || fail "the jetson build does not report lockdown on: $("$BIN" version)"
# The release's configuration: the board's, with the root hash filled in.
HASH=$(printf 'a%.0s' {1..64})
sed "s/^#roothash=.*/roothash=$HASH/" "$CONF" > "$WORK/release.conf"
grep -qx "roothash=$HASH" "$WORK/release.conf" || fail "sealinit.conf has no #roothash= line to fill in"

run "$BIN" boot-config --config "$WORK/release.conf" --cmdline "$cmdline"
[ "$RC" = 0 ] || fail "the example's APPEND is refused by the locked-down build: $OUT"
for want in root=PARTLABEL=APP_root ro=yes "roothash=$HASH" lockdown=yes loglevel=5; do
	echo "$OUT" | grep -qx "$want" || fail "boot-config on the example's APPEND: no line '$want' in: $OUT"
done
for w in $cmdline; do
	run "$BIN" boot-config --config "$WORK/release.conf" --cmdline "$w"
	[ "$RC" = 0 ] || fail "the word \`$w' of the example's APPEND is refused: $OUT"
done
ok "every word of the APPEND line accepted by the locked-down build; L4T's root= and rw ignored"

run "$BIN" boot-config --config "$WORK/release.conf" --cmdline "$cmdline roothash=$(printf 'b%.0s' {1..64})"
[ "$RC" = 2 ] || fail "roothash= added: expected exit 2, got $RC: $OUT"
expect_msg "a locked-down build takes the root hash only from there"
ok "roothash= added: refused"
run "$BIN" boot-config --config "$WORK/release.conf" --cmdline "$cmdline sealinit.pcrs=7"
[ "$RC" = 2 ] || fail "sealinit.pcrs= added: expected exit 2, got $RC: $OUT"
expect_msg "refused, this build is locked down"
ok "sealinit.pcrs= added: refused"

# --- (d) the installer on a fake tree ------------------------------------
INST=$B/install-l4t.sh
L=$WORK/Linux_for_Tegra
mkdir -p "$L/tools/kernel_flash" "$L/rootfs/boot/extlinux" "$L/bootloader" "$L/kernel"
printf '#!/bin/bash\n' > "$L/flash.sh"
printf '#!/bin/bash\n' > "$L/tools/kernel_flash/l4t_initrd_flash.sh"
cp "$NVXML" "$L/tools/kernel_flash/flash_l4t_t234_nvme.xml"
# L4T's extlinux.conf as the sample rootfs ships it (r36), in its shape.
cat > "$L/rootfs/boot/extlinux/extlinux.conf" <<'EOF'
TIMEOUT 30
DEFAULT primary

MENU TITLE L4T boot options

LABEL primary
      MENU LABEL primary kernel
      LINUX /boot/Image
      INITRD /boot/initrd
      APPEND ${cbootargs} root=/dev/nvme0n1p1 rw rootwait rootfstype=ext4

LABEL backup
      MENU LABEL backup kernel
      LINUX /boot/Image.backup
      INITRD /boot/initrd.backup
      APPEND ${cbootargs}
EOF
# The stock initrd L4T ships, and ours: a gzip'd newc cpio (its magic).
echo stock > "$L/rootfs/boot/initrd"
printf '070701%0104d' 0 | gzip -n > "$WORK/initramfs.cpio.gz"
[ -s "$WORK/initramfs.cpio.gz" ] || fail "could not make a test initramfs"

listing() { (cd "$1" && find . -printf '%p %y %m\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
before=$(listing "$L")

run "$INST" --l4t "$L" --initramfs "$WORK/initramfs.cpio.gz" --dry-run
[ "$RC" = 0 ] || fail "dry run: exit $RC: $OUT"
expect_msg "would write: $L/rootfs/boot/initrd"
expect_msg "would write: $L/tools/kernel_flash/flash_l4t_t234_nvme_sealinit.xml"
expect_msg "would make: $L/bootloader/sealinit-tee-store.img"
expect_msg "dry run: nothing changed"
[ "$(listing "$L")" = "$before" ] || fail "the dry run changed the tree: $(diff <(echo "$before") <(listing "$L"))"
ok "dry run: each action printed, the tree unchanged"

run "$INST" --l4t "$L" --initramfs "$WORK/initramfs.cpio.gz"
[ "$RC" = 0 ] || fail "install: exit $RC: $OUT"
cmp -s "$WORK/initramfs.cpio.gz" "$L/rootfs/boot/initrd" || fail "rootfs/boot/initrd is not the initramfs"
"$PY" "$MERGE" check "$FRAG" --config "$CONF" --base "$L/tools/kernel_flash/flash_l4t_t234_nvme.xml" >/dev/null ||
	fail "install changed NVIDIA's layout"
cmp -s "$WORK/merged.xml" "$L/tools/kernel_flash/flash_l4t_t234_nvme_sealinit.xml" ||
	fail "the installed layout is not the merge"
cmp -s "$B/kernel.config" "$L/sealinit/kernel.config" || fail "sealinit/kernel.config not installed"
for sym in TCG_FTPM_TEE DM_VERITY DM_CRYPT CRYPTO_AES_ARM64_CE CRYPTO_AES_ARM64_CE_BLK TEE OPTEE EXT4_FS; do
	grep -Eq "^CONFIG_$sym=[ym]$" "$L/sealinit/kernel.config" || fail "kernel.config: no CONFIG_$sym"
done
blkid -p -o export "$L/bootloader/sealinit-tee-store.img" 2>/dev/null | grep -qx 'TYPE=ext4' ||
	{ file "$L/bootloader/sealinit-tee-store.img" | grep -q 'ext4'; } || fail "the store image is not ext4"
{ blkid -p -o export "$L/bootloader/sealinit-tee-store.img" 2>/dev/null | grep -qx 'LABEL=tee-store'; } ||
	{ file "$L/bootloader/sealinit-tee-store.img" | grep -q '"tee-store"'; } || fail "the store image is not labelled tee-store"
# The default entry's INITRD is /boot/initrd, the backup entry untouched.
grep -A3 '^LABEL primary' "$L/rootfs/boot/extlinux/extlinux.conf" | grep -qx '      INITRD /boot/initrd' ||
	fail "the primary entry's INITRD is not /boot/initrd"
grep -qx '      INITRD /boot/initrd.backup' "$L/rootfs/boot/extlinux/extlinux.conf" || fail "the backup entry was changed"
ok "install: initrd, layout, kernel.config, the store image (ext4, tee-store) in place"

after1=$(listing "$L")
run "$INST" --l4t "$L" --initramfs "$WORK/initramfs.cpio.gz"
[ "$RC" = 0 ] || fail "second install: exit $RC: $OUT"
expect_msg "0 file(s) changed"
[ "$(listing "$L")" = "$after1" ] || fail "the second run changed the tree: $(diff <(echo "$after1") <(listing "$L"))"
ok "second run: nothing changed"

# An entry without INITRD gets one after LINUX (a tree whose extlinux.conf
# had it removed).
sed -i '0,/INITRD \/boot\/initrd$/{/INITRD \/boot\/initrd$/d}' "$L/rootfs/boot/extlinux/extlinux.conf"
grep -A3 '^LABEL primary' "$L/rootfs/boot/extlinux/extlinux.conf" | grep -q INITRD && fail "could not remove the INITRD line"
run "$INST" --l4t "$L" --initramfs "$WORK/initramfs.cpio.gz"
[ "$RC" = 0 ] || fail "install on an entry without INITRD: exit $RC: $OUT"
grep -A3 '^LABEL primary' "$L/rootfs/boot/extlinux/extlinux.conf" | grep -qx '      INITRD /boot/initrd' ||
	fail "no INITRD line added to the primary entry"
[ "$(listing "$L")" = "$after1" ] || fail "the restored INITRD differs from the first install's"
ok "an entry without INITRD gets INITRD /boot/initrd after LINUX"

# Refusals: by name, and nothing changed.
mkdir -p "$WORK/notl4t/rootfs/boot/extlinux"
cp "$L/flash.sh" "$WORK/notl4t/"
nb=$(listing "$WORK/notl4t")
run "$INST" --l4t "$WORK/notl4t" --initramfs "$WORK/initramfs.cpio.gz"
[ "$RC" = 1 ] || fail "a non-L4T directory: expected exit 1, got $RC: $OUT"
expect_msg "not a Jetson Linux tree: tools/kernel_flash/l4t_initrd_flash.sh is missing"
[ "$(listing "$WORK/notl4t")" = "$nb" ] || fail "the refused directory was changed"
ok "a non-L4T directory refused: $OUT"

run "$INST" --l4t "$WORK/nonexistent" --initramfs "$WORK/initramfs.cpio.gz"
[ "$RC" = 1 ] || fail "a missing --l4t: expected exit 1, got $RC: $OUT"
expect_msg "--l4t \`$WORK/nonexistent': not a directory"
run "$INST" --l4t "$L"
[ "$RC" = 1 ] || fail "no --initramfs: expected exit 1, got $RC: $OUT"
expect_msg "--initramfs: missing"
echo '#!/bin/sh' > "$WORK/not-initramfs"
run "$INST" --l4t "$L" --initramfs "$WORK/not-initramfs"
[ "$RC" = 1 ] || fail "a script as --initramfs: expected exit 1, got $RC: $OUT"
expect_msg "--initramfs \`$WORK/not-initramfs': starts with bytes 2321"
expect_msg "expected a cpio archive"
# A broken tree layout (NVIDIA's file without APP) is refused, nothing written.
sed -i 's/name="APP" id="1"/name="APPX" id="1"/' "$L/tools/kernel_flash/flash_l4t_t234_nvme.xml"
sed -i 's/name="APP"/name="APPX"/' "$L/tools/kernel_flash/flash_l4t_t234_nvme_sealinit.xml"
echo other > "$WORK/other.cpio" && printf '070701' | cat - "$WORK/other.cpio" > "$WORK/other.newc"
mid=$(listing "$L")
run "$INST" --l4t "$L" --initramfs "$WORK/other.newc"
[ "$RC" = 1 ] || fail "NVIDIA's layout without APP: expected exit 1, got $RC: $OUT"
expect_msg "--base: no partition named APP"
[ "$(listing "$L")" = "$mid" ] || fail "a refused layout still changed the tree (the initrd?)"
ok "refused by name with nothing changed: a missing tree, no --initramfs, a script as initramfs, a layout without APP"

echo "all checks passed"
