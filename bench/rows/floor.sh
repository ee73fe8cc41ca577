# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# bench/boot row "floor": the least an initramfs can do. /init is
# bench/floor-init.c, built static with Debian's gcc; it loads the modules
# the root disk needs (virtio_pci, virtio_blk and ext4 unless the kernel
# has them built in, with their dependencies from the kernel's modules.dep),
# mounts root= read-only and switches to it. No TPM, no dm-crypt, no verity.
# The interface is in bench/rows/README.

FLOOR_MODULES="virtio_pci virtio_blk ext4"

row_floor_title() { echo "floor: load the disk modules, mount the root, switch_root"; }

row_floor_need() {
	local cc=gcc
	[ "$ARCH" = "$(uname -m)" ] || cc=aarch64-linux-gnu-gcc
	command -v "$cc" >/dev/null || { echo "no $cc (Debian: build-essential, gcc-aarch64-linux-gnu)"; return 1; }
	command -v cpio >/dev/null || { echo "no cpio"; return 1; }
}

# floor_modules KDIR NAME...: the .ko paths (relative to lib/modules/KVER)
# of NAME and its dependencies, dependencies first, each once; names the
# kernel has built in are left out.
floor_modules() {
	local mdir=$1
	shift
	awk -v want="$*" '
		function norm(s) { gsub(/-/, "_", s); return s }
		function base(p) { sub(/.*\//, "", p); sub(/\.ko(\.[a-z]+)?$/, "", p); return norm(p) }
		FILENAME ~ /modules\.builtin$/ { builtin[base($1)] = 1; next }
		{ f = $1; sub(/:$/, "", f); path[base(f)] = f; deps[base(f)] = "" ;
		  for (i = NF; i >= 2; i--) deps[base(f)] = deps[base(f)] " " $i }
		function add(m,   n, d, i, k) {
			if (m in done) return
			done[m] = 1
			# modules.dep lists every dependency, the last one first to load.
			n = split(deps[m], d, " ")
			for (i = 1; i <= n; i++) add(base(d[i]))
			print path[m]
		}
		END {
			n = split(want, w, " ")
			for (i = 1; i <= n; i++) {
				m = norm(w[i])
				if (m in builtin) continue
				if (!(m in path)) { print "floor: no module " w[i] > "/dev/stderr"; exit 1 }
				add(m)
			}
		}' "$mdir/modules.builtin" "$mdir/modules.dep"
}

row_floor_prepare() {
	local kver mdir key out d cc=gcc m
	kver=$(cat "$KDIR/kver")
	mdir=$KDIR/lib/modules/$kver
	[ "$ARCH" = "$(uname -m)" ] || cc=aarch64-linux-gnu-gcc
	key=$(bench_key "$KDIR/kver" "$REPO/bench/floor-init.c" "$REPO/bench/rows/floor.sh" "$($cc --version | head -n 1)")
	out=$BENCH_CACHE/floor-$key.cpio.gz
	if [ ! -f "$out" ]; then
		rm -f "$BENCH_CACHE"/floor-*.cpio.gz
		d=$RW/cpio
		mkdir -p "$d/dev" "$d/proc" "$d/root" "$d/etc" "$d/lib/modules"
		$cc -static -Os -s -Wall -Wextra -Werror -o "$d/init" "$REPO/bench/floor-init.c" ||
			{ echo "cannot build bench/floor-init.c"; return 1; }
		floor_modules "$mdir" $FLOOR_MODULES >"$RW/modules" || return 1
		: >"$d/etc/modules"
		while read -r m; do
			case $m in *.ko) ;; *) echo "floor: compressed module $m (this kernel ships them uncompressed)"; return 1 ;; esac
			cp "$mdir/$m" "$d/lib/modules/"
			echo "/lib/modules/$(basename "$m")" >>"$d/etc/modules"
		done <"$RW/modules"
		# The same compression as sealinit's default (gzip -9, no name).
		(cd "$d" && find . -mindepth 1 | LC_ALL=C sort |
			cpio --quiet -o -H newc --reproducible -R 0:0 | gzip -9n) >"$out.tmp" && mv "$out.tmp" "$out" ||
			{ echo "cannot write $out"; return 1; }
	fi
	ROW_INITRD["floor"]=$out
	ROW_APPEND["floor"]="root=/dev/vda $BENCH_APPEND"
	mkdir -p "$RW/tpm"
}

# The cached data volume itself, read-only: the floor never opens it.
row_floor_disks() { bench_shared_disks "$IMG_DATA" ro; }

row_floor_check() {
	grep -aq '^BENCH: done' "$1" && return 0
	echo "the root's init did not run: $(grep -a 'floor-init' "$1" | tail -n 1)"
	return 1
}
