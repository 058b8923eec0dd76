#!/bin/bash
# Same config, same meaning: the condition engine's fetches (path and its
# path_beg/path_end/path_sub forms, nbsrv, src with the ipmask converter),
# integer operators and predefined ACLs (TRUE, FALSE, LOCALHOST) drive
# `http-request set-header` rules run by ppbridge and by HAProxy 2.6 from
# one configuration; an echoing server shows what each sent it, and the
# fields the rules added must be the same for every request.
. "$PPB_SRCDIR/tests/integration/lib.sh"

PE=$(free_port); PDEAD=$(free_port); PP=$(free_port); PH=$(free_port)
start_bg echo python3 "$PEERS" http --listen "127.0.0.1:$PE" --name echo --echo
wait_port 127.0.0.1 "$PE"

# cfg PORT: the one configuration, listening on PORT.
cfg() {
	cat <<CFG
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
backend be_up
    server e1 127.0.0.1:$PE
backend be_down
    server d1 127.0.0.1:$PDEAD check inter 200ms fall 1 rise 1
frontend fe
    bind 127.0.0.1:$1
    acl api path_beg /api/
    acl json path_end .json
    http-request set-header X-Api yes if api
    http-request set-header X-Exact yes if { path /exact }
    http-request set-header X-Json yes if json !api
    http-request set-header X-Sub yes if { path_sub /v2/ }
    http-request set-header X-Local yes if LOCALHOST
    http-request set-header X-True yes if TRUE
    http-request set-header X-False yes if FALSE
    http-request set-header X-Down yes if { nbsrv(be_down) lt 1 }
    http-request set-header X-Up yes if { nbsrv(be_up) ge 1 } { nbsrv(be_up) le 1 }
    http-request set-header X-Two yes if { nbsrv(be_up) eq 2 }
    http-request set-header X-Net yes if { src,ipmask(24) 127.0.0.0 }
    http-request set-header X-Other yes if { src,ipmask(24) 127.0.1.0 } || { path /none }
    default_backend be_up
CFG
}
cfg "$PP" >"$T_DIR/ppb.cfg"
cfg "$PH" >"$T_DIR/hap.cfg"
"$PPB_BIN" -c -f "$T_DIR/ppb.cfg" >"$T_DIR/check.log" 2>&1 || fail "ppbridge -c: $(cat "$T_DIR/check.log")"
start_ppb "$T_DIR/ppb.cfg"
start_haproxy haproxy "$T_DIR/hap.cfg"
wait_port 127.0.0.1 "$PH"
wait_log "$T_DIR/ppbridge.log" 'Server be_down/d1 is DOWN' 10
wait_log "$T_DIR/haproxy.log" 'Server be_down/d1 is DOWN' 10

# The X- fields a request arrived with, as the echo server saw them.
added() { # PORT TARGET
	python3 - "$1" "$2" <<'PY'
import socket, sys
port, target = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(("GET %s HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n" % target).encode())
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
lines = [l.lower() for l in data.decode("latin-1").split("\r\n") if l.lower().startswith("x-")]  # HAProxy sends names in lower case
print(" ".join(sorted(lines)) or "-")
PY
}

n=0
for target in /api/users /exact '/exact?q=1' /exact/ /a.json /api/a.json /x/v2/y /v2 /none /other \
	'http://h/api/abs' '/api%2Fenc'; do
	p=$(added "$PP" "$target")
	h=$(added "$PH" "$target")
	[ "$p" = "$h" ] || fail "GET $target: ppbridge sent [$p], HAProxy 2.6 sent [$h]"
	n=$((n + 1))
done
p=$(added "$PP" /api/users)
case "$p" in *"x-api: yes"*"x-down: yes"*"x-local: yes"*"x-net: yes"*"x-true: yes"*"x-up: yes"*) ;;
*) fail "the rules did not fire as written: [$p]" ;; esac
case "$p" in *x-false* | *x-two* | *x-other* | *x-json* | *x-exact*) fail "a rule fired that must not: [$p]" ;; esac
ok "$n requests: the same fields from ppbridge and HAProxy 2.6 (path, path_beg/end/sub, nbsrv with lt/le/ge/eq, TRUE/FALSE/LOCALHOST, src,ipmask)"
stop_ppb
