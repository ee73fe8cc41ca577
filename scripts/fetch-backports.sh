#!/bin/bash
# SPDX-License-Identifier: MIT
# Unpack packages from Debian's bookworm-backports into a private root,
# without touching the system's apt configuration or installing anything.
# Used to test against a newer systemd (254) than Debian 12 ships (252).
#   scripts/fetch-backports.sh DEBARCH PKG...    prints the root directory
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
arch=$1
shift
base=$REPO/build/debs/backports
root=$base/$arch/root
stamp=$base/$arch/$(echo "$*" | tr ' /=' '___').done
if [ -f "$stamp" ]; then
	echo "$root"
	exit 0
fi
mkdir -p "$base/lists/partial" "$base/$arch/deb" "$root"
printf 'deb http://deb.debian.org/debian bookworm-backports main\n' > "$base/sources.list"
apt=(-o Dir::Etc::sourcelist="$base/sources.list" -o Dir::Etc::sourceparts=-
     -o Dir::State::Lists="$base/lists" -o APT::Architectures::=amd64 -o APT::Architectures::=arm64
     -o APT::Sandbox::User=root)
apt-get "${apt[@]}" -qq update >/dev/null
for p in "$@"; do
	name=${p%%=*}
	ver=$(apt-cache "${apt[@]}" policy "$name:$arch" | awk '/bpo/ && $1 ~ /^[0-9]/ { print $1; exit }')
	[ -n "$ver" ] || { echo "fetch-backports: no backports version of $name:$arch" >&2; exit 1; }
	(cd "$base/$arch/deb" && apt-get "${apt[@]}" -qq download "$name:$arch=$ver" >/dev/null)
done
for d in "$base/$arch/deb"/*.deb; do dpkg-deb -x "$d" "$root"; done
touch "$stamp"
echo "$root"
