#!/bin/bash
# The legacy fetch against the reference server, over real HTTPS on
# 127.0.0.1: the happy path, then every misbehaviour. Each failure must
# come within a bounded time, with its own exit code and message, and
# leave no key behind (--key-file is only written after verification).
# At the end, the recovery key's escrow to the same server
# (si_legacy_escrow): stored byte for byte, failures coded as the fetch's.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/legacy.sh"

legacy_setup
legacy_server_start
CONF=$WORK/legacy.conf
legacy_config "$CONF"
DEADLINE_MS=6000

# fetch CODE WHAT [CONFIG]: legacy-fetch --test plus --key-file, timed.
fetch() {
	local code=$1 what=$2 conf=${3:-$CONF} t0 ms
	rm -f "$WORK/out"
	t0=$(date +%s%N)
	run timeout 60 "$SEALINIT" legacy-fetch --config "$conf" --key-file "$WORK/out" "$WORK/limg" --test
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ "$RC" = "$code" ] || fail "$what: expected exit $code, got $RC after ${ms} ms: $OUT"
	# A bound on the wait, not a speed test: the deadline plus start-up.
	[ "$ms" -lt $((DEADLINE_MS + 5000)) ] || fail "$what: took ${ms} ms, deadline is ${DEADLINE_MS} ms"
	if [ "$code" != 0 ] && [ -e "$WORK/out" ]; then
		fail "$what: a key file was written although the fetch failed"
	fi
	echo "ok: $what (exit $RC, ${ms} ms)"
}

# --- the contract works end to end ---------------------------------------
fetch 0 "happy path"
expect_msg "opens keyslot 0"
cmp -s "$WORK/out" "$WORK/legacy-key" || fail "the written key differs from the resource"
[ "$(stat -c %a "$WORK/out")" = 600 ] || fail "key file mode is not 0600"
rm -f "$WORK/out"
expect 0 "unlock to stdout" sh -c "'$SEALINIT' legacy-fetch --config '$CONF' --key-file - > '$WORK/out2'"
cmp -s "$WORK/out2" "$WORK/legacy-key" || fail "--key-file - differs from the resource"

# libcurl in this build writes the TLS secrets where SSLKEYLOGFILE says
# once the variable reaches it (the CLI keeps its user's environment): the
# control of tests/qemu/boot.sh's legacy scenario, where the kernel's
# SSLKEYLOGFILE= never reaches the fetch.
rm -f "$WORK/keylog"
expect 0 "legacy-fetch with SSLKEYLOGFILE" env SSLKEYLOGFILE="$WORK/keylog" "$SEALINIT" legacy-fetch \
	--config "$CONF" "$WORK/limg" --test
grep -qE '^(CLIENT_RANDOM|CLIENT_TRAFFIC_SECRET_0) ' "$WORK/keylog" 2>/dev/null ||
	fail "libcurl wrote no key log to SSLKEYLOGFILE: the boot's test of its absence would prove nothing"
rm -f "$WORK/keylog"

# The pin holds for the legacy key too: it opens any volume made with it.
# The rogue one carries limg's UUID; unpinned it opens (the control).
truncate -s 20M "$WORK/lrogue"
cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	--uuid "$(cryptsetup luksUUID "$WORK/limg")" "$WORK/lrogue" "$WORK/legacy-key" >/dev/null ||
	fail "luksFormat lrogue"
cryptsetup luksDump -q --dump-volume-key --volume-key-file "$WORK/lvk" --key-file "$WORK/legacy-key" \
	"$WORK/limg" >/dev/null || fail "luksDump --dump-volume-key limg"
lid=$(printf '%s' "cryptsetup:sealdata:$(cryptsetup luksUUID "$WORK/limg")" |
	openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(od -An -v -tx1 "$WORK/lvk" | tr -d ' \n')" |
	sed 's/.*= //')
rm -f "$WORK/lvk"
legacy_config "$WORK/pinned.conf" "fixate_volume_key=$lid"
expect 0 "legacy, unpinned, opens the rogue volume" "$SEALINIT" legacy-fetch --config "$CONF" \
	"$WORK/lrogue" --test
before=$(head -c 16M "$WORK/lrogue" | sha256sum)
expect 29 "legacy, pinned, refuses the rogue volume" "$SEALINIT" legacy-fetch \
	--config "$WORK/pinned.conf" "$WORK/lrogue" --test
expect_msg "is not the enrolled volume"
[ "$before" = "$(head -c 16M "$WORK/lrogue" | sha256sum)" ] || fail "the rogue header changed"
expect 0 "legacy, pinned, opens the enrolled volume" "$SEALINIT" legacy-fetch \
	--config "$WORK/pinned.conf" "$WORK/limg" --test
rm -f "$WORK/lrogue"

# Nothing secret in the output: not the password, not the key.
case "$OUT" in *"$(cat "$WORK/legacy-key")"*|*"pa55 w0rd"*) fail "a secret was printed: $OUT" ;; esac

# --- server misbehaviour ---------------------------------------------------
mode login-401;      fetch 20 "login 401";      expect_msg "HTTP 401"
mode small-403;      fetch 21 "small part 403"; expect_msg "HTTP 403"
: > "$WORK/server.log"
mode api-500;        fetch 22 "API 500";        expect_msg "HTTP 500"
[ "$(requests api /v1/auth/login)" = 2 ] || fail "API 500: expected 1 try + 1 retry, server saw $(requests api /v1/auth/login)"
mode api-503-once;   fetch 0 "API 503 once, then a retry succeeds"; expect_msg "retry 1 of 1"
mode cdn-500;        fetch 22 "CDN 500";        expect_msg "big part"
mode garbage-api;    fetch 23 "garbage from the API"; expect_msg "not a JSON object"
mode bad-json-api;   fetch 23 "JSON with wrong types"; expect_msg "response:"
mode oversize-small; fetch 24 "small part over 3 KiB"; expect_msg "more than 3072 bytes"
mode oversize-json;  fetch 24 "JSON over 16 KiB"
mode oversize-cdn;   fetch 24 "CDN sends more than announced"
mode truncate-cdn;   fetch 23 "CDN truncates"; expect_msg "closed early"
mode wrong-digest;   fetch 25 "wrong digest";   expect_msg "failed its integrity check"
mode tamper-big;     fetch 25 "one flipped bit in the big part"; expect_msg "failed its integrity check"
mode http-url;       fetch 23 "big_url over plain http"; expect_msg "https://"
mode stall-api;      fetch 26 "API stalls";     expect_msg "deadline of 6000 ms"
mode stall-tls;      fetch 26 "TLS handshake stalls"
mode stall-cdn;      fetch 26 "CDN stalls"
mode slow-cdn;       fetch 26 "CDN trickles"
mode ok

# The same message for a bad digest and a bad padding: a key derived from
# another salt decrypts to garbage padding, after a correct digest.
/usr/bin/python3 - "$WORK/state" <<'PY' || fail "editing the salt"
import json, sys, os
p = os.path.join(sys.argv[1], "state.json")
s = json.load(open(p))
for u in s["users"].values() if isinstance(s["users"], dict) else s["users"]:
    u["salt"] = "another-salt"
json.dump(s, open(p, "w"))
PY
fetch 25 "bad padding (wrong salt)"; expect_msg "failed its integrity check"
pad_msg=$(printf '%s' "$OUT" | tail -1)
legacy_server_stop
rm -rf "$WORK/state"
legacy_setup_state() {
	/usr/bin/python3 "$LEGACY_SRV/provision.py" "$WORK/state" --email "$LEGACY_EMAIL" \
		--password-file "$WORK/password" --fingerprint "$LEGACY_FP" --salt "$LEGACY_SALT" \
		--resource data --secret-file "$WORK/legacy-key" >/dev/null || fail "provision.py"
}
legacy_setup_state
legacy_server_start
legacy_config "$CONF"
mode wrong-digest; fetch 25 "wrong digest, again"
[ "$(printf '%s' "$OUT" | tail -1)" = "$pad_msg" ] || fail "padding and digest errors differ: '$pad_msg' vs '$(printf '%s' "$OUT" | tail -1)'"
mode ok

# --- TLS: wrong CA, wrong name, pins -----------------------------------------
legacy_config "$WORK/rogue-ca.conf" "legacy_ca=$WORK/pki/rogue-ca.pem"
fetch 19 "server not signed by the baked-in CA" "$WORK/rogue-ca.conf"
legacy_config "$WORK/pin.conf" "legacy_ca=" "legacy_pin=$(cat "$WORK/pki/server.pin")"
fetch 0 "pinned public key, no CA" "$WORK/pin.conf"
legacy_config "$WORK/badpin.conf" "legacy_ca=" "legacy_pin=sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
fetch 19 "wrong pinned key" "$WORK/badpin.conf"
legacy_config "$WORK/noca.conf" "legacy_ca="
expect 2 "neither CA nor pin" "$SEALINIT" legacy-fetch --config "$WORK/noca.conf" --key-file "$WORK/out"
expect_msg "never trusted unverified"
legacy_server_stop
legacy_server_start --cert "$WORK/pki/rogue.pem" --key "$WORK/pki/rogue.key"
legacy_config "$CONF"
fetch 19 "server presents a certificate from another CA"
legacy_server_stop
legacy_server_start --cert "$WORK/pki/wrongname.pem" --key "$WORK/pki/wrongname.key"
legacy_config "$CONF"
fetch 19 "certificate for another host name"; expect_msg "target host name"
# Pin only, and the pin matches this server's key: the host name is still
# checked.
wpin=sha256//$(openssl x509 -in "$WORK/pki/wrongname.pem" -pubkey -noout |
	openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
legacy_config "$WORK/pin-wrongname.conf" "legacy_ca=" "legacy_pin=$wpin"
fetch 19 "pin mode still checks the host name" "$WORK/pin-wrongname.conf"; expect_msg "target host name"
legacy_server_stop

# --- transport: refused, unresolvable --------------------------------------
legacy_config "$CONF"   # the ports of a stopped server: nothing listens
fetch 18 "connection refused"
if unshare -n true 2>/dev/null; then
	# A name with no --resolve pin, in a network namespace with no
	# interface up: the resolver fails without a packet leaving the host.
	legacy_config "$WORK/dns.conf" "legacy_api=https://no-such-host.invalid" "legacy_resolve="
	rm -f "$WORK/out"
	run timeout 60 unshare -n "$SEALINIT" legacy-fetch --config "$WORK/dns.conf" --key-file "$WORK/out"
	[ "$RC" = 17 ] || fail "DNS failure: expected exit 17, got $RC: $OUT"
	echo "ok: unresolvable name (exit 17)"
else
	echo "note: unshare -n unavailable, DNS case not run"
fi

# --- unprivileged, as in the loader container ---------------------------------
# No root, no CAP_IPC_LOCK (the default 8 MiB RLIMIT_MEMLOCK), the files
# owned by that user: the fetch itself needs no privilege.
if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	legacy_server_start
	U=$(mktemp -d "${TMPDIR:-/tmp}/sealinit-nobody.XXXXXX") || fail "mktemp"
	at_exit rm -rf "$U"
	cp "$WORK/pki/ca.pem" "$WORK/serial" "$U/"
	cp "$WORK/cred" "$U/cred"
	legacy_config "$U/conf" "legacy_ca=$U/ca.pem" "legacy_credentials=$U/cred" "legacy_fingerprint=file:$WORK/serial"
	chown -R nobody "$U"
	chmod 755 "$U" "$WORK"
	run setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
		sh -c "ulimit -l 8192; '$SEALINIT' legacy-fetch --config '$U/conf' --key-file - > '$U/key'"
	[ "$RC" = 0 ] || fail "as nobody: exit $RC: $OUT"
	cmp -s "$U/key" "$WORK/legacy-key" || fail "as nobody: the key differs"
	echo "ok: unprivileged user, key to stdout"
	chmod 700 "$WORK"
	legacy_server_stop
fi

# --- local checks: credentials, fingerprint, config ---------------------------
legacy_server_start
legacy_config "$CONF"
chmod 644 "$WORK/cred"
fetch 27 "credentials readable by others"; expect_msg "mode 0600"
chmod 600 "$WORK/cred"
legacy_config "$WORK/fp.conf" "legacy_fingerprint=file:$WORK/no-such-serial"
fetch 28 "fingerprint source missing" "$WORK/fp.conf"; expect_msg "no-such-serial"
legacy_config "$WORK/fp2.conf" "legacy_fingerprint=mac:lo"
fetch 21 "another device's fingerprint" "$WORK/fp2.conf"
legacy_config "$WORK/bad.conf" "legacy_api=http://api.legacy.test"
expect 2 "http API URL" "$SEALINIT" legacy-fetch --config "$WORK/bad.conf" --key-file "$WORK/out"
expect_msg "legacy_api"
[ "$(requests api /v1/auth/login)" -ge 1 ] || fail "the server saw no login at all"

# --- the recovery key's escrow: POST /v1/devices/escrow -----------------------
# The document provisioning sends (escrow_seal makes it), sent after the
# fetch's login with its token and fingerprint, over the same TLS anchors:
# the server keeps it byte for byte, and the escrow key opens its copy.
# Each failure gets the fetch's code, and nothing is stored.
need_driver escrow_send
SEND=$DRIVER
need_driver escrow_seal
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/escrow.pem" 2>/dev/null &&
	openssl pkey -in "$WORK/escrow.pem" -pubout -out "$WORK/escrow.pub" || fail "openssl genpkey"
EKEY=vvvvcccc-bbbbdddd-eeeeffff-gggghhhh-iiiijjjj-kkkkllll-nnnnrrrr-ttttuuuu
EUUID=$(cryptsetup luksUUID "$WORK/limg")
mkdir "$WORK/escrow-out"
printf '%s\n' "$EKEY" | "$DRIVER" "$WORK/escrow.pub" "$EUUID" "$(printf '%064d' 7)" "$WORK/escrow-out" \
	>/dev/null || fail "escrow_seal"
EDOC=$WORK/escrow-out/sealinit-escrow-$EUUID.json
STORED=$WORK/state/escrow/$EUUID.json
# escrow WHAT CODE [CONFIG]: send EDOC, expect the exit code CODE.
escrow() {
	local what=$1 code=$2 conf=${3:-$CONF}
	run timeout 60 "$SEND" "$conf" "$EDOC"
	[ "$OUT" != "${OUT#r=$code }" ] || fail "escrow, $what: expected r=$code, got: $OUT"
	echo "ok: escrow, $what (exit $code)"
}
mode login-401;  escrow "login 401" 20
mode escrow-403; escrow "escrow 403" 21; expect_msg "escrow: api.legacy.test"
: > "$WORK/server.log"
mode escrow-500; escrow "escrow 500, retried" 22
[ "$(requests api /v1/devices/escrow)" = 2 ] || fail "escrow 500: expected 1 try + 1 retry, server saw $(requests api /v1/devices/escrow)"
mode stall-api;  escrow "API stalls" 26
mode ok
legacy_config "$WORK/rogue-ca.conf" "legacy_ca=$WORK/pki/rogue-ca.pem"
escrow "server not signed by the baked-in CA" 19 "$WORK/rogue-ca.conf"
[ -e "$STORED" ] && fail "a failed escrow stored a document"
# The control: the genuine exchange stores it, and says who sent it.
escrow "stored" 0
grep -q "^api POST /v1/devices/escrow 201$" "$WORK/server.log" || fail "no 201 in the server log"
cmp -s "$EDOC" "$STORED" || fail "the server stored something else than the document"
fphash=$(printf '%s' "file:$WORK/serial=$LEGACY_SERIAL" | sha256sum | cut -c1-64)
[ "$(cat "$WORK/state/escrow/$EUUID.sender")" = "$LEGACY_EMAIL $fphash" ] ||
	fail "the server's record of the sender: $(cat "$WORK/state/escrow/$EUUID.sender")"
[ "$("$SEALINIT" escrow-open --key "$WORK/escrow.pem" "$STORED" 2>/dev/null)" = "$EKEY" ] ||
	fail "the stored document does not open to the key"
grep -q "${EKEY:0:8}" "$STORED" "$WORK/server.log" && fail "the key reached the server in clear"
echo "PASS"
