#!/bin/bash
# SPDX-License-Identifier: MIT
# Build the libFuzzer targets with clang (ASan + UBSan) and run each for
# FUZZ_SECONDS (default 10; `make fuzz` runs longer). Exit 0 when no target
# found a crash.
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-10}
out=build/fuzz
mkdir -p "$out"
make -s --no-print-directory "$(make -s --no-print-directory print-build)/include/config.h" >/dev/null
inc="-I$(make -s --no-print-directory print-build)/include -Isrc"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE"
# bootcfg.c calls into kv.c (values), legacy/cfg.c (legacy_* keys), legacy/net.c (ip=)
# volkey.c (fixate_volume_key=, which brings secret.c and mbedcrypto) and
# events.c (cmdline_volatile=; the config event hashes with hash.c).
# tcglog.c and pe.c (predict's firmware inputs) and sigfile.c need nothing more.
core="src/core/json.c src/core/token.c src/core/b64.c src/core/pcrs.c src/core/errors.c src/core/kv.c src/core/journal.c src/core/bootcfg.c src/core/events.c src/core/hash.c src/core/legacy/cfg.c src/core/legacy/net.c src/core/volkey.c src/core/secret.c src/core/tcglog.c src/core/pe.c src/core/sigfile.c"
libs="$(pkg-config --cflags --libs json-c tss2-mu) -l:libmbedcrypto.a"
# The legacy parsers: legacy/client.c only includes curl's headers (it dlopen()s
# libcurl, so no -lcurl); mbedcrypto statically, as the Makefile links it.
# The quotes in SEALINIT_VERSION reach the compiler as they are (no shell
# removes them after the expansion): a string literal, as the Makefile's.
legacy_src="src/core/legacy/client.c src/core/legacy/crypto.c"
legacy_libs="-DSEALINIT_VERSION=\"fuzz\" $(pkg-config --cflags libcurl) -l:libmbedcrypto.a"
# The escrow document: escrow.c checks the key it opens with recovery.c,
# which enrolls through luks.c (libcryptsetup); only the parser runs.
escrow_src="src/core/escrow.c src/core/recovery.c src/core/luks.c"
escrow_libs="$(pkg-config --cflags --libs libcryptsetup)"
rc=0
for t in token pcrs bootcfg cmdline migration eventlog legacy_login legacy_small legacy_creds net_ip tcglog sigfile escrow; do
	case $t in
	legacy_*) extra="$legacy_src $legacy_libs" ;;
	escrow) extra="$escrow_src $escrow_libs" ;;
	*) extra="" ;;
	esac
	clang $flags $inc -o "$out/fuzz_$t" "tests/fuzz/fuzz_$t.c" $core $extra $libs || { echo "fuzz_$t: build failed"; exit 1; }
	mkdir -p "$out/corpus-$t"
	if "$out/fuzz_$t" -max_total_time="$secs" -max_len=8192 -artifact_prefix="$out/crash-$t-" \
		"$out/corpus-$t" "tests/fuzz/corpus/$t" > "$out/fuzz_$t.log" 2>&1; then
		echo "fuzz_$t: $(grep -o 'Done [0-9]* runs' "$out/fuzz_$t.log" || tail -1 "$out/fuzz_$t.log") in ${secs}s, no crash"
	else
		echo "fuzz_$t: CRASH, see $out/fuzz_$t.log"; tail -20 "$out/fuzz_$t.log"; rc=1
	fi
done
exit $rc
