#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Check that includes under a source tree run one way: cli -> boot -> core.

    scripts/check-layers.py [SRCDIR]        (default: src)

A file's layer is the first directory of its path under SRCDIR: core/ (with
core/tpm/, core/legacy/), boot/ or cli/; files elsewhere have none and may
include anything. Every #include of every .c and .h is resolved as the
compiler does with -ISRCDIR: "x.h" in the including file's directory, then
in SRCDIR; <x.h> in SRCDIR only (-I applies to both forms). An include that
resolves to nothing under SRCDIR (the generated "config.h", system headers)
is ignored. Includes are followed transitively, and reported:

  - a core/ file that reaches a boot/ or cli/ file,
  - a boot/ file that reaches a cli/ file,

each with its include chain (file:line of every step); the walk stops at
the first file of a forbidden layer, so a chain names the first step that
goes the wrong way. Also reported: an include path with a `..` component,
which reaches across the tree whatever it resolves to.

Exit status: 0 no violation, 1 violations (listed on stdout), 2 usage.
Tested by tests/build/layers.sh.
"""
import os
import re
import signal
import sys
from collections import deque

LAYERS = ("core", "boot", "cli")
# May not depend on: the layers above it.
FORBIDDEN = {"core": ("boot", "cli"), "boot": ("cli",), "cli": ()}
INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"\n]+)[>"]', re.M)


def strip_comments(text):
    """Blank out comments, keeping newlines (line numbers) and strings."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def layer(rel):
    first = rel.split("/", 1)[0]
    return first if first in LAYERS and "/" in rel else None


class Tree:
    def __init__(self, root):
        self.root = os.path.realpath(root)
        self.files = []
        for d, dirs, names in os.walk(self.root):
            dirs.sort()
            for name in sorted(names):
                if name.endswith((".c", ".h")):
                    self.files.append(self.rel(os.path.join(d, name)))
        self.edges = {}      # rel -> [(line, spelled, target rel)]
        self.dotdot = []     # (rel, line, spelled)
        for f in self.files:
            self.edges[f] = list(self.scan(f))

    def rel(self, path):
        return os.path.relpath(os.path.realpath(path), self.root).replace(os.sep, "/")

    def resolve(self, including, kind, name):
        dirs = [self.root]
        if kind == '"':
            dirs.insert(0, os.path.dirname(os.path.join(self.root, including)))
        for d in dirs:
            cand = os.path.realpath(os.path.join(d, name))
            if os.path.isfile(cand) and (cand + os.sep).startswith(self.root + os.sep):
                return self.rel(cand)
        return None

    def scan(self, f):
        with open(os.path.join(self.root, f), encoding="utf-8", errors="replace") as fh:
            text = strip_comments(fh.read())
        for m in INCLUDE.finditer(text):
            kind, name = m.group(1), m.group(2).strip()
            line = text.count("\n", 0, m.start()) + 1
            spelled = '"%s"' % name if kind == '"' else "<%s>" % name
            if ".." in re.split(r"[/\\]", name):
                self.dotdot.append((f, line, spelled))
            target = self.resolve(f, kind, name)
            if target is not None:
                yield line, spelled, target

    def violations(self, f):
        """(target, chain) for each forbidden file f reaches first."""
        bad = FORBIDDEN[layer(f)]
        parent = {f: None}
        queue = deque([f])
        found = []
        while queue:
            cur = queue.popleft()
            for line, spelled, target in self.edges.get(cur, ()):
                if target in parent:
                    continue
                parent[target] = (cur, line, spelled)
                if layer(target) in bad:
                    found.append((target, self.chain(parent, target)))
                else:
                    queue.append(target)
        return found

    @staticmethod
    def chain(parent, target):
        steps, node = [target], target
        while parent[node] is not None:
            cur, line, spelled = parent[node]
            steps.append("%s:%d %s" % (cur, line, spelled))
            node = cur
        return " -> ".join(reversed(steps))


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1].startswith("-")):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    root = argv[1] if len(argv) == 2 else "src"
    if not os.path.isdir(root):
        print("check-layers: %s: not a directory" % root, file=sys.stderr)
        return 2
    tree = Tree(root)
    problems = []
    for f, line, spelled in tree.dotdot:
        problems.append("%s:%d: #include %s: '..' in an include path" % (f, line, spelled))
    counts = {l: 0 for l in LAYERS}
    reached = []
    for f in tree.files:
        l = layer(f)
        if l is None:
            continue
        counts[l] += 1
        for target, chain in tree.violations(f):
            reached.append((chain.count(" -> "), f, target, chain))
    # The includes that go the wrong way themselves first, then the files
    # that reach them through others.
    for _, f, target, chain in sorted(reached):
        problems.append("%s reaches %s (%s must not depend on %s): %s"
                        % (f, target, layer(f), layer(target), chain))
    for p in problems:
        print("check-layers: " + p)
    nedges = sum(len(e) for e in tree.edges.values())
    summary = ", ".join("%s/ %d" % (l, counts[l]) for l in LAYERS)
    print("check-layers: %s: %d files, %d includes within the tree; %s; %s"
          % (root, len(tree.files), nedges, summary,
             "%d violations" % len(problems) if problems else "no violation"))
    return 1 if problems else 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # | head is no error
    sys.exit(main(sys.argv))
