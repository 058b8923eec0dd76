#!/bin/bash
# Docs drift: every keyword the configuration parser knows must appear in
# ppbridge.cfg(5) as a bold term, and every keyword it refuses as "not
# supported yet" must appear (bold) in the NOT YET SUPPORTED section.
#
# The keywords come from the parser's sources, src/cfg*.c, mechanically,
# never from a list kept here:
#   - every row of a keyword table (struct cfg_kw, include/cfg_int.h):
#     rows are written with the CFG_KW_* macros, and the keyword is their
#     first argument; a CFG_KW_REFUSE row (a NULL handler: known, refused
#     with a hint) is a keyword that must also be in NOT YET SUPPORTED. A
#     row written anywhere else (a lone typed row) counts the same way;
#   - every other `static const` array initialiser of those files: the
#     first string of each `{"...", ...}` entry of a struct table, every
#     string of a `char *` table;
#   - every word a `strcmp()`/`strncmp()` of those files compares an
#     argument with (http-check rules, log options, ...).
# Only the array *names* are known here: a table this script does not
# know fails the test, so that a new table is classified, not skipped; so
# does a keyword table row not written with a CFG_KW_* macro.
#
# Environment: PPB_SRCDIR (the source tree, set by the automake harness),
# PPB_MANPAGE (another man page to check, e.g. to prove the check fails),
# PPB_CFG_C (other parser sources, separated by blanks).
# Exit: 0 complete, 1 keywords missing, 99 the extraction itself failed.
set -u

SRCDIR=${PPB_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -n "${PPB_CFG_C:-}" ]; then
	read -r -a CFG_C <<<"$PPB_CFG_C"
else
	CFG_C=("$SRCDIR"/src/cfg*.c)
fi
MAN=${PPB_MANPAGE:-$SRCDIR/doc/ppbridge.cfg.5}

hard_error() {
	echo "t_docs: $*" >&2
	exit 99
}
for f in "${CFG_C[@]}"; do
	[ -r "$f" ] || hard_error "cannot read $f"
done
[ -r "$MAN" ] || hard_error "cannot read $MAN"

# Keyword tables (struct cfg_kw rows).
KW_TABLES="cfg_section_kws cfg_global_kws cfg_proxy_kws cfg_timeout_kws cfg_option_kws
	cfg_bind_kws cfg_server_kws cfg_stats_kws cfg_userlist_kws"
# Other tables that hold configuration words (keywords, option names, values).
KNOWN_TABLES="units facility_names level_names names fns client_ip_names services stats_actions codes table_types"
# Tables that hold no configuration word (message fragments).
IGNORED_TABLES="lists"
# Other tables whose every entry is a keyword refused as "not supported yet"
# (keyword tables say it row by row, with CFG_KW_REFUSE).
LATER_TABLES=""

TMP=$(mktemp -d "${TMPDIR:-/tmp}/t_docs.XXXXXX") || hard_error "mktemp failed"
trap '[ -n "${PPB_KEEP_TMP:-}" ] || rm -rf "$TMP"' EXIT

# ---- 1. keywords from the parser's sources ----
# Output lines: "<kind> <table> <word>", kind = kw (supported or not) or
# later (refused as not supported yet).
awk -v known="$KNOWN_TABLES" -v kwt="$KW_TABLES" -v ignored="$IGNORED_TABLES" \
	-v later_tables="$LATER_TABLES" '
BEGIN {
	n = split(known, a, /[ \t\n]+/); for (i = 1; i <= n; i++) if (a[i] != "") K[a[i]] = 1
	n = split(kwt, a, /[ \t\n]+/); for (i = 1; i <= n; i++) if (a[i] != "") { K[a[i]] = 1; KW[a[i]] = 1 }
	n = split(ignored, a, /[ \t\n]+/); for (i = 1; i <= n; i++) if (a[i] != "") I[a[i]] = 1
	n = split(later_tables, a, /[ \t\n]+/); for (i = 1; i <= n; i++) if (a[i] != "") L[a[i]] = 1
	intable = 0
}
FNR == 1 { intable = 0 }
function emit(kind, table, word) {
	if (word != "") print kind, table, word
}
# CFG_KW_<TYPE>("keyword", ...) rows on a line: the keyword, refused or not.
function rows(text, table,    t, m, w) {
	t = text
	while (match(t, /CFG_KW_[A-Z_]+\("[^"]*"/)) {
		m = substr(t, RSTART, RLENGTH)
		w = m; sub(/^[^"]*"/, "", w); sub(/"$/, "", w)
		emit((m ~ /^CFG_KW_REFUSE\(/) ? "later" : "kw", table, w)
		t = substr(t, RSTART + RLENGTH)
	}
}
function body(text,    t, w, islater) {
	if (!skipping) {
		t = text
		if (iskw) {
			rows(t, table)
			if (t ~ /\{[ \t]*"/) print "badrow", table, "-"
		} else if (isstr) {
			while (match(t, /"[^"]*"/)) {
				w = substr(t, RSTART + 1, RLENGTH - 2)
				emit((table in L) ? "later" : "kw", table, w)
				t = substr(t, RSTART + RLENGTH)
			}
		} else {
			islater = (table in L) || text ~ /_LATER|not supported yet/
			while (match(t, /\{"[^"]*"/)) {
				w = substr(t, RSTART + 2, RLENGTH - 3)
				emit(islater ? "later" : "kw", table, w)
				t = substr(t, RSTART + RLENGTH)
			}
		}
	}
	if (text ~ /\};/) intable = 0
}
# The opening line of an array initialiser: "[static ]const ... NAME[] = {"
# or, for an anonymous struct type, "} NAME[] = {".
!intable && /[A-Za-z_][A-Za-z0-9_]*\[[A-Za-z0-9_]*\] = \{/ &&
    ($0 ~ /const/ || $0 ~ /^[ \t]*\}/) {
	s = $0
	sub(/\[[A-Za-z0-9_]*\] = \{.*/, "", s)
	sub(/.*[^A-Za-z0-9_]/, "", s)
	table = s
	if (table in I) { skipping = 1 } else if (table in K) { skipping = 0; FOUND[table] = 1 }
	else { print "unknown", table, "-"; skipping = 1 }
	iskw = ($0 ~ /struct cfg_kw /)
	if (iskw != (table in KW) && !(table in I)) print "kwtable", table, "-"
	isstr = ($0 ~ /char \*/)
	rest = $0
	sub(/.*\] = \{/, "", rest)
	intable = 1
	body(rest)
	next
}
intable { body($0); next }
# A row outside a table (a lone typed row a handler uses).
{ rows($0, "(row)") }
END {
	for (t in K) if (!(t in FOUND)) print "missing-table", t, "-"
}
' "${CFG_C[@]}" >"$TMP/tables" || hard_error "awk failed on ${CFG_C[*]}"

# Words compared with strcmp()/strncmp() anywhere in the parser: only
# words made of the characters of configuration keywords.
grep -ho 'strn\{0,1\}cmp([^;{}]*"[^"]*"' "${CFG_C[@]}" |
	sed 's/.*"\([^"]*\)"$/\1/' |
	grep -E '^[A-Za-z][A-Za-z0-9@._-]*$' |
	sed 's/^/kw strcmp /' >"$TMP/strcmp"

if grep -q '^unknown ' "$TMP/tables"; then
	grep '^unknown ' "$TMP/tables" | while read -r _ t _; do
		echo "t_docs: the parser has a table '$t' this script does not know:" \
			"add it to KW_TABLES (struct cfg_kw rows), KNOWN_TABLES (other configuration" \
			"words) or IGNORED_TABLES" >&2
	done
	exit 99
fi
if grep -q '^kwtable ' "$TMP/tables"; then
	grep '^kwtable ' "$TMP/tables" | while read -r _ t _; do
		echo "t_docs: table '$t' is a struct cfg_kw table if and only if it is in" \
			"KW_TABLES" >&2
	done
	exit 99
fi
if grep -q '^badrow ' "$TMP/tables"; then
	grep '^badrow ' "$TMP/tables" | while read -r _ t _; do
		echo "t_docs: keyword table '$t' has a row not written with a CFG_KW_* macro" >&2
	done
	exit 99
fi
if grep -q '^missing-table ' "$TMP/tables"; then
	grep '^missing-table ' "$TMP/tables" | while read -r _ t _; do
		echo "t_docs: table '$t' not found in src/cfg*.c (renamed? update KNOWN_TABLES)" >&2
	done
	exit 99
fi

cat "$TMP/tables" "$TMP/strcmp" | awk '{print $3}' | sort -u >"$TMP/keywords"
awk '$1 == "later" {print $3}' "$TMP/tables" | sort -u >"$TMP/later"
# A word that is also accepted somewhere (e.g. `ssl` of http-check connect,
# `stats` in global and proxies) is still listed in NOT YET SUPPORTED.
nkw=$(wc -l <"$TMP/keywords")
nlater=$(wc -l <"$TMP/later")
[ "$nkw" -ge 100 ] || hard_error "only $nkw keywords extracted from ${CFG_C[*]}: extraction broken?"

# ---- 2. bold terms of the man page ----
# Output lines: "<section> <token>", for every word set in bold by .B,
# .BR/.BI (odd arguments), .RB/.IB (even arguments) or \fB...\fR inline.
awk '
function unescape(s) {
	gsub(/\\-/, "-", s); gsub(/\\&/, "", s); gsub(/\\e/, "\\", s)
	gsub(/\\\(aq/, "'"'"'", s); gsub(/\\\(mu/, "x", s); gsub(/\\ /, " ", s)
	gsub(/\\\|/, "", s); gsub(/\\\^/, "", s)
	return s
}
function tokens(text,    n, i, a, w) {
	text = unescape(text)
	n = split(text, a, /[ \t\[\]|(){}<>=,;"]+/)
	for (i = 1; i <= n; i++) {
		w = a[i]
		sub(/[.:]+$/, "", w)
		if (w != "") print sect, w
	}
}
# Split macro arguments, honouring double quotes ("" is a literal quote).
function args(line, out,    n, i, c, cur, inq, started) {
	n = 0; cur = ""; inq = 0; started = 0
	for (i = 1; i <= length(line); i++) {
		c = substr(line, i, 1)
		if (inq) {
			if (c == "\"") {
				if (substr(line, i + 1, 1) == "\"") { cur = cur "\""; i++ }
				else inq = 0
			} else cur = cur c
		} else if (c == "\"") { inq = 1; started = 1 }
		else if (c == " " || c == "\t") {
			if (started || cur != "") { out[++n] = cur; cur = ""; started = 0 }
		} else cur = cur c
	}
	if (started || cur != "") out[++n] = cur
	return n
}
function inline_bold(s,    rest, seg, p) {
	rest = s
	while ((p = index(rest, "\\fB")) > 0) {
		rest = substr(rest, p + 3)
		if (match(rest, /\\f[RPI]/)) { seg = substr(rest, 1, RSTART - 1); rest = substr(rest, RSTART) }
		else { seg = rest; rest = "" }
		tokens(seg)
	}
}
BEGIN { sect = "-" }
/^\.SH / { s = $0; sub(/^\.SH[ \t]+/, "", s); gsub(/"/, "", s); sect = (s == "NOT YET SUPPORTED") ? "later" : "other"; next }
/^\.(B|BR|BI|RB|IB)[ \t]/ {
	m = substr($1, 2); rest = $0; sub(/^\.[A-Z]+[ \t]+/, "", rest)
	n = args(rest, A)
	for (i = 1; i <= n; i++) {
		bold = (m == "B") || ((m == "BR" || m == "BI") && i % 2 == 1) || ((m == "RB" || m == "IB") && i % 2 == 0)
		if (bold) tokens(A[i]); else inline_bold(A[i])
	}
	next
}
/^\.B$/ { next }
{ inline_bold($0) }
' "$MAN" >"$TMP/bold" || hard_error "awk failed on $MAN"

awk '{print $2}' "$TMP/bold" | sort -u >"$TMP/bold_all"
awk '$1 == "later" {print $2}' "$TMP/bold" | sort -u >"$TMP/bold_later"

# ---- 3. compare ----
missing=$(comm -23 "$TMP/keywords" "$TMP/bold_all")
missing_later=$(comm -23 "$TMP/later" "$TMP/bold_later")
rc=0
if [ -n "$missing" ]; then
	echo "t_docs: keywords of src/cfg*.c missing from $(basename "$MAN") (not in bold anywhere):"
	for k in $missing; do
		where=$(cat "$TMP/tables" "$TMP/strcmp" | awk -v k="$k" '$3 == k {print $2}' | sort -u | tr '\n' ' ')
		echo "  $k    (from: ${where% })"
	done
	rc=1
fi
if [ -n "$missing_later" ]; then
	echo "t_docs: not-yet-supported keywords missing from the NOT YET SUPPORTED section:"
	for k in $missing_later; do echo "  $k"; done
	rc=1
fi
echo "t_docs: checked $nkw keywords of ${#CFG_C[@]} parser files ($nlater not yet supported) against $(basename "$MAN"): $([ $rc = 0 ] && echo complete || echo INCOMPLETE)"
exit $rc
