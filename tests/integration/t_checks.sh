#!/bin/bash
# Health checks: TCP, HTTP (option httpchk / http-check), HTTPS against a
# real HAProxy (check-ssl, verify, ca-file), and a separate check port.
# A killed server is DOWN within fall*inter, gets no traffic, and comes
# back after rise*inter.
. "$PPB_SRCDIR/tests/integration/lib.sh"
make_certs

P1=$(free_port); P2=$(free_port); P3=$(free_port)
PH200=$(free_port); PH503=$(free_port); PTLS=$(free_port)
PF=$(free_port); PFH=$(free_port); PFS=$(free_port); PFP=$(free_port)
for i in 1 2 3; do
	port_var="P$i"
	start_ident "s$i" "127.0.0.1:${!port_var}"
done
S2_PID=$(echo "$T_PIDS" | awk '{print $2}')
start_http ok200 "127.0.0.1:$PH200" 200
start_http bad503 "127.0.0.1:$PH503" 503
cat >"$T_DIR/router.cfg" <<CFG
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend tls
    bind 127.0.0.1:$PTLS ssl crt $PKI/srv.pem
    http-request return status 200 content-type text/plain string "ready"
CFG
start_haproxy router "$T_DIR/router.cfg"
for p in $P1 $P2 $P3 $PH200 $PH503 $PTLS; do wait_port 127.0.0.1 "$p"; done

cat >"$T_DIR/ppb.cfg" <<CFG
defaults
    mode tcp
    timeout connect 500ms
    timeout client 10s
    timeout server 10s
    timeout check 500ms
listen tcpchk
    bind 127.0.0.1:$PF
    balance roundrobin
    server s1 127.0.0.1:$P1 check inter 200 rise 2 fall 2
    server s2 127.0.0.1:$P2 check inter 200 rise 2 fall 2
    server s3 127.0.0.1:$P3 check inter 200 rise 2 fall 2
listen httpchk
    bind 127.0.0.1:$PFH
    option httpchk
    http-check send meth GET uri /healthz/ready
    http-check expect status 200
    server good 127.0.0.1:$P1 check port $PH200 inter 200
    server bad 127.0.0.1:$P3 check port $PH503 inter 200
listen sslchk
    bind 127.0.0.1:$PFS
    option httpchk GET /readyz HTTP/1.0
    server right-ca 127.0.0.1:$P1 check check-ssl port $PTLS ca-file $PKI/ca.crt inter 200
    server wrong-ca 127.0.0.1:$P1 check check-ssl port $PTLS ca-file $PKI/other.crt inter 200
    server no-verify 127.0.0.1:$P1 check check-ssl port $PTLS verify none inter 200
    server sni-ok 127.0.0.1:$P1 check check-ssl check-sni localhost port $PTLS ca-file $PKI/ca.crt inter 200
listen portchk
    bind 127.0.0.1:$PFP
    server data-alive 127.0.0.1:$P1 check port $(free_port) inter 200
CFG
start_ppb "$T_DIR/ppb.cfg"
LOG=$T_DIR/ppbridge.log

# HTTP and HTTPS verdicts.
wait_log "$LOG" 'Server httpchk/bad is DOWN, reason: Layer7 wrong status'
wait_log "$LOG" 'Server sslchk/wrong-ca is DOWN, reason: Layer6'
wait_log "$LOG" 'Server portchk/data-alive is DOWN, reason: Layer4'
# The good ones must stay UP: give each 5 finished checks (more than any
# fall here) to go DOWN if it were to, however slowly they come.
for s in tcpchk/s1 tcpchk/s2 tcpchk/s3 httpchk/good sslchk/right-ca sslchk/no-verify sslchk/sni-ok; do
	wait_count "$LOG" "check $s: [A-Z]+ -> IDLE" 5
done
for s in tcpchk/s1 tcpchk/s2 tcpchk/s3 httpchk/good sslchk/right-ca sslchk/no-verify sslchk/sni-ok; do
	grep -q "Server $s is DOWN" "$LOG" && fail "$s went DOWN"
done
ok "HTTP 200/503, TLS right/wrong CA, verify none, separate check port: correct verdicts"

# Kill s2: DOWN within fall*inter (+ one check timeout of slack).
python3 "$PEERS" probe --connect "127.0.0.1:$PF" --count 9 | awk '{print $1}' | sort -u >"$T_DIR/before.txt"
[ "$(wc -l <"$T_DIR/before.txt")" -eq 3 ] || fail "roundrobin did not use all 3 servers"
# Timed from the kill to ppbridge's own log stamp of the DOWN: the log
# polling does not count.
t0=$(now_ms)
kill "$S2_PID"
wait_exit "$S2_PID"
wait_log "$LOG" 'Server tcpchk/s2 is DOWN'
ms=$(($(log_ms "$LOG" 'Server tcpchk/s2 is DOWN') - t0))
[ "$ms" -le 1200 ] || fail "s2 marked DOWN after ${ms} ms (fall*inter = 400 ms)"
ok "s2 DOWN after ${ms} ms"
out=$(python3 "$PEERS" probe --connect "127.0.0.1:$PF" --count 30) || fail "lost connections while s2 is down"
echo "$out" | grep -q '^s2 ' && fail "traffic reached the dead server"
ok "30/30 connections served, none to s2"

# Bring s2 back: UP after rise checks.
start_ident s2 "127.0.0.1:$P2"
wait_log "$LOG" 'Server tcpchk/s2 is UP'
out=$(python3 "$PEERS" probe --connect "127.0.0.1:$PF" --count 9)
echo "$out" | grep -q '^s2 ' || fail "s2 gets no traffic after coming back"
ok "s2 UP again and serving"
stop_ppb
