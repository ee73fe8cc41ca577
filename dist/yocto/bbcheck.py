#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Static checks of meta-sealinit that need no BitBake (tests/build/yocto.sh).

A small reader of BitBake's metadata syntax: statements one a logical line
(backslash continuation), `VAR[:override...][flag] OP "value"` with the
operators =, ?=, ??=, :=, +=, =+, .=, =., inherit/require/include,
export, shell and python functions, addtask/deltask. Anything else is
refused with its file and line, as BitBake's parser would refuse it. Values
expand ${VAR} and ${@python} with a datastore that knows the overrides
given (as a MACHINE would set them), :append/:prepend/:remove.

usage: bbcheck.py LAYER REPO check [--machine-overrides a:b]
       bbcheck.py LAYER REPO shell RECIPE TASK... [--machine-overrides a:b] [--set VAR=VAL...]
       bbcheck.py LAYER REPO files RECIPE DESTDIR [--machine-overrides a:b]
"""
import glob, hashlib, os, re, sys

# Every OE-core series name (LAYERSERIES_CORENAMES over OE-core's history).
RELEASES = """rocko sumo thud warrior zeus dunfell gatesgarth hardknott honister
kirkstone langdale mickledore nanbield scarthgap styhead walnascar whinlatter
wrynose blacksail""".split()

# pkg-config name or static library (Makefile) -> the recipe that provides it.
PC_RECIPE = {"libcryptsetup": "cryptsetup", "json-c": "json-c", "blkid": "util-linux",
             "tss2-esys": "tpm2-tss", "tss2-mu": "tpm2-tss", "tss2-rc": "tpm2-tss",
             "tss2-tctildr": "tpm2-tss", "tss2-fapi": "tpm2-tss", "tss2-sys": "tpm2-tss",
             "libcurl": "curl", "mbedcrypto": "mbedtls", "libseccomp": "libseccomp",
             "openssl": "openssl", "libcrypto": "openssl", "uuid": "util-linux"}
# dlopen()ed soname (initramfs/manifest) -> the package that ships it.
SONAME_PKG = {"libtss2-tcti-device.so.0": "libtss2-tcti-device", "libgcc_s.so.1": "libgcc",
              "libcurl.so.4": "libcurl"}

ERRORS = []
def err(msg):
    ERRORS.append(msg)

ASSIGN = re.compile(r'^(export\s+)?([A-Za-z0-9_\-${}./+~]+(?::[A-Za-z0-9_\-${}.~+]+)*)(\[[A-Za-z0-9_\-${}.]+\])?'
                    r'\s*(\?\?=|\?=|:=|\+=|=\+|\.=|=\.|=)\s*(["\'])(.*)\5\s*$', re.S)
OTHER = [re.compile(p) for p in (
    r'^inherit\s+[A-Za-z0-9_\-${}@.\' ]+$', r'^(require|include)\s+\S+$',
    r'^export\s+[A-Za-z0-9_]+$', r'^(addtask|deltask)\s+\S.*$', r'^addpylib\s+\S+\s+\S+$',
    r'^EXPORT_FUNCTIONS\s+.+$')]
FUNC = re.compile(r'^(python\s+|fakeroot\s+)*([A-Za-z0-9_\-${}.:]+)\s*\(\)\s*\{\s*$|^python\s*\(\)\s*\{\s*$')

def read_statements(path):
    """[(lineno, kind, data)] or errors for what BitBake would not parse."""
    out = []
    lines = open(path).read().split('\n')
    i = 0
    while i < len(lines):
        start = i
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith('#'):
            # A comment continued with a backslash swallows the next line
            # (BitBake warns); refuse it.
            if line.rstrip().endswith('\\') and line.lstrip().startswith('#'):
                err(f"{path}:{start+1}: comment ends in a backslash")
            continue
        m = FUNC.match(line)
        if m:
            body = []
            while i < len(lines) and lines[i].rstrip() != '}':
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                err(f"{path}:{start+1}: function never closed with a '}}' line")
                break
            i += 1
            out.append((start + 1, 'func', (m.group(2) or '__anonymous', '\n'.join(body))))
            continue
        while line.endswith('\\'):
            if i >= len(lines):
                err(f"{path}:{start+1}: continuation at end of file")
                break
            line = line[:-1] + lines[i]
            i += 1
        m = ASSIGN.match(line)
        if m:
            val = m.group(6)
            q = m.group(5)
            if q in val.replace('\\' + q, ''):
                err(f"{path}:{start+1}: unbalanced quotes: {line.strip()}")
                continue
            out.append((start + 1, 'set', (m.group(2), m.group(3), m.group(4), val)))
            continue
        if any(p.match(line.strip()) for p in OTHER):
            out.append((start + 1, 'other', line.strip()))
            continue
        err(f"{path}:{start+1}: not BitBake syntax: {line.strip()}")
    return out

class Data:
    def __init__(self, overrides):
        self.v, self.flags, self.funcs, self.overrides = {}, {}, {}, overrides
        self.ops = []   # (var, override-chain, op, value) applied at finalize
    def getVar(self, name, expand=True):
        if name in self.funcs:
            return self.funcs[name]
        val = self.v.get(name)
        return self.expand(val) if (val is not None and expand) else val
    def setVar(self, name, val):
        self.v[name] = val
    def getVarFlag(self, name, flag, expand=True):
        val = self.flags.get((name, flag))
        return self.expand(val) if (val is not None and expand) else val
    def expand(self, s, depth=0):
        if s is None or depth > 30:
            return s
        def var(m):
            n = m.group(1)
            val = self.getVar(n, False)
            return m.group(0) if val is None else self.expand(val, depth + 1)
        def py(m):
            return str(eval(m.group(1), {'d': self, 'bb': BB, 'os': os, 'oe': None}))
        prev = None
        while prev != s:
            prev = s
            s = re.sub(r'\$\{([A-Za-z0-9_\-+./~:]+)\}', var, s)
            s = re.sub(r'\$\{@((?:[^{}]|\{[^{}]*\})+)\}', py, s)
        return s
    def apply(self, name, flag, op, val):
        # VAR:o1:o2 is its own variable (RDEPENDS:${PN}, VAR:machine); an
        # :append/:prepend/:remove applies at finalize when the overrides
        # after it are active (PACKAGE_INSTALL:append:tegra264).
        parts = [self.expand(x) for x in name.split(':')]
        kws = [i for i, x in enumerate(parts) if x in ('append', 'prepend', 'remove')]
        if flag:
            f, key = flag[1:-1], ':'.join(parts)
            cur = self.flags.get((key, f))
            if op in ('?=', '??=') and cur is not None:
                return
            self.flags[(key, f)] = val if op in ('=', '?=', '??=') else (
                (cur or '') + ' ' + val if op == '+=' else val + ' ' + (cur or ''))
            return
        if kws:
            i = kws[0]
            self.ops.append((':'.join(parts[:i]), parts[i], parts[i + 1:], val))
            return
        key = ':'.join(parts)
        cur = self.v.get(key)
        if op in ('?=', '??='):
            if cur is None:
                self.v[key] = val
        elif op == '=':
            self.v[key] = val
        elif op == ':=':
            self.v[key] = self.expand(val)
        elif op == '+=':
            self.v[key] = (cur + ' ' if cur else '') + val
        elif op == '=+':
            self.v[key] = val + (' ' + cur if cur else '')
        elif op == '.=':
            self.v[key] = (cur or '') + val
        elif op == '=.':
            self.v[key] = val + (cur or '')
    def finalize(self):
        for key in [k for k in self.v if isinstance(k, str) and ':' in k]:
            base, *ovr = key.split(':')
            if ovr and all(o in self.overrides for o in ovr):
                self.v[base] = self.v[key]
        for kind in ('append', 'prepend', 'remove'):
            for key, kw, cond, val in self.ops:
                if kw != kind or not all(o in self.overrides for o in cond):
                    continue
                cur = self.v.get(key, '')
                if kind == 'append':
                    self.v[key] = cur + val
                elif kind == 'prepend':
                    self.v[key] = val + cur
                else:
                    rm = set(self.expand(val).split())
                    self.v[key] = ' '.join(w for w in self.expand(cur).split() if w not in rm)

class BB:
    class utils:
        @staticmethod
        def contains(var, items, t, f, d):
            have = set((d.getVar(var) or '').split())
            return t if set(items.split()) <= have else f

def load(d, path, layer, seen=None):
    for lineno, kind, data in read_statements(path):
        if kind == 'set':
            d.apply(*data)
        elif kind == 'func':
            d.funcs[data[0]] = data[1]
        elif data.startswith('inherit '):
            for cls in d.expand(data[8:]).split():
                cpath = os.path.join(layer, 'classes', cls + '.bbclass')
                if os.path.exists(cpath):
                    load(d, cpath, layer)
                else:
                    d.v.setdefault('__inherits', '')
                    d.v['__inherits'] += ' ' + cls

DEFAULTS = {
    'prefix': '/usr', 'exec_prefix': '/usr', 'sbindir': '/usr/sbin', 'bindir': '/usr/bin',
    'libdir': '/usr/lib', 'libexecdir': '/usr/libexec', 'datadir': '/usr/share',
    'sysconfdir': '/etc', 'includedir': '/usr/include', 'docdir': '/usr/share/doc',
    'mandir': '/usr/share/man', 'MAKE': 'make', 'PARALLEL_MAKE': '-j 2', 'PARALLEL_MAKEINST': '-j 2',
}

def recipe_data(layer, recipe, overrides, sets=()):
    d = Data(overrides)
    for k, v in DEFAULTS.items():
        d.v[k] = v
    for s in sets:
        k, v = s.split('=', 1)
        d.v[k] = v
    pn = os.path.basename(recipe).split('_')[0].replace('.bb', '')
    d.v.update(PN=pn, BPN=pn, FILE=recipe, FILE_DIRNAME=os.path.dirname(recipe))
    d.v.setdefault('WORKDIR', '/WORKDIR')
    load(d, recipe, layer)
    # bbappends: BBFILES_DYNAMIC's for collections in `tegra' overrides, plus the layer's own
    for app in glob.glob(os.path.join(layer, '**', '*.bbappend'), recursive=True):
        name = os.path.basename(app)[:-len('.bbappend')]
        if not re.fullmatch(name.replace('%', '.*'), os.path.basename(recipe)[:-3]):
            continue
        dyn = re.match(r'.*/dynamic-layers/([^/]+)/', app)
        if dyn and dyn.group(1) not in overrides:
            continue
        load(d, app, layer)
    d.v.setdefault('PACKAGES', '')
    d.v['PACKAGES'] = d.v['PACKAGES'] + ' ${PN}-src ${PN}-dbg ${PN}-staticdev ${PN}-dev ${PN}-doc ${PN}-locale ${PN}'
    d.finalize()
    return d

def shell_script(d, tasks):
    """The tasks as BitBake runs them: the body with its variables expanded."""
    s = ['#!/bin/sh', 'set -e', 'bbnote() { :; }', 'bbfatal() { echo "$*" >&2; exit 1; }',
         'die() { bbfatal "$@"; }']
    for t in tasks:
        d.v['__task_extra'] = ''
        extra = d.getVar('EXTRA_OEMAKE') or ''
        if t == 'do_compile':
            extra = d.getVar('PARALLEL_MAKE') + ' ' + extra
        if t == 'do_install':
            extra = d.getVar('PARALLEL_MAKEINST') + ' ' + extra
        s.append(f'oe_runmake() {{ {d.getVar("MAKE")} {extra} "$@" || die "oe_runmake failed"; }}')
        body = d.funcs.get(t)
        if body is None:
            raise SystemExit(f'no {t} in the recipe')
        s.append(f'{t}() {{\n{d.expand(body)}\n}}')
        s.append(f'( cd "{d.getVar("B")}" && {t} )')
    return '\n'.join(s) + '\n'

def layer_checks(layer, repo):
    conf = os.path.join(layer, 'conf', 'layer.conf')
    d = Data([])
    d.v['LAYERDIR'] = layer
    load(d, conf, layer)
    d.finalize()
    cols = (d.getVar('BBFILE_COLLECTIONS') or '').split()
    if len(cols) != 1:
        err(f"{conf}: BBFILE_COLLECTIONS adds {cols}, want one collection")
        return
    c = cols[0]
    for v in ('BBFILE_PATTERN', 'BBFILE_PRIORITY', 'LAYERSERIES_COMPAT', 'LAYERDEPENDS'):
        if not d.getVar(f'{v}_{c}'):
            err(f"{conf}: no {v}_{c}")
    pri = d.getVar(f'BBFILE_PRIORITY_{c}') or ''
    if pri and not pri.isdigit():
        err(f"{conf}: BBFILE_PRIORITY_{c} = \"{pri}\", want a number")
    pat = d.getVar(f'BBFILE_PATTERN_{c}') or ''
    if pat and not re.match(pat, layer + '/'):
        err(f"{conf}: BBFILE_PATTERN_{c} \"{pat}\" does not match the layer's own path")
    for name in (d.getVar(f'LAYERSERIES_COMPAT_{c}') or '').split():
        if name not in RELEASES:
            err(f"{conf}: LAYERSERIES_COMPAT_{c} names \"{name}\", not a Yocto release ({' '.join(RELEASES)})")
    if 'tegra' in (d.getVar(f'LAYERDEPENDS_{c}') or '').split():
        err(f"{conf}: LAYERDEPENDS_{c} names tegra: meta-tegra must stay optional (BBFILES_DYNAMIC)")
    # every recipe and bbappend is reached by BBFILES or BBFILES_DYNAMIC
    globs = (d.getVar('BBFILES') or '').split()
    for ent in (d.getVar('BBFILES_DYNAMIC') or '').split():
        if ':' not in ent:
            err(f"{conf}: BBFILES_DYNAMIC entry \"{ent}\" is not COLLECTION:PATTERN")
            continue
        col, g = ent.split(':', 1)
        if not glob.glob(g):
            err(f"{conf}: BBFILES_DYNAMIC entry \"{ent}\" matches no file")
        globs.append(g)
    reached = {f for g in globs for f in glob.glob(g)}
    for f in glob.glob(os.path.join(layer, '**', '*.bb*'), recursive=True):
        if f.endswith(('.bb', '.bbappend')) and f not in reached:
            err(f"{f}: reached by neither BBFILES nor BBFILES_DYNAMIC")
    for f in glob.glob(os.path.join(layer, '**', '*'), recursive=True):
        if f.endswith(('.conf', '.bb', '.bbappend', '.bbclass')) and f != conf:
            read_statements(f)

def recipe_checks(layer, repo, overrides, sets=()):
    for recipe in glob.glob(os.path.join(layer, '**', '*.bb'), recursive=True):
        if '/dynamic-layers/' in recipe and not any(f'/dynamic-layers/{o}/' in recipe for o in overrides):
            continue
        d = recipe_data(layer, recipe, overrides, sets)
        srcs = (d.getVar('SRC_URI') or '').split()
        fdir = os.path.dirname(recipe)
        apps = [os.path.dirname(a) for a in glob.glob(os.path.join(layer, '**', '*.bbappend'), recursive=True)]
        for u in srcs:
            if u.startswith('file://'):
                f = u[7:].split(';')[0]
                cands = [os.path.join(x, sub, f) for x in [fdir] + apps
                         for sub in (d.getVar('BPN'), 'files', '')]
                if not any(os.path.exists(p) for p in cands):
                    err(f"{recipe}: SRC_URI {u}: no such file in {fdir}/{{{d.getVar('BPN')},files}}")
            m = re.match(r'git://([^;]*);(.*)', u)
            if m and 'protocol=file' in m.group(2):
                if not os.path.exists(os.path.join(m.group(1), '.git')):
                    err(f"{recipe}: SRC_URI {u}: {m.group(1)} is not a git checkout")
                elif os.path.realpath(m.group(1)) != os.path.realpath(repo):
                    err(f"{recipe}: SRC_URI {u}: {m.group(1)} is not this checkout ({repo})")
        for (var, flag), val in d.flags.items():
            if var == 'PACKAGECONFIG' and len(d.expand(val).split(',')) > 6:
                err(f"{recipe}: PACKAGECONFIG[{flag}] = \"{val}\": more than the 6 fields "
                    "(enable,disable,depends,rdepends,rrecommends,conflicts) BitBake takes")
        lic = d.getVar('LIC_FILES_CHKSUM') or ''
        for u in lic.split():
            m = re.match(r'file://([^;]+)(.*)', u)
            if not m:
                continue
            p = dict(kv.split('=', 1) for kv in m.group(2).split(';') if '=' in kv)
            srcroot = repo if 'sealinit_' in recipe else os.path.dirname(recipe)
            f = os.path.join(srcroot, m.group(1))
            if not os.path.exists(f):
                err(f"{recipe}: LIC_FILES_CHKSUM {u}: no such file {f}")
                continue
            lines = open(f, 'rb').read().splitlines(True)
            b, e = int(p.get('beginline', 1)), int(p.get('endline', len(lines)))
            got = hashlib.md5(b''.join(lines[b - 1:e])).hexdigest()
            if got != p.get('md5'):
                err(f"{recipe}: LIC_FILES_CHKSUM {u}: md5 of {f} lines {b}-{e} is {got}")

def dep_checks(layer, repo, sets=()):
    recipe = glob.glob(os.path.join(layer, 'recipes-*', 'sealinit', 'sealinit_*.bb'))[0]
    d = recipe_data(layer, recipe, [], sets)
    mk = open(os.path.join(repo, 'Makefile')).read()
    def mkvar(name):
        m = re.search(rf'^{name}\s*:?=(.*)$', mk, re.M)
        if not m:
            err(f"Makefile: no {name} (the test reads the link list from it)")
            return []
        return m.group(1).split()
    always = re.sub(r'\$\(if .*', '', ' '.join(mkvar('PKGS'))).split()
    tpm2 = mkvar('PKGS_TPM2')
    curl = re.findall(r'CONFIG_LEGACY_NET\)\),([A-Za-z0-9_.-]+)\)', mk)
    static = re.findall(r'-l:lib([A-Za-z0-9_]+)\.a', mk)
    if not always or not tpm2 or not curl or not static:
        err(f"Makefile: cannot read its libraries (PKGS {always}, PKGS_TPM2 {tpm2}, legacy {curl}, static {static})")
    depends = set((d.getVar('DEPENDS') or '').split())
    pc = {f: d.expand(v).split(',') for (var, f), v in d.flags.items() if var == 'PACKAGECONFIG'}
    def need(names, have, where):
        for n in names:
            r = PC_RECIPE.get(n)
            if r is None:
                err(f"Makefile links {n}: this test cannot map it to a recipe (add it to PC_RECIPE)")
            elif r not in have:
                err(f"{recipe}: the Makefile links {n} (recipe {r}), but {where} lacks {r}")
    need(always + static, depends, 'DEPENDS')
    need(tpm2, set(pc.get('tpm2', ['', '', ''])[2].split()) | depends, 'PACKAGECONFIG[tpm2] (3rd field)')
    need(curl, set(pc.get('legacy', ['', '', ''])[2].split()) | depends, 'PACKAGECONFIG[legacy] (3rd field)')
    # the manifest's dlopen()ed libraries -> RDEPENDS
    rdeps = set((d.getVar('RDEPENDS:' + d.getVar('PN')) or '').split())
    for line in open(os.path.join(repo, 'initramfs', 'manifest')):
        f = line.split()
        if len(f) == 3 and f[1] == 'dlopen':
            pkg = SONAME_PKG.get(f[2])
            where = {'sealinit': rdeps, 'legacy': set(pc.get('legacy', ['', '', '', ''])[3].split())}.get(f[0], rdeps)
            if f[0] == 'sealinit' and pkg == 'libtss2-tcti-device':
                where = set(pc.get('tpm2', ['', '', '', ''])[3].split()) | rdeps
            if pkg is None:
                err(f"initramfs/manifest dlopen()s {f[2]}: this test cannot map it to a package (SONAME_PKG)")
            elif pkg not in where:
                err(f"{recipe}: initramfs/manifest: {f[2]} is dlopen()ed ({f[0]}), but no RDEPENDS names {pkg}")

def files_check(d, dest):
    pkgs = d.expand(d.getVar('PACKAGES', False)).split()
    pats = []
    for p in pkgs:
        for pat in (d.getVar('FILES:' + p) or '').split():
            pats.append((p, pat))
    unshipped = []
    for root, dirs, files in os.walk(dest):
        for f in files + [x for x in dirs if os.path.islink(os.path.join(root, x))]:
            path = '/' + os.path.relpath(os.path.join(root, f), dest)
            if not any(glob.fnmatch.fnmatch(path, pat) or path.startswith(pat.rstrip('/') + '/')
                       for _, pat in pats):
                unshipped.append(path)
    for u in sorted(unshipped):
        err(f"installed but not shipped in any package: {u}")

def main():
    layer, repo, cmd = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
    args = sys.argv[4:]
    ovr, sets = [], []
    while '--machine-overrides' in args:
        i = args.index('--machine-overrides'); ovr = args[i + 1].split(':'); del args[i:i + 2]
    while '--set' in args:
        i = args.index('--set'); sets.append(args[i + 1]); del args[i:i + 2]
    if cmd == 'check':
        layer_checks(layer, repo)
        recipe_checks(layer, repo, ovr, sets)
        dep_checks(layer, repo, sets)
    elif cmd == 'shell':
        d = recipe_data(layer, os.path.join(layer, args[0]), ovr, sets)
        if not ERRORS:
            sys.stdout.write(shell_script(d, args[1:]))
    elif cmd == 'func':   # a class/recipe function, expanded (the rootfs postprocess)
        d = recipe_data(layer, os.path.join(layer, args[0]), ovr, sets)
        print(f'{args[1]}() {{\n{d.expand(d.funcs[args[1]])}\n}}')
    elif cmd == 'files':
        d = recipe_data(layer, os.path.join(layer, args[0]), ovr, sets)
        files_check(d, args[1])
    for e in ERRORS:
        print('bbcheck: ' + e, file=sys.stderr)
    sys.exit(1 if ERRORS else 0)

main()
