# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# A test cleans up after itself. tests/run.sh runs each host, build, fuzz
# and QEMU test with a TMPDIR of its own, empty at the start, and fails the
# test when anything is left in it afterwards (every mktemp in tests/ goes
# under ${TMPDIR:-/tmp}). Tested by tests/build/leftovers.sh.

# tmp_leftovers DIR: print what is in DIR, one entry per line and sorted, a
# directory with a trailing slash, each with its size ("sealinit-test.x/
# (21M)"). Returns 1 when anything is there, 0 when DIR is empty or absent.
tmp_leftovers() {
	local dir=$1 e name size found=0
	[ -d "$dir" ] || return 0
	while IFS= read -r -d '' e; do
		found=1
		name=${e##*/}
		[ -d "$e" ] && [ ! -L "$e" ] && name=$name/
		size=$(du -sh "$e" 2>/dev/null | cut -f1)
		printf '%s (%s)\n' "$name" "${size:-?}"
	done < <(find "$dir" -mindepth 1 -maxdepth 1 -print0 2>/dev/null | sort -z)
	[ "$found" = 0 ]
}

# run_isolated ROOT NAME CMD [ARG...]: run CMD with TMPDIR set to a fresh,
# empty directory ROOT/NAME (slashes in NAME become dashes). Afterwards
# LEFTOVERS holds what CMD left there (tmp_leftovers' lines; empty when
# nothing) and the directory is gone. Returns CMD's exit status.
# The directory is mode 0711, as are ROOT's: a test that runs something as
# another user (legacy_fetch.sh as nobody) needs to reach into its WORK.
run_isolated() {
	local root=$1 name=$2 dir rc
	shift 2
	dir=$root/${name//\//-}
	mkdir -p "$root" && chmod 711 "$root" || return 125
	_run_isolated_rm "$dir"
	mkdir -m 711 "$dir" || return 125
	TMPDIR=$dir "$@"
	rc=$?
	LEFTOVERS=$(tmp_leftovers "$dir")
	_run_isolated_rm "$dir"
	return $rc
}

# Also when a test left something without write permission.
_run_isolated_rm() {
	[ -e "$1" ] || return 0
	chmod -R u+rwX "$1" 2>/dev/null
	rm -rf "$1"
}
