#!/bin/bash
# The command line: -v, -c on valid and invalid configs (every error with
# file:line), the seed config valid with only its reqidel and API-check warnings,
# unresolvable hosts, missing files, start-up failures.
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

# The seed, placeholders filled, is valid: its only file:line warnings are
# the two reqidel lines (mapped) and the API's TCP-only checks, the rest
# say which timeouts it leaves out.
# <path_to_cert>.crt is both the bind's `crt` and the servers' `ca-file`:
# a real certificate, its key and the CA, so that -c passes whether or not
# it loads TLS material.
make_certs
cat "$PKI/srv.crt" "$PKI/srv.key" "$PKI/ca.crt" >"$T_DIR/cert.crt"
sed -e 's/x\.x\.x\.\([0-9]\)/127.0.0.\1/' -e 's/master\([1-3]\)\.<your_subdomain>/127.0.1.\1/' \
	-e 's/infra\([1-3]\)\.<your_subdomain>/127.0.2.\1/' -e "s|<path_to_cert>|$T_DIR/cert|g" \
	"$SEED" >"$T_DIR/seed.cfg"
grep -q "ssl crt $T_DIR/cert.crt\$" "$T_DIR/seed.cfg" || fail "seed placeholders not filled"
rc=0; "$PPB_BIN" -c -f "$T_DIR/seed.cfg" >"$T_DIR/seed-check.out" 2>"$T_DIR/seed-check.log" || rc=$?
[ "$rc" -eq 0 ] || fail "-c refused the seed (exit $rc): $(cat "$T_DIR/seed-check.log")"
[ "$(cat "$T_DIR/seed-check.out")" = "Configuration file is valid" ] ||
	fail "-c on the seed: $(cat "$T_DIR/seed-check.out")"
! grep -q '^\[ALERT\]' "$T_DIR/seed-check.log" || fail "alerts on the seed: $(cat "$T_DIR/seed-check.log")"
for line in 30 44; do
	grep -q "^\[WARNING\] .*seed.cfg:$line: 'reqidel' was removed from HAProxy in 2.1; ppbridge maps this one to 'http-request del-header X-Forwarded-For' (case-insensitive)$" \
		"$T_DIR/seed-check.log" || fail "no reqidel warning on line $line: $(cat "$T_DIR/seed-check.log")"
done
# The API's masters are checked by a TCP connect only: OpenShift documents
# an HTTPS GET /readyz (the example configuration has it).
grep -q "^\[WARNING\] .*seed.cfg:6: backend 'be-ocp-api-servers': servers on 6443 checked by TCP only (3, first 'master1' at [^ ]*seed.cfg:9): OpenShift requires an HTTPS GET /readyz check" \
	"$T_DIR/seed-check.log" || fail "no TCP-only API check warning: $(cat "$T_DIR/seed-check.log")"
[ "$(grep -Ec '^\[WARNING\] [^ ]*seed.cfg:[0-9]+: ' "$T_DIR/seed-check.log")" -eq 3 ] ||
	fail "seed warnings other than reqidel and the API check: $(cat "$T_DIR/seed-check.log")"
[ "$(grep '^\[WARNING\]' "$T_DIR/seed-check.log" | grep -vc "'reqidel' was removed\|: missing timeouts for \|checked by TCP only")" -eq 0 ] ||
	fail "unexpected warnings: $(cat "$T_DIR/seed-check.log")"
ok "-c on the seed: valid, TLS keywords accepted, only the 2 reqidel lines and the API's TCP checks warned about"
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

# A tls-ticket-keys file that is not HAProxy's format: refused by -c.
make_certs
printf 'not base64 at all\n' >"$T_DIR/bad.keys"
cat >"$T_DIR/tk.cfg" <<CFG
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen x
    bind 127.0.0.1:$P ssl crt $PKI/srv.pem tls-ticket-keys $T_DIR/bad.keys
    server s 127.0.0.1:1
CFG
rc=0; out=$("$PPB_BIN" -c -f "$T_DIR/tk.cfg" 2>&1) || rc=$?
[ "$rc" -eq 1 ] && echo "$out" | grep -q "tk.cfg:7: .*bad.keys':1: not a base64 key" ||
	fail "bad ticket keys: rc=$rc $out"
ok "-c refuses a malformed tls-ticket-keys file with file:line"

# A port already taken: start-up fails with file:line, exit 1.
python3 -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(30)' "$P" &
T_PIDS="$T_PIDS $!"
wait_port 127.0.0.1 "$P"
rc=0; out=$(timeout 60 "$PPB_BIN" -f "$T_DIR/good.cfg" 2>&1) || rc=$?
[ "$rc" -eq 1 ] && echo "$out" | grep -q "good.cfg:10: .*cannot bind 127.0.0.1:$P" || fail "busy port: rc=$rc $out"
check_sanitizers <(echo "$out")
ok "busy port: start-up refused with file:line"

# One event, one line: in the foreground with `log stdout` (the demo's
# config, a container's), a daemon message is printed once (on stderr,
# stamped), not a second time by the stdout target; an access-log line
# once too, with -d (stderr) as without (stdout).
PL=$(free_port)
cat >"$T_DIR/logstdout.cfg" <<CFG
global
    log stdout format raw local0
defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen lg
    bind 127.0.0.1:$PL
    server s1 127.0.0.1:1
CFG
for flag in "" -d; do
	name=logstdout${flag}
	start_bg "$name" "$PPB_BIN" -f "$T_DIR/logstdout.cfg" $flag
	pid=$LAST_PID
	wait_log "$T_DIR/$name.log" 'ppbridge .* started' 15
	# A connection the server refuses: one access-log line when it ends.
	python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.recv(1)' "$PL" || true
	wait_log "$T_DIR/$name.log" ' lg lg/s1 ' 10
	kill -TERM "$pid"
	wait "$pid" || fail "ppbridge $flag exited non-zero: $(cat "$T_DIR/$name.log")"
	check_sanitizers "$T_DIR/$name.log"
	for re in 'ppbridge .* started' ' lg lg/s1 ' 'stopping now'; do
		[ "$(count_lines "$T_DIR/$name.log" "$re")" -eq 1 ] ||
			fail "log stdout${flag:+ with $flag}: not one line matching '$re': $(cat "$T_DIR/$name.log")"
	done
done
ok "log stdout in the foreground: each event is one line (with and without -d)"
