#!/bin/bash
# The integration tier (`make check-integration` of an ASan + UBSan build,
# as contrib/test.sh builds it) N times in a row while busy loops keep
# the cores busy: a test that passes only on a quiet machine fails here.
# Not part of CI. Builds into _build/stress (configured once, then
# brought up to date by make before the first run).
#
# Usage: contrib/stress-tests.sh [-n RUNS] [-j JOBS] [-c HOGS]
#   -n RUNS  how many runs (default 5)
#   -j JOBS  tests run side by side, as make -j (default: nproc)
#   -c HOGS  busy-loop processes during the runs (default 2; 0: none)
# Each run's logs are kept in _build/stress/runs/N/. The last line says
# "K of N runs passed"; the exit status is 0 only when all passed.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

RUNS=5
JOBS=$(nproc)
HOGS=2
# A ceiling for one run (a tier takes 6 min on a quiet 2-core machine,
# over 30 on a crowded one): the hogs die at it even if this script is
# killed outright, and a hung run ends there.
RUN_LIMIT=3600
while getopts "n:j:c:h" opt; do
	case $opt in
	n) RUNS=$OPTARG ;;
	j) JOBS=$OPTARG ;;
	c) HOGS=$OPTARG ;;
	*)
		sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
		exit 2
		;;
	esac
done
case "$RUNS$JOBS$HOGS" in *[!0-9]*)
	echo "-n, -j and -c take numbers" >&2
	exit 2
	;;
esac

B=$top/_build/stress
HOG_PIDS=""
RUN_PID=""

hogs_start() {
	local i
	for i in $(seq 1 "$HOGS"); do
		timeout "$RUN_LIMIT" sh -c 'while :; do :; done' &
		HOG_PIDS="$HOG_PIDS $!"
	done
}

# Each hog is a `timeout` process: SIGTERM to it ends its busy loop too.
hogs_stop() {
	local pid
	for pid in $HOG_PIDS; do
		kill "$pid" 2>/dev/null
	done
	for pid in $HOG_PIDS; do
		wait "$pid" 2>/dev/null
	done
	HOG_PIDS=""
}
# A run is a `timeout` too: SIGTERM to it reaches its whole process group
# (make, the tests, their peers).
run_stop() {
	[ -n "$RUN_PID" ] || return 0
	kill "$RUN_PID" 2>/dev/null
	wait "$RUN_PID" 2>/dev/null
	RUN_PID=""
}
trap 'run_stop; hogs_stop' EXIT
trap 'exit 130' INT TERM

hms() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

for tool in haproxy curl openssl python3 gcc autoreconf; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		. contrib/deps.sh
		deps_install test || exit 1
		break
	fi
done

echo "==> build: ASan + UBSan (gcc, -Werror) in _build/stress"
if [ ! -f "$B/Makefile" ]; then
	[ -x configure ] || ./autogen.sh >/dev/null 2>&1 || { echo "autogen.sh failed"; exit 1; }
	mkdir -p "$B"
	(cd "$B" && "$top/configure" -q --enable-asan --enable-werror CC=gcc) ||
		{ echo "configure failed"; exit 1; }
fi
(cd "$B" && make -s -j"$JOBS" >"$B/build.log" 2>&1) || { tail -n 30 "$B/build.log"; exit 1; }

echo "==> $RUNS runs of the integration tier (make -j$JOBS), $HOGS busy loops beside it"
passed=0
t_all=$(date +%s)
for run in $(seq 1 "$RUNS"); do
	out=$B/runs/$run
	rm -rf "$out" && mkdir -p "$out"
	rm -f "$B"/tests/integration/*.log "$B"/tests/integration/*.trs "$B"/test-suite.log
	hogs_start
	t0=$(date +%s)
	(cd "$B" && exec timeout "$RUN_LIMIT" make -s -j"$JOBS" check-integration) >"$out/make.log" 2>&1 &
	RUN_PID=$!
	rc=0
	wait "$RUN_PID" || rc=$?
	RUN_PID=""
	el=$(($(date +%s) - t0))
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	hogs_stop
	cp "$B"/tests/integration/*.log "$B"/test-suite.log "$out/" 2>/dev/null
	failed=$(grep -l '^:test-result: \(FAIL\|ERROR\)' "$B"/tests/integration/*.trs 2>/dev/null |
		xargs -r -n1 basename | sed 's/\.trs$//' | tr '\n' ' ')
	n=$(ls "$B"/tests/integration/*.trs 2>/dev/null | wc -l)
	if [ "$rc" -eq 0 ] && [ -z "$failed" ] && [ "$n" -gt 0 ]; then
		passed=$((passed + 1))
		echo "run $run/$RUNS: PASS  $n tests  $(hms "$el")  (load average $load)"
	else
		[ "$rc" -eq 124 ] && failed="${failed}(stopped after ${RUN_LIMIT}s) "
		echo "run $run/$RUNS: FAIL  ${failed:-make exit $rc}  $(hms "$el")  logs: ${out#"$top"/}"
		for t in $failed; do
			[ -f "$out/$t.log" ] && grep -m 3 'FAIL:\|ERROR:' "$out/$t.log" | sed 's/^/    /'
		done
	fi
done
echo "$passed of $RUNS runs passed ($(hms $(($(date +%s) - t_all))) in all, $HOGS busy loops)"
[ "$passed" -eq "$RUNS" ]
