#!/bin/bash
# PROXY protocol against a real HAProxy 2.6, both directions:
#   client -> HAProxy (send-proxy-v2 + TLVs) -> ppbridge (accept-proxy)
#          -> ppbridge send-proxy / send-proxy-v2 -> HAProxy "router" (accept-proxy)
# The router answers with the source address it saw. Also: health checks
# with PROXY both ways, trust rules, malformed/slow/split headers, and
# expect-proxy layer4 behaving as HAProxy 2.6 does. IPv4 and IPv6.
. "$PPB_SRCDIR/tests/integration/lib.sh"

PR=$(free_port)   # router, accept-proxy (v4)
PR6=$(free_port)  # router, accept-proxy (v6)
PRR=$(free_port)  # router readiness: plain HTTP, no accept-proxy (like :1936)
PH=$(free_port)   # HAProxy in front of ppbridge (v4)
PH6=$(free_port)  # HAProxy in front of ppbridge (v6)
PA=$(free_port)   # ppbridge: accept-proxy, trusted sources only
PA6=$(free_port)
PV2=$(free_port)  # ppbridge: no accept-proxy, send-proxy-v2 to the router
PX=$(free_port)   # ppbridge: expect-proxy layer4 rules
PXH=$(free_port)  # HAProxy: the same expect-proxy rules, for comparison
PE=$(free_port)   # echo server behind both
PD=$(free_port)   # ppbridge pp-dump
PHD=$(free_port)  # HAProxy sending to pp-dump

cat >"$T_DIR/router.cfg" <<CFG
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend router
    bind 127.0.0.1:$PR accept-proxy
    bind [::1]:$PR6 accept-proxy
    http-request return status 200 content-type text/plain lf-string "src=%[src]\n"
frontend readiness
    bind 127.0.0.1:$PRR
    http-request return status 200 content-type text/plain string "ready\n"
CFG
cat >"$T_DIR/front.cfg" <<CFG
global
    log stderr format raw local0 info
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 5s
    timeout server 5s
listen front
    bind 127.0.0.1:$PH
    unique-id-format %{+X}o\ %ci:%cp
    server ppb 127.0.0.1:$PA send-proxy-v2 proxy-v2-options crc32c,unique-id,ssl check inter 200
listen front6
    bind [::1]:$PH6
    server ppb6 [::1]:$PA6 send-proxy check inter 200
listen to-dump
    bind 127.0.0.1:$PHD
    unique-id-format %{+X}o\ %ci:%cp
    server dump 127.0.0.1:$PD send-proxy-v2 proxy-v2-options crc32c,unique-id,ssl
listen expect
    bind 127.0.0.1:$PXH
    tcp-request connection expect-proxy layer4 if { src 127.0.0.1 }
    server echo 127.0.0.1:$PE
CFG
cat >"$T_DIR/ppb.cfg" <<CFG
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout client-hs 1s
frontend fe-accept
    bind 127.0.0.1:$PA accept-proxy
    bind [::1]:$PA6 accept-proxy
    acl balancers src 127.0.0.1 ::1
    tcp-request connection reject if !balancers
    default_backend routers-v1
backend routers-v1
    option httpchk GET /healthz/ready
    # Without it a check has inter (200 ms) for everything: one router
    # answer slowed by a loaded machine would be a DOWN (fall 1).
    timeout check 2s
    server r1 127.0.0.1:$PR send-proxy check inter 200 fall 1
    server r1-ready-port 127.0.0.1:$PR send-proxy check port $PRR inter 200 fall 1
    server r1-v6 [::1]:$PR6 send-proxy check inter 200 fall 1
frontend fe-v2
    bind 127.0.0.1:$PV2
    default_backend routers-v2
backend routers-v2
    option httpchk GET /healthz/ready
    timeout check 2s
    server r2 127.0.0.1:$PR send-proxy-v2 proxy-v2-options crc32c,unique-id,ssl check inter 200 fall 1
    server plain-to-pp 127.0.0.1:$PR check inter 200 fall 1 backup
frontend fe-expect
    bind 127.0.0.1:$PX
    tcp-request connection expect-proxy layer4 if { src 127.0.0.1 }
    default_backend echo
backend echo
    server echo 127.0.0.1:$PE
CFG

start_ident echo "127.0.0.1:$PE"
start_haproxy router "$T_DIR/router.cfg"
wait_port 127.0.0.1 "$PR"
wait_port 127.0.0.1 "$PE"
start_ppb "$T_DIR/ppb.cfg"
start_haproxy front "$T_DIR/front.cfg"
wait_port 127.0.0.1 "$PH"
wait_port 127.0.0.1 "$PXH"
LOG=$T_DIR/ppbridge.log

# 1+3. HAProxy -> ppbridge -> HAProxy keeps the first client's address.
out=$(curl -s --max-time 5 --interface 127.0.0.9 "http://127.0.0.1:$PH/")
[ "$out" = "src=127.0.0.9" ] || fail "chain v4: router saw '$out'"
out=$(curl -s --max-time 5 --interface ::1 "http://[::1]:$PH6/")
[ "$out" = "src=::1" ] || fail "chain v6: router saw '$out'"
wait_log "$LOG" '^.*127\.0\.0\.9:[0-9]+ \[.*fe-accept routers-v1/'
ok "HAProxy (send-proxy-v2 crc32c,unique-id,ssl) -> ppbridge -> HAProxy: router sees 127.0.0.9 and ::1"

# 2. ppbridge's own send-proxy-v2 with TLVs, accepted by HAProxy 2.6.
out=$(curl -s --max-time 5 --interface 127.0.0.10 "http://127.0.0.1:$PV2/")
[ "$out" = "src=127.0.0.10" ] || fail "send-proxy-v2: router saw '$out'"
ok "ppbridge send-proxy-v2 (crc32c,unique-id,ssl) accepted by HAProxy 2.6"

# Health checks with PROXY, both ways: ppbridge's (v1 line, v2 LOCAL) pass;
# a plain check on the router's accept-proxy port fails (proves the router
# really demands PROXY), a `check port` readiness check stays plain; and
# HAProxy's checks of ppbridge (v2 LOCAL, v1 line) pass.
# "Never DOWN" needs checks to have run, not time to have passed: 3
# finished checks of each of ppbridge's (fall 1), and 4 of each of
# HAProxy's (fall 3: v2 LOCAL from front, v1 from front6; one more v1 is
# the curl above) seen by ppbridge.
wait_log "$LOG" 'Server routers-v2/plain-to-pp is DOWN'
for s in routers-v1/r1 routers-v1/r1-ready-port routers-v1/r1-v6 routers-v2/r2; do
	wait_count "$LOG" "check $s: [A-Z]+ -> IDLE" 3
done
wait_count "$LOG" 'PROXY v2 without addresses' 4
wait_count "$LOG" 'PROXY v1 accepted, client \[::1\]' 5
for s in routers-v1/r1 routers-v1/r1-ready-port routers-v1/r1-v6 routers-v2/r2; do
	grep -q "Server $s is DOWN" "$LOG" && fail "$s is DOWN: PROXY checks refused"
done
grep -q 'is DOWN' "$T_DIR/front.log" && fail "HAProxy's PROXY checks of ppbridge failed: $(grep DOWN "$T_DIR/front.log")"
grep -q 'PROXY v2 without addresses' "$LOG" || fail "no LOCAL header from HAProxy's checks seen"
ok "checks: ppbridge v1/v2 checks pass, plain check port stays plain, HAProxy's checks of ppbridge pass"

# 4a. Trust: only the balancers may send a header; others are refused.
out=$(python3 "$PEERS" raw --connect "127.0.0.1:$PA" --src 127.0.0.66 \
	'PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\nGET / HTTP/1.0\r\n\r\n')
echo "$out" | grep -q 'src=' && fail "untrusted source forged its address: $out"
wait_log "$LOG" "closing connection from 127.0.0.66:[0-9]+: rejected by 'tcp-request connection reject' at .*ppb.cfg:12"
out=$(python3 "$PEERS" raw --connect "127.0.0.1:$PA" \
	'PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\nGET / HTTP/1.0\r\n\r\n')
echo "$out" | grep -q 'src=1.2.3.4' || fail "trusted header not honoured: $out"
ok "reject if !balancers: untrusted refused and logged, trusted header honoured"

# Malformed, split, slow: one log line each, naming the error class.
python3 "$PEERS" raw --connect "127.0.0.1:$PA" 'PROXY TCP4 01.2.3.4 5.6.7.8 1111 2222\r\n' >/dev/null
wait_log "$LOG" 'invalid PROXY header \(bad_address\)'
python3 "$PEERS" raw --connect "127.0.0.1:$PA" 'GET / HTTP/1.0\r\n\r\n' >/dev/null
wait_log "$LOG" 'invalid PROXY header \(bad_signature\)'
python3 "$PEERS" raw --connect "127.0.0.1:$PA" '\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x02ab' >/dev/null
wait_log "$LOG" 'invalid PROXY header \(truncated_block\)'
# (--pause: meant to split the header over two segments; were a slow
# machine to merge them, the test would only be easier, never fail.)
out=$(python3 "$PEERS" raw --connect "127.0.0.1:$PA" --pause 0.3 'PROXY TCP4 1.2.' \
	'3.4 5.6.7.8 1111 2222\r\nGET / HTTP/1.0\r\n\r\n')
echo "$out" | grep -q 'src=1.2.3.4' || fail "a header split over two segments was refused: $out"
out=$(python3 "$PEERS" raw --connect "127.0.0.1:$PA" 'PROXY TCP4 1.2.3.4')
echo "$out" | grep -Eq 'CLOSED|RESET' || fail "an incomplete header was not closed: $out"
wait_log "$LOG" 'timeout while waiting for the PROXY header'
ok "bad address / no header / short v2 block / timeout each refused with its class; split header accepted"

# 4b. expect-proxy layer4 if { src 127.0.0.1 }: same answers as HAProxy 2.6.
probe_both() { # label, --src, parts...
	local label=$1 src=$2
	shift 2
	a=$(python3 "$PEERS" raw --connect "127.0.0.1:$PX" --src "$src" "$@" | sed 's/:[0-9]*$//')
	b=$(python3 "$PEERS" raw --connect "127.0.0.1:$PXH" --src "$src" "$@" | sed 's/:[0-9]*$//')
	[ "$a" = "$b" ] || fail "expect-proxy, $label: ppbridge said '$a', HAProxy said '$b'"
	echo "$a" >"$T_DIR/expect-$label.txt"
}
probe_both trusted-with-header 127.0.0.1 'PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\nhello\n'
grep -q '^hello$' "$T_DIR/expect-trusted-with-header.txt" || fail "header not stripped"
probe_both untrusted-payload 127.0.0.66 'hello\n'
grep -q '^hello$' "$T_DIR/expect-untrusted-payload.txt" || fail "untrusted payload not relayed"
probe_both untrusted-header-is-payload 127.0.0.66 'PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n'
grep -q '^PROXY TCP4 1.2.3.4' "$T_DIR/expect-untrusted-header-is-payload.txt" ||
	fail "an untrusted header should be plain payload"
probe_both trusted-without-header 127.0.0.1 'hello\n'
ok "expect-proxy layer4: identical to HAProxy 2.6 on 4 cases"

# The operator's tool: `ppbridge pp-dump` shows what HAProxy 2.6 sends.
start_bg ppdump "$PPB_BIN" pp-dump -n 1 "127.0.0.1:$PD"
wait_log "$T_DIR/ppdump.log" 'listening'
curl -s --max-time 3 --interface 127.0.0.11 "http://127.0.0.1:$PHD/" >/dev/null 2>&1
wait_log "$T_DIR/ppdump.log" 'payload'
for want in 'version 2, command PROXY, family 0x11' 'source 127.0.0.11:' \
	"destination 127.0.0.1:$PHD" 'tlv CRC32C 0x' 'tlv UNIQUE_ID "7F00000B:' \
	'tlv SSL client=0x00 verify=0' 'first bytes "GET / HTTP/1.1'; do
	grep -qF "$want" "$T_DIR/ppdump.log" || fail "pp-dump output lacks '$want'"
done
ok "pp-dump decodes HAProxy's send-proxy-v2 (crc32c, unique-id, ssl) and shows the payload"

stop_ppb
ok "clean exit"
