#!/bin/bash
# The Prometheus exposition against HAProxy 2.6's own exporter: a real
# HAProxy and ppbridge run the same proxies (a mode tcp and a mode http
# frontend, servers with TCP and HTTP checks, one server down, one in
# maintenance); HAProxy serves its exporter on a `stats` frontend. Then:
#  (a) every haproxy_* family ppbridge prints is in HAProxy's output with
#      the same TYPE, HELP and label names;
#  (b) the core families dashboards rely on are in both;
#  (c) `promtool check metrics` finds nothing wrong in ppbridge's text;
#  (d) after the same requests to both, the counters moved the same way
#      and the states (servers, checks, backends) agree.
. "$PPB_SRCDIR/tests/integration/lib.sh"

need promtool

P1=$(free_port)
P2=$(free_port)
PD=$(free_port) # nothing listens: s3 is DOWN (L4CON) for both
PW=$(free_port)
PW2=$(free_port) # w2 is `disabled`: nothing needed
HS=$(free_port)
HT=$(free_port)
HH=$(free_port)
QT=$(free_port)
QH=$(free_port)
QS=$(free_port)
SOCK=$T_DIR/admin.sock
start_ident s1 "127.0.0.1:$P1"
start_ident s2 "127.0.0.1:$P2"
start_http w1 "127.0.0.1:$PW"
for p in "$P1" "$P2" "$PW"; do wait_port 127.0.0.1 "$p"; done

# The proxies both run: proxies TCP_PORT HTTP_PORT
proxies() {
	cat <<CFG
defaults
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend fe_tcp
    mode tcp
    bind 127.0.0.1:$1
    default_backend be_tcp
frontend fe_http
    mode http
    option forwardfor
    bind 127.0.0.1:$2
    default_backend be_http
backend be_tcp
    mode tcp
    balance roundrobin
    server s1 127.0.0.1:$P1 check inter 300 fall 2
    server s2 127.0.0.1:$P2 check inter 300 fall 2 weight 3
    server s3 127.0.0.1:$PD check inter 300 fall 2
backend be_http
    mode http
    option httpchk GET /
    server w1 127.0.0.1:$PW check inter 300 maxconn 40
    server w2 127.0.0.1:$PW2 disabled
CFG
}

{
	printf 'global\n    maxconn 500\n    nbthread 2\n'
	printf 'frontend stats\n    mode http\n    bind 127.0.0.1:%s\n' "$HS"
	printf '    http-request use-service prometheus-exporter if { path /metrics }\n'
	proxies "$HT" "$HH"
} >"$T_DIR/hap.cfg"
# The same `frontend stats` for ppbridge: its /metrics over HTTP, as
# HAProxy's; the admin socket's `show metrics` must say the same.
{
	printf 'global\n    maxconn 500\n    nbthread 2\n    stats socket %s mode 600 level admin\n' "$SOCK"
	printf 'frontend stats\n    mode http\n    bind 127.0.0.1:%s\n' "$QS"
	printf '    http-request use-service prometheus-exporter if { path /metrics }\n'
	proxies "$QT" "$QH"
} >"$T_DIR/ppb.cfg"
start_haproxy haproxy "$T_DIR/hap.cfg"
start_ppb "$T_DIR/ppb.cfg"
for p in "$HS" "$HT" "$HH" "$QS" "$QT" "$QH"; do wait_port 127.0.0.1 "$p"; done
wait_file "$SOCK"

fetch_hap() { curl -sf "http://127.0.0.1:$HS/metrics" >"$1"; }
fetch_ppb() { curl -sf "http://127.0.0.1:$QS/metrics" >"$1"; }

# The exposition, read: prom.py FILE... (see its commands below).
cat >"$T_DIR/prom.py" <<'EOF'
import re, sys

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

def parse(path):
    types, helps, samples = {}, {}, []
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("# TYPE "):
            _, _, name, t = line.split(" ", 3)
            types[name] = t
        elif line.startswith("# HELP "):
            _, _, name, h = line.split(" ", 3)
            helps[name] = h
        elif line and not line.startswith("#"):
            m = SAMPLE.match(line)
            if not m:
                sys.exit("bad line in %s: %s" % (path, line))
            samples.append((m.group(1), dict(LABEL.findall(m.group(2) or "")), m.group(3)))
    return types, helps, samples

def label_sets(samples):
    sets = {}
    for name, labels, _ in samples:
        sets.setdefault(name, set()).add(tuple(sorted(labels)))
    return sets

def select(samples, name, want):
    return [v for n, l, v in samples if n == name and all(l.get(k) == x for k, x in want.items())]

def parse_want(args):
    return dict(a.split("=", 1) for a in args)

cmd = sys.argv[1]
if cmd == "compare":  # compare HAP PPB REQUIRED...: (a) and (b)
    ht, hh, hs = parse(sys.argv[2])
    pt, ph, ps = parse(sys.argv[3])
    hsets, psets, bad = label_sets(hs), label_sets(ps), []
    for name, t in sorted(pt.items()):
        if not name.startswith("haproxy_"):
            continue
        if name not in ht:
            bad.append("%s: not in HAProxy's output" % name)
        elif ht[name] != t:
            bad.append("%s: TYPE %s, HAProxy %s" % (name, t, ht[name]))
        elif ph.get(name) != hh.get(name):
            bad.append("%s: HELP '%s', HAProxy '%s'" % (name, ph.get(name), hh.get(name)))
        elif not psets.get(name, set()) <= hsets.get(name, set()):
            bad.append("%s: labels %s, HAProxy %s" % (name, sorted(psets.get(name, set())),
                                                    sorted(hsets.get(name, set()))))
    for name in sys.argv[4:]:
        for who, types, sets in (("HAProxy", ht, hsets), ("ppbridge", pt, psets)):
            if name not in types or name not in sets:
                bad.append("%s: missing from %s" % (name, who))
    print("\n".join(bad))
    sys.exit(1 if bad else 0)
if cmd == "get":  # get FILE NAME [LABEL=VALUE...]: the one value, or "none"
    v = select(parse(sys.argv[2])[2], sys.argv[3], parse_want(sys.argv[4:]))
    print(v[0] if len(v) == 1 else "none")
if cmd == "sum":  # sum FILE NAME [LABEL=VALUE...]
    print(sum(int(float(v)) for v in select(parse(sys.argv[2])[2], sys.argv[3], parse_want(sys.argv[4:]))))
if cmd == "same":  # same HAP PPB "NAME LABEL=VALUE..."...: each line reads the same
    hs, ps, bad = parse(sys.argv[2])[2], parse(sys.argv[3])[2], []
    for spec in sys.argv[4:]:
        name, *want = spec.split()
        h, p = select(hs, name, parse_want(want)), select(ps, name, parse_want(want))
        if len(h) != 1:
            bad.append("%s: %d lines in HAProxy's output" % (spec, len(h)))
        elif h != p:
            bad.append("%s: HAProxy %s, ppbridge %s" % (spec, h[0], ",".join(p) or "none"))
    print("\n".join(bad))
    sys.exit(1 if bad else 0)
if cmd == "grew":  # grew F0 F1 "NAME LABEL=VALUE... =N|>N"...: how lines summed grew
    s0, s1, bad = parse(sys.argv[2])[2], parse(sys.argv[3])[2], []
    for spec in sys.argv[4:]:
        name, *want, cond = spec.split()
        d = sum(int(float(v)) for v in select(s1, name, parse_want(want))) - \
            sum(int(float(v)) for v in select(s0, name, parse_want(want)))
        if not (d == int(cond[1:]) if cond[0] == "=" else d > int(cond[1:])):
            bad.append("%s: grew by %d" % (spec, d))
    print("\n".join(bad))
    sys.exit(1 if bad else 0)
if cmd == "state":  # state FILE NAME [LABEL=VALUE...]: the state label whose line is 1
    _, _, s = parse(sys.argv[2])
    want = parse_want(sys.argv[4:])
    on = [l["state"] for n, l, v in s if n == sys.argv[3] and v == "1" and
          all(l.get(k) == x for k, x in want.items())]
    print(",".join(on) or "none")
EOF
prom() { python3 "$T_DIR/prom.py" "$@"; }

# Both have run their checks enough: s1 UP (L4OK), s3 DOWN (L4CON), w1 UP
# (L7OK), w2 in maintenance.
settled() { # FILE
	[ "$(prom state "$1" haproxy_server_status proxy=be_tcp server=s1)" = UP ] &&
		[ "$(prom state "$1" haproxy_server_status proxy=be_tcp server=s3)" = DOWN ] &&
		[ "$(prom state "$1" haproxy_server_check_status proxy=be_tcp server=s3)" = L4CON ] &&
		[ "$(prom state "$1" haproxy_server_check_status proxy=be_http server=w1)" = L7OK ] &&
		[ "$(prom state "$1" haproxy_server_status proxy=be_http server=w2)" = MAINT ]
}
hap_settled() { fetch_hap "$T_DIR/hap.txt" && settled "$T_DIR/hap.txt"; }
ppb_settled() { fetch_ppb "$T_DIR/ppb.txt" && settled "$T_DIR/ppb.txt"; }
wait_until 15 "HAProxy's checks did not settle" hap_settled
wait_until 15 "ppbridge's checks did not settle" ppb_settled
ok "both ran their checks: s1 UP, s3 DOWN (L4CON), w1 L7OK, w2 MAINT"

# ---- (a) + (b) ----
REQUIRED="haproxy_process_uptime_seconds haproxy_process_current_connections
	haproxy_process_connections_total haproxy_process_max_connections haproxy_process_nbthread
	haproxy_process_start_time_seconds haproxy_process_build_info
	haproxy_frontend_current_sessions haproxy_frontend_sessions_total
	haproxy_frontend_connections_total haproxy_frontend_bytes_in_total
	haproxy_frontend_bytes_out_total haproxy_frontend_status haproxy_frontend_limit_sessions
	haproxy_backend_status haproxy_backend_active_servers haproxy_backend_backup_servers
	haproxy_backend_current_sessions haproxy_backend_sessions_total haproxy_backend_weight
	haproxy_server_status haproxy_server_current_sessions haproxy_server_sessions_total
	haproxy_server_check_status haproxy_server_bytes_in_total haproxy_server_bytes_out_total
	haproxy_server_weight haproxy_server_limit_sessions"
# shellcheck disable=SC2086
out=$(prom compare "$T_DIR/hap.txt" "$T_DIR/ppb.txt" $REQUIRED) || fail "against HAProxy's exporter:
$out"
n=$(grep -c '^# TYPE haproxy_' "$T_DIR/ppb.txt")
ok "(a) $n haproxy_* families, each as HAProxy's (TYPE, HELP, labels); (b) the core ones in both"

# ---- (c) ----
out=$(promtool check metrics <"$T_DIR/ppb.txt" 2>&1) || fail "promtool check metrics:
$out"
[ -z "$out" ] || fail "promtool check metrics complains:
$out"
ok "(c) promtool check metrics: nothing to say"
"$PPB_BIN" ctl "$SOCK" show metrics >"$T_DIR/ppb-socket.txt" || fail "show metrics"
[ "$(grep '^# TYPE' "$T_DIR/ppb-socket.txt")" = "$(grep '^# TYPE' "$T_DIR/ppb.txt")" ] ||
	fail "show metrics and /metrics differ in their families"
ok "the admin socket's show metrics has /metrics' families, in order"

# ---- (d) the same requests to both ----
NT=6 # connections to fe_tcp
NH=4 # requests to fe_http, one connection each
for f in hap ppb; do "fetch_$f" "$T_DIR/$f.0"; done
python3 "$PEERS" probe --connect "127.0.0.1:$HT" --count "$NT" >"$T_DIR/probe-hap.txt" || fail "probe through HAProxy"
python3 "$PEERS" probe --connect "127.0.0.1:$QT" --count "$NT" >"$T_DIR/probe-ppb.txt" || fail "probe through ppbridge"
for i in $(seq 1 "$NH"); do
	curl -sf -o /dev/null "http://127.0.0.1:$HH/" || fail "curl through HAProxy"
	curl -sf -o /dev/null "http://127.0.0.1:$QH/" || fail "curl through ppbridge"
done

# counted WHO: the counters show the requests (they may land a moment
# after the answers: HAProxy counts a session's bytes as it ends).
counted() {
	local f=$1
	"fetch_$f" "$T_DIR/$f.1" || return 1
	prom grew "$T_DIR/$f.0" "$T_DIR/$f.1" \
		"haproxy_frontend_connections_total proxy=fe_tcp =$NT" \
		"haproxy_frontend_connections_total proxy=fe_http =$NH" \
		"haproxy_frontend_sessions_total proxy=fe_tcp =$NT" \
		"haproxy_backend_sessions_total proxy=be_tcp =$NT" \
		"haproxy_server_sessions_total proxy=be_tcp =$NT" \
		"haproxy_server_sessions_total proxy=be_tcp server=s3 =0" \
		"haproxy_server_sessions_total proxy=be_http server=w1 =$NH" \
		"haproxy_frontend_bytes_in_total proxy=fe_http >0" \
		"haproxy_frontend_bytes_out_total proxy=fe_http >0" \
		"haproxy_server_bytes_in_total proxy=be_tcp >0" >"$T_DIR/grew-$f.log"
}
# moved FILE0 FILE1 NAME LABELS...: how much a family's lines grew.
moved() {
	local a b
	a=$(prom sum "$1" "${@:3}")
	b=$(prom sum "$2" "${@:3}")
	echo $((b - a))
}
wait_until 10 "HAProxy's counters do not show the requests" counted hap
wait_until 10 "ppbridge's counters do not show the requests (HAProxy's did)" counted ppb
# mode tcp forwards bytes as they come: both count exactly the same
for m in "haproxy_frontend_bytes_in_total proxy=fe_tcp" "haproxy_frontend_bytes_out_total proxy=fe_tcp" \
	"haproxy_backend_bytes_in_total proxy=be_tcp" "haproxy_server_bytes_out_total proxy=be_tcp"; do
	# shellcheck disable=SC2086
	h=$(moved "$T_DIR/hap.0" "$T_DIR/hap.1" $m)
	# shellcheck disable=SC2086
	p=$(moved "$T_DIR/ppb.0" "$T_DIR/ppb.1" $m)
	[ "$h" = "$p" ] || fail "$m grew by $p, HAProxy's by $h"
done
ok "(d) $NT tcp connections and $NH http requests counted alike (frontend, backend, servers, tcp bytes)"

# The same states and settings, line for line.
# same NAME LABELS...: this line must read the same in both (checked
# all at once below, one python start for all).
SAME=()
same() { SAME+=("$*"); }
for s in be_tcp/s1 be_tcp/s2 be_tcp/s3 be_http/w1 be_http/w2; do
	for st in UP DOWN MAINT DRAIN NOLB; do
		same haproxy_server_status "proxy=${s%/*}" "server=${s#*/}" "state=$st"
	done
	same haproxy_server_weight "proxy=${s%/*}" "server=${s#*/}"
	same haproxy_server_limit_sessions "proxy=${s%/*}" "server=${s#*/}"
done
for s in be_tcp/s1 be_tcp/s2 be_tcp/s3 be_http/w1; do
	for st in L4OK L4CON L4TOUT L7OK L7STS; do
		same haproxy_server_check_status "proxy=${s%/*}" "server=${s#*/}" "state=$st"
	done
done
for b in be_tcp be_http; do
	same haproxy_backend_status "proxy=$b" state=UP
	same haproxy_backend_active_servers "proxy=$b"
	same haproxy_backend_backup_servers "proxy=$b"
	same haproxy_backend_weight "proxy=$b"
	for st in UP DOWN MAINT; do
		same haproxy_backend_agg_server_status "proxy=$b" "state=$st"
	done
done
for f in fe_tcp fe_http; do
	same haproxy_frontend_status "proxy=$f" state=UP
	same haproxy_frontend_limit_sessions "proxy=$f"
done
same haproxy_process_max_connections
same haproxy_process_nbthread
same haproxy_process_nbproc
out=$(prom same "$T_DIR/hap.1" "$T_DIR/ppb.1" "${SAME[@]}") || fail "not as HAProxy's:
$out"
ok "(d) server, check, backend and frontend states and limits as HAProxy's"

stop_ppb
ok "ppbridge stopped cleanly"
