#!/bin/bash
# The README's test command: install what the tests need, build with
# AddressSanitizer + UndefinedBehaviorSanitizer, run the unit tier and the
# integration tier (real HAProxy, real sockets on loopback), run each
# libFuzzer target for a bounded time, prove the clang build is warning
# free, and run `make distcheck` (unit tier).
#
# Environment: JOBS (default: nproc), FUZZ_SECONDS (default 20),
# SKIP_DISTCHECK=1 to leave out the slowest step while iterating.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
. contrib/deps.sh
deps_install test || exit 1

JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
passed=0
failed=0
step() { echo; echo "==> $*"; }

# Counts the automake harness results of one test run.
tally() {
	local log=$1 p f
	p=$(awk '/^# PASS:/ {print $3}' "$log" 2>/dev/null | tail -n 1)
	f=$(awk '/^# (FAIL|ERROR|XPASS):/ {s += $3} END {print s + 0}' "$log" 2>/dev/null)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
}

run_or_count() { # name, command...: a failing step counts as one failure
	local name=$1
	shift
	if "$@"; then passed=$((passed + 1)); else
		echo "FAILED: $name"
		failed=$((failed + 1))
	fi
}

step "autogen"
./autogen.sh >/dev/null 2>&1 || { echo "autogen.sh failed"; exit 1; }

step "build with ASan + UBSan (gcc, -Werror)"
mkdir -p _build/asan
(cd _build/asan && "$top/configure" -q --enable-asan --enable-werror CC=gcc &&
	make -s -j"$JOBS") || { echo "build failed"; exit 1; }

step "unit tests (Check)"
(cd _build/asan && make -s -j"$JOBS" check) 
tally _build/asan/test-suite.log
grep -h '^[0-9]*%: Checks' _build/asan/tests/unit/*.log 2>/dev/null

step "integration tests (HAProxy $(haproxy -v 2>/dev/null | head -n 1 | awk '{print $3}'))"
(cd _build/asan && make -s -j"$JOBS" check-integration)
tally _build/asan/test-suite.log
grep -h '^\[t_.*\] ok:' _build/asan/tests/integration/*.log 2>/dev/null | sed 's/^/  /'

if command -v clang >/dev/null 2>&1; then
	step "clang build, -Werror"
	mkdir -p _build/clang
	run_or_count clang-build bash -c "cd _build/clang && '$top/configure' -q --enable-werror CC=clang && make -s -j$JOBS all"
	step "fuzz each parser for ${FUZZ_SECONDS}s"
	run_or_count fuzz bash -c "cd _build/asan && make -s fuzz-run FUZZ_SECONDS=$FUZZ_SECONDS"
else
	echo "clang missing: the fuzz and clang steps cannot run" >&2
	failed=$((failed + 1))
fi

if [ -z "${SKIP_DISTCHECK:-}" ]; then
	step "make distcheck (unit tier)"
	mkdir -p _build/dist
	run_or_count distcheck bash -c "cd _build/dist && '$top/configure' -q && make -s -j$JOBS distcheck >distcheck.log 2>&1 || { tail -n 40 distcheck.log; exit 1; }"
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
