#!/bin/bash
# SPDX-License-Identifier: MIT
# dracut module: sealinit measures, unlocks the data volume(s) with the TPM
# and caps, before dracut's crypt module (systemd-cryptsetup, or
# cryptroot-ask without systemd) asks for a passphrase. The step itself is
# /usr/lib/sealinit/sealinit-step (dist/initramfs-tools/sealinit-step).
# dist/dracut/README.md says how to install and enable it.

SEALINIT_STEP=/usr/lib/sealinit/sealinit-step
SEALINIT_MANIFEST=/usr/share/sealinit/initramfs/manifest

# called by dracut: only when asked for (add_dracutmodules+=" sealinit "),
# and never without the binary and the step.
check() {
    require_binaries /usr/sbin/sealinit "$SEALINIT_STEP" || return 1
    return 255
}

# called by dracut
depends() {
    echo crypt
    return 0
}

# called by dracut
installkernel() {
    # The TPM: CRB on most servers and OVMF, TIS otherwise.
    hostonly='' instmods tpm_crb tpm_tis dm_crypt
}

sealinit_conf() {
    sed -n "s/^[[:space:]]*$1=//p" "$dracutsysrootdir"/etc/sealinit.conf 2>/dev/null | tail -n 1
}

# called by dracut
install() {
    local when kind arg tcti sig crypttab

    if [[ -z $(sealinit_conf data) ]]; then
        crypttab=$(sed -e 's/#.*//' "$dracutsysrootdir"/etc/crypttab 2>/dev/null \
            | awk 'NF >= 4 && $4 ~ /(^|,)tpm2-device=/ { print $1, $2 }')
        if [[ -z $crypttab ]]; then
            derror "sealinit: neither /etc/sealinit.conf data= nor an /etc/crypttab entry with tpm2-device=: nothing for sealinit to unlock"
            return 1
        fi
        mkdir -p "$initdir"/etc/sealinit
        printf '%s\n' "$crypttab" > "$initdir"/etc/sealinit/crypttab
    fi

    inst_multiple /usr/sbin/sealinit "$SEALINIT_STEP" cryptsetup sleep || return 1
    [[ -r "$dracutsysrootdir"/etc/sealinit.conf ]] && inst_simple /etc/sealinit.conf

    # What sealinit dlopen()s, from the installed runtime manifest: its
    # "sealinit" entries. The legacy fetch's and Jetson's entries are for
    # sealinit's own initramfs; this step runs neither.
    [[ -r "$dracutsysrootdir$SEALINIT_MANIFEST" ]] || {
        derror "sealinit: $SEALINIT_MANIFEST is missing (make install puts it there)"
        return 1
    }
    while read -r when kind arg; do
        [[ $when == sealinit && $kind == dlopen ]] || continue
        inst_libdir_file "$arg"
        [[ -n $(find "$initdir" -name "$arg" -print -quit) ]] || {
            derror "sealinit: $arg (from $SEALINIT_MANIFEST) is not installed: sealinit dlopen()s it at boot"
            return 1
        }
    done < <(grep -v '^#' "$dracutsysrootdir$SEALINIT_MANIFEST")

    tcti=$(sealinit_conf tcti)
    case $tcti in
        "" | device | device:*) ;;
        *) inst_libdir_file "libtss2-tcti-${tcti%%:*}.so.0" ;;
    esac

    sig=$(sealinit_conf tpm2_signature)
    sig=${sig:-/etc/sealinit/tpm2-pcr-signature.json}
    if [[ $sig == /* && -r "$dracutsysrootdir$sig" ]]; then
        inst_simple "$sig"
    elif [[ -n $(sealinit_conf tpm2_signature) ]]; then
        derror "sealinit: /etc/sealinit.conf's tpm2_signature=$sig does not exist"
        return 1
    fi

    if dracut_module_included systemd; then
        # systemd-cryptsetup@.service is After=cryptsetup-pre.target, which
        # the unit is Before= and Wants=. That target is passive: nothing
        # pulls it in but the units that want it, so the unit is wanted by
        # sysinit.target, which every initrd boot reaches.
        inst_simple "$moddir/sealinit-step.service" "$systemdsystemunitdir/sealinit-step.service"
        mkdir -p "$initdir$systemdsystemunitdir/sysinit.target.wants"
        ln_r "$systemdsystemunitdir/sealinit-step.service" \
            "$systemdsystemunitdir/sysinit.target.wants/sealinit-step.service"
    else
        # The settled queue runs its jobs in name order, one after the
        # other: 10-sealinit-settled.sh before cryptroot-ask-*.sh.
        inst_hook initqueue/settled 10 "$moddir/sealinit-settled.sh"
    fi
}
