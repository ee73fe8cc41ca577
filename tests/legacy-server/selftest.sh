#!/bin/bash
# SPDX-License-Identifier: MIT
# Self-test of the legacy reference server with the curl CLI: the whole
# flow (login, small part, big part, join, digest, decrypt) and a sample of
# the misbehaviour modes and certificates. Ends with "N passed, N failed";
# exit status is non-zero on any failure. Takes a few seconds.
# shellcheck disable=SC2317 # functions run through check
set -u
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
. "$here/../lib/atexit.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/legacy-selftest.XXXXXX")
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2> /dev/null
		wait "$p" 2> /dev/null
	done
	rm -rf "$work"
}
at_exit cleanup

passed=0 failed=0
check() { # check NAME COMMAND...
	local name=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		printf '  ok    %s\n' "$name"
	else
		failed=$((failed + 1))
		printf '  FAIL  %s\n' "$name"
	fi
}
eq() { # eq GOT WANT
	[ "$1" = "$2" ] || { echo "    got '$1', want '$2'" >&2; return 1; }
}
not() { ! "$@"; }
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit
}

certs=$work/certs state=$work/state
bash "$here/mkcerts.sh" "$certs" || { echo "mkcerts.sh failed"; failed=1; finish; }

email=device@example.test
fp='dmi-uuid=4c4c4544-0042-3510-8052-b3c04f4e4d32;mac:eth0=52:54:00:12:34:56'
salt=s4lt-0f-the-c0ntract
printf 'horse b\xc3\xa4ttery staple\n' > "$work/password"
password=$(cat "$work/password")
head -c 200 /dev/urandom > "$work/secret"
fphex=$(printf '%s' "$fp" | sha256sum | cut -d' ' -f1)

"$PY" "$here/provision.py" "$state" --email "$email" --password-file "$work/password" \
	--fingerprint "$fp" --salt "$salt" --resource disk0 --secret-file "$work/secret" > /dev/null ||
	{ echo "provision.py failed"; failed=1; finish; }
# a second user's resource, for the owner check
echo other > "$work/password2"
"$PY" "$here/provision.py" "$state" --email other@example.test --password-file "$work/password2" \
	--fingerprint "$fp" --salt salt2 --resource disk1 --secret-file "$work/secret" > /dev/null ||
	{ echo "provision.py (second) failed"; failed=1; finish; }

# start NAME [server options]: sets srv_api and srv_cdn
start() {
	local name=$1 _
	shift
	"$PY" "$here/server.py" --state "$state" --ready-file "$work/$name.ready" \
		--log "$work/$name.log" --mode-file "$work/mode" "$@" 2>> "$work/server.err" &
	pids+=($!)
	for _ in $(seq 200); do
		[ -s "$work/$name.ready" ] && break
		kill -0 "${pids[-1]}" 2> /dev/null || break
		sleep 0.025
	done
	[ -s "$work/$name.ready" ] || { echo "server $name did not start"; cat "$work/server.err"; failed=1; finish; }
	srv_api=$(sed -n 's/^api_port=\([0-9]*\)$/\1/p' "$work/$name.ready")
	srv_cdn=$(sed -n 's/^cdn_port=\([0-9]*\)$/\1/p' "$work/$name.ready")
}

setmode() {
	printf '%s\n' "$1" > "$work/mode.tmp" && mv -f "$work/mode.tmp" "$work/mode"
}

# curl against a server, trusting CA (default: the test CA)
CA=$certs/ca.pem
c() {
	curl -sS --max-time 10 --cacert "$CA" \
		--resolve "api.legacy.test:$api_port:127.0.0.1" \
		--resolve "cdn.legacy.test:$cdn_port:127.0.0.1" "$@"
}
waitlog() { # waitlog FILE REGEX: wait up to 2 s for a matching line
	local _
	for _ in $(seq 80); do
		grep -q "$2" "$1" && return 0
		sleep 0.025
	done
	return 1
}
jget() { # jget FILE KEY
	"$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

start main --cert "$certs/server.pem" --key "$certs/server.key"
api_port=$srv_api cdn_port=$srv_cdn
API=https://api.legacy.test:$api_port
log=$work/main.log

"$PY" -c 'import json,sys; print(json.dumps({"email": sys.argv[1], "password": sys.argv[2]}))' \
	"$email" "$password" > "$work/login.json"
login() { # login [curl options]: prints the HTTP status, body in $work/out
	c -o "$work/out" -w "${W:-%{http_code\}}" -H 'Content-Type: application/json' \
		--data-binary @"$work/login.json" "$@" "$API/v1/auth/login"
}
small() { # small [ID [FINGERPRINT_HEX [TOKEN]]]: prints the status, body in $work/out
	c -o "$work/out" -w '%{http_code}' -H "Authorization: Bearer ${3:-$token}" \
		-H "X-Hardware-Fingerprint: ${2:-$fphex}" "$API/v1/resources/${1:-disk0}/small"
}

echo "normal flow"
setmode ok
check "login: 200 application/json" eq "$(W='%{http_code} %{content_type}' login)" "200 application/json"
token=$(jget "$work/out" token)
check "login: salt" eq "$(jget "$work/out" salt)" "$salt"
check "login: token is 32 hex" eq "$(printf '%s' "$token" | grep -cE '^[0-9a-f]{32}$')" 1

check "small: 200" eq "$(small)" 200
cp "$work/out" "$work/small.json"
jget "$work/small.json" small | base64 -d > "$work/small.bin"
sha=$(jget "$work/small.json" sha256)
big_url=$(jget "$work/small.json" big_url)
big_size=$(jget "$work/small.json" big_size)
check "small: big_url" eq "${big_url%/v1/blobs/*}" "https://cdn.legacy.test:$cdn_port"

check "big: 200 octet-stream" \
	eq "$(c -o "$work/big.bin" -w '%{http_code} %{content_type}' "$big_url")" "200 application/octet-stream"
check "big: big_size bytes" eq "$(stat -c %s "$work/big.bin")" "$big_size"
cat "$work/small.bin" "$work/big.bin" > "$work/c.bin"
clen=$(stat -c %s "$work/c.bin")
n=$((clen * 3 / 10)); [ $n -gt 3072 ] && n=3072; [ $n -lt 1 ] && n=1
check "split: small is min(3072, 30%)" eq "$(stat -c %s "$work/small.bin")" "$n"
check "join: sha256" eq "$(sha256sum < "$work/c.bin" | cut -d' ' -f1)" "$sha"

# derive independently of provision.py: openssl, not Python
kiv=$(printf '%s\0%s\0%s\0%s' "$email" "$password" "$fp" "$salt" |
	openssl dgst -sha384 -binary | od -An -v -tx1 | tr -d ' \n')
openssl enc -d -aes-256-cbc -K "${kiv:0:64}" -iv "${kiv:64:32}" \
	-in "$work/c.bin" -out "$work/plain" 2> /dev/null
check "decrypt: equals the secret" cmp -s "$work/plain" "$work/secret"

check "pinned public key: accepted" eq "$(login --pinnedpubkey "$(cat "$certs/server.pin")")" 200
c -o /dev/null --pinnedpubkey 'sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' "$API/" 2> /dev/null
check "pinned public key: other pin refused (90)" eq $? 90

echo "contract errors"
printf '{"email": "%s", "password": "wrong"}' "$email" > "$work/bad.json"
check "login, wrong password: 401" eq "$(login --data-binary @"$work/bad.json")" 401
check "login, not JSON: 401" eq "$(login --data-binary 'nope')" 401
check "small, unknown token: 401" eq "$(small disk0 "$fphex" 0123456789abcdef0123456789abcdef)" 401
check "small, no token: 401" \
	eq "$(c -o /dev/null -w '%{http_code}' -H "X-Hardware-Fingerprint: $fphex" "$API/v1/resources/disk0/small")" 401
check "small, wrong fingerprint: 403" eq "$(small disk0 "$(printf x | sha256sum | cut -d' ' -f1)")" 403
check "small, wrong fingerprint: error" eq "$(jget "$work/out" error)" fingerprint_mismatch
check "small, unknown id: 404" eq "$(small nosuch)" 404
check "small, another owner's: 403" eq "$(small disk1)" 403
check "cdn, unknown blob: 404" eq "$(c -o /dev/null -w '%{http_code}' "${big_url%/*}/ffff")" 404

echo "modes"
setmode login-401
check "login-401" eq "$(login)" 401
setmode 'api-503-once'
check "api-503-once: first 503" eq "$(login)" 503
check "api-503-once: then 200" eq "$(login)" 200
check "api-503-once: then 200 again" eq "$(small)" 200
setmode api-500
check "api-500" eq "$(login)" 500
setmode cdn-500
check "cdn-500" eq "$(c -o /dev/null -w '%{http_code}' "$big_url")" 500
setmode small-403
check "small-403" eq "$(small)" 403

setmode 'wrong-digest, http-url'
small > /dev/null
check "wrong-digest: sha256 differs" [ "$(jget "$work/out" sha256)" != "$sha" ]
check "http-url: big_url is http://" eq "$(jget "$work/out" big_url | cut -d: -f1)" http
setmode tamper-big
c -o "$work/tampered" "$big_url"
check "tamper-big: same size" eq "$(stat -c %s "$work/tampered")" "$big_size"
check "tamper-big: content differs" [ "$(sha256sum < "$work/tampered")" != "$(sha256sum < "$work/big.bin")" ]
setmode oversize-small
small > /dev/null
check "oversize-small: 4096 bytes" eq "$(jget "$work/out" small | base64 -d | wc -c)" 4096
setmode oversize-json
login > /dev/null
check "oversize-json: 64 KiB of JSON" eq "$(stat -c %s "$work/out")" 65536
check "oversize-json: still valid JSON" eq "$(jget "$work/out" salt)" "$salt"
setmode garbage-api
login > /dev/null
check "garbage-api: not JSON" not "$PY" -c 'import json,sys; json.load(open(sys.argv[1], "rb"))' "$work/out" 2> /dev/null
setmode bad-json-small
check "bad-json-small: login fine" eq "$(login)" 200
small > /dev/null
check "bad-json-small: small is a number" eq "$(jget "$work/out" small)" 12
setmode oversize-cdn
c -o /dev/null --max-filesize 1000000 "$big_url" 2> /dev/null
check "oversize-cdn: curl --max-filesize refuses (63)" eq $? 63
setmode truncate-cdn
c -o /dev/null "$big_url" 2> /dev/null
check "truncate-cdn: curl partial file (18)" eq $? 18

# One stalled TLS handshake must not hold up other clients.
setmode stall-tls
c -o /dev/null --max-time 2 "$API/v1/auth/login" 2> /dev/null &
stalled=$!
check "stall-tls: logged" waitlog "$log" '^api STALL tls$'
setmode ok
check "stall-tls: other clients still served" eq "$(login --max-time 1)" 200
n0=$(grep -c '^cdn GET ' "$log")
setmode slow-cdn
c -o "$work/slow" --max-time 1.5 "$big_url" 2> /dev/null &
slow=$!
for _ in $(seq 80); do [ "$(grep -c '^cdn GET ' "$log")" -gt "$n0" ] && break; sleep 0.025; done
setmode stall-api
login --max-time 2 > /dev/null 2>&1
check "stall-api: curl times out (28)" eq $? 28
check "stall-api: logged" grep -q '^api STALL /v1/auth/login$' "$log"
wait $stalled
check "stall-tls: curl times out (28)" eq $? 28
wait $slow
check "slow-cdn: curl times out (28)" eq $? 28
check "slow-cdn: 1 byte a second" [ "$(stat -c %s "$work/slow")" -le 2 ]
check "log: one line per request" eq "$(grep -c '^api POST /v1/auth/login 200$' "$log")" 7

echo "certificates"
start other --cert "$certs/rogue.pem" --key "$certs/rogue.key" \
	--cdn-cert "$certs/wrongname.pem" --cdn-key "$certs/wrongname.key"
setmode ok
api_port=$srv_api cdn_port=$srv_cdn API=https://api.legacy.test:$api_port
login > /dev/null 2>&1
check "rogue CA's cert refused (60)" eq $? 60
check "rogue CA: server logs the handshake failure" waitlog "$work/other.log" '^# api tls-error'

CA=$certs/rogue-ca.pem login > /dev/null 2>&1
check "rogue CA: accepted with rogue-ca.pem (0)" eq $? 0
c -o /dev/null "https://cdn.legacy.test:$cdn_port/v1/blobs/x" 2> /dev/null
check "wrong name refused (60)" eq $? 60
start alt --cert "$certs/alt.pem" --key "$certs/alt.key"
api_port=$srv_api cdn_port=$srv_cdn API=https://api.legacy.test:$api_port
check "alt cert: CA accepts" eq "$(login)" 200
login --pinnedpubkey "$(cat "$certs/server.pin")" > /dev/null 2>&1
check "alt cert: server.pin refuses (90)" eq $? 90

echo "shutdown"
main_pid=${pids[0]}
t0=$(date +%s%N)
kill -TERM "$main_pid"
wait "$main_pid"
rc=$?
t1=$(date +%s%N)
pids=("${pids[@]:1}")
check "SIGTERM: exit 0" eq "$rc" 0
check "SIGTERM: quick" [ $(((t1 - t0) / 1000000)) -lt 2000 ]
check "SIGTERM: ready file removed" [ ! -e "$work/main.ready" ]
check "server stderr empty" [ ! -s "$work/server.err" ]
[ -s "$work/server.err" ] && sed 's/^/    /' "$work/server.err"

finish
