#!/bin/bash
# The README's demo command: install the build dependencies if missing,
# build ppbridge, generate throwaway certificates, start stand-in servers
# on loopback, and run ppbridge in the foreground on a demo config.
# Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
. contrib/deps.sh
deps_install build

demo=$top/.demo
mkdir -p "$demo" _build/demo
if [ ! -x _build/demo/ppbridge ] || [ -n "$(find src include -newer _build/demo/ppbridge | head -n 1)" ]; then
	echo "==> building"
	./autogen.sh >/dev/null 2>&1
	(cd _build/demo && "$top/configure" -q && make -s -j"$(nproc)" ppbridge)
fi

echo "==> throwaway certificates in $demo"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=ppbridge demo CA" \
	-keyout "$demo/ca.key" -out "$demo/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=api.demo.test" \
	-keyout "$demo/api.key" -out "$demo/api.csr" 2>/dev/null
printf 'subjectAltName=DNS:api.demo.test,IP:127.0.1.1,IP:127.0.1.2,IP:127.0.1.3\n' >"$demo/ext.cnf"
openssl x509 -req -in "$demo/api.csr" -CA "$demo/ca.crt" -CAkey "$demo/ca.key" \
	-CAcreateserial -days 1 -extfile "$demo/ext.cnf" -out "$demo/api.crt" 2>/dev/null

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

peers=tests/integration/peers.py
echo "==> stand-in servers: masters (HTTPS) on 127.0.1.1-3:16443, routers (HTTP) on 127.0.2.1-3:18080"
for i in 1 2 3; do
	python3 "$peers" http --listen "127.0.1.$i:16443" --name "master$i" \
		--cert "$demo/api.crt" --key "$demo/api.key" >"$demo/master$i.log" 2>&1 &
	pids+=($!)
	python3 "$peers" http --listen "127.0.2.$i:18080" --name "router$i" >"$demo/router$i.log" 2>&1 &
	pids+=($!)
	python3 "$peers" http --listen "127.0.2.$i:11936" --name "router$i-ready" >/dev/null 2>&1 &
	pids+=($!)
done
sed "s|@DEMO@|$demo|g" contrib/demo/ppbridge-demo.cfg.in >"$demo/ppbridge.cfg"
sleep 0.5

cat <<MSG

==> ppbridge on $demo/ppbridge.cfg. In another terminal:
      curl http://127.0.0.1:18080/                 # *.apps HTTP VIP (also [::1]:18080)
      curl --cacert $demo/ca.crt --resolve api.demo.test:16443:127.0.0.1 https://api.demo.test:16443/readyz
                                                   # API VIP: TLS passed through to a master
    Each answer names the server and the address it saw. Ctrl-C stops.

MSG
_build/demo/ppbridge -f "$demo/ppbridge.cfg" &
pids+=($!)
wait "${pids[-1]}"
