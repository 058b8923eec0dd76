#!/bin/bash
# The README's test command: install what the tests need, build with
# AddressSanitizer + UndefinedBehaviorSanitizer, run the unit tier and the
# integration tier (real HAProxy, real sockets on loopback), run each
# libFuzzer target for a bounded time, prove the clang build is warning
# free, and run `make distcheck` (unit tier). Packaging: `make install`
# into a DESTDIR, `systemd-analyze verify` of the installed unit, and
# `rpmbuild -ba` of the dist tarball (its %check runs the unit tier).
#
# Environment: JOBS (default: nproc), FUZZ_SECONDS (default 20),
# SKIP_DISTCHECK=1 to leave out the slowest step while iterating,
# SKIP_RPM=1 to leave out the rpmbuild step.
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

# ---- packaging checks (functions; each returns non-zero on failure) ----
# The asan build's prefix is configure's default.
PKG_PREFIX=/usr/local
PKG_DESTDIR=$top/_build/destdir

# `make install DESTDIR=...` puts every file where it belongs, and a second
# install keeps an edited ppbridge.cfg (the new example goes beside it).
install_check() {
	local dd=$PKG_DESTDIR p=$PKG_PREFIX cfg f
	rm -rf "$dd"
	(cd _build/asan && make -s install DESTDIR="$dd") >_build/install.log 2>&1 ||
		{ tail -n 20 _build/install.log; return 1; }
	for f in sbin/ppbridge share/man/man8/ppbridge.8 share/man/man5/ppbridge.cfg.5 \
		lib/systemd/system/ppbridge.service etc/ppbridge/ppbridge.cfg; do
		[ -f "$dd$p/$f" ] || { echo "make install: $p/$f missing"; return 1; }
	done
	cfg=$dd$p/etc/ppbridge/ppbridge.cfg
	grep -q "^ExecStart=$p/sbin/ppbridge -f $p/etc/ppbridge/ppbridge.cfg\$" \
		"$dd$p/lib/systemd/system/ppbridge.service" ||
		{ echo "the installed unit's ExecStart does not name $p/sbin and $p/etc"; return 1; }
	echo "# edited by the operator" >>"$cfg"
	(cd _build/asan && make -s install DESTDIR="$dd") >>_build/install.log 2>&1 ||
		{ tail -n 20 _build/install.log; return 1; }
	grep -q '^# edited by the operator$' "$cfg" ||
		{ echo "a second make install overwrote the edited ppbridge.cfg"; return 1; }
	[ -f "$cfg.example" ] || { echo "a second make install left no ppbridge.cfg.example"; return 1; }
	echo "  make install: binary, man pages, unit and configuration under DESTDIR; an edited ppbridge.cfg is kept"
}

# systemd-analyze verify of the installed unit, its commands pointed at the
# DESTDIR binary (verify insists that they exist), and its man pages
# looked up in the DESTDIR when man(1) is there. Clean means no output.
verify_unit() {
	local dd=$PKG_DESTDIR p=$PKG_PREFIX dir out rc manopt=--man=no
	if ! command -v systemd-analyze >/dev/null 2>&1; then
		echo "  SKIPPED: systemd-analyze is missing (Debian/RHEL package: systemd). By hand:"
		echo "  systemd-analyze verify /usr/lib/systemd/system/ppbridge.service"
		return 0
	fi
	dir=$top/_build/unit-verify
	rm -rf "$dir" && mkdir -p "$dir"
	sed -e "s|^\\(Exec[A-Za-z]*=[-@:+!]*\\)$p/sbin/ppbridge|\\1$dd$p/sbin/ppbridge|" \
		"$dd$p/lib/systemd/system/ppbridge.service" >"$dir/ppbridge.service"
	command -v man >/dev/null 2>&1 && manopt=--man=yes
	out=$(MANPATH=$dd$p/share/man systemd-analyze verify "$manopt" "$dir/ppbridge.service" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] || [ -n "$out" ]; then
		echo "systemd-analyze verify (exit $rc):"
		echo "$out"
		return 1
	fi
	echo "  $(systemd-analyze --version | head -n 1): verify $manopt clean"
}

# rpmbuild -ba of the dist tarball with the spec it carries; --nodeps as
# Debian's rpm database knows none of the build dependencies.
rpm_check() {
	local tarball name rpmdir=$top/_build/rpm bin f
	if ! command -v rpmbuild >/dev/null 2>&1; then
		echo "rpmbuild is missing (Debian: rpm, RHEL: rpm-build)"
		return 1
	fi
	tarball=$(ls -t _build/dist/ppbridge-*.tar.gz 2>/dev/null | head -n 1)
	if [ -z "$tarball" ]; then
		mkdir -p _build/dist
		(cd _build/dist && { [ -f Makefile ] || "$top/configure" -q; } && make -s dist) \
			>_build/dist/dist.log 2>&1 || { tail -n 20 _build/dist/dist.log; return 1; }
		tarball=$(ls -t _build/dist/ppbridge-*.tar.gz | head -n 1)
	fi
	name=$(basename "$tarball" .tar.gz)
	rm -rf "$rpmdir" && mkdir -p "$rpmdir/SOURCES" "$rpmdir/SPECS"
	cp "$tarball" "$rpmdir/SOURCES/"
	tar -xzOf "$tarball" "$name/ppbridge.spec" >"$rpmdir/SPECS/ppbridge.spec" ||
		{ echo "$tarball holds no $name/ppbridge.spec"; return 1; }
	rpmbuild -ba --nodeps --define "_topdir $rpmdir" "$rpmdir/SPECS/ppbridge.spec" \
		>"$rpmdir/rpmbuild.log" 2>&1 || { tail -n 40 "$rpmdir/rpmbuild.log"; return 1; }
	grep '^Wrote:' "$rpmdir/rpmbuild.log" | sed 's/^/  /'
	grep -E '^# (PASS|FAIL|ERROR):' "$rpmdir/rpmbuild.log" | tr '\n' ' ' | sed 's/^/  %check: /; s/ *$/\n/'
	bin=$(ls "$rpmdir"/RPMS/*/ppbridge-[0-9]*.rpm 2>/dev/null | head -n 1)
	[ -n "$bin" ] || { echo "no binary RPM written"; return 1; }
	# The list goes to a file first: `rpm | grep -q` under pipefail fails
	# whenever grep stops reading early (SIGPIPE on rpm).
	rpm -qlp "$bin" >"$rpmdir/files.txt" 2>/dev/null
	for f in /usr/sbin/ppbridge /usr/lib/systemd/system/ppbridge.service \
		/etc/ppbridge/ppbridge.cfg /usr/share/man/man8/ppbridge.8 /usr/share/man/man5/ppbridge.cfg.5; do
		grep -q "^$f" "$rpmdir/files.txt" || { echo "$(basename "$bin") lacks $f"; return 1; }
	done
	rpm -qcp "$bin" >"$rpmdir/config.txt" 2>/dev/null
	grep -qx /etc/ppbridge/ppbridge.cfg "$rpmdir/config.txt" ||
		{ echo "/etc/ppbridge/ppbridge.cfg is not %config"; return 1; }
	rpm -qp --scripts "$bin" >"$rpmdir/scripts.txt" 2>/dev/null
	grep -q 'useradd -r' "$rpmdir/scripts.txt" ||
		{ echo "no user creation in %pre"; return 1; }
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

step "make install (DESTDIR) and the systemd unit"
run_or_count install install_check
run_or_count unit-verify verify_unit

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

if [ -z "${SKIP_RPM:-}" ]; then
	step "rpmbuild -ba of the dist tarball (%check: unit tier)"
	run_or_count rpmbuild rpm_check
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
