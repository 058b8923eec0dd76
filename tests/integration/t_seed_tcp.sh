#!/bin/bash
# The seed's two plain TCP VIPs (API 6443, OAuth 443) under ppbridge, with
# the placeholders filled in: host names mapped to loopback addresses,
# ports to free ones. Real sockets, real backends, real HAProxy in front.
. "$PPB_SRCDIR/tests/integration/lib.sh"

PM=$(free_port) # masters' port (on 127.0.1.1-3)
PI=$(free_port) # infra nodes' port (on 127.0.2.1-3)
PAPI=$(free_port)
POAUTH=$(free_port)
P6=$(free_port)
for i in 1 2 3; do
	start_ident "master$i" "127.0.1.$i:$PM"
	start_ident "infra$i" "127.0.2.$i:$PI"
done
for i in 1 2 3; do
	wait_port "127.0.1.$i" "$PM"
	wait_port "127.0.2.$i" "$PI"
done

# The seed, verbatim but for placeholders (only its two TCP VIPs: the
# HTTP ones need the L7 path of later issues).
sed -n '/^frontend fe-ocp-api-servers/,/^frontend fe-route-http/p' "$SEED" | sed '$d' \
	>"$T_DIR/seed-tcp.cfg"
sed -i -e "s/x\.x\.x\.1:6443/127.0.0.1:$PAPI/" -e "s/x\.x\.x\.2:443/127.0.0.2:$POAUTH/" \
	-e "s/master\([1-3]\)\.<your_subdomain>:6443/127.0.1.\1:$PM/" \
	-e "s/infra\([1-3]\)\.<your_subdomain>:443/127.0.2.\1:$PI/" "$T_DIR/seed-tcp.cfg"
grep -q '<your_subdomain>\|x\.x\.x' "$T_DIR/seed-tcp.cfg" && fail "placeholders left in the seed"
cat >"$T_DIR/global.cfg" <<CFG
global
    maxconn 2000
defaults
    log global
    timeout connect 2s
    timeout client 30s
    timeout server 30s
CFG
cat >"$T_DIR/v6.cfg" <<CFG
frontend fe-v6
    bind [::1]:$P6
    mode tcp
    default_backend be-ocp-api-servers
CFG

"$PPB_BIN" -c -f "$T_DIR/global.cfg" -f "$T_DIR/seed-tcp.cfg" -f "$T_DIR/v6.cfg" \
	>"$T_DIR/check.log" 2>&1 || fail "-c refused the seed's TCP VIPs"
grep -q 'Configuration file is valid' "$T_DIR/check.log" || fail "-c did not say valid"
start_ppb "$T_DIR/global.cfg" -f "$T_DIR/seed-tcp.cfg" -f "$T_DIR/v6.cfg"
wait_port 127.0.0.1 "$PAPI"
wait_port 127.0.0.2 "$POAUTH"

# 1. Bytes pass both ways on both VIPs.
out=$(python3 "$PEERS" probe --connect "127.0.0.1:$PAPI" --count 5) || fail "API VIP: $out"
echo "$out" | grep -q '^master[1-3] ' || fail "API VIP reached no master: $out"
out=$(python3 "$PEERS" probe --connect "127.0.0.2:$POAUTH" --count 5) || fail "OAuth VIP: $out"
echo "$out" | grep -q '^infra[1-3] ' || fail "OAuth VIP reached no infra node: $out"
ok "both VIPs relay"

# 2. balance source: one client always lands on one server...
n=$(python3 "$PEERS" probe --connect "127.0.0.1:$PAPI" --src 127.0.3.7 --count 10 |
	awk '{print $1}' | sort -u | wc -l)
[ "$n" -eq 1 ] || fail "one client spread over $n masters under balance source"
# ...and many clients spread over all three, the same way twice.
for i in $(seq 1 40); do
	python3 "$PEERS" probe --connect "127.0.0.1:$PAPI" --src "127.0.4.$i" | awk '{print $1}'
done >"$T_DIR/map1.txt"
for i in $(seq 1 40); do
	python3 "$PEERS" probe --connect "127.0.0.1:$PAPI" --src "127.0.4.$i" | awk '{print $1}'
done >"$T_DIR/map2.txt"
cmp -s "$T_DIR/map1.txt" "$T_DIR/map2.txt" || fail "source hash not stable"
[ "$(sort -u "$T_DIR/map1.txt" | wc -l)" -eq 3 ] || fail "40 clients did not reach all 3 masters"
ok "balance source: stable and spread"

# 3. Large transfers with half-close, intact.
out=$(python3 "$PEERS" bulk --connect "127.0.0.1:$PAPI" --bytes 8000000) || fail "bulk: $out"
out=$(python3 "$PEERS" bulk --connect "127.0.0.2:$POAUTH" --bytes 3000000) || fail "bulk: $out"
ok "8 MB echo intact through the API VIP"

# 4. IPv6 listener.
out=$(python3 "$PEERS" probe --connect "[::1]:$P6" --count 3) || fail "IPv6 VIP: $out"
ok "IPv6 bind relays"

# 5. A real HAProxy 2.6 in front (L4 chain HAProxy -> ppbridge -> server).
PH=$(free_port)
cat >"$T_DIR/haproxy.cfg" <<CFG
defaults
    mode tcp
    timeout connect 2s
    timeout client 10s
    timeout server 10s
listen front
    bind 127.0.0.1:$PH
    server ppb 127.0.0.1:$PAPI
CFG
start_haproxy haproxy "$T_DIR/haproxy.cfg"
wait_port 127.0.0.1 "$PH"
out=$(python3 "$PEERS" probe --connect "127.0.0.1:$PH" --count 5) || fail "via HAProxy: $out"
out=$(python3 "$PEERS" bulk --connect "127.0.0.1:$PH" --bytes 2000000) || fail "bulk via HAProxy: $out"
ok "HAProxy -> ppbridge -> server"

# 6. One access-log line per connection, naming frontend, backend/server.
wait_log "$T_DIR/ppbridge.log" 'fe-ocp-api-servers be-ocp-api-servers/master[1-3] .* -- '
stop_ppb
ok "clean exit, no sanitizer report"
