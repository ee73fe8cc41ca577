#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""server: the reference HTTPS server of the legacy split-key contract
(docs/legacy-protocol.md), with misbehaviours switched on by a mode file.

  server.py --state DIR --cert PEM --key KEY [--cdn-cert PEM --cdn-key KEY]
            [--api-port N] [--cdn-port N] [--cdn-host H]
            [--mode-file F] [--log F] [--ready-file F]

Two HTTPS listeners, both on 127.0.0.1 only (port 0 picks a free port):

  API  POST /v1/auth/login               {"email","password"} -> {"token","salt"}
       GET  /v1/resources/{id}/small     Authorization: Bearer T,
                                         X-Hardware-Fingerprint: hex SHA-256
                                         -> {"small","sha256","big_url","big_size"}
       POST /v1/devices/escrow           Authorization: Bearer T,
                                         X-Hardware-Fingerprint: hex SHA-256,
                                         body: a sealinit escrow document
                                         -> 201 {"stored": uuid}; the body is
                                         kept as STATE_DIR/escrow/<uuid>.json
  CDN  GET  /v1/blobs/{name}             raw bytes of the big part

The state (STATE_DIR/state.json and STATE_DIR/blobs/) is written by
provision.py and re-read whenever state.json changes. Tokens live in memory.

When both listeners are up, "api_port=N\\ncdn_port=M\\n" is written to the
ready file (atomically). The log gets one flushed line per request,
"<api|cdn> METHOD PATH STATUS", written before the response is sent, plus
"<api|cdn> STALL PATH" when a request is stalled ("STALL tls" for a stalled
handshake). Lines starting with '#' are comments (TLS handshake failures).

The mode file is read on every connection and every request. Missing or
empty means "ok"; otherwise it holds mode names separated by commas or
whitespace. See README.md for the modes. SIGTERM or SIGINT stops the server
(exit status 0).
"""

import argparse
import base64
import hashlib
import hmac
import http.server
import json
import os
import re
import secrets
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

MODES = {
    "ok",
    "stall-tls", "stall-tls-api", "stall-tls-cdn",
    "stall-api", "stall-cdn", "slow-cdn", "truncate-cdn",
    "wrong-digest", "tamper-big",
    "login-401", "small-403",
    "api-500", "api-503-once", "cdn-500",
    "garbage-api", "garbage-small",
    "bad-json-api", "bad-json-small",
    "oversize-small", "oversize-json", "oversize-json-small", "oversize-cdn",
    "http-url",
    "escrow-403", "escrow-500",
}

STALL_SECONDS = 600
MAX_BODY = 16 * 1024
OVERSIZE_SMALL = 4096
OVERSIZE_JSON = 64 * 1024
OVERSIZE_CDN = 64 * 1024 * 1024


class App:
    """What both listeners share: state, tokens, modes, log."""

    def __init__(self, args):
        self.args = args
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.tokens = {}            # token -> email
        self.state = None
        self.state_key = None
        self.once_key = None        # mode file version that used api-503-once
        self.warned = set()
        self.cdn_port = 0
        self.logf = open(args.log, "a", encoding="utf-8") if args.log else None

    # -- log --
    def log(self, line):
        if self.logf is None:
            return
        with self.lock:
            self.logf.write(line + "\n")
            self.logf.flush()

    # -- modes --
    def modes(self):
        """The current modes, and a key identifying this version of the file."""
        if not self.args.mode_file:
            return frozenset(), None
        try:
            with open(self.args.mode_file, "rb") as f:
                st = os.fstat(f.fileno())
                data = f.read(4096)
        except FileNotFoundError:
            return frozenset(), None
        except OSError as e:
            print("server: mode file: %s" % e, file=sys.stderr)
            return frozenset(), None
        names = set(re.split(r"[,\s]+", data.decode("ascii", "replace"))) - {"", "ok"}
        for n in names - MODES:
            if n not in self.warned:
                self.warned.add(n)
                print("server: unknown mode %r ignored" % n, file=sys.stderr)
        return frozenset(names & MODES), (st.st_ino, st.st_mtime_ns, st.st_size, data)

    def take_once(self, key):
        """True for the first caller after the mode file took this version."""
        with self.lock:
            if key == self.once_key:
                return False
            self.once_key = key
            return True

    # -- state --
    def load_state(self):
        path = os.path.join(self.args.state, "state.json")
        try:
            st = os.stat(path)
            key = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            key = None
        with self.lock:
            if self.state is not None and key == self.state_key:
                return self.state
            if key is None:
                state = {"users": {}, "resources": {}}
            else:
                try:
                    with open(path, "rb") as f:
                        state = json.load(f)
                except (OSError, ValueError) as e:
                    # caught half-written: keep the last good state, look again next time
                    if self.state is None:
                        raise
                    print("server: state.json: %s; using the previous state" % e, file=sys.stderr)
                    return self.state
            # in memory only: blob name -> resource id
            state["_blob_index"] = {r["blob"]: rid for rid, r in state["resources"].items()}
            self.state, self.state_key = state, key
            return state

    def blob(self, name):
        state = self.load_state()
        rid = state["_blob_index"].get(name)
        if rid is None:
            return None, None
        rec = state["resources"][rid]
        with open(os.path.join(self.args.state, "blobs", rec["blob"]), "rb") as f:
            return rec, f.read()

    # -- stalling --
    def stall(self, sock):
        """Hold the connection without answering: until STALL_SECONDS pass,
        the client goes away, or the server stops. Whatever the client sends
        is read and dropped."""
        deadline = time.monotonic() + STALL_SECONDS
        try:
            sock.settimeout(0.5)
        except OSError:
            return
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                if not sock.recv(4096):
                    return
            except (socket.timeout, ssl.SSLWantReadError):
                continue
            except OSError:
                return


def clean_path(p):
    """A request path fit for one log line."""
    return re.sub(r"[^\x21-\x7e]", lambda m: "%%%02X" % (ord(m.group()) & 0xff), p)[:512]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "legacy-test"
    sys_version = ""
    timeout = 60  # idle keep-alive connections

    def log_message(self, fmt, *args):
        pass

    # -- plumbing --
    @property
    def app(self):
        return self.server.app

    @property
    def role(self):
        return self.server.role

    def logreq(self, status):
        self.app.log("%s %s %s %s" % (self.role, self.command, clean_path(self.path), status))

    def send(self, status, body, ctype="application/json", length=None):
        """Log, then send a complete response (or only the headers when
        body is None)."""
        self.logreq(status)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body:
            self.wfile.write(body)

    def json(self, status, obj):
        self.send(status, json.dumps(obj).encode())

    def read_body(self):
        """The request body, or None after answering 411/413."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            self.json(411, {"error": "length_required"})
            return None
        try:
            n = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            n = -1
        if not 0 <= n <= MAX_BODY:
            self.close_connection = True
            self.json(413, {"error": "too_large"})
            return None
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    do_PUT = do_DELETE = do_PATCH = do_POST

    def dispatch(self):
        body = self.read_body()
        if body is None:
            return
        modes, key = self.app.modes()
        path = self.path.split("?", 1)[0]
        if self.role == "api":
            self.api(modes, key, path, body)
        else:
            self.cdn(modes, path)

    def do_stall(self):
        self.app.log("%s STALL %s" % (self.role, clean_path(self.path)))
        self.close_connection = True
        self.app.stall(self.connection)

    # -- API --
    def api(self, modes, key, path, body):
        if "stall-api" in modes:
            return self.do_stall()
        if "api-500" in modes:
            return self.json(500, {"error": "internal"})
        if "api-503-once" in modes and self.app.take_once(key):
            return self.json(503, {"error": "unavailable"})
        m = re.fullmatch(r"/v1/resources/([^/]+)/small", path)
        if path == "/v1/auth/login":
            if self.command != "POST":
                return self.json(405, {"error": "method_not_allowed"})
            return self.login(modes, body)
        if m:
            if self.command != "GET":
                return self.json(405, {"error": "method_not_allowed"})
            return self.small(modes, m.group(1))
        if path == "/v1/devices/escrow":
            if self.command != "POST":
                return self.json(405, {"error": "method_not_allowed"})
            return self.escrow(modes, body)
        return self.json(404, {"error": "not_found"})

    def escrow(self, modes, body):
        """Keep a device's escrow document as it came, by its volume's uuid
        (the latest wins: a device that provisions again sends a new one),
        with who sent it beside it."""
        if "escrow-500" in modes:
            return self.json(500, {"error": "internal"})
        auth = self.headers.get("Authorization", "")
        m = re.fullmatch(r"Bearer ([\x21-\x7e]+)", auth.strip())
        with self.app.lock:
            email = self.app.tokens.get(m.group(1)) if m else None
        if email is None:
            return self.json(401, {"error": "invalid_token"})
        if "escrow-403" in modes:
            return self.json(403, {"error": "forbidden"})
        fp = self.headers.get("X-Hardware-Fingerprint", "").strip().lower()
        if not re.fullmatch(r"[0-9a-f]{64}", fp):
            return self.json(400, {"error": "fingerprint_missing"})
        try:
            doc = json.loads(body)
        except ValueError:
            return self.json(400, {"error": "not_json"})
        uuid = doc.get("uuid") if isinstance(doc, dict) else None
        if (not isinstance(doc, dict) or doc.get("type") != "sealinit-escrow" or
                not isinstance(uuid, str) or
                not re.fullmatch(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", uuid)):
            return self.json(400, {"error": "not_an_escrow_document"})
        d = os.path.join(self.app.args.state, "escrow")
        os.makedirs(d, exist_ok=True)
        for name, data in (("%s.json" % uuid, body),
                           ("%s.sender" % uuid, ("%s %s\n" % (email, fp)).encode())):
            tmp = os.path.join(d, ".%s.tmp" % name)
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, os.path.join(d, name))
        return self.json(201, {"stored": uuid})

    def api_ok(self, modes, obj, kind, bad):
        """Send a 200 API answer, spoilt as the modes ask."""
        small = kind == "small"
        if "garbage-api" in modes or (small and "garbage-small" in modes):
            # 0xff never starts JSON, and is not UTF-8 either
            return self.send(200, b"\xff" + os.urandom(255))
        if "bad-json-api" in modes or (small and "bad-json-small" in modes):
            obj = bad
        if "oversize-json" in modes or (small and "oversize-json-small" in modes):
            base = len(json.dumps(dict(obj, padding="")).encode())
            obj = dict(obj, padding="x" * max(0, OVERSIZE_JSON - base))
        return self.json(200, obj)

    def login(self, modes, body):
        denied = {"error": "invalid_credentials"}
        if "login-401" in modes:
            return self.json(401, denied)
        try:
            req = json.loads(body)
        except ValueError:
            return self.json(401, denied)
        if not isinstance(req, dict):
            return self.json(401, denied)
        email, password = req.get("email"), req.get("password")
        if not isinstance(email, str) or not isinstance(password, str):
            return self.json(401, denied)
        user = self.app.load_state()["users"].get(email)
        if user is None or not hmac.compare_digest(user["password"].encode(), password.encode()):
            return self.json(401, denied)
        token = secrets.token_hex(16)
        with self.app.lock:
            self.app.tokens[token] = email
        return self.api_ok(modes, {"token": token, "salt": user["salt"]}, "login",
                           {"token": 12345, "salt": ["not", "a", "string"]})

    def small(self, modes, rid):
        if "small-403" in modes:
            return self.json(403, {"error": "fingerprint_mismatch"})
        auth = self.headers.get("Authorization", "")
        m = re.fullmatch(r"Bearer ([\x21-\x7e]+)", auth.strip())
        with self.app.lock:
            email = self.app.tokens.get(m.group(1)) if m else None
        if email is None:
            return self.json(401, {"error": "invalid_token"})
        rid = urllib.parse.unquote(rid)
        rec = self.app.load_state()["resources"].get(rid)
        if rec is None:
            return self.json(404, {"error": "not_found"})
        if rec["owner"] != email:
            return self.json(403, {"error": "forbidden"})
        fp = self.headers.get("X-Hardware-Fingerprint", "").strip().lower()
        if not hmac.compare_digest(fp.encode(), rec["fingerprint_sha256"].encode()):
            return self.json(403, {"error": "fingerprint_mismatch"})

        small_b64, big_size, digest = rec["small"], rec["big_size"], rec["sha256"]
        if "oversize-small" in modes:
            _, big = self.app.blob(rec["blob"])
            c = base64.b64decode(small_b64) + big
            if len(c) > OVERSIZE_SMALL:
                # a consistent split, only too big: the CDN serves the rest
                small_b64 = base64.b64encode(c[:OVERSIZE_SMALL]).decode()
                big_size = len(c) - OVERSIZE_SMALL
            else:
                filler = os.urandom(OVERSIZE_SMALL - len(c))
                small_b64 = base64.b64encode(c + filler).decode()
        if "wrong-digest" in modes:
            digest = hashlib.sha256(b"wrong-digest" + bytes.fromhex(digest)).hexdigest()
        scheme = "http" if "http-url" in modes else "https"
        big_url = "%s://%s:%d/v1/blobs/%s" % (scheme, self.app.args.cdn_host,
                                              self.app.cdn_port, rec["blob"])
        return self.api_ok(modes, {"small": small_b64, "sha256": digest,
                                   "big_url": big_url, "big_size": big_size}, "small",
                           {"small": 12, "sha256": "zz", "big_url": 7, "big_size": "big"})

    # -- CDN --
    def cdn(self, modes, path):
        if "stall-cdn" in modes:
            return self.do_stall()
        m = re.fullmatch(r"/v1/blobs/([0-9A-Za-z_-]+)", path)
        if not m:
            return self.json(404, {"error": "not_found"})
        if self.command != "GET":
            return self.json(405, {"error": "method_not_allowed"})
        if "cdn-500" in modes:
            return self.json(500, {"error": "internal"})
        rec, data = self.app.blob(m.group(1))
        if rec is None:
            return self.json(404, {"error": "not_found"})
        if "oversize-small" in modes:
            c = base64.b64decode(rec["small"]) + data
            if len(c) > OVERSIZE_SMALL:
                data = c[OVERSIZE_SMALL:]
        if "tamper-big" in modes and data:
            data = bytearray(data)
            data[len(data) // 2] ^= 0x01
            data = bytes(data)
        ctype = "application/octet-stream"

        if "oversize-cdn" in modes:
            self.close_connection = True
            self.send(200, None, ctype, OVERSIZE_CDN)
            data = data[:OVERSIZE_CDN]
            self.wfile.write(data)
            left = OVERSIZE_CDN - len(data)
            chunk = bytes(64 * 1024)
            while left > 0 and not self.app.stop.is_set():
                n = min(left, len(chunk))
                self.wfile.write(chunk[:n])
                left -= n
            return None
        if "truncate-cdn" in modes:
            self.close_connection = True
            self.send(200, None, ctype, len(data))
            self.wfile.write(data[:len(data) // 2])
            return None
        if "slow-cdn" in modes:
            self.close_connection = True
            self.send(200, None, ctype, len(data))
            for i in range(len(data)):
                if self.app.stop.wait(1.0):
                    break
                self.wfile.write(data[i:i + 1])
            return None
        return self.send(200, data, ctype)


QUIET_ERRORS = (ConnectionError, TimeoutError, ssl.SSLError, socket.timeout)


class TLSServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """One listener. The TLS handshake happens in the connection's own
    thread, so a client that stalls it holds up nobody else."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, app, role, port, sslctx):
        self.app, self.role, self.sslctx = app, role, sslctx
        super().__init__(("127.0.0.1", port), Handler)

    def server_bind(self):
        # HTTPServer.server_bind looks up the host's FQDN; skip that.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request, client_address):
        modes, _ = self.app.modes()
        if modes & {"stall-tls", "stall-tls-" + self.role}:
            self.app.log("%s STALL tls" % self.role)
            self.app.stall(request)
            return
        request.settimeout(30)
        # headers and body go out as separate writes: no Nagle delay
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            conn = self.sslctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.app.log("# %s tls-error %s" % (self.role, clean_path(str(e))))
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def shutdown_request(self, request):
        try:
            request.close()
        except OSError:
            pass

    def handle_error(self, request, client_address):
        e = sys.exc_info()[1]
        if isinstance(e, QUIET_ERRORS):
            return
        super().handle_error(request, client_address)


def tls_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def write_ready(path, api_port, cdn_port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w", encoding="ascii") as f:
        f.write("api_port=%d\ncdn_port=%d\n" % (api_port, cdn_port))
    os.rename(tmp, path)


def main():
    ap = argparse.ArgumentParser(description="Legacy split-key reference server (tests only).")
    ap.add_argument("--state", required=True, help="state directory (provision.py)")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--cdn-cert", help="the CDN's certificate (default: --cert)")
    ap.add_argument("--cdn-key", help="the CDN's key (default: --key)")
    ap.add_argument("--api-port", type=int, default=0)
    ap.add_argument("--cdn-port", type=int, default=0)
    ap.add_argument("--cdn-host", default="cdn.legacy.test", help="host part of big_url")
    ap.add_argument("--mode-file")
    ap.add_argument("--log")
    ap.add_argument("--ready-file")
    args = ap.parse_args()
    if bool(args.cdn_cert) != bool(args.cdn_key):
        ap.error("--cdn-cert and --cdn-key go together")

    # SIGTERM and SIGINT are blocked in every thread, and the main thread
    # waits for them: no handler runs at an awkward moment.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    app = App(args)
    app.load_state()
    api_ctx = tls_context(args.cert, args.key)
    cdn_ctx = tls_context(args.cdn_cert, args.cdn_key) if args.cdn_cert else api_ctx
    api = TLSServer(app, "api", args.api_port, api_ctx)
    cdn = TLSServer(app, "cdn", args.cdn_port, cdn_ctx)
    app.cdn_port = cdn.server_address[1]

    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
               for s in (api, cdn)]
    for t in threads:
        t.start()
    if args.ready_file:
        write_ready(args.ready_file, api.server_address[1], cdn.server_address[1])

    signal.sigwait(stop_signals)
    app.stop.set()
    for s in (api, cdn):
        s.shutdown()
        s.server_close()
    if args.ready_file:
        try:
            os.unlink(args.ready_file)
        except OSError:
            pass
    if app.logf:
        app.logf.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
