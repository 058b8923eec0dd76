#!/bin/bash
# Server faults under keep-alive load, through `mode http` + forwardfor
# frontends with three servers each (and `mode tcp` where it applies):
#  (a) a server that resets (RST) before or in the middle of an answer:
#      only those requests fail (502 / a cut connection), none is replayed
#      but a GET that rode a reused connection (documented), every other
#      request gets its 200;
#  (b) a SYN black hole (full accept queue): timeout connect, retries 2,
#      option redispatch - zero failures;
#  (c) a real HAProxy router killed and restarted under load: only
#      requests in flight when it died may fail; DOWN within
#      inter + (fall-1)*fastinter + timeout check, UP again after restart;
#  (d) a server that never answers: 504 at timeout server for those
#      requests only.
# HAProxy's retry semantics: only a failed connect is retried.
. "$PPB_SRCDIR/tests/integration/lib.sh"
FAULTS="$PPB_SRCDIR/tests/integration/faults.py"
need ss

# Python starts slowly here (a pyenv shim: ~0.7 s): one start for all ports.
read -r PR1 PR2 PR3 PRST PHANG PBH PDEAD PT1 PT2 PTRST FA FB FC FD TB TA TR F1 PSEQ \
	<<<"$(python3 "$FAULTS" ports 19)"
# PR1-3: HAProxy routers; PRST: resets every 4th request (before any byte
# and mid-body in turn); PHANG: never answers every 3rd request; PBH: SYN
# black hole; PDEAD: nothing listens; PSEQ: misbehaves only when a request
# asks (X-Fault); PT*: TCP servers (PTRST resets every 3rd connection
# mid-stream); FA-FD, TB, TA, TR, F1: ppbridge.
[ -n "$PSEQ" ] || hard_error "no free ports"

# ---- peers -------------------------------------------------------------------
router_cfg() { # FILE NAME:PORT...
	local f=$1
	shift
	cat >"$f" <<CFG
defaults
    mode http
    log stdout format raw local0
    option dontlognull
    timeout connect 2s
    timeout client 10s
    timeout server 10s
CFG
	for np in "$@"; do
		cat >>"$f" <<CFG
frontend ${np%%:*}
    bind 127.0.0.1:${np##*:}
    http-request capture req.hdr(x-req-id) len 40
    log-format "REQ %[capture.req.hdr(0)]"
    http-request return status 200 content-type text/plain lf-string "${np%%:*} %[req.hdr(x-req-id)]\n"
CFG
	done
}
router_cfg "$T_DIR/routers.cfg" "r1:$PR1" "r2:$PR2"
router_cfg "$T_DIR/r3.cfg" "r3:$PR3"
start_haproxy routers "$T_DIR/routers.cfg"
start_haproxy r3 "$T_DIR/r3.cfg"
R3_PID=$LAST_PID
start_bg rst python3 "$FAULTS" http --listen "127.0.0.1:$PRST" --name rst --fault rst --every 4 --log "$T_DIR/rst.req"
start_bg hang python3 "$FAULTS" http --listen "127.0.0.1:$PHANG" --name hang --fault hang --every 3 --log "$T_DIR/hang.req"
start_bg seq python3 "$FAULTS" http --listen "127.0.0.1:$PSEQ" --name seq --log "$T_DIR/seq.req"
start_bg bh python3 "$FAULTS" blackhole --listen "127.0.0.1:$PBH"
start_ident t1 "127.0.0.1:$PT1"
start_ident t2 "127.0.0.1:$PT2"
start_bg trst python3 "$FAULTS" tcp --listen "127.0.0.1:$PTRST" --name trst --every 3 --log "$T_DIR/trst.conn"
python3 "$FAULTS" waitports 10 "$PR1" "$PR2" "$PR3" "$PT1" "$PT2" || fail "peers did not start"
# The fault servers count connections and requests: no probe connects to them.
for n in rst hang seq bh trst; do wait_log "$T_DIR/$n.log" '^ready$' 10; done

# The black hole really drops SYNs on this kernel: its accept queue holds
# more than its backlog, and a connect times out.
q=$(ss -Hltn "sport = :$PBH" | awk '{print $2, $3}')
[ "${q%% *}" -gt "${q##* }" ] || fail "black hole: ss -ltn shows Recv-Q/Send-Q '$q'"
python3 -c 'import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.3)
except (TimeoutError, OSError) as e:
    sys.exit(0 if "timed out" in str(e) else 1)
sys.exit(1)' "$PBH" || fail "a connect to the black hole did not hang"
ok "black hole: accept queue Recv-Q/Send-Q = $q, a connect hangs"

# ---- ppbridge -------------------------------------------------------------------
cat >"$T_DIR/ppb.cfg" <<CFG
defaults
    mode http
    log global
    option httplog
    option forwardfor
    balance roundrobin
    timeout connect 300ms
    timeout client 5s
    timeout server 1s
    timeout http-request 2s
    timeout http-keep-alive 5s
    timeout check 300ms
    retries 2
    option redispatch
listen fe-rst
    bind 127.0.0.1:$FA
    server r1 127.0.0.1:$PR1
    server rst 127.0.0.1:$PRST
    server r2 127.0.0.1:$PR2
listen fe-bh
    bind 127.0.0.1:$FB
    server r1 127.0.0.1:$PR1
    server bh 127.0.0.1:$PBH
    server r2 127.0.0.1:$PR2
listen fe-kill
    bind 127.0.0.1:$FC
    default-server check inter 500ms fastinter 200ms fall 2 rise 1
    server r1 127.0.0.1:$PR1
    server r3 127.0.0.1:$PR3
    server r2 127.0.0.1:$PR2
listen fe-hang
    bind 127.0.0.1:$FD
    server r1 127.0.0.1:$PR1
    server hang 127.0.0.1:$PHANG
    server r2 127.0.0.1:$PR2
listen fe-one
    bind 127.0.0.1:$F1
    server seq 127.0.0.1:$PSEQ
listen tcp-bh
    mode tcp
    bind 127.0.0.1:$TB
    server t1 127.0.0.1:$PT1
    server bh 127.0.0.1:$PBH
    server t2 127.0.0.1:$PT2
listen tcp-refused
    mode tcp
    bind 127.0.0.1:$TR
    server t1 127.0.0.1:$PT1
    server dead 127.0.0.1:$PDEAD
    server t2 127.0.0.1:$PT2
listen tcp-rst
    mode tcp
    bind 127.0.0.1:$TA
    server t1 127.0.0.1:$PT1
    server trst 127.0.0.1:$PTRST
    server t2 127.0.0.1:$PT2
CFG
start_ppb "$T_DIR/ppb.cfg"
LOG=$T_DIR/ppbridge.log

# outcome FILE: "<count> <outcome>" lines, the load's tally
outcomes() { awk '{print $5}' "$1" | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}'; }
# ids whose outcome matches REGEX, sorted
ids_with() { awk -v re="$2" '$5 ~ re {print $1}' "$1" | sort; }

# ---- (a) resets ------------------------------------------------------------
python3 "$FAULTS" load --connect "127.0.0.1:$FA" --out "$T_DIR/a.out" --conns 3 --requests 120 \
	--duration 30 >"$T_DIR/a.sum" || fail "(a) load client: $(cat "$T_DIR/a.sum")"
[ "$(wc -l <"$T_DIR/a.out")" -eq 120 ] || fail "(a) $(wc -l <"$T_DIR/a.out") of 120 requests ran"
heads=$(grep -c '^rst-head ' "$T_DIR/rst.req")
mids=$(grep -c '^rst-mid ' "$T_DIR/rst.req")
if [ "$heads" -lt 2 ] || [ "$mids" -lt 2 ]; then
	fail "(a) too few resets to judge: $heads head, $mids mid"
fi
# Each id reached the servers once, but a GET reset before any byte on a
# reused server connection (position > 1 on it), replayed once (man page,
# HTTP): RFC 9110 9.2.2 allows it for idempotent methods only.
cat "$T_DIR/rst.req" >"$T_DIR/a.seen"
grep -h '^REQ c' "$T_DIR/routers.log" | awk '{print "ok - " $2}' >>"$T_DIR/a.seen"
awk '{print $3}' "$T_DIR/a.seen" | sort | uniq -d >"$T_DIR/a.twice"
awk '$1 == "rst-head" && $2 == "GET" && $5 > 1 {print $3}' "$T_DIR/rst.req" | sort >"$T_DIR/a.replayable"
extra=$(comm -23 "$T_DIR/a.twice" "$T_DIR/a.replayable")
[ -z "$extra" ] || fail "(a) requests that reached a server twice: $(echo "$extra" | head -n 5 | tr '\n' ' ')"
# Failures are exactly the reset requests that were not replayed.
awk '$1 ~ /^rst-/ {print $3}' "$T_DIR/rst.req" | sort >"$T_DIR/a.reset"
comm -23 "$T_DIR/a.reset" "$T_DIR/a.twice" >"$T_DIR/a.lost"
ids_with "$T_DIR/a.out" '^[^2]' >"$T_DIR/a.failed"
cmp -s "$T_DIR/a.lost" "$T_DIR/a.failed" ||
	fail "(a) failed requests != reset requests: failed $(tr '\n' ' ' <"$T_DIR/a.failed"), reset $(tr '\n' ' ' <"$T_DIR/a.lost") [$(outcomes "$T_DIR/a.out")]"
# A reset before any byte is a 502; one in the middle of the body a cut.
while read -r act _ id _; do
	if [ "$act" = rst-head ] && ! grep -qx "$id" "$T_DIR/a.twice"; then
		grep -q "^$id .* 502 " "$T_DIR/a.out" || fail "(a) $id reset before any byte: $(grep "^$id " "$T_DIR/a.out")"
	elif [ "$act" = rst-mid ]; then
		grep -q "^$id .* INCOMPLETE " "$T_DIR/a.out" || fail "(a) $id reset mid-body: $(grep "^$id " "$T_DIR/a.out")"
	fi
done <"$T_DIR/rst.req"
n502=$(grep -c ' 502 ' "$T_DIR/a.out")
[ "$(count_lines "$LOG" 'fe-rst: stream [0-9]+: HTTP 502: server (reset|closed) before answering')" -eq "$n502" ] ||
	fail "(a) $n502 answered 502 but the log says otherwise"
[ "$(count_lines "$LOG" 'fe-rst fe-rst/rst .* SD ')" -eq "$mids" ] || fail "(a) not one SD log line per cut answer"
ok "(a) resets: $heads before any byte, $mids mid-body; $(wc -l <"$T_DIR/a.failed") failed (502: $n502, cut: $mids)," \
	"$(wc -l <"$T_DIR/a.twice") GET replayed, the other $((120 - $(wc -l <"$T_DIR/a.failed"))) got 200 [$(outcomes "$T_DIR/a.out")]"

# The same, step by step on one server: a POST reset before any answer
# byte on a reused connection is a 502, never sent twice; a GET there is
# replayed once on a fresh connection and served.
out=$(python3 "$FAULTS" seq --connect "127.0.0.1:$F1" GET:s1 POST:s2:rst-head NEW GET:s3 GET:s4:rst-head POST:s5)
[ "$out" = "$(printf 's1 200\ns2 502\ns3 200\ns4 200\ns5 200')" ] || fail "(a) step by step: $out"
[ "$(grep -c ' s2 ' "$T_DIR/seq.req")" -eq 1 ] || fail "(a) the reset POST reached the server twice: $(cat "$T_DIR/seq.req")"
grep -q '^rst-head POST s2 [0-9]* 2$' "$T_DIR/seq.req" || fail "(a) s2 did not ride a reused connection: $(cat "$T_DIR/seq.req")"
if ! grep -q '^rst-head GET s4 [0-9]* 2$' "$T_DIR/seq.req" || ! grep -q '^ok GET s4 [0-9]* 1$' "$T_DIR/seq.req"; then
	fail "(a) the reset GET was not replayed on a fresh connection: $(cat "$T_DIR/seq.req")"
fi
ok "(a) on a reused connection: a reset POST answered 502 and sent once, a reset GET replayed once and served"

# ---- (b) SYN black hole ----------------------------------------------------
python3 "$FAULTS" load --connect "127.0.0.1:$FB" --out "$T_DIR/b.out" --conns 4 --requests 36 \
	--duration 30 >"$T_DIR/b.sum" || fail "(b) load client"
[ "$(wc -l <"$T_DIR/b.out")" -eq 36 ] || fail "(b) $(wc -l <"$T_DIR/b.out") of 36 requests ran"
[ "$(ids_with "$T_DIR/b.out" '^200$' | wc -l)" -eq 36 ] || fail "(b) failures: $(outcomes "$T_DIR/b.out")"
retried=$(count_lines "$LOG" 'fe-bh fe-bh/r[12] .* -- [0-9]+/-/-/[0-9]+/2 "')
[ "$retried" -ge 1 ] || fail "(b) no request was redispatched after 2 connect timeouts"
grep -q 'fe-bh fe-bh/bh ' "$LOG" && fail "(b) a request was logged as served by the black hole"
slowest=$(awk '{d = ($4 - $3) * 1000; if (d > m) m = d} END {printf "%d", m}' "$T_DIR/b.out")
[ "$slowest" -ge 550 ] || fail "(b) no request waited for two connect timeouts (slowest ${slowest} ms)"
ok "(b) black hole: 36/36 answered 200, $retried redispatched after 2 x timeout connect (slowest ${slowest} ms)"

out=$(python3 "$FAULTS" tcpload --connect "127.0.0.1:$TB" --count 18 --conns 3)
echo "$out" | grep -q '^connections=18 ok=18 failed=0$' || fail "(b) tcp black hole: $(echo "$out" | grep -E 'FAIL|^conn')"
echo "$out" | grep -q ' bh$' && fail "(b) tcp: the black hole greeted"
n=$(count_lines "$LOG" 'tcp-bh tcp-bh/t[12] .*/2$')
[ "$n" -ge 1 ] || fail "(b) tcp: no connection redispatched after 2 connect timeouts"
out=$(python3 "$FAULTS" tcpload --connect "127.0.0.1:$TR" --count 18 --conns 3)
echo "$out" | grep -q '^connections=18 ok=18 failed=0$' || fail "(b) tcp refused: $(echo "$out" | grep -E 'FAIL|^conn')"
ok "(b) mode tcp: 18/18 through the black hole ($n redispatched), 18/18 through a refusing server"

# ---- (c) a router killed and restarted under load --------------------------
start_bg loadc python3 "$FAULTS" load --connect "127.0.0.1:$FC" --out "$T_DIR/c.out" --conns 3 \
	--requests 5000 --duration 20 --pause 15 --stop-file "$T_DIR/c.stop"
LOADC=$LAST_PID
wait_log "$T_DIR/r3.log" '^REQ c' 10 # r3 serves the load
kill -9 "$R3_PID"
wait "$R3_PID" 2>/dev/null
t_dead=$(date +%s%3N)
wait_log "$LOG" 'Server fe-kill/r3 is DOWN' 10
stamp=$(grep -m1 'Server fe-kill/r3 is DOWN' "$LOG" | sed -E 's/^\[[A-Za-z]+\] ([0-9T:.-]+) .*/\1/')
down_ms=$(($(date -d "$stamp" +%s%3N) - t_dead))
# inter 500 + (fall-1) * fastinter 200 + timeout check 300 = 1000 ms;
# 1500 ms of slack for ASan on two busy shared cores.
[ "$down_ms" -le 2500 ] || fail "(c) DOWN ${down_ms} ms after the kill (bound 1000 + 1500 slack)"
t_back=$(date +%s%3N)
start_haproxy r3 "$T_DIR/r3.cfg"
wait_until 10 "r3 listening again" port_open 127.0.0.1 "$PR3"
t_listen=$(date +%s%3N)
wait_log "$LOG" 'Server fe-kill/r3 is UP' 10
stamp=$(grep -m1 'Server fe-kill/r3 is UP' "$LOG" | sed -E 's/^\[[A-Za-z]+\] ([0-9T:.-]+) .*/\1/')
t_up=$(date -d "$stamp" +%s%3N)
[ "$t_up" -ge "$t_back" ] || fail "(c) UP before the restart"
up_ms=$((t_up - t_listen))
# downinter (= inter) 500 + timeout check 300, plus slack; measured from
# the moment r3 listened (the check may see it a little before we do).
[ "$up_ms" -le 2300 ] || fail "(c) UP ${up_ms} ms after r3 listened again (bound 800 + 1500 slack)"
wait_log "$T_DIR/r3.log" '^REQ c' 10 # r3 serves the load again
touch "$T_DIR/c.stop"
wait "$LOADC" || fail "(c) load client failed"
total=$(wc -l <"$T_DIR/c.out")
[ "$total" -ge 60 ] || fail "(c) only $total requests ran"
late=$(awk -v t="$t_dead" '$5 != "200" && $3 * 1000 >= t' "$T_DIR/c.out")
[ -z "$late" ] || fail "(c) requests sent after r3 died failed: $(echo "$late" | head -n 3)"
nfail=$(awk '$5 != "200"' "$T_DIR/c.out" | wc -l)
after_up=$(awk -v t="$t_up" '$6 == "r3" && $3 * 1000 >= t' "$T_DIR/c.out" | wc -l)
[ "$after_up" -ge 1 ] || fail "(c) r3 got no request after it came back UP"
ok "(c) r3 killed under load: DOWN after ${down_ms} ms, UP ${up_ms} ms after it listened again;" \
	"$total requests, $nfail failed (in flight at the kill), r3 served $after_up after UP"

# ---- (d) a server that never answers ---------------------------------------
python3 "$FAULTS" load --connect "127.0.0.1:$FD" --out "$T_DIR/d.out" --conns 3 --requests 36 \
	--duration 30 >"$T_DIR/d.sum" || fail "(d) load client"
[ "$(wc -l <"$T_DIR/d.out")" -eq 36 ] || fail "(d) $(wc -l <"$T_DIR/d.out") of 36 requests ran"
awk '$1 == "hang" {print $3}' "$T_DIR/hang.req" | sort >"$T_DIR/d.hung"
ids_with "$T_DIR/d.out" '^[^2]' >"$T_DIR/d.failed"
ids_with "$T_DIR/d.out" '^504$' >"$T_DIR/d.504"
hung=$(wc -l <"$T_DIR/d.hung")
[ "$hung" -ge 2 ] || fail "(d) only $hung requests hung"
if ! cmp -s "$T_DIR/d.hung" "$T_DIR/d.failed" || ! cmp -s "$T_DIR/d.hung" "$T_DIR/d.504"; then
	fail "(d) 504s $(tr '\n' ' ' <"$T_DIR/d.504") / failures $(tr '\n' ' ' <"$T_DIR/d.failed") != hung $(tr '\n' ' ' <"$T_DIR/d.hung")"
fi
# timeout server 1s, checked by a tick of a quarter of the smallest timeout
# (250 ms here), plus slack.
awk '$5 == "504" {d = ($4 - $3) * 1000; if (d < 950 || d > 2500) {print; bad = 1}} END {exit bad}' \
	"$T_DIR/d.out" >"$T_DIR/d.bad" || fail "(d) 504 outside [950, 2500] ms: $(head -n 3 "$T_DIR/d.bad")"
[ "$(count_lines "$LOG" 'fe-hang: stream [0-9]+: HTTP 504: timeout server')" -eq "$hung" ] ||
	fail "(d) not one 'HTTP 504: timeout server' log line per hung request"
ok "(d) $hung requests hung: exactly those got 504 after ~1 s, the other $((36 - hung)) got 200"

# ---- (a) in mode tcp: a server that resets mid-stream ----------------------
out=$(python3 "$FAULTS" tcpload --connect "127.0.0.1:$TA" --count 18 --conns 3)
resets=$(grep -c '^rst ' "$T_DIR/trst.conn")
[ "$resets" -ge 2 ] || fail "(a) tcp: only $resets resets"
echo "$out" | grep -q "^connections=18 ok=$((18 - resets)) failed=$resets\$" ||
	fail "(a) tcp: $resets resets, but: $(echo "$out" | tail -n 1)"
[ "$(count_lines "$LOG" 'tcp-rst tcp-rst/trst .* SD ')" -eq "$resets" ] || fail "(a) tcp: not one SD line per reset"
ok "(a) mode tcp: $resets connections reset mid-stream failed, the other $((18 - resets)) echoed intact"

stop_ppb
ok "clean exit"
