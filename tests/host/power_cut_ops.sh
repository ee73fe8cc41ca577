#!/bin/bash
# SPDX-License-Identifier: MIT
# Power cuts during enroll, reseal, sign and revoke, as migrate.sh's
# section 2 does for the migration: the process is killed (SIGKILL,
# injected by strace) at its Nth write, then at its Nth fsync, for every N
# until a run completes without a kill.
#  1. enroll, killed at each write and fsync to the image: the passphrase
#     still opens (the old key); a rerun completes and the TPM opens.
#  1b. enroll --counter on a fresh TPM, killed at each of its writes (the
#     TPM's sockets, where the counter is defined and incremented, the
#     image, its output): the passphrase opens, a rerun completes, and its
#     token opens with a signature at the counter's value.
#  2. reseal of a token that opens in this boot's state, killed at each
#     write and fsync to the image: after the cut and a reboot into the
#     same state the TPM alone still opens the volume (the old token or the
#     new one), as does the passphrase; a rerun completes, one TPM token
#     left, and it opens.
#  3. sign into the signature file the device boots with, killed at each
#     write, fsync and rename it makes: the file is the old one or the new
#     one, byte for byte (signatures are deterministic), and a rerun
#     completes.
#  4. revoke DEVICE, killed at each write it makes (the TPM's socket, then
#     its own output): the counter is the old value or the new one, the
#     device boots after a reboot (unlock with the signature file), and a
#     rerun completes at the new value.
# Each section prints its kill points; the last line their total.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/bootlog.sh"
command -v strace >/dev/null || skip "strace not installed"
command -v openssl >/dev/null || skip "openssl not installed"
swtpm_start || fail "swtpm"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/key.pem" 2>/dev/null &&
	openssl pkey -in "$WORK/key.pem" -pubout -out "$WORK/pub.pem" || fail "openssl genpkey"
CMDLINE="console=ttyS0 root=/dev/vda"
boot_conf "$WORK/boot.conf" 15 "cmdline=$CMDLINE"
mapfile -t EV < <(boot_events "$WORK/boot.conf" "$CMDLINE")
[ ${#EV[@]} = 4 ] || fail "predict gave ${#EV[@]} events"
C=(--config "$WORK/boot.conf")
IMG=$WORK/img
LIMIT=200   # more kill points than that: the loop would not end; fail


# reboot [cap]: the TPM restarts (PCRs reset, NV kept), this boot's
# measurements go into PCR 15 and $WORK/log, then the cap if asked.
reboot() {
	swtpm_restart || fail "swtpm restart"
	: >"$WORK/log"
	log_extend "$WORK/log" 15 "${EV[@]}"
	[ "${1:-}" = cap ] && log_extend "$WORK/log" 15 "sealinit:cap"
	return 0
}
pass_opens() { cryptsetup open --test-passphrase --key-file "$WORK/pass" "$1" 2>/dev/null; }
tpm_opens() { "$SEALINIT" unlock --test "$1" "${@:2}" >/dev/null 2>&1; }
tpm_tokens() { cryptsetup luksDump "$1" | grep -cE '^  [0-9]+: systemd-tpm2'; }
total=0

# --- 1. enroll ----------------------------------------------------------------
reboot
mkimg "$WORK/tmpl"
for sc in write fsync; do
	for n in $(seq 1 $LIMIT); do
		cp "$WORK/tmpl" "$IMG"
		cut_at "$IMG" "$sc" "$n" "$SEALINIT" enroll "$IMG" "${C[@]}" --key-file "$WORK/pass" --pcrs 15
		[ "$KILLED" = 1 ] || break
		cryptsetup luksDump "$IMG" >/dev/null 2>&1 || fail "enroll killed at $sc #$n: the header no longer loads"
		pass_opens "$IMG" || fail "enroll killed at $sc #$n: the passphrase no longer opens"
		expect 0 "rerun enroll after a kill at $sc #$n" "$SEALINIT" enroll "$IMG" "${C[@]}" \
			--key-file "$WORK/pass" --pcrs 15
		tpm_opens "$IMG" || fail "enroll killed at $sc #$n, rerun: the TPM does not open"
	done
	[ "$n" -lt $LIMIT ] || fail "enroll: more than $LIMIT ${sc}s"
	[ "$n" -gt 1 ] || fail "enroll made no $sc on the image: the cut tests nothing"
	echo "ok: enroll killed at each of its $((n - 1)) ${sc}s to the image"
	total=$((total + n - 1))
done

# --- 1b. enroll --counter on a fresh TPM: every write, the TPM's too -------------
# The counter is defined, then incremented once, on the TPM; the keyslot
# and token go to the image. Killed at each write of the process (the
# TPM's sockets, the image, its output), on a TPM that has no counter yet:
# the passphrase opens, a rerun completes, and its token opens with a
# signature at the counter's value.
mkimg "$WORK/tmpl"
for n in $(seq 1 $LIMIT); do
	swtpm_stop
	swtpm_start || fail "swtpm (fresh)"
	cp "$WORK/tmpl" "$IMG"
	cut_at "" write "$n" "$SEALINIT" enroll "$IMG" "${C[@]}" --key-file "$WORK/pass" \
		--public-key "$WORK/pub.pem" --public-key-pcrs 15 --counter
	[ "$KILLED" = 1 ] || break
	pass_opens "$IMG" || fail "enroll --counter killed at write #$n: the passphrase no longer opens"
	expect 0 "rerun enroll --counter after a kill at write #$n" "$SEALINIT" enroll "$IMG" "${C[@]}" \
		--key-file "$WORK/pass" --public-key "$WORK/pub.pem" --public-key-pcrs 15 --counter
	v=$(echo "$OUT" | sed -n 's/.*value \([0-9]*\);.*/\1/p')
	[ -n "$v" ] || fail "enroll --counter killed at write #$n, rerun: no counter value: $OUT"
	"$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 15 --current --counter-value "$v" \
		--signature "$WORK/sig-1b.json" >/dev/null || fail "sign at $v"
	tpm_opens "$IMG" --signature "$WORK/sig-1b.json" ||
		fail "enroll --counter killed at write #$n, rerun: the token does not open at counter $v"
	rm -f "$WORK/sig-1b.json"
done
[ "$n" -lt $LIMIT ] || fail "enroll --counter: more than $LIMIT writes"
[ "$n" -gt 1 ] || fail "enroll --counter made no write: the cut tests nothing"
echo "ok: enroll --counter killed at each of its $((n - 1)) writes (the TPM's sockets, the image, its output)"
total=$((total + n - 1))

# --- 2. reseal ------------------------------------------------------------------
# The old token is sealed to this boot's state before the cap, as the
# reseal's new one will be: after a cut either may open, and one must.
reboot
mkimg "$WORK/tmpl"
expect 0 "enroll (reseal's old token)" "$SEALINIT" enroll "$WORK/tmpl" "${C[@]}" --key-file "$WORK/pass" --pcrs 15
log_extend "$WORK/log" 15 "sealinit:cap"
for sc in write fsync; do
	for n in $(seq 1 $LIMIT); do
		cp "$WORK/tmpl" "$IMG"
		cut_at "$IMG" "$sc" "$n" "$SEALINIT" reseal "$IMG" "${C[@]}" --key-file "$WORK/pass" \
			--event-log "$WORK/log"
		[ "$KILLED" = 1 ] || break
		cryptsetup luksDump "$IMG" >/dev/null 2>&1 || fail "reseal killed at $sc #$n: the header no longer loads"
		pass_opens "$IMG" || fail "reseal killed at $sc #$n: the passphrase no longer opens"
		reboot
		tpm_opens "$IMG" || fail "reseal killed at $sc #$n: after a reboot the TPM opens neither token"
		log_extend "$WORK/log" 15 "sealinit:cap"
		expect 0 "rerun reseal after a kill at $sc #$n" "$SEALINIT" reseal "$IMG" "${C[@]}" \
			--key-file "$WORK/pass" --event-log "$WORK/log"
		[ "$(tpm_tokens "$IMG")" = 1 ] ||
			fail "reseal killed at $sc #$n, rerun: $(tpm_tokens "$IMG") TPM tokens, not 1"
		reboot
		tpm_opens "$IMG" || fail "reseal killed at $sc #$n, rerun: the TPM does not open"
		log_extend "$WORK/log" 15 "sealinit:cap"
	done
	[ "$n" -lt $LIMIT ] || fail "reseal: more than $LIMIT ${sc}s"
	[ "$n" -gt 1 ] || fail "reseal made no $sc on the image: the cut tests nothing"
	# Control: the run that was not killed resealed (one token, it opens).
	[ "$(tpm_tokens "$IMG")" = 1 ] || fail "reseal (not killed): $(tpm_tokens "$IMG") TPM tokens"
	echo "ok: reseal killed at each of its $((n - 1)) ${sc}s to the image"
	total=$((total + n - 1))
done

# --- 3. sign, into the signature file the device boots with ---------------------
NV=0x01805e00
reboot
mkimg "$WORK/dev"
expect 0 "enroll signed, counter" "$SEALINIT" enroll "$WORK/dev" "${C[@]}" --key-file "$WORK/pass" \
	--public-key "$WORK/pub.pem" --public-key-pcrs 15 --counter
c=$(echo "$OUT" | sed -n 's/.*value \([0-9]*\);.*/\1/p')
[ -n "$c" ] || fail "no counter value: $OUT"
echo "pcr15=$("$SEALINIT" pcrread --pcrs 15 | cut -d' ' -f2)" >"$WORK/state"
log_extend "$WORK/log" 15 "sealinit:cap"
sign() { "$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 15 --values "$WORK/state" "$@"; }
SIG=$WORK/sig.json
sign --counter-value "$c" --signature "$WORK/sig.old" >/dev/null || fail "sign $c"
cp "$WORK/sig.old" "$WORK/sig.new"
sign --counter-value $((c + 1)) --signature "$WORK/sig.new" >/dev/null || fail "sign $((c + 1))"
cmp -s "$WORK/sig.old" "$WORK/sig.new" && fail "the second signature changed nothing"
sign_cuts=0
for sc in write fsync rename; do
	for n in $(seq 1 $LIMIT); do
		rm -f "$WORK"/sig.json*
		cp "$WORK/sig.old" "$SIG"
		cut_at "" "$sc" "$n" "$SEALINIT" sign --private-key "$WORK/key.pem" --pcrs 15 \
			--values "$WORK/state" --counter-value $((c + 1)) --signature "$SIG"
		[ "$KILLED" = 1 ] || break
		cmp -s "$SIG" "$WORK/sig.old" || cmp -s "$SIG" "$WORK/sig.new" ||
			fail "sign killed at $sc #$n: the signature file is neither the old nor the new one"
		sign --counter-value $((c + 1)) --signature "$SIG" >/dev/null ||
			fail "rerun sign after a kill at $sc #$n"
		cmp -s "$SIG" "$WORK/sig.new" || fail "sign killed at $sc #$n, rerun: not the new file"
	done
	[ "$n" -lt $LIMIT ] || fail "sign: more than $LIMIT ${sc}s"
	[ "$n" -gt 1 ] || fail "sign made no $sc: the cut tests nothing"
	cmp -s "$SIG" "$WORK/sig.new" || fail "sign (not killed): not the new file"
	echo "ok: sign killed at each of its $((n - 1)) ${sc}s"
	sign_cuts=$((sign_cuts + n - 1))
done
rm -f "$WORK"/sig.json.tmp.*
total=$((total + sign_cuts))
# Both files boot the device (the control for section 4's check).
reboot
tpm_opens "$WORK/dev" --signature "$WORK/sig.old" || fail "the old signature file does not open"
tpm_opens "$WORK/dev" --signature "$WORK/sig.new" || fail "the new signature file does not open"
log_extend "$WORK/log" 15 "sealinit:cap"

# --- 4. revoke DEVICE: the counter on the TPM -------------------------------------
counter() {
	"$SEALINIT" status "$WORK/dev" --json --event-log "$WORK/log" | jq -r '.tpm.counters[0].value'
}
# Which of revoke's writes go to the TPM's socket: a trace of a run that is
# not killed, with the descriptors' names, on a copy of the state.
cur=$c
revoke_cuts=0
tpm_writes=0
for n in $(seq 1 $LIMIT); do
	target=$((cur + 1))
	sign --counter-value "$target" --signature "$SIG" >/dev/null || fail "sign $target"
	cut_at "" write "$n" "$SEALINIT" revoke "$WORK/dev" --signature "$SIG" --event-log "$WORK/log" \
		--counter-value "$target"
	[ "$KILLED" = 1 ] || break
	v=$(counter)
	[ "$v" = "$cur" ] || [ "$v" = "$target" ] ||
		fail "revoke killed at write #$n: the counter is $v, neither $cur nor $target"
	[ "$v" = "$target" ] && moved="counter moved" || moved="counter kept"
	reboot
	tpm_opens "$WORK/dev" --signature "$SIG" ||
		fail "revoke killed at write #$n ($moved): the device does not boot with its signature file"
	log_extend "$WORK/log" 15 "sealinit:cap"
	expect 0 "rerun revoke after a kill at write #$n" "$SEALINIT" revoke "$WORK/dev" --signature "$SIG" \
		--event-log "$WORK/log" --counter-value "$target"
	[ "$(counter)" = "$target" ] || fail "revoke killed at write #$n, rerun: counter $(counter), not $target"
	echo "  revoke killed at write #$n: $moved; boots; rerun at $target"
	revoke_cuts=$((revoke_cuts + 1))
	cur=$target
done
[ "$n" -lt $LIMIT ] || fail "revoke: more than $LIMIT writes"
[ "$n" -gt 1 ] || fail "revoke made no write: the cut tests nothing"
[ "$(counter)" = "$target" ] || fail "revoke (not killed): counter $(counter), not $target"
cur=$target
# Which writes those were: the same run, traced with the descriptors'
# names. strace counts each process's calls apart: the kill points are the
# main process's writes (the worker that reads the PCRs for the check
# writes nothing that lasts).
target=$((cur + 1))
sign --counter-value "$target" --signature "$SIG" >/dev/null || fail "sign $target"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -yy -e trace=write -o "$WORK/revoke.trace" "$SEALINIT" revoke "$WORK/dev" --signature "$SIG" \
	--event-log "$WORK/log" --counter-value "$target" >/dev/null 2>&1 || fail "traced revoke"
main=$(head -1 "$WORK/revoke.trace" | cut -d' ' -f1)
tpm_writes=$(grep -cE "^$main +write\([0-9]+<TCP:\[127\.0\.0\.1:[0-9]+->127\.0\.0\.1:($SWTPM_PORT|$((SWTPM_PORT + 1)))\]>" \
	"$WORK/revoke.trace")
[ "$tpm_writes" -gt 0 ] || fail "no write to the TPM's socket in: $(head -5 "$WORK/revoke.trace")"
[ "$(counter)" = "$target" ] || fail "traced revoke: counter $(counter), not $target"
echo "ok: revoke killed at each of its $((n - 1)) writes ($tpm_writes to the TPM's sockets, the rest its output)"
total=$((total + revoke_cuts))
echo "PASS ($total kills)"
