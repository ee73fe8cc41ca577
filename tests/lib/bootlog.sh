# SPDX-License-Identifier: MIT
# A booted device's state, built against swtpm for host tests of the
# commands that read it (reseal, migrate, revoke DEVICE, status): the
# firmware's events and their binary TCG log, the boot's own measurements
# (the events `sealinit predict' computes from a configuration, so they
# are the boot's exactly) with their CEL-JSON log, and the cap. Source
# after common.sh.

ROOTHASH=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

# boot_conf FILE PCRS [LINE...]: a boot configuration a locked-down boot
# would take, capping PCRS.
boot_conf() {
	local f=$1 pcrs=$2
	shift 2
	printf '%s\n' root=/dev/vda hashdev=/dev/vdc data=/dev/vdb "pcrs=$pcrs" \
		"roothash=$ROOTHASH" "$@" >"$f"
}

# boot_events CONF CMDLINE: the events the boot measures into PCR 15 with
# this configuration and command line, one per line (the init is
# $WORK/init).
boot_events() {
	[ -f "$WORK/init" ] || printf '#!/bin/sh\necho init\n' >"$WORK/init"
	"$SEALINIT" predict --config "$1" --cmdline "$2" --init "$WORK/init" | sed -n 's/^15 //p'
	[ "${PIPESTATUS[0]}" = 0 ] || fail "predict --config $1 --cmdline '$2'"
}

# log_extend LOG PCR STRING...: extend each STRING into PCR (as the boot
# does, TPM2_PCR_Event) and append its CEL-JSON record to LOG.
log_extend() {
	local log=$1 pcr=$2 e
	shift 2
	for e in "$@"; do
		"$SEALINIT" measure --pcr "$pcr" --string "$e" >/dev/null || fail "measure $pcr $e"
		/usr/bin/python3 - "$pcr" "$e" >>"$log" <<'PY'
import hashlib, json, sys
rec = {"pcr": int(sys.argv[1]), "digests": [{"hashAlg": "sha256",
       "digest": hashlib.sha256(sys.argv[2].encode()).hexdigest()}],
       "content_type": "systemd", "content": {"string": sys.argv[2]}}
sys.stdout.write("\x1e" + json.dumps(rec) + "\n")
PY
	done
}

# boot LOG CONF CMDLINE [PCR...]: this boot's measurements into PCR 15,
# logged; then, if PCRs are given, the cap of each, logged.
boot() {
	local log=$1 conf=$2 cmdline=$3 e p
	shift 3
	local -a ev=()
	while IFS= read -r e; do ev+=("$e"); done < <(boot_events "$conf" "$cmdline")
	[ ${#ev[@]} = 4 ] || fail "predict gave ${#ev[@]} events, not 4"
	log_extend "$log" 15 "${ev[@]}"
	for p in "$@"; do log_extend "$log" "$p" "sealinit:cap"; done
}

# fw_log OUT CMDLINE: a firmware's binary event log (TCG PC Client
# crypto-agile, sha256 only) with events in PCRs 4, 7 and 9 (EFI
# applications, the secure-boot variables, the separators, and the EFI
# stub's tagged events: CMDLINE as LoadOptions, UTF-16LE, and the initrd),
# written independently of sealinit's parser.
fw_log() {
	/usr/bin/python3 - "$1" "$2" <<'PY' || fail "fw_log"
import hashlib, struct, sys
def rec(pcr, typ, data, digest=None):
    return (struct.pack('<III', pcr, typ, 1) + struct.pack('<H', 0x000B) +
            (digest or hashlib.sha256(data).digest()) + struct.pack('<I', len(data)) + data)
def tagged(desc):   # TCG PC Client PFP 10.4.2: taggedEventID, size, data
    d = desc.encode() + b'\0'
    return struct.pack('<II', 0x8F3B22ED, len(d)) + d
spec = (b'Spec ID Event03\0' + struct.pack('<IBBBBI', 0, 0, 2, 0, 2, 1) +
        struct.pack('<HH', 0x000B, 32) + b'\0')
out = struct.pack('<II', 0, 3) + b'\0' * 20 + struct.pack('<I', len(spec)) + spec
options = hashlib.sha256(sys.argv[2].encode('utf-16-le') + b'\0\0').digest()
for pcr, typ, data, digest in [
        (7, 0x80000001, b'SecureBoot=1', None), (7, 0x80000001, b'PK', None),
        (7, 0x80000001, b'db', None),
        (4, 0x00000005, b'Calling EFI Application from Boot Option', None),
        (7, 0x00000004, b'\0\0\0\0', None), (4, 0x00000004, b'\0\0\0\0', None),
        (4, 0x80000003, b'the boot loader', None), (4, 0x80000003, b'the kernel', None),
        (9, 0x00000006, tagged('LOADED_IMAGE::LoadOptions'), options),
        (9, 0x00000006, tagged('Linux initrd'), None)]:
    out += rec(pcr, typ, data, digest)
open(sys.argv[1], 'wb').write(out)
PY
}

# fw_boot LOG: extend swtpm as the firmware did when it wrote LOG (each
# record's sha256 digest into its PCR).
fw_boot() {
	/usr/bin/python3 - "$1" <<'PY' | while read -r pcr d; do
import struct, sys
d = open(sys.argv[1], 'rb').read()
pos = 32 + struct.unpack_from('<I', d, 28)[0]
while pos < len(d):
    pcr, typ, count = struct.unpack_from('<III', d, pos); pos += 12
    pos += 2; dig = d[pos:pos + 32]; pos += 32
    size, = struct.unpack_from('<I', d, pos); pos += 4 + size
    if typ != 3:
        print(pcr, dig.hex())
PY
		tpm2_pcrextend "$pcr:sha256=$d" >/dev/null || fail "extend PCR $pcr"
	done
}
