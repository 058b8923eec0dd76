#!/bin/bash
# The migration toggle: an HTTPS VIP switched at run time from xff
# (terminate, X-Forwarded-For, re-encrypt) to proxy-v2 (TLS passed through
# behind a PROXY v2 header), timed with a restart of the routers (real
# HAProxy 2.6) with accept-proxy; the choice survives reload and restart
# until the configuration changes that frontend's strategy.
. "$PPB_SRCDIR/tests/integration/lib.sh"
make_certs

PF=$(free_port); PR1=$(free_port); PR2=$(free_port)
SOCK=$T_DIR/admin.sock
router_cfg() { # n port accept-proxy?
	cat <<CFG
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend https
    bind 127.0.0.1:$2 ssl crt $PKI/srv.pem $3
    http-request return status 200 content-type text/plain lf-string "router=$1 src=%[src] n=%[req.hdr_cnt(x-forwarded-for)] xff=%[req.hdr(x-forwarded-for)]\n"
CFG
}
router_cfg 1 "$PR1" "" >"$T_DIR/r1.cfg"
router_cfg 2 "$PR2" "" >"$T_DIR/r2.cfg"
router_cfg 1 "$PR1" accept-proxy >"$T_DIR/r1-pp.cfg"
router_cfg 2 "$PR2" accept-proxy >"$T_DIR/r2-pp.cfg"
start_haproxy r1 "$T_DIR/r1.cfg"
start_haproxy r2 "$T_DIR/r2.cfg"
wait_port 127.0.0.1 "$PR1"
wait_port 127.0.0.1 "$PR2"

write_cfg() { # extra frontend line
	cat >"$T_DIR/ppb.cfg" <<CFG
global
    stats socket $SOCK mode 600 level admin
    client-ip-state $T_DIR/client-ip.state
defaults
    log global
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend fe-apps-https
    bind 127.0.0.1:$PF ssl crt $PKI/srv.pem
    mode http
    option forwardfor
    http-request del-header X-Forwarded-For
    $1
    default_backend routers
backend routers
    mode http
    balance source
    server r1 127.0.0.1:$PR1 ssl ca-file $PKI/ca.crt check inter 300 fall 2 rise 2
    server r2 127.0.0.1:$PR2 ssl ca-file $PKI/ca.crt check inter 300 fall 2 rise 2
CFG
}
write_cfg ""
start_ppb "$T_DIR/ppb.cfg"
LOG=$T_DIR/ppbridge.log
get() { curl -s --max-time 15 --cacert "$PKI/ca.crt" --resolve "localhost:$PF:127.0.0.1" \
	--interface "$1" -H 'X-Forwarded-For: 6.6.6.6' "https://localhost:$PF/"; }

out=$(get 127.0.0.9)
echo "$out" | grep -Eq '^router=[12] src=127.0.0.1 n=1 xff=127.0.0.9$' || fail "xff path: $out"
"$PPB_BIN" ctl "$SOCK" "show frontends" | grep -q 'fe-apps-https .* xff' || fail "show frontends"
ok "xff: the router sees X-Forwarded-For: 127.0.0.9 from ppbridge's address"

# Switch under load, timed with the routers' restart with accept-proxy.
# The load runs from its first success (load.up) until the switch is done
# and the routers serve again (load.stop), 60 s at most.
python3 - "$PF" "$PKI/ca.crt" "$T_DIR/load.up" "$T_DIR/load.stop" >"$T_DIR/load.txt" 2>&1 <<'PY' &
import os, socket, ssl, sys, time
port, ca = int(sys.argv[1]), sys.argv[2]
up, stop = sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
end = time.time() + 60
ok = bad = 0
while time.time() < end and not os.path.exists(stop):
    try:
        raw = socket.create_connection(("127.0.0.1", port), timeout=3)
        raw.bind
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        if b" 200 " in data.split(b"\r\n")[0]:
            ok += 1
            if ok == 1:
                open(up, "w").close()
        else:
            bad += 1
    except (OSError, ssl.SSLError):
        bad += 1
    time.sleep(0.01)
print("ok=%d bad=%d" % (ok, bad))
PY
LOAD=$!
wait_file "$T_DIR/load.up" 15
pkill -f "haproxy -db -f $T_DIR/r1.cfg"
pkill -f "haproxy -db -f $T_DIR/r2.cfg"
start_haproxy r1pp "$T_DIR/r1-pp.cfg"
start_haproxy r2pp "$T_DIR/r2-pp.cfg"
out=$("$PPB_BIN" ctl "$SOCK" "set frontend fe-apps-https client-ip proxy-v2") || fail "set frontend: $out"

# The restart is over once the plain routers are gone and ppbridge's
# checks see both accept-proxy routers UP (they may have gone DOWN
# meanwhile); then, over 3 more checks each, neither may go DOWN.
old_gone() { ! pgrep -f "haproxy -db -f $T_DIR/r[12].cfg" >/dev/null; }
wait_until 10 "the plain routers still run" old_gone
both_up() {
	[ "$("$PPB_BIN" ctl "$SOCK" "show stat" | awk -F, '$1 == "routers" && $2 ~ /^r[12]$/ && $18 == "UP"' | wc -l)" -eq 2 ]
}
wait_until 15 "routers/r1 and r2 not both UP with accept-proxy" both_up
mark=$(wc -l <"$LOG")
since() { tail -n "+$mark" "$LOG" >"$T_DIR/since.log"; }
checked() { since; [ "$(grep -c "check routers/$1: .* -> IDLE" "$T_DIR/since.log")" -ge 3 ]; }
wait_until 10 "routers/r1: 3 checks" checked r1
wait_until 10 "routers/r2: 3 checks" checked r2
touch "$T_DIR/load.stop"
wait "$LOAD"
ok "switched to proxy-v2 during the routers' restart: $(cat "$T_DIR/load.txt") (a hard switch may cost a few)"

out=$(get 127.0.0.9)
echo "$out" | grep -Eq '^router=[12] src=127.0.0.9 n=1 xff=6.6.6.6$' || fail "proxy-v2 path: $out"
since
grep -q "Server routers/r[12] is DOWN" "$T_DIR/since.log" && fail "checks fail with PROXY routers"
"$PPB_BIN" ctl "$SOCK" "show frontends" | grep -q 'fe-apps-https .* proxy-v2' || fail "show frontends"
ok "proxy-v2: TLS passed through, the router sees src=127.0.0.9 via PROXY (client's own XFF untouched)"

# The runtime choice survives a reload and a restart...
kill -HUP "$T_PPB_PID"
wait_log "$LOG" 'frontend fe-apps-https: client-ip proxy-v2 \(runtime choice kept'
out=$(get 127.0.0.10)
echo "$out" | grep -q 'src=127.0.0.10 ' || fail "after reload: $out"
stop_ppb
mv "$LOG" "$T_DIR/ppbridge-1.log"
start_ppb "$T_DIR/ppb.cfg"
wait_log "$LOG" 'client-ip proxy-v2 \(runtime choice kept'
out=$(get 127.0.0.11)
echo "$out" | grep -q 'src=127.0.0.11 ' || fail "after restart: $out"
ok "the runtime choice survives reload and restart (state file)"

# ...until the configuration changes that frontend's strategy.
write_cfg "client-ip proxy-v1"
kill -HUP "$T_PPB_PID"
wait_log "$LOG" 'the configuration now says client-ip proxy-v1; the runtime choice proxy-v2 is dropped'
out=$(get 127.0.0.12)
echo "$out" | grep -q 'src=127.0.0.12 ' || fail "proxy-v1 from the config: $out"
ok "a config change of the frontend's strategy wins over the runtime choice (logged)"

out=$("$PPB_BIN" ctl "$SOCK" "set frontend nosuch client-ip xff" 2>&1) && fail "unknown frontend accepted"
out=$("$PPB_BIN" ctl "$SOCK" "set frontend fe-apps-https client-ip sometimes" 2>&1) && fail "bad strategy accepted"
ok "wrong arguments: one-line errors"
stop_ppb
ok "clean exit"
