#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Write a C header from a .config with kconfiglib: CONFIG_X values plus an
# ENABLE_X 0/1 constant for every bool, so code can say
# `if (ENABLE_LEGACY_NET)` and both branches always compile.
import sys
import kconfiglib

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
            val = sym.str_value if sym.visibility or sym.str_value else ""
            lines.append('#define CONFIG_%s "%s"' % (sym.name, kconfiglib.escape(val)))
        elif sym.type in (kconfiglib.INT, kconfiglib.HEX):
            lines.append("#define CONFIG_%s %s" % (sym.name, sym.str_value or "0"))
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
