#!/bin/bash
# The command line: -v, -c on valid and invalid configs (every error with
# file:line), the seed config reporting exactly its not-yet-supported
# keywords, unresolvable hosts, missing files, start-up failures.
. "$PPB_SRCDIR/tests/integration/lib.sh"

"$PPB_BIN" -v | grep -Eq '^ppbridge version [0-9]' || fail "-v prints no version"
ok "-v"

P=$(free_port)
cat >"$T_DIR/good.cfg" <<CFG
global
    maxconn 100
    daemon
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:$P
    default_backend be
backend be
    server s1 127.0.0.1:1 check
CFG
out=$("$PPB_BIN" -c -f "$T_DIR/good.cfg" 2>&1) || fail "-c refused a valid config: $out"
[ "$out" = "Configuration file is valid" ] || fail "-c printed more than the verdict: $out"
ok "-c on a valid config"

printf 'defaults\n    mode tcp\n    frobnicate 1\n' >"$T_DIR/bad.cfg"
rc=0; out=$("$PPB_BIN" -c -f "$T_DIR/good.cfg" -f "$T_DIR/bad.cfg" 2>&1) || rc=$?
[ "$rc" -eq 1 ] || fail "-c exit $rc on an invalid config"
echo "$out" | grep -q "bad.cfg:3: .*frobnicate" || fail "no file:line for the bad keyword: $out"
echo "$out" | grep -q 'Fatal errors found in configuration' || fail "no verdict: $out"
ok "-c: unknown keyword reported at file:line, exit 1"

# Missing timeouts: valid, with HAProxy-like warnings naming the defaults.
printf 'listen x\n    bind 127.0.0.1:%s\n    server s 127.0.0.1:1\n' "$P" >"$T_DIR/notimeouts.cfg"
out=$("$PPB_BIN" -c -f "$T_DIR/notimeouts.cfg" 2>&1) || fail "missing timeouts refused: $out"
echo "$out" | grep -q "missing timeouts.*'timeout connect 5s'" || fail "no timeout warning: $out"
ok "-c warns about missing timeouts"

# The seed, placeholders filled: exactly its TLS keywords (issue #5) are
# refused; its removed reqidel lines are mapped with a warning each.
sed -e 's/x\.x\.x\.\([0-9]\)/127.0.0.\1/' -e 's/master\([1-3]\)\.<your_subdomain>/127.0.1.\1/' \
	-e 's/infra\([1-3]\)\.<your_subdomain>/127.0.2.\1/' -e "s|<path_to_cert>|$T_DIR/cert|g" \
	"$SEED" >"$T_DIR/seed.cfg"
rc=0; "$PPB_BIN" -c -f "$T_DIR/seed.cfg" >"$T_DIR/seed-check.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "the seed needs TLS (issue #5), yet -c said $rc"
grep '^\[ALERT\] .*seed.cfg:' "$T_DIR/seed-check.log" | sed 's/^\[ALERT\] [^:]*:\([0-9]*\): .*/\1/' |
	sort -n | tr '\n' ' ' >"$T_DIR/lines.txt"
[ "$(cat "$T_DIR/lines.txt")" = "40 49 50 51 " ] ||
	fail "alerts on lines $(cat "$T_DIR/lines.txt")"
for kw in "'ssl' on bind" "server 'infra1': 'ssl'"; do
	grep -q "$kw.*not supported yet.*issue #5" "$T_DIR/seed-check.log" || fail "no precise error for $kw"
done
[ "$(grep -c '^\[ALERT\]' "$T_DIR/seed-check.log")" -eq 5 ] || fail "unexpected alerts: $(cat "$T_DIR/seed-check.log")"
for line in 30 44; do
	grep -q "^\[WARNING\] .*seed.cfg:$line: 'reqidel' was removed from HAProxy in 2.1; ppbridge maps this one to 'http-request del-header X-Forwarded-For' (case-insensitive)$" \
		"$T_DIR/seed-check.log" || fail "no reqidel warning on line $line: $(cat "$T_DIR/seed-check.log")"
done
[ "$(grep -c "^\[WARNING\] .*'reqidel'" "$T_DIR/seed-check.log")" -eq 2 ] || fail "reqidel warnings: $(cat "$T_DIR/seed-check.log")"
ok "-c on the seed: only its 4 TLS keywords refused (issue #5), reqidel mapped with a warning"
if [ -f "$PPB_SRCDIR/../shared/seed/haproxy-ocp.cfg" ]; then
	cmp -s "$SEED" "$PPB_SRCDIR/../shared/seed/haproxy-ocp.cfg" || fail "tests/data seed differs from shared/"
fi

# Host names resolve at start; a bad one is an error with file:line.
sed "s/127.0.0.1:1 check/no-such-host.invalid:6443 check/" "$T_DIR/good.cfg" >"$T_DIR/dns.cfg"
rc=0; out=$("$PPB_BIN" -c -f "$T_DIR/dns.cfg" 2>&1) || rc=$?
[ "$rc" -eq 1 ] && echo "$out" | grep -q "dns.cfg:13: .*cannot resolve.*no-such-host.invalid" ||
	fail "unresolvable host not reported: $out"
sed "s/127.0.0.1:1 check/localhost:6443 check/" "$T_DIR/good.cfg" >"$T_DIR/localhost.cfg"
"$PPB_BIN" -c -f "$T_DIR/localhost.cfg" >/dev/null 2>&1 || fail "localhost did not resolve"
ok "host names resolve; a bad one is refused with file:line"

rc=0; out=$("$PPB_BIN" -c -f "$T_DIR/missing.cfg" 2>&1) || rc=$?
[ "$rc" -eq 1 ] && echo "$out" | grep -q "missing.cfg" || fail "missing file: $out"
rc=0; out=$("$PPB_BIN" 2>&1) || rc=$?
[ "$rc" -eq 1 ] && echo "$out" | grep -q "Usage" || fail "no -f: $out"
ok "missing file and missing -f refused"

# A check-ssl with an unreadable CA file is refused by -c, not at the first check.
sed "s|127.0.0.1:1 check|127.0.0.1:1 check check-ssl ca-file $T_DIR/nope.crt|" "$T_DIR/good.cfg" >"$T_DIR/ca.cfg"
rc=0; out=$("$PPB_BIN" -c -f "$T_DIR/ca.cfg" 2>&1) || rc=$?
[ "$rc" -eq 1 ] && echo "$out" | grep -q "ca.cfg:13: .*nope.crt" || fail "bad ca-file: $out"
ok "-c loads TLS material of checks"

# A port already taken: start-up fails with file:line, exit 1.
python3 -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(30)' "$P" &
T_PIDS="$T_PIDS $!"
wait_port 127.0.0.1 "$P"
rc=0; out=$(timeout 10 "$PPB_BIN" -f "$T_DIR/good.cfg" 2>&1) || rc=$?
[ "$rc" -eq 1 ] && echo "$out" | grep -q "good.cfg:10: .*cannot bind 127.0.0.1:$P" || fail "busy port: rc=$rc $out"
check_sanitizers <(echo "$out")
ok "busy port: start-up refused with file:line"
