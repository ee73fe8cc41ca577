#!/bin/bash
# What the boot stage reads before anything else, read by `sealinit
# boot-config` with the boot's own code: /etc/sealinit.conf whole or not at
# all (a cut file would lose the keys after the cut, here the volume's
# pin), and the kernel command line as the kernel splits it.
. "$(dirname "$0")/../lib/common.sh"

pin=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
cmdline="root=/dev/vda roothash=$pin"
# config SIZE FILE [TAIL]: a valid configuration padded with comment lines
# to SIZE bytes, TAIL (default: the volume's pin) as its last line.
config() {
	local size=$1 out=$2 tail=${3:-fixate_volume_key=$pin} fill i
	fill=$((size - 14 - ${#tail} - 2))   # 14: "data=/dev/vdb\n"
	{
		printf 'data=/dev/vdb\n'
		for ((i = 0; i < fill / 64; i++)); do printf '#%062d\n' 0; done
		head -c $((fill % 64)) /dev/zero | tr '\0' '#'
		printf '\n%s\n' "$tail"
	} >"$out"
	[ "$(stat -c %s "$out")" = "$size" ] || fail "config: made $(stat -c %s "$out") bytes, want $size"
}

# Controls: at the limit and one below, the pin at the end is read.
for n in 16383 16384; do
	config $n "$WORK/c$n"
	expect 0 "boot-config, a $n-byte config" "$SEALINIT" boot-config --config "$WORK/c$n" --cmdline "$cmdline"
	expect_msg "fixate_volume_key=$pin"
done
# The attack: one byte over, the pin past the cut. Refused by name, never
# shown without its pin.
config 16385 "$WORK/c16385"
expect 2 "boot-config, a 16385-byte config" "$SEALINIT" boot-config --config "$WORK/c16385" --cmdline "$cmdline"
expect_msg "$WORK/c16385: 16385 bytes, over the limit of 16384"
case "$OUT" in *fixate_volume_key=*) fail "a cut configuration was printed: $OUT" ;; esac
# A NUL byte before the pin: refused by offset; the control is the same
# file without it (c16384 above).
config 200 "$WORK/cnul"
printf '\0' | dd of="$WORK/cnul" bs=1 seek=120 conv=notrunc status=none
expect 2 "boot-config, a NUL byte in the config" "$SEALINIT" boot-config --config "$WORK/cnul" --cmdline "$cmdline"
expect_msg "$WORK/cnul: a NUL byte at offset 120 of 200"

# The command line in the kernel's words: a volatile word joined to a
# payload by a VT is refused by byte and offset, not measured without it.
printf 'data=/dev/vdb\ncmdline_volatile=bl_prof_dataptr\n' >"$WORK/cv"
expect 2 "boot-config, a VT in the command line" "$SEALINIT" boot-config --config "$WORK/cv" \
	--cmdline "$cmdline bl_prof_dataptr=1"$'\v'"init=/bin/sh"
expect_msg "byte 0x0b at offset 105 of the kernel command line"
expect 0 "boot-config, the same without the VT" "$SEALINIT" boot-config --config "$WORK/cv" \
	--cmdline "$cmdline bl_prof_dataptr=1"

# predict, as the boot: sealinit.loglevel=7 and a longer wait change
# neither event; any other word does (the control).
printf 'data=/dev/vdb\n' >"$WORK/pc"
printf '#!/bin/sh\n' >"$WORK/init"
predict() { "$SEALINIT" predict --config "$WORK/pc" --cmdline "$1" --init "$WORK/init" 2>&1; }
plain=$(predict "$cmdline") || fail "predict: $plain"
debug=$(predict "$cmdline sealinit.loglevel=7 sealinit.tpm_timeout=60000") || fail "predict: $debug"
[ "$plain" = "$debug" ] || fail "sealinit.loglevel=7 changed the prediction: $plain / $debug"
grep -q '^pcr15-capped=' <<<"$plain" || fail "predict printed no PCR 15: $plain"
other=$(predict "$cmdline quiet") || fail "predict: $other"
[ "$plain" != "$other" ] || fail "quiet left the prediction as it was"
echo ok
