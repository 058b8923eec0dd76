#!/usr/bin/env bash
# SC2317: functions called indirectly (traps).
# shellcheck disable=SC2317
# hostile.sh - normal keep-alive load under a slow-client attack, ppbridge vs HAProxy.
#
# Usage: bash contrib/bench/hostile.sh [-h] [BUILDDIR]
#
# One VIP (mode http, option forwardfor; a plain and a TLS bind) carries a
# rate-limited wrk keep-alive load while one Python process attacks it with
# LORIS clients sending a request head one byte a second, HELLO clients
# sending a TLS ClientHello one byte a second and IDLE clients that finish a
# TLS handshake and then say nothing; PROXY clients send a PROXY header one
# byte a second to an accept-proxy listener.  Every client the proxy closes
# comes back (a sustained attack).  ppbridge and HAProxy 2.6 run alternately
# with the same configuration (ppbridge, haproxy, ppbridge, ...), ROUNDS
# each, one thread each.  Printed per proxy (medians over the rounds): the
# normal load's requests and failures, p50/p99 latency under attack, the
# proxy's RSS (peak during the attack, after it), and per attacking class
# how many clients the proxy closed and after how long; then the
# ppbridge/HAProxy p99 ratio.  See contrib/bench/README.md.
#
# Loopback only; every loop is bounded in count and time; every process
# started here is stopped by pid on exit.  Not part of CI.

set -euo pipefail

PROG=${0##*/}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
# shellcheck source=contrib/bench/lib.sh
. "$HERE/lib.sh"

# ---- Settings (environment) ------------------------------------------------
ROUNDS=${ROUNDS:-3}                # runs per proxy
LORIS=${LORIS:-5000}               # slowloris clients (plain bind)
HELLO=${HELLO:-2000}               # slow ClientHello clients (TLS bind)
IDLE=${IDLE:-2000}                 # silent-after-handshake clients (TLS bind)
PPROXY=${PPROXY:-500}              # slow PROXY header clients (accept-proxy listener)
DURATION=${DURATION:-15}           # seconds of measured wrk load under attack
CONNS=${CONNS:-20}                 # wrk -c (keep-alive)
DELAY_MS=${DELAY_MS:-5}            # wrk: pause per connection between requests
HTTP_REQUEST=${HTTP_REQUEST:-5s}   # timeout http-request
CLIENT=${CLIENT:-10s}              # timeout client (and ppbridge's client-hs, see below)
OPEN_TIMEOUT=${OPEN_TIMEOUT:-60}   # seconds for the attack to get its clients connected
AFTER_TIMEOUT=${AFTER_TIMEOUT:-30} # seconds for the proxy to settle after the attack
BASE_PORT=${BASE_PORT:-18680}      # backend BASE_PORT+1, VIPs from BASE_PORT+10
HAPROXY_BIN=${HAPROXY_BIN:-haproxy}
WRK_BIN=${WRK_BIN:-wrk}
PYTHON=${PYTHON:-python3}
PIN=${PIN:-off}                    # on|off|auto: the proxy on its own CPU
KEEP_TMP=${KEEP_TMP:-0}
WANT_NOFILE=65536

usage() {
	sed -n '5,24p' "$0" | sed 's/^# \{0,1\}//'
	cat <<'EOF'

BUILDDIR [_build/release] holds the release build of ppbridge; when it has
none, the script configures (without sanitizers) and builds it there.
Environment (defaults in brackets):
  PPB_BIN [BUILDDIR/ppbridge]  HAPROXY_BIN [haproxy]  WRK_BIN [wrk]  PYTHON [python3]
  ROUNDS [3]  LORIS [5000]  HELLO [2000]  IDLE [2000]  PPROXY [500]
  DURATION [15] s  CONNS [20]  DELAY_MS [5]  HTTP_REQUEST [5s]  CLIENT [10s]
  OPEN_TIMEOUT [60] s  AFTER_TIMEOUT [30] s  BASE_PORT [18680]  KEEP_TMP [0]
  PIN [off]: on (or auto with 3 CPUs or more) runs the proxy alone on the
              last CPU, the attacker, wrk and the backend on the others
              (taskset). Off by default: on 2 CPUs the attacker, wrk and the
              backend saturate the one CPU left (measured: p50 26-29 ms for
              both proxies, the load generator's latency, not the proxy's)
EOF
}

BUILDDIR=$TOP/_build/release
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	-*) usage >&2; exit 2 ;;
	*) BUILDDIR=$1 ;;
	esac
	shift
done

missing=()
for t in "$HAPROXY_BIN" "$WRK_BIN" "$PYTHON" openssl awk timeout; do
	command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
[ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]} (Debian: apt-get install -y haproxy wrk python3 openssl)"
ATTACKER=$TOP/tests/integration/faults.py
[ -f "$ATTACKER" ] || die "no $ATTACKER"

# ---- ppbridge: the release build -------------------------------------------------
PPB_BIN=${PPB_BIN:-$BUILDDIR/ppbridge}
if [ ! -x "$PPB_BIN" ]; then
	say "building the release ppbridge in $BUILDDIR"
	[ -x "$TOP/configure" ] || (cd "$TOP" && ./autogen.sh) >/dev/null
	mkdir -p "$BUILDDIR"
	(cd "$BUILDDIR" && "$TOP/configure" -q CC="${CC:-gcc}" && make -j"$(nproc)") >"$BUILDDIR/hostile-build.log" 2>&1 ||
		die "release build failed, see $BUILDDIR/hostile-build.log"
fi
grep -q '^SAN_CFLAGS = .*-fsanitize' "$BUILDDIR/Makefile" 2>/dev/null && warn "$BUILDDIR is a sanitizer build: numbers will not mean much"

# ---- File descriptors: attackers, proxy and load all hold sockets ----------------
if ! ulimit -n "$WANT_NOFILE" 2>/dev/null; then
	hard=$(ulimit -Hn)
	[ "$hard" = unlimited ] && hard=$WANT_NOFILE
	ulimit -n "$hard" || die "cannot raise the open-file limit (hard $(ulimit -Hn))"
fi
FDLIM=$(ulimit -n)
ATTACKERS=$((LORIS + HELLO + IDLE + PPROXY))
# HAProxy 2.6 refuses to start when 2 * maxconn + its own fds exceed the
# limit; both proxies get the same maxconn, room for every attacker.
MAXCONN=$(((FDLIM - 100) / 2))
[ "$MAXCONN" -gt 30000 ] && MAXCONN=30000
[ "$MAXCONN" -gt $((ATTACKERS + CONNS + 50)) ] ||
	warn "maxconn $MAXCONN (open-file limit $FDLIM) is below the $ATTACKERS attackers: the proxies will stop accepting"

# The proxy on a CPU of its own: the attacker is busy (thousands of sends a
# second, TLS handshakes) and must not decide the proxy's latency.
NCPU=$(getconf _NPROCESSORS_ONLN)
PROXY_CPUS=''
LOAD_CPUS=''
if [ "$PIN" = on ] || { [ "$PIN" = auto ] && [ "$NCPU" -ge 3 ]; }; then
	command -v taskset >/dev/null 2>&1 || die "PIN needs taskset (util-linux)"
	PROXY_CPUS=$((NCPU - 1))
	LOAD_CPUS=0
	[ "$NCPU" -gt 2 ] && LOAD_CPUS="0-$((NCPU - 2))"
fi
on_cpus() { # CPULIST CMD...: exec CMD pinned to CPULIST, or unpinned if empty
	local cpus=$1
	shift
	if [ -n "$cpus" ]; then exec taskset -c "$cpus" "$@"; else exec "$@"; fi
}

TMPD=$(mktemp -d /tmp/ppb-hostile.XXXXXX)
# Every pid started, also from the subshells measure() runs in.
track() { echo "$1" >>"$TMPD/pids"; }
stop_pid() { # PID: TERM, up to 5 s, then KILL
	local pid=$1 _
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	if [ -f "$TMPD/pids" ]; then
		while read -r pid; do stop_pid "$pid"; done <"$TMPD/pids"
	fi
	if [ "$KEEP_TMP" = 1 ]; then warn "kept $TMPD"; else rm -rf "$TMPD"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- Backend: a real HAProxy answering 200, as a router would ---------------------
BE_PORT=$((BASE_PORT + 1))
port_open "$BE_PORT" && die "127.0.0.1:$BE_PORT is in use (set BASE_PORT)"
cat >"$TMPD/backend.cfg" <<EOF
global
    maxconn 4000
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend be
    bind 127.0.0.1:$BE_PORT
    http-request return status 200 content-type text/plain string "ok"
EOF
(on_cpus "$LOAD_CPUS" "$HAPROXY_BIN" -db -f "$TMPD/backend.cfg") </dev/null >"$TMPD/backend.log" 2>&1 &
track $!
wait_port "$BE_PORT" "$!" || die "the backend HAProxy did not start: $(head -n 5 "$TMPD/backend.log")"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=hostile.test \
	-days 2 -keyout "$TMPD/key.pem" -out "$TMPD/crt.pem" >/dev/null 2>&1 || die "openssl failed"
cat "$TMPD/crt.pem" "$TMPD/key.pem" >"$TMPD/site.pem"
cat >"$TMPD/delay.lua" <<EOF
-- a paced keep-alive load: each connection waits ${DELAY_MS} ms between requests
function delay() return $DELAY_MS end
EOF
# A private copy: a rebuild during the run does not disturb it.
cp "$PPB_BIN" "$TMPD/ppbridge"

# ---- The proxies' configuration ----------------------------------------------------
# HAProxy 2.6 bounds a TLS handshake and the wait for a PROXY header with
# timeout client (timeout client-hs came in 2.9): ppbridge gets client-hs =
# timeout client for the same semantics.
write_cfg() { # PROXY VIP_PORT FILE
	local hs=
	[ "$1" = ppbridge ] && hs="    timeout client-hs $CLIENT"
	cat >"$3" <<EOF
global
    maxconn $MAXCONN
    nbthread 1
defaults
    mode http
    option forwardfor
    timeout connect 5s
    timeout client $CLIENT
    timeout server 30s
    timeout http-request $HTTP_REQUEST
$hs
listen vip
    bind 127.0.0.1:$2
    bind 127.0.0.1:$(($2 + 1)) ssl crt $TMPD/site.pem
    server be 127.0.0.1:$BE_PORT
listen pp
    bind 127.0.0.1:$(($2 + 2)) accept-proxy
    server be 127.0.0.1:$BE_PORT
EOF
}

# CPU time and time spent runnable but waiting for a CPU, in ms, and the
# times it was scheduled in (a wake-up each, for an event loop), all threads
sched_of() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null |
		awk '{ run += $1; wait += $2; n += $3 } END { printf "%d %d %d\n", run / 1e6, wait / 1e6, n }'
}
rss_of() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo -; }
fds_of() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# wrk output -> "requests failed p50_ms p99_ms"
parse_wrk() {
	awk '
	function ms(s,   v, u) {
		v = s + 0; u = s; sub(/^[0-9.]+/, "", u)
		if (u == "us") return v / 1000
		if (u == "ms") return v
		if (u == "s")  return v * 1000
		return -1
	}
	/^ *[0-9]+ requests in /      { req = $1 }
	/^ *50(\.0+)?% /              { p50 = ms($2) }
	/^ *99(\.0+)?% /              { p99 = ms($2) }
	/Socket errors:/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) { x = $i; sub(/,/, "", x); err += x } }
	/Non-2xx or 3xx responses:/   { err += $NF }
	END { if (req == "" || p99 == "") exit 1; printf "%d %d %.3f %.3f\n", req, err, p50, p99 }' "$1"
}

# One RESULT line -> "closed p50 max still_open how" of one class
class_of() { # OUTFILE KIND
	awk -v k="$2" '$1 == "RESULT" && $2 == "kind=" k {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = substr($i, length(kv[1]) + 2) }
		printf "%s %s %s %s %s\n", r["closed"], r["close_ms_p50"], r["close_ms_max"], r["still_open"], r["how"] }' "$1"
}

RUN=0
# One run: prints "requests failed p50 p99 rss_peak rss_after" then one
# line per class "kind closed p50 max still_open how".
measure() { # PROXY ROUND
	local name=$1 round=$2 d=$TMPD/$1-$2 vip pid apid peak=0 r f _
	mkdir -p "$d"
	vip=$((BASE_PORT + 10 + RUN * 3))
	RUN=$((RUN + 1))
	write_cfg "$name" "$vip" "$d/proxy.cfg"
	if [ "$name" = ppbridge ]; then
		(on_cpus "$PROXY_CPUS" "$TMPD/ppbridge" -q -f "$d/proxy.cfg") </dev/null >"$d/proxy.log" 2>&1 &
	else
		(on_cpus "$PROXY_CPUS" "$HAPROXY_BIN" -db -f "$d/proxy.cfg") </dev/null >"$d/proxy.log" 2>&1 &
	fi
	pid=$!
	track "$pid"
	if ! wait_port "$vip" "$pid"; then
		warn "$name did not start: $(head -n 5 "$d/proxy.log")"
		stop_pid "$pid"
		return 1
	fi
	timeout 5 "$WRK_BIN" -t1 -c1 -d1s "http://127.0.0.1:$vip/" >/dev/null 2>&1 || true
	# The attack, sustained for the load's duration and a few seconds more.
	(on_cpus "$LOAD_CPUS" "$PYTHON" "$ATTACKER" slow --reconnect --status "$d/attack.status" --parallel 500 \
		--duration $((OPEN_TIMEOUT + DURATION + 5)) \
		--kind loris --connect "127.0.0.1:$vip" --count "$LORIS" \
		--kind hello --connect "127.0.0.1:$((vip + 1))" --count "$HELLO" \
		--kind idletls --connect "127.0.0.1:$((vip + 1))" --count "$IDLE" \
		--kind proxy --connect "127.0.0.1:$((vip + 2))" --count "$PPROXY") \
		</dev/null >"$d/attack.out" 2>&1 &
	apid=$!
	track "$apid"
	# Load once (almost) every attacker has connected once (HAProxy 2.6
	# resets a PROXY header that comes in pieces at once: those never stay).
	for _ in $(seq 1 $((OPEN_TIMEOUT * 5))); do
		r=$(sed -n 's/.*opened=\([0-9]*\).*/\1/p' "$d/attack.status" 2>/dev/null)
		[ "${r:-0}" -ge $((ATTACKERS * 95 / 100)) ] && break
		kill -0 "$apid" 2>/dev/null || break
		sleep 0.2
	done
	say "    $name round $round: attack live: $(cat "$d/attack.status" 2>/dev/null)" >&2
	local s0 s1
	s0=$(sched_of "$pid")
	(on_cpus "$LOAD_CPUS" timeout $((DURATION + 30)) "$WRK_BIN" -t1 -c"$CONNS" -d"${DURATION}s" \
		--latency -s "$TMPD/delay.lua" "http://127.0.0.1:$vip/") </dev/null >"$d/wrk.out" 2>&1 &
	local wpid=$!
	track "$wpid"
	while kill -0 "$wpid" 2>/dev/null; do
		r=$(rss_of "$pid")
		is_num "$r" && [ "$r" -gt "$peak" ] && peak=$r
		sleep 0.5
	done
	wait "$wpid" || true
	s1=$(sched_of "$pid")
	# The attack ends: its clients go away; the proxy settles.
	stop_pid "$apid"
	for _ in $(seq 1 $((AFTER_TIMEOUT * 5))); do
		[ "$(fds_of "$pid")" -lt 100 ] && break
		sleep 0.2
	done
	local after
	after=$(rss_of "$pid")
	r=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
	[ "${r:-0}" -gt "$peak" ] && peak=$r
	kill -0 "$pid" 2>/dev/null || { warn "$name died during the run"; return 1; }
	stop_pid "$pid"
	f=$(parse_wrk "$d/wrk.out") || { warn "$name: no wrk result: $(tail -n 3 "$d/wrk.out")"; return 1; }
	# shellcheck disable=SC2086 # two numbers each
	echo "$f $peak $after $(echo $s0 $s1 | awk -v d="$DURATION" '{print $4 - $1, $5 - $2, int(($6 - $3) / d)}')"
	for k in loris hello idletls proxy; do
		echo "$k $(class_of "$d/attack.out" "$k")"
	done
}

# ---- Main --------------------------------------------------------------------
T0=$(date +%s)
say "== hostile clients: ppbridge vs haproxy, normal keep-alive load under a slow-client attack"
say "ppbridge: $PPB_BIN (release build, -q)"
say "haproxy:  $("$HAPROXY_BIN" -v 2>&1 | head -n 1)"
say "host: $(uname -sr), $(getconf _NPROCESSORS_ONLN) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); open-file limit $FDLIM, maxconn $MAXCONN, nbthread 1"
say "attack: $LORIS slowloris + $HELLO slow ClientHello + $IDLE silent TLS on the VIP, $PPROXY slow PROXY headers" \
	"(one byte a second; every closed client comes back)"
[ -n "$PROXY_CPUS" ] && say "pinning: proxy on CPU $PROXY_CPUS; attacker, wrk and backend on CPU $LOAD_CPUS"
say "load: wrk -c$CONNS keep-alive, ${DELAY_MS} ms between requests, ${DURATION}s; timeouts http-request $HTTP_REQUEST, client $CLIENT"
say ""

declare -A REQ=() FAIL=() P50=() P99=() PEAK=() AFTER=() CL=() CLP50=() CLMAX=() OPEN=() OKR=()
for round in $(seq 1 "$ROUNDS"); do
	for name in ppbridge haproxy; do
		if ! res=$(measure "$name" "$round"); then
			say "  round $round $name  FAILED"
			continue
		fi
		read -r req fail p50 p99 peak after cpu waitq wakes <<<"$(head -n 1 <<<"$res")"
		REQ[$name]+=" $req" FAIL[$name]+=" $fail" P50[$name]+=" $p50" P99[$name]+=" $p99"
		PEAK[$name]+=" $peak" AFTER[$name]+=" $after" OKR[$name]=$((${OKR[$name]:-0} + 1))
		line=$(printf '  round %d %-8s requests %6d failed %4d  p50 %7.2f ms  p99 %7.2f ms  RSS peak %7d kB after %7d kB  cpu %5d ms  waited for a CPU %5d ms  %6d wake-ups/s' \
			"$round" "$name" "$req" "$fail" "$p50" "$p99" "$peak" "$after" "$cpu" "$waitq" "$wakes")
		say "$line"
		while read -r k closed cp50 cmax still how; do
			CL[$name/$k]+=" $closed" CLP50[$name/$k]+=" $cp50" CLMAX[$name/$k]+=" $cmax" OPEN[$name/$k]+=" $still"
			printf '      %-8s closed %6s  after p50 %6s ms max %6s ms  open at the end %5s  [%s]\n' \
				"$k" "$closed" "$cp50" "$cmax" "$still" "$how"
		done < <(tail -n +2 <<<"$res")
	done
done

say ""
say "== medians over $ROUNDS rounds (failed: sum; RSS peak: max)"
printf '%-9s %9s %7s %9s %9s %13s %13s\n' proxy requests failed "p50 ms" "p99 ms" "RSS peak kB" "RSS after kB"
# shellcheck disable=SC2086 # the value lists are meant to split
for name in ppbridge haproxy; do
	sum=0
	for v in ${FAIL[$name]:-}; do sum=$((sum + v)); done
	printf '%-9s %9s %7s %9s %9s %13s %13s\n' "$name" "$(median ${REQ[$name]:-})" "$sum" \
		"$(median ${P50[$name]:-})" "$(median ${P99[$name]:-})" "$(maxof ${PEAK[$name]:-})" \
		"$(median ${AFTER[$name]:-})"
done
say ""
say "slow clients closed by the proxy per round, and after how long (medians; expected: loris and idletls"
say "at timeout http-request $HTTP_REQUEST, hello and proxy at timeout client(-hs) $CLIENT)"
printf '%-9s %-8s %8s %12s %12s %14s\n' proxy class closed "p50 ms" "max ms" "open at end"
# shellcheck disable=SC2086
for name in ppbridge haproxy; do
	for k in loris hello idletls proxy; do
		printf '%-9s %-8s %8s %12s %12s %14s\n' "$name" "$k" "$(median ${CL[$name/$k]:-})" \
			"$(median ${CLP50[$name/$k]:-})" "$(median ${CLMAX[$name/$k]:-})" "$(median ${OPEN[$name/$k]:-})"
	done
done
say ""
# shellcheck disable=SC2086
say "ratio p99 ppbridge/haproxy = $(ratio "$(median ${P99[ppbridge]:-})" "$(median ${P99[haproxy]:-})")" \
	"(p50: $(ratio "$(median ${P50[ppbridge]:-})" "$(median ${P50[haproxy]:-})"))"
say "elapsed: $(($(date +%s) - T0)) s"
[ "${OKR[ppbridge]:-0}" -eq "$ROUNDS" ] && [ "${OKR[haproxy]:-0}" -eq "$ROUNDS" ] || exit 1
