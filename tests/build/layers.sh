#!/bin/bash
# SPDX-License-Identifier: MIT
# Layering: includes run one way, cli -> boot -> core (scripts/check-layers.py).
#  (a) negative controls, small synthetic trees that must each be reported:
#      core/a.c including "boot/b.h"; core/x.h including "../cli/y.h" (both
#      the '..' and the layer); core/a.c -> core/m.h -> boot/p.h (transitive,
#      with the chain); boot/s.c including "cli/t.h"; <boot/b.h> (-Isrc
#      makes angle includes resolve in the tree too);
#  (b) positive controls: a clean tree with all three layers, subdirectories
#      and same-directory includes passes; so does an include that only looks
#      wrong ("boot/b.h" that resolves to core/boot/b.h, next to the
#      including file), and one inside a comment;
#  (c) the real src/ passes, once it has src/core (the flat layout, before
#      the reorganisation, is reported as a skip of this part only).
#      LAYERS_SRC=DIR checks another tree instead of src/.
. "$(dirname "$0")/../lib/common.sh"
cd "$REPO"
CHECK=$REPO/scripts/check-layers.py
PY=/usr/bin/python3

# tree DIR FILE=INCLUDE,INCLUDE... ...: a tree of files, each holding the
# given #include lines (spelled as given, e.g. '"boot/b.h"' or '<x.h>');
# an include of a file that does not exist yet creates it empty.
tree() {
	local dir=$1 spec f incs inc
	shift
	rm -rf "$dir"
	for spec in "$@"; do
		f=${spec%%=*} incs=${spec#*=}
		[ "$incs" = "$spec" ] && incs=""
		mkdir -p "$dir/$(dirname "$f")"
		{
			echo "/* $f */"
			IFS=, read -ra list <<< "$incs"
			for inc in "${list[@]}"; do echo "#include $inc"; done
			echo "int x_$RANDOM;"
		} > "$dir/$f"
	done
}

# check DIR WANT-EXIT TEXT...: run the checker; it must exit WANT-EXIT and
# print each TEXT (fixed strings); a traceback is never a pass.
check() { expect_checker "$CHECK" "$@"; }

# --- (a) negative controls ---------------------------------------------------
tree "$WORK/direct" core/a.c='"boot/b.h"' boot/b.h
check "$WORK/direct" 1 'core/a.c reaches boot/b.h (core must not depend on boot): core/a.c:2 "boot/b.h" -> boot/b.h'
echo "ok: core/a.c including \"boot/b.h\" reported"

tree "$WORK/dotdot" core/x.h='"../cli/y.h"' cli/y.h
check "$WORK/dotdot" 1 "core/x.h:2: #include \"../cli/y.h\": '..' in an include path" \
	'core/x.h reaches cli/y.h (core must not depend on cli)'
echo "ok: core/x.h including \"../cli/y.h\" reported, for the '..' and the layer"

tree "$WORK/transitive" core/a.c='"core/m.h"' core/m.h='<stdio.h>,"config.h","boot/p.h"' boot/p.h
check "$WORK/transitive" 1 \
	'core/a.c reaches boot/p.h (core must not depend on boot): core/a.c:2 "core/m.h" -> core/m.h:4 "boot/p.h" -> boot/p.h' \
	'core/m.h reaches boot/p.h'
echo "ok: core/a.c -> core/m.h -> boot/p.h reported with the chain"

tree "$WORK/bootcli" boot/s.c='"cli/t.h"' cli/t.h
check "$WORK/bootcli" 1 'boot/s.c reaches cli/t.h (boot must not depend on cli)'
echo "ok: boot/s.c including \"cli/t.h\" reported"

tree "$WORK/angle" core/legacy/a.c='<boot/b.h>' boot/b.h
check "$WORK/angle" 1 'core/legacy/a.c reaches boot/b.h'
echo "ok: <boot/b.h> from core/legacy/ reported"

# Each wrong way exactly once; nothing else in a tree with one bad include.
[ "$(echo "$OUT" | grep -c '^check-layers: .* reaches ')" = 1 ] || fail "angle: reported more than once: $OUT"

# --- (b) positive controls ---------------------------------------------------
tree "$WORK/clean" \
	cli/main.c='"boot/boot.h","core/errors.h","cli/cmd.h",<string.h>' cli/cmd.h='"core/errors.h"' \
	boot/boot.c='"boot/boot.h","core/luks.h","core/tpm/tpm.h","config.h"' boot/boot.h='"core/errors.h"' \
	core/errors.h core/luks.h='"errors.h"' core/luks.c='"luks.h","core/errors.h"' \
	core/tpm/tpm.c='"tpm.h","policy.h","core/errors.h"' core/tpm/tpm.h core/tpm/policy.h \
	core/legacy/client.c='"client.h","core/tpm/tpm.h","../legacy/client.h"' core/legacy/client.h
# The one '..' in it is reported, nothing else; without it the tree passes.
check "$WORK/clean" 1 "core/legacy/client.c:4: #include \"../legacy/client.h\": '..' in an include path"
[ "$(echo "$OUT" | grep -c "'\.\.' in an include path")" = 1 ] && ! echo "$OUT" | grep -q ' reaches ' ||
	fail "clean tree: more than the '..' reported: $OUT"
sed -i '/\.\.\/legacy/d' "$WORK/clean/core/legacy/client.c"
check "$WORK/clean" 0 "no violation" "12 files, 16 includes within the tree; core/ 8, boot/ 2, cli/ 2"
echo "ok: a clean tree (cli -> boot -> core, subdirs, same-dir includes) passes"

# "boot/b.h" next to the including file wins over the tree's boot/b.h, as
# with the compiler; and an include in a comment is no include.
tree "$WORK/lookalike" core/a.c='"boot/b.h"' core/boot/b.h boot/b.h cli/c.h
printf '/* #include "cli/c.h" */\n// #include "cli/c.h"\n' >> "$WORK/lookalike/core/a.c"
check "$WORK/lookalike" 0 "no violation"
echo "ok: \"boot/b.h\" resolving to core/boot/b.h, and commented-out includes, pass"

run "$PY" "$CHECK" "$WORK/no-such-dir"
[ "$RC" = 2 ] || fail "no such directory: exit $RC, want 2: $OUT"

# --- (c) the real tree ---------------------------------------------------------
SRC=${LAYERS_SRC:-src}
if [ -d "$SRC/core" ]; then
	check "$SRC" 0 "no violation"
	echo "ok: $SRC/: $OUT"
else
	# Nothing to violate in the flat layout, but the '..' check applies.
	check "$SRC" 0 "no violation"
	echo "skip (this part only): $SRC/ has the flat layout, no $SRC/core yet: $OUT"
fi
echo ok
