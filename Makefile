# SPDX-License-Identifier: MIT
# sealinit top-level Makefile.
#
#   make                         build sealinit for the configured target
#   make <board>_defconfig       start from configs/<board>_defconfig
#   make menuconfig | savedefconfig | olddefconfig
#   make CROSS_COMPILE=aarch64-linux-gnu-     cross-build for arm64
#   make check                   every test (installs its Debian packages)
#   make demo                    boot QEMU aarch64 through measure -> unseal -> unlock -> cap
#   make initramfs               the initramfs for the configured target
#   make install                 sealinit, the initramfs builder and its data
#   make V=1                     show the commands
#
# Packagers: every knob below comes from the environment or the command
# line (Buildroot's TARGET_CONFIGURE_OPTS, Yocto's oe_runmake), and only
# `deps', `check' and the demos install Debian packages: docs/building.md.

CROSS_COMPILE ?=
V             ?= 0
SANITIZE      ?= 0
# The user's flags; the project's warnings and hardening (WARN, SEC below)
# are added after them, whatever they are.
CFLAGS        ?= -O2 -g
CPPFLAGS      ?=
LDFLAGS       ?=
# 1: warnings are errors (the project's own builds); 0: they stay warnings.
WERROR        ?= 1
KCONFIG_CONFIG ?= .config
PYTHON        ?= /usr/bin/python3
VERSION       ?= 0.1
# make install: $(DESTDIR)$(SBINDIR)/sealinit, the initramfs builder in
# $(LIBEXECDIR)/sealinit, its data in $(DATADIR)/sealinit/initramfs.
DESTDIR       ?=
PREFIX        ?= /usr
SBINDIR       ?= $(PREFIX)/sbin
LIBEXECDIR    ?= $(PREFIX)/libexec
DATADIR       ?= $(PREFIX)/share
INSTALL       ?= install

# Everything below is derived; the knobs are above.

# Goals that must not create a .config as a side effect.
CONFIG_FREE_GOALS := %config clean distclean help deps check demo demo-host bench fuzz
ifeq ($(MAKECMDGOALS),)
need_config := 1
endif
ifneq ($(filter-out $(CONFIG_FREE_GOALS),$(MAKECMDGOALS)),)
need_config := 1
endif
ifeq ($(need_config),1)
include $(KCONFIG_CONFIG)
endif
# The .config may pin a cross-compiler; the command line still wins.
ifeq ($(origin CROSS_COMPILE),file)
CROSS_COMPILE := $(patsubst "%",%,$(CONFIG_CROSS_COMPILE))
endif

# A CC from the environment or the command line wins over CROSS_COMPILE.
ifeq ($(origin CC),default)
CC       := $(CROSS_COMPILE)gcc
endif
ARCH     := $(shell $(CC) -dumpmachine 2>/dev/null | cut -d- -f1)
MULTIARCH := $(shell $(CC) -dumpmachine 2>/dev/null | sed 's/-pc-/-/;s/-unknown-/-/')
BUILD    ?= build/$(ARCH)$(if $(filter 1,$(SANITIZE)),-san)
# No PKG_CONFIG given: Debian's pkg-config, and for a cross build (a
# CROSS_COMPILE, or a CC for another target than the build machine's) the
# target's multiarch .pc files. A PKG_CONFIG given is used as it is
# (Buildroot's and Yocto's know their sysroot).
ifeq ($(origin PKG_CONFIG),undefined)
PKG_CONFIG := pkg-config
HOST_MULTIARCH := $(shell { gcc -dumpmachine || cc -dumpmachine; } 2>/dev/null | sed 's/-pc-/-/;s/-unknown-/-/')
ifneq ($(CROSS_COMPILE)$(filter-out $(HOST_MULTIARCH),$(MULTIARCH)),)
PKG_CONFIG_LIBDIR ?= /usr/lib/$(MULTIARCH)/pkgconfig:/usr/share/pkgconfig
export PKG_CONFIG_LIBDIR
endif
endif
# make 4.3 passes neither the command line's variables nor exported ones to
# $(shell): name pkg-config's own there, or a cross build gets the host's
# include directories (libcurl's are per-arch).
PC_VARS := PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH PKG_CONFIG_LIBDIR
PC_ENV  := $(strip $(foreach v,$(PC_VARS),$(if $(filter-out undefined,$(origin $v)),$v='$($v)')))
PC      := $(if $(PC_ENV),env $(PC_ENV) )$(PKG_CONFIG)

ifeq ($(V),1)
Q :=
else
Q := @
endif

PKGS_TPM2 := tss2-esys tss2-mu tss2-rc tss2-tctildr
PKGS      := libcryptsetup json-c blkid $(if $(filter y,$(CONFIG_TPM2)),$(PKGS_TPM2))
# libcurl: headers only; legacy.c dlopen()s it.
PKGS_CFLAGS := $(PKGS) $(if $(filter y,$(CONFIG_LEGACY_NET)),libcurl)

# pc_flags ARGS: pkg-config's answer; when it fails, the build stops with
# pkg-config's own message (the package it could not find) and the command.
pc_flags = $(call pc_check,$(shell $(PC) $1 2>/dev/null || echo __pkg_config_failed__),$1)
comma := ,
pc_check = $(if $(filter __pkg_config_failed__,$1),$(error `$(PC) $2' failed: \
	$(shell $(PC) $2 2>&1 | head -5 | tr '\n' ' ')(PKG_CONFIG=$(PKG_CONFIG); on Debian \
	`make deps' installs the -dev packages$(comma) for another sysroot set PKG_CONFIG \
	or PKG_CONFIG_PATH and PKG_CONFIG_SYSROOT_DIR)),$1)

CONFIG_EXTRA := $(patsubst "%",%,$(CONFIG_EXTRA_CFLAGS))
WARN     := -D_GNU_SOURCE -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -Wshadow -Wformat=2 -Wvla \
	    -Wno-unused-parameter
# _FORTIFY_SOURCE=2 unless the user's flags choose a level (=3): one
# definition, never a redefinition; -U first, for compilers that predefine it.
FORTIFY  := $(if $(findstring _FORTIFY_SOURCE,$(CC) $(CPPFLAGS) $(CFLAGS) $(CONFIG_EXTRA)),,-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2)
SEC      := $(FORTIFY) -fstack-protector-strong -fPIE
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN      := $(if $(filter 1,$(SANITIZE)),$(SANFLAGS))
ifeq ($(need_config),1)
PKG_CFLAGS := $(call pc_flags,--cflags $(PKGS_CFLAGS))
# mbedcrypto statically: only the SHA-256 and PBKDF2 code we use comes along,
# instead of a 514 KiB shared library in every initramfs.
PKG_LIBS   := $(call pc_flags,--libs $(PKGS))
endif
# The project's include directories first: a -I in CPPFLAGS (a sysroot's)
# must not shadow config.h or src/.
ALL_CFLAGS := -std=gnu11 -I$(BUILD)/include -Isrc $(CPPFLAGS) $(CFLAGS) -DSEALINIT_VERSION='"$(VERSION)"' \
	$(WARN) $(SEC) $(SAN) -MMD -MP $(CONFIG_EXTRA) $(PKG_CFLAGS)
ALL_LDFLAGS := $(CFLAGS) $(LDFLAGS) $(SAN) -pie -Wl,-z,relro,-z,now -Wl,--as-needed
# How mbedcrypto is linked: statically by default (above); a toolchain
# with shared libraries only (Buildroot's BR2_SHARED_LIBS) passes
# MBEDCRYPTO_LIBS=-lmbedcrypto, and the initramfs then carries the .so.
MBEDCRYPTO_LIBS ?= -l:libmbedcrypto.a
LDLIBS   := $(PKG_LIBS) $(MBEDCRYPTO_LIBS)

# Three layers, dependencies one way: cli -> boot -> core (tests/build/layers.sh).
# core/ never prints and returns codes; boot/ is PID 1; cli/ is the command line.
core-y                    := core/errors.o core/secret.o core/b64.o core/hash.o core/pcrs.o \
			     core/worker.o core/luks.o core/volkey.o core/kv.o core/journal.o core/bootcfg.o \
			     core/events.o core/recovery.o core/json.o core/legacy/cfg.o \
			     core/legacy/net.o core/tcglog.o core/pe.o core/textfile.o core/escape.o core/failrec.o \
			     core/escrow.o core/hwm.o
core-$(CONFIG_TPM2)       += core/token.o core/unlock.o core/enroll.o core/migrate.o core/sigfile.o \
			     core/tpm/device.o core/tpm/seal.o core/tpm/policy.o core/tpm/pcr.o \
			     core/tpm/authorize.o core/tpm/counter.o core/tpm/record.o core/provision.o
core-$(CONFIG_LEGACY_NET) += core/legacy/crypto.o core/legacy/client.o core/legacy/unlock.o
boot-y := $(patsubst src/%.c,%.o,$(wildcard src/boot/*.c))
cli-y  := $(patsubst src/%.c,%.o,$(wildcard src/cli/*.c))
CORE_OBJS := $(addprefix $(BUILD)/src/,$(core-y))
MAIN_OBJS := $(addprefix $(BUILD)/src/,$(boot-y) $(cli-y))
SEALINIT  := $(BUILD)/sealinit

# Unit tests link the core (and test_pid1 the boot file it tests); each
# follows the features it tests.
unit-y                    := test_pcrs test_b64 test_bootcfg test_hash test_luks test_pid1 test_worker test_journal test_events \
			     test_volkey test_recovery test_tcglog test_pe test_keysources test_escape test_failrec \
			     test_escrow test_hwm
unit-$(CONFIG_TPM2)       += test_token test_policy test_authorize test_record test_provision
unit-$(CONFIG_LEGACY_NET) += test_legacy test_legacy_parse
UNIT_BINS  := $(addprefix $(BUILD)/tests/,$(unit-y))
# Small drivers that host tests run against swtpm (tests/host/drivers/).
host-$(CONFIG_TPM2)       += host_unlock_cap
host-y                    += host_escrow_seal
host-$(CONFIG_LEGACY_NET) += host_escrow_send
HOST_BINS  := $(addprefix $(BUILD)/tests/,$(host-y))

.PHONY: all clean distclean menuconfig savedefconfig olddefconfig defconfig \
	check unit-tests demo demo-host bench fuzz deps help print-build initramfs install need-cmocka
all: $(SEALINIT)

# Relink when the Makefile (and so the link flags) changes.
$(SEALINIT): $(CORE_OBJS) $(MAIN_OBJS) Makefile
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LDLIBS)

$(BUILD)/src/%.o: src/%.c $(BUILD)/include/config.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%.o: tests/unit/%.c $(BUILD)/include/config.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/host_%.o: tests/host/drivers/%.c $(BUILD)/include/config.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/host_%: $(BUILD)/tests/host_%.o $(CORE_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/test_pid1: $(addprefix $(BUILD)/src/boot/,pid1.o failrec.o teestore.o)
$(BUILD)/tests/test_keysources: $(addprefix $(BUILD)/src/boot/,keysources.o fleet.o measure.o pid1.o failrec.o)
$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(CORE_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# A missing cmocka says which package, not `cannot find -lcmocka'.
$(UNIT_BINS) $(UNIT_BINS:=.o): | need-cmocka
need-cmocka:
	$(Q)$(PC) --exists cmocka || { echo "unit tests: $(PKG_CONFIG) finds no cmocka" \
		"(Debian: libcmocka-dev; \`make deps' installs it)" >&2; exit 1; }

# --- Kconfig (kconfiglib from Debian's python3-kconfiglib) -----------------

# Without kconfiglib, `python3 -m defconfig' says only "No module named
# defconfig": name the package instead.
KCONFIGLIB := $(PYTHON) -c 'import kconfiglib' 2>/dev/null || { echo "Kconfig: $(PYTHON) has no kconfiglib (Debian: python3-kconfiglib; \`make deps' installs it)" >&2; exit 1; }; KCONFIG_CONFIG=$(KCONFIG_CONFIG) $(PYTHON) -m

$(KCONFIG_CONFIG):
	@echo "  CONFIG  $@ (Kconfig defaults; see 'make help' for defconfigs)"
	$(Q)$(KCONFIGLIB) alldefconfig Kconfig >/dev/null

$(BUILD)/include/config.h: $(KCONFIG_CONFIG) Kconfig scripts/kconfig-header.py
	@mkdir -p $(dir $@)
	$(Q)$(PYTHON) scripts/kconfig-header.py Kconfig $(KCONFIG_CONFIG) $@

%_defconfig: configs/%_defconfig
	$(Q)$(KCONFIGLIB) defconfig --kconfig Kconfig $<

menuconfig:
	$(Q)$(KCONFIGLIB) menuconfig Kconfig

# Every bool off / on (tests/build/matrix.sh starts from these).
.PHONY: allnoconfig allyesconfig
allnoconfig allyesconfig:
	$(Q)$(KCONFIGLIB) $@ Kconfig

olddefconfig: $(KCONFIG_CONFIG)
	$(Q)$(KCONFIGLIB) olddefconfig Kconfig

savedefconfig: $(KCONFIG_CONFIG)
	$(Q)$(KCONFIGLIB) savedefconfig --kconfig Kconfig --out defconfig
	@echo "  wrote defconfig"

# --- make install -----------------------------------------------------------
# Nothing is built as root here: `make all' first, then `make install'.
# initramfs/: its executables (mkinitramfs and whatever it runs) go to
# $(LIBEXECDIR)/sealinit, its other files (the runtime manifest: what an
# initramfs needs besides sealinit's ELF closure) to $(DATADIR)/sealinit/
# initramfs, subdirectories kept; its README.md is documentation. Beside
# mkinitramfs, install-paths says where that data went (docs/building.md).
PKGLIBEXECDIR := $(LIBEXECDIR)/sealinit
PKGDATADIR    := $(DATADIR)/sealinit/initramfs

install: $(SEALINIT)
	@echo "  INSTALL $(DESTDIR)$(SBINDIR)/sealinit $(DESTDIR)$(PKGLIBEXECDIR) $(DESTDIR)$(PKGDATADIR)"
	$(Q)$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(PKGLIBEXECDIR) $(DESTDIR)$(PKGDATADIR)
	$(Q)$(INSTALL) -m 0755 $(SEALINIT) $(DESTDIR)$(SBINDIR)/sealinit
	$(Q)find initramfs -type f ! -path initramfs/README.md | LC_ALL=C sort | while read -r f; do \
		if [ -x "$$f" ]; then dir='$(DESTDIR)$(PKGLIBEXECDIR)' mode=0755; \
		else dir='$(DESTDIR)$(PKGDATADIR)' mode=0644; fi; \
		$(INSTALL) -D -m $$mode "$$f" "$$dir/$${f#initramfs/}" || exit 1; \
	done
	$(Q)printf '%s\n' "# Written by make install: where the installed initramfs builder's data is." \
		"SEALINIT_DATADIR='$(PKGDATADIR)'" > $(DESTDIR)$(PKGLIBEXECDIR)/install-paths
	$(Q)chmod 0644 $(DESTDIR)$(PKGLIBEXECDIR)/install-paths

# --- Tests, demo, benchmarks -----------------------------------------------
# Only deps, check and the demos install Debian packages; every other
# target that needs one names it and `make deps' (scripts/deps.sh --check).

deps:
	$(Q)scripts/deps.sh all

unit-tests: $(UNIT_BINS) $(HOST_BINS)

check:
	$(Q)scripts/deps.sh all
	$(Q)scripts/prefetch.sh
	$(Q)tests/run.sh

demo:
	$(Q)scripts/deps.sh test cross qemu initramfs
	$(Q)TAMPER=$(or $(TAMPER),0) scripts/demo-qemu.sh

demo-host:
	$(Q)scripts/deps.sh test
	$(Q)$(MAKE) --no-print-directory all
	$(Q)SEALINIT=$(SEALINIT) scripts/demo-host.sh

initramfs: $(BUILD)/initramfs.cpio.gz

# Beside it, initramfs.list: every entry, its size and origin.
# kstr: a Kconfig string as one shell word, from .config ("a b") or from
# the command line (make initramfs CONFIG_INITRAMFS_EXTRA_FILES="a b").
kstr = '$(subst ",,$(1))'
$(BUILD)/initramfs.cpio.gz: $(SEALINIT) $(KCONFIG_CONFIG) initramfs/mkinitramfs initramfs/manifest
	@echo "  INITRD  $@"
	$(Q)scripts/deps.sh --check initramfs
	$(Q)MODULES=$(call kstr,$(CONFIG_INITRAMFS_MODULES)) \
		LATE_MODULES=$(call kstr,$(CONFIG_INITRAMFS_LATE_MODULES)) \
		EXTRA_MODULES=$(call kstr,$(CONFIG_INITRAMFS_EXTRA_MODULES)) \
		TEE_TA=$(call kstr,$(CONFIG_INITRAMFS_TEE_TA)) \
		EXTRA_FILES=$(call kstr,$(CONFIG_INITRAMFS_EXTRA_FILES)) \
		SYSROOT=$(call kstr,$(CONFIG_INITRAMFS_SYSROOT)) \
		KERNEL_DIR=$(call kstr,$(CONFIG_INITRAMFS_KERNEL_DIR)) \
		BOOT_CONFIG=$(call kstr,$(CONFIG_BOOT_CONFIG)) BUSYBOX=$(CONFIG_INITRAMFS_BUSYBOX) \
		COMPRESSION=$(call kstr,$(CONFIG_INITRAMFS_COMPRESSION)) \
		scripts/build-initramfs.sh $(ARCH) $(SEALINIT) $@

bench:
	$(Q)bench/unlock

fuzz:
	$(Q)scripts/deps.sh --check fuzz
	$(Q)FUZZ_SECONDS=$${FUZZ_SECONDS:-300} tests/fuzz/run.sh

clean:
	rm -rf build

distclean: clean
	rm -f $(KCONFIG_CONFIG) $(KCONFIG_CONFIG).old defconfig

help:
	@echo "Targets: all install initramfs check demo bench fuzz deps menuconfig savedefconfig olddefconfig allnoconfig allyesconfig clean distclean"
	@echo "Defconfigs:"; for f in configs/*_defconfig; do echo "  $$(basename $$f)"; done
	@echo "Knobs: CROSS_COMPILE= V=1 SANITIZE=1 BUILD=dir KCONFIG_CONFIG=file"
	@echo "Packaging (docs/building.md): CC CFLAGS CPPFLAGS LDFLAGS WERROR=0|1 PKG_CONFIG PKG_CONFIG_SYSROOT_DIR"
	@echo "  DESTDIR PREFIX=/usr SBINDIR=PREFIX/sbin LIBEXECDIR=PREFIX/libexec DATADIR=PREFIX/share"

-include $(CORE_OBJS:.o=.d) $(MAIN_OBJS:.o=.d) $(UNIT_BINS:=.d) $(HOST_BINS:=.d)

print-build:
	@echo $(BUILD)
