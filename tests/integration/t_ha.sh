#!/bin/bash
# shellcheck disable=SC2317 # predicates are called through poll/wait_until
# Two ppbridge hosts behind keepalived (VRRP): failover, maintenance and
# the operations that span both hosts, measured.
#
# The test builds its own network out of network namespaces (root only):
# a bridge namespace joins a client, two balancers (A and B) and a router
# namespace with three real HAProxy 2.6 router stand-ins that answer with
# their name, the address they see (the balancer) and the X-Forwarded-For,
# on HTTP (80), HTTPS (443) and an L4 "API" port (6443, TLS).
# A and B run ppbridge with one configuration (the VIP bound with
# net.ipv4.ip_nonlocal_bind=1 set in each namespace; per host only its
# admin socket, state files and one ticket-key file differ, through the
# environment) and keepalived with the configuration rendered from
# contrib/keepalived/keepalived.conf, its check
# contrib/keepalived/check_ppbridge.sh run as `script_user nobody` with
# `enable_script_security`. Three load loops run from the client the whole
# time, each from ten source addresses, one connection per request:
# HTTP (xff), HTTPS (terminated, X-Forwarded-For, re-encrypted to the
# routers and verified against the test CA) and L4 (TLS passed through).
#   1. the client-IP toggle on both hosts with the runbook's loop over
#      their admin sockets;
#   2. TLS session tickets taken from A through the VIP;
#   3. SIGKILL of A's ppbridge: per protocol, the time to the first success
#      through B and the failures, bounded;
#   4. the tickets resume on B (shared tls-ticket-keys), and do not on a
#      bind whose key file differs on B;
#   5. each source address reaches the same router through A and B;
#   6. A's ppbridge back (client-IP choice read from its state file):
#      nopreempt, A stays BACKUP, nothing fails;
#   7. B's link cut: the VIP moves to A, timed and bounded the same way;
#      B's ppbridge restarts meanwhile (its state file too), B comes back;
#   8. planned maintenance of A with keep-alive clients: be-maint/dummy to
#      maint, A "leaves" (Connection: close), keepalived moves the VIP,
#      SIGUSR1; the losses are bounded by the requests in flight at the
#      move; A restarted still in maintenance (server-state-file), then
#      ready: nopreempt keeps the VIP on B, nothing fails.
# Namespaces, a missing keepalived or ip: a hard failure, never a skip.
. "$PPB_SRCDIR/tests/integration/lib.sh"

[ "$(id -u)" -eq 0 ] || hard_error "t_ha needs root (network namespaces)"
need ip keepalived
KA_DIR=$PPB_SRCDIR/contrib/keepalived
ok() { t_log "ok (${SECONDS}s): $*"; } # with the time into the test: where it goes

S=$$
NS_BR=ppbha$S-br NS_C=ppbha$S-c NS_A=ppbha$S-a NS_B=ppbha$S-b NS_R=ppbha$S-r
ALL_NS="$NS_BR $NS_C $NS_A $NS_B $NS_R"
VIP=10.99.0.100 IP_C=10.99.0.10 IP_A=10.99.0.11 IP_B=10.99.0.12
SRCS=$(seq -f '10.99.0.%g' 30 39)
PROTOS="http https l4"
# Bounds: detection is fall (2) x interval (1 s), the move one advert
# (1 s) plus the skew; a cut link 3 x advert_int plus the skew. Both well
# under 8 s; the load's own timeout (2 s) can add to the measure.
BOUND_MS=8000
# The loads pause this long between two requests (load.py, ka.py).
export PACE_MS=10

# No process left in any of our namespaces.
ns_quiet() {
	local ns
	for ns in $ALL_NS; do
		[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] || return 1
	done
}

# Every process in our namespaces (ppbridge, keepalived and its children,
# HAProxy, the load), then the namespaces, whatever state the test is in.
# shellcheck disable=SC2317 # called by the trap
ha_cleanup() {
	local ns pid
	[ -n "${T_LOAD_STOP:-}" ] && : >"$T_LOAD_STOP"
	for ns in $ALL_NS; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
	done
	poll 5 ns_quiet # then whatever is left gets SIGKILL
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
ns_of() { if [ "$1" = a ]; then echo "$NS_A"; else echo "$NS_B"; fi; }

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

# ---- certificates and ticket keys, made now ----
# One CA; one certificate (P-256: cheap handshakes for the loads) for the
# VIP's names (*.apps.test for HTTPS, api.test for L4) and the routers'
# addresses: ppbridge presents it on the VIP, the routers on 443 and 6443.
PKI=$T_DIR/pki
mkdir -p "$PKI"
ec() { echo -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes; }
# shellcheck disable=SC2046
openssl req -x509 $(ec) -days 2 -subj "/CN=t_ha CA" -keyout "$PKI/ca.key" -out "$PKI/ca.crt" \
	>/dev/null 2>&1 || fail "openssl: CA"
# shellcheck disable=SC2046
openssl req $(ec) -subj "/CN=*.apps.test" -keyout "$PKI/vip.key" -out "$PKI/vip.csr" \
	>/dev/null 2>&1 || fail "openssl: CSR"
printf 'subjectAltName=DNS:*.apps.test,DNS:api.test,IP:%s,IP:10.99.0.21,IP:10.99.0.22,IP:10.99.0.23\n' \
	"$VIP" >"$PKI/ext.cnf"
openssl x509 -req -in "$PKI/vip.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
	-days 2 -extfile "$PKI/ext.cnf" -out "$PKI/vip.crt" >/dev/null 2>&1 || fail "openssl: sign"
cat "$PKI/vip.crt" "$PKI/vip.key" >"$PKI/vip.pem"
# HAProxy's format: base64 lines of 80 bytes; the penultimate key encrypts.
for f in shared other; do
	for i in 1 2 3; do openssl rand 80 | openssl base64 -A && echo; done >"$PKI/$f.keys" ||
		fail "openssl: ticket keys"
done

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
    bind 10.99.0.2$i:443 ssl crt $PKI/vip.pem
    http-request return status 200 content-type text/plain lf-string "r$i %[src] %[req.hdr(x-forwarded-for)]\n"
frontend r$i-api
    bind 10.99.0.2$i:6443 ssl crt $PKI/vip.pem
    http-request return status 200 content-type text/plain lf-string "r$i %[src] l4\n"
CFG
	done
} >"$T_DIR/routers.cfg"
start_bg routers ip netns exec "$NS_R" haproxy -db -f "$T_DIR/routers.cfg"
for i in 1 2 3; do
	wait_until 10 "router r$i not listening" in_ns "$NS_R" curl -fs -o /dev/null --max-time 1 "http://10.99.0.2$i/"
	for p in 443 6443; do
		wait_until 10 "router r$i not listening on $p" in_ns "$NS_R" bash -c "exec 3<>/dev/tcp/10.99.0.2$i/$p"
	done
done

# ---- ppbridge: one configuration for both balancers ----
# Per host (environment): HOST_DIR holds its admin socket and state files;
# TKEYS_8443 is the ticket-key file of the second HTTPS bind, the shared
# one on A and another on B (the negative case of the resumption).
cat >"$T_DIR/ppb.cfg" <<CFG
global
    stats socket "\${HOST_DIR}/admin.sock" mode 600 level admin
    client-ip-state "\${HOST_DIR}/client-ip.state"
    server-state-file "\${HOST_DIR}/server.state"
    hard-stop-after 1s
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
frontend apps-https
    bind $VIP:443 ssl crt $PKI/vip.pem tls-ticket-keys $PKI/shared.keys
    bind $VIP:8443 ssl crt $PKI/vip.pem tls-ticket-keys "\${TKEYS_8443}"
    option forwardfor
    default_backend routers-https
frontend api
    mode tcp
    bind $VIP:6443
    default_backend api
backend routers
    balance source
    server r1 10.99.0.21:80 check inter 1s
    server r2 10.99.0.22:80 check inter 1s
    server r3 10.99.0.23:80 check inter 1s
backend routers-https
    balance source
    server r1 10.99.0.21:443 ssl verify required ca-file $PKI/ca.crt check inter 1s
    server r2 10.99.0.22:443 ssl verify required ca-file $PKI/ca.crt check inter 1s
    server r3 10.99.0.23:443 ssl verify required ca-file $PKI/ca.crt check inter 1s
backend api
    mode tcp
    balance source
    server r1 10.99.0.21:6443 check inter 1s
    server r2 10.99.0.22:6443 check inter 1s
    server r3 10.99.0.23:6443 check inter 1s
# Planned maintenance: the operator sets dummy to maint. No check: nothing
# ever connects to it, it stays UP until then; its maint survives a
# restart (server-state-file) until the operator sets it ready.
backend be-maint
    load-server-state-from-file global
    server dummy 127.0.0.1:1
listen stats
    bind 127.0.0.1:8404
    monitor-uri /healthz
    monitor fail if { nbsrv(routers) lt 1 }
    monitor fail if { nbsrv(be-maint) lt 1 }
CFG
HOST_DIR=$T_DIR/host-a TKEYS_8443=$PKI/shared.keys "$PPB_BIN" -c -f "$T_DIR/ppb.cfg" >"$T_DIR/check.log" 2>&1 ||
	fail "ppbridge -c: $(cat "$T_DIR/check.log")"
mkdir -p "$T_DIR/host-a" "$T_DIR/host-b"
sock() { echo "$T_DIR/host-$1/admin.sock"; }
ctl() { "$PPB_BIN" ctl "$(sock "$1")" "${@:2}"; } # a|b COMMAND...
healthy() { in_ns "$1" "$KA_DIR/check_ppbridge.sh" 8404 /healthz 2>/dev/null; }
# start_ppb_in a|b [nowait]: by default wait until its monitor-uri says 200.
start_ppb_in() {
	local ns keys=$PKI/shared.keys
	ns=$(ns_of "$1")
	[ "$1" = b ] && keys=$PKI/other.keys
	rm -f "$(sock "$1")"
	local name
	name=ppbridge-$1-$(now_ms)
	start_bg "$name" env HOST_DIR="$T_DIR/host-$1" TKEYS_8443="$keys" \
		ip netns exec "$ns" "$PPB_BIN" -f "$T_DIR/ppb.cfg" -d
	if [ "$1" = a ]; then
		PPB_a=$LAST_PID LOG_a=$T_DIR/$name.log
	else
		PPB_b=$LAST_PID
	fi
	wait_file "$(sock "$1")" 15
	[ "${2:-}" = nowait ] || wait_until 15 "ppbridge in $ns: /healthz not 200" healthy "$ns"
}
# stop_ppb_in PID: SIGTERM, a clean exit.
stop_ppb_in() {
	local rc=0
	kill -TERM "$1" 2>/dev/null
	wait "$1" || rc=$?
	[ "$rc" -eq 0 ] || fail "ppbridge (pid $1) exited with status $rc"
}
start_ppb_in a nowait
start_ppb_in b
wait_until 15 "ppbridge in $NS_A: /healthz not 200" healthy "$NS_A"

# ---- keepalived, rendered from contrib/keepalived/keepalived.conf ----
# The check runs as nobody with enable_script_security, as in production.
# keepalived (2.2.7 measured) disables a script it would run as root when
# a non-root user could change it or a directory above it; as nobody it
# runs it, but nobody must be able to reach it: $T_DIR is 700 (mktemp).
# The test runs a copy as the README installs it: owned by root, mode 755,
# in a root-owned 755 directory, with $T_DIR opened to traversal (711).
KA_BIN=$T_DIR/ka-bin
chmod 711 "$T_DIR"
install -d -m 755 -o root -g root "$KA_BIN"
install -m 755 -o root -g root "$KA_DIR/check_ppbridge.sh" "$KA_BIN/check_ppbridge.sh"
render() { # a|b: the host's keepalived.conf
	local host=$1 host_b='s/^$//'
	# Host B: the value after "# host B:" replaces the one before it.
	[ "$host" = b ] && host_b='s/^([[:space:]]*)((.*[[:space:]])?)[^[:space:]]+[[:space:]]*# host B: (.*)$/\1\2\4/'
	sed -E -e "$host_b" \
		-e 's/<iface>/eth0/g' -e "s/<host_a_ip>/$IP_A/g" -e "s/<host_b_ip>/$IP_B/g" \
		-e 's/<vrrp_password>/t_ha/g' \
		-e "s/x\.x\.x\.1/$VIP/g" -e 's/x\.x\.x\.2/10.99.0.101/g' -e 's/x\.x\.x\.3/10.99.0.102/g' \
		-e "s|/usr/local/sbin/check_ppbridge.sh|$KA_BIN/check_ppbridge.sh|" \
		-e 's/^([[:space:]]*interval) 2$/\1 1/' \
		"$KA_DIR/keepalived.conf" >"$T_DIR/keepalived-$host.conf"
	grep -Eq '<|x\.x\.x' "$T_DIR/keepalived-$host.conf" && fail "placeholder left in keepalived-$host.conf"
	grep -q '^[[:space:]]*nopreempt' "$T_DIR/keepalived-$host.conf" || fail "keepalived.conf has no nopreempt"
	grep -q '^[[:space:]]*interval 1$' "$T_DIR/keepalived-$host.conf" || fail "interval not rendered"
	grep -q '^[[:space:]]*script_user nobody$' "$T_DIR/keepalived-$host.conf" || fail "keepalived.conf: no script_user nobody"
	grep -q '^[[:space:]]*enable_script_security$' "$T_DIR/keepalived-$host.conf" || fail "keepalived.conf: no enable_script_security"
	return 0
}
render a
render b
grep -q 'priority 100' "$T_DIR/keepalived-b.conf" || fail "host B's priority not rendered"
grep -q "unicast_src_ip $IP_B" "$T_DIR/keepalived-b.conf" || fail "host B's unicast_src_ip not rendered"
# As nobody, the copy runs and answers (what keepalived will do).
in_ns "$NS_A" setpriv --reuid=nobody --regid=nogroup --clear-groups "$KA_BIN/check_ppbridge.sh" 8404 /healthz ||
	fail "check_ppbridge.sh does not succeed as nobody"
start_ka() { # a|b
	local ns
	ns=$(ns_of "$1")
	mkdir -p "$T_DIR/run-$1"
	start_bg "keepalived-$1" ip netns exec "$ns" keepalived -n -l -G -D -P \
		-f "$T_DIR/keepalived-$1.conf" -p "$T_DIR/run-$1/keepalived.pid" \
		-r "$T_DIR/run-$1/vrrp.pid" -c "$T_DIR/run-$1/checkers.pid"
}
holds_vip() { ip -n "$1" -4 addr show dev eth0 | grep -q " $VIP/"; }
start_ka a
wait_until 20 "A never took the VIP" holds_vip "$NS_A"

# ---- load: the client's requests to the VIP, three protocols ----
# One line per request: START_MS END_MS SRC OK ROUTER SEEN_BY_ROUTER XFF
# or START_MS END_MS SRC FAIL REASON. One connection per request, the
# requests of one loop one after the other (PACE_MS apart): at most one
# is open at any time. Bounded: 90 s or 20000 requests, or the stop file.
T_LOAD_STOP=$T_DIR/load.stop
cat >"$T_DIR/load.py" <<'EOF'
import os, socket, ssl, sys, time
proto, vip, stop, out, ca = sys.argv[1:6]
srcs = sys.argv[6:]
port = {"http": 80, "https": 443, "l4": 6443}[proto]
name = "api.test" if proto == "l4" else "www.apps.test"
ctx = ssl.create_default_context(cafile=ca) if proto != "http" else None
ms = lambda: int(time.time() * 1000)
end = time.time() + 90
with open(out, "w", buffering=1) as f:
    n = 0
    while time.time() < end and n < 20000 and not os.path.exists(stop):
        src = srcs[n % len(srcs)]
        n += 1
        t0 = ms()
        try:
            s = socket.create_connection((vip, port), timeout=2, source_address=(src, 0))
            if ctx:
                s = ctx.wrap_socket(s, server_hostname=name)
            s.sendall(b"GET / HTTP/1.1\r\nHost: " + name.encode() + b"\r\nConnection: close\r\n\r\n")
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
        except (OSError, ValueError) as e:
            f.write("%d %d %s FAIL %s\n" % (t0, ms(), src, type(e).__name__))
        time.sleep(int(os.environ["PACE_MS"]) / 1000)
EOF
T0=$(now_ms)
LOAD_PIDS=""
for p in $PROTOS; do
	: >"$T_DIR/$p.out"
	# shellcheck disable=SC2086
	start_bg "load-$p" ip netns exec "$NS_C" python3 "$T_DIR/load.py" "$p" "$VIP" "$T_LOAD_STOP" \
		"$T_DIR/$p.out" "$PKI/ca.crt" $SRCS
	LOAD_PIDS="$LOAD_PIDS $LAST_PID"
done
# B's keepalived starts while the loads warm up (A holds the VIP already).
start_ka b
wait_log "$T_DIR/keepalived-b.log" 'Entering BACKUP STATE' 15
holds_vip "$NS_B" && fail "both hold the VIP"
# A script keepalived finds insecure is disabled, and the instance then
# ignores the check: the failovers below would not happen.
KA_REFUSED='unsafe permissions|insecure|SECURITY VIOLATION|cannot be executed|disabling track script'
grep -Eiq "$KA_REFUSED" "$T_DIR"/keepalived-*.log &&
	fail "keepalived refused the check script: $(grep -Ehi "$KA_REFUSED" "$T_DIR"/keepalived-*.log | head -n 3)"
ok "keepalived: A is MASTER, B BACKUP (rendered from contrib/keepalived/keepalived.conf, check as nobody with enable_script_security)"

# The counts below read snapshots of the loads' complete lines
# ($T_DIR/<load>.snap), taken by freeze: the loads write on meanwhile, and
# two counts of one assertion must see the same lines.
freeze() {
	local f
	for f in "$T_DIR"/*.out; do
		[ -f "$f" ] || continue
		head -n "$(wc -l 2>/dev/null <"$f" || echo 0)" "$f" >"${f%.out}.snap" 2>/dev/null
	done
}
snap() { echo "$T_DIR/$1.snap"; }
# ok_since LOAD MS [SEEN_BY]: successes that started at or after MS (through that balancer).
ok_since() { awk -v t="$2" -v via="${3:-}" '$1 >= t && $4 == "OK" && (via == "" || $6 == via)' "$(snap "$1")" | wc -l; }
fail_since() { awk -v t="$2" '$1 >= t && $4 == "FAIL"' "$(snap "$1")" | wc -l; }
fails_shown() { awk -v t="$2" '$1 >= t && $4 == "FAIL"' "$(snap "$1")" | head -n 3 | tr '\n' ';'; }
at_least() { freeze; [ "$("$@")" -ge "$N" ]; }
# wait_ok N SECONDS LOAD MS [SEEN_BY]: N successes of that load since MS.
wait_ok() {
	local n=$1 limit=$2
	shift 2
	freeze
	N=$n wait_until "$limit" "fewer than $n successful $1 requests since $2 ${3:+through $3} ($(ok_since "$@"))" at_least ok_since "$@"
}
# wait_all_ok N SECONDS MS [SEEN_BY]: the same for every protocol.
wait_all_ok() {
	local p
	for p in $PROTOS; do wait_ok "$1" "$2" "$p" "${@:3}"; done
}
# no_fail_since MS WHAT: not one failed request of any protocol since MS.
no_fail_since() {
	local p
	freeze
	for p in $PROTOS; do
		[ "$(fail_since "$p" "$1")" -eq 0 ] || fail "$2: $p requests failed: $(fails_shown "$p" "$1")"
	done
}
wait_all_ok 20 20 "$T0" "$IP_A"
no_fail_since "$T0" "before any fault"
for p in http https; do
	awk '$4 == "OK" && $7 != $3 {bad = 1} END {exit bad}' "$(snap "$p")" ||
		fail "a router saw another X-Forwarded-For than the client's address ($p)"
done
ok "load through A: $(for p in $PROTOS; do printf '%s %s, ' "$p" "$(ok_since "$p" "$T0")"; done)0 failed; the routers see each client's address in X-Forwarded-For (http, https)"

# ---- 1. client-ip on both hosts, the runbook's loop ----
# contrib/keepalived/README.md: for h in host-a host-b; do ssh "$h" sudo
# ppbridge ctl /run/ppbridge/admin.sock set frontend ...; done. Here the
# hosts are two admin sockets, the loop the same.
for h in a b; do
	out=$(ctl "$h" set frontend apps client-ip auto) || fail "host $h: set frontend: $out"
done
for h in a b; do
	line=$(ctl "$h" show frontends | awk '$1 == "apps"')
	[ "$(echo "$line" | awk '{print $5, $6}')" = "auto runtime" ] || fail "host $h: show frontends: $line"
	line=$(ctl "$h" show client-ip | awk '$1 == "apps"')
	[ "$(echo "$line" | awk '{print $2}')" = auto ] || fail "host $h: show client-ip: $line"
	wait_until 5 "host $h: no 'apps auto' in its client-ip-state file" grep -q '^apps auto' "$T_DIR/host-$h/client-ip.state"
done
ok "client-ip: one loop over both admin sockets; both hosts report apps auto (show frontends: runtime; show client-ip) and keep it in their client-ip-state file"

# ---- 2. TLS session tickets from A, through the VIP ----
# s_client -ign_eof reads until ppbridge closes (Connection: close): the
# tickets that follow the handshake are in before it saves the session.
N_TICKETS=6
s_client() { # PORT [OPENSSL ARGS...]: the "New,"/"Reused," word and who answered
	printf 'GET / HTTP/1.1\r\nHost: www.apps.test\r\nConnection: close\r\n\r\n' |
		in_ns "$NS_C" timeout 10 openssl s_client -ign_eof -connect "$VIP:$1" -servername www.apps.test \
			-CAfile "$PKI/ca.crt" -verify_return_error "${@:2}" 2>/dev/null |
		awk '/^(New|Reused),/ {sub(",", "", $1); w = $1} /^r[1-3] 10\.99\.0\./ {by = $2} END {print w, by}'
}
# s_clients PHASE OPENSSL_SESS_OPTION: every ticket on both ports at once
# (s_client is slow to start, ppbridge is not), answers in $T_DIR/PHASE-PORT-I.
s_clients() {
	local i port pids=""
	for i in $(seq 1 "$N_TICKETS"); do
		for port in 443 8443; do
			s_client "$port" "$2" "$T_DIR/t$port-$i.sess" >"$T_DIR/$1-$port-$i" &
			pids="$pids $!"
		done
	done
	# shellcheck disable=SC2086
	wait $pids
}
s_clients take -sess_out
for i in $(seq 1 "$N_TICKETS"); do
	for port in 443 8443; do
		got=$(cat "$T_DIR/take-$port-$i")
		[ "$got" = "New $IP_A" ] || fail "ticket $i from A on $port: '$got'"
	done
done
ok "TLS: $N_TICKETS sessions (tickets) from A through the VIP on 443 and 8443"

# ---- 3. SIGKILL the master's ppbridge ----
# first_ok_end LOAD MS SEEN_BY: the end of the first success started since MS through SEEN_BY.
first_ok_end() { awk -v t="$2" -v via="$3" '$1 >= t && $4 == "OK" && $6 == via {print $2; exit}' "$(snap "$1")"; }
# judge_failover WHAT T_FAULT NEW_HOLDER OUT: per protocol, the time from
# the fault to the first success through the new holder (bounded), and the
# failures. What may fail is (a) the request open at the fault (a loop has
# one request open at a time: at most 1) and (b) the requests started in
# the window between the fault and that first success (refused by the old
# holder, or lost in a cut link). So the bound: failures <= 1 + the
# requests started in the window (counted from the load's log); and none
# may fail after the first success (an unstable new holder). The window
# itself is bounded by BOUND_MS. Writes "proto ms failed window" lines to OUT.
judge_failover() {
	local what=$1 t=$2 via=$3 out=$4 p back ms fails open inwin late
	: >"$out"
	for p in $PROTOS; do wait_ok 1 20 "$p" "$t" "$via"; done
	for p in $PROTOS; do
		back=$(first_ok_end "$p" "$t" "$via")
		wait_ok 5 20 "$p" "$back" "$via"
		ms=$((back - t))
		fails=$(fail_since "$p" "$t")
		open=$(awk -v t="$t" '$1 < t && $2 >= t && $4 == "FAIL"' "$(snap "$p")" | wc -l)
		fails=$((fails + open))
		inwin=$(awk -v t="$t" -v b="$back" '$1 >= t && $1 < b' "$(snap "$p")" | wc -l)
		late=$(awk -v b="$back" '$1 >= b && $4 == "FAIL"' "$(snap "$p")" | wc -l)
		[ "$late" -eq 0 ] || fail "$what: $late $p requests failed after the first one through $via: $(fails_shown "$p" "$back")"
		[ "$open" -le 1 ] || fail "$what: $open $p requests open at the fault failed (a loop has one open)"
		[ "$fails" -le $((1 + inwin)) ] || fail "$what: $fails $p requests failed, more than 1 + the $inwin started in the window"
		[ "$ms" -lt "$BOUND_MS" ] || fail "$what: $p back after ${ms} ms (bound ${BOUND_MS})"
		echo "$p $ms $fails $inwin" >>"$out"
	done
}
# said FILE: "http 2400 ms (98 failed of 99 in the window), ..."
said() { awk '{printf "%s%s %s ms (%s failed of %s in the window)", (NR > 1 ? ", " : ""), $1, $2, $3, $4}' "$1"; }
T_KILL=$(now_ms)
disown "$PPB_a" # no "Killed" line from the shell; wait_exit reads /proc
kill -9 "$PPB_a" || fail "kill ppbridge A"
wait_exit "$PPB_a" 10
T_DEAD=$(now_ms)
judge_failover "SIGKILL" "$T_KILL" "$IP_B" "$T_DIR/kill.res"
freeze
for p in $PROTOS; do
	[ "$(ok_since "$p" "$T_DEAD")" -eq "$(ok_since "$p" "$T_DEAD" "$IP_B")" ] ||
		fail "a $p request succeeded through A after its ppbridge was killed"
done
holds_vip "$NS_A" && fail "A still holds the VIP"
grep -q 'Entering FAULT STATE' "$T_DIR/keepalived-a.log" || fail "A's keepalived did not enter FAULT"
ok "SIGKILL of A's ppbridge: requests succeed through B after $(said "$T_DIR/kill.res"); bound ${BOUND_MS} ms, 0 after the switch"

# ---- 4. the tickets resume on B ----
# The 443 bind has the same tls-ticket-keys file on both hosts: every
# ticket A issued resumes on B. The 8443 bind's file differs on B: none
# does (a full handshake, "New").
s_clients resume -sess_in
RESUMED=0 NOT_RESUMED=0
for i in $(seq 1 "$N_TICKETS"); do
	got=$(cat "$T_DIR/resume-443-$i")
	case $got in
	"Reused $IP_B") RESUMED=$((RESUMED + 1)) ;;
	"New $IP_B") ;;
	*) fail "resumption $i on B (443): '$got'" ;;
	esac
	got=$(cat "$T_DIR/resume-8443-$i")
	case $got in
	"New $IP_B") NOT_RESUMED=$((NOT_RESUMED + 1)) ;;
	"Reused $IP_B") ;;
	*) fail "resumption $i on B (8443): '$got'" ;;
	esac
done
[ "$RESUMED" -eq "$N_TICKETS" ] || fail "only $RESUMED of $N_TICKETS tickets from A resumed on B with the shared tls-ticket-keys"
[ "$NOT_RESUMED" -eq "$N_TICKETS" ] || fail "$((N_TICKETS - NOT_RESUMED)) of $N_TICKETS tickets from A resumed on B with another key file"
ok "TLS resumption across hosts: $RESUMED of $N_TICKETS tickets from A resumed on B (shared tls-ticket-keys), 0 of $N_TICKETS with a different key file on B"

# ---- 5. the same router for a client through either balancer ----
# For every source address and protocol: the router of its last success
# through A before the kill, and of its successes through B after it.
for p in $PROTOS; do
	awk -v t="$T_KILL" -v a="$IP_A" -v b="$IP_B" '
		$4 == "OK" && $1 < t && $6 == a { before[$3] = $5 }
		$4 == "OK" && $1 >= t && $6 == b { if ($3 in after && after[$3] != $5) flip[$3] = 1; after[$3] = $5 }
		END {
			for (s in before) if (s in after) { n++; if (before[s] != after[s] || s in flip) { bad++; print "MOVED", s, before[s], after[s] } }
			for (s in before) routers[before[s]] = 1
			for (r in routers) nr++
			print "SAME", n - bad, n + 0, nr + 0
		}' "$(snap "$p")" >"$T_DIR/same-$p.txt"
	read -r _ SAME_N SAME_OF SAME_ROUTERS < <(grep '^SAME' "$T_DIR/same-$p.txt")
	grep -q '^MOVED' "$T_DIR/same-$p.txt" && fail "a $p client changed router with the balancer: $(grep '^MOVED' "$T_DIR/same-$p.txt" | head -n 3)"
	[ "$SAME_OF" -eq 10 ] || fail "$p: only $SAME_OF of 10 source addresses compared"
	[ "$SAME_ROUTERS" -ge 2 ] || fail "$p: the ten sources reached $SAME_ROUTERS router(s): the hash spreads nothing"
	SAME="${SAME:+$SAME, }$p $SAME_N/$SAME_OF over $SAME_ROUTERS routers"
done
ok "same router through A and B per client address: $SAME"

# ---- 6. A's ppbridge back: nopreempt, A stays BACKUP ----
n_backup=$(count_lines "$T_DIR/keepalived-a.log" 'Entering BACKUP STATE')
T_RET=$(now_ms)
start_ppb_in a
line=$(ctl a show frontends | awk '$1 == "apps"')
[ "$(echo "$line" | awk '{print $5, $6}')" = "auto state-file" ] || fail "A after its restart: $line"
wait_count "$T_DIR/keepalived-a.log" 'Entering BACKUP STATE' $((n_backup + 1)) 15
T_A_BACKUP=$(now_ms)
# Without nopreempt A (150) takes the VIP from B (100) on B's next advert,
# within a second: the load runs on for 2 s more (two adverts of B) and
# must not notice.
wait_all_ok 1 15 $((T_A_BACKUP + 2000)) "$IP_B"
no_fail_since "$T_RET" "A's return"
RET_N=0
for p in $PROTOS; do
	[ "$(ok_since "$p" "$T_RET" "$IP_B")" -eq "$(ok_since "$p" "$T_RET")" ] || fail "$p requests went through A after its return (preempted)"
	RET_N=$((RET_N + $(ok_since "$p" "$T_RET")))
done
holds_vip "$NS_B" || fail "B lost the VIP when A came back"
holds_vip "$NS_A" && fail "A took the VIP back (no nopreempt)"
ok "A back (BACKUP after $((T_A_BACKUP - T_RET)) ms, client-ip apps auto from its state file): the VIP stays on B, $RET_N requests through B, 0 failed"

# ---- 7. cut B's link: the VIP moves back to A ----
n_fault_b=$(count_lines "$T_DIR/keepalived-b.log" 'Entering FAULT STATE')
T_CUT=$(now_ms)
ip -n "$NS_BR" link set "p${NS_B##*-}" down || fail "cut B's link"
ip -n "$NS_B" link set eth0 down || fail "cut B's link"
judge_failover "link cut" "$T_CUT" "$IP_A" "$T_DIR/cut.res"
ok "B's link cut: requests succeed through A after $(said "$T_DIR/cut.res"); bound ${BOUND_MS} ms, 0 after the switch"
# While B is cut off, restart its ppbridge: its client-ip-state file
# brings the runtime choice back there too.
stop_ppb_in "$PPB_b"
start_ppb_in b nowait # cut off, it sees no router: its monitor-uri fails
line=$(ctl b show frontends | awk '$1 == "apps"')
[ "$(echo "$line" | awk '{print $5, $6}')" = "auto state-file" ] || fail "B after its restart: $line"
ok "B's ppbridge restarted: client-ip apps auto from its state file"
# B's link back: its instance (FAULT while eth0 was down) returns as
# BACKUP; A keeps the VIP and nothing fails.
wait_count "$T_DIR/keepalived-b.log" 'Entering FAULT STATE' $((n_fault_b + 1)) 10
n_backup_b=$(count_lines "$T_DIR/keepalived-b.log" 'Entering BACKUP STATE')
T_LINK=$(now_ms)
ip -n "$NS_B" link set eth0 up || fail "B's link up"
ip -n "$NS_BR" link set "p${NS_B##*-}" up || fail "B's link up"

# ---- 8. planned maintenance of A ----
# Keep-alive clients (six, each one connection at a time, a request every
# PACE_MS, through the VIP: four HTTP, two HTTPS). One line per response:
# START END SRC OK ROUTER SEEN XFF close|keep PROTO N (N: its rank on its
# connection), or START END SRC FAIL REASON PROTO. A response with
# Connection: close ends the connection; the next request opens another.
# A reused connection that the server closed before any byte of the
# answer is retried once on a new one (RETRY line), as HTTP clients do
# with an idempotent request (RFC 9112, 9.3.1).
cat >"$T_DIR/ka.py" <<'EOF'
import os, socket, ssl, sys, threading, time
vip, stop, out, ca = sys.argv[1:5]
clients = [a.split(":") for a in sys.argv[5:]]  # proto:src
ms = lambda: int(time.time() * 1000)
end = time.time() + 90
lock = threading.Lock()
left = [20000]
f = open(out, "w", buffering=1)

def emit(line):
    with lock:
        f.write(line + "\n")

def answer(s):
    got = b""
    while b"\r\n\r\n" not in got:
        c = s.recv(4096)
        if not c:
            raise EOFError(len(got))
        got += c
    head, _, body = got.partition(b"\r\n\r\n")
    fields = dict(l.split(b":", 1) for l in head.split(b"\r\n")[1:])
    fields = {k.strip().lower(): v.strip().lower() for k, v in fields.items()}
    n = int(fields[b"content-length"])
    while len(body) < n:
        c = s.recv(4096)
        if not c:
            raise EOFError(1)
        body += c
    return head, fields, body

def client(proto, src):
    port = 80 if proto == "http" else 443
    ctx = ssl.create_default_context(cafile=ca) if proto == "https" else None
    s, rank = None, 0
    while time.time() < end and not os.path.exists(stop):
        with lock:
            if left[0] <= 0:
                break
            left[0] -= 1
        t0 = ms()
        for attempt in (1, 2):
            reused = s is not None
            try:
                if s is None:
                    s = socket.create_connection((vip, port), timeout=2, source_address=(src, 0))
                    if ctx:
                        s = ctx.wrap_socket(s, server_hostname="www.apps.test")
                    rank = 0
                s.sendall(b"GET / HTTP/1.1\r\nHost: www.apps.test\r\n\r\n")
                head, fields, body = answer(s)
                rank += 1
                words = body.decode().split()
                if not head.startswith(b"HTTP/1.1 200") or len(words) != 3:
                    raise OSError("bad answer %r" % head[:40])
                close = fields.get(b"connection") == b"close"
                emit("%d %d %s OK %s %s %s %d" % (t0, ms(), src, " ".join(words),
                                                  "close" if close else "keep", proto, rank))
                if close:
                    s.close()
                    s = None
                break
            except (OSError, ValueError, EOFError) as e:
                if s:
                    s.close()
                s = None
                if attempt == 1 and reused and isinstance(e, EOFError) and e.args[0] == 0:
                    emit("%d %d %s RETRY closed-idle %s" % (t0, ms(), src, proto))
                    continue
                emit("%d %d %s FAIL %s %s" % (t0, ms(), src, type(e).__name__, proto))
                break
        time.sleep(int(os.environ["PACE_MS"]) / 1000)

threads = [threading.Thread(target=client, args=c) for c in clients]
for t in threads:
    t.start()
for t in threads:
    t.join()
EOF
: >"$T_DIR/ka.out"
KA_CLIENTS="http:10.99.0.30 http:10.99.0.31 http:10.99.0.32 http:10.99.0.33 https:10.99.0.34 https:10.99.0.35"
K=6
# shellcheck disable=SC2086
start_bg ka ip netns exec "$NS_C" python3 "$T_DIR/ka.py" "$VIP" "$T_LOAD_STOP" "$T_DIR/ka.out" "$PKI/ca.crt" $KA_CLIENTS
LOAD_PIDS="$LOAD_PIDS $LAST_PID"
# (While they start, B comes back from its link cut: BACKUP, the VIP
# stays on A, nothing fails.)
wait_until 15 "B's ppbridge: /healthz not 200 after its link came back" healthy "$NS_B"
wait_count "$T_DIR/keepalived-b.log" 'Entering BACKUP STATE' $((n_backup_b + 1)) 15
wait_all_ok 10 15 "$(now_ms)" "$IP_A"
no_fail_since "$T_LINK" "B's return"
holds_vip "$NS_B" && fail "B took the VIP when its link came back"
ok "B back (BACKUP): the VIP stays on A, 0 failed"
# Keep-alive works before: every client's connection carries requests.
ka_reused() { freeze; [ "$(awk -v a="$IP_A" '$4 == "OK" && $6 == a && $8 == "keep" && $10 >= 5 {print $3}' "$(snap ka)" | sort -u | wc -l)" -ge "$K" ]; }
wait_until 20 "not every keep-alive client had 5 requests on one connection through A" ka_reused
[ "$(awk '$4 == "OK" && $8 == "close"' "$(snap ka)" | wc -l)" -eq 0 ] || fail "Connection: close before the maintenance"
[ "$(fail_since ka 0)" -eq 0 ] || fail "keep-alive requests failed before the maintenance: $(fails_shown ka 0)"
n_fault_a=$(count_lines "$T_DIR/keepalived-a.log" 'Entering FAULT STATE')
# The procedure (contrib/keepalived/README.md): on A, which holds the VIP.
T_MAINT=$(now_ms)
out=$(ctl a set server be-maint/dummy state maint) || fail "set server be-maint/dummy state maint: $out"
wait_log "$LOG_a" 'monitor fail holds: keep-alive clients are closed after their current response' 5
ctl a show info | grep -qx 'Leaving: 1' || fail "show info on A: no 'Leaving: 1'"
healthy "$NS_A" && fail "A's monitor-uri still 200 with be-maint/dummy in maint"
# Every keep-alive client is told to leave (Connection: close) by A.
ka_told() { freeze; [ "$(awk -v t="$T_MAINT" -v a="$IP_A" '$1 >= t && $4 == "OK" && $6 == a && $8 == "close" {print $3}' "$(snap ka)" | sort -u | wc -l)" -ge "$K" ]; }
wait_until 5 "not every keep-alive client got Connection: close from A" ka_told
T_LEAVING=$(log_ms "$LOG_a" 'monitor fail holds')
# When the last of them had its first such response.
T_TOLD=$(awk -v t="$T_MAINT" -v a="$IP_A" '$1 >= t && $4 == "OK" && $6 == a && $8 == "close" && !($3 in seen) {seen[$3] = $2} END {for (s in seen) if (seen[s] > m) m = seen[s]; print m}' "$(snap ka)")
# keepalived's check fails (fall 2 x interval 1 s): A to FAULT, B takes the VIP.
wait_until 15 "B did not take the VIP after A's maintenance began" holds_vip "$NS_B"
T_MOVED=$(now_ms)
wait_count "$T_DIR/keepalived-a.log" 'Entering FAULT STATE' $((n_fault_a + 1)) 5
# Every client, keep-alive or not, has had a success through B since: the
# request each had in flight at the move is over (one at a time), its
# failure in the log before the count below.
wait_all_ok 1 15 "$T_MOVED" "$IP_B"
ka_all_on_b() { freeze; [ "$(awk -v t="$T_MOVED" -v b="$IP_B" '$1 >= t && $4 == "OK" && $6 == b {print $3}' "$(snap ka)" | sort -u | wc -l)" -ge "$K" ]; }
wait_until 15 "not every keep-alive client had a success through B" ka_all_on_b
# Then A drains (SIGUSR1): what it still holds finishes or is cut at
# hard-stop-after; the VIP is gone already.
T_USR1=$(now_ms)
kill -USR1 "$PPB_a" || fail "SIGUSR1 to A"
rc=0
wait_exit "$PPB_a" 10
wait "$PPB_a" || rc=$?
[ "$rc" -eq 0 ] || fail "A's ppbridge exited with status $rc after SIGUSR1"
T_STOPPED=$(now_ms)
freeze
# What was lost: the requests in flight when A gave the VIP up (their
# answers cannot leave A any more: the client waits until its timeout;
# the next packet of such a connection reaches B, which resets it). Each
# keep-alive client has at most one in flight: at most K; each
# one-request-per-connection loop at most 1. What A told to close before
# the move is not lost: without it, every keep-alive connection still open
# on A would fail at its next request on B.
KA_FAILS=$(fail_since ka "$T_MAINT")
KA_OK=$(ok_since ka "$T_MAINT")
KA_CLOSE=$(awk -v t="$T_MAINT" -v a="$IP_A" '$1 >= t && $4 == "OK" && $6 == a && $8 == "close"' "$(snap ka)" | wc -l)
KA_RETRY=$(awk -v t="$T_MAINT" '$1 >= t && $4 == "RETRY"' "$(snap ka)" | wc -l)
[ "$KA_FAILS" -le "$K" ] || fail "maintenance: $KA_FAILS keep-alive requests failed, more than the $K that can be in flight at the move: $(fails_shown ka "$T_MAINT")"
MAINT_LOSS=""
for p in $PROTOS; do
	n=$(fail_since "$p" "$T_MAINT")
	[ "$n" -le 1 ] || fail "maintenance: $n $p requests failed, more than the 1 in flight at the move: $(fails_shown "$p" "$T_MAINT")"
	MAINT_LOSS="${MAINT_LOSS:+$MAINT_LOSS, }$p $n"
done
grep -q 'SIGUSR1: soft-stop' "$LOG_a" || fail "A did not soft-stop"
ok "maintenance of A: leaving $((T_LEAVING - T_MAINT)) ms after the command, all $K keep-alive clients told (Connection: close) within $((T_TOLD - T_LEAVING)) ms of that ($KA_CLOSE such responses, $KA_RETRY idle closes retried), VIP on B after $((T_MOVED - T_MAINT)) ms, A exited $((T_STOPPED - T_USR1)) ms after SIGUSR1; lost: keep-alive $KA_FAILS of $KA_OK (bound $K), $MAINT_LOSS (bound 1 each)"

# A comes back still in maintenance (server-state-file): its check fails,
# it stays out. The operator sets dummy ready: A is BACKUP and, with
# nopreempt, the VIP stays on B; nothing fails.
start_ppb_in a nowait
ctl a show servers state be-maint | grep -q 'dummy' || fail "A: no be-maint/dummy in show servers state"
healthy "$NS_A" && fail "A restarted out of maintenance: its state file did not keep be-maint/dummy in maint"
n_backup=$(count_lines "$T_DIR/keepalived-a.log" 'Entering BACKUP STATE')
T_READY=$(now_ms)
out=$(ctl a set server be-maint/dummy state ready) || fail "set server be-maint/dummy state ready: $out"
wait_log "$LOG_a" 'monitor fail no longer holds' 5
wait_count "$T_DIR/keepalived-a.log" 'Entering BACKUP STATE' $((n_backup + 1)) 15
T_A_BACKUP=$(now_ms)
wait_all_ok 1 15 $((T_A_BACKUP + 2000)) "$IP_B"
no_fail_since "$T_READY" "A's return from maintenance"
[ "$(fail_since ka "$T_READY")" -eq 0 ] || fail "A's return from maintenance: keep-alive requests failed: $(fails_shown ka "$T_READY")"
holds_vip "$NS_A" && fail "A took the VIP back after its maintenance (no nopreempt)"
holds_vip "$NS_B" || fail "B lost the VIP when A came back from maintenance"
ok "A out of maintenance (ready): BACKUP after $((T_A_BACKUP - T_READY)) ms, the VIP stays on B, 0 failed"

: >"$T_LOAD_STOP"
for pid in $LOAD_PIDS; do wait_exit "$pid" 10; done
# Both ppbridge processes stop cleanly (SIGTERM), with no sanitizer report.
stop_ppb_in "$PPB_a"
stop_ppb_in "$PPB_b"
for f in "$T_DIR"/ppbridge-*.log; do check_sanitizers "$f"; done
res() { awk -v p="$2" '$1 == p {print $3 "/" $2 "ms"}' "$T_DIR/$1.res"; }
t_log "measured: sigkill failed/failover http=$(res kill http) https=$(res kill https) l4=$(res kill l4)" \
	"linkcut failed/failover http=$(res cut http) https=$(res cut https) l4=$(res cut l4)" \
	"resumed=$RESUMED/$N_TICKETS other_keys_resumed=$((N_TICKETS - NOT_RESUMED))/$N_TICKETS" \
	"maint_lost ka=$KA_FAILS/$KA_OK $MAINT_LOSS maint_move_ms=$((T_MOVED - T_MAINT))" \
	"return_failed=0 run_s=$SECONDS"
exit 0
