#!/bin/bash
# No TPM reachable gives exit 3 within a bounded time: a closed port, a
# missing device node, and a TPM that accepts the connection but never
# answers (bounded by --tpm-timeout).
. "$(dirname "$0")/../lib/common.sh"
swtpm_start || fail "swtpm"
mkimg "$WORK/img"
expect 0 "enroll" "$SEALINIT" enroll "$WORK/img" --key-file "$WORK/pass" --pcrs 16 --unsafe-pcrs
port=$SWTPM_PORT
swtpm_kill

timed() { # CMD...: run with a hard outer limit; milliseconds taken in $MS
	local t0 t1
	t0=$(date +%s%N)
	run timeout 60 "$@"
	t1=$(date +%s%N)
	MS=$(( (t1 - t0) / 1000000 ))
}

timed "$SEALINIT" unlock "$WORK/img" --test --tcti "swtpm:host=127.0.0.1,port=$port"
[ "$RC" = 3 ] || fail "closed port: expected exit 3, got $RC: $OUT"
case "$OUT" in *"no TPM reachable"*) ;; *) fail "closed port: message: $OUT" ;; esac

timed "$SEALINIT" unlock "$WORK/img" --test --tcti "device:$WORK/no-such-tpm"
[ "$RC" = 3 ] || fail "missing device: expected exit 3, got $RC: $OUT"

# A listener that accepts and stays silent: only our bound ends the wait.
# (A bounded-lifetime python server on 127.0.0.1; killed by PID below.)
/usr/bin/python3 - "$WORK/port" <<'PY' &
import socket, sys, time
# The swtpm TCTI uses a data port P and a control port P+1: listen on both.
for attempt in range(50):
    a, b = socket.socket(), socket.socket()
    a.bind(("127.0.0.1", 0))
    try:
        b.bind(("127.0.0.1", a.getsockname()[1] + 1))
        break
    except OSError:
        a.close(); b.close()
for x in (a, b):
    x.listen(8)
    x.settimeout(0.2)
open(sys.argv[1], "w").write(str(a.getsockname()[1]))
conns = []
end = time.time() + 50
while time.time() < end:
    for x in (a, b):
        try:
            conns.append(x.accept()[0])
        except socket.timeout:
            pass
PY
silent=$!
stop_silent() { kill "$silent" 2>/dev/null; wait "$silent" 2>/dev/null; }
at_exit stop_silent
for i in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
[ -s "$WORK/port" ] || fail "silent server did not start"
timed "$SEALINIT" unlock "$WORK/img" --test --tpm-timeout 1500 \
	--tcti "swtpm:host=127.0.0.1,port=$(cat "$WORK/port")"
[ "$RC" = 3 ] || fail "silent TPM: expected exit 3, got $RC after ${MS} ms: $OUT"
case "$OUT" in *"did not answer within 1500 ms"*) ;; *) fail "silent TPM: message: $OUT" ;; esac
# Functional bound, not a timing assertion: it ended well before the outer
# 60 s limit, so it was our timeout, not timeout(1), that ended it.
[ "$MS" -lt 30000 ] || fail "silent TPM: took ${MS} ms"
stop_silent
echo ok
