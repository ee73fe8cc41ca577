# SPDX-License-Identifier: MIT
# Makes an image's /init sealinit: installs sealinit-init (the /init link,
# /etc/sealinit.conf, the module names from the defconfig) and the kernel
# modules, and writes /etc/sealinit/modules and modules.late: the module
# files in load order, dependencies first (what initramfs/mkinitramfs writes
# for `make initramfs`), from the image's own modules.dep.
#
# SEALINIT_KERNEL_MODULES: the kernel-module-* packages to try to install
# (a module built into the kernel has none; the check below still finds it
# in modules.builtin).

SEALINIT_KERNEL_MODULES ?= ""
SEALINIT_INITRAMFS_INSTALL ?= "sealinit sealinit-init"

PACKAGE_INSTALL:append = " ${SEALINIT_INITRAMFS_INSTALL}"
PACKAGE_INSTALL_ATTEMPTONLY:append = " ${SEALINIT_KERNEL_MODULES}"

# Not a ROOTFS_POSTPROCESS_COMMAND: those run before the rootfs's depmod
# (oe/rootfs.py), so modules.dep is not there yet. IMAGE_PREPROCESS_COMMAND
# runs at the start of do_image, on the finished rootfs; prepended, so that
# reproducible_final_image_task (appended by image.bbclass) still sets the
# new files' times.
IMAGE_PREPROCESS_COMMAND:prepend = "sealinit_module_order "

# sealinit_module_order: each name of modules.names (modules.late.names)
# becomes its .ko path in modules.dep, after the paths of its dependencies;
# a name that is neither there nor in modules.builtin fails the image, by name.
sealinit_module_order() {
    root=${IMAGE_ROOTFS}
    for list in modules modules.late; do
        names=$root${datadir}/sealinit/$list.names
        [ -s "$names" ] || continue
        kdir=$(ls -d $root/lib/modules/* 2>/dev/null | head -n1)
        if [ -z "$kdir" ] || [ ! -f "$kdir/modules.dep" ]; then
            bbfatal "sealinit: $names lists modules but the image has no lib/modules/*/modules.dep (no kernel modules installed?)"
        fi
        kver=$(basename "$kdir")
        install -d $root${sysconfdir}/sealinit
        awk -v kver="$kver" -v builtin="$kdir/modules.builtin" -v who="$names" '
            function key(p) { sub(/.*\//, "", p); sub(/\.ko(\.[a-z]+)?$/, "", p); gsub(/-/, "_", p); return p }
            FILENAME == builtin { b[key($0)] = 1; next }
            FILENAME != who { p = $1; sub(/:$/, "", p); path[key(p)] = p
                              d = ""; for (i = NF; i >= 2; i--) d = d " " $i; deps[key(p)] = d; next }
            { n = $1; gsub(/-/, "_", n)
              if (n in path) {
                  c = split(deps[n], ds, " ")
                  for (i = 1; i <= c; i++) emit(ds[i])
                  emit(path[n])
              } else if (!(n in b)) { print "sealinit: module " $1 " (" who ") is in neither modules.dep nor modules.builtin of kernel " kver > "/dev/stderr"; bad = 1 }
            }
            function emit(p) { if (!(p in seen)) { seen[p] = 1; print "/lib/modules/" kver "/" p } }
            END { exit bad }
        ' $(ls "$kdir/modules.builtin" 2>/dev/null) "$kdir/modules.dep" "$names" \
            > $root${sysconfdir}/sealinit/$list \
            || bbfatal "sealinit: cannot place every module of $names (above)"
    done
}
