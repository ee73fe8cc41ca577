#!/bin/bash
# SPDX-License-Identifier: MIT
# The build as Buildroot and Yocto drive it (docs/building.md):
#   - CC, CFLAGS, CPPFLAGS and LDFLAGS from the environment reach every
#     compile and the link (a logging gcc wrapper), with a
#     -D_FORTIFY_SOURCE=3 build: the project's hardening and -Werror still
#     on them, no _FORTIFY_SOURCE=2 beside the user's 3;
#   - the same from the command line, with clang, winning over decoys in
#     the environment; the binary says clang built it;
#   - CROSS_COMPILE and the .config's CONFIG_CROSS_COMPILE still choose
#     the compiler, and an explicit CC wins over both; WERROR=0 drops
#     -Werror (dry runs);
#   - a PKG_CONFIG that fails stops the build with its message and the
#     PKG_CONFIG named, as does a package pkg-config cannot find; the
#     control: a logging PKG_CONFIG is the one run, with the command
#     line's PKG_CONFIG_SYSROOT_DIR, whose prefix reaches the -I flags;
#   - make install DESTDIR= PREFIX= SBINDIR= lays out every file, and the
#     installed mkinitramfs runs;
#   - no build or install target runs apt: every make here runs with an
#     apt-get, apt, dpkg and dpkg-query that log and fail, and that report
#     every package missing, so that a scripts/deps.sh call anywhere would
#     try to install (the control: deps.sh itself, run the same way, does);
#     `make fuzz' and a missing cmocka name the package and `make deps'.
#   - with MBEDTLS3_DIR (an mbedTLS 3.x source tree whose library/
#     libmbedcrypto.a is built; Debian 12 has 2.28 only, Buildroot ships
#     3.6): all and the unit tests build against its headers and library,
#     and the unit tests pass (docs/building.md). Unset, that part is not
#     run, and the last line says so.
# Builds `all' twice, for the host, in BUILD directories of its own (the
# configurations are tests/build/matrix.sh's business).
. "$(dirname "$0")/../lib/common.sh"
cd "$REPO"
# A make above us (make check) must not lend its flags or jobserver.
unset MAKEFLAGS MFLAGS MAKELEVEL CC CFLAGS CPPFLAGS LDFLAGS PKG_CONFIG PKG_CONFIG_PATH \
	PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR WERROR DESTDIR PREFIX SBINDIR
command -v clang >/dev/null || skip "no clang (Debian: clang; scripts/deps.sh test installs it)"
command -v aarch64-linux-gnu-gcc >/dev/null ||
	skip "no aarch64-linux-gnu-gcc (Debian: gcc-aarch64-linux-gnu; scripts/deps.sh cross installs it)"
/usr/bin/python3 -c 'import kconfiglib' 2>/dev/null || skip "no kconfiglib (python3-kconfiglib)"

KC=$WORK/k.config
make -s KCONFIG_CONFIG="$KC" allyesconfig >/dev/null || fail "make allyesconfig"
# CONFIG_CROSS_COMPILE as a defconfig pins it.
sed 's/^CONFIG_CROSS_COMPILE=.*/CONFIG_CROSS_COMPILE="aarch64-linux-gnu-"/' "$KC" > "$WORK/cross.config"
grep -q '^CONFIG_CROSS_COMPILE="aarch64-linux-gnu-"$' "$WORK/cross.config" || fail "no CONFIG_CROSS_COMPILE in $KC"

# --- the shims: apt that must never run --------------------------------------
mkdir -p "$WORK/shim" "$WORK/bin" "$WORK/ld-env" "$WORK/ld-cli"
APTLOG=$WORK/apt.log
: > "$APTLOG"
for t in apt-get apt dpkg dpkg-query; do
	printf '#!/bin/sh\nprintf "%%s\\n" "%s $*" >> %q\nprintf "%%s\\n" "packaging.sh: %s called: $*" >&2\nexit 1\n' \
		"$t" "$APTLOG" "$t" > "$WORK/shim/$t"
	chmod +x "$WORK/shim/$t"
done
SHIMPATH=$WORK/shim:$PATH

# Control: deps.sh, run with the shims, finds every package missing and
# (as root) calls apt-get; not as root it fails, naming them.
OUT=$(PATH=$SHIMPATH scripts/deps.sh build 2>&1) && fail "control: deps.sh build passed with the shims: $OUT"
if [ "$(id -u)" = 0 ]; then
	grep -q '^apt-get ' "$APTLOG" || fail "control: deps.sh build (as root) never reached the apt-get shim: $OUT"
else
	expect_msg "missing packages"
fi
: > "$APTLOG"

# The compilers and pkg-config, logging their arguments.
for c in gcc clang; do
	printf '#!/bin/sh\nprintf "%%s\\n" "$*" >> %q\nexec %s "$@"\n' "$WORK/$c.log" "$c" > "$WORK/bin/$c-logged"
	chmod +x "$WORK/bin/$c-logged"
done
printf '#!/bin/sh\nprintf "%%s|%%s\\n" "${PKG_CONFIG_SYSROOT_DIR:-}" "$*" >> %q\nexec pkg-config "$@"\n' \
	"$WORK/pc.log" > "$WORK/bin/pc-logged"
printf '#!/bin/sh\necho "fake-pkg-config: Package si-pkg-missing was not found (exit 1)" >&2\nexit 1\n' \
	> "$WORK/bin/pc-fails"
printf '#!/bin/sh\ncase "$*" in *cmocka*) echo "Package cmocka was not found" >&2; exit 1 ;; esac\nexec pkg-config "$@"\n' \
	> "$WORK/bin/pc-nocmocka"
chmod +x "$WORK/bin/pc-logged" "$WORK/bin/pc-fails" "$WORK/bin/pc-nocmocka"

# mk LOG ARGS...: make with the shims, output to LOG; sets RC.
mk() {
	local log=$1
	shift
	PATH=$SHIMPATH timeout 900 make --no-print-directory KCONFIG_CONFIG="$KC" "$@" > "$log" 2>&1
	RC=$?
}
# no_apt WHAT: nothing called apt, dpkg or dpkg-query so far.
no_apt() { [ ! -s "$APTLOG" ] || fail "$1 called the package manager: $(head -3 "$APTLOG")"; }
# no_install WHAT: it may have asked dpkg-query (deps.sh --check), never apt or dpkg.
no_install() { ! grep -qvE '^dpkg-query ' "$APTLOG" || fail "$1 ran apt or dpkg: $(grep -vE '^dpkg-query ' "$APTLOG" | head -3)"; }
# errors LOG: a failed build's first error lines.
errors() { grep -m4 -E 'error:|\*\*\*|warning:|undefined reference' "$1" || tail -4 "$1"; }
# compile_lines LOG OBJDIR: the wrapper's -c lines for objects in OBJDIR.
compile_lines() { grep -E -- " -c .*-o $2/" "$1"; }
# each_has LINES WHAT FLAG...: every line has every FLAG (as a word).
each_has() {
	local lines=$1 what=$2 f n
	shift 2
	for f in "$@"; do
		n=$(grep -cvE -- "(^| )$f( |$)" <<<"$lines")
		[ "$n" = 0 ] || fail "$what: $n compile lines lack $f, e.g.: $(grep -vE -- "(^| )$f( |$)" <<<"$lines" | head -1)"
	done
}
none_has() {
	local lines=$1 what=$2 f
	shift 2
	for f in "$@"; do
		! grep -qE -- "(^| )$f( |$)" <<<"$lines" || fail "$what: a compile line has $f: $(grep -E -- "(^| )$f( |$)" <<<"$lines" | head -1)"
	done
}

# --- from the environment: gcc, FORTIFY=3 --------------------------------------
B1=$WORK/b-env
CC=$WORK/bin/gcc-logged CFLAGS="-O2 -D_FORTIFY_SOURCE=3 -DSI_PKG_CFLAGS_ENV" CPPFLAGS=-DSI_PKG_CPPFLAGS_ENV \
	LDFLAGS=-L$WORK/ld-env mk "$WORK/b-env.log" -j2 BUILD="$B1" CROSS_COMPILE= V=1 all
no_apt "make all (environment)"
[ $RC = 0 ] || fail "the environment's CC/CFLAGS (FORTIFY=3) build failed (exit $RC): $(errors "$WORK/b-env.log")"
lines=$(compile_lines "$WORK/gcc.log" "$B1")
n=$(grep -c . <<<"$lines")
[ "$n" -ge 40 ] || fail "the environment's CC compiled $n objects, want every one (>= 40): is CC from the environment ignored?"
each_has "$lines" "environment build" -DSI_PKG_CFLAGS_ENV -DSI_PKG_CPPFLAGS_ENV -D_FORTIFY_SOURCE=3 \
	-fstack-protector-strong -fPIE -Werror -Wall
none_has "$lines" "environment build" -D_FORTIFY_SOURCE=2
link=$(grep -E -- "-o $B1/sealinit( |$)" "$WORK/gcc.log")
[ -n "$link" ] || fail "the environment's CC did not link sealinit"
for f in "-L$WORK/ld-env" -pie -Wl,-z,relro,-z,now; do
	grep -qE -- "(^| )$f( |$)" <<<"$link" || fail "the link lacks $f: $link"
done
"$B1/sealinit" version >/dev/null 2>&1 || fail "the environment's build: sealinit version failed"
echo "ok   environment: $n compiles with CPPFLAGS, CFLAGS (FORTIFY=3), hardening and -Werror; LDFLAGS on the link"

# --- mbedcrypto shared (MBEDCRYPTO_LIBS), for toolchains without static libraries --
# The same objects relinked: the default build above needs no libmbedcrypto
# at run time (the control); MBEDCRYPTO_LIBS=-lmbedcrypto does.
readelf -d "$B1/sealinit" | grep -q 'NEEDED.*libmbedcrypto' &&
	fail "the default build links libmbedcrypto dynamically: $(readelf -d "$B1/sealinit" | grep NEEDED)"
rm -f "$B1/sealinit"
CC=$WORK/bin/gcc-logged CFLAGS="-O2 -D_FORTIFY_SOURCE=3 -DSI_PKG_CFLAGS_ENV" CPPFLAGS=-DSI_PKG_CPPFLAGS_ENV \
	LDFLAGS=-L$WORK/ld-env MBEDCRYPTO_LIBS=-lmbedcrypto mk "$WORK/b-shared.log" -j2 BUILD="$B1" CROSS_COMPILE= V=1 all
[ $RC = 0 ] || fail "MBEDCRYPTO_LIBS=-lmbedcrypto: the link failed (exit $RC): $(errors "$WORK/b-shared.log")"
readelf -d "$B1/sealinit" | grep -q 'NEEDED.*libmbedcrypto\.so' ||
	fail "MBEDCRYPTO_LIBS=-lmbedcrypto: no NEEDED libmbedcrypto.so: $(readelf -d "$B1/sealinit" | grep NEEDED)"
"$B1/sealinit" version >/dev/null 2>&1 || fail "the shared-mbedcrypto build: sealinit version failed"
echo "ok   MBEDCRYPTO_LIBS=-lmbedcrypto links libmbedcrypto.so (the default links it statically)"

# --- from the command line: clang, over decoys in the environment ------------------
B2=$WORK/b-cli
CC=false CFLAGS=-DSI_PKG_DECOY CPPFLAGS=-DSI_PKG_DECOY LDFLAGS=-DSI_PKG_DECOY \
	mk "$WORK/b-cli.log" -j2 BUILD="$B2" CROSS_COMPILE= V=1 CC="$WORK/bin/clang-logged" \
	CFLAGS="-O2 -g -DSI_PKG_CFLAGS_CLI" CPPFLAGS=-DSI_PKG_CPPFLAGS_CLI LDFLAGS="-L$WORK/ld-cli" all
no_apt "make all (command line)"
[ $RC = 0 ] || fail "the command line's clang build failed (exit $RC): $(errors "$WORK/b-cli.log")"
lines=$(compile_lines "$WORK/clang.log" "$B2")
n=$(grep -c . <<<"$lines")
[ "$n" -ge 40 ] || fail "the command line's CC compiled $n objects, want every one (>= 40)"
each_has "$lines" "command-line build" -DSI_PKG_CFLAGS_CLI -DSI_PKG_CPPFLAGS_CLI -D_FORTIFY_SOURCE=2 \
	-fstack-protector-strong -Werror
none_has "$lines" "command-line build" -DSI_PKG_DECOY
link=$(grep -E -- "-o $B2/sealinit( |$)" "$WORK/clang.log")
grep -qE -- "(^| )-L$WORK/ld-cli( |$)" <<<"$link" || fail "the clang link lacks the command line's LDFLAGS: $link"
grep -q -- "-DSI_PKG_DECOY" <<<"$link" && fail "the clang link has the environment's LDFLAGS: $link"
readelf -p .comment "$B2/sealinit" 2>/dev/null | grep -q 'clang version' ||
	fail "the command line's CC=clang build has no clang in .comment: $(readelf -p .comment "$B2/sealinit" 2>&1 | head -4)"
"$B2/sealinit" version >/dev/null 2>&1 || fail "the clang build: sealinit version failed"
echo "ok   command line: clang, $n compiles with CPPFLAGS, CFLAGS, hardening and -Werror; the environment's decoys unused"

# --- which compiler, which -Werror (dry runs) ---------------------------------------
# first_cc LOG: the compiler of the first compile line of a make -n V=1.
first_cc() { grep -m1 -E -- ' -c -o .*src/core/errors\.o ' "$1" | cut -d' ' -f1; }
D=$WORK/dry
mk "$WORK/d1.log" -n BUILD="$D" CROSS_COMPILE= V=1 all
[ $RC = 0 ] && [ "$(first_cc "$WORK/d1.log")" = gcc ] || fail "default: want gcc, got $(first_cc "$WORK/d1.log") (exit $RC)"
mk "$WORK/d2.log" -n BUILD="$D" CROSS_COMPILE=aarch64-linux-gnu- V=1 all
[ $RC = 0 ] && [ "$(first_cc "$WORK/d2.log")" = aarch64-linux-gnu-gcc ] ||
	fail "CROSS_COMPILE=aarch64-linux-gnu-: want aarch64-linux-gnu-gcc, got $(first_cc "$WORK/d2.log") (exit $RC): $(tail -2 "$WORK/d2.log")"
grep -m1 -E -- ' -c -o .*errors\.o ' "$WORK/d2.log" | grep -q -- '-I/usr/include/aarch64-linux-gnu' ||
	fail "CROSS_COMPILE build: not the arm64 multiarch include directory: $(grep -m1 -E -- ' -c -o .*errors\.o ' "$WORK/d2.log")"
# A cross CC alone: Debian's arm64 .pc files, as with CROSS_COMPILE.
mk "$WORK/d2b.log" -n BUILD="$D" CROSS_COMPILE= CC=aarch64-linux-gnu-gcc V=1 all
grep -m1 -E -- ' -c -o .*errors\.o ' "$WORK/d2b.log" | grep -q -- '-I/usr/include/aarch64-linux-gnu' ||
	fail "CC=aarch64-linux-gnu-gcc: not the arm64 multiarch include directory: $(grep -m1 -E -- ' -c -o .*errors\.o ' "$WORK/d2b.log" || tail -2 "$WORK/d2b.log")"
mk "$WORK/d3.log" -n BUILD="$D" CROSS_COMPILE=aarch64-linux-gnu- CC=clang V=1 all
[ $RC = 0 ] && [ "$(first_cc "$WORK/d3.log")" = clang ] || fail "CC=clang with CROSS_COMPILE: want clang, got $(first_cc "$WORK/d3.log")"
PATH=$SHIMPATH timeout 300 make --no-print-directory -n KCONFIG_CONFIG="$WORK/cross.config" BUILD="$D" V=1 all > "$WORK/d4.log" 2>&1
[ "$(first_cc "$WORK/d4.log")" = aarch64-linux-gnu-gcc ] ||
	fail "CONFIG_CROSS_COMPILE: want aarch64-linux-gnu-gcc, got $(first_cc "$WORK/d4.log"): $(tail -2 "$WORK/d4.log")"
CC=clang PATH=$SHIMPATH timeout 300 make --no-print-directory -n KCONFIG_CONFIG="$WORK/cross.config" BUILD="$D" V=1 all > "$WORK/d5.log" 2>&1
[ "$(first_cc "$WORK/d5.log")" = clang ] || fail "CC=clang in the environment with CONFIG_CROSS_COMPILE: got $(first_cc "$WORK/d5.log")"
grep -m1 -E -- ' -c -o .*errors\.o ' "$WORK/d1.log" | grep -q -- ' -Werror ' || fail "default: no -Werror"
mk "$WORK/d6.log" -n BUILD="$D" CROSS_COMPILE= V=1 WERROR=0 all
grep -m1 -E -- ' -c -o .*errors\.o ' "$WORK/d6.log" | grep -q -- '-Werror' && fail "WERROR=0: -Werror still there"
WERROR=0 mk "$WORK/d7.log" -n BUILD="$D" CROSS_COMPILE= V=1 all
grep -m1 -E -- ' -c -o .*errors\.o ' "$WORK/d7.log" | grep -q -- '-Werror' && fail "WERROR=0 in the environment: -Werror still there"
grep -qE -- ' -c -o .*errors\.o ' "$WORK/d7.log" || fail "WERROR=0 dry run printed no compile: $(tail -2 "$WORK/d7.log")"
no_apt "make -n all (dry runs)"
echo "ok   gcc by default, CROSS_COMPILE and CONFIG_CROSS_COMPILE choose the cross gcc, CC wins; WERROR=0 drops -Werror"

# --- pkg-config ----------------------------------------------------------------------
mk "$WORK/p1.log" -n BUILD="$D" CROSS_COMPILE= PKG_CONFIG="$WORK/bin/pc-fails" all
OUT=$(cat "$WORK/p1.log")
[ $RC != 0 ] || fail "a failing PKG_CONFIG did not stop the build: $OUT"
expect_msg "fake-pkg-config: Package si-pkg-missing was not found"
expect_msg "PKG_CONFIG=$WORK/bin/pc-fails"
grep -qE -- ' -c ' <<<"$OUT" && fail "a failing PKG_CONFIG: make still printed compiles"
PKG_CONFIG=$WORK/bin/pc-fails mk "$WORK/p2.log" -n BUILD="$D" CROSS_COMPILE= all
OUT=$(cat "$WORK/p2.log")
[ $RC != 0 ] || fail "a failing PKG_CONFIG from the environment did not stop the build: $OUT"
expect_msg "fake-pkg-config: Package si-pkg-missing was not found"
# A real pkg-config that finds no package: its message names it.
mkdir -p "$WORK/no-pc"
PKG_CONFIG_LIBDIR=$WORK/no-pc mk "$WORK/p3.log" -n BUILD="$D" CROSS_COMPILE= all
OUT=$(cat "$WORK/p3.log")
[ $RC != 0 ] || fail "pkg-config finding no package did not stop the build: $OUT"
expect_msg "Package libcryptsetup was not found"
expect_msg "make deps"
# Control: the PKG_CONFIG given is the one run, with the command line's sysroot.
mk "$WORK/p4.log" -n BUILD="$D" CROSS_COMPILE= V=1 PKG_CONFIG="$WORK/bin/pc-logged" \
	PKG_CONFIG_SYSROOT_DIR="$WORK/sysroot" all
[ $RC = 0 ] || fail "a logging PKG_CONFIG: exit $RC: $(tail -3 "$WORK/p4.log")"
grep -q "^$WORK/sysroot|--cflags .*libcryptsetup" "$WORK/pc.log" ||
	fail "PKG_CONFIG was not run with the command line's PKG_CONFIG_SYSROOT_DIR: $(head -3 "$WORK/pc.log" 2>&1)"
grep -m1 -E -- ' -c -o .*errors\.o ' "$WORK/p4.log" | grep -q -- "-I$WORK/sysroot/usr/include/json-c" ||
	fail "the sysroot did not reach the -I flags: $(grep -m1 -E -- ' -c -o .*errors\.o ' "$WORK/p4.log")"
no_apt "pkg-config checks"
echo "ok   a failing PKG_CONFIG (command line, environment) and a missing package stop the build with the message; PKG_CONFIG and PKG_CONFIG_SYSROOT_DIR reach the compiles"

# --- make install ---------------------------------------------------------------------
R=$WORK/root
mk "$WORK/i1.log" BUILD="$B1" CROSS_COMPILE= DESTDIR="$R" PREFIX=/usr install
no_apt "make install"
[ $RC = 0 ] || fail "make install: exit $RC: $(tail -3 "$WORK/i1.log")"
grep -qE ' -c |  CC  ' "$WORK/i1.log" && fail "make install rebuilt: $(grep -m2 -E ' -c |  CC  ' "$WORK/i1.log")"
cmp -s "$B1/sealinit" "$R/usr/sbin/sealinit" || fail "make install: $R/usr/sbin/sealinit is not the build's binary"
want="usr/libexec/sealinit/install-paths 644
usr/sbin/sealinit 755"
while IFS= read -r f; do
	[ "$f" = initramfs/README.md ] && continue
	if [ -x "$f" ]; then want+=$'\n'"usr/libexec/sealinit/${f#initramfs/} 755"
	else want+=$'\n'"usr/share/sealinit/initramfs/${f#initramfs/} 644"; fi
done < <(git ls-files initramfs 2>/dev/null || find initramfs -type f)
want=$(sort <<<"$want")
got=$(cd "$R" && find . -type f -printf '%P %m\n' | sort)
[ "$got" = "$want" ] || fail "make install laid out:"$'\n'"$got"$'\n'"want:"$'\n'"$want"
grep -qx "SEALINIT_DATADIR='/usr/share/sealinit/initramfs'" "$R/usr/libexec/sealinit/install-paths" ||
	fail "install-paths: $(cat "$R/usr/libexec/sealinit/install-paths")"
run "$R/usr/sbin/sealinit" version
[ $RC = 0 ] || fail "the installed sealinit version: exit $RC: $OUT"
run "$R/usr/libexec/sealinit/mkinitramfs" --help
[ $RC = 2 ] || fail "the installed mkinitramfs --help: exit $RC, want 2 (usage): $OUT"
expect_msg "usage: mkinitramfs --arch"
# The installed builder reads the installed manifest: staged (DESTDIR),
# SEALINIT_DATADIR points at it, and the manifest's dlopen'd TCTI and
# libgcc_s come in with the closure. The control of its refusal: without
# it, install-paths names /usr/share/..., which the build machine lacks.
run env SEALINIT_DATADIR="$R/usr/share/sealinit/initramfs" "$R/usr/libexec/sealinit/mkinitramfs" \
	--arch x86_64 --sealinit "$R/usr/sbin/sealinit" --closure-only "$WORK/closure" --busybox no
[ $RC = 0 ] || fail "the installed mkinitramfs --closure-only: exit $RC: $OUT"
for l in libtss2-tcti-device.so.0 libgcc_s.so.1; do
	[ -n "$(find "$WORK/closure" -name "$l")" ] || fail "the installed manifest's $l is not in the closure: $(cd "$WORK/closure" && find . | head -20)"
done
if [ ! -e /usr/share/sealinit/initramfs/manifest ]; then
	run "$R/usr/libexec/sealinit/mkinitramfs" --arch x86_64 --sealinit "$R/usr/sbin/sealinit" \
		--closure-only "$WORK/closure2" --busybox no
	[ $RC = 1 ] || fail "the installed mkinitramfs without its data: exit $RC, want 1: $OUT"
	expect_msg "no such file: /usr/share/sealinit/initramfs/manifest"
fi
# Another layout: SBINDIR and PREFIX on their own.
mk "$WORK/i2.log" BUILD="$B1" CROSS_COMPILE= DESTDIR="$WORK/root2" PREFIX=/opt/si SBINDIR=/sbin install
[ $RC = 0 ] || fail "make install PREFIX=/opt/si SBINDIR=/sbin: exit $RC: $(tail -3 "$WORK/i2.log")"
for f in sbin/sealinit opt/si/libexec/sealinit/mkinitramfs opt/si/libexec/sealinit/install-paths; do
	[ -f "$WORK/root2/$f" ] || fail "PREFIX=/opt/si SBINDIR=/sbin: no $f in: $(cd "$WORK/root2" && find . -type f | head)"
done
grep -qx "SEALINIT_DATADIR='/opt/si/share/sealinit/initramfs'" "$WORK/root2/opt/si/libexec/sealinit/install-paths" ||
	fail "PREFIX=/opt/si: install-paths: $(cat "$WORK/root2/opt/si/libexec/sealinit/install-paths")"
no_apt "make install PREFIX=/opt/si"
echo "ok   make install: $(wc -l <<<"$want") files where docs/building.md says; the installed mkinitramfs runs; PREFIX and SBINDIR move them"

# --- what lacks a tool names its package and make deps ------------------------------------
mk "$WORK/f1.log" fuzz
OUT=$(cat "$WORK/f1.log")
no_install "make fuzz"
[ $RC != 0 ] || fail "make fuzz passed with every package reported missing: $OUT"
expect_msg "clang"
expect_msg "make deps"
mk "$WORK/u1.log" BUILD="$B1" CROSS_COMPILE= PKG_CONFIG="$WORK/bin/pc-nocmocka" unit-tests
OUT=$(cat "$WORK/u1.log")
no_install "make unit-tests"
[ $RC != 0 ] || fail "make unit-tests passed without cmocka: $OUT"
expect_msg "libcmocka-dev"
expect_msg "make deps"
# A Python without kconfiglib: the defconfig names the package, not a
# module called defconfig (the control: every defconfig above loaded).
PATH=$SHIMPATH make --no-print-directory PYTHON=/bin/false KCONFIG_CONFIG="$WORK/kc-none" \
	qemu_x86_64_defconfig > "$WORK/k1.log" 2>&1
RC=$? OUT=$(cat "$WORK/k1.log")
no_install "make qemu_x86_64_defconfig without kconfiglib"
[ $RC != 0 ] || fail "a defconfig without kconfiglib passed: $OUT"
expect_msg "python3-kconfiglib"
expect_msg "make deps"
echo "ok   make fuzz, make unit-tests and a defconfig, missing a package, name it and make deps; apt never ran"

# --- mbedTLS 3.x, where a tree is at hand ------------------------------------------------
if [ -z "${MBEDTLS3_DIR:-}" ]; then
	echo "ok (mbedTLS 3.x not tried: MBEDTLS3_DIR unset; this machine's is $(sed -n 's/^#define MBEDTLS_VERSION_STRING *"\(.*\)"/\1/p' /usr/include/mbedtls/version.h /usr/include/mbedtls/build_info.h 2>/dev/null | head -1))"
	exit 0
fi
M=$MBEDTLS3_DIR
v=$(sed -n 's/^#define MBEDTLS_VERSION_STRING *"\(.*\)"/\1/p' "$M/include/mbedtls/build_info.h" 2>/dev/null)
case $v in 3.*) ;; *) fail "MBEDTLS3_DIR=$M: no mbedTLS 3.x include/mbedtls/build_info.h (version \`$v')" ;; esac
[ -f "$M/library/libmbedcrypto.a" ] || fail "MBEDTLS3_DIR=$M: no library/libmbedcrypto.a (make -C $M/library libmbedcrypto.a)"
B3=$WORK/b-mbed3
: > "$APTLOG"   # make fuzz's deps.sh --check asked dpkg-query, above
mk "$WORK/m3.log" -j2 BUILD="$B3" CROSS_COMPILE= CPPFLAGS="-I$M/include" LDFLAGS="-L$M/library" all unit-tests
no_apt "make all unit-tests (mbedTLS $v)"
[ $RC = 0 ] || fail "the build against mbedTLS $v failed (exit $RC): $(errors "$WORK/m3.log")"
# mbedtls_pk_sign_ext exists in 3.x only: the library linked is that one.
nm "$B3/sealinit" | grep -q ' T mbedtls_pk_sign_ext$' || fail "sealinit was not linked with mbedTLS $v's libmbedcrypto"
n=0
for t in "$B3"/tests/test_*; do
	case $t in *.o|*.d) continue ;; esac
	OUT=$("$t" 2>&1) || fail "$(basename "$t") against mbedTLS $v: $(grep -E 'FAILED|ERROR' <<<"$OUT" | head -3)"
	n=$((n + 1))
done
[ $n -gt 10 ] || fail "only $n unit tests built against mbedTLS $v"
echo "ok   mbedTLS $v: all and $n unit-test binaries build, link its libmbedcrypto and pass"
echo ok
