#!/bin/bash
# Slow and hostile clients, a short CI variant of contrib/bench/hostile.sh:
# slowloris heads, ClientHellos one byte at a time, TLS clients silent
# after the handshake (mode http and mode tcp) and PROXY headers one byte
# at a time, while normal keep-alive requests run through the same VIP.
# Normal requests all succeed; every slow client is closed by its timeout
# (http-request 1s, client-hs 1s, client 2s), not before, not much later;
# ppbridge logs one line per slow client closed; it exits clean (ASan).
. "$PPB_SRCDIR/tests/integration/lib.sh"
FAULTS="$PPB_SRCDIR/tests/integration/faults.py"
make_certs

read -r PR PW PS PT PP <<<"$(python3 "$FAULTS" ports 5)"
[ -n "$PP" ] || hard_error "no free ports"
cat >"$T_DIR/router.cfg" <<CFG
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend router
    bind 127.0.0.1:$PR
    http-request return status 200 content-type text/plain lf-string "router %[req.hdr(x-req-id)]\n"
CFG
start_haproxy router "$T_DIR/router.cfg"
python3 "$FAULTS" waitports 10 "$PR" || fail "the router did not start"

# One VIP, plain and TLS; a TLS-terminating mode tcp listener (its silent
# clients meet timeout client); an accept-proxy listener.
cat >"$T_DIR/ppb.cfg" <<CFG
defaults
    mode http
    log global
    option httplog
    option forwardfor
    timeout connect 1s
    timeout client 2s
    timeout server 3s
    timeout http-request 1s
    timeout client-hs 1s
listen vip
    bind 127.0.0.1:$PW
    bind 127.0.0.1:$PS ssl crt $PKI/srv.pem
    server router 127.0.0.1:$PR
listen tls-tcp
    mode tcp
    bind 127.0.0.1:$PT ssl crt $PKI/srv.pem
    server router 127.0.0.1:$PR
# timeout client here well above client-hs: a PROXY_WAIT stream meets it on
# the idle tick too, and is then closed without a log line (a defect,
# reported), which is not what this case is about.
listen pp
    bind 127.0.0.1:$PP accept-proxy
    timeout client 10s
    server router 127.0.0.1:$PR
CFG
start_ppb "$T_DIR/ppb.cfg"
LOG=$T_DIR/ppbridge.log

# Normal load for as long as the attack lasts (bounded: 1500 requests, 20 s).
start_bg load python3 "$FAULTS" load --connect "127.0.0.1:$PW" --out "$T_DIR/load.out" --conns 3 \
	--requests 1500 --duration 20 --pause 20 --stop-file "$T_DIR/load.stop"
LOAD=$LAST_PID
# A PROXY header byte every 3 s: ppbridge's client-hs is an idle timer
# re-armed by every byte (a defect, reported), so a faster drip would only
# be closed once the header is whole; this one meets the timer, even when
# a busy machine delays the accept (measured: 0.5 s).
python3 "$FAULTS" slow --duration 15 \
	--kind loris --connect "127.0.0.1:$PW" --count 50 --interval 1 \
	--kind hello --connect "127.0.0.1:$PS" --count 20 --interval 1 \
	--kind idletls --connect "127.0.0.1:$PS" --count 20 --interval 1 \
	--kind idletls --connect "127.0.0.1:$PT" --count 10 --interval 1 \
	--kind proxy --connect "127.0.0.1:$PP" --count 20 --interval 3 >"$T_DIR/slow.out" 2>&1 ||
	fail "attacker: $(tail -n 3 "$T_DIR/slow.out")"
touch "$T_DIR/load.stop"
wait "$LOAD" || fail "load client"
cat "$T_DIR/slow.out"

# result KIND N: the Nth RESULT line of that kind (idletls comes twice)
result() { grep "^RESULT kind=$1 " "$T_DIR/slow.out" | sed -n "${2:-1}p"; }
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# expect LABEL LINE WANTED MIN_MS MAX_MS: all opened, all closed in [MIN, MAX]
expect() {
	local r=$2
	[ "$(field "$r" opened)" -eq "$3" ] || fail "$1: $(field "$r" opened) of $3 opened: $r"
	[ "$(field "$r" still_open)" -eq 0 ] || fail "$1: $(field "$r" still_open) never closed: $r"
	[ "$(field "$r" close_ms_min)" -ge "$4" ] || fail "$1: closed too early: $r"
	[ "$(field "$r" close_ms_max)" -le "$5" ] || fail "$1: closed too late: $r"
	ok "$1: $3/$3 closed after $(field "$r" close_ms_min)-$(field "$r" close_ms_max) ms" \
		"(p50 $(field "$r" close_ms_p50)) [$(field "$r" how)] first bytes: $(field "$r" first)"
}

n=$(wc -l <"$T_DIR/load.out")
[ "$n" -ge 30 ] || fail "only $n normal requests ran"
bad=$(awk '$5 != "200"' "$T_DIR/load.out" | wc -l)
[ "$bad" -eq 0 ] || fail "$bad of $n normal requests failed: $(awk '$5 != "200"' "$T_DIR/load.out" | head -n 3)"
ok "normal load: $n/$n requests answered 200 during the attack"

# The idle ticks are a quarter of the smallest timeout (1 s: 250 ms); the
# slack above that is for ASan on two busy shared cores. The lower bounds
# keep 10 % for the attacker's own clock: on a loaded machine it notices its
# connects a little late (measured: 26 ms).
r=$(result loris)
expect "slowloris (timeout http-request 1s)" "$r" 50 900 3000
case $(field "$r" first) in HTTP/1.1_408_*:50) ;; *) fail "slowloris: not all got 408: $r" ;; esac
expect "slow ClientHello (timeout client-hs 1s)" "$(result hello)" 20 900 3000
r=$(result idletls 1)
expect "silent after the TLS handshake, mode http (timeout http-request 1s)" "$r" 20 900 3000
# ppbridge counts timeout client from the accept: the handshake's bytes do
# not count as activity, and the idle ticks add their nominal length, not
# the time that passed (both defects, reported: measured 1936 ms after the
# accept, 1756 ms after the handshake). So the lower bound is taken from
# the connect, less a tick (25 %); the upper one from the handshake's end.
r=$(result idletls 2)
expect "silent after the TLS handshake, mode tcp (timeout client 2s)" "$r" 10 0 4000
[ "$(field "$r" from_connect_ms_min)" -ge 1500 ] || fail "mode tcp TLS: closed before timeout client: $r"
expect "PROXY header one byte per 3 s (timeout client-hs 1s)" "$(result proxy)" 20 900 3000

# One log line per slow client closed, naming why.
lines() { count_lines "$LOG" "$1"; }
[ "$(lines 'frontend vip: closing connection from 127.0.0.1:[0-9]+: HTTP 408: timeout http-request')" -eq 70 ] ||
	fail "$(lines 'vip: .*HTTP 408') 'HTTP 408: timeout http-request' lines for 50 slowloris + 20 silent TLS clients"
[ "$(lines 'frontend vip: closing connection from 127.0.0.1:[0-9]+: TLS handshake timeout')" -eq 20 ] ||
	fail "$(lines 'TLS handshake timeout') 'TLS handshake timeout' lines for 20 slow ClientHellos"
[ "$(lines 'tls-tcp tls-tcp/router .* cD ')" -eq 10 ] ||
	fail "$(lines 'tls-tcp tls-tcp/router .* cD ') cD access-log lines for 10 silent mode tcp TLS clients"
[ "$(lines 'frontend pp: closing connection from 127.0.0.1:[0-9]+: timeout while waiting for the PROXY header')" -eq 20 ] ||
	fail "$(lines 'waiting for the PROXY header') PROXY timeout lines for 20 slow PROXY headers"
ok "one log line per slow client: 70 HTTP 408, 20 TLS handshake timeouts, 10 cD, 20 PROXY timeouts"

stop_ppb
ok "clean exit"
