#!/bin/bash
# Stick tables, same config, same outcome: ppbridge and HAProxy 2.6 run
# one configuration (a frontend per kind of case, each with its table)
# and every case is played against both at once; what the clients saw is
# compared, and checked against the numbers the rules promise:
#   1. conn_cur: 150 connections held from 127.0.0.1 with `reject if
#      { sc_conn_cur(0) gt 100 }`: exactly 50 refused, 127.0.0.2 served at
#      the same time; show table counts them; clear table leaves entries
#      in use, empties unused ones;
#   2. http_req_rate(10s) with `deny deny_status 429 if { sc_http_req_rate(0)
#      gt 200 }`: the 201st request onward gets 429, on fresh connections
#      and on one keep-alive connection, tracked by `tcp-request
#      connection track-sc0` and (9.) by `http-request track-sc0`;
#   3. src_conn_rate / src_http_req_rate in conditions; track-sc1
#      src,ipmask(24) counting 127.0.0.1 and 127.0.0.2 on 127.0.0.0;
#   4. tarpit (timeout tarpit 500ms): 500 after >= 500 ms;
#   5. silent-drop: no byte reaches the client, ppbridge logs the drop;
#   6. show table's format (header, key/use/exp, data names in HAProxy's
#      order, their values);
#   7. a table of size 10 passed by 20 sources: 10 entries, the newest;
#   8. a reload of ppbridge keeps the entries of a table whose line did not
#      change (HAProxy keeps nothing across a reload without `peers`: that
#      one is ppbridge's alone, not compared).
# A disagreement does not stop the test: every case runs, each mismatch is
# logged with both sides' numbers, and the test fails at the end.
. "$PPB_SRCDIR/tests/integration/lib.sh"

LOAD="$PPB_SRCDIR/tests/integration/stick_load.py"
T_START=$(now_ms)
# One port, reserved here, for every frontend: each has an address of its
# own, 127.0.1.N for HAProxy and 127.0.2.N for ppbridge (all loopback).
PF=$(free_port)
PW=$(free_port)
declare -A A
n=0
for fe in cur rate hrate src mask edge show small more; do
	n=$((n + 1))
	A[h_$fe]=127.0.1.$n:$PF
	A[p_$fe]=127.0.2.$n:$PF
done
start_bg web python3 "$LOAD" serve --listen "127.0.0.1:$PW"

# cfg SIDE [SMALL]: the configuration of side h (HAProxy) or p (ppbridge);
# SMALL: fe_small's size (the reload changes it).
cfg() {
	local s=$1 small=${2:-10}
	cat <<CFG
global
    stats socket $T_DIR/$s.sock level admin
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
backend web
    server w1 127.0.0.1:$PW
frontend fe_cur
    bind ${A[${s}_cur]}
    stick-table type ip size 100 expire 30s store conn_cur
    tcp-request connection track-sc0 src
    tcp-request connection reject if { sc_conn_cur(0) gt 100 }
    default_backend web
frontend fe_rate
    bind ${A[${s}_rate]}
    stick-table type ip size 100 expire 30s store http_req_rate(10s)
    tcp-request connection track-sc0 src
    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 200 }
    default_backend web
frontend fe_hrate
    bind ${A[${s}_hrate]}
    stick-table type ip size 100 expire 30s store http_req_rate(10s)
    http-request track-sc0 src
    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 200 }
    default_backend web
frontend fe_src
    bind ${A[${s}_src]}
    stick-table type ip size 100 expire 30s store conn_rate(10s),http_req_rate(10s)
    tcp-request connection track-sc0 src
    tcp-request connection reject if { src_conn_rate gt 8 }
    http-request deny deny_status 429 if { src_http_req_rate gt 5 }
    default_backend web
frontend fe_mask
    bind ${A[${s}_mask]}
    stick-table type ip size 100 expire 30s store conn_cnt,http_req_cnt
    tcp-request connection track-sc1 src,ipmask(24)
    http-request deny deny_status 429 if { sc_http_req_cnt(1) gt 5 }
    default_backend web
frontend fe_edge
    bind ${A[${s}_edge]}
    timeout tarpit 500ms
    tcp-request connection silent-drop if { src 127.0.0.3 }
    http-request tarpit if { path /slow }
    default_backend web
frontend fe_show
    bind ${A[${s}_show]}
    stick-table type ip size 100 expire 30s store conn_cnt,conn_cur,conn_rate(10s),sess_cnt,sess_rate(10s),http_req_cnt,http_req_rate(10s),http_err_cnt,http_err_rate(10s),bytes_in_cnt,bytes_in_rate(10s)
    tcp-request connection track-sc0 src
    http-request deny if { path /deny }
    default_backend web
frontend fe_more
    bind ${A[${s}_more]}
    stick-table type ip size 100 expire 30s store conn_cur,conn_rate(10s),http_err_rate(10s)
    tcp-request connection track-sc0 src
    tcp-request connection reject if { sc_conn_rate(0) gt 6 }
    http-request deny deny_status 404 if { src_conn_cur eq 0 }
    http-request deny deny_status 429 if { sc_http_err_rate(0) gt 2 }
    http-request deny if { path /deny }
    default_backend web
frontend fe_small
    bind ${A[${s}_small]}
    stick-table type ip size $small expire 30s store conn_cnt
    tcp-request connection track-sc0 src
    default_backend web
CFG
}
cfg h >"$T_DIR/hap.cfg"
cfg p >"$T_DIR/ppb.cfg"
"$PPB_BIN" -c -f "$T_DIR/ppb.cfg" >"$T_DIR/check.log" 2>&1 || fail "ppbridge -c: $(cat "$T_DIR/check.log")"
haproxy -c -q -f "$T_DIR/hap.cfg" >"$T_DIR/hcheck.log" 2>&1 || fail "haproxy -c: $(cat "$T_DIR/hcheck.log")"
start_haproxy haproxy "$T_DIR/hap.cfg"
HAP_PID=$LAST_PID
start_ppb "$T_DIR/ppb.cfg"
wait_port 127.0.0.1 "$PW"
wait_file "$T_DIR/h.sock"
wait_file "$T_DIR/p.sock"
# HAProxy's frontends listen once its loop runs: its stats socket
# answering says so (the file alone exists before).
hap_answers() { python3 "$LOAD" admin "$T_DIR/h.sock" show table >/dev/null 2>&1; }
wait_until 10 "HAProxy's stats socket does not answer" hap_answers

# ---- helpers ----
MISMATCHES=0
declare -A V # what each side gave, by case: V[<case>_h], V[<case>_p]
# expect WHAT GOT WANT: a check that does not stop the test.
expect() {
	if [ "$2" = "$3" ]; then
		ok "$1: $2"
	else
		t_log "MISMATCH: $1: got [$2], want [$3]"
		MISMATCHES=$((MISMATCHES + 1))
	fi
}
# expect_true WHAT COMMAND...
expect_true() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else
		t_log "MISMATCH: $what"
		MISMATCHES=$((MISMATCHES + 1))
	fi
}
mark() { t_log "---- $* (at $(($(now_ms) - T_START)) ms)"; }
side_name() { [ "$1" = h ] && echo HAProxy || echo ppbridge; }
# adm SIDE COMMAND [;; COMMAND]...: the answers of the side's admin
# socket, a line "@@ next" between two; answer N: the Nth of them.
adm() {
	local s=$1
	shift
	python3 "$LOAD" admin "$T_DIR/$s.sock" "$@"
}
answer() { awk -v n="$1" 'BEGIN { k = 1 } /^@@ next$/ { k++; next } k == n'; }
# used TEXT: the last show table header's used:N
used() { printf '%s\n' "$1" | sed -n 's/^# table: .*, used:\([0-9]*\)$/\1/p' | tail -n 1; }
# field TEXT KEY NAME: NAME's value on KEY's (first) entry line
field() {
	printf '%s\n' "$1" | awk -v k="key=$2" -v n="$3=" '
		$2 == k { for (i = 3; i <= NF; i++) if (index($i, n) == 1) { print substr($i, length(n) + 1); exit } }'
}
# norm: a show table answer with the entry addresses and exp= masked and
# the entries sorted (HAProxy lists them in key order, ppbridge in hash
# order: no contract, not compared).
norm() {
	awk '/^0x/ { sub(/^0x[0-9a-f]+:/, "0xP:"); gsub(/ exp=[0-9]+/, " exp=E");
			printf "%06d %s\n", last * 2 + 1, $0; next }
		{ last = NR; printf "%06d %s\n", NR * 2, $0 }' | sort | cut -d' ' -f2-
}
# both NAME FE SUBCOMMAND ARGS...: stick_load.py against both sides' FE at
# once; the answers in $T_DIR/NAME_h.txt and NAME_p.txt.
both() {
	local name=$1 fe=$2 sub=$3 s pids=""
	shift 3
	for s in h p; do
		python3 "$LOAD" "$sub" --connect "${A[${s}_$fe]}" "$@" >"$T_DIR/${name}_$s.txt" 2>&1 &
		pids="$pids $!"
	done
	T_PIDS="$T_PIDS $pids"
	for s in $pids; do wait "$s"; done
}
# compare_reqs WHAT FE WANT ARGS...: a `reqs` run on both sides; the
# statuses (without the timing) must equal WANT, and the connections used
# must equal HAProxy's.
compare_reqs() {
	local what=$1 fe=$2 want=$3 h p
	shift 3
	both reqs "$fe" reqs "$@"
	h=$(cat "$T_DIR/reqs_h.txt")
	p=$(cat "$T_DIR/reqs_p.txt")
	t_log "$what: HAProxy [$h] ppbridge [$p]"
	expect "$what: HAProxy statuses" "${h%% conns=*}" "$want"
	expect "$what: ppbridge statuses" "${p%% conns=*}" "$want"
	local hc=${h#* conns=} pc=${p#* conns=}
	expect "$what: ppbridge connections used (HAProxy: ${hc%% *})" "${pc%% *}" "${hc%% *}"
}

# ---- 1. conn_cur: 150 held from one source, 100 allowed ----
mark "1. conn_cur"
for s in h p; do
	start_bg "hold_$s" python3 "$LOAD" hold --connect "${A[${s}_cur]}" \
		--src 127.0.0.1 --count 150 --other-src 127.0.0.2 --other-count 5 \
		--ready "$T_DIR/$s.held" --until "$T_DIR/release" --max 60
	V[hold_$s]=$LAST_PID
done
wait_file "$T_DIR/h.held" 30
wait_file "$T_DIR/p.held" 30
for s in h p; do
	r=$(head -n 1 "$T_DIR/hold_$s.log")
	t_log "conn_cur: $(side_name $s): $r"
	case $r in
	"ok=100 refused=50 "*" other_ok=5 other_refused=0") ok "conn_cur: $(side_name $s): 100 served, 50 refused, 127.0.0.2 served" ;;
	*) expect "conn_cur: $(side_name $s)" "$r" "ok=100 refused=50 ... other_ok=5 other_refused=0" ;;
	esac
done
# How a refused client learns it (reset or close): as HAProxy.
kinds() { sed -n '1s/.*kinds=\([^ ]*\).*/\1/p' "$1" | tr ',' '\n' | cut -d: -f1 | sort -u | xargs; }
expect "conn_cur: how refused connections end, ppbridge vs HAProxy" \
	"$(kinds "$T_DIR/hold_p.log")" "$(kinds "$T_DIR/hold_h.log")"
# While they are held: show table counts them, clear table leaves them.
for s in h p; do
	out=$(adm $s show table fe_cur ";;" clear table fe_cur ";;" show table fe_cur)
	expect "conn_cur: $(side_name $s): 127.0.0.1 use/conn_cur" \
		"$(field "$out" 127.0.0.1 use)/$(field "$out" 127.0.0.1 conn_cur)" "100/100"
	expect "conn_cur: $(side_name $s): 127.0.0.2 use/conn_cur" \
		"$(field "$out" 127.0.0.2 use)/$(field "$out" 127.0.0.2 conn_cur)" "5/5"
	# HAProxy sets an entry's expiry when it is tracked (and touched) and
	# prints what is left of it, in use or not: 127.0.0.1 was last
	# tracked before the 5 connections from 127.0.0.2 and this command.
	exp=$(field "$out" 127.0.0.1 exp)
	expect_true "conn_cur: $(side_name $s): exp of an entry in use counts down from 30000 (exp=$exp)" \
		test "${exp:-30000}" -lt 29990
	expect "conn_cur: $(side_name $s): clear table leaves the entries in use" "$(used "$out")" 2
done
touch "$T_DIR/release"
wait_exit "${V[hold_h]}" 15
wait_exit "${V[hold_p]}" 15
# Every connection is gone once both entries say use=0.
released() { [ "$(adm "$1" show table fe_cur | grep -c ' use=0 ')" = 2 ]; }
for s in h p; do
	poll 10 released $s || expect "conn_cur: $(side_name $s): entries released" "$(adm $s show table fe_cur)" "use=0 twice"
	expect "conn_cur: $(side_name $s): clear table empties the unused entries" \
		"$(used "$(adm $s clear table fe_cur ";;" show table fe_cur)")" 0
done

# ---- 2. http_req_rate(10s) > 200 -> 429, tracked at the connection ----
mark "2. http_req_rate, tcp-request connection track-sc0"
compare_reqs "rate, fresh connections, tcp-request connection track-sc0" rate "200x200 429x100" \
	--count 300 --src 127.0.0.1
compare_reqs "rate, one keep-alive connection, tcp-request connection track-sc0" rate "200x200 429x100" \
	--count 300 --src 127.0.0.5 --keepalive

# ---- 3. src_* fetches; track-sc1 src,ipmask(24) ----
mark "3. src_* fetches, ipmask"
# conn 1-5: 200; 6-8: rate 6-8 > 5 -> 429; 9-10: conn_rate 9, 10 > 8 -> refused
compare_reqs "src_conn_rate gt 8 / src_http_req_rate gt 5" src "200x5 429x3 RESETx2" --count 10
compare_reqs "track-sc1 src,ipmask(24), 127.0.0.1 and .2 in turn, sc_http_req_cnt(1) gt 5" mask \
	"200x5 429x3" --count 8 --src 127.0.0.1 --src 127.0.0.2
for s in h p; do
	out=$(adm $s show table fe_mask)
	t_log "ipmask: $(side_name $s): $(printf '%s' "$out" | grep '^0x' | cut -d' ' -f2-)"
	expect "ipmask: $(side_name $s): one entry" "$(used "$out")" 1
	expect "ipmask: $(side_name $s): 127.0.0.0 conn_cnt/http_req_cnt" \
		"$(field "$out" 127.0.0.0 conn_cnt)/$(field "$out" 127.0.0.0 http_req_cnt)" "8/8"
done

# ---- 3b. sc_conn_rate, sc_http_err_rate, src_conn_cur ----
mark "3b. sc_conn_rate, sc_http_err_rate, src_conn_cur"
# src_conn_cur is 1 while the tracked connection asks (never the 404);
# /deny x3: 403s, each an error; then the error rate 3 > 2 -> 429 for
# connections 4-6, and connections 7-8 have a rate 7, 8 > 6 -> refused.
compare_reqs "deny /deny x3 (errors)" more "403x3" --count 3 --path /deny --src 127.0.0.1
compare_reqs "sc_http_err_rate gt 2, then sc_conn_rate gt 6" more "429x3 RESETx2" \
	--count 5 --src 127.0.0.1

# ---- 4. tarpit and 5. silent-drop, all at once ----
mark "4. tarpit, 5. silent-drop"
# silent-drop: HAProxy 2.6 closes the socket with TCP_REPAIR when it may
# (CAP_NET_ADMIN): nothing at all leaves, the client hears silence; else
# it resets with a TTL of 1 (which loopback delivers). A client that
# sends nothing sees which one happened; one that sends its request
# races the close on HAProxy's side (a request arriving after a repair-
# mode close is answered by the kernel's reset) and is checked for "no
# byte came back" only. 1.5 s of silence counts as "nothing came".
run_edge() { # NAME ARGS...
	local name=$1 s
	shift
	for s in h p; do
		python3 "$LOAD" once --connect "${A[${s}_edge]}" "$@" >"$T_DIR/${name}_$s.txt" 2>&1 &
		T_PIDS="$T_PIDS $!"
	done
}
run_edge tarpit --path /slow --wait 10
run_edge drop --src 127.0.0.3 --wait 1.5
run_edge dropq --src 127.0.0.3 --wait 1.5 --silent
run_edge pass --src 127.0.0.1
all_done() {
	local f
	for f in tarpit drop dropq pass; do test -s "$T_DIR/${f}_h.txt" -a -s "$T_DIR/${f}_p.txt" || return 1; done
}
wait_until 20 "tarpit / silent-drop clients still running" all_done
for s in h p; do
	read -r ms what <"$T_DIR/tarpit_$s.txt"
	t_log "tarpit: $(side_name $s): ${ms} ms, $what"
	expect "tarpit: $(side_name $s): status" "${what% *}" "HTTP/1.1 500 Internal Server Error"
	expect_true "tarpit: $(side_name $s): held >= 500 ms and < 2000 ms (${ms} ms)" \
		test "${ms:-0}" -ge 500 -a "${ms:-0}" -lt 2000
	read -r ms what <"$T_DIR/drop_$s.txt"
	t_log "silent-drop, the client sends a request: $(side_name $s): $what after ${ms} ms"
	expect "silent-drop: $(side_name $s): bytes received after the request" "${what##* }" 0
	read -r ms what <"$T_DIR/dropq_$s.txt"
	t_log "silent-drop, the client sends nothing: $(side_name $s): $what after ${ms} ms"
	V[drop_$s]=$what
	expect "silent-drop: $(side_name $s): bytes received, silent client" "${what##* }" 0
	expect "silent-drop: $(side_name $s): another source is served" "$(cut -d' ' -f2-3 "$T_DIR/pass_$s.txt")" \
		"HTTP/1.1 200"
done
expect "silent-drop: what a silent client sees, ppbridge vs HAProxy" "${V[drop_p]% *}" "${V[drop_h]% *}"
wait_log "$T_DIR/ppbridge.log" "127\.0\.0\.3.*dropped by 'tcp-request connection silent-drop' at .*ppb\.cfg:[0-9]+" 5
ok "silent-drop: ppbridge logged the drop: $(grep -m1 "dropped by 'tcp-request connection silent-drop'" \
	"$T_DIR/ppbridge.log" | cut -d' ' -f5-)"

# ---- 6. show table: HAProxy's format and values ----
mark "6. show table"
both show show reqs --src 127.0.0.1 --src 127.0.0.4 --count 4
both deny show reqs --src 127.0.0.1 --count 1 --path /deny
expect "show table: the /deny request" "$(cut -d' ' -f1 "$T_DIR/deny_p.txt")" "$(cut -d' ' -f1 "$T_DIR/deny_h.txt")"
for s in h p; do
	adm $s show table fe_show ";;" show table ";;" show table fe_show key 127.0.0.4 ";;" show table nope \
		>"$T_DIR/adm_$s.txt"
	answer 1 <"$T_DIR/adm_$s.txt" >"$T_DIR/show_$s.txt"
	answer 2 <"$T_DIR/adm_$s.txt" >"$T_DIR/tables_$s.txt"
	answer 3 <"$T_DIR/adm_$s.txt" >"$T_DIR/key_$s.txt"
	answer 4 <"$T_DIR/adm_$s.txt" >"$T_DIR/nope_$s.txt"
	f=$T_DIR/show_$s.txt
	t_log "show table fe_show: $(side_name $s):"
	sed 's/^/    /' "$f"
	expect "show table: $(side_name $s): header" "$(head -n 1 "$f")" "# table: fe_show, type: ip, size:100, used:2"
	bad=$(grep -Evc '^(# table: [a-z_]+, type: ip, size:[0-9]+, used:[0-9]+|0x[0-9a-f]+: key=[0-9.]+ use=[0-9]+ exp=[0-9]+( [a-z_]+(\([0-9]+\))?=[0-9]+)*|)$' "$f")
	expect "show table: $(side_name $s): lines of another shape" "$bad" 0
done
# Data names in the same order, the same values. bytes_in: HAProxy 2.6
# counts the size of its internal (HTX) form of a request (without its
# Connection: header, with per-block overhead: 42 for a request of 50
# bytes here), ppbridge the bytes on the wire: logged, not compared.
nobytes() { sed -E 's/ bytes_in_(cnt|rate\([0-9]+\))=[0-9]+//g'; }
expect "show table fe_show (addresses, exp and bytes_in masked), ppbridge vs HAProxy" \
	"$(norm <"$T_DIR/show_p.txt" | nobytes)" "$(norm <"$T_DIR/show_h.txt" | nobytes)"
expect "show table: http_err_cnt of 127.0.0.1 after a 403 from http-request deny, ppbridge vs HAProxy" \
	"$(field "$(cat "$T_DIR/show_p.txt")" 127.0.0.1 http_err_cnt)" \
	"$(field "$(cat "$T_DIR/show_h.txt")" 127.0.0.1 http_err_cnt)"
for src in 127.0.0.1 127.0.0.4; do
	t_log "bytes_in_cnt of $src: HAProxy $(field "$(cat "$T_DIR/show_h.txt")" $src bytes_in_cnt)," \
		"ppbridge $(field "$(cat "$T_DIR/show_p.txt")" $src bytes_in_cnt)"
done
# $(...) drops trailing newlines: the empty lines are counted apart.
expect "show table <t>: empty lines in the answer, ppbridge vs HAProxy" \
	"$(grep -c '^$' "$T_DIR/show_p.txt")" "$(grep -c '^$' "$T_DIR/show_h.txt")"
# HAProxy lists the tables newest proxy first, ppbridge in the order of
# the configuration: no contract, compared sorted.
expect "show table (every table), sorted, ppbridge vs HAProxy" \
	"$(sort "$T_DIR/tables_p.txt")" "$(sort "$T_DIR/tables_h.txt")"
for s in h p; do
	expect "show table <t> key <k>: $(side_name $s): entries" "$(grep '^0x' "$T_DIR/key_$s.txt" | cut -d' ' -f2)" \
		"key=127.0.0.4"
done
expect "show table <unknown>, ppbridge vs HAProxy" "$(cat "$T_DIR/nope_p.txt")" "$(cat "$T_DIR/nope_h.txt")"

# ---- 7. size 10, 20 sources ----
mark "7. size 10, 20 sources"
srcs=()
for i in $(seq 1 20); do srcs+=(--src "127.0.0.$i"); done
both small small reqs --count 20 "${srcs[@]}"
for s in h p; do
	out=$(adm $s show table fe_small)
	keys=$(printf '%s\n' "$out" | sed -n 's/^0x[0-9a-f]*: key=\([0-9.]*\) .*/\1/p' | sort -t. -k4,4n | xargs)
	t_log "size 10, 20 sources: $(side_name $s): $(cat "$T_DIR/small_$s.txt"); used $(used "$out"): $keys"
	expect "size 10: $(side_name $s): used" "$(used "$out")" 10
	V[small_$s]=$keys
done
# HAProxy evicts the oldest entries first (its expiry tree): the last 10
# sources stay.
expect "size 10: the entries kept, ppbridge vs HAProxy" "${V[small_p]}" "${V[small_h]}"
for s in h p; do
	expect "clear table <t> key <k>: $(side_name $s)" \
		"$(used "$(adm $s clear table fe_small key 127.0.0.20 ";;" show table fe_small)")" 9
done

# ---- 8. reload (ppbridge only) ----
mark "8. reload"
# HAProxy starts every table empty on a reload unless it has `peers` (the
# old process hands its entries over to the new one): not compared.
cnts() { grep -o ' [a-z_]*_cnt=[0-9]*' | xargs; }
before=$(adm p show table fe_mask ";;" show table fe_show)
cfg p 12 >"$T_DIR/ppb.cfg.tmp" # fe_small's line changes, no other
mv "$T_DIR/ppb.cfg.tmp" "$T_DIR/ppb.cfg"
n=$(count_lines "$T_DIR/ppbridge.log" 'reload: configuration reloaded|reload refused')
kill -HUP "$T_PPB_PID"
wait_count "$T_DIR/ppbridge.log" 'reload: configuration reloaded|reload refused' $((n + 1)) 15
wait_log "$T_DIR/ppbridge.log" 'reload: configuration reloaded' 1
small_reset() { [ "$(adm p show table fe_small | head -n 1)" = "# table: fe_small, type: ip, size:12, used:0" ]; }
poll 10 small_reset ||
	expect "reload: a changed table starts empty" "$(adm p show table fe_small | head -n 1)" \
		"# table: fe_small, type: ip, size:12, used:0"
after=$(adm p show table fe_mask ";;" show table fe_show)
t_log "reload: ppbridge before: $(printf '%s\n' "$before" | grep '^0x' | cut -d' ' -f2- | xargs)"
t_log "reload: ppbridge after:  $(printf '%s\n' "$after" | grep '^0x' | cut -d' ' -f2- | xargs)"
expect "reload: fe_mask and fe_show kept (counters)" "$(printf '%s\n' "$after" | cnts)" \
	"$(printf '%s\n' "$before" | cnts)"
expect "reload: fe_mask and fe_show kept (headers)" "$(printf '%s\n' "$after" | grep '^#')" \
	"$(printf '%s\n' "$before" | grep '^#')"

# ---- 9. http-request track-sc0 ----
mark "9. http-request track-sc0"
compare_reqs "rate, fresh connections, http-request track-sc0" hrate "200x200 429x100" \
	--count 300 --src 127.0.0.1
compare_reqs "rate, one keep-alive connection, http-request track-sc0" hrate "200x200 429x100" \
	--count 300 --src 127.0.0.5 --keepalive
# HAProxy lets go of what an http-request rule tracked when the
# transaction ends: an idle keep-alive connection holds no entry (use=0).
for s in h p; do
	start_bg "idle_$s" python3 "$LOAD" hold --connect "${A[${s}_hrate]}" --src 127.0.0.9 \
		--count 1 --ready "$T_DIR/$s.idle" --until "$T_DIR/idle.release" --max 30
done
wait_file "$T_DIR/h.idle" 10
wait_file "$T_DIR/p.idle" 10
idle_use() { IDLE_USE=$(field "$(adm "$1" show table fe_hrate key 127.0.0.9)" 127.0.0.9 use); [ "$IDLE_USE" = 0 ]; }
for s in h p; do
	poll 2 idle_use $s
	t_log "idle keep-alive connection after one request: $(side_name $s): $(head -n 1 "$T_DIR/idle_$s.log"); use=${IDLE_USE:-?}"
	V[idle_$s]=${IDLE_USE:-?}
done
expect "http-request track-sc0: an idle keep-alive connection's use=, ppbridge vs HAProxy" "${V[idle_p]}" "${V[idle_h]}"
touch "$T_DIR/idle.release"

# ---- the end ----
if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T_DIR/ppbridge.log"; then
	t_log "MISMATCH: sanitizer report in ppbridge.log: $(grep -Em1 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T_DIR/ppbridge.log")"
	MISMATCHES=$((MISMATCHES + 1))
fi
proc_alive "$HAP_PID" || fail "HAProxy exited during the test"
t_log "run time: $(($(now_ms) - T_START)) ms"
[ "$MISMATCHES" -eq 0 ] || fail "$MISMATCHES checks disagree (MISMATCH lines above)"
stop_ppb
ok "clean exit"
