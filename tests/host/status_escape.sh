#!/bin/bash
# SPDX-License-Identifier: MIT
# `sealinit status' prints strings from the LUKS2 header, which is the
# attacker's to write. A token whose type holds a newline and a forged
# "  token 1: ..." line, and ESC sequences that would move the cursor or
# erase a line, must come out escaped on the token's own line (core/
# escape.h), in the text and in the JSON. The control: the same volume
# without that token prints exactly what it printed before it was added.
. "$(dirname "$0")/../lib/common.sh"
swtpm_start || fail "swtpm"
mkimg "$WORK/img"
expect 0 "enroll" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 15
: >"$WORK/log"

# The control, before.
expect 0 "status, genuine" "$SEALINIT" status "$WORK/img" --event-log "$WORK/log"
GENUINE=$OUT
grep -q '^  token 0: systemd-tpm2, literal, keyslot 1, PCRs \[ *15 *\]$' <<<"$GENUINE" || fail "genuine token line: $GENUINE"
case "$GENUINE" in *'\x'*) fail "the genuine output has an escape: $GENUINE" ;; esac
ntok=$(grep -c '^  token ' <<<"$GENUINE")

# The attack: a token of the attacker's type, as JSON escapes make it (a
# LUKS2 header carries them as they are): a forged line and ESC sequences.
cat >"$WORK/evil.json" <<'JSON'
{"type":"x\n  token 1: systemd-tpm2, literal, keyslot 1, PCRs [ 15 ] \u001b[2K\u001b[1A\r\u009b2J","keyslots":[]}
JSON
cryptsetup token import --token-id 5 "$WORK/img" <"$WORK/evil.json" || fail "token import"
cryptsetup token export --token-id 5 "$WORK/img" | grep -q 'u001b' ||
	fail "the token's type does not hold the ESC byte: the attack is not real"
expect 0 "status, forged token" "$SEALINIT" status "$WORK/img" --event-log "$WORK/log"
case "$OUT" in *$'\e'*|*$'\r'*|*$'\xc2\x9b'*) fail "a control byte reached the output: $(printf '%q' "$OUT")" ;; esac
n=$(grep -c '^  token ' <<<"$OUT")
[ "$n" = $((ntok + 1)) ] || fail "$n token lines, want $((ntok + 1)) (one forged?): $OUT"
grep -qxF '  token 5: x\x0a  token 1: systemd-tpm2, literal, keyslot 1, PCRs [ 15 ] \x1b[2K\x1b[1A\x0d\xc2\x9b2J' <<<"$OUT" ||
	fail "the forged token is not on one escaped line: $OUT"
expect 0 "status --json, forged token" "$SEALINIT" status "$WORK/img" --json --event-log "$WORK/log"
[ "$(/usr/bin/python3 -c 'import json,sys; s=json.loads(sys.argv[1]); print([t["type"] for t in s["tokens"] if t["id"] == 5][0])' "$OUT")" = \
  '\x0a  token 1: systemd-tpm2, literal, keyslot 1, PCRs [ 15 ] \x1b[2K\x1b[1A\x0d\xc2\x9b2J' ] &&
	fail "the JSON type lost its first byte?"
[ "$(/usr/bin/python3 -c 'import json,sys; s=json.loads(sys.argv[1]); print([t["type"] for t in s["tokens"] if t["id"] == 5][0])' "$OUT")" = \
  'x\x0a  token 1: systemd-tpm2, literal, keyslot 1, PCRs [ 15 ] \x1b[2K\x1b[1A\x0d\xc2\x9b2J' ] ||
	fail "the JSON type is not escaped: $OUT"

# The control, after: the forged token removed, the output is the same.
cryptsetup token remove --token-id 5 "$WORK/img" || fail "token remove"
expect 0 "status, genuine again" "$SEALINIT" status "$WORK/img" --event-log "$WORK/log"
[ "$OUT" = "$GENUINE" ] || fail "the genuine output changed: $(diff <(echo "$GENUINE") <(echo "$OUT"))"
echo "PASS"
