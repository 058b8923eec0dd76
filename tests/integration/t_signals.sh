#!/bin/bash
# SIGUSR1 soft-stop: listeners close at once, live connections finish,
# then ppbridge exits 0; hard-stop-after bounds the wait. SIGTERM stops.
. "$PPB_SRCDIR/tests/integration/lib.sh"

P1=$(free_port)
PF=$(free_port)
start_ident s1 "127.0.0.1:$P1"
wait_port 127.0.0.1 "$P1"
cat >"$T_DIR/ppb.cfg" <<CFG
global
    hard-stop-after 10s
    nbthread 2
defaults
    mode tcp
    timeout connect 1s
    timeout client 10s
    timeout server 10s
listen vip
    bind 127.0.0.1:$PF
    server s1 127.0.0.1:$P1
CFG
start_ppb "$T_DIR/ppb.cfg"
python3 "$PEERS" probe --connect "127.0.0.1:$PF" --count 20 >/dev/null || fail "2 threads: lost connections"

python3 "$PEERS" hold --connect "127.0.0.1:$PF" --seconds 2 >"$T_DIR/hold.log" 2>&1 &
HOLD=$!
sleep 0.5
kill -USR1 "$T_PPB_PID"
wait_log "$T_DIR/ppbridge.log" 'soft-stop' 5
sleep 0.3
python3 "$PEERS" probe --connect "127.0.0.1:$PF" >/dev/null 2>&1 && fail "accepted after soft-stop"
kill -0 "$T_PPB_PID" 2>/dev/null || fail "exited before the live connection finished"
wait "$HOLD" || fail "live connection broken by soft-stop: $(cat "$T_DIR/hold.log")"
for _ in $(seq 1 50); do
	kill -0 "$T_PPB_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$T_PPB_PID" 2>/dev/null && fail "still running after its last connection ended"
rc=0
wait "$T_PPB_PID" || rc=$?
T_PPB_PID=""
[ "$rc" -eq 0 ] || fail "soft-stop exit status $rc"
check_sanitizers "$T_DIR/ppbridge.log"
ok "soft-stop: refused new, finished live, exited 0"

# hard-stop-after: a connection that would live 10 s is cut after 1 s.
sed -i 's/hard-stop-after 10s/hard-stop-after 1s/' "$T_DIR/ppb.cfg"
mv "$T_DIR/ppbridge.log" "$T_DIR/ppbridge-1.log"
start_ppb "$T_DIR/ppb.cfg"
python3 "$PEERS" hold --connect "127.0.0.1:$PF" --seconds 10 >"$T_DIR/hold2.log" 2>&1 &
HOLD=$!
sleep 0.5
start=$(date +%s)
kill -USR1 "$T_PPB_PID"
rc=0
wait "$T_PPB_PID" || rc=$?
T_PPB_PID=""
el=$(($(date +%s) - start))
[ "$el" -le 4 ] || fail "hard-stop-after 1s took ${el}s"
wait "$HOLD" && fail "the long connection was not cut"
check_sanitizers "$T_DIR/ppbridge.log"
ok "hard-stop-after cut the last connection after ~1 s"

# SIGTERM: immediate, clean exit.
mv "$T_DIR/ppbridge.log" "$T_DIR/ppbridge-2.log"
start_ppb "$T_DIR/ppb.cfg"
stop_ppb
ok "SIGTERM: clean exit"

# Started as root with `user`/`group`: root is given up once the sockets
# are bound; the daemon serves and reloads (same ports: sockets kept).
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	mv "$T_DIR/ppbridge.log" "$T_DIR/ppbridge-3.log"
	sed -i 's/^global$/global\n    user nobody/' "$T_DIR/ppb.cfg"
	chmod 755 "$T_DIR" # the reload reads the file again as nobody
	chmod 644 "$T_DIR/ppb.cfg"
	start_ppb "$T_DIR/ppb.cfg"
	uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$T_PPB_PID/status")
	[ "$uid" = "$(id -u nobody) $(id -u nobody) $(id -u nobody) $(id -u nobody)" ] ||
		fail "still running as uid '$uid'"
	python3 "$PEERS" probe --connect "127.0.0.1:$PF" --count 5 >/dev/null || fail "no service as nobody"
	kill -HUP "$T_PPB_PID"
	wait_log "$T_DIR/ppbridge.log" 'reload: configuration reloaded' 5
	python3 "$PEERS" probe --connect "127.0.0.1:$PF" --count 5 >/dev/null || fail "no service after reload"
	stop_ppb
	ok "user nobody: root dropped after binding (uid $(id -u nobody)), serves and reloads"
else
	ok "not root: privilege drop not exercised"
fi
