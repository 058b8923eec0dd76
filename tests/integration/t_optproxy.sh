#!/bin/bash
# bind ... accept-proxy optional (issue 16, part 2): a PROXY header from
# trusted sources when one comes, a plain connection when not; untrusted
# sources plain only, a header from them refused as a spoof attempt.
# Three frontends trust 127.0.0.1 (the "NLB") and nobody else:
#   fe-l4    mode tcp, send-proxy-v2 to a real HAProxy 2.6 "router" with
#            accept-proxy that answers the source address it was given;
#   fe-http  mode http, option forwardfor, to a server that answers the
#            X-Forwarded-For it got;
#   fe-https the same behind `ssl crt` (the header comes before TLS).
# Each gets a v1 header, a v2 header and no header from 127.0.0.1, no
# header and then each header from 127.0.0.2 (untrusted); what the server
# saw, the log lines and the counters of `show frontends` are checked, plus
# a header split after its first byte, "PROXX" (a late departure: plain),
# a silent client (timeout client-hs) and `ppbridge -c`.
. "$PPB_SRCDIR/tests/integration/lib.sh"

PR=$(free_port)   # HAProxy router: accept-proxy, answers src=
PW=$(free_port)   # HTTP server: answers the X-Forwarded-For it saw
PL=$(free_port)   # ppbridge fe-l4
PHT=$(free_port)  # ppbridge fe-http
PHS=$(free_port)  # ppbridge fe-https
SOCK=$T_DIR/admin.sock
LOG=$T_DIR/ppbridge.log
make_certs

cat >"$T_DIR/router.cfg" <<CFG
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend router
    bind 127.0.0.1:$PR accept-proxy
    http-request return status 200 content-type text/plain lf-string "src=%[src]\n"
CFG
# trusted: the three binds, one rule each frontend (an acl for one, an
# inline condition for another, expect-proxy layer4 for the third: on an
# optional bind it trusts as accept does)
cat >"$T_DIR/ppb.cfg" <<CFG
global
    stats socket $SOCK mode 600 level admin
defaults
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout client-hs 1s
frontend fe-l4
    mode tcp
    bind 127.0.0.1:$PL accept-proxy optional
    acl nlb src 127.0.0.1
    tcp-request connection accept if nlb
    default_backend routers
backend routers
    mode tcp
    server r1 127.0.0.1:$PR send-proxy-v2
frontend fe-http
    mode http
    option forwardfor
    bind 127.0.0.1:$PHT accept-proxy optional
    tcp-request connection accept if { src 127.0.0.1 }
    default_backend web
frontend fe-https
    mode http
    option forwardfor
    bind 127.0.0.1:$PHS accept-proxy optional ssl crt $PKI/srv.pem
    tcp-request connection expect-proxy layer4 if { src 127.0.0.1 }
    default_backend web
backend web
    mode http
    server w1 127.0.0.1:$PW
CFG

# ---- ppbridge -c: the mode is said to be on; no trust rule is refused ----
"$PPB_BIN" -c -f "$T_DIR/ppb.cfg" >"$T_DIR/check.log" 2>&1 || fail "ppbridge -c: $(cat "$T_DIR/check.log")"
[ "$(count_lines "$T_DIR/check.log" "^\[WARNING\] .*ppb.cfg:[0-9]+: bind '127.0.0.1:[0-9]+': 'accept-proxy optional' is on, a migration mode")" -eq 3 ] ||
	fail "ppbridge -c did not warn once per optional bind: $(cat "$T_DIR/check.log")"
grep -v 'tcp-request connection accept if nlb' "$T_DIR/ppb.cfg" >"$T_DIR/bad.cfg"
if "$PPB_BIN" -c -f "$T_DIR/bad.cfg" >"$T_DIR/bad.log" 2>&1; then fail "a bind without a trust rule was accepted"; fi
grep -Eq "^\[ALERT\] .*bad.cfg:10: bind '127.0.0.1:$PL': 'accept-proxy optional' needs a 'tcp-request connection accept\|expect-proxy layer4 if\|unless <condition>' rule" \
	"$T_DIR/bad.log" || fail "refusal without file:line: $(cat "$T_DIR/bad.log")"
ok "ppbridge -c: warns at each optional bind, refuses one without a trust rule (file:line)"

start_haproxy router "$T_DIR/router.cfg"
start_bg web python3 "$PEERS" http --listen "127.0.0.1:$PW" --name web --show-xff
wait_port 127.0.0.1 "$PR"
wait_port 127.0.0.1 "$PW"
start_ppb "$T_DIR/ppb.cfg"
grep -q "'accept-proxy optional' is on" "$LOG" || fail "no start-up warning in the log"

# A silent trusted client: timeout client-hs (1s) before any byte. Runs
# beside the cases below; its log line is checked at the end.
start_bg silent python3 "$PEERS" raw --connect "127.0.0.1:$PL" --idle 5 ''

# client.py PORT plain|tls CASE...: one connection per case, CASE =
# SRC:HEADER (HEADER none, v1, v2, v1split: the v1 header's first byte,
# a pause, the rest; proxx: a request starting "PROXX"). Each header
# carries 198.51.100.<n> (v1: .1, v2: .2). Prints "CASE ANSWER" per case:
# the first line of the body, or RESET / CLOSED / ERROR <what>.
cat >"$T_DIR/client.py" <<'PY'
import socket, ssl, sys, time
port, mode, cases = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
V1 = b"PROXY TCP4 198.51.100.1 127.0.0.1 40001 %d\r\n" % port
V2 = (b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c" + bytes([198, 51, 100, 2, 127, 0, 0, 1])
      + (40002).to_bytes(2, "big") + port.to_bytes(2, "big"))
REQ = b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
ctx = ssl.create_default_context(cafile=sys.argv[0].rsplit("/", 1)[0] + "/pki/ca.crt")

def one(src, how):
    s = socket.socket()
    s.settimeout(5)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    if how == "v1":
        s.sendall(V1)
    elif how == "v2":
        s.sendall(V2)
    elif how == "v1split":
        s.sendall(V1[:1])
        # shapes the input (a first read of one byte), waits for nothing:
        # if a busy machine coalesces both sends the case still holds;
        # every split is proven by test_proxy_proto and fuzz_proxy_proto
        time.sleep(0.2)
        s.sendall(V1[1:])
    req = REQ.replace(b"GET", b"PROXX") if how == "proxx" else REQ
    if mode == "tls":
        s = ctx.wrap_socket(s, server_hostname="localhost")
    s.sendall(req)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    if not data:
        return "CLOSED"
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n")[0].decode("latin-1")
    if " 200 " not in status:
        return status
    return body.split(b"\n")[0].decode("latin-1")

for case in cases:
    src, how = case.split(":")
    try:
        answer = one(src, how)
    except (ConnectionResetError, BrokenPipeError):
        answer = "RESET"
    except (OSError, ssl.SSLError) as e:
        answer = "ERROR %s" % e
    print(case, answer, flush=True)
PY
CASES="127.0.0.1:v1 127.0.0.1:v2 127.0.0.1:none 127.0.0.1:v1split 127.0.0.2:none 127.0.0.2:proxx
	127.0.0.2:v1 127.0.0.2:v2"

# expect FILE CASE ANSWER: the answer to that case, exactly
expect() {
	local got
	got=$(awk -v c="$2" '$1 == c { sub(/^[^ ]+ /, ""); print; exit }' "$1")
	[ "$got" = "$3" ] || fail "$(basename "$1" .out) $2: got '$got', want '$3'"
}
# refused CASE FILE: a spoof attempt is reset (a TLS client may see the
# reset as an error of the handshake)
refused() {
	local got
	got=$(awk -v c="$2" '$1 == c { sub(/^[^ ]+ /, ""); print; exit }' "$1")
	case "$got" in RESET | CLOSED | ERROR*) ;; *) fail "$(basename "$1" .out) $2 was not refused: '$got'" ;; esac
}

# The three frontends at once (each client ends within its sockets' 5 s).
python3 "$T_DIR/client.py" "$PL" plain $CASES >"$T_DIR/l4.out" 2>&1 &
c1=$!
python3 "$T_DIR/client.py" "$PHT" plain $CASES >"$T_DIR/http.out" 2>&1 &
c2=$!
python3 "$T_DIR/client.py" "$PHS" tls $CASES >"$T_DIR/https.out" 2>&1 &
c3=$!
for c in $c1 $c2 $c3; do wait $c || fail "client: $(cat "$T_DIR"/*.out)"; done

# ---- L4: what the router was told by ppbridge's send-proxy-v2 ----
expect "$T_DIR/l4.out" 127.0.0.1:v1 src=198.51.100.1
expect "$T_DIR/l4.out" 127.0.0.1:v2 src=198.51.100.2
expect "$T_DIR/l4.out" 127.0.0.1:none src=127.0.0.1
expect "$T_DIR/l4.out" 127.0.0.1:v1split src=198.51.100.1
expect "$T_DIR/l4.out" 127.0.0.2:none src=127.0.0.2
expect "$T_DIR/l4.out" 127.0.0.2:proxx src=127.0.0.2 # "PROXX" departs at its 5th byte: plain
refused "$T_DIR/l4.out" 127.0.0.2:v1
refused "$T_DIR/l4.out" 127.0.0.2:v2
ok "L4: trusted v1/v2/split header believed, trusted and untrusted plain served as they are, spoofs refused"

# ---- HTTP and HTTPS: the X-Forwarded-For the server got ----
for fe in http https; do
	xff() { echo "web saw client 127.0.0.1 (PROXY header: no) X-Forwarded-For: $1"; }
	expect "$T_DIR/$fe.out" 127.0.0.1:v1 "$(xff 198.51.100.1)"
	expect "$T_DIR/$fe.out" 127.0.0.1:v2 "$(xff 198.51.100.2)"
	expect "$T_DIR/$fe.out" 127.0.0.1:none "$(xff 127.0.0.1)"
	expect "$T_DIR/$fe.out" 127.0.0.1:v1split "$(xff 198.51.100.1)"
	expect "$T_DIR/$fe.out" 127.0.0.2:none "$(xff 127.0.0.2)"
	expect "$T_DIR/$fe.out" 127.0.0.2:proxx "$(xff 127.0.0.2)" # a method like any other
	refused "$T_DIR/$fe.out" 127.0.0.2:v1
	refused "$T_DIR/$fe.out" 127.0.0.2:v2
done
ok "HTTP and HTTPS (header before TLS): X-Forwarded-For is the header's source, or the peer without one; spoofs refused"

# ---- one log line per refusal, the counters ----
for v in v1 v2; do
	wait_count "$LOG" "closing connection from 127\.0\.0\.2:[0-9]+: spoof attempt: a PROXY $v header from an untrusted source" 3
done
wait_log "$LOG" "frontend fe-l4: closing connection from 127\.0\.0\.1:[0-9]+: no byte yet said whether a PROXY header comes \(accept-proxy optional\) \(timeout client-hs\)"
"$PPB_BIN" ctl "$SOCK" "show frontends" >"$T_DIR/frontends.txt" || fail "show frontends"
# name mode backend binds client_ip client_ip_from pp_with pp_without pp_untrusted pp_spoof
counters() { awk -v f="$1" '$1 == f { print $7, $8, $9, $10 }' "$T_DIR/frontends.txt"; }
head -n 1 "$T_DIR/frontends.txt" | grep -qx '# name mode backend binds client_ip client_ip_from pp_with pp_without pp_untrusted pp_spoof' ||
	fail "show frontends header: $(head -n 1 "$T_DIR/frontends.txt")"
grep -q "^fe-https http web 127.0.0.1:$PHS(ssl)(accept-proxy-optional) " "$T_DIR/frontends.txt" ||
	fail "show frontends binds: $(cat "$T_DIR/frontends.txt")"
# with: v1, v2, v1split; without: none; untrusted: none (+ proxx); spoof: v1, v2
[ "$(counters fe-l4)" = "3 1 2 2" ] || fail "fe-l4 counters: $(counters fe-l4)"
[ "$(counters fe-http)" = "3 1 2 2" ] || fail "fe-http counters: $(counters fe-http)"
[ "$(counters fe-https)" = "3 1 2 2" ] || fail "fe-https counters: $(counters fe-https)"
"$PPB_BIN" ctl "$SOCK" "show metrics" | grep -qx 'ppbridge_frontend_proxy_optional_total{proxy="fe-l4",path="spoof_refused"} 2' ||
	fail "metrics: $("$PPB_BIN" ctl "$SOCK" "show metrics" | grep proxy_optional)"
"$PPB_BIN" ctl "$SOCK" "show errors" | grep -q 'spoof attempt' || fail "show errors has no spoof attempt"
ok "a log line per spoof and for the silent client; show frontends, show metrics and show errors count them"

stop_ppb
ok "clean exit"
