# SPDX-License-Identifier: MIT
# Helpers for tests of the legacy fetch against tests/legacy-server/.
# Source after common.sh. Everything listens on 127.0.0.1; the client
# reaches the names api.legacy.test and cdn.legacy.test through
# legacy_resolve pins, never through DNS.

LEGACY_SRV=$TESTS_DIR/legacy-server
LEGACY_EMAIL=device@example.test
LEGACY_PASSWORD='pa55 w0rd "quoted" \ back'
LEGACY_SALT=salt-of-the-contract
LEGACY_SERIAL=SN-1423021234567
LEGACY_PID=""
LEGACY_AT_EXIT=""

# legacy_setup: certificates, the device's fingerprint source and
# credentials, a LUKS2 image whose keyslot 0 opens with the resource, and
# the server's state with that resource.
legacy_setup() {
	bash "$LEGACY_SRV/mkcerts.sh" "$WORK/pki" || fail "mkcerts.sh"
	printf '%s\n' "$LEGACY_SERIAL" > "$WORK/serial"
	LEGACY_FP="file:$WORK/serial=$LEGACY_SERIAL"
	printf 'email=%s\npassword=%s\n' "$LEGACY_EMAIL" "$LEGACY_PASSWORD" > "$WORK/cred"
	chmod 600 "$WORK/cred"
	printf '%s\n' "$LEGACY_PASSWORD" > "$WORK/password"
	head -c 48 /dev/urandom | base64 -w0 > "$WORK/legacy-key"
	/usr/bin/python3 "$LEGACY_SRV/provision.py" "$WORK/state" --email "$LEGACY_EMAIL" \
		--password-file "$WORK/password" --fingerprint "$LEGACY_FP" --salt "$LEGACY_SALT" \
		--resource data --secret-file "$WORK/legacy-key" >/dev/null || fail "provision.py"
	truncate -s 20M "$WORK/limg"
	cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 \
		--pbkdf-force-iterations 1000 "$WORK/limg" "$WORK/legacy-key" >/dev/null ||
		fail "luksFormat"
	: > "$WORK/mode"
}

# legacy_server_start [server.py options]: sets LEGACY_API_PORT,
# LEGACY_CDN_PORT. The server is stopped at exit (at_exit legacy_server_stop).
legacy_server_start() {
	local i ready=$WORK/ready
	[ "$LEGACY_AT_EXIT" = "$BASHPID" ] || { at_exit legacy_server_stop; LEGACY_AT_EXIT=$BASHPID; }
	rm -f "$ready"
	/usr/bin/python3 "$LEGACY_SRV/server.py" --state "$WORK/state" \
		--cert "$WORK/pki/server.pem" --key "$WORK/pki/server.key" \
		--mode-file "$WORK/mode" --log "$WORK/server.log" --ready-file "$ready" "$@" \
		2>>"$WORK/server.err" &
	LEGACY_PID=$!
	for i in $(seq 200); do
		[ -s "$ready" ] && break
		kill -0 "$LEGACY_PID" 2>/dev/null || break
		sleep 0.025
	done
	[ -s "$ready" ] || fail "legacy server did not start: $(cat "$WORK/server.err")"
	LEGACY_API_PORT=$(sed -n 's/^api_port=//p' "$ready")
	LEGACY_CDN_PORT=$(sed -n 's/^cdn_port=//p' "$ready")
}

legacy_server_stop() {
	if [ -n "$LEGACY_PID" ]; then
		kill "$LEGACY_PID" 2>/dev/null
		wait "$LEGACY_PID" 2>/dev/null
		LEGACY_PID=""
	fi
}

# legacy_config FILE [LINE...]: a config for the running server; extra
# lines override.
legacy_config() {
	local f=$1
	shift
	{
		echo "legacy_api=https://api.legacy.test:$LEGACY_API_PORT"
		echo "legacy_resource=data"
		echo "legacy_ca=$WORK/pki/ca.pem"
		echo "legacy_fingerprint=file:$WORK/serial"
		echo "legacy_credentials=$WORK/cred"
		echo "legacy_resolve=api.legacy.test:$LEGACY_API_PORT:127.0.0.1,cdn.legacy.test:$LEGACY_CDN_PORT:127.0.0.1"
		echo "legacy_connect_timeout=2000"
		echo "legacy_timeout=3000"
		echo "legacy_retries=1"
		echo "legacy_deadline=6000"
		for l in "$@"; do echo "$l"; done
	} > "$f"
}

# mode M: the server's misbehaviour from the next request on.
mode() {
	echo "$1" > "$WORK/mode"
}

# requests KIND PATH-PREFIX: how many requests the server logged.
requests() {
	grep -c "^$1 [A-Z]* $2" "$WORK/server.log" 2>/dev/null || true
}
