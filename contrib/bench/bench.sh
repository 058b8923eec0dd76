#!/usr/bin/env bash
# SC2317: functions called indirectly (job fragments, traps); SC2016: the
# single-quoted bash -c scripts expand their own positional parameters.
# shellcheck disable=SC2317,SC2016
# bench.sh - compare ppbridge with HAProxy in one run, same config, same backend.
#
# Usage: bash contrib/bench/bench.sh [--install] [--list] [-h] [BUILDDIR]
#
# For every job (see the job registry below) it runs wrk through ppbridge and
# through HAProxy alternately (ppbridge, haproxy, ppbridge, haproxy, ...),
# ROUNDS times each, and prints medians of requests/s, proxy CPU microseconds
# per request (utime+stime from /proc/PID/stat), p99 latency and peak RSS
# (VmHWM), plus the ppbridge/haproxy ratios.  See contrib/bench/README.md.
#
# Everything runs on loopback (127.0.0.1).  Every loop is bounded in count and
# time; every process started here is killed by pid on exit.

set -euo pipefail

PROG=${0##*/}
# shellcheck source=contrib/bench/lib.sh
. "$(dirname "$0")/lib.sh"

# ---- Settings (environment) ------------------------------------------------
DURATION=${DURATION:-8}            # seconds of wrk per measured run
WARMUP=${WARMUP:-1}                # seconds of unmeasured wrk before each run (0: just 1 request)
ROUNDS=${ROUNDS:-3}                # measured runs per proxy per job
CONNS=${CONNS:-50}                 # wrk -c
WRK_THREADS=${WRK_THREADS:-1}      # wrk -t
NBTHREAD=${NBTHREAD:-1}            # proxy threads (same for both proxies)
MAXCONN=${MAXCONN:-}               # proxy global maxconn (default: from the fd limit, <= 20000)
BASE_PORT=${BASE_PORT:-18480}      # VIP port; backends use BASE_PORT+1..+9
PIN=${PIN:-auto}                   # auto|on|off: taskset proxy vs. load generator
JOBS=${JOBS:-}                     # space-separated job names (default: all registered)
HAPROXY_BIN=${HAPROXY_BIN:-haproxy}
WRK_BIN=${WRK_BIN:-wrk}
NGINX_BIN=${NGINX_BIN:-nginx}
BENCH_OUT=${BENCH_OUT:-bench-results.tsv}
BENCH_RUNS=${BENCH_RUNS:-${BENCH_OUT%.tsv}-runs.tsv}
KEEP_TMP=${KEEP_TMP:-0}            # 1: keep the temp dir (configs, logs, wrk outputs)
STRICT=${STRICT:-0}                # 1: exit 3 when a target ratio is missed

# ---- Small helpers -----------------------------------------------------------

usage() {
	sed -n '5,16p' "$0" | sed 's/^# \{0,1\}//'
	cat <<'EOF'

Environment (defaults in brackets):
  PPB_BIN      ppbridge binary [BUILDDIR/ppbridge]; BUILDDIR is the first
               argument, else $BUILDDIR, else "."
  PPB_ARGS     extra args for ppbridge [-q] (or [-db] if PPB_BIN is haproxy)
  HAPROXY_BIN  [haproxy]   WRK_BIN [wrk]   NGINX_BIN [nginx]
  DURATION [8]  WARMUP [1]  ROUNDS [3]  CONNS [50]  WRK_THREADS [1]
  NBTHREAD [1]  MAXCONN [min(20000, (fd hard limit - 200) / 2)]  BASE_PORT [18480]  PIN [auto|on|off]
  JOBS [all]    BENCH_OUT [bench-results.tsv]  BENCH_RUNS [<BENCH_OUT>-runs.tsv]
  KEEP_TMP [0]  STRICT [0]
Options:
  --install    apt-get install -y wrk nginx haproxy (services kept stopped)
  --list       list the jobs and exit
  -h, --help   this help
EOF
}





# ---- Job registry ------------------------------------------------------------
# A job is (name, proxy config fragment, backend kind, URL scheme, wrk options).
#   fragment: a shell function called as FN VIP_PORT BACKEND_PORT that prints
#             the proxy sections (after the common global/defaults sections,
#             see write_proxy_cfg).  Must be valid for both proxies.
#   backend:  a backend kind served by the private nginx, see backend_port
#             and write_nginx_cfg: plain | proxyv2 (| tls, later)
#   scheme:   http | https (URL wrk uses against the VIP)
#   wrk opts: extra wrk arguments, one per register_job argument.
# Each job is first checked with "BIN -c -f cfg" on both proxies; if either
# rejects it, the job is skipped for both with a message.
JOB_NAMES=()
declare -A JOB_FRAG=() JOB_BACKEND=() JOB_SCHEME=() JOB_WRK=()
US=$'\x1f'   # separator for the wrk option list

register_job() {
	local name=$1 frag=$2 backend=$3 scheme=$4
	shift 4
	JOB_NAMES+=("$name")
	JOB_FRAG[$name]=$frag
	JOB_BACKEND[$name]=$backend
	JOB_SCHEME[$name]=$scheme
	local IFS=$US
	JOB_WRK[$name]="$*"
}

# Plain L4: a mode tcp VIP forwarding to one server.
frag_l4() {
	cat <<EOF
listen vip
    bind 127.0.0.1:$1
    mode tcp
    balance roundrobin
    server s1 127.0.0.1:$2
EOF
}

# L4 with a PROXY protocol v2 header towards the server.
frag_l4_proxy_v2() {
	cat <<EOF
listen vip
    bind 127.0.0.1:$1
    mode tcp
    balance roundrobin
    server s1 127.0.0.1:$2 send-proxy-v2
EOF
}

register_job l4-keepalive frag_l4          plain   http
register_job l4-close     frag_l4          plain   http -H "Connection: close"
register_job l4-proxy-v2  frag_l4_proxy_v2 proxyv2 http

# HTTP VIP: every request parsed, the client's X-Forwarded-For deleted and
# the real one added (the seed's fe-route-http), same http-reuse on both.
frag_http_xff() {
	cat <<EOF
listen vip
    bind 127.0.0.1:$1
    mode http
    option forwardfor
    http-request del-header X-Forwarded-For
    http-reuse ${HTTP_REUSE:-safe}
    balance roundrobin
    server s1 127.0.0.1:$2
EOF
}

register_job http-xff       frag_http_xff plain http
register_job http-xff-close frag_http_xff plain http -H "Connection: close"

# The same VIP with per-source limits (edge protection): every connection
# tracked in a stick table, every request counted and checked against a
# rate it never reaches. Compare with http-xff / http-xff-close: the cost
# of tracking. The limits are far above what one wrk client does.
frag_http_xff_tracked() {
	cat <<EOF
listen vip
    bind 127.0.0.1:$1
    mode http
    stick-table type ipv6 size 100k expire 30s store conn_cur,conn_rate(10s),http_req_rate(10s)
    tcp-request connection track-sc0 src
    tcp-request connection reject if { sc_conn_cur(0) gt 100000 }
    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 100000000 }
    option forwardfor
    http-request del-header X-Forwarded-For
    http-reuse ${HTTP_REUSE:-safe}
    balance roundrobin
    server s1 127.0.0.1:$2
EOF
}

register_job http-xff-tracked       frag_http_xff_tracked plain http
register_job http-xff-tracked-close frag_http_xff_tracked plain http -H "Connection: close"

# HTTPS re-encryption (the seed's fe-route-https): TLS terminated on the
# VIP, X-Forwarded-For rewritten, TLS again to the server (verified with
# the test CA). The certificates are made by prepare_tls. The -always job
# runs both proxies with http-reuse always.
frag_https_reencrypt() {
	cat <<EOF
listen vip
    bind 127.0.0.1:$1 ssl crt $TMPD/tls/vip.pem
    mode http
    option forwardfor
    http-request del-header X-Forwarded-For
    http-reuse ${HTTP_REUSE:-safe}
    balance roundrobin
    server s1 127.0.0.1:$2 ssl ca-file $TMPD/tls/ca.crt
EOF
}
frag_https_reencrypt_always() { HTTP_REUSE=always frag_https_reencrypt "$@"; }

register_job https-reencrypt              frag_https_reencrypt        tls https
register_job https-reencrypt-close        frag_https_reencrypt        tls https -H "Connection: close"
register_job https-reencrypt-close-always frag_https_reencrypt_always tls https -H "Connection: close"

# ---- Arguments ---------------------------------------------------------------
DO_INSTALL=0
BUILDDIR_ARG=
while [ $# -gt 0 ]; do
	case $1 in
	--install) DO_INSTALL=1 ;;
	--list)
		for j in "${JOB_NAMES[@]}"; do
			printf '%-16s backend=%-8s scheme=%-5s wrk-extra=%s\n' "$j" \
				"${JOB_BACKEND[$j]}" "${JOB_SCHEME[$j]}" "${JOB_WRK[$j]//$US/ }"
		done
		exit 0 ;;
	-h | --help) usage; exit 0 ;;
	-*) usage >&2; exit 2 ;;
	*) BUILDDIR_ARG=$1 ;;
	esac
	shift
done

BUILDDIR=${BUILDDIR_ARG:-${BUILDDIR:-.}}
PPB_BIN=${PPB_BIN:-$BUILDDIR/ppbridge}

# A proxy needs two fds per connection: raise the soft limit to the hard one
# and size maxconn from it.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
[ "$NOFILE" = unlimited ] && NOFILE=1048576
if [ -z "$MAXCONN" ]; then
	MAXCONN=$(((NOFILE - 200) / 2))
	[ "$MAXCONN" -gt 20000 ] && MAXCONN=20000
fi

for v in DURATION WARMUP ROUNDS CONNS WRK_THREADS NBTHREAD MAXCONN BASE_PORT; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer (got '${!v}')"
done
{ [ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 50 ]; } || die "ROUNDS must be 1..50"
{ [ "$DURATION" -ge 1 ] && [ "$DURATION" -le 600 ]; } || die "DURATION must be 1..600"
[ "$WARMUP" -le 60 ] || die "WARMUP must be 0..60"
[ "$NBTHREAD" -ge 1 ] || die "NBTHREAD must be >= 1"
{ [ "$BASE_PORT" -ge 1024 ] && [ "$BASE_PORT" -le 65000 ]; } || die "BASE_PORT must be 1024..65000"

# ---- Dependencies ------------------------------------------------------------
install_deps() {
	[ "$(id -u)" = 0 ] || die "--install needs root"
	local prc=/usr/sbin/policy-rc.d saved=
	# Keep Debian's maintainer scripts from starting the system services.
	if [ -e "$prc" ]; then saved=$(mktemp); cp -p "$prc" "$saved"; fi
	printf '#!/bin/sh\nexit 101\n' >"$prc"
	chmod 755 "$prc"
	local rc=0
	{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk nginx haproxy; } || rc=$?
	if [ -n "$saved" ]; then mv "$saved" "$prc"; else rm -f "$prc"; fi
	local svc
	for svc in nginx haproxy; do
		if command -v service >/dev/null 2>&1 &&
			service "$svc" status >/dev/null 2>&1; then
			service "$svc" stop >/dev/null 2>&1 || warn "could not stop system $svc service"
		fi
	done
	[ "$rc" = 0 ] || die "apt-get install failed"
}

[ "$DO_INSTALL" = 1 ] && install_deps

missing=()
command -v "$WRK_BIN" >/dev/null 2>&1 || missing+=(wrk)
command -v "$NGINX_BIN" >/dev/null 2>&1 || missing+=(nginx)
command -v "$HAPROXY_BIN" >/dev/null 2>&1 || missing+=(haproxy)
for t in awk sort taskset timeout getconf; do
	command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
if [ ${#missing[@]} -gt 0 ]; then
	die "missing: ${missing[*]}; install with: apt-get install -y wrk nginx haproxy" \
		"(awk/coreutils/util-linux for the rest), or rerun with --install"
fi
[ -x "$PPB_BIN" ] || die "ppbridge binary not found or not executable: $PPB_BIN" \
	"(give the build dir as first argument, or set PPB_BIN)"
PPB_BIN=$(command -v "$PPB_BIN" || echo "$PPB_BIN")
case $PPB_BIN in */*) ;; *) PPB_BIN=./$PPB_BIN ;; esac
HAPROXY_BIN=$(command -v "$HAPROXY_BIN")
if [ -z "${PPB_ARGS+x}" ]; then
	case ${PPB_BIN##*/} in haproxy*) PPB_ARGS=-db ;; *) PPB_ARGS=-q ;; esac
fi
read -r -a PPB_ARGV <<<"$PPB_ARGS"

SELECTED=()
if [ -n "$JOBS" ]; then
	read -r -a SELECTED <<<"$JOBS"
	for j in "${SELECTED[@]}"; do
		[ -n "${JOB_FRAG[$j]+x}" ] || die "unknown job '$j' (known: ${JOB_NAMES[*]})"
	done
else
	SELECTED=("${JOB_NAMES[@]}")
fi

HZ=$(getconf CLK_TCK)
NCPU=$(getconf _NPROCESSORS_ONLN)

# ---- CPU pinning -------------------------------------------------------------
# With pinning the proxy gets the last NBTHREAD CPUs, wrk and nginx the others,
# so the proxy under test never shares a core with the load generator.
PROXY_CPUS=''
LOAD_CPUS=''
case $PIN in
auto) if [ "$NCPU" -gt "$NBTHREAD" ]; then PIN=on; else PIN=off; fi ;;
on) [ "$NCPU" -gt "$NBTHREAD" ] || die "PIN=on needs more CPUs than NBTHREAD ($NCPU <= $NBTHREAD)" ;;
off) ;;
*) die "PIN must be auto, on or off" ;;
esac
if [ "$PIN" = on ]; then
	LOAD_CPUS=0
	[ $((NCPU - NBTHREAD - 1)) -gt 0 ] && LOAD_CPUS="0-$((NCPU - NBTHREAD - 1))"
	PROXY_CPUS=$((NCPU - NBTHREAD))
	[ "$NBTHREAD" -gt 1 ] && PROXY_CPUS="$PROXY_CPUS-$((NCPU - 1))"
fi
on_cpus() { # CPULIST CMD...: exec CMD pinned to CPULIST, or unpinned if empty
	local cpus=$1
	shift
	if [ -n "$cpus" ]; then exec taskset -c "$cpus" "$@"; else exec "$@"; fi
}

# ---- Temp dir and cleanup ----------------------------------------------------
TMPD=$(mktemp -d /tmp/ppb-bench.XXXXXX)
STARTED_PIDS=()

stop_pid() { # PID: TERM, wait up to 5 s, then KILL
	local pid=$1 _
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		warn "pid $pid did not stop on TERM after 5s, killing"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	for pid in "${STARTED_PIDS[@]}"; do stop_pid "$pid"; done
	if [ "$KEEP_TMP" = 1 ]; then
		warn "kept temp dir $TMPD"
	else
		rm -rf "$TMPD"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- Network helpers ---------------------------------------------------------

# PORT [PREFIX]: send one HTTP/1.0 GET (optionally after PREFIX, e.g. a PROXY
# v1 line) and succeed if the answer is a 200.
http_probe() { # PORT [PREFIX] [SCHEME]: one GET (after PREFIX, e.g. a PROXY line) answers 200
	local out
	if [ "${3:-http}" = https ]; then
		out=$(timeout 3 curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$1/" 2>/dev/null) ||
			return 1
		[ "$out" = 200 ]
		return
	fi
	out=$(timeout 3 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "%sGET / HTTP/1.0\r\nHost: bench\r\n\r\n" "$2" >&3
		head -c 12 <&3' _ "$1" "${2:-}" 2>/dev/null) || return 1
	[[ $out == "HTTP/1."?" 200" ]]
}


# ---- Backend (private nginx) -------------------------------------------------
VIP_PORT=$BASE_PORT
backend_port() {
	case $1 in
	plain) echo $((BASE_PORT + 1)) ;;
	proxyv2) echo $((BASE_PORT + 2)) ;;
	tls) echo $((BASE_PORT + 3)) ;;
	*) die "unknown backend kind '$1'" ;;
	esac
}

write_nginx_cfg() {
	mkdir -p "$TMPD/nginx/logs" "$TMPD/nginx/tmp"
	cat >"$TMPD/nginx/nginx.conf" <<EOF
# generated by $PROG
user root;
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile $NOFILE;
pid $TMPD/nginx/nginx.pid;
error_log $TMPD/nginx/logs/error.log warn;
events { worker_connections 16384; multi_accept on; }
http {
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    client_body_temp_path $TMPD/nginx/tmp/body;
    proxy_temp_path $TMPD/nginx/tmp/proxy;
    fastcgi_temp_path $TMPD/nginx/tmp/fastcgi;
    uwsgi_temp_path $TMPD/nginx/tmp/uwsgi;
    scgi_temp_path $TMPD/nginx/tmp/scgi;
    default_type text/plain;
    server {
        listen 127.0.0.1:$(backend_port plain) backlog=4096;
        location / { return 200 "ok\n"; }
    }
    server {
        listen 127.0.0.1:$(backend_port proxyv2) proxy_protocol backlog=4096;
        location / { return 200 "ok\n"; }
    }
    server {
        listen 127.0.0.1:$(backend_port tls) ssl backlog=4096;
        ssl_certificate $TMPD/tls/backend.crt;
        ssl_certificate_key $TMPD/tls/backend.key;
        ssl_session_cache shared:bench:10m;
        location / { return 200 "ok\n"; }
    }
}
EOF
}

# A throwaway CA, the VIP's certificate and the backend's, signed by it.
prepare_tls() {
	local d=$TMPD/tls
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=bench CA" \
		-keyout "$d/ca.key" -out "$d/ca.crt" >/dev/null 2>&1 || die "openssl: CA"
	for name in vip backend; do
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/$name.ext"
		openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$d/$name.key" \
			-out "$d/$name.csr" >/dev/null 2>&1 || die "openssl: $name csr"
		openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
			-CAcreateserial -days 1 -extfile "$d/$name.ext" -out "$d/$name.crt" \
			>/dev/null 2>&1 || die "openssl: $name sign"
	done
	cat "$d/vip.crt" "$d/vip.key" >"$d/vip.pem"
}

NGINX_PID=
start_nginx() {
	prepare_tls
	write_nginx_cfg
	"$NGINX_BIN" -t -q -p "$TMPD/nginx" -e "$TMPD/nginx/logs/error.log" \
		-c "$TMPD/nginx/nginx.conf" || die "nginx rejected its config"
	(on_cpus "$LOAD_CPUS" "$NGINX_BIN" -p "$TMPD/nginx" -e "$TMPD/nginx/logs/error.log" \
		-c "$TMPD/nginx/nginx.conf") </dev/null >"$TMPD/nginx/logs/stdout.log" 2>&1 &
	NGINX_PID=$!
	STARTED_PIDS+=("$NGINX_PID")
	wait_port "$(backend_port plain)" "$NGINX_PID" || die "nginx did not start (see $TMPD/nginx/logs)"
	wait_port "$(backend_port proxyv2)" "$NGINX_PID" || die "nginx did not start (proxyv2 port)"
	http_probe "$(backend_port plain)" || die "nginx does not answer 200"
	http_probe "$(backend_port proxyv2)" $'PROXY TCP4 127.0.0.1 127.0.0.1 1 2\r\n' ||
		die "nginx proxy_protocol listener does not answer 200"
}

# ---- Proxies -----------------------------------------------------------------
write_proxy_cfg() { # JOB FILE
	local job=$1 file=$2
	{
		cat <<EOF
# generated by $PROG for job $job; identical for ppbridge and haproxy
global
    maxconn $MAXCONN
    nbthread $NBTHREAD

defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s

EOF
		"${JOB_FRAG[$job]}" "$VIP_PORT" "$(backend_port "${JOB_BACKEND[$job]}")"
	} >"$file"
}

proxy_bin() { case $1 in ppbridge) echo "$PPB_BIN" ;; haproxy) echo "$HAPROXY_BIN" ;; esac; }

proxy_check() { # PROXY CFG LOG: BIN -c -f CFG
	local bin
	bin=$(proxy_bin "$1")
	timeout 10 "$bin" -c -f "$2" </dev/null >"$3" 2>&1
}

PROXY_PID=
start_proxy() { # PROXY CFG LOG
	local name=$1 cfg=$2 log=$3 bin
	bin=$(proxy_bin "$name")
	if [ "$name" = ppbridge ]; then
		(on_cpus "$PROXY_CPUS" "$bin" -f "$cfg" "${PPB_ARGV[@]}") </dev/null >"$log" 2>&1 &
	else
		(on_cpus "$PROXY_CPUS" "$bin" -f "$cfg" -db) </dev/null >"$log" 2>&1 &
	fi
	PROXY_PID=$!
	STARTED_PIDS+=("$PROXY_PID")
	wait_port "$VIP_PORT" "$PROXY_PID"
}

# PID and its live descendants
proc_tree() {
	local -a todo=("$1") found=()
	local p c n=0
	while [ ${#todo[@]} -gt 0 ] && [ "$n" -lt 1000 ]; do
		p=${todo[0]}
		todo=("${todo[@]:1}")
		found+=("$p")
		n=$((n + 1))
		# shellcheck disable=SC2013 # the children files hold space-separated pids
		for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do todo+=("$c"); done
	done
	printf '%s\n' "${found[@]}"
}

# CPU ticks used so far by PID, its live descendants and its reaped children:
# utime+stime (fields 14,15 of /proc/PID/stat), plus cutime+cstime (16,17)
cpu_ticks() {
	local p total=0 t
	for p in $(proc_tree "$1"); do
		# strip "pid (comm) " so a space in comm cannot shift the fields;
		# the remainder starts at field 3, hence utime=$12 stime=$13
		t=$(sed 's/^.*) //' /proc/"$p"/stat 2>/dev/null |
			awk -v root="$([ "$p" = "$1" ] && echo 1 || echo 0)" \
				'{ t = $12 + $13; if (root) t += $14 + $15; print t }') || t=0
		total=$((total + ${t:-0}))
	done
	echo "$total"
}

# peak RSS in KiB (VmHWM) of PID and its live descendants, summed
peak_rss_kib() {
	local p total=0 k
	for p in $(proc_tree "$1"); do
		k=$(awk '/^VmHWM:/ { print $2 }' /proc/"$p"/status 2>/dev/null) || k=0
		total=$((total + ${k:-0}))
	done
	echo "$total"
}

# ---- wrk ---------------------------------------------------------------------
run_wrk() { # JOB SECONDS OUTFILE
	local job=$1 secs=$2 out=$3 url
	local -a extra=()
	url="${JOB_SCHEME[$job]}://127.0.0.1:$VIP_PORT/"
	[ -n "${JOB_WRK[$job]}" ] && IFS=$US read -r -a extra <<<"${JOB_WRK[$job]}"
	(on_cpus "$LOAD_CPUS" timeout $((secs + 30)) "$WRK_BIN" -t"$WRK_THREADS" -c"$CONNS" \
		-d"${secs}s" --latency ${extra[@]+"${extra[@]}"} "$url") </dev/null >"$out" 2>&1
}

# wrk output -> "rps requests p99_ms errors"
parse_wrk() {
	awk '
	function ms(s,   v, u) {
		v = s + 0; u = s; sub(/^[0-9.]+/, "", u)
		if (u == "us") return v / 1000
		if (u == "ms") return v
		if (u == "s")  return v * 1000
		if (u == "m")  return v * 60000
		if (u == "h")  return v * 3600000
		return -1
	}
	/^Requests\/sec:/                    { rps = $2 }
	/^ *[0-9]+ requests in /             { req = $1 }
	/^ *99(\.0+)?% /                     { p99 = ms($2) }
	/Socket errors:/ {
		for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) { x = $i; sub(/,/, "", x); err += x }
	}
	/Non-2xx or 3xx responses:/          { err += $NF }
	END {
		if (rps == "" || req == "" || p99 == "") exit 1
		printf "%s %s %.3f %d\n", rps, req, p99, err
	}' "$1"
}

# ---- One measured run --------------------------------------------------------
# Starts the proxy, warms up, samples CPU, runs wrk, samples CPU and VmHWM,
# stops the proxy.  Prints "rps cpu_us_per_req p99_ms rss_kib errors".
measure() { # JOB PROXY ROUND
	local job=$1 name=$2 round=$3 d=$TMPD/$1
	local cfg=$d/proxy.cfg log=$d/$name-$round.log out=$d/$name-$round.wrk
	local t0 t1 rss parsed rps req p99 err cpu
	if ! start_proxy "$name" "$cfg" "$log"; then
		warn "$job/$name round $round: proxy did not start; log:"
		sed -n '1,20p' "$log" >&2
		stop_pid "$PROXY_PID"
		return 1
	fi
	# warm-up request (up to 3 tries)
	local scheme=${JOB_SCHEME[$job]}
	if ! { http_probe "$VIP_PORT" "" "$scheme" || http_probe "$VIP_PORT" "" "$scheme" ||
		http_probe "$VIP_PORT" "" "$scheme"; }; then
		warn "$job/$name round $round: warm-up request through the VIP failed"
	fi
	if [ "$WARMUP" -gt 0 ]; then
		run_wrk "$job" "$WARMUP" "$d/$name-$round.warmup" || true
	fi
	t0=$(cpu_ticks "$PROXY_PID")
	if ! run_wrk "$job" "$DURATION" "$out"; then
		warn "$job/$name round $round: wrk failed:"
		sed -n '1,20p' "$out" >&2
		stop_pid "$PROXY_PID"
		return 1
	fi
	t1=$(cpu_ticks "$PROXY_PID")
	rss=$(peak_rss_kib "$PROXY_PID")
	if ! kill -0 "$PROXY_PID" 2>/dev/null; then
		warn "$job/$name round $round: proxy died during the run; log:"
		sed -n '1,20p' "$log" >&2
		stop_pid "$PROXY_PID"
		return 1
	fi
	stop_pid "$PROXY_PID"
	if ! parsed=$(parse_wrk "$out"); then
		warn "$job/$name round $round: could not parse wrk output:"
		sed -n '1,20p' "$out" >&2
		return 1
	fi
	read -r rps req p99 err <<<"$parsed"
	if [ "$req" -le 0 ]; then
		warn "$job/$name round $round: no request completed"
		return 1
	fi
	cpu=$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v n="$req" 'BEGIN { printf "%.2f\n", d / hz * 1e6 / n }')
	if [ "$err" -gt 0 ]; then
		warn "$job/$name round $round: $err of $req requests had errors (socket errors / non-2xx)"
		# more than 1 % errors: the proxy is not doing the job (e.g. no PROXY
		# header, so the backend answers 400); do not let such a run count
		if [ $((err * 100)) -gt "$req" ]; then
			warn "$job/$name round $round: over 1 % errors, run discarded"
			return 1
		fi
	fi
	printf '%s %s %s %s %s\n' "$rps" "$cpu" "$p99" "$rss" "$err"
}


# ---- Main --------------------------------------------------------------------
for p in $(seq "$BASE_PORT" $((BASE_PORT + 9))); do
	port_open "$p" && die "port 127.0.0.1:$p is in use (set BASE_PORT)"
done

say "== ppbridge vs haproxy benchmark"
say "ppbridge: $PPB_BIN ${PPB_ARGS}"
if "$PPB_BIN" -v </dev/null 2>&1 | head -n 1 | grep -q .; then
	say "          $("$PPB_BIN" -v </dev/null 2>&1 | head -n 1)"
fi
say "haproxy:  $HAPROXY_BIN  ($("$HAPROXY_BIN" -v 2>&1 | head -n 1))"
case ${PPB_BIN##*/} in haproxy*) say "note: PPB_BIN is haproxy - this is a self-comparison (script check)";; esac
say "wrk: $("$WRK_BIN" -v 2>&1 | head -n 1 | cut -c1-60)   nginx: $("$NGINX_BIN" -v 2>&1 | sed 's/^.*: //')"
say "host: $(uname -sr), $NCPU CPUs, CLK_TCK=$HZ"
if [ "$PIN" = on ]; then
	say "pinning: proxy on CPU $PROXY_CPUS, wrk+nginx on CPU $LOAD_CPUS"
else
	say "pinning: off"
fi
say "load: wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s (warm-up ${WARMUP}s), nbthread $NBTHREAD, maxconn $MAXCONN, $ROUNDS rounds per proxy, alternating"
say ""

# Run a private copy of ppbridge, so that a rebuild during the run does not
# change (or briefly remove) the binary under test.
mkdir -p "$TMPD/bin"
cp "$PPB_BIN" "$TMPD/bin/${PPB_BIN##*/}"
PPB_BIN=$TMPD/bin/${PPB_BIN##*/}

start_nginx

printf 'job\tproxy\tstatus\trounds\trps\tcpu_us_per_req\tp99_ms\trss_kib\terrors\n' >"$BENCH_OUT"
printf 'job\tproxy\tround\tstatus\trps\tcpu_us_per_req\tp99_ms\trss_kib\terrors\n' >"$BENCH_RUNS"

FAILED=0
MISSED=0
for job in "${SELECTED[@]}"; do
	d=$TMPD/$job
	mkdir -p "$d"
	write_proxy_cfg "$job" "$d/proxy.cfg"
	say "== job $job (backend ${JOB_BACKEND[$job]}; wrk extra: ${JOB_WRK[$job]//$US/ })"

	skip=
	for name in ppbridge haproxy; do
		if ! proxy_check "$name" "$d/proxy.cfg" "$d/$name-check.log"; then
			skip="$name rejects the config ($(grep -m1 -v '^[[:space:]]*$' "$d/$name-check.log" | cut -c1-160))"
			break
		fi
	done
	if [ -n "$skip" ]; then
		say "SKIP $job: $skip"
		say ""
		for name in ppbridge haproxy; do
			printf '%s\t%s\tskipped\t0\t-\t-\t-\t-\t-\n' "$job" "$name" >>"$BENCH_OUT"
		done
		continue
	fi

	declare -A R_RPS=() R_CPU=() R_P99=() R_RSS=() R_ERR=() R_OK=()
	for name in ppbridge haproxy; do
		R_RPS[$name]='' R_CPU[$name]='' R_P99[$name]='' R_RSS[$name]='' R_ERR[$name]=0 R_OK[$name]=0
	done
	for round in $(seq 1 "$ROUNDS"); do
		for name in ppbridge haproxy; do
			if res=$(measure "$job" "$name" "$round"); then
				read -r rps cpu p99 rss err <<<"$res"
				R_RPS[$name]+=" $rps" R_CPU[$name]+=" $cpu" R_P99[$name]+=" $p99" R_RSS[$name]+=" $rss"
				R_ERR[$name]=$((R_ERR[$name] + err))
				R_OK[$name]=$((R_OK[$name] + 1))
				printf '  round %d %-8s  %10.0f req/s  %7s us/req  p99 %7s ms  rss %7s KiB\n' \
					"$round" "$name" "$rps" "$cpu" "$p99" "$rss"
				printf '%s\t%s\t%d\tok\t%s\t%s\t%s\t%s\t%s\n' \
					"$job" "$name" "$round" "$rps" "$cpu" "$p99" "$rss" "$err" >>"$BENCH_RUNS"
			else
				FAILED=1
				say "  round $round $name  FAILED"
				printf '%s\t%s\t%d\tfailed\t-\t-\t-\t-\t-\n' "$job" "$name" "$round" >>"$BENCH_RUNS"
			fi
		done
	done

	say ""
	printf '  %-9s %12s %12s %10s %14s %7s\n' proxy "req/s" "cpu us/req" "p99 ms" "peak RSS KiB" errors
	declare -A M_RPS=() M_CPU=() M_P99=() M_RSS=()
	for name in ppbridge haproxy; do
		# shellcheck disable=SC2086 # word splitting of the value lists is intended
		{
			M_RPS[$name]=$(median ${R_RPS[$name]})
			M_CPU[$name]=$(median ${R_CPU[$name]})
			M_P99[$name]=$(median ${R_P99[$name]})
			M_RSS[$name]=$(maxof ${R_RSS[$name]})
		}
		printf '  %-9s %12s %12s %10s %14s %7s\n' "$name" "${M_RPS[$name]}" "${M_CPU[$name]}" \
			"${M_P99[$name]}" "${M_RSS[$name]}" "${R_ERR[$name]}"
		status=ok
		[ "${R_OK[$name]}" -lt "$ROUNDS" ] && status=partial
		[ "${R_OK[$name]}" -eq 0 ] && status=failed
		printf '%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n' "$job" "$name" "$status" "${R_OK[$name]}" \
			"${M_RPS[$name]}" "${M_CPU[$name]}" "${M_P99[$name]}" "${M_RSS[$name]}" "${R_ERR[$name]}" >>"$BENCH_OUT"
	done
	rr=$(ratio "${M_RPS[ppbridge]}" "${M_RPS[haproxy]}")
	rc=$(ratio "${M_CPU[ppbridge]}" "${M_CPU[haproxy]}")
	rp=$(ratio "${M_P99[ppbridge]}" "${M_P99[haproxy]}")
	rm_=$(ratio "${M_RSS[ppbridge]}" "${M_RSS[haproxy]}")
	vr=$(verdict "$rr" ">=" 1.0)
	vc=$(verdict "$rc" "<=" 1.0)
	[ "$vr" = MISSED ] && MISSED=1
	[ "$vc" = MISSED ] && MISSED=1
	say ""
	say "  ratio req/s ppbridge/haproxy = $rr (target >= 1.0) [$vr]"
	say "  ratio cpu/req ppbridge/haproxy = $rc (target <= 1.0) [$vc]"
	say "  ratio p99 ppbridge/haproxy = $rp (target <= 1.0)"
	say "  ratio peak-rss ppbridge/haproxy = $rm_"
	say ""
	printf '%s\tratio\t%s\t-\t%s\t%s\t%s\t%s\t-\n' "$job" \
		"$([ "$rr" = - ] && echo failed || echo ok)" "$rr" "$rc" "$rp" "$rm_" >>"$BENCH_OUT"
done

say "summary: $BENCH_OUT   per-run: $BENCH_RUNS"
[ "$FAILED" = 1 ] && { warn "some runs failed"; exit 1; }
[ "$STRICT" = 1 ] && [ "$MISSED" = 1 ] && { warn "a target was missed"; exit 3; }
exit 0
