#!/bin/bash
# The runtime admin socket: HAProxy 2.6's `show stat` header (compared with
# a real HAProxy 2.6), admin commands that change routing (drain, maint,
# weight 0 -> no new connections to that server), one-line errors, the
# Prometheus counters, `ppbridge ctl` exit codes, and the CLI protocol
# itself (several commands a line, interactive `prompt`, levels).
. "$PPB_SRCDIR/tests/integration/lib.sh"

P1=$(free_port)
P2=$(free_port)
P3=$(free_port)
PW=$(free_port)
PV=$(free_port)
PH=$(free_port)
PX=$(free_port)
SOCK=$T_DIR/admin.sock
USOCK=$T_DIR/user.sock
start_ident s1 "127.0.0.1:$P1"
start_ident s2 "127.0.0.1:$P2"
start_ident s3 "127.0.0.1:$P3"
start_http w1 "127.0.0.1:$PW"
for p in "$P1" "$P2" "$P3" "$PW"; do wait_port 127.0.0.1 "$p"; done

cat >"$T_DIR/ppb.cfg" <<CFG
global
    stats socket $SOCK mode 600 level admin
    stats timeout 5s
defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 10s
    timeout server 10s
listen vip
    bind 127.0.0.1:$PV
    balance roundrobin
    server s1 127.0.0.1:$P1
    server s2 127.0.0.1:$P2
    server s3 127.0.0.1:$P3
frontend web
    mode http
    option forwardfor
    bind 127.0.0.1:$PH
    default_backend be_web
backend be_web
    mode http
    server w1 127.0.0.1:$PW
CFG
start_ppb "$T_DIR/ppb.cfg"

# adm LINE [SOCKET]: one line to the socket, the whole answer on stdout.
adm() {
	python3 - "${2:-$SOCK}" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
sys.stdout.write(data.decode())
EOF
}

# served_by N: which servers answered N connections to the vip, e.g. "s1 s3".
served_by() {
	python3 "$PEERS" probe --connect "127.0.0.1:$PV" --count "$1" | awk '{print $1}' | sort -u | tr '\n' ' '
}

# ---- the socket file ----
[ -S "$SOCK" ] || fail "no socket at $SOCK"
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "socket mode $(stat -c %a "$SOCK"), want 600"
ok "socket created, mode 600"

# ---- show stat: HAProxy 2.6's header, column for column ----
cat >"$T_DIR/hap.cfg" <<CFG
global
    stats socket $T_DIR/hap.sock mode 600 level admin
defaults
    mode tcp
    timeout connect 1s
    timeout client 10s
    timeout server 10s
listen vip
    bind 127.0.0.1:$PX
    server s1 127.0.0.1:$P1
CFG
start_haproxy haproxy "$T_DIR/hap.cfg"
wait_file "$T_DIR/hap.sock" 15
[ -S "$T_DIR/hap.sock" ] || fail "haproxy made no stats socket"
hap_header=$(adm "show stat" "$T_DIR/hap.sock" | head -n 1)
adm "show stat" >"$T_DIR/stat.csv"
ppb_header=$(head -n 1 "$T_DIR/stat.csv")
case "$hap_header" in "# pxname,svname,qcur,"*) ;; *) fail "haproxy header: $hap_header" ;; esac
[ "$ppb_header" = "$hap_header" ] || fail "show stat header differs from HAProxy 2.6's:
ppbridge: $ppb_header
haproxy:  $hap_header"
python3 - "$T_DIR/stat.csv" <<'EOF' || fail "show stat is not the CSV expected"
import csv, sys
lines = open(sys.argv[1]).read().split("\n")
assert lines[-1] == "" and lines[-2] == "", "answer must end with an empty line"
rows = list(csv.reader(lines[1:-2]))
header = lines[0][2:].split(",")
names = [(r[0], r[1]) for r in rows]
assert names == [("vip", "FRONTEND"), ("vip", "s1"), ("vip", "s2"), ("vip", "s3"),
                 ("vip", "BACKEND"), ("web", "FRONTEND"), ("be_web", "w1"),
                 ("be_web", "BACKEND")], names
for r in rows:
    assert len(r) == len(header), (len(r), len(header))
col = {n: i for i, n in enumerate(header)}
s2 = rows[2]
assert s2[col["status"]] == "no check" and s2[col["weight"]] == "1", s2
assert s2[col["type"]] == "2" and rows[0][col["type"]] == "0" and rows[4][col["type"]] == "1"
EOF
ok "show stat: HAProxy 2.6's exact header, $(($(wc -l <"$T_DIR/stat.csv") - 2)) rows of equal width"

# ---- routing changes ----
[ "$(served_by 30)" = "s1 s2 s3 " ] || fail "not every server served before any change"
out=$(adm "set server vip/s2 state drain")
[ "$out" = "" ] || fail "set state drain answered: $out"
wait_log "$T_DIR/ppbridge.log" 'Server vip/s2 enters drain state'
[ "$(served_by 30)" = "s1 s3 " ] || fail "drain: s2 still got new connections"
adm "show servers state vip" | grep -q '^[0-9]* vip 2 s2 127.0.0.1 2 8 ' || fail "drain not in show servers state"
ok "drain: 30 connections, none to s2"

adm "set server vip/s2 state maint" >/dev/null
wait_log "$T_DIR/ppbridge.log" 'Server vip/s2 is going DOWN for maintenance'
[ "$(served_by 30)" = "s1 s3 " ] || fail "maint: s2 still got new connections"
adm "show stat" | grep -q '^vip,s2,.*,MAINT,' || fail "show stat does not say MAINT"
ok "maint: 30 connections, none to s2"

adm "set server vip/s2 state ready" >/dev/null
wait_log "$T_DIR/ppbridge.log" 'Server vip/s2 is UP/READY'
[ "$(served_by 30)" = "s1 s2 s3 " ] || fail "ready: s2 not back"
adm "disable server vip/s2" >/dev/null
[ "$(served_by 30)" = "s1 s3 " ] || fail "disable server: s2 still used"
adm "enable server vip/s2" >/dev/null
[ "$(served_by 30)" = "s1 s2 s3 " ] || fail "enable server: s2 not back"
ok "ready / disable / enable: s2 out and back"

adm "set server vip/s1 weight 0" >/dev/null
[ "$(served_by 30)" = "s2 s3 " ] || fail "weight 0: s1 still got new connections"
adm "show servers state vip" | grep -q '^[0-9]* vip 1 s1 127.0.0.1 2 0 0 1 ' || fail "weight 0 not in show servers state"
adm "set server vip/s1 weight 1" >/dev/null
[ "$(served_by 30)" = "s1 s2 s3 " ] || fail "weight 1: s1 not back"
ok "weight 0: 30 connections, none to s1; weight 1: back"

# ---- errors: one line each, never a crash ----
check_err() { # LINE EXPECTED
	local out
	out=$(adm "$1")
	[ "$out" = "$2" ] || fail "'$1' answered '$out', want '$2'"
}
check_err "set server vip/s9 state drain" "No such server."
check_err "set server nope/s1 state drain" "No such backend."
check_err "set server vip/s1 state up" "'set server <srv> state' expects 'ready', 'drain' and 'maint'."
check_err "set server vip/s1 weight 300" "Absolute weight can only be between 0 and 256 inclusive."
check_err "set server vip/s1 weight x" "Empty weight string empty or preceded by garbage"
check_err "disable server vip" "Require 'backend/server'."
check_err "show servers state nope" "Can't find backend."
adm "frobnicate" | head -n 1 | grep -qx "Unknown command. Please enter one of the following commands only :" ||
	fail "unknown command: $(adm frobnicate | head -n 1)"
long=$(head -c 6000 /dev/zero | tr '\0' x)
adm "$long" | grep -q "Command line too long" || fail "a 6000-byte line was not refused"
kill -0 "$T_PPB_PID" || fail "ppbridge died on wrong commands"
ok "wrong arguments: one-line HAProxy errors; unknown command: the list"

# ---- the protocol: several commands a line, prompt ----
out=$(adm "show version;show backend")
[ "$out" = "$(printf '%s\n\n# name\nvip\nbe_web' "$("$PPB_BIN" -v | awk '{print $3}')")" ] ||
	fail "two commands on one line: $out"
# Interactive: each command goes once the prompt for it has come (the
# turn-taking itself is checked), not after a fixed 0.2 s.
out=$(python3 - "$SOCK" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
data = b""
def until_prompt():
    global data
    while not data.endswith(b"> "):
        chunk = s.recv(65536)
        if not chunk:
            return
        data += chunk
s.sendall(b"prompt\n")
until_prompt()
s.sendall(b"show backend\n")
until_prompt()
s.sendall(b"quit\n")
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(repr(data.decode()))
EOF
)
[ "$out" = "'\\n> # name\\nvip\\nbe_web\\n\\n> '" ] || fail "interactive mode: $out"
if command -v socat >/dev/null; then
	echo "show stat" | socat stdio "$SOCK" | head -n 1 | grep -qx -- "$hap_header" ||
		fail "echo show stat | socat stdio: wrong header"
	ok "echo \"show stat\" | socat stdio works"
fi
ok "several commands a line; prompt keeps the connection with '> ' prompts"

# ---- show frontends, show metrics ----
adm "show frontends" | grep -qx "vip tcp vip 127.0.0.1:$PV none config" || fail "show frontends: $(adm 'show frontends')"
adm "show frontends" | grep -qx "web http be_web 127.0.0.1:$PH xff config" || fail "show frontends: no xff"
adm "show metrics" >"$T_DIR/metrics.txt"
grep -Eq '^haproxy_frontend_connections_total\{proxy="vip"\} (2[4-9][0-9]|[3-9][0-9][0-9])$' "$T_DIR/metrics.txt" ||
	fail "frontend connections counter: $(grep frontend_connections "$T_DIR/metrics.txt")"
grep -q '^haproxy_server_status{proxy="vip",server="s1",state="UP"} 1$' "$T_DIR/metrics.txt" || fail "server status"
grep -Eq '^haproxy_server_sessions_total\{proxy="vip",server="s2"\} [1-9][0-9]*$' "$T_DIR/metrics.txt" ||
	fail "server sessions counter"
for m in haproxy_frontend_request_errors_total ppbridge_frontend_proxy_refusals_total \
	haproxy_server_current_sessions haproxy_server_bytes_in_total haproxy_server_bytes_out_total \
	haproxy_server_connection_errors_total ppbridge_frontend_client_ip; do
	grep -q "^# TYPE $m " "$T_DIR/metrics.txt" || fail "show metrics lacks $m"
done
ok "show frontends (client-IP strategy) and show metrics (Prometheus counters)"

# ---- ppbridge ctl ----
"$PPB_BIN" ctl "$SOCK" show servers state vip >"$T_DIR/ctl.out" || fail "ctl show servers state: exit $?"
head -n 1 "$T_DIR/ctl.out" | grep -qx 1 || fail "ctl output: $(head -n 2 "$T_DIR/ctl.out")"
rc=0
"$PPB_BIN" ctl "$SOCK" set server vip/s1 weight 999 >"$T_DIR/ctl.out" || rc=$?
[ "$rc" -eq 1 ] || fail "ctl: an error answer exited $rc"
grep -qx "Absolute weight can only be between 0 and 256 inclusive." "$T_DIR/ctl.out" || fail "ctl error text: $(cat "$T_DIR/ctl.out")"
rc=0
"$PPB_BIN" ctl "$SOCK" frobnicate >/dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "ctl: unknown command exited $rc"
rc=0
"$PPB_BIN" ctl "$T_DIR/nothing.sock" show info >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "ctl: no socket exited $rc"
"$PPB_BIN" ctl "$SOCK" reload >"$T_DIR/reload.out" || fail "ctl reload of a good config: exit $? ($(cat "$T_DIR/reload.out"))"
head -n 2 "$T_DIR/reload.out" | tr '\n' ' ' | grep -qx 'Success=1 -- ' || fail "reload answer: $(cat "$T_DIR/reload.out")"
cp "$T_DIR/ppb.cfg" "$T_DIR/ppb.cfg.good"
printf 'backend broken\n    server x 127.0.0.1:%s bogus-option\n' "$P1" >>"$T_DIR/ppb.cfg"
rc=0
"$PPB_BIN" ctl "$SOCK" reload >"$T_DIR/reload.out" || rc=$?
[ "$rc" -eq 1 ] || fail "ctl reload of a broken config exited $rc"
head -n 1 "$T_DIR/reload.out" | grep -qx 'Success=0' || fail "broken reload answer: $(cat "$T_DIR/reload.out")"
grep -q 'bogus-option' "$T_DIR/reload.out" || fail "the reload error does not name the problem: $(cat "$T_DIR/reload.out")"
cp "$T_DIR/ppb.cfg.good" "$T_DIR/ppb.cfg"
[ "$(served_by 6)" = "s1 s2 s3 " ] || fail "not serving after a refused reload"
ok "ctl: 0 on success, 1 on an error answer, a missing socket, a refused reload (Success=0)"

# ---- levels ----
sed -e "s#stats socket $SOCK mode 600 level admin#stats socket $USOCK level user#" "$T_DIR/ppb.cfg" >"$T_DIR/user.cfg"
PV2=$(free_port)
PH2=$(free_port)
sed -i -e "s/127.0.0.1:$PV\$/127.0.0.1:$PV2/" -e "s/127.0.0.1:$PH\$/127.0.0.1:$PH2/" "$T_DIR/user.cfg"
start_bg ppbridge-user "$PPB_BIN" -f "$T_DIR/user.cfg" -d
wait_log "$T_DIR/ppbridge-user.log" 'ppbridge .* started' 15
USER_PID=$LAST_PID
check_err_u() { local out; out=$(adm "$1" "$USOCK"); [ "$out" = "$2" ] || fail "level user: '$1' answered '$out'"; }
check_err_u "set server vip/s1 state drain" "Permission denied"
check_err_u "reload" "Permission denied"
adm "show stat" "$USOCK" | head -n 1 | grep -qx -- "$hap_header" || fail "level user: show stat"
kill -TERM "$USER_PID"
wait "$USER_PID" || fail "the level-user ppbridge exited with status $?"
check_sanitizers "$T_DIR/ppbridge-user.log"
[ ! -e "$USOCK" ] || fail "the socket file was left behind"
ok "level user: show only; set and reload denied; socket removed at exit"

# ---- show errors: a malformed HTTP request ----
python3 "$PEERS" raw --connect "127.0.0.1:$PH" 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n' >"$T_DIR/bad.out"
grep -q '^HTTP/1.[01] 400' "$T_DIR/bad.out" || fail "malformed request not refused: $(head -n 1 "$T_DIR/bad.out")"
adm "show errors" | grep -q "^Total events captured on \[" || fail "show errors: $(adm 'show errors')"
adm "show errors" | grep -q "frontend web, client 127.0.0.1:[0-9]*: " || fail "show errors: $(adm 'show errors')"
ok "show errors lists the refused request"

stop_ppb
[ ! -e "$SOCK" ] || fail "the socket file was left behind"
