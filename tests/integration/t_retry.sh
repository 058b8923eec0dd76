#!/bin/bash
# A refused connect is retried (and redispatched) before any client byte is
# sent, so no client connection is lost; with every server gone the client
# is closed promptly and the refusal is logged.
. "$PPB_SRCDIR/tests/integration/lib.sh"

P1=$(free_port)
P2=$(free_port) # nothing listens here
P3=$(free_port)
PF=$(free_port)
PD=$(free_port)
PP=$(free_port)
start_ident s1 "127.0.0.1:$P1"
start_ident s3 "127.0.0.1:$P3"
wait_port 127.0.0.1 "$P1"
wait_port 127.0.0.1 "$P3"
cat >"$T_DIR/ppb.cfg" <<CFG
defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    retries 3
    option redispatch
listen vip
    bind 127.0.0.1:$PF
    balance roundrobin
    server s1 127.0.0.1:$P1
    server s2 127.0.0.1:$P2
    server s3 127.0.0.1:$P3
listen dead
    bind 127.0.0.1:$PD
    server gone 127.0.0.1:$P2
# With a PROXY header queued, the refused connect is seen by the send.
listen vip-pp
    bind 127.0.0.1:$PP
    balance roundrobin
    server s1 127.0.0.1:$P1 send-proxy
    server s2 127.0.0.1:$P2 send-proxy
    server s3 127.0.0.1:$P3 send-proxy
CFG
start_ppb "$T_DIR/ppb.cfg"

out=$(python3 "$PEERS" probe --connect "127.0.0.1:$PF" --count 60) || fail "lost connections: $(echo "$out" | grep -c FAIL)"
[ "$(echo "$out" | grep -c '^s[13] ')" -eq 60 ] || fail "not every connection was served"
n=$(count_lines "$T_DIR/ppbridge.log" 'vip vip/s2 ')
[ "$n" -eq 0 ] || fail "$n connections logged as served by the dead server"
ok "60/60 connections served despite a refusing server"

for i in $(seq 1 30); do
	out=$(python3 "$PEERS" raw --connect "127.0.0.1:$PP" 'payload-right-away\n')
	echo "$out" | grep -q '^s[13] ' || fail "send-proxy retry $i: no server answered: $out"
	echo "$out" | grep -q '^PROXY TCP4 127.0.0.1 127.0.0.1 ' || fail "send-proxy retry $i: header: $out"
	[ "$(echo "$out" | grep -c '^PROXY ')" -eq 1 ] || fail "send-proxy retry $i: header sent twice: $out"
	echo "$out" | grep -q 'payload-right-away' || fail "send-proxy retry $i: payload lost: $out"
done
ok "send-proxy: 30/30 served through a refusing server, one header each, payload intact"

# Timed by the client from its connect (its python start-up left out).
read -r ms out < <(close_time 127.0.0.1 "$PD")
[ "$out" = CLOSED ] || [ "$out" = RESET ] || fail "a dead backend served: $out"
[ "$ms" -lt 3000 ] || fail "client waited ${ms} ms for a dead backend"
wait_log "$T_DIR/ppbridge.log" 'dead dead/gone .* SC '
ok "dead backend: client closed in ${ms} ms, logged SC"
stop_ppb
