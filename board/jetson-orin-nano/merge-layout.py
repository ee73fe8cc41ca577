#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""sealinit's flash-layout fragment for Jetson Linux: check it, merge it.

  merge-layout.py check FRAGMENT --config SEALINIT.CONF [--base NVIDIA.xml]
  merge-layout.py merge FRAGMENT --config SEALINIT.CONF --base NVIDIA.xml --out OUT

check: the fragment is XML in the form of NVIDIA's partition layouts (the
element and attribute names of tools/kernel_flash/flash_l4t_t234_nvme.xml),
sets nothing that hands a partition to NVIDIA's disk encryption, and names
exactly the partitions the boot configuration refers to; with --base, its
names are also new to NVIDIA's layout, and every partition the configuration
refers to is in one of the two. merge: the same checks, then NVIDIA's layout
with the fragment's partitions inserted before APP, written to OUT (only when
it differs). Exit 0, or 1 with one line per problem, each naming the
partition, the field and what was expected.
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

# What NVIDIA's partition layouts use: the attributes of <partition>, the
# elements inside it, and the partition types of the NVMe layout.
PART_ATTRS = {"name", "id", "type", "encrypted", "reencrypt"}
PART_ELEMS = {"allocation_policy", "filesystem_type", "size", "file_system_attribute",
              "allocation_attribute", "percent_reserved", "align_boundary", "filename",
              "partition_type_guid", "unique_guid", "description"}
REQUIRED = ["allocation_policy", "filesystem_type", "size", "file_system_attribute",
            "allocation_attribute", "percent_reserved"]
# NVIDIA's numbers: APP is 1, A_kernel 2 (the fixed /dev/nvme0n1p1, p2).
NVIDIA_IDS = {"1", "2"}
SECTOR = 512
# The configuration keys that name a partition of this disk. escrow= is a
# partition of a removable disk, never of the flashed one.
CONF_KEYS = ("root", "hashdev", "data", "tee_storage")
# Partitions that must reach the first boot blank.
BLANK = {"data"}


def config_refs(path, problems):
    """{key: partition name} for the PARTLABEL= specs of CONF_KEYS. A
    commented tee_storage line counts: it names the store the layout must
    make before the line is enabled."""
    refs = {}
    try:
        text = open(path, encoding="utf-8").read()
    except OSError as e:
        problems.append("--config %s: cannot read: %s" % (path, e.strerror))
        return refs
    for line in text.splitlines():
        m = re.match(r"^(#?)([a-z_]+)=PARTLABEL=(\S+)\s*$", line)
        if not m:
            continue
        commented, key, name = m.groups()
        if key not in CONF_KEYS or (commented and key != "tee_storage"):
            continue
        if commented and key in refs:
            continue
        refs[key] = name
    return refs


def parse(path, what, problems, comments=False):
    try:
        if comments:
            # NVIDIA's comments (a size to recalculate...) stay in the merge.
            return ET.parse(path, ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))).getroot()
        return ET.parse(path).getroot()
    except ET.ParseError as e:
        problems.append("%s %s: not well-formed XML: %s" % (what, path, e))
    except OSError as e:
        problems.append("%s %s: cannot read: %s" % (what, path, e.strerror))
    return None


def partitions(root):
    dev = root.find("device")
    return dev, ([] if dev is None else dev.findall("partition"))


def number(text):
    t = (text or "").strip()
    try:
        return int(t, 16) if t.lower().startswith("0x") else int(t, 10)
    except ValueError:
        return None


def check_fragment(root, refs, problems):
    if root.tag != "partition_layout":
        problems.append("root element <%s>: expected <partition_layout>" % root.tag)
        return []
    if root.get("version") != "01.00.0000":
        problems.append("partition_layout version=%r: expected \"01.00.0000\", NVIDIA's"
                        % root.get("version"))
    dev, parts = partitions(root)
    if dev is None:
        problems.append("no <device>: expected one <device type=\"external\">")
        return []
    if dev.get("type") != "external":
        problems.append("device type=%r: expected \"external\", as in NVIDIA's NVMe layout"
                        % dev.get("type"))
    if not parts:
        problems.append("no <partition> in <device>")
    names = []
    wanted = {v: k for k, v in refs.items()}
    for p in parts:
        name = p.get("name")
        label = "partition %s" % (name if name else "(no name)")
        if not name:
            problems.append("%s: no name= attribute" % label)
            continue
        for a in sorted(set(p.attrib) - PART_ATTRS):
            problems.append("%s: attribute %s=: not one of NVIDIA's (%s)"
                            % (label, a, ", ".join(sorted(PART_ATTRS))))
        for a in ("encrypted", "reencrypt"):
            if a in p.attrib:
                problems.append("%s: %s=\"%s\": must not be set; it hands the partition to "
                                "NVIDIA's disk encryption (gen_luks), which formats it as "
                                "LUKS with a key sealinit cannot open" % (label, a, p.get(a)))
        if p.get("type") != "data":
            problems.append("%s: type=\"%s\": expected \"data\"" % (label, p.get("type")))
        if "id" in p.attrib:
            if p.get("id") in NVIDIA_IDS:
                problems.append("%s: id=\"%s\": NVIDIA's APP and A_kernel hold ids 1 and 2; "
                                "sealinit finds partitions by name, leave id out"
                                % (label, p.get("id")))
            elif not (p.get("id") or "").isdigit():
                problems.append("%s: id=%r: expected a number" % (label, p.get("id")))
        kids = [c.tag for c in p]
        for t in kids:
            if t not in PART_ELEMS:
                problems.append("%s: element <%s>: not one of NVIDIA's (%s)"
                                % (label, t, ", ".join(sorted(PART_ELEMS))))
        for t in sorted(set(x for x in kids if kids.count(x) > 1)):
            problems.append("%s: <%s> given %d times: expected once" % (label, t, kids.count(t)))
        for t in REQUIRED:
            if t not in kids:
                problems.append("%s: no <%s>: NVIDIA's format requires it" % (label, t))
        ap = p.findtext("allocation_policy")
        if ap is not None and ap.strip() != "sequential":
            problems.append("%s: allocation_policy %r: expected \"sequential\"" % (label, ap.strip()))
        ft = p.findtext("filesystem_type")
        if ft is not None and ft.strip() != "basic":
            problems.append("%s: filesystem_type %r: expected \"basic\"" % (label, ft.strip()))
        sz = p.findtext("size")
        if sz is not None:
            n = number(sz)
            if n is None or n <= 0 or n % SECTOR:
                problems.append("%s: size %r: expected a byte count, decimal or 0x hex, "
                                "a positive multiple of %d" % (label, sz.strip(), SECTOR))
        for t in ("file_system_attribute", "allocation_attribute", "percent_reserved",
                  "align_boundary"):
            v = p.findtext(t)
            if v is not None and number(v) is None:
                problems.append("%s: <%s> %r: expected a number" % (label, t, v.strip()))
        fn = p.findtext("filename")
        key = wanted.get(name)
        if key in BLANK and fn is not None:
            problems.append("%s: <filename>%s</filename>: %s= must reach the first boot "
                            "blank for provisioning; leave the filename out"
                            % (label, fn.strip(), key))
        if fn is not None and not re.fullmatch(r"[A-Za-z0-9._-]+", fn.strip()):
            problems.append("%s: filename %r: expected a plain file name" % (label, fn.strip()))
        if name in names:
            problems.append("%s: name given twice: partition names must be unique" % label)
        names.append(name)
        if name not in wanted:
            problems.append("%s: not referenced by the boot configuration (%s); "
                            "expected one of: %s" % (label, "/".join(CONF_KEYS),
                                                     ", ".join(sorted(wanted)) or "(none)"))
    return names


def check_base(base, names, refs, problems):
    _, parts = partitions(base)
    have = [p.get("name") for p in parts]
    if "APP" not in have:
        problems.append("--base: no partition named APP: not NVIDIA's NVMe layout")
    if not have or have[-1] != "secondary_gpt":
        problems.append("--base: does not end with secondary_gpt: not NVIDIA's NVMe layout")
    for n in names:
        if n in have:
            problems.append("partition %s: already in NVIDIA's layout: partition names "
                            "must be unique" % n)
    for key, n in sorted(refs.items()):
        if n not in have and n not in names:
            problems.append("%s=PARTLABEL=%s: no such partition in NVIDIA's layout or the "
                            "fragment" % (key, n))


def main(argv):
    if len(argv) < 2 or argv[0] not in ("check", "merge"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    cmd, frag = argv[0], argv[1]
    opts = {}
    rest = argv[2:]
    while rest:
        if rest[0] in ("--config", "--base", "--out") and len(rest) > 1:
            opts[rest[0]] = rest[1]
            rest = rest[2:]
        else:
            print("merge-layout.py: unknown argument %r" % rest[0], file=sys.stderr)
            return 2
    if "--config" not in opts or (cmd == "merge" and not ("--base" in opts and "--out" in opts)):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    problems = []
    refs = config_refs(opts["--config"], problems)
    root = parse(frag, "fragment", problems)
    names = check_fragment(root, refs, problems) if root is not None else []
    base = None
    if "--base" in opts:
        base = parse(opts["--base"], "--base", problems, comments=True)
        if base is not None:
            check_base(base, names, refs, problems)
    if problems:
        for p in problems:
            print("merge-layout.py: %s: %s" % (frag, p), file=sys.stderr)
        return 1
    if cmd == "check":
        print("%s: %d partitions (%s), as NVIDIA's format has them" %
              (frag, len(names), ", ".join(names)))
        return 0
    dev, parts = partitions(base)
    at = [p.get("name") for p in parts].index("APP")
    pos = list(dev).index(parts[at])
    _, mine = partitions(root)
    for i, p in enumerate(mine):
        p.tail = "\n        "
        dev.insert(pos + i, p)
    out = ET.tostring(base, encoding="unicode") + "\n"
    out = "<?xml version=\"1.0\"?>\n<!-- NVIDIA's NVMe layout with sealinit's partitions " \
          "(board/jetson-orin-nano/flash-layout-nvme.xml) -->\n" + out
    try:
        old = open(opts["--out"], encoding="utf-8").read()
    except OSError:
        old = None
    if old != out:
        with open(opts["--out"] + ".tmp", "w", encoding="utf-8") as f:
            f.write(out)
        os.replace(opts["--out"] + ".tmp", opts["--out"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
