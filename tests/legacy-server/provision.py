#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""provision: add a user and one resource to a legacy reference server state.

  provision.py STATE_DIR --email E --password-file F --fingerprint FP \
      --salt S --resource ID --secret-file PLAINTEXT_FILE [--small-len N]

The provisioning side of the legacy split-key contract
(docs/legacy-protocol.md):

  digest = SHA-384(email 0x00 password 0x00 fingerprint 0x00 salt)
  key = digest[0:32], iv = digest[32:48]
  C = AES-256-CBC(key, iv, PKCS#7(plaintext))      (by `openssl enc`)
  small = C[0:n], big = C[n:], n = max(1, min(3072, len(C)*3//10))
  sha256 = hex SHA-256(C), fingerprint_sha256 = hex SHA-256(fingerprint)

The password file holds the password as UTF-8; one trailing newline (\\n or
\\r\\n) is dropped. The secret file is the plaintext, used byte for byte.
--small-len N overrides n (0 <= N <= len(C)); values outside the contract
are for negative tests.

State layout (see README.md):
  STATE_DIR/state.json     {"version": 1, "users": {...}, "resources": {...}}
  STATE_DIR/blobs/NAME     the big part of each resource, raw bytes

Run it several times to add users and resources. A user that exists must be
given the same password and salt. A resource id that exists is replaced.
Prints one line: the resource's JSON record.
"""

import argparse
import base64
import fcntl
import hashlib
import json
import os
import secrets
import subprocess
import sys

SMALL_CAP = 3072


def die(msg):
    print("provision: " + msg, file=sys.stderr)
    sys.exit(1)


def derive(email, password, fingerprint, salt):
    h = hashlib.sha384(b"\0".join(s.encode("utf-8") for s in (email, password, fingerprint, salt)))
    d = h.digest()
    return d[:32], d[32:48]


def encrypt(key, iv, plaintext):
    # The plaintext travels on stdin and the ciphertext on stdout; only the
    # key and IV are on openssl's argv, which is acceptable in tests.
    p = subprocess.run(
        ["openssl", "enc", "-aes-256-cbc", "-K", key.hex(), "-iv", iv.hex()],
        input=plaintext, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if p.returncode != 0:
        die("openssl enc failed: " + p.stderr.decode(errors="replace").strip())
    c = p.stdout
    if len(c) == 0 or len(c) % 16 or len(c) != (len(plaintext) // 16 + 1) * 16:
        die("openssl enc gave %d bytes for %d of plaintext" % (len(c), len(plaintext)))
    return c


def default_small_len(clen):
    return max(1, min(SMALL_CAP, clen * 3 // 10))


def load_state(path):
    try:
        with open(path, "rb") as f:
            st = json.load(f)
    except FileNotFoundError:
        return {"version": 1, "users": {}, "resources": {}}
    except ValueError as e:
        die("%s: %s" % (path, e))
    if st.get("version") != 1:
        die("%s: unknown version" % path)
    return st


def write_atomic(path, data, mode=0o644):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def read_password(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw.endswith(b"\r\n"):
        raw = raw[:-2]
    elif raw.endswith(b"\n"):
        raw = raw[:-1]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        die("%s: the password is not UTF-8" % path)


def main():
    ap = argparse.ArgumentParser(description="Add a user and a resource to a legacy server state.")
    ap.add_argument("state_dir")
    ap.add_argument("--email", required=True)
    ap.add_argument("--password-file", required=True)
    ap.add_argument("--fingerprint", required=True, help="the hardware fingerprint string")
    ap.add_argument("--salt", required=True)
    ap.add_argument("--resource", required=True, help="the resource id")
    ap.add_argument("--secret-file", required=True, help="the plaintext (LUKS passphrase bytes)")
    ap.add_argument("--small-len", type=int, help="split point (default: the contract's)")
    a = ap.parse_args()

    password = read_password(a.password_file)
    with open(a.secret_file, "rb") as f:
        plaintext = f.read()
    for name, v in (("email", a.email), ("password", password),
                    ("fingerprint", a.fingerprint), ("salt", a.salt), ("resource", a.resource)):
        if not v:
            die("empty " + name)
        if len(v.encode("utf-8")) > 512:
            die(name + " longer than 512 bytes")
    if "/" in a.resource or a.resource in (".", ".."):
        die("a resource id is one path segment")

    key, iv = derive(a.email, password, a.fingerprint, a.salt)
    c = encrypt(key, iv, plaintext)
    n = default_small_len(len(c)) if a.small_len is None else a.small_len
    if not 0 <= n <= len(c):
        die("--small-len must be in 0..%d" % len(c))
    small, big = c[:n], c[n:]

    os.makedirs(os.path.join(a.state_dir, "blobs"), exist_ok=True)
    state_path = os.path.join(a.state_dir, "state.json")
    with open(os.path.join(a.state_dir, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        st = load_state(state_path)
        u = st["users"].get(a.email)
        if u is not None and (u["password"] != password or u["salt"] != a.salt):
            die("user %s exists with another password or salt" % a.email)
        st["users"][a.email] = {"password": password, "salt": a.salt}

        blob = secrets.token_hex(16)
        write_atomic(os.path.join(a.state_dir, "blobs", blob), big)
        old = st["resources"].get(a.resource)
        rec = {
            "owner": a.email,
            "fingerprint_sha256": hashlib.sha256(a.fingerprint.encode("utf-8")).hexdigest(),
            "small": base64.b64encode(small).decode("ascii"),
            "sha256": hashlib.sha256(c).hexdigest(),
            "blob": blob,
            "big_size": len(big),
        }
        st["resources"][a.resource] = rec
        write_atomic(state_path, (json.dumps(st, indent=1, sort_keys=True) + "\n").encode(), 0o600)
        if old is not None:
            try:
                os.unlink(os.path.join(a.state_dir, "blobs", old["blob"]))
            except OSError:
                pass
    print(json.dumps(dict(rec, id=a.resource), sort_keys=True))


if __name__ == "__main__":
    main()
