#!/bin/bash
# The volume measurement against systemd's own code: systemd 254's
# tpm2_extend_bytes() (libsystemd-shared, Debian bookworm-backports,
# unpacked privately), the function its tpm2-measure-pcr= calls with the
# volume key as the HMAC key, extends PCR 15 on one swtpm; sealinit
# unlock --tpm2-measure-pcr 15 extends the same PCR on another, fresh one.
# Both must end equal in every bank. systemd 254 has no fixate-volume-key=
# (it came later) and measures only after a device-mapper activation, which
# this host lacks, so the prefix "cryptsetup:<name>:<uuid>" is given to it
# here, not built by it.
. "$(dirname "$0")/../lib/common.sh"
root=$("$REPO/scripts/fetch-backports.sh" amd64 systemd libsystemd-shared 2>"$WORK/fetch.err") ||
	skip "systemd 254 from bookworm-backports is not reachable: $(tail -1 "$WORK/fetch.err")"
lib=$(ls "$root"/usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-25*.so 2>/dev/null | head -1)
[ -n "$lib" ] || fail "no libsystemd-shared in $root"

pcrs() {
	local b
	for b in sha1 sha256 sha384 sha512; do
		tpm2_pcrread "$b:15" -o "$WORK/p.bin" >/dev/null || fail "pcrread $b:15"
		printf '%s:%s\n' "$b" "$(od -An -v -tx1 "$WORK/p.bin" | tr -d ' \n')"
	done
}

mkimg "$WORK/img"
prefix="cryptsetup:sealdata:$(cryptsetup luksUUID "$WORK/img")"
cryptsetup luksDump -q --dump-volume-key --volume-key-file "$WORK/vk" --key-file "$WORK/pass" \
	"$WORK/img" >/dev/null || fail "luksDump --dump-volume-key"

# systemd's side.
swtpm_start || fail "swtpm"
SYSTEMD_MEASURE_LOG_USERSPACE=$WORK/tpm2-measure.log /usr/bin/python3 - "$lib" \
	"$SEALINIT_TCTI" "$prefix" "$WORK/vk" <<'EOF' || fail "systemd's tpm2_extend_bytes"
import ctypes, sys
lib, tcti, prefix, vkfile = sys.argv[1:]
sd = ctypes.CDLL(lib)
ctx = ctypes.c_void_p()
r = sd.tpm2_context_new(tcti.encode(), ctypes.byref(ctx))
if r < 0:
    sys.exit(f"tpm2_context_new: {r}")
banks = (ctypes.c_char_p * 5)(b"sha1", b"sha256", b"sha384", b"sha512", None)
vk = open(vkfile, "rb").read()
data = prefix.encode()
# (ctx, banks, pcr, data, size, secret, size) in 254; later builds add
# (event_type, description), TPM2_EVENT_VOLUME_KEY being 2. A build that
# takes seven ignores the last two (x86-64: they go on the stack).
sd.tpm2_extend_bytes.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint, ctypes.c_char_p,
                                 ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int,
                                 ctypes.c_char_p]
r = sd.tpm2_extend_bytes(ctx, banks, 15, data, len(data), vk, len(vk), 2, data)
if r < 0:
    sys.exit(f"tpm2_extend_bytes: {r}")
EOF
theirs=$(pcrs)
swtpm_stop

# sealinit's side, on a fresh TPM.
swtpm_start || fail "swtpm"
expect 0 "enroll" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 7
expect 0 "unlock --tpm2-measure-pcr 15" "$SEALINIT" unlock "$WORK/img" --test --tpm2-measure-pcr 15
ours=$(pcrs)
[ "$ours" = "$theirs" ] || fail "PCR 15 differs: systemd 254: $theirs; sealinit: $ours"
[ "$ours" != "$(printf 'sha256:%064d' 0)" ] || fail "nothing was extended"
# What systemd logged for it, when this build logs (254 does not): the
# prefix, and as sha256 digest the volume key id sealinit computes.
if [ -s "$WORK/tpm2-measure.log" ]; then
	tr -d '\036' < "$WORK/tpm2-measure.log" | jq -e --arg p "$prefix" \
		'select(.pcr == 15 and .content.string == $p and .content.eventType == "volume-key")' \
		>/dev/null || fail "systemd's log record: $(cat -v "$WORK/tpm2-measure.log")"
	id=$(tr -d '\036' < "$WORK/tpm2-measure.log" | jq -r '.digests[] | select(.hashAlg == "sha256") | .digest')
	case "$OUT" in *"(sha256 $id)"*) ;; *) fail "systemd logged $id, sealinit reports: $OUT" ;; esac
	echo "systemd 254's log record matches"
fi
echo ok
