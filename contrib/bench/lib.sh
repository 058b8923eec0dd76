# lib.sh - helpers shared by bench.sh and idle.sh (sourced after PROG is set).
# shellcheck shell=bash
# SC2016: the single-quoted bash -c script expands its own positional parameters.
# shellcheck disable=SC2016

say()  { printf '%s\n' "$*"; }

warn() { printf '%s: %s\n' "$PROG" "$*" >&2; }

die()  { warn "$*"; exit 2; }

is_num() { [[ ${1:-} =~ ^[0-9]+([.][0-9]+)?$ ]]; }

# median of the numeric arguments ("-" if none)
median() {
	local v
	for v in "$@"; do is_num "$v" && printf '%s\n' "$v"; done | sort -g |
		awk '{ a[NR] = $1 }
		     END { if (NR == 0) { print "-"; exit }
		           if (NR % 2) print a[(NR + 1) / 2];
		           else printf "%.6g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# max of the numeric arguments ("-" if none)
maxof() {
	local v
	for v in "$@"; do is_num "$v" && printf '%s\n' "$v"; done |
		awk 'NR == 1 || $1 > m { m = $1 } END { if (NR == 0) print "-"; else print m }'
}

# ratio a/b formatted with 2 decimals ("-" if either is missing)
ratio() {
	if is_num "$1" && is_num "$2"; then
		awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'
	else
		echo "-"
	fi
}

port_open() { # PORT: something accepts on 127.0.0.1:PORT
	timeout 1 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

wait_port() { # PORT PID: wait up to 5 s for PORT to accept while PID lives
	local _
	for _ in $(seq 1 50); do
		kill -0 "$2" 2>/dev/null || return 1
		port_open "$1" && return 0
		sleep 0.1
	done
	return 1
}

verdict() { # RATIO OP LIMIT -> met | MISSED | n/a
	is_num "$1" || { echo "n/a"; return; }
	if awk -v r="$1" -v l="$3" -v op="$2" 'BEGIN { exit !(op == ">=" ? r >= l : r <= l) }'; then
		echo "met"
	else
		echo "MISSED"
	fi
}
