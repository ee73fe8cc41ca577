# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Debian 12 chroots and disk images for the tests of sealinit in the
# distribution's own initramfs (tests/build/distro_initramfs.sh,
# tests/qemu/distro.sh) and for boot benchmarks of the same kind.
#
#   . tests/lib/distro.sh      (after tests/lib/atexit.sh; needs REPO)
#
# The chroots are made by mmdebstrap (--variant=essential --mode=root, so
# the caller is root) and cached as tarballs under build/distro-chroots/,
# named by a hash of the suite, the mirror and the package list: the first
# use of a package list takes about 30 s and downloads Debian packages,
# later ones unpack the tarball. Nothing is installed on the host.
#
# The kernel is Debian's cloud kernel cached by scripts/fetch-kernel.sh in
# build/kernels/x86_64 (DISTRO_KDIR): vmlinuz, config, lib/modules/KVER.
#
# Every function returns non-zero, with a message on stderr, on failure;
# the caller decides (fail, skip). None calls exit.

DISTRO_SUITE=bookworm
DISTRO_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DISTRO_KDIR=$REPO/build/kernels/x86_64
# What sealinit links against and dlopen()s (initramfs/manifest), in
# Debian 12's package names.
DISTRO_LIBS="libcryptsetup12,libjson-c5,libblkid1,libtss2-esys-3.0.2-0,libtss2-mu0,libtss2-rc0,libtss2-tctildr0,libtss2-tcti-device0,libgcc-s1"
# The two builders conflict as Debian packages: one chroot each.
DISTRO_ITOOLS="initramfs-tools,cryptsetup-initramfs,busybox,zstd,kmod,linux-base,$DISTRO_LIBS"
DISTRO_DRACUT="dracut,systemd,cryptsetup,kmod,linux-base,$DISTRO_LIBS"

distro_err() { echo "distro: $*" >&2; }

# in_chroot ROOT CMD...: chroot, with the chroot's own /tmp as TMPDIR
# (tests/run.sh gives each test a TMPDIR that does not exist inside).
in_chroot() { TMPDIR=/tmp chroot "$@"; }

# distro_key TEXT...: 16 hex digits of the SHA-256 of the lines TEXT, for
# cache names.
distro_key() { printf '%s\n' "$@" | sha256sum | cut -c1-16; }

# chroot_tar NAME PACKAGES: prints the cached tarball of a minimal Debian
# chroot with PACKAGES (comma-separated), making it first if needed. Two
# makers at once (two tests, two worktrees sharing the cache) each write a
# file of their own and rename it: the tarball is whole or absent.
chroot_tar() {
	local key tar
	key=$(distro_key "$DISTRO_SUITE" "$DISTRO_MIRROR" "$2")
	tar=$REPO/build/distro-chroots/$1-$key.tar
	if [ ! -s "$tar" ]; then
		mkdir -p "${tar%/*}" || return 1
		mmdebstrap --quiet --variant=essential --mode=root --format=tar --include="$2" \
			"$DISTRO_SUITE" "$tar.tmp.$$" "$DISTRO_MIRROR" >&2 ||
			{ rm -f "$tar.tmp.$$"; distro_err "mmdebstrap $1 ($2) failed"; return 1; }
		mv "$tar.tmp.$$" "$tar" || return 1
	fi
	echo "$tar"
}

# mkroot DIR TAR: unpack, with /proc mounted (the builders read
# /proc/mounts and /proc/cmdline) and unmounted at exit (at_exit).
mkroot() {
	mkdir -p "$1" || return 1
	tar -xf "$2" -C "$1" || { distro_err "cannot unpack $2"; return 1; }
	mount -t proc proc "$1/proc" || { distro_err "cannot mount proc in $1"; return 1; }
	at_exit distro_umount "$1/proc"
}
# distro_umount DIR: unmount DIR if it is a mount point (lazily).
distro_umount() { ! mountpoint -q "$1" || umount -l "$1"; }

# install_sealinit ROOT [CONF-LINE...]: what a server admin does (the
# READMEs): make install, the step, and /etc/sealinit.conf of the given
# lines (default: a data= partition by label, PCRs 7+15).
install_sealinit() {
	local root=$1
	shift
	[ $# -gt 0 ] || set -- "data=/dev/disk/by-partlabel/sealdata" "name=sealdata" "pcrs=7+15" "device_timeout=300"
	(cd "$REPO" && make -s install DESTDIR="$root" >/dev/null) || { distro_err "make install DESTDIR=$root failed"; return 1; }
	install -D -m0755 "$REPO/dist/initramfs-tools/sealinit-step" "$root/usr/lib/sealinit/sealinit-step" || return 1
	printf '%s\n' "$@" >"$root/etc/sealinit.conf"
}

# install_itools_step ROOT: the initramfs-tools hook and local-top script.
install_itools_step() {
	install -D -m0755 "$REPO/dist/initramfs-tools/hooks/sealinit" "$1/etc/initramfs-tools/hooks/sealinit" &&
		install -D -m0755 "$REPO/dist/initramfs-tools/scripts/local-top/sealinit" \
			"$1/etc/initramfs-tools/scripts/local-top/sealinit"
}

# install_dracut_module ROOT: the dracut module, enabled by its conf.d line.
install_dracut_module() {
	mkdir -p "$1/usr/lib/dracut/modules.d/90sealinit" "$1/etc/dracut.conf.d" &&
		cp -L "$REPO"/dist/dracut/90sealinit/* "$1/usr/lib/dracut/modules.d/90sealinit/" &&
		echo 'add_dracutmodules+=" sealinit "' >"$1/etc/dracut.conf.d/90-sealinit.conf"
}

# add_kernel ROOT VERSION: the cached kernel, under VERSION (default: its
# own, $(cat build/kernels/x86_64/kver)).
add_kernel() {
	local kver
	kver=$(cat "$DISTRO_KDIR/kver") || { distro_err "no cached kernel in $DISTRO_KDIR (scripts/fetch-kernel.sh x86_64)"; return 1; }
	set -- "$1" "${2:-$kver}"
	mkdir -p "$1/lib/modules" "$1/boot" || return 1
	cp -a "$DISTRO_KDIR/lib/modules/$kver" "$1/lib/modules/$2" &&
		cp "$DISTRO_KDIR/vmlinuz" "$1/boot/vmlinuz-$2" &&
		cp "$DISTRO_KDIR/config" "$1/boot/config-$2"
}

# distro_initramfs ROOT BUILDER [VERSION]: the image of the distribution's
# builder for the kernel VERSION (default the cached kernel's), as
# ROOT/boot/initrd.img-VERSION. BUILDER: initramfs-tools (update-initramfs
# -c) or dracut (dracut --force --kver). The builder's output goes to
# ROOT/tmp/builder.log.
distro_initramfs() {
	local root=$1 builder=$2 kver=${3:-}
	[ -n "$kver" ] || kver=$(cat "$DISTRO_KDIR/kver") || return 1
	case "$builder" in
	initramfs-tools)
		rm -f "$root/boot/initrd.img-$kver"
		in_chroot "$root" update-initramfs -c -k "$kver" >"$root/tmp/builder.log" 2>&1 ;;
	dracut) in_chroot "$root" dracut --force --kver "$kver" "/boot/initrd.img-$kver" >"$root/tmp/builder.log" 2>&1 ;;
	*) distro_err "unknown initramfs builder \`$builder' (expected initramfs-tools or dracut)"; return 2 ;;
	esac || { distro_err "$builder for $kver failed: $(tail -n 5 "$root/tmp/builder.log")"; return 1; }
	[ -s "$root/boot/initrd.img-$kver" ] || { distro_err "$builder made no /boot/initrd.img-$kver"; return 1; }
}

# distro_disk_image ROOT OUTDIR [SIZE]: a bootable x86_64 set from the
# chroot ROOT, whose initramfs distro_initramfs made:
#   OUTDIR/root.img    ext4 (label "root") of the whole tree, made by
#                      mke2fs -d: no loop device, no mount; sparse; SIZE
#                      (default: the tree's size plus a quarter and 64 MiB)
#   OUTDIR/vmlinuz     the kernel, OUTDIR/initrd.img its initramfs
# It boots with QEMU's -kernel/-initrd (directly, or through OVMF:
# tests/qemu/lib.sh QEMU_FIRMWARE=uefi) and root=/dev/vdX of that disk
# (whole disk, no partition table). ROOT's /proc is unmounted first (its
# files would otherwise be copied). The kernel is the newest in ROOT/boot.
distro_disk_image() {
	local root=$1 out=$2 size=${3:-} kver kb
	kver=$(cd "$root/boot" && ls vmlinuz-* 2>/dev/null | sed 's/^vmlinuz-//' | sort -V | tail -n 1)
	[ -n "$kver" ] && [ -s "$root/boot/initrd.img-$kver" ] ||
		{ distro_err "$root/boot has no kernel with an initrd.img (distro_initramfs first)"; return 1; }
	mkdir -p "$out" || return 1
	! mountpoint -q "$root/proc" || umount "$root/proc" || { distro_err "cannot unmount $root/proc"; return 1; }
	if [ -z "$size" ]; then
		kb=$(du -sk "$root" | cut -f1)
		size=$(( (kb + kb / 4 + 65536) / 1024 ))M
	fi
	rm -f "$out/root.img"
	mke2fs -q -t ext4 -L root -E root_owner=0:0 -d "$root" "$out/root.img" "$size" >"$out/mke2fs.log" 2>&1 ||
		{ distro_err "mke2fs -d $root: $(tail -n 3 "$out/mke2fs.log")"; return 1; }
	rm -f "$out/mke2fs.log"
	cp "$root/boot/vmlinuz-$kver" "$out/vmlinuz" && cp "$root/boot/initrd.img-$kver" "$out/initrd.img"
}

# distro_image NAME PACKAGES BUILDER SETUP [KEY...]: the cached image set
# of a chroot with PACKAGES (chroot_tar NAME), set up by the caller's
# function `SETUP ROOT' (what the image needs besides the kernel: sealinit,
# a crypttab, a clevis binding, an init...), with the cached kernel
# (add_kernel) and BUILDER's initramfs for it (distro_initramfs), made into
# distro_disk_image's set: root.img, vmlinuz, initrd.img, and builder.log.
# Sets DISTRO_IMAGE to its directory, build/distro-images/NAME-HASH, where
# HASH covers the chroot tarball's name (a hash of its package list), the
# kernel version, BUILDER, this file and KEY...: the caller names there
# everything SETUP puts in (file hashes, configuration lines), since a set
# whose directory exists is used as it is. Making one removes the other
# sets of NAME. DISTRO_IMAGE_BUILT is the seconds it took, empty when the
# set was cached. Unmounts its chroot's /proc and removes the chroot.
distro_image() {
	local name=$1 pkgs=$2 builder=$3 setup=$4 tar kver key dir tmp r t0=$SECONDS
	shift 4
	DISTRO_IMAGE="" DISTRO_IMAGE_BUILT=""
	tar=$(chroot_tar "$name" "$pkgs") || return 1
	kver=$(cat "$DISTRO_KDIR/kver") || { distro_err "no cached kernel in $DISTRO_KDIR"; return 1; }
	key=$(distro_key "${tar##*/}" "$kver" "$builder" "$(sha256sum <"${BASH_SOURCE[0]}")" "$@")
	dir=$REPO/build/distro-images/$name-$key
	if [ -s "$dir/root.img" ] && [ -s "$dir/initrd.img" ] && [ -s "$dir/vmlinuz" ]; then
		DISTRO_IMAGE=$dir
		return 0
	fi
	tmp=$REPO/build/distro-images/.new-$name-$$
	r=$REPO/build/distro-images/.root-$name-$$
	rm -rf "$tmp" "$r"
	at_exit rm -rf "$tmp" "$r"
	mkroot "$r" "$tar" || return 1
	"$setup" "$r" || { distro_err "$setup $r failed"; return 1; }
	add_kernel "$r" || return 1
	distro_initramfs "$r" "$builder" || return 1
	distro_disk_image "$r" "$tmp" || return 1
	cp "$r/tmp/builder.log" "$tmp/builder.log"
	rm -rf "$r"
	local old
	for old in "$REPO/build/distro-images/$name"-*; do
		[[ ${old##*/} =~ ^$name-[0-9a-f]{16}$ ]] && rm -rf "$old"
	done
	mv "$tmp" "$dir" || return 1
	DISTRO_IMAGE=$dir DISTRO_IMAGE_BUILT=$((SECONDS - t0))
}
