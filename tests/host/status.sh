#!/bin/bash
# SPDX-License-Identifier: MIT
# `sealinit status DEVICE [--json]': the keyslots and tokens of a volume,
# the PCRs its tokens bind, and whether an event log replays to them and
# ends in the cap. The log is written here independently (Python, RFC 7464
# records as systemd writes them); a log whose digest was altered must not
# replay, and a PCR is reported capped only when the log's last record for
# it is the cap and the log replays (the controls: before and after the
# cap, and with the honest log).
. "$(dirname "$0")/../lib/common.sh"
swtpm_start || fail "swtpm"
mkimg "$WORK/img"
expect 0 "enroll" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 15
# field JSON PYEXPR: evaluate PYEXPR over the parsed status.
field() { /usr/bin/python3 -c 'import json, sys; s = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
pcr15() { field "$1" '[p for p in s["tpm"]["pcrs"] if p["pcr"] == 15][0]'; }

# A fresh TPM, with an empty log: PCR 15 is zero, nothing to replay.
: >"$WORK/log"
expect 0 "status --json" "$SEALINIT" status "$WORK/img" --json --event-log "$WORK/log"
J=$OUT
[ "$(field "$J" 's["tokens"][0]["type"], s["tokens"][0]["kind"], s["tokens"][0]["pcrs"], s["tokens"][0]["keyslot"]')" = "('systemd-tpm2', 'literal', [15], 1)" ] ||
	fail "token 0: $(field "$J" 's["tokens"]')"
[ "$(field "$J" '[(k["keyslot"], k["token"]) for k in s["keyslots"]]')" = "[(0, None), (1, 0)]" ] ||
	fail "keyslots: $(field "$J" 's["keyslots"]')"
[ "$(field "$J" 's["tpm"]["reachable"]')" = True ] || fail "TPM not reachable: $J"
[ "$(field "$J" 'len(s["event_log"]["records"])')" = 0 ] || fail "an empty log has records"

# The boot's measurements, logged: they replay, and the PCR is not capped.
measure_logged "$WORK/log" "sealinit:cmdline:console=ttyS0" "sealinit:verity:abcd"
expect 0 "status after the measurements" "$SEALINIT" status "$WORK/img" --json --event-log "$WORK/log"
[ "$(pcr15 "$OUT" | tr -d "' ")" = "$(printf "{pcr:15,sha256:%s,log_replays:True,capped:False}" "$("$SEALINIT" pcrread --pcrs 15 | cut -d' ' -f2)")" ] ||
	fail "before the cap: $(pcr15 "$OUT")"
# The cap, logged: capped.
measure_logged "$WORK/log" "sealinit:cap"
expect 0 "status after the cap" "$SEALINIT" status "$WORK/img" --json --event-log "$WORK/log"
[ "$(field "$OUT" '[(p["log_replays"], p["capped"]) for p in s["tpm"]["pcrs"] if p["pcr"] == 15]')" = "[(True, True)]" ] ||
	fail "after the cap: $(pcr15 "$OUT")"
expect 0 "status, text" "$SEALINIT" status "$WORK/img" --event-log "$WORK/log"
grep -q '^  token 0: systemd-tpm2, literal, keyslot 1, PCRs \[ *15 *\]' <<<"$OUT" || fail "text token line: $OUT"
grep -q '^  PCR 15 sha256 [0-9a-f]\{64\}, capped$' <<<"$OUT" || fail "text PCR line: $OUT"

# The attack on the log: one digest altered. It no longer replays, and the
# cap it claims is not believed.
sed 's/"digest": "\(.\)/"digest": "f\1/; s/"digest": "f\(.\)\(.\{62\}\)/"digest": "f\2/' "$WORK/log" >"$WORK/log.bad"
cmp -s "$WORK/log" "$WORK/log.bad" && fail "the log was not altered"
expect 0 "status with an altered log" "$SEALINIT" status "$WORK/img" --json --event-log "$WORK/log.bad"
[ "$(field "$OUT" '[(p["log_replays"], p["capped"]) for p in s["tpm"]["pcrs"] if p["pcr"] == 15]')" = "[(False, False)]" ] ||
	fail "altered log: $(pcr15 "$OUT")"
[ "$(field "$OUT" '[r.get("forged") for r in s["event_log"]["records"]]')" = "[True, True, True]" ] ||
	fail "the altered record is not marked forged: $(field "$OUT" 's["event_log"]')"
# The cap is known by its digest, not by its label: relabelled as another
# of sealinit's events it is a forged record, and nothing is believed; with
# a label that names no sealinit event it is still the cap (the control:
# the TPM does hold the cap).
sed 's/"string": "sealinit:cap"/"string": "sealinit:verity:abcd"/' "$WORK/log" >"$WORK/log.relabel"
sed 's/"string": "sealinit:cap"/"string": "something else"/' "$WORK/log" >"$WORK/log.other"
cmp -s "$WORK/log" "$WORK/log.relabel" && fail "the cap was not relabelled"
expect 0 "status, the cap relabelled" "$SEALINIT" status "$WORK/img" --json --event-log "$WORK/log.relabel"
[ "$(field "$OUT" '[(p["log_replays"], p["capped"]) for p in s["tpm"]["pcrs"] if p["pcr"] == 15]')" = "[(False, False)]" ] ||
	fail "relabelled cap: $(pcr15 "$OUT")"
expect 0 "status, the cap under another label" "$SEALINIT" status "$WORK/img" --json --event-log "$WORK/log.other"
[ "$(field "$OUT" '[(p["log_replays"], p["capped"]) for p in s["tpm"]["pcrs"] if p["pcr"] == 15]')" = "[(True, True)]" ] ||
	fail "cap under another label: $(pcr15 "$OUT")"
# A log that is not CEL-JSON: named, and the rest is still shown.
printf '\036not json\n' >"$WORK/log.junk"
expect 0 "status with a junk log" "$SEALINIT" status "$WORK/img" --json --event-log "$WORK/log.junk"
[ "$(field "$OUT" 's["event_log"]["error"]')" = "event log record 1: not a CEL-JSON record with a PCR 0-23" ] ||
	fail "junk log: $(field "$OUT" 's["event_log"]')"
# A recovery keyslot is shown as one, with its token.
expect 0 "enroll --recovery" "$SEALINIT" enroll "$WORK/img" --recovery --key-file "$WORK/pass"
expect 0 "status with a recovery key" "$SEALINIT" status "$WORK/img" --json --event-log "$WORK/log"
[ "$(field "$OUT" '[(k["keyslot"], k["kind"], k["token"]) for k in s["keyslots"] if k["keyslot"] == 2], s["tokens"][1]')" = \
	"([(2, 'recovery key (systemd-recovery token)', 1)], {'id': 1, 'type': 'systemd-recovery', 'keyslot': 2})" ] ||
	fail "recovery keyslot: $(field "$OUT" 's["keyslots"], s["tokens"]')"
# No TPM: the header is still shown, the TPM named unreachable.
swtpm_kill
expect 0 "status without a TPM" "$SEALINIT" status "$WORK/img" --json --event-log "$WORK/log" --tpm-timeout 2000
[ "$(field "$OUT" 's["tpm"]["reachable"], len(s["tokens"])')" = "(False, 2)" ] || fail "no TPM: $OUT"
expect 2 "status with no device" "$SEALINIT" status
echo "PASS"
