#!/bin/bash
# Two ppbridge hosts behind keepalived (VRRP) fail over, measured.
#
# The test builds its own network out of network namespaces (root only):
# a bridge namespace joins a client, two balancers (A and B) and a router
# namespace with three real HAProxy 2.6 router stand-ins that answer with
# their name, the address they see (the balancer) and the X-Forwarded-For.
# A and B run ppbridge with the same configuration (the VIP bound with
# net.ipv4.ip_nonlocal_bind=1 set in each namespace) and keepalived with the
# configuration rendered from contrib/keepalived/keepalived.conf (the check
# is contrib/keepalived/check_ppbridge.sh: curl to 127.0.0.1's monitor-uri
# in that namespace). The client sends requests to the VIP from ten source
# addresses without a pause, one connection each, 2 s timeout:
#   - SIGKILL of the master's ppbridge: the time from the kill to the first
#     request that succeeds again (through B), under a bound; the failed
#     requests stop once one has succeeded;
#   - every source address reaches the same router through A and through B
#     (balance source + hash-type consistent);
#   - A's ppbridge back: A stays BACKUP (nopreempt), no request fails;
#   - B's link cut: the VIP moves back to A, timed and bounded the same way.
# Namespace, a missing keepalived or ip: a hard failure, never a skip.
. "$PPB_SRCDIR/tests/integration/lib.sh"

[ "$(id -u)" -eq 0 ] || hard_error "t_ha needs root (network namespaces)"
need ip keepalived
KA_DIR=$PPB_SRCDIR/contrib/keepalived

S=$$
NS_BR=ppbha$S-br NS_C=ppbha$S-c NS_A=ppbha$S-a NS_B=ppbha$S-b NS_R=ppbha$S-r
ALL_NS="$NS_BR $NS_C $NS_A $NS_B $NS_R"
VIP=10.99.0.100 IP_C=10.99.0.10 IP_A=10.99.0.11 IP_B=10.99.0.12
SRCS=$(seq -f '10.99.0.%g' 30 39)
# Bounds: detection is fall (2) x interval (1 s), the move one advert
# (1 s) plus the skew; a cut link 3 x advert_int plus the skew. Both well
# under 8 s; the load's own timeout (2 s) can add to the measure.
BOUND_MS=8000

# Every process in our namespaces (ppbridge, keepalived and its children,
# HAProxy, the load), then the namespaces, whatever state the test is in.
# shellcheck disable=SC2317 # called by the trap
ha_cleanup() {
	local ns pid i pids
	[ -n "${T_LOAD_STOP:-}" ] && : >"$T_LOAD_STOP"
	for ns in $ALL_NS; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
	done
	for i in $(seq 1 100); do
		pids=""
		for ns in $ALL_NS; do pids="$pids$(ip netns pids "$ns" 2>/dev/null)"; done
		[ -z "$pids" ] && break
		sleep 0.05
	done
	for ns in $ALL_NS; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
	done
	for ns in $ALL_NS; do
		ip netns del "$ns" 2>/dev/null
	done
	t_cleanup
}
trap ha_cleanup EXIT
# Stopped from outside (make's timeout, Ctrl-C): the EXIT trap still runs.
trap 'exit 143' TERM
trap 'exit 130' INT HUP

in_ns() { # NS COMMAND...
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# ---- the network ----
for ns in $ALL_NS; do
	ip netns add "$ns" || hard_error "ip netns add $ns refused: t_ha needs network namespaces"
	ip -n "$ns" link set lo up || hard_error "lo up in $ns"
done
ip -n "$NS_BR" link add br0 type bridge forward_delay 0 || hard_error "no bridge in $NS_BR"
ip -n "$NS_BR" link set br0 up
# join NS ADDR...: a veth from the bridge to eth0 in NS, with the addresses.
join() {
	local ns=$1 port
	shift
	port=p${ns##*-}
	ip -n "$NS_BR" link add "$port" type veth peer name eth0 netns "$ns" ||
		hard_error "veth $port to $ns"
	ip -n "$NS_BR" link set "$port" master br0 up || hard_error "bridge port $port"
	for a in "$@"; do ip -n "$ns" addr add "$a/24" dev eth0 || hard_error "addr $a in $ns"; done
	ip -n "$ns" link set eth0 up || hard_error "eth0 up in $ns"
}
# shellcheck disable=SC2086 # $SRCS: ten addresses
join "$NS_C" "$IP_C" $SRCS
join "$NS_A" "$IP_A"
join "$NS_B" "$IP_B"
join "$NS_R" 10.99.0.21 10.99.0.22 10.99.0.23
for ns in "$NS_A" "$NS_B"; do
	in_ns "$ns" sysctl -qw net.ipv4.ip_nonlocal_bind=1 || hard_error "ip_nonlocal_bind in $ns"
done
ok "network: bridge, client, balancers A and B, routers (namespaces ppbha$S-*)"

# ---- routers: HAProxy 2.6 ----
{
	cat <<CFG
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
CFG
	for i in 1 2 3; do
		cat <<CFG
frontend r$i
    bind 10.99.0.2$i:80
    http-request return status 200 content-type text/plain lf-string "r$i %[src] %[req.hdr(x-forwarded-for)]\n"
CFG
	done
} >"$T_DIR/routers.cfg"
start_bg routers ip netns exec "$NS_R" haproxy -db -f "$T_DIR/routers.cfg"
for i in 1 2 3; do wait_until 10 "router r$i not listening" in_ns "$NS_R" curl -fs -o /dev/null --max-time 1 "http://10.99.0.2$i/"; done

# ---- ppbridge: one configuration for both balancers ----
cat >"$T_DIR/ppb.cfg" <<CFG
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    hash-type consistent
frontend apps
    bind $VIP:80
    option forwardfor
    default_backend routers
backend routers
    balance source
    server r1 10.99.0.21:80 check inter 1s
    server r2 10.99.0.22:80 check inter 1s
    server r3 10.99.0.23:80 check inter 1s
listen stats
    bind 127.0.0.1:8404
    monitor-uri /healthz
    monitor fail if { nbsrv(routers) lt 1 }
CFG
"$PPB_BIN" -c -f "$T_DIR/ppb.cfg" >"$T_DIR/check.log" 2>&1 || fail "ppbridge -c: $(cat "$T_DIR/check.log")"
healthy() { in_ns "$1" "$KA_DIR/check_ppbridge.sh" 8404 /healthz 2>/dev/null; }
start_ppb_in() { # a|b
	local ns
	ns=$([ "$1" = a ] && echo "$NS_A" || echo "$NS_B")
	start_bg "ppbridge-$1-$(now_ms)" ip netns exec "$ns" "$PPB_BIN" -f "$T_DIR/ppb.cfg" -d
	if [ "$1" = a ]; then PPB_a=$LAST_PID; else PPB_b=$LAST_PID; fi
	wait_until 15 "ppbridge in $ns: /healthz not 200" healthy "$ns"
}
start_ppb_in a
start_ppb_in b

# ---- keepalived, rendered from contrib/keepalived/keepalived.conf ----
render() { # a|b: the host's keepalived.conf
	local host=$1 host_b='s/^$//'
	# Host B: the value after "# host B:" replaces the one before it.
	[ "$host" = b ] && host_b='s/^([[:space:]]*)((.*[[:space:]])?)[^[:space:]]+[[:space:]]*# host B: (.*)$/\1\2\4/'
	sed -E -e "$host_b" \
		-e 's/<iface>/eth0/g' -e "s/<host_a_ip>/$IP_A/g" -e "s/<host_b_ip>/$IP_B/g" \
		-e 's/<vrrp_password>/t_ha/g' \
		-e "s/x\.x\.x\.1/$VIP/g" -e 's/x\.x\.x\.2/10.99.0.101/g' -e 's/x\.x\.x\.3/10.99.0.102/g' \
		-e "s|/usr/local/sbin/check_ppbridge.sh|$KA_DIR/check_ppbridge.sh|" \
		-e 's/^([[:space:]]*interval) 2$/\1 1/' \
		-e 's/^([[:space:]]*script_user) nobody/\1 root/' -e '/enable_script_security/d' \
		"$KA_DIR/keepalived.conf" >"$T_DIR/keepalived-$host.conf"
	grep -Eq '<|x\.x\.x' "$T_DIR/keepalived-$host.conf" && fail "placeholder left in keepalived-$host.conf"
	grep -q '^[[:space:]]*nopreempt' "$T_DIR/keepalived-$host.conf" || fail "keepalived.conf has no nopreempt"
	grep -q '^[[:space:]]*interval 1$' "$T_DIR/keepalived-$host.conf" || fail "interval not rendered"
	return 0
}
render a
render b
grep -q 'priority 100' "$T_DIR/keepalived-b.conf" || fail "host B's priority not rendered"
grep -q "unicast_src_ip $IP_B" "$T_DIR/keepalived-b.conf" || fail "host B's unicast_src_ip not rendered"
start_ka() { # a|b
	local ns
	ns=$([ "$1" = a ] && echo "$NS_A" || echo "$NS_B")
	mkdir -p "$T_DIR/run-$1"
	start_bg "keepalived-$1" ip netns exec "$ns" keepalived -n -l -G -D -P \
		-f "$T_DIR/keepalived-$1.conf" -p "$T_DIR/run-$1/keepalived.pid" \
		-r "$T_DIR/run-$1/vrrp.pid" -c "$T_DIR/run-$1/checkers.pid"
}
holds_vip() { ip -n "$1" -4 addr show dev eth0 | grep -q " $VIP/"; }
start_ka a
wait_until 20 "A never took the VIP" holds_vip "$NS_A"
start_ka b
wait_log "$T_DIR/keepalived-b.log" 'Entering BACKUP STATE' 15
holds_vip "$NS_B" && fail "both hold the VIP"
ok "keepalived: A is MASTER, B BACKUP (rendered from contrib/keepalived/keepalived.conf)"

# ---- load: the client's requests to the VIP ----
# One line per request: START_MS END_MS SRC OK ROUTER SEEN_BY_ROUTER XFF
# or START_MS END_MS SRC FAIL REASON. Bounded: 90 s or 20000 requests.
T_LOAD_STOP=$T_DIR/load.stop
LOAD=$T_DIR/load.out
cat >"$T_DIR/load.py" <<'EOF'
import os, socket, sys, time
vip, stop, out = sys.argv[1], sys.argv[2], sys.argv[3]
srcs = sys.argv[4:]
ms = lambda: int(time.time() * 1000)
end = time.time() + 90
with open(out, "w", buffering=1) as f:
    n = 0
    while time.time() < end and n < 20000 and not os.path.exists(stop):
        src = srcs[n % len(srcs)]
        n += 1
        t0 = ms()
        try:
            s = socket.create_connection((vip, 80), timeout=2, source_address=(src, 0))
            s.sendall(b"GET / HTTP/1.1\r\nHost: vip\r\nConnection: close\r\n\r\n")
            got = b""
            while True:
                c = s.recv(4096)
                if not c:
                    break
                got += c
            s.close()
            head, _, body = got.partition(b"\r\n\r\n")
            words = body.decode().split()
            if not head.startswith(b"HTTP/1.1 200") or len(words) != 3:
                raise OSError("bad answer %r" % got[:40])
            f.write("%d %d %s OK %s\n" % (t0, ms(), src, " ".join(words)))
        except OSError as e:
            f.write("%d %d %s FAIL %s\n" % (t0, ms(), src, type(e).__name__))
        time.sleep(0.01)
EOF
# shellcheck disable=SC2086
start_bg load ip netns exec "$NS_C" python3 "$T_DIR/load.py" "$VIP" "$T_LOAD_STOP" "$LOAD" $SRCS
LOAD_PID=$LAST_PID

# The counts below read a snapshot of the load's complete lines (SNAP),
# taken by freeze: the load writes on meanwhile, and two counts of one
# assertion must see the same lines.
SNAP=$T_DIR/load.snap
: >"$SNAP"
freeze() { head -n "$(wc -l 2>/dev/null <"$LOAD" || echo 0)" "$LOAD" >"$SNAP" 2>/dev/null; }
# ok_since MS [SEEN_BY]: successes that started at or after MS (through that balancer).
ok_since() { awk -v t="$1" -v via="${2:-}" '$1 >= t && $4 == "OK" && (via == "" || $6 == via)' "$SNAP" | wc -l; }
fail_since() { awk -v t="$1" '$1 >= t && $4 == "FAIL"' "$SNAP" | wc -l; }
at_least() { freeze; [ "$("$@")" -ge "$N" ]; }
# wait_ok N SECONDS MS [SEEN_BY]: N successes since MS.
wait_ok() {
	local n=$1 limit=$2
	shift 2
	N=$n wait_until "$limit" "fewer than $n successful requests since $1 ${2:+through $2} ($(ok_since "$@"))" at_least ok_since "$@"
}
T0=$(now_ms)
wait_ok 60 20 "$T0" "$IP_A"
[ "$(fail_since "$T0")" -eq 0 ] || fail "requests failed before any fault: $(awk '$4 == "FAIL"' "$SNAP" | head -n 3)"
awk '$4 == "OK"' "$SNAP" | awk '$7 != $3 {bad = 1} END {exit bad}' || fail "a router saw another X-Forwarded-For than the client's address"
ok "load through A: $(ok_since "$T0") requests, 0 failed, the routers see each client's address in X-Forwarded-For"

# ---- 1. SIGKILL the master's ppbridge ----
# measure MS SEEN_BY: ms from MS to the end of the first success started since, through SEEN_BY.
first_ok_end() { awk -v t="$1" -v via="$2" '$1 >= t && $4 == "OK" && $6 == via {print $2; exit}' "$SNAP"; }
T_KILL=$(now_ms)
kill -9 "$PPB_a" || fail "kill ppbridge A"
wait_exit "$PPB_a" 10
T_DEAD=$(now_ms)
wait_ok 1 20 "$T_KILL" "$IP_B"
T_BACK=$(first_ok_end "$T_KILL" "$IP_B")
KILL_MS=$((T_BACK - T_KILL))
KILL_FAILS=$(fail_since "$T_KILL")
wait_ok 60 20 "$T_BACK" "$IP_B"
[ "$(ok_since "$T_DEAD")" -eq "$(ok_since "$T_DEAD" "$IP_B")" ] || fail "a request succeeded through A after its ppbridge was killed"
late=$(awk -v t="$T_BACK" '$1 >= t && $4 == "FAIL"' "$SNAP" | wc -l)
[ "$late" -eq 0 ] || fail "$late requests failed after the first one through B: $(awk -v t="$T_BACK" '$1 >= t && $4 == "FAIL"' "$SNAP" | head -n 3)"
[ "$KILL_MS" -lt "$BOUND_MS" ] || fail "failover after SIGKILL took ${KILL_MS} ms (bound ${BOUND_MS})"
holds_vip "$NS_A" && fail "A still holds the VIP"
grep -q 'Entering FAULT STATE' "$T_DIR/keepalived-a.log" || fail "A's keepalived did not enter FAULT"
ok "SIGKILL of A's ppbridge: requests succeed through B after ${KILL_MS} ms (bound ${BOUND_MS}); ${KILL_FAILS} failed, 0 after the switch"

# ---- 2. the same router for a client through either balancer ----
# For every source address: the router of its last success through A
# before the kill, and of its successes through B after it.
awk -v t="$T_KILL" -v a="$IP_A" -v b="$IP_B" '
	$4 == "OK" && $1 < t && $6 == a { before[$3] = $5 }
	$4 == "OK" && $1 >= t && $6 == b { if ($3 in after && after[$3] != $5) flip[$3] = 1; after[$3] = $5 }
	END {
		for (s in before) if (s in after) { n++; if (before[s] != after[s] || s in flip) { bad++; print "MOVED", s, before[s], after[s] } }
		for (s in before) routers[before[s]] = 1
		for (r in routers) nr++
		print "SAME", n - bad, n + 0, nr + 0
	}' "$SNAP" >"$T_DIR/same.out"
read -r _ SAME_N SAME_OF SAME_ROUTERS < <(grep '^SAME' "$T_DIR/same.out")
grep -q '^MOVED' "$T_DIR/same.out" && fail "a client changed router with the balancer: $(grep '^MOVED' "$T_DIR/same.out" | head -n 3)"
[ "$SAME_OF" -eq 10 ] || fail "only $SAME_OF of 10 source addresses compared"
[ "$SAME_ROUTERS" -ge 2 ] || fail "the ten sources reached $SAME_ROUTERS router(s): the hash spreads nothing"
ok "same router through A and B for $SAME_N of $SAME_OF client addresses (spread over $SAME_ROUTERS routers)"

# ---- 3. A's ppbridge back: nopreempt, A stays BACKUP ----
n_backup=$(count_lines "$T_DIR/keepalived-a.log" 'Entering BACKUP STATE')
T_RET=$(now_ms)
start_ppb_in a
wait_count "$T_DIR/keepalived-a.log" 'Entering BACKUP STATE' $((n_backup + 1)) 15
T_A_BACKUP=$(now_ms)
# Without nopreempt A (150) takes the VIP from B (100) on B's next advert,
# within a second: the load runs on for 3 s more and must not notice.
wait_ok 1 15 $((T_A_BACKUP + 3000)) "$IP_B"
RET_FAILS=$(fail_since "$T_RET")
RET_N=$(ok_since "$T_RET")
[ "$RET_FAILS" -eq 0 ] || fail "A's return cost $RET_FAILS requests: $(awk -v t="$T_RET" '$1 >= t && $4 == "FAIL"' "$SNAP" | head -n 3)"
[ "$(ok_since "$T_RET" "$IP_B")" -eq "$RET_N" ] || fail "requests went through A after its return (preempted)"
holds_vip "$NS_B" || fail "B lost the VIP when A came back"
holds_vip "$NS_A" && fail "A took the VIP back (no nopreempt)"
ok "A back (BACKUP after $((T_A_BACKUP - T_RET)) ms): the VIP stays on B, $RET_N requests through B, 0 failed"

# ---- 4. cut B's link: the VIP moves back to A ----
T_CUT=$(now_ms)
ip -n "$NS_BR" link set "p${NS_B##*-}" down || fail "cut B's link"
ip -n "$NS_B" link set eth0 down || fail "cut B's link"
wait_ok 1 20 "$T_CUT" "$IP_A"
T_UP=$(first_ok_end "$T_CUT" "$IP_A")
CUT_MS=$((T_UP - T_CUT))
CUT_FAILS=$(fail_since "$T_CUT")
wait_ok 60 20 "$T_UP" "$IP_A"
late=$(awk -v t="$T_UP" '$1 >= t && $4 == "FAIL"' "$SNAP" | wc -l)
[ "$late" -eq 0 ] || fail "$late requests failed after the first one through A: $(awk -v t="$T_UP" '$1 >= t && $4 == "FAIL"' "$SNAP" | head -n 3)"
[ "$CUT_MS" -lt "$BOUND_MS" ] || fail "failover after the link cut took ${CUT_MS} ms (bound ${BOUND_MS})"
ok "B's link cut: requests succeed through A after ${CUT_MS} ms (bound ${BOUND_MS}); ${CUT_FAILS} failed, 0 after the switch"

: >"$T_LOAD_STOP"
wait_exit "$LOAD_PID" 10
# Both ppbridge processes stop cleanly (SIGTERM), with no sanitizer report.
for pid in "$PPB_a" "$PPB_b"; do
	kill -TERM "$pid" 2>/dev/null
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || fail "ppbridge (pid $pid) exited with status $rc"
done
for f in "$T_DIR"/ppbridge-*.log; do check_sanitizers "$f"; done
t_log "measured: sigkill_failover_ms=$KILL_MS sigkill_failed=$KILL_FAILS same_router=$SAME_N/$SAME_OF return_failed=$RET_FAILS linkcut_failover_ms=$CUT_MS linkcut_failed=$CUT_FAILS"
exit 0
