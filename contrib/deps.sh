# deps.sh - install ppbridge's build or test dependencies when missing.
# Sourced by contrib/demo.sh and contrib/test.sh. Debian/Ubuntu (apt-get)
# and RHEL 9 family (dnf; check-devel comes from CRB, see README).

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian starts services when their package is installed; we want the
# haproxy, nginx, prometheus and keepalived binaries only (promtool, for t_prom),
# never a system instance listening.
apt_install_quietly() {
	local made_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
		as_root chmod +x /usr/sbin/policy-rc.d
		made_policy=1
	fi
	as_root apt-get update -qq
	DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@"
	local rc=$?
	if [ "$made_policy" -eq 1 ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
	for svc in haproxy nginx prometheus keepalived; do
		if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
			as_root systemctl disable --now "$svc" >/dev/null 2>&1 || true
		fi
	done
	return $rc
}

# deps_install build|test
deps_install() {
	local what=$1 missing="" pkgs
	if command -v apt-get >/dev/null 2>&1; then
		pkgs="build-essential autoconf automake pkg-config libevent-dev libssl-dev libcrypt-dev check python3 openssl"
		[ "$what" = test ] && pkgs="$pkgs haproxy curl clang libclang-rt-dev iproute2"
		# Two ppbridge hosts behind VRRP, in network namespaces (t_ha).
		[ "$what" = test ] && pkgs="$pkgs keepalived"
		# promtool (t_prom checks the exposition with it); RHEL has no
		# package for it: t_prom fails there, like the HAProxy 2.6 tests.
		[ "$what" = test ] && pkgs="$pkgs prometheus"
		# A real browser for the stats page (t_page).
		[ "$what" = test ] && pkgs="$pkgs chromium"
		# Packaging checks: rpmbuild of the dist tarball (Debian's rpm, no
		# systemd RPM macros) and systemd-analyze verify of the unit. The
		# systemd package only brings the tools here: where systemd is not
		# PID 1 nothing starts, and where it is, it is installed already.
		[ "$what" = test ] && pkgs="$pkgs rpm systemd"
		for p in $pkgs; do
			dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
				missing="$missing $p"
		done
		if [ -n "$missing" ]; then
			echo "==> installing:$missing"
			# shellcheck disable=SC2086
			apt_install_quietly $missing
		fi
	elif command -v dnf >/dev/null 2>&1; then
		pkgs="gcc make autoconf automake pkgconf-pkg-config libevent-devel openssl-devel libxcrypt-devel check-devel python3 openssl"
		[ "$what" = test ] && pkgs="$pkgs haproxy curl clang compiler-rt rpm-build systemd-rpm-macros systemd iproute keepalived"
		for p in $pkgs; do
			rpm -q "$p" >/dev/null 2>&1 || missing="$missing $p"
		done
		if [ -n "$missing" ]; then
			echo "==> installing:$missing (check-devel needs CRB: dnf config-manager --set-enabled crb)"
			# shellcheck disable=SC2086
			as_root dnf install -y $missing
		fi
	else
		echo "neither apt-get nor dnf found: install the packages listed in README.md" >&2
		return 1
	fi
}
