#!/bin/bash
# What ppbridge answers itself on a mode http listener: monitor-uri (200,
# 503 while `monitor fail` holds), the Prometheus exposition
# (use-service), the stats page and its CSV, and the page's actions.
#   - HAProxy 2.6's order on one request (monitor-uri, http-request
#     use-service, stats uri, else the backend), checked against HAProxy
#     running the same listener: the same status and content type for
#     every target;
#   - stats auth: 401 with a challenge without or with wrong credentials;
#   - ;csv equals the admin socket's `show stat` (the other proxies' rows);
#   - actions: a same-origin POST sets a server to maint and switches a
#     frontend's client-ip (303 ;st=DONE, one audit log line each); a
#     foreign or null Origin gets 403, a GET with the same fields and a
#     read-only user change nothing; the security headers on every answer;
#   - the strict parser still guards the listener (400), bodies are bounded
#     (413, 411), and the page is served on a TLS bind too.
. "$PPB_SRCDIR/tests/integration/lib.sh"

PW1=$(free_port); PW2=$(free_port); PM=$(free_port)
PS=$(free_port); PR=$(free_port); PT=$(free_port); PA=$(free_port); PH=$(free_port)
SOCK=$T_DIR/admin.sock
make_certs
start_http w1 "127.0.0.1:$PW1"
start_http w2 "127.0.0.1:$PW2"
start_http m1 "127.0.0.1:$PM"
wait_port 127.0.0.1 "$PW1"
wait_port 127.0.0.1 "$PW2"

# listen PORT: the monitoring listener, the same for ppbridge and HAProxy.
listen() {
	cat <<CFG
listen stats
    bind 127.0.0.1:$1
    monitor-uri /healthz
    monitor fail if { nbsrv(be_maint) lt 1 }
    http-request use-service prometheus-exporter if { path /metrics } || { path_beg /healthz } || { path /st/metrics }
    stats enable
    stats uri /st
    stats realm Ops
    stats auth admin:s3cret
    stats admin if TRUE
CFG
}
common() {
	cat <<CFG
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
backend web
    server w1 127.0.0.1:$PW1
    server w2 127.0.0.1:$PW2
backend be_maint
    server m1 127.0.0.1:$PM
frontend apps
    bind 127.0.0.1:$PA
    default_backend web
CFG
}
{
	printf 'global\n    stats socket %s level admin\n' "$SOCK"
	common
	listen "$PS"
	cat <<CFG
listen readonly
    bind 127.0.0.1:$PR
    stats uri /
    stats auth viewer:v
listen secure
    bind 127.0.0.1:$PT ssl crt $PKI/srv.pem
    stats uri /
    stats auth admin:s3cret
    stats admin if TRUE
CFG
} >"$T_DIR/ppb.cfg"
{
	common
	listen "$PH"
} >"$T_DIR/hap.cfg"
"$PPB_BIN" -c -f "$T_DIR/ppb.cfg" >"$T_DIR/check.log" 2>&1 || fail "ppbridge -c: $(cat "$T_DIR/check.log")"
start_ppb "$T_DIR/ppb.cfg"
start_haproxy haproxy "$T_DIR/hap.cfg"
wait_port 127.0.0.1 "$PS"
wait_port 127.0.0.1 "$PH"

# ---- HAProxy's order on one request, compared with HAProxy 2.6 ----
# code PORT TARGET [curl args]: "status content-type"
code() {
	local port=$1 target=$2
	shift 2
	curl -s -o /dev/null -w '%{http_code} %{content_type}' "$@" "http://127.0.0.1:$port$target"
}
n=0
for target in /healthz '/healthz?x=1' /healthz/deep /metrics /st/metrics /st '/st;csv' /st/page /other; do
	for auth in "" "-u admin:s3cret" "-u admin:wrong"; do
		# shellcheck disable=SC2086 # $auth: zero or two words
		p=$(code "$PS" "$target" $auth)
		# shellcheck disable=SC2086
		h=$(code "$PH" "$target" $auth)
		# Content types: HAProxy adds no charset to its own; compare the type.
		[ "${p%%;*}" = "${h%%;*}" ] || fail "GET $target ${auth:-(no auth)}: ppbridge [$p], HAProxy 2.6 [$h]"
		n=$((n + 1))
	done
done
ok "precedence: $n requests answered alike by ppbridge and HAProxy 2.6 (monitor-uri, use-service, stats, backend)"

# ---- monitor-uri and monitor fail ----
[ "$(code "$PS" /healthz)" = "200 text/html" ] || fail "monitor-uri: $(code "$PS" /healthz)"
"$PPB_BIN" ctl "$SOCK" set server be_maint/m1 state maint >/dev/null || fail "ctl set server"
[ "$(code "$PS" /healthz)" = "503 text/html" ] || fail "monitor fail: $(code "$PS" /healthz)"
"$PPB_BIN" ctl "$SOCK" set server be_maint/m1 state ready >/dev/null || fail "ctl set server"
[ "$(code "$PS" /healthz)" = "200 text/html" ] || fail "monitor back: $(code "$PS" /healthz)"
ok "monitor-uri: 200, 503 while 'monitor fail' holds (be_maint/m1 in maint), 200 again"

# ---- authentication and headers ----
curl -s -D "$T_DIR/h401" -o /dev/null "http://127.0.0.1:$PS/st"
head -n 1 "$T_DIR/h401" | grep -q ' 401 ' || fail "no credentials: $(head -n 1 "$T_DIR/h401")"
grep -qi '^www-authenticate: Basic realm="Ops"' "$T_DIR/h401" || fail "401 without the challenge"
[ "$(code "$PS" /st -u admin:nope)" = "401 text/html" ] || fail "wrong password accepted"
[ "$(code "$PS" /st -u nobody:s3cret)" = "401 text/html" ] || fail "unknown user accepted"
curl -s -D "$T_DIR/h200" -o "$T_DIR/page.html" -u admin:s3cret "http://127.0.0.1:$PS/st"
head -n 1 "$T_DIR/h200" | grep -q ' 200 ' || fail "credentials refused: $(head -n 1 "$T_DIR/h200")"
for h in '^x-frame-options: DENY' "^content-security-policy: .*frame-ancestors 'none'" \
	'^cache-control: no-store' '^content-type: text/html'; do
	grep -qi -- "$h" "$T_DIR/h200" || fail "page headers lack $h"
done
grep -q 'w2' "$T_DIR/page.html" || fail "the page does not list server w2"
ok "stats auth: 401 + challenge without / with wrong credentials; 200 with the security headers"

# ---- CSV equals show stat ----
curl -s -u admin:s3cret "http://127.0.0.1:$PS/st;csv" >"$T_DIR/page.csv"
"$PPB_BIN" ctl "$SOCK" show stat >"$T_DIR/show.csv" || fail "ctl show stat"
# The listener's own rows count the very requests that fetch them.
grep -Ev '^(stats|readonly|secure),' "$T_DIR/page.csv" >"$T_DIR/a.csv"
grep -Ev '^(stats|readonly|secure),' "$T_DIR/show.csv" | sed '/^$/d' >"$T_DIR/b.csv"
[ "$(head -n 1 "$T_DIR/a.csv")" = "$(head -n 1 "$T_DIR/show.csv")" ] || fail "CSV header differs"
diff "$T_DIR/a.csv" "$T_DIR/b.csv" >"$T_DIR/csv.diff" || fail "CSV differs from show stat: $(head -n 5 "$T_DIR/csv.diff")"
[ "$(wc -l <"$T_DIR/a.csv")" -ge 6 ] || fail "CSV too short"
ok ";csv is show stat's CSV ($(wc -l <"$T_DIR/a.csv") lines compared)"

# ---- actions ----
state_of() { # BACKEND SERVER: the status column of show stat
	"$PPB_BIN" ctl "$SOCK" show stat | awk -F, -v b="$1" -v s="$2" '$1 == b && $2 == s {print $18}'
}
iid=$("$PPB_BIN" ctl "$SOCK" show stat | awk -F, '$1 == "web" && $2 == "BACKEND" {print $28}')
[ -n "$iid" ] || fail "no iid for backend web"
post() { # PORT BODY [curl args]: "status location"
	local port=$1 body=$2
	shift 2
	curl -s -o /dev/null -w '%{http_code} %header{location}' -X POST \
		-H 'Content-Type: application/x-www-form-urlencoded' --data "$body" "$@" \
		"http://127.0.0.1:$port/st"
}
same="Origin: http://127.0.0.1:$PS"
r=$(post "$PS" "b=%23$iid&s=w2&action=maint" -u admin:s3cret -H "Origin: http://evil.example")
[ "${r%% *}" = 403 ] || fail "foreign Origin: $r"
r=$(post "$PS" "b=%23$iid&s=w2&action=maint" -u admin:s3cret -H "Origin: null")
[ "${r%% *}" = 403 ] || fail "null Origin: $r"
r=$(post "$PS" "b=%23$iid&s=w2&action=maint" -u admin:s3cret -H "Referer: http://evil.example/st")
[ "${r%% *}" = 403 ] || fail "foreign Referer: $r"
r=$(post "$PS" "b=%23$iid&s=w2&action=maint" -H "$same")
[ "${r%% *}" = 401 ] || fail "POST without credentials: $r"
curl -s -o /dev/null -u admin:s3cret "http://127.0.0.1:$PS/st?b=%23$iid&s=w2&action=maint"
[ "$(state_of web w2)" = "no check" ] || fail "a refused action changed w2: $(state_of web w2)"
r=$(post "$PS" "b=%23$iid&s=w2&action=maint" -u admin:s3cret -H "$same")
[ "$r" = "303 /st;st=DONE" ] || fail "same-origin POST: $r"
[ "$(state_of web w2)" = "MAINT" ] || fail "w2 not in MAINT: $(state_of web w2)"
wait_log "$T_DIR/ppbridge.log" "stats page: user 'admin' from 127.0.0.1:[0-9]+: 'set server web/w2 state maint': done" 5
[ "$(count_lines "$T_DIR/ppbridge.log" "stats page: user .* refused")" -ge 3 ] ||
	fail "refused POSTs not logged: $(grep 'stats page' "$T_DIR/ppbridge.log")"
r=$(post "$PS" "b=web&s=w2&s=w1&action=ready" -u admin:s3cret)
[ "$r" = "303 /st;st=DONE" ] || fail "scripted POST (no Origin, b=<name>): $r"
[ "$(state_of web w2)" = "no check" ] || fail "w2 not ready: $(state_of web w2)"
r=$(post "$PS" "b=%23$iid&s=w2&action=shutdown" -u admin:s3cret -H "$same")
[ "$r" = "303 /st;st=ERRP" ] || fail "unsupported action: $r"
r=$(post "$PS" "fe=apps&client_ip=proxy-v2&action=set-client-ip" -u admin:s3cret -H "$same")
[ "$r" = "303 /st;st=DONE" ] || fail "client-ip switch: $r"
"$PPB_BIN" ctl "$SOCK" show frontends | grep -q '^apps .* proxy-v2 runtime' ||
	fail "client-ip not switched: $("$PPB_BIN" ctl "$SOCK" show frontends)"
curl -s -o /dev/null -w '%{http_code} %header{location}\n' -X POST -u viewer:v \
	-H 'Content-Type: application/x-www-form-urlencoded' --data "b=%23$iid&s=w1&action=maint" \
	"http://127.0.0.1:$PR/" >"$T_DIR/ro"
grep -q '^303 .*;st=DENY$' "$T_DIR/ro" || fail "read-only user: $(cat "$T_DIR/ro")"
[ "$(state_of web w1)" = "no check" ] || fail "read-only user changed w1"
r=$(post "$PS" "fe=stats&client_ip=proxy-v2&action=set-client-ip" -u admin:s3cret -H "$same")
[ "$r" = "303 /st;st=ERRP" ] || fail "client-ip switch of the stats listener itself: $r"
"$PPB_BIN" ctl "$SOCK" set frontend stats client-ip proxy-v2 | grep -q 'only answers requests itself' ||
	fail "the admin socket switched the stats listener's client-ip"
ok "actions: same-origin POST -> 303 st=DONE and logged; foreign/null Origin 403; GET and read-only change nothing"

# ---- bounds, strictness, HEAD, TLS, log ----
r=$(python3 "$PEERS" raw --connect "127.0.0.1:$PS" 'GET /st HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n' | head -n 1)
case $r in *" 400 "*) ;; *) fail "duplicate Host: $r" ;; esac
big=$(head -c 20000 /dev/zero | tr '\0' a)
r=$(post "$PS" "x=$big" -u admin:s3cret -H "$same")
[ "${r%% *}" = 413 ] || fail "20 kB form: $r"
r=$(curl -s -o /dev/null -w '%{http_code}' -u admin:s3cret -H 'Transfer-Encoding: chunked' \
	-H 'Content-Type: application/x-www-form-urlencoded' --data 'a=b' "http://127.0.0.1:$PS/st")
[ "$r" = 411 ] || fail "chunked form: $r"
r=$(curl -s -I -u admin:s3cret -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:$PS/st")
[ "$r" = "200 0" ] || fail "HEAD: $r"
r=$(curl -s --cacert "$PKI/ca.crt" -o /dev/null -w '%{http_code}' -u admin:s3cret "https://localhost:$PT/")
[ "$r" = 200 ] || fail "page over TLS: $r"
wait_log "$T_DIR/ppbridge.log" 'stats stats/<STATS> .* 200 .* LR .*"GET /st HTTP/1.1"' 5
wait_log "$T_DIR/ppbridge.log" 'stats stats/<PROMEX> .* 200 .*"GET /metrics HTTP/1.1"' 5
[ "$(count_lines "$T_DIR/ppbridge.log" 'GET /healthz HTTP')" -eq 0 ] || fail "monitor requests were logged"
ok "400 for a duplicate Host, 413 / 411 for bodies, HEAD, TLS bind, access log lines"

stop_ppb
