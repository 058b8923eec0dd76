#!/bin/bash
# The README's demo command: install the build dependencies if missing,
# build ppbridge, generate throwaway certificates, start stand-in masters
# and routers on loopback, and run ppbridge in the foreground on the seed's
# whole shape (contrib/demo/ppbridge-demo.cfg.in). Ctrl-C stops everything.
#
#   ./contrib/demo.sh                       run the demo (foreground)
#   ./contrib/demo.sh router N proxy|plain  while it runs: router N (1-3) takes
#                                           connections behind a PROXY header
#                                           (accept-proxy on 8080 and 8443) or
#                                           plain again, as an OpenShift router
#                                           does after `protocol: PROXY`
#   ./contrib/demo.sh ctl COMMAND...        while it runs: an admin socket
#                                           command (ppbridge ctl), e.g.
#                                           `show client-ip`, `show stat`
#
# The routers are real HAProxy processes when `haproxy` is installed (what
# OpenShift's routers run; switched by a reload, as the routers are), else
# Python stand-ins (tests/integration/peers.py) that read the PROXY header
# while a flag file exists. Each router answers with the client address it
# saw, whether a PROXY header carried it, and the X-Forwarded-For it got.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
demo=$top/.demo
bin=$top/_build/demo/ppbridge
peers=$top/tests/integration/peers.py

usage() {
	sed -n '7,16p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
}

running() { [ -S "$demo/admin.sock" ] && [ -f "$demo/ppbridge.pid" ] && kill -0 "$(cat "$demo/ppbridge.pid")" 2>/dev/null; }

# router_cfg N plain|proxy: HAProxy's configuration for router N.
router_cfg() {
	local n=$1 pp=""
	[ "$2" = proxy ] && pp=" accept-proxy"
	cat <<CFG
# router$n of the ppbridge demo ($2), made by contrib/demo.sh
global
    log stderr format raw local0 notice
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 2s
frontend public
    bind 127.0.2.$n:8080$pp
    bind 127.0.2.$n:8443 ssl crt $demo/apps.pem$pp
    http-request return status 200 content-type text/plain lf-string "router$n saw client %[src] (PROXY header: %[fc_rcvd_proxy,iif(yes,no)]) X-Forwarded-For: %[req.fhdr(x-forwarded-for)]\n"
frontend stats
    bind 127.0.2.$n:1936
    monitor-uri /healthz/ready
CFG
}

# `demo.sh router N proxy|plain`: flip one router of a running demo.
if [ "${1:-}" = router ]; then
	[ $# -eq 3 ] && [[ $2 =~ ^[1-3]$ ]] && [[ $3 =~ ^(proxy|plain)$ ]] || usage
	running || { echo "the demo is not running (start ./contrib/demo.sh first)" >&2; exit 1; }
	n=$2
	if [ -f "$demo/router$n.cfg" ]; then
		router_cfg "$n" "$3" >"$demo/router$n.cfg.new"
		haproxy -c -q -f "$demo/router$n.cfg.new"
		mv "$demo/router$n.cfg.new" "$demo/router$n.cfg"
		kill -USR2 "$(cat "$demo/router$n.pid")" # master-worker: reload, as a router pod does
	elif [ "$3" = proxy ]; then
		touch "$demo/router$n.proxy"
	else
		rm -f "$demo/router$n.proxy"
	fi
	echo "router$n now takes $([ "$3" = proxy ] && echo "a PROXY header first (accept-proxy)" || echo "plain connections") on 127.0.2.$n:8080 and :8443"
	exit 0
fi
if [ "${1:-}" = ctl ]; then
	[ $# -ge 2 ] || usage
	running || { echo "the demo is not running (start ./contrib/demo.sh first)" >&2; exit 1; }
	shift
	exec "$bin" ctl "$demo/admin.sock" "$@"
fi
[ $# -eq 0 ] || usage
if running; then
	echo "a demo runs already (pid $(cat "$demo/ppbridge.pid")); Ctrl-C it first" >&2
	exit 1
fi

. contrib/deps.sh
deps_install build

mkdir -p "$demo" _build/demo
if [ ! -x "$bin" ] || [ -n "$(find src include -newer "$bin" | head -n 1)" ]; then
	echo "==> building"
	./autogen.sh >/dev/null 2>&1
	(cd _build/demo && "$top/configure" -q && make -s -j"$(nproc)" ppbridge)
fi
rm -f "$demo"/*.log "$demo"/*.pid "$demo"/*.proxy "$demo"/router*.cfg "$demo/admin.sock"

echo "==> throwaway certificates in $demo"
cert() { # NAME SUBJECT-ALT-NAMES: a key and a certificate signed by the demo CA
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" \
		-keyout "$demo/$1.key" -out "$demo/$1.csr" 2>/dev/null
	printf 'subjectAltName=%s\n' "$2" >"$demo/$1.ext"
	openssl x509 -req -in "$demo/$1.csr" -CA "$demo/ca.crt" -CAkey "$demo/ca.key" \
		-CAcreateserial -days 1 -extfile "$demo/$1.ext" -out "$demo/$1.crt" 2>/dev/null
	cat "$demo/$1.crt" "$demo/$1.key" >"$demo/$1.pem"
}
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=ppbridge demo CA" \
	-keyout "$demo/ca.key" -out "$demo/ca.crt" 2>/dev/null
cert api "DNS:api.demo.test,DNS:api-int.demo.test,IP:127.0.0.1,IP:127.0.1.1,IP:127.0.1.2,IP:127.0.1.3"
# The *.apps wildcard: the HTTPS VIP shows it, and so do the routers (they
# terminate the passed-through TLS of the OAuth route, and of *.apps once
# the PROXY protocol carries the client's address).
cert apps "DNS:*.apps.demo.test,IP:127.0.0.1,IP:127.0.0.2,IP:127.0.2.1,IP:127.0.2.2,IP:127.0.2.3"

pids=()
cleanup() {
	trap - EXIT INT TERM
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -f "$demo/admin.sock" "$demo"/*.pid
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bg() { # LOG COMMAND...: start in the background, remember the pid
	local log=$1
	shift
	"$@" >"$demo/$log" 2>&1 &
	pids+=($!)
}

echo "==> stand-in masters (HTTPS /readyz, /healthz) on 127.0.1.1-3:6443 and :22623"
for i in 1 2 3; do
	bg "master$i.log" python3 "$peers" http --listen "127.0.1.$i:6443" --name "master$i" \
		--cert "$demo/api.crt" --key "$demo/api.key"
	bg "mcs$i.log" python3 "$peers" http --listen "127.0.1.$i:22623" --name "master$i-mcs" \
		--cert "$demo/api.crt" --key "$demo/api.key"
done
if command -v haproxy >/dev/null 2>&1; then
	routers="HAProxy $(haproxy -v | awk 'NR == 1 {print $3}')"
	echo "==> routers ($routers) on 127.0.2.1-3: HTTP 8080, HTTPS 8443, /healthz/ready on 1936"
	for i in 1 2 3; do
		router_cfg "$i" plain >"$demo/router$i.cfg"
		bg "router$i.log" haproxy -W -db -f "$demo/router$i.cfg"
		echo "${pids[-1]}" >"$demo/router$i.pid"
	done
else
	routers="Python stand-ins (haproxy is not installed)"
	echo "==> routers ($routers) on 127.0.2.1-3: HTTP 8080, HTTPS 8443, /healthz/ready on 1936"
	for i in 1 2 3; do
		bg "router$i-http.log" python3 "$peers" http --listen "127.0.2.$i:8080" --name "router$i" \
			--show-xff --proxy-file "$demo/router$i.proxy"
		bg "router$i-https.log" python3 "$peers" http --listen "127.0.2.$i:8443" --name "router$i" \
			--show-xff --proxy-file "$demo/router$i.proxy" --cert "$demo/apps.crt" --key "$demo/apps.key"
		bg "router$i-ready.log" python3 "$peers" http --listen "127.0.2.$i:1936" --name "router$i-ready"
	done
fi

# Health checks start with ppbridge: let the stand-ins listen first.
wait_port() { # ADDR PORT
	local i
	for i in $(seq 150); do
		(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "nothing listens on $1:$2 after 15s: see $demo/*.log" >&2
	exit 1
}
for i in 1 2 3; do
	for port in 6443 22623; do wait_port "127.0.1.$i" "$port"; done
	for port in 8080 8443 1936; do wait_port "127.0.2.$i" "$port"; done
done

sed "s|@DEMO@|$demo|g" contrib/demo/ppbridge-demo.cfg.in >"$demo/ppbridge.cfg"
"$bin" -c -q -f "$demo/ppbridge.cfg" >"$demo/check.log" 2>&1 || { cat "$demo/check.log" >&2; exit 1; }

ctl="./contrib/demo.sh ctl"
cat <<MSG

==> ppbridge on $demo/ppbridge.cfg, routers: $routers. In another terminal:
      curl --cacert .demo/ca.crt --resolve api.demo.test:6443:127.0.0.1 https://api.demo.test:6443/readyz
                                    # API: TLS passed through to a master
      curl --cacert .demo/ca.crt --resolve api-int.demo.test:22623:127.0.0.1 https://api-int.demo.test:22623/healthz
                                    # machine-config server
      curl --cacert .demo/ca.crt --resolve oauth-openshift.apps.demo.test:8443:127.0.0.2 https://oauth-openshift.apps.demo.test:8443/
                                    # OAuth route: TLS passed through to a router
      curl -H 'X-Forwarded-For: 6.6.6.6' http://127.0.0.1:8080/
                                    # *.apps HTTP: the router sees your address in X-Forwarded-For
      curl --cacert .demo/ca.crt --resolve app.apps.demo.test:8443:127.0.0.1 https://app.apps.demo.test:8443/
                                    # *.apps HTTPS: terminated here, X-Forwarded-For, re-encrypted
      $ctl show stat
                                    # the admin socket (also: help, show servers state)
MSG
cat <<MSG
      curl http://127.0.0.1:8404/healthz
                                    # this host's health, as keepalived asks it (also /metrics)
      http://127.0.0.1:8404/stats   # the stats page, in a browser
MSG
cat <<MSG

    Try a migration from X-Forwarded-For to the PROXY protocol:
      1. $ctl set frontend fe-route-https client-ip auto
         # and every other VIP in front of the routers, or router1 refuses them:
         for f in fe-route-http fe-oauth-route; do $ctl set frontend \$f client-ip auto; done
      2. ./contrib/demo.sh router 1 proxy
         # router1 reloads with accept-proxy, as a router pod after 'protocol: PROXY'
      3. $ctl show client-ip      (or the stats page)
         # router1 turns 'proxy' within seconds; then ask the routers who you are:
         for ip in 127.0.0.1 127.0.0.5 127.0.0.7 127.0.0.9; do
           curl --interface \$ip --cacert .demo/ca.crt --resolve app.apps.demo.test:8443:127.0.0.1 https://app.apps.demo.test:8443/
         done
         # balance source picks a router by client address: router1 now says
         # "PROXY header: yes" with your own address, your TLS passed straight
         # through (its *.apps certificate); the others still get it in
         # X-Forwarded-For. (On the HTTP VIP a PROXY router also gets the
         # X-Forwarded-For a client forged: OpenShift's routers drop it with
         # forwardedHeaderPolicy: Replace, these stand-ins show it.)
         './contrib/demo.sh router 1 plain' rolls back; auto follows.
    Ctrl-C stops everything. Logs: $demo/*.log

MSG
"$bin" -f "$demo/ppbridge.cfg" &
pids+=($!)
echo "${pids[-1]}" >"$demo/ppbridge.pid"
wait "${pids[-1]}"
