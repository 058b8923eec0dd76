#!/bin/bash
# Runtime state survives: a client-IP switch and server states (weight,
# maintenance) are carried into the next generation at a reload without
# any state file, the configuration winning only where it changed that
# setting; with `client-ip-state` and `server-state-file` they survive a
# restart too; a broken state file never stops a start; the server state
# file is HAProxy's own (HAProxy 2.6 loads ours, ppbridge loads HAProxy's).
. "$PPB_SRCDIR/tests/integration/lib.sh"

PF=$(free_port); PR1=$(free_port); PR2=$(free_port); PH=$(free_port)
SOCK=$T_DIR/admin.sock
LOG=$T_DIR/ppbridge.log
STATE=$T_DIR/state
mkdir -p "$STATE"

# Two real HAProxy 2.6 routers that already take PROXY (accept-proxy):
# the xff path fails against them, the proxy-v2 path works.
router_cfg() { # n port
	cat <<CFG
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend http
    bind 127.0.0.1:$2 accept-proxy
    http-request return status 200 content-type text/plain lf-string "router=$1 src=%[src]\n"
CFG
}
router_cfg 1 "$PR1" >"$T_DIR/r1.cfg"
router_cfg 2 "$PR2" >"$T_DIR/r2.cfg"
start_haproxy r1 "$T_DIR/r1.cfg"
start_haproxy r2 "$T_DIR/r2.cfg"
wait_port 127.0.0.1 "$PR1"
wait_port 127.0.0.1 "$PR2"

# write_cfg [global lines] [r1 weight] [defaults lines]
write_cfg() {
	cat >"$T_DIR/ppb.cfg" <<CFG
global
    stats socket $SOCK mode 600 level admin
    ${1:-}
defaults
    log global
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    ${3:-}
frontend fe-apps
    bind 127.0.0.1:$PF
    mode http
    option forwardfor
    default_backend routers
backend routers
    mode http
    balance roundrobin
    server r1 127.0.0.1:$PR1 weight ${2:-10}
    server r2 127.0.0.1:$PR2 weight 10
CFG
}

adm() { "$PPB_BIN" ctl "$SOCK" "$@"; }
# The line of `show servers state` for routers/<name>.
srv_state() { adm "show servers state routers" | awk -v s="$1" '$4 == s'; }
# N requests; prints how many got a router's answer with the right source.
served() {
	local n=0 i
	for i in $(seq 1 "$1"); do
		curl -s --max-time 3 "http://127.0.0.1:$PF/" | grep -q '^router=[12] src=127.0.0.1$' &&
			n=$((n + 1))
	done
	echo "$n"
}
# reload_and_wait COUNT: SIGHUP, then wait for the COUNTth reload line.
reload_and_wait() {
	kill -HUP "$T_PPB_PID"
	wait_count "$LOG" 'reload: configuration reloaded' "$1"
}

# ---- 1. a runtime switch survives a plain reload, no state file ----
write_cfg
start_ppb "$T_DIR/ppb.cfg"
[ "$(served 3)" -eq 0 ] || fail "the xff path reached accept-proxy routers"
adm "set frontend fe-apps client-ip proxy-v2" >/dev/null || fail "set frontend"
[ "$(served 10)" -eq 10 ] || fail "proxy-v2 path before the reload"
reload_and_wait 1
n=$(served 30)
[ "$n" -eq 30 ] || fail "after a plain reload only $n of 30 requests were served (the switch was lost)"
adm "show frontends" | grep -q '^fe-apps http routers .* proxy-v2 runtime$' ||
	fail "show frontends: $(adm 'show frontends')"
grep -q 'frontend fe-apps: client-ip proxy-v2 (runtime choice kept across the reload)' "$LOG" ||
	fail "the carried switch is not logged"
adm reload | grep -q 'Success=1' || fail "admin reload"
[ "$(served 10)" -eq 10 ] || fail "after an admin reload"
ok "a runtime switch to proxy-v2 survives SIGHUP and the admin reload without a state file: 30/30 + 10/10"

# ---- 2. server weight and maintenance across reloads (HAProxy's rule) ----
adm "set server routers/r1 weight 3" >/dev/null
adm "set server routers/r2 state maint" >/dev/null
reload_and_wait 3
srv_state r1 | awk '{exit !($8 == 3 && $9 == 10)}' || fail "runtime weight lost: $(srv_state r1)"
srv_state r2 | awk '{exit !($7 == 1)}' || fail "maintenance lost: $(srv_state r2)"
write_cfg "" 20
reload_and_wait 4
srv_state r1 | awk '{exit !($8 == 20 && $9 == 20)}' ||
	fail "a changed configured weight must win: $(srv_state r1)"
srv_state r2 | awk '{exit !($7 == 1)}' || fail "maintenance lost at the second reload"
adm "set server routers/r2 state ready" >/dev/null
ok "runtime weight kept until the configured weight changes (then 20 from the config); maintenance kept"
stop_ppb
mv "$LOG" "$T_DIR/ppbridge-1.log"

# ---- 3. across a restart, with both state files ----
STATE_LINES="client-ip-state $STATE/client-ip.state
    server-state-file server.state
    server-state-base $STATE"
write_cfg "$STATE_LINES" 10 "load-server-state-from-file global"
start_ppb "$T_DIR/ppb.cfg"
grep -q "server-state-file $STATE/server.state: not there yet" "$LOG" || fail "first start: no note"
adm "set frontend fe-apps client-ip proxy-v2" >/dev/null
adm "set server routers/r1 weight 7" >/dev/null
adm "set server routers/r2 state drain" >/dev/null
# The server state file follows within a second: wait for it.
poll 5 grep -q '^[0-9]* routers [0-9]* r2 127.0.0.1 2 8 ' "$STATE/server.state" ||
	fail "server-state-file not written after a change: $(cat "$STATE/server.state" 2>&1)"
grep -qx 'fe-apps proxy-v2 xff' "$STATE/client-ip.state" || fail "client-ip-state: $(cat "$STATE/client-ip.state")"
ls "$STATE" | grep -q '\.tmp$' && fail "a temporary file was left: $(ls "$STATE")"
stop_ppb
mv "$LOG" "$T_DIR/ppbridge-2.log"
start_ppb "$T_DIR/ppb.cfg"
n=$(served 30)
[ "$n" -eq 30 ] || fail "after a restart only $n of 30 requests were served"
adm "show frontends" | grep -q 'proxy-v2 state-file$' || fail "show frontends: $(adm 'show frontends')"
srv_state r1 | awk '{exit !($8 == 7)}' || fail "weight not restored: $(srv_state r1)"
srv_state r2 | awk '{exit !($7 == 8)}' || fail "drain not restored: $(srv_state r2)"
ok "client-ip switch, weight and drain survive a restart (state files under $STATE)"
stop_ppb
mv "$LOG" "$T_DIR/ppbridge-3.log"

# ---- 4. broken state files: one log line each, the daemon starts ----
{
	echo "1"
	echo "# be_id be_name srv_id srv_name"
	echo "9 nosuch 1 x 127.0.0.1 2 0 1 1 0 6 3 4 6 0 0 0 - 80 - 0 0 - - 0"
	echo "9 routers 9 r9 127.0.0.1 2 0 1 1 0 6 3 4 6 0 0 0 - 80 - 0 0 - - 0"
	echo "9 routers 1 r1 127.0.0.1 2 zero 1 1 0 6 3 4 6 0 0 0 - 80 - 0 0 - - 0"
	echo "9 routers 2 r2 10.9.9.9 2 1 1 1 0 6 3 4 6 0 0 0 - $PR2 - 0 0 - - 0"
	printf "9 routers 1 r1 127.0.0.1 2 1 1 1 0 6"
} >"$STATE/server.state"
printf 'nosuch proxy-v2 xff\nfe-apps proxy-v9 xff\nfe-apps proxy-v2' >"$STATE/client-ip.state"
start_ppb "$T_DIR/ppb.cfg"
for re in "server.state:3: no backend 'nosuch'" "server.state:4: no server 'routers/r9'" \
	'server.state:5: invalid srv_admin_state' 'server.state:6: server routers/r2: the configuration moved it' \
	'server.state:7: truncated line ignored' "client-ip.state:1: no frontend 'nosuch'" \
	'client-ip.state:2: unknown client-ip strategy' 'client-ip.state:3: truncated line ignored'; do
	grep -q -- "$re" "$LOG" || fail "not reported: $re"
done
adm "show frontends" | grep -q ' xff config$' || fail "a broken line applied"
srv_state r1 | awk '{exit !($7 == 0 && $8 == 10)}' || fail "r1 changed: $(srv_state r1)"
stop_ppb
mv "$LOG" "$T_DIR/ppbridge-4.log"
rm -f "$STATE/client-ip.state" "$STATE/server.state"
mkdir "$STATE/client-ip.state" "$STATE/server.state" # unreadable as files
start_ppb "$T_DIR/ppb.cfg"
grep -q "client-ip-state $STATE/client-ip.state: cannot read it" "$LOG" || fail "unreadable client-ip-state"
grep -q "server-state-file $STATE/server.state: cannot read it" "$LOG" || fail "unreadable server-state-file"
adm "set server routers/r1 weight 2" >/dev/null
wait_log "$LOG" "server-state-file: cannot write $STATE/server.state" 5
[ "$(count_lines "$LOG" 'server-state-file: cannot write')" -eq 1 ] || fail "write failures flood the log"
stop_ppb
rmdir "$STATE/client-ip.state" "$STATE/server.state"
mv "$LOG" "$T_DIR/ppbridge-5.log"
ok "truncated, malformed, unknown-name, moved-server and unreadable state files: one log line each, start not stopped"

# ---- 5. same format as HAProxy 2.6, both ways ----
# HAProxy with the same backend loads the file ppbridge wrote...
write_cfg "$STATE_LINES" 10 "load-server-state-from-file global"
start_ppb "$T_DIR/ppb.cfg"
adm "set server routers/r1 state maint" >/dev/null
adm "set server routers/r2 weight 4" >/dev/null
stop_ppb
mv "$LOG" "$T_DIR/ppbridge-6.log"
cat >"$T_DIR/hap.cfg" <<CFG
global
    stats socket $T_DIR/hap.sock mode 600 level admin
    server-state-file $STATE/server.state
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    load-server-state-from-file global
listen fe-apps
    bind 127.0.0.1:$PH
    server r1 127.0.0.1:$PR1 weight 10
    server r2 127.0.0.1:$PR2 weight 10
backend routers
    server r1 127.0.0.1:$PR1 weight 10
    server r2 127.0.0.1:$PR2 weight 10
CFG
start_haproxy hap "$T_DIR/hap.cfg"
wait_file "$T_DIR/hap.sock"
hap() { "$PPB_BIN" ctl "$T_DIR/hap.sock" "$@"; }
hap "show servers state routers" >"$T_DIR/hap-state.txt" || fail "haproxy socket"
awk '$4 == "r1" {exit !($7 == 1)}' "$T_DIR/hap-state.txt" || fail "HAProxy did not load r1's maintenance: $(cat "$T_DIR/hap-state.txt")"
awk '$4 == "r2" {exit !($8 == 4)}' "$T_DIR/hap-state.txt" || fail "HAProxy did not load r2's weight: $(cat "$T_DIR/hap-state.txt")"
# ...and ppbridge loads the file HAProxy's `show servers state` printed.
hap "set server routers/r1 state ready" >/dev/null
hap "set server routers/r2 state drain" >/dev/null
hap "set server routers/r2 weight 9" >/dev/null
hap "show servers state" >"$STATE/server.state"
start_ppb "$T_DIR/ppb.cfg"
srv_state r1 | awk '{exit !($7 == 0)}' || fail "r1 still in maintenance: $(srv_state r1)"
srv_state r2 | awk '{exit !($7 == 8 && $8 == 9)}' || fail "HAProxy's file not applied: $(srv_state r2)"
stop_ppb
ok "HAProxy 2.6 loads ppbridge's server-state-file (maint, weight); ppbridge loads HAProxy's (drain, weight)"
