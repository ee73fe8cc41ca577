#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Check that the reference docs and the code name the same things.

    scripts/check-docs.py [ROOT]      (default: the repository this is in)
    scripts/check-docs.py --inputs    the files it reads, relative to ROOT

Each kind of name is read from the code and from its doc, and every name
found on one side only is reported, naming the file that lacks it:

  keys       the boot configuration's keys: those src/core/bootcfg.c's
             set_key() parses (and src/core/legacy/cfg.c's legacy_*), against
             the key table of docs/boot.md's "Configuration" section; the
             keys only the file may set (file_only() and the keys
             cmdline_word() refuses in every build) against the rows that
             say "file only"; the keys never measured (harmless_keys[])
             against the list in "Keys never measured".
  commands   src/cli/main.c's command table, against docs/cli.md's
             headings (`sealinit NAME ...`).
  options    per command, the long options its mask gives it (main.c's
             masks, src/cli/options.c's table, OPT_TPM of options.h),
             against the options of its section in docs/cli.md: its
             heading, and the first column of its tables; --tcti and
             --tpm-timeout through the commands "Options every TPM command
             takes" names, --config through those "The configuration"
             names. Also: main.c's own options (--verbose...) are in the
             text before the first section, and a `sealinit NAME ...`
             example in docs/*.md or README.md names a command and uses
             only its options.
  exit codes every SI_E* of src/core/errors.h has its row in errors.c's
             table and no row is there twice; every "exit N" in docs/
             (but testing.md, which speaks of the test harness's) is 0, 1,
             2 or a code of that table. (tests/host/cli_help.sh checks
             that `sealinit help', which prints that table, and docs/cli.md's
             exit-code table agree, sentence by sentence.)
  scenarios  the scenario names each tests/qemu/*.sh accepts (the list its
             argument check reads) against the scenario tables of its
             section of tests/qemu/README.md and the scenarios its own
             header lists; a script that takes no scenario names has no
             scenario table.

Each problem is one line, "check: FILE: what". Exit status: 0 none, 1
problems, 2 a file is missing or could not be parsed (an extractor that
finds nothing is an error, not an agreement). Tested by tests/build/docs.sh.
"""
import os
import re
import signal
import sys

BOOTCFG = "src/core/bootcfg.c"
LEGACYCFG = "src/core/legacy/cfg.c"
MAIN = "src/cli/main.c"
OPTIONS_C = "src/cli/options.c"
OPTIONS_H = "src/cli/options.h"
ERRORS_H = "src/core/errors.h"
ERRORS_C = "src/core/errors.c"
BOOT_MD = "docs/boot.md"
CLI_MD = "docs/cli.md"
QEMU_README = "tests/qemu/README.md"
README = "README.md"
QEMU_SCRIPTS = ("tests/qemu/boot.sh", "tests/qemu/prod.sh", "tests/qemu/uefi.sh",
                "tests/qemu/smoke.sh")
# docs/ files whose "exit N" are not sealinit's codes.
EXIT_EXEMPT = ("docs/testing.md",)
INPUTS = (BOOTCFG, LEGACYCFG, MAIN, OPTIONS_C, OPTIONS_H, ERRORS_H, ERRORS_C, BOOT_MD,
          CLI_MD, QEMU_README, README) + QEMU_SCRIPTS


class ParseError(Exception):
    pass


class Checker:
    def __init__(self, root):
        self.root = root
        self.problems = []
        self.counts = {}

    def read(self, rel):
        try:
            with open(os.path.join(self.root, rel), encoding="utf-8") as f:
                return f.read()
        except OSError as e:
            raise ParseError(f"{rel}: {e.strerror}") from e

    def report(self, check, path, what):
        self.problems.append(f"{check}: {path}: {what}")

    def compare(self, check, code_path, code, doc_path, doc, kind):
        """Both directions: in the code and not the doc, and the reverse."""
        for name in sorted(set(code) - set(doc)):
            self.report(check, doc_path, f"{kind} `{name}' ({code_path}) is not documented")
        for name in sorted(set(doc) - set(code)):
            self.report(check, doc_path, f"documents {kind} `{name}', which {code_path} "
                        "does not have")


def function_body(text, path, signature):
    """The text of the C function whose definition starts with signature."""
    start = text.find(signature)
    if start < 0:
        raise ParseError(f"{path}: no `{signature}'")
    end = text.find("\n}\n", start)
    if end < 0:
        raise ParseError(f"{path}: `{signature}' has no end")
    return text[start:end]


def nonempty(found, path, what):
    if not found:
        raise ParseError(f"{path}: found no {what}")
    return found


def md_sections(text, level):
    """[(heading, body)] for the headings of exactly this level; the text
    before the first one has heading None. Fenced code is not a heading."""
    out, heading, body, fence = [], None, [], False
    mark = "#" * level + " "
    for line in text.split("\n"):
        if line.startswith("```"):
            fence = not fence
        if not fence and line.startswith(mark):
            out.append((heading, "\n".join(body)))
            heading, body = line[len(mark):].strip(), []
        else:
            body.append(line)
    out.append((heading, "\n".join(body)))
    return out


def md_tables(text):
    """[(header cells, [row cells])] of the pipe tables in text."""
    tables, rows = [], []
    for line in text.split("\n") + [""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows.append(cells)
            continue
        if len(rows) >= 2 and re.fullmatch(r"[-: ]+", "".join(rows[1])):
            tables.append((rows[0], rows[2:]))
        rows = []
    return tables


def first_paragraph(text):
    """The first paragraph of prose (not a table, not code) in text."""
    for p in text.split("\n\n"):
        p = p.strip()
        if p and not p.startswith(("|", "```")):
            return p
    return ""


def code_spans(text):
    """The text of each `code span` and each line of fenced code."""
    out, fence = [], False
    for line in text.split("\n"):
        if line.startswith("```"):
            fence = not fence
            continue
        if fence:
            out.append(line)
        else:
            out.extend(re.findall(r"`([^`]+)`", line))
    return out


LONGOPT = re.compile(r"(?<![\w-])--([a-z0-9][a-z0-9-]*)")


# --- configuration keys -----------------------------------------------------

def check_keys(c):
    src = c.read(BOOTCFG)
    body = function_body(src, BOOTCFG, "static int set_key(")
    keys = set(re.findall(r'!strcmp\(key, "([a-z0-9_]+)"\)', body))
    if 'strncmp(key, "legacy_", 7)' in body:
        lbody = function_body(c.read(LEGACYCFG), LEGACYCFG, "int si_legacy_cfg_set(")
        keys |= {"legacy_" + k for k in nonempty(
            re.findall(r'!strcmp\(key, "([a-z0-9_]+)"\)', lbody), LEGACYCFG, "legacy_ keys")}
    nonempty(keys, BOOTCFG, "keys in set_key()")
    fbody = function_body(src, BOOTCFG, "static const char *file_only(")
    file_only = set(nonempty(re.findall(r'\{ "([a-z0-9_]+)",', fbody), BOOTCFG,
                             "keys in file_only()"))
    # The keys cmdline_word() refuses in every build, before lockdown.
    m = re.search(r'if \(((?:!strcmp\(key, "[a-z0-9_]+"\)\s*\|\|\s*)*'
                  r'!strcmp\(key, "[a-z0-9_]+"\))\)\s*\{\s*si_diag_set\(d, "`%s\': set only '
                  r'in the initramfs configuration', src)
    if not m:
        raise ParseError(f"{BOOTCFG}: no refusal of the keys set only in the initramfs "
                         "configuration")
    file_only |= set(re.findall(r'"([a-z0-9_]+)"', m.group(1)))
    hbody = src[src.find("harmless_keys[] = {"):]
    hbody = hbody[:hbody.find("};")]
    unmeasured = set(nonempty(re.findall(r'\{ "([a-z0-9_]+)", offsetof', hbody), BOOTCFG,
                              "keys in harmless_keys[]"))
    for k in sorted((file_only | unmeasured) - keys):
        c.report("keys", BOOTCFG, f"`{k}' is in a key list but set_key() does not parse it")

    doc = c.read(BOOT_MD)
    sections = dict(md_sections(doc, 2))
    if "Configuration" not in sections:
        raise ParseError(f"{BOOT_MD}: no section \"## Configuration\"")
    documented, doc_file_only = set(), set()
    for header, rows in md_tables(sections["Configuration"]):
        if header[0] != "key":
            continue
        for row in rows:
            m = re.fullmatch(r"`([a-z0-9_]+)`", row[0])
            if not m:
                c.report("keys", BOOT_MD, f"a key table row whose key is not one `key`: {row[0]}")
                continue
            documented.add(m.group(1))
            if re.search(r"file only", " ".join(row[1:]), re.I):
                doc_file_only.add(m.group(1))
    nonempty(documented, BOOT_MD, "key table rows under \"## Configuration\"")
    c.compare("keys", BOOTCFG, keys, BOOT_MD, documented, "configuration key")
    c.compare("keys", BOOTCFG, file_only, BOOT_MD, doc_file_only & keys,
              "file-only key (a row saying \"file only\")")
    sub = dict(md_sections(doc, 3))
    if "Keys never measured" not in sub:
        raise ParseError(f"{BOOT_MD}: no section \"### Keys never measured\"")
    first = first_paragraph(sub["Keys never measured"])
    doc_unmeasured = set(re.findall(r"`([a-z0-9_]+)`", first)) & keys
    c.compare("keys", BOOTCFG, unmeasured, BOOT_MD, doc_unmeasured,
              "key never measured (\"Keys never measured\")")
    c.counts["configuration keys"] = len(keys)


# --- commands and options ---------------------------------------------------

def code_commands(c):
    """{command: set of long options}, and main.c's own long options."""
    opts_c = c.read(OPTIONS_C)
    table = opts_c[opts_c.find("options[] = {"):]
    table = table[:table.find("\n};")]
    bit_opt = {}
    for name, bit in re.findall(r'\{ "([a-z0-9-]+)", (?:no|required|optional)_argument, '
                                r"[^,]+, (OPT_[A-Z_]+),", table):
        bit_opt[bit] = name
    nonempty(bit_opt, OPTIONS_C, "options in options[]")
    opts_h = c.read(OPTIONS_H)
    bits = set(re.findall(r"#define (OPT_[A-Z_]+)\s+\(UINT64_C\(1\)", opts_h))
    groups = {g: re.findall(r"OPT_[A-Z_]+", v) for g, v in
              re.findall(r"#define (OPT_[A-Z_]+) \(((?:OPT_[A-Z_]+ \| )*OPT_[A-Z_]+)\)", opts_h)}
    for bit in sorted(set(bit_opt) - bits):
        c.report("options", OPTIONS_H, f"options.c's --{bit_opt[bit]} uses {bit}, not defined")

    main = c.read(MAIN)
    cmds = {}
    table = main[main.find("commands[] = {"):]
    table = table[:table.find("\n};")]
    for name, mask in re.findall(r'\{ "([a-z-]+)", [a-z_]+_main,\s*((?:OPT_[A-Z_]+\s*\|?\s*)+),',
                                 table):
        opts = set()
        for bit in re.findall(r"OPT_[A-Z_]+", mask):
            for b in groups.get(bit, [bit]):
                if b in bit_opt:
                    opts.add(bit_opt[b])
                elif b not in bits:
                    c.report("options", MAIN, f"{name} takes {b}, which {OPTIONS_H} lacks")
        cmds[name] = opts
    nonempty(cmds, MAIN, "commands in commands[]")
    n_entries = len(re.findall(r'\{ "[a-z-]+", [a-z_]+_main,', table))
    if n_entries != len(cmds):
        raise ParseError(f"{MAIN}: read the masks of {len(cmds)} of {n_entries} commands")
    own = set(re.findall(r'strcmp\(argv\[1\], "--([a-z-]+)"\)', main))
    return cmds, set(bit_opt.values()), own


def check_cli(c):
    cmds, all_opts, own = code_commands(c)
    doc = c.read(CLI_MD)
    sections = md_sections(doc, 2)
    doc_cmds, shared = {}, {}
    for heading, body in sections:
        if heading is None:
            if not re.search(r"\bsealinit\b", body):
                raise ParseError(f"{CLI_MD}: no text before the first section")
            for o in sorted(own):
                if f"--{o}" not in body:
                    c.report("options", CLI_MD, f"main.c's own option `--{o}' is not in the "
                             "text before the first section")
            continue
        spans = re.findall(r"`sealinit ([a-z][a-z-]*)([^`]*)`", heading)
        opts = set()
        for header, rows in md_tables(body):
            for row in rows:
                if row[0].startswith("`--"):
                    opts |= set(LONGOPT.findall(row[0]))
        if not spans:
            # A section for several commands: its table's options, for the
            # commands its first paragraph names.
            names = set(re.findall(r"`([a-z][a-z-]*)`", first_paragraph(body)))
            if heading == "The configuration":
                opts = {"config"}
            if opts:
                shared[heading] = (names, opts)
            continue
        for name, usage in spans:
            doc_cmds.setdefault(name, set()).update(set(LONGOPT.findall(usage)) | opts)
    c.compare("commands", MAIN, cmds, CLI_MD, doc_cmds, "command (a `sealinit NAME' heading)")
    for heading, (names, opts) in shared.items():
        for name in sorted(names & set(cmds)):
            doc_cmds.setdefault(name, set()).update(opts)
        takers = {n for n, o in cmds.items() if opts & o}
        for name in sorted(takers - names):
            c.report("options", CLI_MD, f"\"{heading}\" does not name `{name}', which takes "
                     + ", ".join(f"--{o}" for o in sorted(opts & cmds[name])))
    for name in sorted(set(cmds) & set(doc_cmds)):
        for o in sorted(cmds[name] - doc_cmds[name]):
            c.report("options", CLI_MD, f"{name}: option `--{o}' ({MAIN}'s mask) is not in its "
                     "heading or tables")
        for o in sorted(doc_cmds[name] - cmds[name]):
            where = "an option no command takes" if o not in all_opts else "not one it takes"
            c.report("options", CLI_MD, f"{name}: documents `--{o}', {where}")
    # Examples: `sealinit NAME ...` in code, in every doc.
    docs = os.path.join(c.root, "docs")
    for path in [f"docs/{f}" for f in sorted(os.listdir(docs)) if f.endswith(".md")] + [README]:
        for span in code_spans(c.read(path)):
            for m in re.finditer(r"(?:^\s*(?:\$ |# )?|[;|] |&& |\$\()sealinit "
                                 r"((?:-v\s+)*)([a-z][a-z-]*)([^;|&)]*)", span):
                name, rest = m.group(2), m.group(3)
                if name not in cmds:
                    c.report("options", path, f"example `{span.strip()}': no command `{name}'")
                    continue
                for o in LONGOPT.findall(rest):
                    if o not in cmds[name] and o not in ("help",):
                        c.report("options", path, f"example `{span.strip()}': {name} takes "
                                 f"no `--{o}'")
    c.counts["commands"] = len(cmds)
    c.counts["command options"] = sum(len(o) for o in cmds.values())


# --- exit codes ---------------------------------------------------------------

def check_exit_codes(c):
    h = c.read(ERRORS_H)
    enum = h[h.find("enum si_error {"):]
    enum = enum[:enum.find("};")]
    names = re.findall(r"^\s*(SI_E[A-Z]+),", enum, re.M)
    names = [n for n in names if n not in ("SI_EBASE", "SI_EMAX")]
    nonempty(names, ERRORS_H, "SI_E* codes")
    t = c.read(ERRORS_C)
    table = t[t.find("table[] = {"):]
    table = table[:table.find("};")]
    rows = re.findall(r'\{ (SI_E[A-Z]+),\s+(\d+),', table)
    nonempty(rows, ERRORS_C, "rows in table[]")
    for n in sorted(set(names) - {r[0] for r in rows}):
        c.report("exit codes", ERRORS_C, f"{n} ({ERRORS_H}) has no row in table[]: it would "
                 "exit 1 as \"unknown error\", and `sealinit help' would not list it")
    for n in sorted({r[0] for r in rows} - set(names)):
        c.report("exit codes", ERRORS_C, f"table[] has a row for {n}, which {ERRORS_H} does "
                 "not define")
    exits = [int(r[1]) for r in rows]
    for r in rows:
        if [x[0] for x in rows].count(r[0]) > 1:
            c.report("exit codes", ERRORS_C, f"{r[0]} has more than one row")
    for e in sorted(set(exits)):
        if exits.count(e) > 1:
            c.report("exit codes", ERRORS_C, f"exit code {e} is given to more than one code")
    if exits != sorted(exits):
        c.report("exit codes", ERRORS_C, "table[] is not in ascending exit-code order "
                 "(si_error_at() promises it)")
    known = {0, 1, 2} | set(exits)
    docs = os.path.join(c.root, "docs")
    for f in sorted(os.listdir(docs)) if os.path.isdir(docs) else []:
        rel = f"docs/{f}"
        if not f.endswith(".md") or rel in EXIT_EXEMPT:
            continue
        text = c.read(rel)
        for m in re.finditer(r"\b(?:exit|exits|exit code|exit-code meaning|exit status) (\d+)\b",
                             text):
            if int(m.group(1)) not in known:
                line = text.count("\n", 0, m.start()) + 1
                c.report("exit codes", f"{rel}:{line}", f"`{m.group(0)}': sealinit has no exit "
                         f"code {m.group(1)} ({ERRORS_C})")
    c.counts["exit codes"] = len(known)


# --- QEMU scenarios -----------------------------------------------------------

def script_scenarios(c, path):
    """The names the script's argument check accepts; None: it takes none."""
    text = c.read(path)
    m = re.search(r'case " \$([A-Za-z_]+) " in \*" \$[a-z]+ "\*\)', text)
    if not m:
        return None, text
    var = m.group(1)
    a = re.search(rf'^{var}="([^"]*)"', text, re.M)
    if not a:
        raise ParseError(f"{path}: checks scenarios against ${var}, which it never sets")
    return set(a.group(1).split()), text


def check_scenarios(c):
    readme = c.read(QEMU_README)
    by_script = {}
    for heading, body in md_sections(readme, 2):
        m = re.match(r"`?([a-z]+\.sh)`?\b", heading or "")
        if not m:
            continue
        names = set()
        for header, rows in md_tables(body):
            if header[0] != "scenario":
                continue
            for row in rows:
                names |= set(re.findall(r"`([a-z0-9-]+)`", row[0]))
        by_script[m.group(1)] = names
    total = 0
    for path in QEMU_SCRIPTS:
        base = os.path.basename(path)
        accepted, text = script_scenarios(c, path)
        documented = by_script.get(base, set())
        if accepted is None:
            for n in sorted(documented):
                c.report("scenarios", QEMU_README, f"lists scenario `{n}' under {base}, which "
                         "takes no scenario names")
            continue
        nonempty(accepted, path, "scenario names")
        total += len(accepted)
        if base not in by_script:
            c.report("scenarios", QEMU_README, f"no section for {base} (a \"## {base}: ...\" "
                     "heading with a scenario table)")
        c.compare("scenarios", path, accepted, QEMU_README, documented, f"{base} scenario")
        header = []
        for line in text.split("\n")[1:]:
            if not line.startswith("#"):
                break
            header.append(line)
        listed = set()
        for line in header:
            m = re.match(r"#   ([a-z][a-z0-9-]*)(?: {2,}|$)", line)
            if m:
                listed.add(m.group(1))
        c.compare("scenarios", path, accepted, f"{path} (its header)", listed,
                  f"{base} scenario")
    c.counts["QEMU scenarios"] = total


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = sys.argv[1:]
    if args == ["--inputs"]:
        print("\n".join(INPUTS))
        return 0
    if len(args) > 1 or (args and args[0].startswith("-")):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    root = args[0] if args else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    c = Checker(root)
    try:
        check_keys(c)
        check_cli(c)
        check_exit_codes(c)
        check_scenarios(c)
    except ParseError as e:
        print(f"check-docs: {e}", file=sys.stderr)
        return 2
    for p in c.problems:
        print(p)
    if c.problems:
        print(f"check-docs: {len(c.problems)} problem(s)", file=sys.stderr)
        return 1
    print("check-docs: ok: " + ", ".join(f"{n} {k}" for k, n in c.counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
