#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tpmproxy: a recording TCP proxy between a tpm2-tss "swtpm" TCTI client
and swtpm, used by tests and benchmarks to count the TPM commands a tool sends.

The swtpm TCTI (swtpm:host=H,port=P) talks raw TPM 2.0 command/response
buffers on the data port P and swtpm's control protocol on P+1.  The proxy
listens on 127.0.0.1:Q (data) and Q+1 (ctrl):

  * ctrl bytes are forwarded verbatim, both ways, to the target's P+1;
  * on the data port every command is framed by its 10-byte header
    (tag u16, size u32, code u32, big endian), forwarded, its response read
    (also framed by its size), one line is appended to the log, and only then
    is the response handed to the client.  Logging before replying means that
    once a client has exited, every command it sent is already in the log.

Log format, one line per command (lines starting with '#' are comments):

  NAME RC key=value ...
  e.g.  Unseal 0x0 conn=3 h=80000001 sess=policy:cont+enc ...

NAME is the TPM2_CC_ name without the prefix (unknown codes as 0x...), RC the
response code in hex.  The key=value fields are informative: connection number,
command handles, the sessions used (pw, hmac, policy, with their attributes:
dec = command parameter encrypted, enc = response parameter encrypted), the
handle a command created, StartAuthSession's type/salt/cipher, sizes, the
time until swtpm answered (ms=) and when the command arrived (t=, Unix time).

Usage:
  tpmproxy.py [serve] --target-port P [--listen-port Q] [--log FILE]
                      [--pidfile FILE] [--target-host H]
      Prints the data port Q on stdout line 1 once both ports listen.
      --drop-pcr-event answers every PCR_Event with success and never
      forwards it: the bus interposer that the cap's read-back must catch.
      --listen-port 0 (the default) picks a free pair Q, Q+1.
  tpmproxy.py summarize [LOG|-] [--from-line N]
      Prints the number of commands, a per-command histogram and the span
      of the TPM phase.
"""

import argparse
import collections
import itertools
import os
import selectors
import signal
import socket
import struct
import sys
import threading
import time

BIND_HOST = "127.0.0.1"          # never listen beyond loopback
CC_PCR_EVENT = 0x13C              # TPM2_CC_PCR_Event
HDR = struct.Struct(">HII")       # tag, size, command code / response code
MAX_BUF = 1 << 20                 # far above any TPM's max command size

# --------------------------------------------------------------------------
# TPM 2.0 command codes: TCG TPM 2.0 Library Part 2, Table 12 (TPM_CC), with
# the number of handles in each command's handle area (Part 3), which we need
# to find the authorization area.  None = handle count not tabulated here.
# --------------------------------------------------------------------------
COMMANDS = {
    0x11F: ("NV_UndefineSpaceSpecial", 2),
    0x120: ("EvictControl", 2),
    0x121: ("HierarchyControl", 1),
    0x122: ("NV_UndefineSpace", 2),
    0x124: ("ChangeEPS", 1),
    0x125: ("ChangePPS", 1),
    0x126: ("Clear", 1),
    0x127: ("ClearControl", 1),
    0x128: ("ClockSet", 1),
    0x129: ("HierarchyChangeAuth", 1),
    0x12A: ("NV_DefineSpace", 1),
    0x12B: ("PCR_Allocate", 1),
    0x12C: ("PCR_SetAuthPolicy", 1),
    0x12D: ("PP_Commands", 1),
    0x12E: ("SetPrimaryPolicy", 1),
    0x12F: ("FieldUpgradeStart", 2),
    0x130: ("ClockRateAdjust", 1),
    0x131: ("CreatePrimary", 1),
    0x132: ("NV_GlobalWriteLock", 1),
    0x133: ("GetCommandAuditDigest", 2),
    0x134: ("NV_Increment", 2),
    0x135: ("NV_SetBits", 2),
    0x136: ("NV_Extend", 2),
    0x137: ("NV_Write", 2),
    0x138: ("NV_WriteLock", 2),
    0x139: ("DictionaryAttackLockReset", 1),
    0x13A: ("DictionaryAttackParameters", 1),
    0x13B: ("NV_ChangeAuth", 1),
    0x13C: ("PCR_Event", 1),
    0x13D: ("PCR_Reset", 1),
    0x13E: ("SequenceComplete", 1),
    0x13F: ("SetAlgorithmSet", 1),
    0x140: ("SetCommandCodeAuditStatus", 1),
    0x141: ("FieldUpgradeData", 0),
    0x142: ("IncrementalSelfTest", 0),
    0x143: ("SelfTest", 0),
    0x144: ("Startup", 0),
    0x145: ("Shutdown", 0),
    0x146: ("StirRandom", 0),
    0x147: ("ActivateCredential", 2),
    0x148: ("Certify", 2),
    0x149: ("PolicyNV", 3),
    0x14A: ("CertifyCreation", 2),
    0x14B: ("Duplicate", 2),
    0x14C: ("GetTime", 2),
    0x14D: ("GetSessionAuditDigest", 3),
    0x14E: ("NV_Read", 2),
    0x14F: ("NV_ReadLock", 2),
    0x150: ("ObjectChangeAuth", 2),
    0x151: ("PolicySecret", 2),
    0x152: ("Rewrap", 2),
    0x153: ("Create", 1),
    0x154: ("ECDH_ZGen", 1),
    0x155: ("HMAC", 1),               # TPM2_MAC shares this code
    0x156: ("Import", 1),
    0x157: ("Load", 1),
    0x158: ("Quote", 1),
    0x159: ("RSA_Decrypt", 1),
    0x15B: ("HMAC_Start", 1),         # TPM2_MAC_Start shares this code
    0x15C: ("SequenceUpdate", 1),
    0x15D: ("Sign", 1),
    0x15E: ("Unseal", 1),
    0x160: ("PolicySigned", 2),
    0x161: ("ContextLoad", 0),
    0x162: ("ContextSave", 1),
    0x163: ("ECDH_KeyGen", 1),
    0x164: ("EncryptDecrypt", 1),
    0x165: ("FlushContext", 0),       # the handle is a parameter
    0x167: ("LoadExternal", 0),
    0x168: ("MakeCredential", 1),
    0x169: ("NV_ReadPublic", 1),
    0x16A: ("PolicyAuthorize", 1),
    0x16B: ("PolicyAuthValue", 1),
    0x16C: ("PolicyCommandCode", 1),
    0x16D: ("PolicyCounterTimer", 1),
    0x16E: ("PolicyCpHash", 1),
    0x16F: ("PolicyLocality", 1),
    0x170: ("PolicyNameHash", 1),
    0x171: ("PolicyOR", 1),
    0x172: ("PolicyTicket", 1),
    0x173: ("ReadPublic", 1),
    0x174: ("RSA_Encrypt", 1),
    0x176: ("StartAuthSession", 2),
    0x177: ("VerifySignature", 1),
    0x178: ("ECC_Parameters", 0),
    0x179: ("FirmwareRead", 0),
    0x17A: ("GetCapability", 0),
    0x17B: ("GetRandom", 0),
    0x17C: ("GetTestResult", 0),
    0x17D: ("Hash", 0),
    0x17E: ("PCR_Read", 0),
    0x17F: ("PolicyPCR", 1),
    0x180: ("PolicyRestart", 1),
    0x181: ("ReadClock", 0),
    0x182: ("PCR_Extend", 1),
    0x183: ("PCR_SetAuthValue", 1),
    0x184: ("NV_Certify", 3),
    0x185: ("EventSequenceComplete", 2),
    0x186: ("HashSequenceStart", 0),
    0x187: ("PolicyPhysicalPresence", 1),
    0x188: ("PolicyDuplicationSelect", 1),
    0x189: ("PolicyGetDigest", 1),
    0x18A: ("TestParms", 0),
    0x18B: ("Commit", 1),
    0x18C: ("PolicyPassword", 1),
    0x18D: ("ZGen_2Phase", 1),
    0x18E: ("EC_Ephemeral", 0),
    0x18F: ("PolicyNvWritten", 1),
    0x190: ("PolicyTemplate", 1),
    0x191: ("CreateLoaded", 1),
    0x192: ("PolicyAuthorizeNV", 3),
    0x193: ("EncryptDecrypt2", 1),
    0x194: ("AC_GetCapability", 1),
    0x195: ("AC_Send", 3),
    0x196: ("Policy_AC_SendSelect", 1),
    0x197: ("CertifyX509", 2),
    0x198: ("ACT_SetTimeout", 1),
    # Added in Library spec 1.59 and later.
    0x199: ("ECC_Encrypt", None),
    0x19A: ("ECC_Decrypt", None),
    0x19B: ("PolicyCapability", None),
    0x19C: ("PolicyParameters", None),
    0x19D: ("NV_DefineSpace2", None),
    0x19E: ("NV_ReadPublic2", None),
    0x19F: ("SetCapability", None),
    0x20000000: ("Vendor_TCG_Test", None),
}

# Commands whose response carries a handle right after the header.
RESPONSE_HANDLE = {0x131, 0x157, 0x161, 0x167, 0x15B, 0x176, 0x186, 0x191}

TPM_ST_SESSIONS = 0x8002
TPM_RS_PW = 0x40000009
TPM_RH_NULL = 0x40000007


def cc_name(cc):
    entry = COMMANDS.get(cc)
    return entry[0] if entry else "0x%x" % cc


# Response-code names (Part 2, TPM_RC), only for readable log lines.
RC_FMT0 = {
    0x100: "INITIALIZE", 0x101: "FAILURE", 0x103: "SEQUENCE", 0x10B: "PRIVATE",
    0x119: "HMAC", 0x120: "DISABLED", 0x121: "EXCLUSIVE", 0x124: "AUTH_TYPE",
    0x125: "AUTH_MISSING", 0x126: "POLICY", 0x127: "PCR",
    0x128: "PCR_CHANGED", 0x12D: "UPGRADE", 0x12E: "TOO_MANY_CONTEXTS",
    0x12F: "AUTH_UNAVAILABLE", 0x130: "REBOOT", 0x131: "UNBALANCED",
    0x142: "COMMAND_SIZE", 0x143: "COMMAND_CODE", 0x144: "AUTHSIZE",
    0x145: "AUTH_CONTEXT", 0x146: "NV_RANGE", 0x147: "NV_SIZE",
    0x148: "NV_LOCKED", 0x149: "NV_AUTHORIZATION", 0x14A: "NV_UNINITIALIZED",
    0x14B: "NV_SPACE", 0x14C: "NV_DEFINED", 0x150: "BAD_CONTEXT",
    0x151: "CPHASH", 0x152: "PARENT", 0x153: "NEEDS_TEST", 0x154: "NO_RESULT",
    0x155: "SENSITIVE",
    0x901: "CONTEXT_GAP", 0x902: "OBJECT_MEMORY", 0x903: "SESSION_MEMORY",
    0x904: "MEMORY", 0x905: "SESSION_HANDLES", 0x906: "OBJECT_HANDLES",
    0x907: "LOCALITY", 0x908: "YIELDED", 0x909: "CANCELED", 0x90A: "TESTING",
    0x920: "NV_RATE", 0x921: "LOCKOUT", 0x922: "RETRY",
    0x923: "NV_UNAVAILABLE",
}
for _i in range(7):
    RC_FMT0[0x910 + _i] = "REFERENCE_H%d" % _i
    RC_FMT0[0x918 + _i] = "REFERENCE_S%d" % _i
RC_FMT1 = {
    0x01: "ASYMMETRIC", 0x02: "ATTRIBUTES", 0x03: "HASH", 0x04: "VALUE",
    0x05: "HIERARCHY", 0x07: "KEY_SIZE", 0x08: "MGF", 0x09: "MODE",
    0x0A: "TYPE", 0x0B: "HANDLE", 0x0C: "KDF", 0x0D: "RANGE",
    0x0E: "AUTH_FAIL", 0x0F: "NONCE", 0x10: "PP", 0x12: "SCHEME",
    0x15: "SIZE", 0x16: "SYMMETRIC", 0x17: "TAG", 0x18: "SELECTOR",
    0x1A: "INSUFFICIENT", 0x1B: "SIGNATURE", 0x1C: "KEY",
    0x1D: "POLICY_FAIL", 0x1F: "INTEGRITY", 0x20: "TICKET",
    0x21: "RESERVED_BITS", 0x22: "BAD_AUTH", 0x23: "EXPIRED",
    0x24: "POLICY_CC", 0x25: "BINDING", 0x26: "CURVE", 0x27: "ECC_POINT",
}


def rc_name(rc):
    """Decode a TPM response code into e.g. POLICY_FAIL@session1."""
    if rc == 0:
        return "SUCCESS"
    if rc & 0x80:                       # format 1: error + which handle/param
        name = RC_FMT1.get(rc & 0x3F, "fmt1_%02x" % (rc & 0x3F))
        n = (rc >> 8) & 0xF
        if rc & 0x40:
            return "%s@param%d" % (name, n)
        if n & 0x8:
            return "%s@session%d" % (name, n & 0x7)
        return "%s@handle%d" % (name, n) if n else name
    return RC_FMT0.get(rc & 0xFFF, "rc_%x" % rc)


def _session_kind(handle):
    if handle == TPM_RS_PW:
        return "pw"
    return {0x02: "hmac", 0x03: "policy"}.get(handle >> 24, "%08x" % handle)


def describe_command(buf):
    """Informative key=value fields for one command buffer; never raises."""
    fields = []
    try:
        tag, size, cc = HDR.unpack_from(buf)
        nh = COMMANDS.get(cc, (None, None))[1]
        if nh is None:
            return fields
        handles = struct.unpack_from(">%dI" % nh, buf, 10)
        off = 10 + 4 * nh
        if cc == 0x165:                 # FlushContext: handle is the parameter
            handles = struct.unpack_from(">I", buf, 10)
        if handles:
            fields.append("h=" + ",".join("%08x" % h for h in handles))
        if tag == TPM_ST_SESSIONS:
            (auth_size,) = struct.unpack_from(">I", buf, off)
            off += 4
            end = off + auth_size
            sessions = []
            while off < end:
                (sh,) = struct.unpack_from(">I", buf, off)
                off += 4
                (nlen,) = struct.unpack_from(">H", buf, off)
                off += 2 + nlen
                attrs = buf[off]
                off += 1
                (hlen,) = struct.unpack_from(">H", buf, off)
                off += 2 + hlen
                flags = [n for bit, n in ((0x01, "cont"), (0x20, "dec"),
                                          (0x40, "enc"), (0x80, "audit"))
                         if attrs & bit]
                s = _session_kind(sh)
                if flags:
                    s += ":" + "+".join(flags)
                sessions.append(s)
            fields.append("sess=" + ",".join(sessions))
        else:
            end = off
        if cc == 0x176:                 # StartAuthSession: how is it set up?
            tpm_key, bind = handles
            p = end
            (nlen,) = struct.unpack_from(">H", buf, p)
            p += 2 + nlen
            (slen,) = struct.unpack_from(">H", buf, p)
            p += 2 + slen
            stype = buf[p]
            p += 1
            (sym,) = struct.unpack_from(">H", buf, p)
            p += 2
            if sym == 0x0010:
                symtxt = "null"
            else:
                bits, mode = struct.unpack_from(">HH", buf, p)
                p += 4
                symtxt = "%s%d%s" % ({0x06: "aes"}.get(sym, "alg%x" % sym), bits,
                                     {0x43: "cfb"}.get(mode, "mode%x" % mode))
            fields.append("type=%s" % {0: "hmac", 1: "policy", 3: "trial"}
                          .get(stype, str(stype)))
            fields.append("salted=%s" % ("no" if tpm_key == TPM_RH_NULL else "yes"))
            fields.append("bound=%s" % ("no" if bind == TPM_RH_NULL else "yes"))
            fields.append("sym=" + symtxt)
    except (struct.error, IndexError, ValueError):
        fields.append("parse=partial")
    return fields


# --------------------------------------------------------------------------
# The proxy
# --------------------------------------------------------------------------
def recv_exact(sock, n):
    """Read exactly n bytes; b'' on EOF before the first byte, None on a
    short read (peer closed mid-message)."""
    chunks = []
    got = 0
    while got < n:
        chunk = sock.recv(n - got)
        if not chunk:
            return b"" if got == 0 else None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


class Proxy:
    def __init__(self, args):
        self.target = (args.target_host, args.target_port)
        self.stop = threading.Event()
        self.log_lock = threading.Lock()
        self.log = open(args.log, "a", buffering=1) if args.log else None
        self.conn_ids = itertools.count(1)
        self.drop_pcr_event = args.drop_pcr_event
        self.live = set()                # sockets to shut down on exit
        self.live_lock = threading.Lock()

    # -- bookkeeping -------------------------------------------------------
    def _track(self, *socks):
        with self.live_lock:
            self.live.update(socks)

    def _untrack(self, *socks):
        with self.live_lock:
            for s in socks:
                self.live.discard(s)
                try:
                    s.close()
                except OSError:
                    pass

    def write_log(self, line):
        with self.log_lock:
            if self.log is None:        # not logging, or already shut down
                return
            self.log.write(line + "\n")
            self.log.flush()

    # -- listening ---------------------------------------------------------
    @staticmethod
    def _listener(port):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((BIND_HOST, port))
        s.listen(16)
        return s

    def bind(self, port):
        """Bind the data port and port+1; port 0 picks a free pair."""
        if port:
            self.data_l = self._listener(port)
            self.ctrl_l = self._listener(port + 1)
            return port
        for _ in range(100):
            d = self._listener(0)
            q = d.getsockname()[1]
            if q >= 65535:
                d.close()
                continue
            try:
                c = self._listener(q + 1)
            except OSError:
                d.close()
                continue
            self.data_l, self.ctrl_l = d, c
            return q
        raise OSError("no free port pair on %s" % BIND_HOST)

    def serve(self):
        sel = selectors.DefaultSelector()
        sel.register(self.data_l, selectors.EVENT_READ, self.handle_data)
        sel.register(self.ctrl_l, selectors.EVENT_READ, self.handle_ctrl)
        while not self.stop.is_set():
            # The timeout only bounds how long SIGTERM waits to be noticed.
            for key, _ in sel.select(timeout=0.2):
                try:
                    client, _addr = key.fileobj.accept()
                except OSError:
                    continue
                t = threading.Thread(target=self._run, args=(key.data, client),
                                     daemon=True)
                t.start()
        sel.close()
        self.data_l.close()
        self.ctrl_l.close()
        with self.live_lock:
            for s in list(self.live):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        if self.log:
            with self.log_lock:
                self.log.close()
                self.log = None

    def _run(self, handler, client):
        upstream = None
        try:
            port = self.target[1] + (1 if handler == self.handle_ctrl else 0)
            upstream = socket.create_connection((self.target[0], port), timeout=30)
            upstream.settimeout(None)
            self._track(client, upstream)
            handler(client, upstream)
        except OSError as e:
            self.write_log("# %s: %s" % (handler.__name__, e))
        finally:
            self._untrack(*(s for s in (client, upstream) if s is not None))

    # -- control channel: verbatim, both directions ------------------------
    def handle_ctrl(self, client, upstream):
        def pump(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
        back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
        back.start()
        pump(client, upstream)
        back.join()

    # -- data channel: framed, logged --------------------------------------
    def handle_data(self, client, upstream):
        conn = next(self.conn_ids)
        while not self.stop.is_set():
            hdr = recv_exact(client, 10)
            if not hdr:
                if hdr is None:
                    self.write_log("# conn=%d: short command header" % conn)
                return
            tag, size, cc = HDR.unpack(hdr)
            if size < 10 or size > MAX_BUF:
                # Not a TPM command we can frame: say so and stop, rather
                # than guess where the next command starts.
                self.write_log("# conn=%d: bad command size %d (cc 0x%x)" %
                               (conn, size, cc))
                return
            body = recv_exact(client, size - 10)
            if body is None or len(body) != size - 10:
                self.write_log("# conn=%d: short command %s" % (conn, cc_name(cc)))
                return
            cmd = hdr + body
            if self.drop_pcr_event and cc == CC_PCR_EVENT:
                # An interposer that swallows the extend and says it worked:
                # success, a password-session response area, no digests.
                rbody = struct.pack(">II", 4, 0) + struct.pack(">HBH", 0, 1, 0)
                rhdr = HDR.pack(0x8002, 10 + len(rbody), 0)
                self.write_log("PCR_Event 0x0 conn=%d dropped=1 t=%.6f" % (conn, time.time()))
                client.sendall(rhdr + rbody)
                continue
            wall = time.time()
            t0 = time.monotonic()
            upstream.sendall(cmd)
            rhdr = recv_exact(upstream, 10)
            if not rhdr:
                self.write_log("%s noresponse conn=%d" % (cc_name(cc), conn))
                return
            _rtag, rsize, rc = HDR.unpack(rhdr)
            rbody = recv_exact(upstream, max(rsize - 10, 0)) if rsize > 10 else b""
            if rbody is None:
                self.write_log("%s noresponse conn=%d" % (cc_name(cc), conn))
                return
            ms = (time.monotonic() - t0) * 1000.0
            fields = ["conn=%d" % conn] + describe_command(cmd)
            if rc == 0 and cc in RESPONSE_HANDLE and len(rbody) >= 4:
                fields.append("out=%08x" % struct.unpack_from(">I", rbody)[0])
            if rc:
                fields.append("rc=" + rc_name(rc))
            fields += ["req=%d" % size, "rsp=%d" % rsize, "ms=%.2f" % ms,
                       "t=%.6f" % wall]
            # Log first, then answer: see the module docstring.
            self.write_log("%s 0x%x %s" % (cc_name(cc), rc, " ".join(fields)))
            client.sendall(rhdr + rbody)


def cmd_serve(args):
    proxy = Proxy(args)
    try:
        port = proxy.bind(args.listen_port)
    except OSError as e:
        print("tpmproxy: cannot listen on %s:%s: %s" % (BIND_HOST, args.listen_port, e),
              file=sys.stderr)
        return 1

    def on_signal(_signo, _frame):
        proxy.stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    proxy.write_log("# tpmproxy %s:%d -> %s:%d" % (BIND_HOST, port, *proxy.target))
    # Line 1 of stdout is the data port; scripts wait for it.
    print(port, flush=True)
    try:
        proxy.serve()
    finally:
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except OSError:
                pass
    return 0


# --------------------------------------------------------------------------
# summarize
# --------------------------------------------------------------------------
def read_commands(path, from_line=1):
    """(name, rc, fields) for every command line of a log, from line
    from_line on; fields is a dict of the key=value words."""
    f = sys.stdin if path == "-" else open(path)
    out = []
    with f:
        for lineno, line in enumerate(f, 1):
            if lineno < from_line:
                continue
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            rc = parts[1] if len(parts) > 1 else "?"
            fields = dict(p.split("=", 1) for p in parts[2:] if "=" in p)
            out.append((parts[0], rc, fields))
    return out


def cmd_summarize(args):
    cmds = read_commands(args.log, args.from_line)
    hist = collections.Counter(name for name, _, _ in cmds)
    failed = collections.Counter(name for name, rc, _ in cmds if rc != "0x0")
    print("commands: %d" % len(cmds))
    for name, n in sorted(hist.items(), key=lambda kv: (-kv[1], kv[0])):
        extra = "  (%d failed)" % failed[name] if failed[name] else ""
        print("  %4d  %s%s" % (n, name, extra))
    if failed:
        print("failed: %d (rc != 0)" % sum(failed.values()))
    # Wall-clock span of the TPM phase vs the time swtpm itself took: the
    # difference is the client's own work (and process starts) in between.
    try:
        starts = [float(f["t"]) for _, _, f in cmds]
        ends = [float(f["t"]) + float(f["ms"]) / 1000.0 for _, _, f in cmds]
        inside = sum(float(f["ms"]) for _, _, f in cmds)
    except (KeyError, ValueError):
        starts = []
    if starts:
        print("span: %.1f ms from the first command to the last response,"
              " %.1f ms of it waiting for the TPM" %
              ((max(ends) - min(starts)) * 1000.0, inside))
    return 0


def main(argv):
    # "serve" is the default sub-command, so `tpmproxy.py --target-port P` works.
    if not argv or argv[0].startswith("-"):
        argv = ["serve"] + argv
    ap = argparse.ArgumentParser(prog="tpmproxy.py",
                                 description="Recording proxy for the swtpm TCTI.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="run the proxy")
    s.add_argument("--listen-port", type=int, default=0,
                   help="data port Q (Q+1 is ctrl); 0 picks a free pair")
    s.add_argument("--target-port", type=int, required=True,
                   help="swtpm data port P (P+1 is ctrl)")
    s.add_argument("--target-host", default="127.0.0.1")
    s.add_argument("--log", help="append one line per TPM command here")
    s.add_argument("--pidfile", help="write the proxy's PID here")
    s.add_argument("--drop-pcr-event", action="store_true",
                   help="answer PCR_Event with success without forwarding it "
                        "(an interposer that drops extends)")
    m = sub.add_parser("summarize", help="count the commands in a log")
    m.add_argument("log", help="log file, or - for stdin")
    m.add_argument("--from-line", type=int, default=1,
                   help="ignore the lines before this one (1-based)")
    args = ap.parse_args(argv)
    if args.cmd == "serve":
        return cmd_serve(args)
    return cmd_summarize(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
