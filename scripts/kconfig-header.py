#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Write a C header from a .config with kconfiglib: CONFIG_X values plus an
# ENABLE_X 0/1 constant for every bool, so code can say
# `if (ENABLE_LEGACY_NET)` and both branches always compile.
import sys
import kconfiglib

def value(sym):
    """The symbol's value; for one whose dependencies are off (TPM2_TIMEOUT_MS
    without TPM2), its first default, so that every build still parses and
    prints the keys that name it (tpm_timeout=, tcti=) the same way."""
    if sym.str_value:
        return sym.str_value
    for default, _cond in sym.defaults:
        return default.str_value
    return ""

def main():
    kconfig, config, out = sys.argv[1:4]
    kconf = kconfiglib.Kconfig(kconfig, warn_to_stderr=False)
    kconf.load_config(config)
    lines = ["/* Generated from %s by scripts/kconfig-header.py; do not edit. */" % config,
             "#ifndef SEALINIT_CONFIG_H", "#define SEALINIT_CONFIG_H", ""]
    for sym in kconf.unique_defined_syms:
        if sym.type == kconfiglib.BOOL:
            lines.append("#define ENABLE_%s %d" % (sym.name, 1 if sym.str_value == "y" else 0))
        elif sym.type == kconfiglib.STRING:
            lines.append('#define CONFIG_%s "%s"' % (sym.name, kconfiglib.escape(value(sym))))
        elif sym.type in (kconfiglib.INT, kconfiglib.HEX):
            lines.append("#define CONFIG_%s %s" % (sym.name, value(sym) or "0"))
    lines += ["", "#endif", ""]
    text = "\n".join(lines)
    try:
        with open(out) as f:
            if f.read() == text:
                return
    except OSError:
        pass
    with open(out, "w") as f:
        f.write(text)

main()
