################################################################################
#
# sealinit
#
################################################################################

# The sealinit checkout that holds this BR2_EXTERNAL tree (dist/buildroot).
# For a release tarball instead: SEALINIT_VERSION = x.y, SEALINIT_SITE =
# its download directory, no SITE_METHOD, and its sha256 in sealinit.hash.
SEALINIT_VERSION = 0.1
SEALINIT_SITE = $(realpath $(BR2_EXTERNAL_SEALINIT_PATH)/../..)
SEALINIT_SITE_METHOD = local
SEALINIT_LICENSE = MIT
# The developer's build/ (objects built with other flags, fetched kernels)
# and .config stay out of the copy in $(@D).
SEALINIT_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = --exclude /build --exclude /.config
SEALINIT_INSTALL_IMAGES = YES

SEALINIT_DEPENDENCIES = \
	host-pkgconf cryptsetup json-c mbedtls \
	$(if $(BR2_PACKAGE_UTIL_LINUX_LIBS),util-linux-libs,util-linux) \
	$(if $(BR2_PACKAGE_SEALINIT_TPM2),tpm2-tss) \
	$(if $(BR2_PACKAGE_SEALINIT_LEGACY_NET),libcurl)

# sealinit's own Kconfig file, and its objects, inside $(@D).
SEALINIT_KCONFIG = $(@D)/sealinit.config
# WERROR=0: an image build must not stop on a warning from a compiler newer
# than the ones sealinit's CI runs with -Werror (gcc 12, clang 14).
SEALINIT_MAKE_OPTS = \
	KCONFIG_CONFIG=$(SEALINIT_KCONFIG) \
	BUILD=$(@D)/br-build \
	VERSION=$(SEALINIT_VERSION) \
	WERROR=0

# mbedcrypto is linked statically where the toolchain has static
# libraries; BR2_SHARED_LIBS has none, so the shared library is linked
# and the post-image script's mkinitramfs carries it.
ifeq ($(BR2_SHARED_LIBS),y)
SEALINIT_MAKE_OPTS += MBEDCRYPTO_LIBS=-lmbedcrypto
endif

SEALINIT_DEFCONFIG = $(call qstrip,$(BR2_PACKAGE_SEALINIT_DEFCONFIG))
SEALINIT_CONFIG_FRAGMENT_FILES = \
	$(call qstrip,$(BR2_PACKAGE_SEALINIT_CONFIG_FRAGMENT_FILES))

# SEALINIT_KCONFIG_SET SYMBOL,VALUE: one line for SYMBOL, =y when VALUE is y,
# "is not set" otherwise.
define SEALINIT_KCONFIG_SET
	$(SED) '/^$(1)=/d;/^# $(1) is not set/d' $(SEALINIT_KCONFIG)
	echo '$(if $(filter y,$(2)),$(1)=y,# $(1) is not set)' >> $(SEALINIT_KCONFIG)
endef

define SEALINIT_CONFIGURE_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) $(SEALINIT_MAKE_OPTS) \
		$(SEALINIT_DEFCONFIG)_defconfig
	$(foreach f,$(SEALINIT_CONFIG_FRAGMENT_FILES),cat $(f) >> $(SEALINIT_KCONFIG) || exit 1;)
	$(call SEALINIT_KCONFIG_SET,CONFIG_TPM2,$(BR2_PACKAGE_SEALINIT_TPM2))
	$(call SEALINIT_KCONFIG_SET,CONFIG_LEGACY_NET,$(BR2_PACKAGE_SEALINIT_LEGACY_NET))
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) $(SEALINIT_MAKE_OPTS) olddefconfig
endef

define SEALINIT_BUILD_CMDS
	$(TARGET_MAKE_ENV) $(TARGET_CONFIGURE_OPTS) $(MAKE) -C $(@D) \
		$(SEALINIT_MAKE_OPTS) all
endef

# The same variables as the build: install depends on the binary, and must
# find it up to date, not rebuild it with the host's compiler.
define SEALINIT_INSTALL_TARGET_CMDS
	$(TARGET_MAKE_ENV) $(TARGET_CONFIGURE_OPTS) $(MAKE) -C $(@D) \
		$(SEALINIT_MAKE_OPTS) DESTDIR=$(TARGET_DIR) PREFIX=/usr install
endef

# For the post-image script (board/*/post-image.sh): the resolved sealinit
# configuration (module lists, compression) and the boot configuration that
# becomes the initramfs's /etc/sealinit.conf.
define SEALINIT_INSTALL_IMAGES_CMDS
	$(INSTALL) -D -m 0644 $(SEALINIT_KCONFIG) $(BINARIES_DIR)/sealinit/sealinit.config
	cd $(@D) && . $(SEALINIT_KCONFIG) && \
		$(INSTALL) -D -m 0644 "$$CONFIG_BOOT_CONFIG" \
			$(BINARIES_DIR)/sealinit/sealinit.conf
endef

$(eval $(generic-package))
