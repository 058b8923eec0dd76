#!/bin/bash
# The L7 path (mode http): X-Forwarded-For on every request (first,
# keep-alive, pipelined), spoofed headers removed, `except` honoured, real
# HAProxy 2.6 as the router reporting what it received, bodies and large
# downloads intact, WebSocket tunnels, trailers filtered, every smuggling
# attempt answered 4xx and never forwarded, slow heads timed out, and
# server connections reused across Connection: close clients.
. "$PPB_SRCDIR/tests/integration/lib.sh"

PREC=$(free_port)   # recording backend (echoes the request head)
PBIG=$(free_port)   # backend answering 5 MB
PWS=$(free_port)    # WebSocket echo backend
PR=$(free_port)     # HAProxy router reporting src and XFF
PF=$(free_port)     # ppbridge: forwardfor + del-header, to the recorder
PS=$(free_port)     # ppbridge: the seed's fe-route-http (reqidel + except), to the router
PB=$(free_port)     # ppbridge: big downloads
PW=$(free_port)     # ppbridge: websocket
PA=$(free_port)     # ppbridge: http-reuse always
PDEAD=$(free_port)  # ppbridge: no server
PDOWN=$(free_port)  # nothing listens here
PCA=$(free_port)    # backend that closes after each response, though it said keep-alive
PRP=$(free_port)    # ppbridge: to that backend

start_bg rec python3 "$PEERS" http --listen "127.0.0.1:$PREC" --name rec --echo --log "$T_DIR/rec.req"
start_bg big python3 "$PEERS" http --listen "127.0.0.1:$PBIG" --name big --big 5000000
start_bg ws python3 "$PEERS" ws --listen "127.0.0.1:$PWS" --name ws
start_bg closer python3 "$PEERS" http --listen "127.0.0.1:$PCA" --name closer --close-after --log "$T_DIR/closer.req"
cat >"$T_DIR/router.cfg" <<CFG
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend router
    bind 127.0.0.1:$PR
    http-request return status 200 content-type text/plain lf-string "src=%[src] xff=%[req.hdr(x-forwarded-for)] n=%[req.hdr_cnt(x-forwarded-for)]\n"
CFG
start_haproxy router "$T_DIR/router.cfg"
for p in $PREC $PBIG $PWS $PR $PCA; do wait_port 127.0.0.1 "$p"; done

cat >"$T_DIR/ppb.cfg" <<CFG
defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout http-request 1s
frontend fe-all
    bind 127.0.0.1:$PF
    bind [::1]:$PF
    option forwardfor
    http-request del-header X-Forwarded-For
    http-request del-header X-Real-IP
    default_backend be-rec
backend be-rec
    server rec 127.0.0.1:$PREC
# The seed's fe-route-http, verbatim but for placeholders.
frontend fe-route-http
    bind 127.0.0.1:$PS
    bind [::1]:$PS
    default_backend be-route-http
    mode http
    option forwardfor except 127.0.0.0/8
    reqidel ^X-Forwarded-For:.*
backend be-route-http
    balance source
    mode http
    server infra1 127.0.0.1:$PR check
listen big
    bind 127.0.0.1:$PB
    server big 127.0.0.1:$PBIG
listen ws
    bind 127.0.0.1:$PW
    option forwardfor
    server ws 127.0.0.1:$PWS
listen reuse
    bind 127.0.0.1:$PA
    http-reuse always
    option forwardfor
    http-request del-header X-Forwarded-For
    server rec 127.0.0.1:$PREC
listen replay
    bind 127.0.0.1:$PRP
    server closer 127.0.0.1:$PCA
listen dead
    bind 127.0.0.1:$PDEAD
    server gone 127.0.0.1:$PDOWN
CFG
start_ppb "$T_DIR/ppb.cfg"
LOG=$T_DIR/ppbridge.log
for p in $PF $PS $PB $PW $PA; do wait_port 127.0.0.1 "$p"; done

xff_lines() { grep -ci '^x-forwarded-for:' || true; }

# 1. Spoofed X-Forwarded-For in every form: all removed, exactly one added.
out=$(curl -s --interface 127.0.0.5 -H 'X-Forwarded-For: 6.6.6.6' -H 'x-forwarded-for: 7.7.7.7' \
	-H 'X-FORWARDED-FOR:8.8.8.8, 9.9.9.9' -H 'X-Real-IP: 6.6.6.6' "http://127.0.0.1:$PF/one")
[ "$(echo "$out" | xff_lines)" -eq 1 ] || fail "spoofed XFF: $out"
echo "$out" | grep -q '^X-Forwarded-For: 127.0.0.5' || fail "XFF is not the client: $out"
echo "$out" | grep -qi 'x-real-ip' && fail "X-Real-IP not stripped"
ok "spoofed X-Forwarded-For (3 forms) removed, exactly one added"

# 2. Keep-alive: requests 1, 2, 3 of one connection each get exactly one.
out=$(curl -s --interface 127.0.0.6 -H 'X-Forwarded-For: 6.6.6.6' \
	"http://127.0.0.1:$PF/a" "http://127.0.0.1:$PF/b" "http://127.0.0.1:$PF/c")
[ "$(echo "$out" | grep -c '^X-Forwarded-For: 127.0.0.6')" -eq 3 ] || fail "keep-alive: $out"
[ "$(echo "$out" | xff_lines)" -eq 3 ] || fail "keep-alive: extra XFF: $out"
# (written after the answer went out: it may land after curl is done)
wait_log "$LOG" 'fe-all be-rec/rec .* "GET /c HTTP/1.1"'
ok "keep-alive: requests 1-3 each carry exactly one XFF; one log line each"

# 3. A pipelined batch in one segment.
out=$(python3 "$PEERS" raw --connect "127.0.0.1:$PF" --src 127.0.0.7 \
	'GET /p1 HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.1.1.1\r\n\r\nGET /p2 HTTP/1.1\r\nHost: x\r\nx-forwarded-for: 2.2.2.2\r\n\r\nGET /p3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
[ "$(echo "$out" | grep -c '^HTTP/1.1 200')" -eq 3 ] || fail "pipelined: $out"
[ "$(echo "$out" | grep -c '^X-Forwarded-For: 127.0.0.7')" -eq 3 ] || fail "pipelined XFF: $out"
[ "$(echo "$out" | xff_lines)" -eq 3 ] || fail "pipelined: extra XFF: $out"
ok "pipelined batch of 3: each with exactly one XFF"

# 3b. The same batch, then the client's FIN at once: every request already
# sent is still answered before the close.
out=$(python3 "$PEERS" raw --half-close --connect "127.0.0.1:$PF" --src 127.0.0.7 \
	'GET /h1 HTTP/1.1\r\nHost: x\r\n\r\nGET /h2 HTTP/1.1\r\nHost: x\r\n\r\nGET /h3 HTTP/1.1\r\nHost: x\r\n\r\n')
[ "$(echo "$out" | grep -c '^HTTP/1.1 200')" -eq 3 ] || fail "pipelined then half-close: $out"
ok "pipelined batch of 3 then the client's FIN: all 3 answered"

# 4. The seed's frontend against a real HAProxy router: except 127.0.0.0/8.
out=$(curl -s --interface 127.0.0.8 -H 'X-Forwarded-For: 6.6.6.6' "http://127.0.0.1:$PS/")
[ "$out" = "src=127.0.0.1 xff= n=0" ] || fail "except 127/8: router saw '$out'"
out=$(curl -s --interface ::1 -H 'X-Forwarded-For: 6.6.6.6' "http://[::1]:$PS/")
[ "$out" = "src=127.0.0.1 xff=::1 n=1" ] || fail "::1 client: router saw '$out'"
grep -q "reqidel.*was removed from HAProxy" "$LOG" || fail "no reqidel warning at start"
ok "seed fe-route-http: reqidel + except 127.0.0.0/8 (none for 127.x, '::1' for ::1) seen by HAProxy"

# 5. Bodies: a chunked upload and a 5 MB download, intact.
head -c 700000 /dev/urandom >"$T_DIR/up.bin"
want=$(sha256sum "$T_DIR/up.bin" | cut -c1-64)
out=$(curl -s -H 'Transfer-Encoding: chunked' --data-binary @"$T_DIR/up.bin" "http://127.0.0.1:$PF/up")
echo "$out" | grep -q "^BODY 700000 $want" || fail "chunked upload damaged: $(echo "$out" | tail -n 1)"
out=$(curl -s --data-binary @"$T_DIR/up.bin" "http://127.0.0.1:$PF/up2")
echo "$out" | grep -q "^BODY 700000 $want" || fail "upload damaged: $(echo "$out" | tail -n 1)"
n=$(curl -s "http://127.0.0.1:$PB/" | wc -c)
[ "$n" -eq 5000000 ] || fail "download: $n bytes of 5000000"
ok "700 kB chunked and plain uploads, 5 MB download intact"

# Two pipelined 5 MB downloads, half a third request, then the client's FIN:
# both answers leave whole, then the close - at once, not a 408 when
# `timeout http-request` runs out on a head that can never be completed.
# (A fast reader drains our queue before the unfinished head is seen; the
# slow-reader case is not forced. raw reads in linear time, and waits up
# to 15 s of silence: on a loaded machine the second 5 MB answer can be a
# few seconds in coming. A reader slower than `timeout server` allows is
# cut, as by HAProxy: that is not what this checks.)
python3 "$PEERS" raw --idle 15 --half-close --connect "127.0.0.1:$PB" \
	'GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTT' >"$T_DIR/dl.out"
n=$(wc -c <"$T_DIR/dl.out")
[ "$n" -gt 10000000 ] && [ "$n" -lt 10002000 ] || fail "pipelined downloads then FIN: $n bytes"
grep -aq 'HTTP/1.1 408' "$T_DIR/dl.out" && fail "the unfinished head waited for timeout http-request (408)"
ok "2 pipelined 5 MB answers, then a half request and FIN: both delivered, then closed at once"

# 6. X-Forwarded-For in chunked trailers never reaches the server.
out=$(python3 "$PEERS" raw --connect "127.0.0.1:$PF" \
	'POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\nX-Forwarded-For: 6.6.6.6\r\nX-Other: kept\r\n\r\n')
echo "$out" | grep -q '^TRAILER X-Other: kept' || fail "trailers lost: $out"
echo "$out" | grep -qi '^TRAILER x-forwarded-for' && fail "XFF trailer forwarded: $out"
echo "$out" | grep -q '^BODY 5 ' || fail "chunked body: $out"
ok "XFF trailer dropped, other trailers kept"

# 7. Connection: x-forwarded-for cannot remove the header we add.
out=$(curl -s -H 'Connection: x-forwarded-for, close' "http://127.0.0.1:$PF/c")
[ "$(echo "$out" | xff_lines)" -eq 1 ] || fail "nominated XFF: $out"
echo "$out" | grep -i '^connection:' | grep -qi 'x-forwarded-for' && fail "Connection still names XFF"
ok "Connection: x-forwarded-for cannot strip ours"

# 8. WebSocket: 101, then a tunnel both ways (the payload goes once the
#    101's head is in, not after a pause that a slow machine outruns).
out=$(python3 "$PEERS" raw --connect "127.0.0.1:$PW" --wait-for '\r\n\r\n' \
	'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' \
	'ping-through-tunnel')
echo "$out" | grep -q '^HTTP/1.1 101' || fail "no 101: $out"
echo "$out" | grep -q 'ping-through-tunnel' || fail "tunnel did not echo: $out"
ok "WebSocket upgrade echoes through the tunnel"

# 9. Smuggling and malformed requests: 4xx/5xx, never forwarded.
before=$(grep -c '^REQ' "$T_DIR/rec.req")
bad() { # label, expected status, request
	local out
	out=$(python3 "$PEERS" raw --connect "127.0.0.1:$PF" "$3" | head -n 1)
	echo "$out" | grep -q "^HTTP/1.1 $2" || fail "$1: expected $2, got '$out'"
}
bad cl-and-te 400 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
bad differing-cl 400 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'
bad bad-cl 400 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello'
bad te-not-chunked 400 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n'
bad te-gzip 501 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'
bad space-before-colon 400 'GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For : 6.6.6.6\r\n\r\n'
bad obs-fold 400 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n'
bad bare-lf 400 'GET / HTTP/1.1\nHost: x\n\n'
bad bare-cr 400 'GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n'
bad nul 400 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n'
bad no-host 400 'GET / HTTP/1.1\r\n\r\n'
bad two-hosts 400 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'
bad host-mismatch 400 'GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n'
bad bad-version 505 'GET / HTTP/2.0\r\nHost: x\r\n\r\n'
bad bad-method 400 'G(T / HTTP/1.1\r\nHost: x\r\n\r\n'
bad bad-chunk 400 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'
bad chunk-overflow 400 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n'
bad connect 405 'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n'
bad proxy-line 400 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n'
long=$(head -c 17000 /dev/zero | tr '\0' 'a')
bad uri-too-long 414 "GET /$long HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"
bad head-too-large 431 "GET / HTTP/1.1\\r\\nHost: x\\r\\nX-Big: $long\\r\\n\\r\\n"
# A good request last, through the same frontend: the recorder has logged
# it when curl returns, so a malformed one forwarded before it would be
# there too (a fixed 0.3 s used to stand for this).
curl -s "http://127.0.0.1:$PF/after-the-bad-ones" >/dev/null || fail "the request after the bad ones"
grep -q '^REQ GET /after-the-bad-ones ' "$T_DIR/rec.req" || fail "the recorder did not log the good request"
after=$(($(grep -c '^REQ' "$T_DIR/rec.req") - 1))
[ "$after" -eq "$before" ] || fail "$((after - before)) malformed requests reached the server"
wait_log "$LOG" 'HTTP 400: cl_and_te'
ok "21 smuggling/malformed cases answered 400/405/414/431/501/505, none reached the server"

# 10. timeout http-request: a head that never ends gets 408, after 1 s
#     and not much more, as the client counts it (its own start-up and
#     connect left out: they are not ppbridge's).
read -r ms out < <(close_time 127.0.0.1 "$PF" 'GET / HTTP/1.1\r\nHost: x\r\n')
echo "$out" | grep -q '^HTTP/1.1 408' || fail "slow head: '$out'"
[ "$ms" -ge 900 ] && [ "$ms" -lt 2900 ] || fail "408 after ${ms} ms (timeout http-request 1s)"
ok "slowloris head: 408 after ${ms} ms"

# 11. http-reuse always: 20 Connection: close clients, few server connections.
conns_before=$(grep -c '^CONN' "$T_DIR/rec.req")
for i in $(seq 1 20); do
	curl -s -H 'Connection: close' "http://127.0.0.1:$PA/r$i" >/dev/null || fail "reuse request $i"
done
conns=$(($(grep -c '^CONN' "$T_DIR/rec.req") - conns_before))
[ "$conns" -le 2 ] || fail "http-reuse always: $conns server connections for 20 clients"
ok "http-reuse always: 20 close clients used $conns server connection(s)"

# 12. A kept server connection that the server closed meanwhile: the
#     request is replayed on a fresh one, the client sees nothing.
out=$(python3 "$PEERS" raw --connect "127.0.0.1:$PRP" \
	'GET /r1 HTTP/1.1\r\nHost: x\r\n\r\nGET /r2 HTTP/1.1\r\nHost: x\r\n\r\nGET /r3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
[ "$(echo "$out" | grep -c '^HTTP/1.1 200')" -eq 3 ] || fail "replay: $out"
[ "$(grep -c '^REQ GET /r' "$T_DIR/closer.req")" -ge 3 ] || fail "replay: the server saw $(cat "$T_DIR/closer.req")"
ok "3 pipelined requests over a server that closes after each answer: all 200 ($(grep -c 'replaying' "$LOG") replays)"

# 13. No server: 503 with a log line.
out=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PDEAD/")
[ "$out" = 503 ] || fail "dead backend answered $out"
ok "dead backend: 503"

stop_ppb
ok "clean exit"
