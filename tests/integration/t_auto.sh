#!/bin/bash
# client-ip auto: three real HAProxy 2.6 routers are reloaded one at a time
# (haproxy -sf, as a pod drains) from plain to accept-proxy on their TLS and
# plain HTTP ports, under continuous bounded load through ppbridge: no
# request may fail, each router's detected mode must flip within about
# rise*inter, and the client's address must reach the routers on both
# paths (X-Forwarded-For after termination, PROXY source in passthrough).
# Then the rollback (routers back to plain, still auto, then xff): zero
# failures again. `ppbridge probe` tells the same story from the shell.
. "$PPB_SRCDIR/tests/integration/lib.sh"
make_certs

PF=$(free_port); PH=$(free_port); PT=$(free_port)
SOCK=$T_DIR/admin.sock
INTER=300 RISE=2
declare -A PS PP
for n in 1 2 3; do PS[$n]=$(free_port); PP[$n]=$(free_port); done

router_cfg() { # n accept-proxy?
	cat <<CFG
global
    stats socket $T_DIR/r$1.sock mode 600 level admin
defaults
    mode http
    # As an IngressController with idleConnectionTerminationPolicy: Deferred:
    # a reloading router answers the connections it accepted before closing
    # them (by default HAProxy closes idle ones at once, a failure that
    # would hit any client, with or without ppbridge in front).
    option idle-close-on-response
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend https
    bind 127.0.0.1:${PS[$1]} ssl crt $PKI/srv.pem $2
    bind 127.0.0.1:${PP[$1]} $2
    http-request return status 200 content-type text/plain lf-string "router=$1 src=%[src] xff=%[req.hdr(x-forwarded-for)]\n"
CFG
}
declare -A RPID RLOG
# old_router_stopped LOGNAME: the old process said it stopped; ROUTER_UP is
# when this poll began (the last one that fails leaves the bound).
old_router_stopped() {
	ROUTER_UP=$(now_ms)
	grep -q 'Proxy https stopped' "$T_DIR/$1.log"
}
# start_router n plain|pp: the first start, or a graceful reload; then
# ROUTER_UP is the earliest time (ms) the new process can have been the
# only one listening: the old one logs "Proxy https stopped" once the new
# one bound and signalled it. Taken as the start of the last poll that
# did not see the line, so a time measured from it is never too short.
start_router() {
	local extra="" name t0
	[ "$2" = pp ] && extra=accept-proxy
	router_cfg "$1" "$extra" >"$T_DIR/r$1-$2.cfg"
	name="r$1-$2"
	t0=$(now_ms)
	ROUTER_UP=$t0
	if [ -n "${RPID[$1]:-}" ]; then
		# graceful: the new process binds, then tells the old one to finish
		name="$name-$(date +%s%N)"
		start_bg "$name" haproxy -db -f "$T_DIR/r$1-$2.cfg" -sf "${RPID[$1]}"
		wait_until 15 "r$1: the old router did not stop" old_router_stopped "${RLOG[$1]}"
	else
		start_bg "$name" haproxy -db -f "$T_DIR/r$1-$2.cfg"
	fi
	RPID[$1]=$LAST_PID
	RLOG[$1]=$name
}
for n in 1 2 3; do start_router "$n" plain; done
for n in 1 2 3; do wait_port 127.0.0.1 "${PS[$n]}"; wait_port 127.0.0.1 "${PP[$n]}"; done

servers() { # ssl-options [PS: the TLS port without ssl]
	for n in 1 2 3; do
		local port=${PP[$n]}
		[ -n "$1" ] || [ -n "${2:-}" ] && port=${PS[$n]}
		echo "    server r$n 127.0.0.1:$port $1 check inter $INTER fall 2 rise $RISE"
	done
}
cat >"$T_DIR/ppb.cfg" <<CFG
global
    stats socket $SOCK mode 600 level admin
    client-ip-state $T_DIR/client-ip.state
defaults
    log global
    mode http
    option forwardfor
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    retries 2
frontend fe-https
    bind 127.0.0.1:$PF ssl crt $PKI/srv.pem
    http-request del-header X-Forwarded-For
    client-ip auto
    default_backend routers-https
frontend fe-http
    bind 127.0.0.1:$PH
    http-request del-header X-Forwarded-For
    client-ip auto
    default_backend routers-http
frontend fe-tcp
    # an L4 VIP in front of the routers' TLS port (OAuth, API style)
    mode tcp
    bind 127.0.0.1:$PT
    client-ip auto
    default_backend routers-tcp
backend routers-tcp
    mode tcp
    balance source
$(servers "" PS)
backend routers-https
    balance source
$(servers "ssl ca-file $PKI/ca.crt")
backend routers-http
    balance source
$(servers "")
CFG
"$PPB_BIN" -c -f "$T_DIR/ppb.cfg" >/dev/null || fail "client-ip auto refused by -c"
start_ppb "$T_DIR/ppb.cfg"
LOG=$T_DIR/ppbridge.log
adm() { "$PPB_BIN" ctl "$SOCK" "$@"; }

# modes_are MODE n...: every routerN of the three backends shows MODE, in
# one `show client-ip` (nine ctl runs per poll took near a second under
# ASan: the poll, not ppbridge, was what a timing then measured).
modes_are() {
	local want=$1 n b
	shift
	adm "show client-ip" >"$T_DIR/modes.log" || return 1
	for n in "$@"; do
		for b in https http tcp; do
			[ "$(awk -v s="routers-$b/r$n" '$1 == s { print $2 }' "$T_DIR/modes.log")" = "$want" ] || return 1
		done
	done
}
# flip_ms n MODE MARK: ms from ROUTER_UP to the last of routerN's three
# mode changes to MODE logged after line MARK (ppbridge's own clock).
flip_ms() {
	local n=$1 what=accepted last=0 b t
	[ "$2" = plain ] && what=refused
	tail -n "+$3" "$LOG" >"$T_DIR/since.log"
	for b in https http tcp; do
		grep -q "Server routers-$b/r$n: PROXY protocol $what" "$T_DIR/since.log" || return 1
		t=$(log_ms "$T_DIR/since.log" "Server routers-$b/r$n: PROXY protocol $what")
		[ "$t" -gt "$last" ] && last=$t
	done
	echo $((last - ROUTER_UP))
}
# Detection itself is awaited generously; how fast it was is then read
# from ppbridge's log and held to rise*inter plus one probe.
wait_mode() { # MODE n...
	wait_until 20 "routers $* not all '$1' (show client-ip: modes.log)" modes_are "$@"
}

t0=$(now_ms)
wait_mode plain 1 2 3
ok "start: the probes found all routers plain in $(($(now_ms) - t0)) ms"
adm "show servers state routers-https" | grep -q ' plain$' || fail "show servers state: no ppb_pp_mode column"

out=$("$PPB_BIN" probe "127.0.0.1:${PS[1]}" ssl)
echo "$out" | grep -q 'verdict: plain only' || fail "ppbridge probe (plain TLS router): $out"
out=$("$PPB_BIN" probe "127.0.0.1:${PP[1]}")
echo "$out" | grep -q 'verdict: plain only' || fail "ppbridge probe (plain HTTP router): $out"
ok "ppbridge probe: plain routers say 'plain only' on both ports"

# Continuous load: HTTPS and HTTP alternately, two requests per connection,
# from ten client addresses (so that source hashing reaches every router);
# each answer must name the client's own address. It runs until $STOP
# (300 s at most) and keeps its count of good requests in $PROGRESS.
STOP=$T_DIR/stop
PROGRESS=$T_DIR/load.progress
python3 - "$PF" "$PH" "$PT" "$PKI/ca.crt" "$STOP" "$PROGRESS" >"$T_DIR/load.txt" 2>"$T_DIR/load.log" <<'PY' &
import os, socket, ssl, sys, time
pf, ph, pt, ca, stop = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
progress = sys.argv[6]
ctx = ssl.create_default_context(cafile=ca)
end = time.time() + 300
n = ok = bad = 0
paths = {"proxy": 0, "xff": 0, "plain": 0}
fails = []
def one(port, tls, ip):
    raw = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(ip, 0))
    s = ctx.wrap_socket(raw, server_hostname="localhost") if tls else raw
    f = s.makefile("rb")
    res = []
    for i in range(2):
        last = i == 1
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-For: 6.6.6.6\r\n" +
                  (b"Connection: close\r\n" if last else b"") + b"\r\n")
        status = f.readline()
        length = 0
        closing = False
        while True:
            h = f.readline()
            if h in (b"\r\n", b""):
                break
            k, _, v = h.decode().partition(":")
            if k.lower() == "content-length":
                length = int(v)
            if k.lower() == "connection" and "close" in v.lower():
                closing = True
        body = f.read(length).decode()
        res.append((status, body))
        if closing:
            break
    s.close()
    return res
while time.time() < end and not os.path.exists(stop):
    ip = "127.0.0.%d" % (20 + n % 10)
    kind = n % 3  # 0 https VIP, 1 http VIP, 2 TCP VIP (TLS to the router)
    tls = kind != 1
    n += 1
    try:
        for status, body in one((pf, ph, pt)[kind], tls, ip):
            kv = dict(x.split("=", 1) for x in body.split())
            if b" 200 " not in status:
                raise OSError("status %r" % status)
            if kv.get("src") == ip:
                paths["proxy"] += 1
            elif kind != 2 and kv.get("src") == "127.0.0.1" and kv.get("xff") == ip:
                paths["xff"] += 1
            elif kind == 2 and kv.get("src") == "127.0.0.1" and kv.get("xff") == "6.6.6.6":
                paths["plain"] += 1  # L4 untouched: the client's own header
            else:
                raise OSError("wrong client address for %s: %r" % (ip, body))
            ok += 1
    except Exception as e:
        bad += 1
        fails.append("%.3f %s %s: %s" % (time.time(), ("https", "http", "tcp")[kind], ip, e))
    with open(progress + ".tmp", "w") as f:
        f.write("%d\n" % ok)
    os.replace(progress + ".tmp", progress)
print("ok=%d bad=%d proxy=%d xff=%d plain=%d" % (ok, bad, paths["proxy"], paths["xff"], paths["plain"]))
for f in fails[:20]:
    print(f, file=sys.stderr)
PY
LOAD=$!
# load_after N: wait until the load has N more good requests than now
# (every kind of connection, through whatever state the routers are in).
load_done() { cat "$PROGRESS" 2>/dev/null || echo 0; }
load_past() { [ "$(load_done)" -ge "$1" ]; }
load_after() {
	local want=$(($(load_done) + $1))
	wait_until 30 "the load stalled below $want good requests" load_past "$want"
}
load_after 6

# Rolling update to accept-proxy, one router at a time. Between two
# routers, at least 12 more good requests through the VIPs.
for n in 1 2 3; do
	mark=$(wc -l <"$LOG")
	start_router "$n" pp
	wait_mode proxy "$n"
	ms=$(flip_ms "$n" proxy "$mark") || fail "r$n: no change to proxy logged"
	t_log "r$n reloaded with accept-proxy: detected in ${ms} ms (rise*inter = $((RISE * INTER)) ms)"
	[ "$ms" -le $((RISE * INTER + INTER + 400)) ] || fail "r$n flipped in ${ms} ms, beyond rise*inter + one probe"
	load_after 12
done
out=$("$PPB_BIN" probe "127.0.0.1:${PS[2]}" ssl)
echo "$out" | grep -q 'verdict: needs PROXY' || fail "ppbridge probe (accept-proxy router): $out"
ok "rolling update to accept-proxy: each router detected within rise*inter (+ one probe)"

# Rollback: back to plain, one router at a time, still in auto.
for n in 1 2 3; do
	mark=$(wc -l <"$LOG")
	start_router "$n" plain
	wait_mode plain "$n"
	ms=$(flip_ms "$n" plain "$mark") || fail "r$n: no change back to plain logged"
	t_log "r$n rolled back to plain: detected in ${ms} ms"
	load_after 12
done
touch "$STOP"
wait "$LOAD"
res=$(cat "$T_DIR/load.txt")
t_log "load through the rolling update and the rollback: $res"
echo "$res" | grep -Eq '^ok=[0-9]+ bad=0 ' || { cat "$T_DIR/load.log"; fail "requests failed in auto: $res"; }
echo "$res" | grep -Eq 'proxy=[1-9][0-9]* xff=[1-9][0-9]* plain=[1-9]' || fail "every path should have carried traffic: $res"
ok "auto: zero failed requests through rolling update and rollback; client address right on both paths"

adm "show client-ip" | grep -Eq '^fe-https auto [0-9]+ [1-9][0-9]* [1-9][0-9]* ' ||
	fail "path counters: $(adm 'show client-ip')"
grep -q 'Server routers-https/r1: PROXY protocol accepted' "$LOG" || fail "no mode change logged"
adm "show client-ip" | grep -Eq '^fe-tcp auto [0-9]+ 0 [1-9][0-9]* [1-9][0-9]* ' ||
	fail "tcp VIP path counters: $(adm 'show client-ip')"

# Without traffic only the probes can tell: a router reloaded now is
# found by them alone, within rise*inter plus one probe interval.
mark=$(wc -l <"$LOG")
start_router 2 pp
wait_mode proxy 2
ms=$(flip_ms 2 proxy "$mark") || fail "idle r2: no change to proxy logged"
tail -n "+$mark" "$LOG" | grep -q 'Server routers-https/r2: PROXY protocol accepted (probes: with PROXY TLS handshake completed' ||
	fail "the idle flip was not the probes' doing"
[ "$ms" -le $((RISE * INTER + INTER + 400)) ] || fail "idle r2 flipped in ${ms} ms"
mark=$(wc -l <"$LOG")
start_router 2 plain
wait_mode plain 2
ms2=$(flip_ms 2 plain "$mark") || fail "idle r2: no change back to plain logged"
ok "idle routers: the probes alone flip the mode (${ms} ms to proxy, ${ms2} ms back; rise*inter = $((RISE * INTER)) ms)"

# Strategy back to xff: plain routers, no failures.
adm "set frontend fe-https client-ip xff" >/dev/null || fail "set xff"
adm "set frontend fe-http client-ip xff" >/dev/null || fail "set xff (http)"
out=$(curl -s --max-time 15 --cacert "$PKI/ca.crt" --resolve "localhost:$PF:127.0.0.1" \
	--interface 127.0.0.33 "https://localhost:$PF/")
echo "$out" | grep -Eq '^router=[123] src=127.0.0.1 xff=127.0.0.33$' || fail "xff after rollback: $out"
adm "set frontend fe-https client-ip auto" | grep -q 'xff -> auto' || fail "set auto at run time"
ok "rollback to xff, then auto again at run time"
stop_ppb
ok "clean exit"
