/* cfg.c - HAProxy-syntax configuration: tokenizer, parser and checks.
 *
 * Layout: messages and small helpers; the tokenizer; value parsers (time,
 * integers, log targets); proxy/server lifecycle and defaults inheritance;
 * the global keyword table; the proxy keyword tables (keywords, options,
 * timeouts, server options, http-check); the section/line driver;
 * cfg_finish() checks; cfg_resolve() and cfg_load_files(), the only parts
 * that touch the outside world.
 *
 * Every keyword is found in a table saying in which sections it is valid,
 * so "wrong section" and "unknown keyword" come out the same way for all.
 * Keywords we know but do not implement yet are in the tables too, with the
 * issue that will bring them: a config is never half-understood silently.
 */
#include <config.h>

#include "hexdigit.h"
#include "cfg.h"

#include "acl.h"
#include "proxy_proto.h"
#include "net.h"
#include "sample.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------ */
/* Allocation: running out of memory while reading a configuration is not
 * something we can report usefully, so it ends the process. */

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p)
		abort();
	return p;
}

static char *xstrdup(const char *s)
{
	char *p;

	if (!s)
		return NULL;
	p = strdup(s);
	if (!p)
		abort();
	return p;
}

/* Replace an owned string. */
static void set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = xstrdup(src);
}

/* ------------------------------------------------------------------ */
/* Messages */

void cfg_msgs_init(struct cfg_msgs *msgs)
{
	msgs->head = NULL;
	msgs->tail = &msgs->head;
	msgs->errors = 0;
	msgs->warnings = 0;
}

void cfg_msgs_free(struct cfg_msgs *msgs)
{
	struct cfg_msg *m = msgs->head;

	while (m) {
		struct cfg_msg *next = m->next;
		free(m->text);
		free(m);
		m = next;
	}
	cfg_msgs_init(msgs);
}

void cfg_msg_add(struct cfg_msgs *msgs, enum cfg_severity sev, const struct cfg_where *where,
                 const char *fmt, ...)
{
	char prefix[512] = "";
	struct cfg_msg *m;
	va_list ap;
	int blen;
	size_t plen;

	if (where && where->file)
		snprintf(prefix, sizeof(prefix), "%s:%d: ", where->file, where->line);
	plen = strlen(prefix);
	va_start(ap, fmt);
	blen = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (blen < 0)
		blen = 0;
	m = xcalloc(1, sizeof(*m));
	m->severity = sev;
	m->text = xcalloc(1, plen + (size_t)blen + 1);
	memcpy(m->text, prefix, plen);
	va_start(ap, fmt);
	vsnprintf(m->text + plen, (size_t)blen + 1, fmt, ap);
	va_end(ap);
	*msgs->tail = m;
	msgs->tail = &m->next;
	if (sev == CFG_SEV_ERROR)
		msgs->errors++;
	else if (sev == CFG_SEV_WARNING)
		msgs->warnings++;
}

/* ------------------------------------------------------------------ */
/* Tokenizer */

/* Output of the tokenizer under construction: bytes and word offsets (the
 * buffer moves while it grows, so pointers are set only at the end). */
struct tok {
	struct cfg_words *words;
	size_t len;
	size_t start[CFG_MAX_WORDS];
	int in_word; /* a word has started (even an empty "" one) */
};

static int tok_put(struct tok *t, char c)
{
	struct cfg_words *w = t->words;

	/* Expansion could make a line grow without bound: keep the limit. */
	if (t->len + 1 > CFG_MAX_LINE + CFG_MAX_WORDS)
		return -1;
	if (t->len + 1 > w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		char *p = realloc(w->buf, cap);
		if (!p)
			abort();
		w->buf = p;
		w->cap = cap;
	}
	w->buf[t->len++] = c;
	return 0;
}

static int tok_begin_word(struct tok *t, const char **err)
{
	if (t->in_word)
		return 0;
	if (t->words->n >= CFG_MAX_WORDS) {
		*err = "too many words on the line (max 64)";
		return -1;
	}
	t->start[t->words->n++] = t->len;
	t->in_word = 1;
	return 0;
}

static int tok_end_word(struct tok *t, const char **err)
{
	if (!t->in_word)
		return 0;
	t->in_word = 0;
	if (tok_put(t, '\0') < 0) {
		*err = "line too long after expansion (max 64 KiB)";
		return -1;
	}
	return 0;
}

/* One backslash sequence at line[*i] (the backslash). Known escapes give
 * their character; others keep the backslash, as HAProxy does, so regexes
 * like `\.` survive. `\$` is an escape only inside double quotes. */
static int tok_escape(struct tok *t, const char *line, size_t len, size_t *i, int dquote,
                      const char **err)
{
	char c = *i + 1 < len ? line[*i + 1] : '\0';
	int out;

	switch (c) {
	case ' ':
	case '#':
	case '\\':
	case '\'':
	case '"':
		out = c;
		break;
	case 'r':
		out = '\r';
		break;
	case 'n':
		out = '\n';
		break;
	case 't':
		out = '\t';
		break;
	case '$':
		if (!dquote)
			goto literal;
		out = '$';
		break;
	case 'x': {
		int hi = *i + 2 < len ? hex_digit_value(line[*i + 2]) : -1;
		int lo = *i + 3 < len ? hex_digit_value(line[*i + 3]) : -1;
		if (hi < 0 || lo < 0) {
			*err = "invalid '\\x' escape: two hexadecimal digits expected";
			return -1;
		}
		out = hi * 16 + lo;
		if (out == 0) {
			*err = "'\\x00' is not allowed";
			return -1;
		}
		if (tok_put(t, (char)out) < 0)
			goto toolong;
		*i += 4;
		return 0;
	}
	default:
		goto literal;
	}
	if (tok_put(t, (char)out) < 0)
		goto toolong;
	*i += 2;
	return 0;
literal:
	if (tok_put(t, '\\') < 0)
		goto toolong;
	*i += 1;
	return 0;
toolong:
	*err = "line too long after expansion (max 64 KiB)";
	return -1;
}

static int is_var_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

/* "$NAME" or "${NAME}" inside double quotes; an unset variable expands to
 * nothing. */
static int tok_env(struct tok *t, const char *line, size_t len, size_t *i, const char **err)
{
	char name[256];
	size_t p = *i + 1, n = 0;
	int brace = 0;
	const char *value;

	if (p < len && line[p] == '{') {
		brace = 1;
		p++;
	}
	if (p >= len || !is_var_start(line[p])) {
		*err = "invalid environment variable name after '$' (use \\$ for a dollar)";
		return -1;
	}
	while (p < len && (isalnum((unsigned char)line[p]) || line[p] == '_')) {
		if (n + 1 >= sizeof(name)) {
			*err = "environment variable name too long";
			return -1;
		}
		name[n++] = line[p++];
	}
	name[n] = '\0';
	if (brace) {
		if (p >= len || line[p] != '}') {
			*err = "missing '}' after '${' (default values are not supported)";
			return -1;
		}
		p++;
	}
	*i = p;
	value = getenv(name);
	for (; value && *value; value++) {
		if (tok_put(t, *value) < 0) {
			*err = "line too long after expansion (max 64 KiB)";
			return -1;
		}
	}
	return 0;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int tok_run(struct tok *t, const char *line, size_t len, const char **err)
{
	int squote = 0, dquote = 0;
	size_t i = 0;

	while (i < len) {
		char c = line[i];

		if (c == '\0') {
			*err = "NUL character in line";
			return -1;
		}
		if (squote) {
			if (c == '\'')
				squote = 0;
			else if (tok_put(t, c) < 0)
				goto toolong;
			i++;
			continue;
		}
		if (!dquote && is_blank(c)) {
			if (tok_end_word(t, err) < 0)
				return -1;
			i++;
			continue;
		}
		if (!dquote && c == '#')
			break;
		if (tok_begin_word(t, err) < 0)
			return -1;
		if (c == '\\') {
			if (tok_escape(t, line, len, &i, dquote, err) < 0)
				return -1;
		} else if (c == '"') {
			dquote = !dquote;
			i++;
		} else if (c == '\'' && !dquote) {
			squote = 1;
			i++;
		} else if (c == '$' && dquote) {
			if (tok_env(t, line, len, &i, err) < 0)
				return -1;
		} else {
			if (tok_put(t, c) < 0)
				goto toolong;
			i++;
		}
	}
	if (squote || dquote) {
		*err = squote ? "unterminated single quote" : "unterminated double quote";
		return -1;
	}
	return tok_end_word(t, err);
toolong:
	*err = "line too long after expansion (max 64 KiB)";
	return -1;
}

int cfg_tokenize(const char *line, size_t len, struct cfg_words *words, const char **err)
{
	struct tok t = {.words = words};

	words->n = 0;
	words->w[0] = NULL;
	if (len > CFG_MAX_LINE) {
		*err = "line too long (max 64 KiB)";
		return -1;
	}
	if (tok_run(&t, line, len, err) < 0) {
		words->n = 0;
		words->w[0] = NULL;
		return -1;
	}
	for (int k = 0; k < words->n; k++)
		words->w[k] = words->buf + t.start[k];
	words->w[words->n] = NULL;
	return 0;
}

void cfg_words_free(struct cfg_words *words)
{
	free(words->buf);
	memset(words, 0, sizeof(*words));
}

/* ------------------------------------------------------------------ */
/* Value parsers */

int cfg_parse_time(const char *text, unsigned *ms, const char **err)
{
	static const struct {
		const char *unit;
		unsigned long long mul, div;
	} units[] = {
	    {"", 1, 1},      {"us", 1, 1000},   {"ms", 1, 1},       {"s", 1000, 1},
	    {"m", 60000, 1}, {"h", 3600000, 1}, {"d", 86400000, 1},
	};
	unsigned long long v = 0;
	const char *p = text;

	if (!isdigit((unsigned char)*p)) {
		*err = "expects a time: a number with an optional unit (us, ms, s, m, h, d)";
		return -1;
	}
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (unsigned long long)(*p - '0');
		if (v > (unsigned long long)INT_MAX * 1000ull) {
			*err = "time value too large (max 2147483647 ms, about 24.8 days)";
			return -1;
		}
	}
	for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
		if (strcmp(p, units[k].unit) != 0)
			continue;
		/* Round microseconds up so that a non-zero time stays non-zero. */
		v = (v * units[k].mul + units[k].div - 1) / units[k].div;
		if (v > INT_MAX) {
			*err = "time value too large (max 2147483647 ms, about 24.8 days)";
			return -1;
		}
		*ms = (unsigned)v;
		return 0;
	}
	*err = "unknown time unit (expected us, ms, s, m, h or d)";
	return -1;
}

/* A decimal integer in [min, max]: no sign other than a leading '-', no
 * spaces, no trailing garbage. */
static int parse_long(const char *text, long min, long max, long *out)
{
	char *end;
	long v;

	if (!*text || isspace((unsigned char)*text) || *text == '+')
		return -1;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static const char *const facility_names[] = {
    "kern",   "user",   "mail",   "daemon", "auth",   "syslog", "lpr",    "news",
    "uucp",   "cron",   "auth2",  "ftp",    "ntp",    "audit",  "alert",  "cron2",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
};

static const char *const level_names[] = {
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

static int name_index(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* Name of a proxy, backend or server: what HAProxy accepts. */
static int valid_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.:", *s))
			return 0;
	return 1;
}

/* `ssl-min-ver` / `ssl-max-ver` values, as TLS protocol numbers. Versions
 * below TLS 1.2 are never offered: naming one is an error, not a silent
 * upgrade. */
static int parse_tls_version(const char *text, int *out, const char **err)
{
	static const struct {
		const char *name;
		int version; /* 0: refused */
	} names[] = {
	    {"SSLv3", 0}, {"TLSv1.0", 0}, {"TLSv1.1", 0}, {"TLSv1.2", 0x0303}, {"TLSv1.3", 0x0304},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(names[i].name, text) != 0)
			continue;
		if (!names[i].version) {
			*err = "not supported: ppbridge requires TLS 1.2 or later";
			return -1;
		}
		*out = names[i].version;
		return 0;
	}
	*err = "expects TLSv1.2 or TLSv1.3";
	return -1;
}

/* A `crt` or `ca-file` path: relative ones go under `crt-base` /
 * `ca-base` when one was set, as HAProxy does. */
static char *base_path(const char *base, const char *path)
{
	size_t blen, plen;
	char *out;

	if (!base || path[0] == '/')
		return xstrdup(path);
	blen = strlen(base);
	plen = strlen(path);
	while (blen > 0 && base[blen - 1] == '/')
		blen--; /* "/etc/ssl/" and "/" join without "//" */
	out = xcalloc(1, blen + plen + 2);
	memcpy(out, base, blen);
	out[blen] = '/';
	memcpy(out + blen + 1, path, plen + 1);
	return out;
}

/* ------------------------------------------------------------------ */
/* Parser state */

enum sec {
	SEC_NONE = 0,
	SEC_GLOBAL,
	SEC_PROXY,
	SEC_SKIP, /* a section we do not support: its lines are not parsed */
};

struct pstate {
	struct cfg *cfg;
	struct cfg_msgs *msgs;
	struct cfg_where where;
	enum sec sec;
	struct cfg_proxy *cur;      /* the section being filled */
	int cur_orphan;             /* `cur` is not linked anywhere (bad header) */
	int cur_hc_own;             /* `cur` wrote its own http-check rules */
	struct cfg_proxy *defaults; /* the last defaults section of this file */
};

#define ERR(ps, ...) cfg_msg_add((ps)->msgs, CFG_SEV_ERROR, &(ps)->where, __VA_ARGS__)
#define WARN(ps, ...) cfg_msg_add((ps)->msgs, CFG_SEV_WARNING, &(ps)->where, __VA_ARGS__)
#define NOTICE(ps, ...) cfg_msg_add((ps)->msgs, CFG_SEV_NOTICE, &(ps)->where, __VA_ARGS__)

static const char *sec_name(unsigned caps)
{
	if (caps & CFG_CAP_DEF)
		return "defaults";
	if ((caps & (CFG_CAP_FE | CFG_CAP_BE)) == (CFG_CAP_FE | CFG_CAP_BE))
		return "listen";
	return caps & CFG_CAP_FE ? "frontend" : "backend";
}

/* ------------------------------------------------------------------ */
/* Log targets (global and proxies) */

static void log_free_list(struct cfg_log *l)
{
	while (l) {
		struct cfg_log *next = l->next;
		free(l->path);
		free(l);
		l = next;
	}
}

static struct cfg_log *log_copy_list(const struct cfg_log *src)
{
	struct cfg_log *head = NULL, **tail = &head;

	for (; src; src = src->next) {
		struct cfg_log *l = xcalloc(1, sizeof(*l));
		*l = *src;
		l->next = NULL;
		l->path = xstrdup(src->path);
		*tail = l;
		tail = &l->next;
	}
	return head;
}

/* "1.2.3.4", "1.2.3.4:514", "[::1]:514", "::1", "udp@..." */
static int log_udp_addr(const char *text, struct cfg_addr *addr, const char **err)
{
	char host[256];
	uint16_t port = 514;
	const char *colon = strrchr(text, ':');

	if (net_parse_ip(text, &addr->ss, &addr->len) == 0) {
		net_set_port((struct sockaddr *)&addr->ss, port);
		return 0;
	}
	if (colon && colon[1] == '\0') {
		/* "1.2.3.4:" or "[::1]:": the port is optional */
		size_t n = (size_t)(colon - text);
		if (n >= sizeof(host)) {
			*err = "address too long";
			return -1;
		}
		memcpy(host, text, n);
		host[n] = '\0';
		if (host[0] == '[' && n >= 2 && host[n - 1] == ']') {
			host[n - 1] = '\0';
			memmove(host, host + 1, n - 1);
		}
	} else if (net_split_host_port(text, host, sizeof(host), &port, err) < 0) {
		return -1;
	}
	if (net_parse_ip(host, &addr->ss, &addr->len) < 0) {
		*err = "a UDP log target must be a literal IP address (names are not resolved)";
		return -1;
	}
	if (port == 0) {
		*err = "log port must not be 0";
		return -1;
	}
	net_set_port((struct sockaddr *)&addr->ss, port);
	return 0;
}

static int log_target(const char *text, struct cfg_log *l, const char **err)
{
	if (!strcmp(text, "stdout") || !strcmp(text, "fd@1")) {
		l->kind = CFG_LOG_STDOUT;
		return 0;
	}
	if (!strcmp(text, "stderr") || !strcmp(text, "fd@2")) {
		l->kind = CFG_LOG_STDERR;
		return 0;
	}
	if (!strncmp(text, "unix@", 5))
		text += 5;
	if (text[0] == '/') {
		l->kind = CFG_LOG_UNIX;
		l->path = xstrdup(text);
		return 0;
	}
	if (!strncmp(text, "udp@", 4))
		text += 4;
	else if (strchr(text, '@')) {
		*err = "unsupported log target type (expected stdout, stderr, /path, "
		       "udp@host:port or host:port)";
		return -1;
	}
	l->kind = CFG_LOG_UDP;
	return log_udp_addr(text, &l->addr, err);
}

/* `log <target> [len N] [format F] <facility> [<max level> [<min level>]]`.
 * `log global` is handled by the caller. */
static int parse_log(struct pstate *ps, int argc, char **argv, struct cfg_log **list)
{
	struct cfg_log *l;
	const char *err = NULL;
	int i = 2;
	long v;

	if (argc < 2) {
		ERR(ps, "'log' expects <target> [len N] [format rfc3164|raw] <facility> "
		        "[<level> [<minlevel>]]");
		return -1;
	}
	l = xcalloc(1, sizeof(*l));
	l->where = ps->where;
	l->max_level = 7;
	l->maxlen = CFG_DEFAULT_LOG_LEN;
	if (log_target(argv[1], l, &err) < 0) {
		ERR(ps, "'log %s': %s", argv[1], err);
		goto fail;
	}
	for (; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "len")) {
			if (parse_long(argv[i + 1], 80, 65535, &v) < 0) {
				ERR(ps, "'log': 'len' expects 80..65535, got '%s'", argv[i + 1]);
				goto fail;
			}
			l->maxlen = (int)v;
		} else if (!strcmp(argv[i], "format")) {
			if (!strcmp(argv[i + 1], "rfc3164")) {
				l->format = CFG_LOG_FMT_RFC3164;
			} else if (!strcmp(argv[i + 1], "raw")) {
				l->format = CFG_LOG_FMT_RAW;
			} else {
				ERR(ps, "'log': format '%s' is not supported (rfc3164 or raw)",
				    argv[i + 1]);
				goto fail;
			}
		} else if (!strcmp(argv[i], "sample")) {
			ERR(ps, "'log': 'sample' is not supported");
			goto fail;
		} else {
			break;
		}
	}
	if (i >= argc) {
		ERR(ps, "'log %s': missing <facility>", argv[1]);
		goto fail;
	}
	l->facility = name_index(facility_names, 24, argv[i]);
	if (l->facility < 0) {
		ERR(ps, "'log %s': unknown facility '%s'", argv[1], argv[i]);
		goto fail;
	}
	if (++i < argc) {
		l->max_level = name_index(level_names, 8, argv[i]);
		if (l->max_level < 0) {
			ERR(ps, "'log %s': unknown level '%s'", argv[1], argv[i]);
			goto fail;
		}
	}
	if (++i < argc) {
		l->min_level = name_index(level_names, 8, argv[i]);
		if (l->min_level < 0) {
			ERR(ps, "'log %s': unknown level '%s'", argv[1], argv[i]);
			goto fail;
		}
	}
	if (++i < argc) {
		ERR(ps, "'log %s': unexpected word '%s'", argv[1], argv[i]);
		goto fail;
	}
	while (*list)
		list = &(*list)->next;
	*list = l;
	return 0;
fail:
	log_free_list(l);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Global section */

/* "N" in [min, max] for keyword argv[0]. */
static int kw_number(struct pstate *ps, int argc, char **argv, long min, long max, long *out)
{
	if (argc != 2 || parse_long(argv[1], min, max, out) < 0) {
		ERR(ps, "'%s' expects an integer between %ld and %ld%s%s%s", argv[0], min, max,
		    argc >= 2 ? ", got '" : "", argc >= 2 ? argv[1] : "", argc >= 2 ? "'" : "");
		return -1;
	}
	return 0;
}

static int kw_time(struct pstate *ps, const char *kw, int argc, char **argv, int idx, unsigned *out)
{
	const char *err;

	if (idx >= argc) {
		ERR(ps, "'%s' expects a time", kw);
		return -1;
	}
	if (cfg_parse_time(argv[idx], out, &err) < 0) {
		ERR(ps, "'%s': %s, got '%s'", kw, err, argv[idx]);
		return -1;
	}
	if (idx + 1 < argc) {
		ERR(ps, "'%s': unexpected word '%s'", kw, argv[idx + 1]);
		return -1;
	}
	return 0;
}

static int g_maxconn(struct pstate *ps, int argc, char **argv)
{
	long v;

	if (kw_number(ps, argc, argv, 1, INT_MAX, &v) < 0)
		return -1;
	ps->cfg->global.maxconn = (unsigned)v;
	return 0;
}

static int g_nbthread(struct pstate *ps, int argc, char **argv)
{
	long v;

	if (kw_number(ps, argc, argv, 1, CFG_MAX_THREADS, &v) < 0)
		return -1;
	ps->cfg->global.nbthread = (int)v;
	return 0;
}

static int g_daemon(struct pstate *ps, int argc, char **argv)
{
	ps->cfg->global.daemon = 1;
	NOTICE(ps, "daemon: ignored, ppbridge always runs in the foreground (use systemd or &)");
	return 0;
}

static int g_pidfile(struct pstate *ps, int argc, char **argv)
{
	if (argc != 2 || !*argv[1]) {
		ERR(ps, "'pidfile' expects a path");
		return -1;
	}
	set_str(&ps->cfg->global.pidfile, argv[1]);
	return 0;
}

static int g_log(struct pstate *ps, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "global")) {
		ERR(ps, "'log global' is only valid in a proxy section");
		return -1;
	}
	return parse_log(ps, argc, argv, &ps->cfg->global.logs);
}

static int g_hard_stop_after(struct pstate *ps, int argc, char **argv)
{
	return kw_time(ps, argv[0], argc, argv, 1, &ps->cfg->global.hard_stop_after_ms);
}

static int g_log_send_hostname(struct pstate *ps, int argc, char **argv)
{
	ps->cfg->global.log_send_hostname = 1;
	NOTICE(ps, "log-send-hostname: accepted");
	return 0;
}

static int g_bufsize(struct pstate *ps, int argc, char **argv)
{
	long v;

	if (kw_number(ps, argc, argv, 1024, 1L << 30, &v) < 0)
		return -1;
	ps->cfg->global.tune_bufsize = (unsigned)v;
	return 0;
}

/* ppbridge's own: the largest PROXY header `accept-proxy` waits for. */
static int g_pp_max_header(struct pstate *ps, int argc, char **argv)
{
	long v;

	if (kw_number(ps, argc, argv, PP_V1_MAX_LEN + 1, PP_V2_MAX_LEN, &v) < 0)
		return -1;
	ps->cfg->global.pp_max_header = (unsigned)v;
	return 0;
}

/* One word argument: a cipher list, a directory. */
static int kw_word(struct pstate *ps, int argc, char **argv, const char *what, char **dst)
{
	if (argc != 2 || !*argv[1]) {
		ERR(ps, "'%s' expects %s", argv[0], what);
		return -1;
	}
	set_str(dst, argv[1]);
	return 0;
}

static int g_ssl_default_bind_ciphers(struct pstate *ps, int argc, char **argv)
{
	return kw_word(ps, argc, argv, "a cipher list", &ps->cfg->global.ssl_default_bind_ciphers);
}

static int g_ssl_default_bind_ciphersuites(struct pstate *ps, int argc, char **argv)
{
	return kw_word(ps, argc, argv, "a TLS 1.3 cipher suite list",
	               &ps->cfg->global.ssl_default_bind_ciphersuites);
}

static int g_ssl_default_server_ciphers(struct pstate *ps, int argc, char **argv)
{
	return kw_word(ps, argc, argv, "a cipher list",
	               &ps->cfg->global.ssl_default_server_ciphers);
}

static int g_ssl_default_server_ciphersuites(struct pstate *ps, int argc, char **argv)
{
	return kw_word(ps, argc, argv, "a TLS 1.3 cipher suite list",
	               &ps->cfg->global.ssl_default_server_ciphersuites);
}

/* `ssl-default-bind-options` / `ssl-default-server-options`: the subset
 * of the bind and server options that has a meaning here. */
static int g_ssl_default_options(struct pstate *ps, int argc, char **argv, int *min_ver)
{
	int ver = *min_ver;

	if (argc < 2) {
		ERR(ps, "'%s' expects options (ssl-min-ver, no-sslv3, no-tlsv10, no-tlsv11)",
		    argv[0]);
		return -1;
	}
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *err;

		if (!strcmp(opt, "ssl-min-ver")) {
			if (i + 1 >= argc) {
				ERR(ps, "'%s': 'ssl-min-ver' expects a value", argv[0]);
				return -1;
			}
			if (parse_tls_version(argv[++i], &ver, &err) < 0) {
				ERR(ps, "'%s': 'ssl-min-ver %s': %s", argv[0], argv[i], err);
				return -1;
			}
		} else if (!strcmp(opt, "no-sslv3") || !strcmp(opt, "no-tlsv10") ||
		           !strcmp(opt, "no-tlsv11")) {
			NOTICE(ps,
			       "%s: '%s' has no effect: ppbridge never offers TLS versions "
			       "below 1.2",
			       argv[0], opt);
		} else if (!strcmp(opt, "no-tls-tickets")) {
			ERR(ps,
			    "'%s': 'no-tls-tickets' is not supported (session tickets stay on "
			    "so that returning clients resume)",
			    argv[0]);
			return -1;
		} else {
			ERR(ps,
			    "'%s': '%s' is not supported (only ssl-min-ver, no-sslv3, "
			    "no-tlsv10, no-tlsv11)",
			    argv[0], opt);
			return -1;
		}
	}
	*min_ver = ver;
	return 0;
}

static int g_ssl_default_bind_options(struct pstate *ps, int argc, char **argv)
{
	return g_ssl_default_options(ps, argc, argv, &ps->cfg->global.ssl_default_bind_min_ver);
}

static int g_ssl_default_server_options(struct pstate *ps, int argc, char **argv)
{
	return g_ssl_default_options(ps, argc, argv, &ps->cfg->global.ssl_default_server_min_ver);
}

static int g_ssl_server_verify(struct pstate *ps, int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "none")) {
		ps->cfg->global.ssl_server_verify_none = 1;
	} else if (argc == 2 && !strcmp(argv[1], "required")) {
		ps->cfg->global.ssl_server_verify_none = 0;
	} else {
		ERR(ps, "'ssl-server-verify' expects 'none' or 'required'");
		return -1;
	}
	return 0;
}

static int g_ssl_dh_param(struct pstate *ps, int argc, char **argv)
{
	long v;

	if (kw_number(ps, argc, argv, 1024, 16384, &v) < 0)
		return -1;
	NOTICE(ps, "tune.ssl.default-dh-param: accepted, no effect (ppbridge offers ECDHE "
	           "key exchanges and OpenSSL's built-in DH groups)");
	return 0;
}

static int g_ca_base(struct pstate *ps, int argc, char **argv)
{
	return kw_word(ps, argc, argv, "a directory", &ps->cfg->global.ca_base);
}

static int g_crt_base(struct pstate *ps, int argc, char **argv)
{
	return kw_word(ps, argc, argv, "a directory", &ps->cfg->global.crt_base);
}

/* `stats socket` options after the path, as HAProxy's bind options. */
static int stats_socket_opt(struct pstate *ps, const char *opt, const char *val)
{
	struct cfg_global *g = &ps->cfg->global;
	char *end;

	if (!strcmp(opt, "mode")) {
		unsigned long m = strtoul(val, &end, 8);
		if (!*val || *end || m > 07777) {
			ERR(ps, "'stats socket': 'mode' expects octal permission bits, got '%s'",
			    val);
			return -1;
		}
		g->stats_mode = (unsigned)m;
	} else if (!strcmp(opt, "level")) {
		int lv = !strcmp(val, "user")       ? ADM_LEVEL_USER
		         : !strcmp(val, "operator") ? ADM_LEVEL_OPERATOR
		         : !strcmp(val, "admin")    ? ADM_LEVEL_ADMIN
		                                    : -1;
		if (lv < 0) {
			ERR(ps, "'stats socket': 'level' expects user, operator or admin, got '%s'",
			    val);
			return -1;
		}
		g->stats_level = (enum adm_level)lv;
	} else if (!strcmp(opt, "user")) {
		set_str(&g->stats_user, val);
	} else if (!strcmp(opt, "group")) {
		set_str(&g->stats_group, val);
	} else {
		ERR(ps, "'stats socket': '%s' is not supported (mode, level, user, group)", opt);
		return -1;
	}
	return 0;
}

/* `stats socket <path> [opts]` (unix sockets only) and `stats timeout`. */
static int g_stats(struct pstate *ps, int argc, char **argv)
{
	struct cfg_global *g = &ps->cfg->global;

	if (argc >= 2 && !strcmp(argv[1], "timeout")) {
		if (kw_time(ps, "stats timeout", argc, argv, 2, &g->stats_timeout_ms) < 0)
			return -1;
		if (g->stats_timeout_ms == 0) {
			ERR(ps, "'stats timeout' must be greater than 0");
			return -1;
		}
		return 0;
	}
	if (argc < 3 || strcmp(argv[1], "socket") != 0) {
		ERR(ps, "'stats' expects 'socket <path> [mode <octal>] [level user|operator|admin] "
		        "[user <name>] [group <name>]' or 'timeout <time>'");
		return -1;
	}
	if (argv[2][0] != '/') {
		ERR(ps, "'stats socket': only a unix socket path (absolute) is supported, got '%s'",
		    argv[2]);
		return -1;
	}
	if (g->stats_socket)
		WARN(ps,
		     "'stats socket': only one admin socket is supported; this one replaces '%s'",
		     g->stats_socket);
	set_str(&g->stats_socket, argv[2]);
	g->stats_mode = 0600;
	g->stats_level = ADM_LEVEL_OPERATOR;
	for (int i = 3; i < argc; i += 2) {
		if (i + 1 >= argc) {
			ERR(ps, "'stats socket': '%s' expects a value", argv[i]);
			return -1;
		}
		if (stats_socket_opt(ps, argv[i], argv[i + 1]) < 0)
			return -1;
	}
	return 0;
}

static int g_client_ip_state(struct pstate *ps, int argc, char **argv)
{
	if (argc != 2 || !*argv[1]) {
		ERR(ps, "'client-ip-state' expects a file path");
		return -1;
	}
	set_str(&ps->cfg->global.client_ip_state, argv[1]);
	return 0;
}

static int g_server_state_file(struct pstate *ps, int argc, char **argv)
{
	return kw_word(ps, argc, argv, "a file path", &ps->cfg->global.server_state_file);
}

static int g_server_state_base(struct pstate *ps, int argc, char **argv)
{
	return kw_word(ps, argc, argv, "a directory", &ps->cfg->global.server_state_base);
}

/* `user`/`uid`, `group`/`gid`: whom to run as once the sockets are bound.
 * Names are looked up at start-up (not here: the parser does no I/O). */
static int g_identity(struct pstate *ps, int argc, char **argv, char **slot, int numeric)
{
	if (argc != 2 || !*argv[1]) {
		ERR(ps, "'%s' expects %s", argv[0], numeric ? "a number" : "a name");
		return -1;
	}
	if (numeric) {
		long v;
		if (parse_long(argv[1], 0, INT_MAX, &v) < 0) {
			ERR(ps, "'%s' expects a number, got '%s'", argv[0], argv[1]);
			return -1;
		}
	}
	set_str(slot, argv[1]);
	return 0;
}

static int g_user(struct pstate *ps, int argc, char **argv)
{
	return g_identity(ps, argc, argv, &ps->cfg->global.user, !strcmp(argv[0], "uid"));
}

static int g_group(struct pstate *ps, int argc, char **argv)
{
	return g_identity(ps, argc, argv, &ps->cfg->global.group, !strcmp(argv[0], "gid"));
}

/* Known, not implemented yet: the message says which issue brings it. */
struct later {
	const char *kw;
	const char *why;
};

static const struct later global_later[] = {
    {"chroot", "not supported (the systemd unit's sandboxing confines ppbridge)"},
    {NULL, NULL},
};

struct global_kw {
	const char *kw;
	int (*fn)(struct pstate *ps, int argc, char **argv);
};

static const struct global_kw global_kws[] = {
    {"maxconn", g_maxconn},
    {"nbthread", g_nbthread},
    {"daemon", g_daemon},
    {"pidfile", g_pidfile},
    {"log", g_log},
    {"hard-stop-after", g_hard_stop_after},
    {"log-send-hostname", g_log_send_hostname},
    {"tune.bufsize", g_bufsize},
    {"tune.pp-max-header", g_pp_max_header},
    {"ssl-default-bind-ciphers", g_ssl_default_bind_ciphers},
    {"ssl-default-bind-ciphersuites", g_ssl_default_bind_ciphersuites},
    {"ssl-default-bind-options", g_ssl_default_bind_options},
    {"ssl-default-server-ciphers", g_ssl_default_server_ciphers},
    {"ssl-default-server-ciphersuites", g_ssl_default_server_ciphersuites},
    {"ssl-default-server-options", g_ssl_default_server_options},
    {"ssl-server-verify", g_ssl_server_verify},
    {"tune.ssl.default-dh-param", g_ssl_dh_param},
    {"ca-base", g_ca_base},
    {"crt-base", g_crt_base},
    {"stats", g_stats},
    {"client-ip-state", g_client_ip_state},
    {"server-state-file", g_server_state_file},
    {"server-state-base", g_server_state_base},
    {"user", g_user},
    {"uid", g_user},
    {"group", g_group},
    {"gid", g_group},
    {NULL, NULL},
};

static const struct later *find_later(const struct later *t, const char *kw)
{
	for (; t->kw; t++)
		if (!strcmp(t->kw, kw))
			return t;
	return NULL;
}

static void parse_global_line(struct pstate *ps, int argc, char **argv)
{
	const struct later *l = find_later(global_later, argv[0]);

	if (l) {
		ERR(ps, "'%s' %s", argv[0], l->why);
		return;
	}
	for (const struct global_kw *k = global_kws; k->kw; k++) {
		if (!strcmp(k->kw, argv[0])) {
			k->fn(ps, argc, argv);
			return;
		}
	}
	ERR(ps, "unknown keyword '%s' in 'global' section", argv[0]);
}

/* ------------------------------------------------------------------ */
/* Proxies and servers: lifecycle and inheritance */

static void server_init_defaults(struct cfg_server *s)
{
	memset(s, 0, sizeof(*s));
	s->inter_ms = CFG_DEFAULT_INTER;
	s->rise = CFG_DEFAULT_RISE;
	s->fall = CFG_DEFAULT_FALL;
	s->weight = CFG_DEFAULT_WEIGHT;
}

static void server_free_fields(struct cfg_server *s)
{
	free(s->name);
	free(s->host);
	free(s->check_addr);
	free(s->check_sni);
	free(s->ca_file);
	free(s->sni_text);
	sample_free(s->sni);
	free(s->verifyhost);
	free(s->crt);
}

/* The server option `sni <expr>` is a sample expression, not a log-format
 * value: `ssl_fc_sni` is compiled as "%[ssl_fc_sni]". `str(<name>)`, the
 * fixed-name form, becomes literal text, and must be a host name. */
static struct sample_fmt *sni_compile(const char *expr, char *err, size_t errlen)
{
	size_t len = strlen(expr);
	struct sample_fmt *fmt;
	char *text;

	text = xcalloc(1, len + 4);
	if (len >= 5 && !strncmp(expr, "str(", 4) && expr[len - 1] == ')') {
		size_t n = len - 5;
		if (strspn(expr + 4, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		                     "0123456789-._") != n) {
			if (err)
				snprintf(err, errlen, "'%.*s' is not a host name", (int)n,
				         expr + 4);
			free(text);
			return NULL;
		}
		memcpy(text, expr + 4, n);
	} else {
		snprintf(text, len + 4, "%%[%s]", expr);
	}
	fmt = sample_compile(text, err, errlen);
	free(text);
	return fmt;
}

/* Copy settings (not identity) from a default-server template. */
static void server_copy_settings(struct cfg_server *dst, const struct cfg_server *src)
{
	*dst = *src;
	dst->next = NULL;
	dst->name = NULL;
	dst->host = NULL;
	dst->check_addr = xstrdup(src->check_addr);
	dst->check_sni = xstrdup(src->check_sni);
	dst->ca_file = xstrdup(src->ca_file);
	dst->sni_text = xstrdup(src->sni_text);
	/* It compiled once: it compiles again. */
	dst->sni = src->sni_text ? sni_compile(src->sni_text, NULL, 0) : NULL;
	dst->verifyhost = xstrdup(src->verifyhost);
	dst->crt = xstrdup(src->crt);
}

static void str_list_free(struct cfg_str *l)
{
	while (l) {
		struct cfg_str *next = l->next;
		free(l->s);
		free(l);
		l = next;
	}
}

static void bind_free(struct cfg_bind *b)
{
	free(b->text);
	free(b->name);
	str_list_free(b->crts);
	free(b->alpn);
	free(b->ciphers);
	free(b->ciphersuites);
	free(b->tls_ticket_keys);
	free(b);
}

static void hdrs_free(struct cfg_hdr *h)
{
	while (h) {
		struct cfg_hdr *next = h->next;
		free(h->name);
		free(h->value);
		free(h);
		h = next;
	}
}

static void httpchk_clear_rules(struct cfg_httpchk *c)
{
	free(c->method);
	free(c->uri);
	free(c->version);
	free(c->connect_sni);
	hdrs_free(c->hdrs);
	c->method = c->uri = c->version = c->connect_sni = NULL;
	c->hdrs = NULL;
	c->expect_status = 0;
	c->connect_ssl = 0;
	c->connect_port = 0;
}

static void httpchk_copy(struct cfg_httpchk *dst, const struct cfg_httpchk *src)
{
	struct cfg_hdr **tail = &dst->hdrs;

	*dst = *src;
	dst->method = xstrdup(src->method);
	dst->uri = xstrdup(src->uri);
	dst->version = xstrdup(src->version);
	dst->connect_sni = xstrdup(src->connect_sni);
	dst->hdrs = NULL;
	for (const struct cfg_hdr *h = src->hdrs; h; h = h->next) {
		struct cfg_hdr *n = xcalloc(1, sizeof(*n));
		n->name = xstrdup(h->name);
		n->value = xstrdup(h->value);
		*tail = n;
		tail = &n->next;
	}
}

static void http_rules_free(struct cfg_http_rule *r)
{
	while (r) {
		struct cfg_http_rule *next = r->next;
		free(r->name);
		sample_free(r->fmt);
		acl_cond_free(r->cond);
		free(r);
		r = next;
	}
}

static void tcp_rules_free(struct cfg_tcp_rule *r)
{
	while (r) {
		struct cfg_tcp_rule *next = r->next;
		acl_cond_free(r->cond);
		free(r);
		r = next;
	}
}

static void proxy_free(struct cfg_proxy *p)
{
	struct cfg_bind *b = p->binds;
	struct cfg_server *s = p->servers;

	while (b) {
		struct cfg_bind *next = b->next;
		bind_free(b);
		b = next;
	}
	while (s) {
		struct cfg_server *next = s->next;
		server_free_fields(s);
		free(s);
		s = next;
	}
	server_free_fields(&p->defsrv);
	httpchk_clear_rules(&p->httpchk);
	tcp_rules_free(p->tcp_conn_rules);
	tcp_rules_free(p->tcp_content_rules);
	while (p->use_backends) {
		struct cfg_use_backend *next = p->use_backends->next;
		acl_cond_free(p->use_backends->cond);
		free(p->use_backends->name);
		free(p->use_backends);
		p->use_backends = next;
	}
	http_rules_free(p->http_rules);
	free(p->forwardfor.header);
	acl_list_free(p->acls);
	log_free_list(p->logs);
	free(p->default_backend);
	free(p->name);
	free(p);
}

/* What a proxy starts with when no defaults section precedes it. */
static struct cfg_proxy *proxy_new_builtin(void)
{
	struct cfg_proxy *p = xcalloc(1, sizeof(*p));

	p->mode = CFG_MODE_TCP;
	p->balance = CFG_BALANCE_ROUNDROBIN;
	p->retries = CFG_DEFAULT_RETRIES;
	p->redispatch_interval = -1;
	server_init_defaults(&p->defsrv);
	return p;
}

/* A proxy copies every setting of its defaults section (HAProxy copies
 * the whole defaults proxy, then the section overrides what it writes).
 * Binds and servers are not settings a defaults section can hold. */
static void proxy_inherit(struct cfg_proxy *p, const struct cfg_proxy *def)
{
	p->mode = def->mode;
	p->mode_where = def->mode_where;
	if (def->default_backend && (p->caps & (CFG_CAP_FE | CFG_CAP_DEF))) {
		p->default_backend = xstrdup(def->default_backend);
		p->default_backend_where = def->default_backend_where;
	}
	p->balance = def->balance;
	p->hash_type = def->hash_type;
	p->hash_fn = def->hash_fn;
	p->hash_avalanche = def->hash_avalanche;
	server_free_fields(&p->defsrv);
	server_copy_settings(&p->defsrv, &def->defsrv);
	p->timeout = def->timeout;
	p->maxconn = def->maxconn;
	p->retries = def->retries;
	p->redispatch_interval = def->redispatch_interval;
	p->options = def->options;
	p->options_set = def->options_set;
	free(p->forwardfor.header);
	p->forwardfor = def->forwardfor;
	p->forwardfor.header = xstrdup(def->forwardfor.header);
	p->http_reuse = def->http_reuse;
	p->srv_state_load = def->srv_state_load;
	/* http-request rules stay with their section: HAProxy 2.6 does not
	 * copy them from defaults. */
	httpchk_clear_rules(&p->httpchk);
	httpchk_copy(&p->httpchk, &def->httpchk);
	log_free_list(p->logs);
	p->logs = log_copy_list(def->logs);
	p->log_global = def->log_global;
}

struct cfg_proxy *cfg_find_proxy(const struct cfg *cfg, const char *name, unsigned caps)
{
	for (struct cfg_proxy *p = cfg->proxies; p; p = p->next)
		if ((p->caps & caps) && !strcmp(p->name, name))
			return p;
	return NULL;
}

static struct cfg_proxy *find_defaults(const struct cfg *cfg, const char *name)
{
	struct cfg_proxy *found = NULL;

	/* The list is in declaration order: the last one of a name wins. */
	for (struct cfg_proxy *p = cfg->defaults; p; p = p->next)
		if (p->name && !strcmp(p->name, name))
			found = p;
	return found;
}

/* ------------------------------------------------------------------ */
/* Proxy keywords */

#define CAP_DEF CFG_CAP_DEF
#define CAP_FE CFG_CAP_FE
#define CAP_BE CFG_CAP_BE
#define CAP_ALL (CFG_CAP_DEF | CFG_CAP_FE | CFG_CAP_BE)

/* Is a keyword allowed in a `caps` section? A listen has both sides. */
static int caps_allow(unsigned allowed, unsigned caps)
{
	if (caps & CFG_CAP_DEF)
		return (allowed & CFG_CAP_DEF) != 0;
	return (allowed & caps & (CFG_CAP_FE | CFG_CAP_BE)) != 0;
}

static const char *caps_list(unsigned allowed)
{
	static const char *const lists[8] = {
	    "",
	    "frontend, listen",
	    "backend, listen",
	    "frontend, backend, listen",
	    "defaults",
	    "defaults, frontend, listen",
	    "defaults, backend, listen",
	    "defaults, frontend, backend, listen",
	};
	return lists[allowed & 7];
}

/* Report a keyword used in the wrong kind of section. */
static int check_caps(struct pstate *ps, const char *kw, unsigned allowed)
{
	if (caps_allow(allowed, ps->cur->caps))
		return 0;
	ERR(ps, "'%s' is not allowed in '%s' section (only in %s)", kw, sec_name(ps->cur->caps),
	    caps_list(allowed));
	return -1;
}

/* The value after a bind option, or an error naming both. */
static const char *bind_arg(struct pstate *ps, int argc, char **argv, int *i)
{
	if (*i + 1 >= argc || !*argv[*i + 1]) {
		ERR(ps, "'bind %s': '%s' expects a value", argv[1], argv[*i]);
		return NULL;
	}
	return argv[++*i];
}

/* `alpn`: protocol names of 1 to 255 bytes, separated by commas. */
static int valid_alpn(const char *list)
{
	size_t n;

	do {
		n = strcspn(list, ",");
		if (n == 0 || n > 255)
			return 0;
		list += n;
	} while (*list++ == ',');
	return 1;
}

static int bind_tls_version(struct pstate *ps, struct cfg_bind *b, const char *opt, const char *arg,
                            int *out)
{
	const char *err;

	if (parse_tls_version(arg, out, &err) < 0) {
		ERR(ps, "'bind %s': '%s %s': %s", b->text, opt, arg, err);
		return -1;
	}
	return 0;
}

static int kw_bind_option(struct pstate *ps, struct cfg_bind *b, int argc, char **argv, int *i)
{
	/* Bind options a later issue brings (none left since issue #5). */
	static const struct later later[] = {
	    {NULL, NULL},
	};
	/* HAProxy's TLS bind options that ppbridge refuses for good, with
	 * what to write instead when there is something. */
	static const struct {
		const char *kw;
		const char *hint;
	} names[] = {
	    {"crt-list", "list the certificates with several 'crt', or name a directory"},
	    {"ca-file", "client certificates are not supported"},
	    {"verify", "client certificates are not supported"},
	    {"ca-verify-file", "client certificates are not supported"},
	    {"crl-file", "client certificates are not supported"},
	    {"ca-ignore-err", "client certificates are not supported"},
	    {"crt-ignore-err", "client certificates are not supported"},
	    {"no-ca-names", "client certificates are not supported"},
	    {"ca-sign-file", "certificates are never generated"},
	    {"ca-sign-pass", "certificates are never generated"},
	    {"generate-certificates", "certificates are never generated"},
	    {"curves", "OpenSSL's default groups apply"},
	    {"ecdhe", "OpenSSL's default groups apply"},
	    {"sigalgs", "OpenSSL's default signature algorithms apply"},
	    {"client-sigalgs", "client certificates are not supported"},
	    {"force-sslv3", "use 'ssl-min-ver' and 'ssl-max-ver'"},
	    {"force-tlsv10", "use 'ssl-min-ver' and 'ssl-max-ver'"},
	    {"force-tlsv11", "use 'ssl-min-ver' and 'ssl-max-ver'"},
	    {"force-tlsv12", "use 'ssl-min-ver' and 'ssl-max-ver'"},
	    {"force-tlsv13", "use 'ssl-min-ver' and 'ssl-max-ver'"},
	    {"no-tlsv12", "use 'ssl-min-ver' and 'ssl-max-ver'"},
	    {"no-tlsv13", "use 'ssl-min-ver' and 'ssl-max-ver'"},
	    {"npn", "use 'alpn'"},
	    {"allow-0rtt", "TLS 1.3 early data is never accepted"},
	    {"prefer-client-ciphers", "the server's cipher order applies"},
	    {"strict-sni", "a client without a matching SNI gets the first certificate"},
	};
	const char *opt = argv[*i], *arg;
	const struct later *l = find_later(later, opt);

	if (l) {
		ERR(ps, "'%s' on bind %s", opt, l->why);
		return -1;
	}
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		if (!strcmp(names[k].kw, opt)) {
			ERR(ps, "'bind %s': '%s' is not supported (%s)", argv[1], opt,
			    names[k].hint);
			return -1;
		}
	}
	if (!strcmp(opt, "accept-proxy")) {
		b->accept_proxy = 1;
	} else if (!strcmp(opt, "v4v6")) {
		b->v4v6 = 1;
	} else if (!strcmp(opt, "v6only")) {
		b->v6only = 1;
	} else if (!strcmp(opt, "name")) {
		if (!(arg = bind_arg(ps, argc, argv, i)))
			return -1;
		set_str(&b->name, arg);
	} else if (!strcmp(opt, "ssl")) {
		b->ssl = 1;
	} else if (!strcmp(opt, "crt")) {
		struct cfg_str *c, **tail = &b->crts;
		if (!(arg = bind_arg(ps, argc, argv, i)))
			return -1;
		while (*tail)
			tail = &(*tail)->next;
		c = xcalloc(1, sizeof(*c));
		c->s = base_path(ps->cfg->global.crt_base, arg);
		*tail = c;
	} else if (!strcmp(opt, "alpn")) {
		if (!(arg = bind_arg(ps, argc, argv, i)))
			return -1;
		if (!valid_alpn(arg)) {
			ERR(ps,
			    "'bind %s': 'alpn' expects protocol names separated by commas "
			    "(e.g. h2,http/1.1), got '%s'",
			    argv[1], arg);
			return -1;
		}
		set_str(&b->alpn, arg);
	} else if (!strcmp(opt, "ssl-min-ver") || !strcmp(opt, "ssl-max-ver")) {
		if (!(arg = bind_arg(ps, argc, argv, i)))
			return -1;
		return bind_tls_version(ps, b, opt, arg,
		                        !strcmp(opt, "ssl-min-ver") ? &b->ssl_min_ver
		                                                    : &b->ssl_max_ver);
	} else if (!strcmp(opt, "ciphers")) {
		if (!(arg = bind_arg(ps, argc, argv, i)))
			return -1;
		set_str(&b->ciphers, arg);
	} else if (!strcmp(opt, "ciphersuites")) {
		if (!(arg = bind_arg(ps, argc, argv, i)))
			return -1;
		set_str(&b->ciphersuites, arg);
	} else if (!strcmp(opt, "tls-ticket-keys")) {
		if (!(arg = bind_arg(ps, argc, argv, i)))
			return -1;
		set_str(&b->tls_ticket_keys, arg);
	} else if (!strcmp(opt, "no-sslv3") || !strcmp(opt, "no-tlsv10") ||
	           !strcmp(opt, "no-tlsv11")) {
		NOTICE(ps,
		       "'bind %s': '%s' has no effect: ppbridge never offers TLS versions "
		       "below 1.2",
		       argv[1], opt);
	} else if (!strcmp(opt, "no-tls-tickets")) {
		ERR(ps,
		    "'bind %s': 'no-tls-tickets' is not supported (session tickets stay on so "
		    "that returning clients resume)",
		    argv[1]);
		return -1;
	} else {
		ERR(ps, "'bind %s': unknown option '%s'", argv[1], opt);
		return -1;
	}
	return 0;
}

/* What only the whole line can tell. */
static int bind_check_tls(struct pstate *ps, const struct cfg_bind *b)
{
	if (b->crts && !b->ssl) {
		ERR(ps, "'bind %s': 'crt' needs 'ssl' on the same bind", b->text);
		return -1;
	}
	if (b->ssl && !b->crts) {
		ERR(ps, "'bind %s': 'ssl' needs at least one 'crt'", b->text);
		return -1;
	}
	if (b->ssl_min_ver && b->ssl_max_ver && b->ssl_min_ver > b->ssl_max_ver) {
		ERR(ps, "'bind %s': 'ssl-min-ver' is above 'ssl-max-ver'", b->text);
		return -1;
	}
	return 0;
}

static int kw_bind(struct pstate *ps, int argc, char **argv)
{
	struct cfg_bind *b, **tail;
	const char *err = NULL;

	if (argc < 2) {
		ERR(ps, "'bind' expects <address>:<port>");
		return -1;
	}
	b = xcalloc(1, sizeof(*b));
	b->where = ps->where;
	b->text = xstrdup(argv[1]);
	if (strchr(argv[1], ',')) {
		ERR(ps, "'bind %s': address lists are not supported, write one bind per address",
		    argv[1]);
		goto fail;
	}
	if (net_parse_bind(argv[1], &b->addr.ss, &b->addr.len, &err) < 0) {
		ERR(ps, "'bind %s': %s", argv[1], err);
		goto fail;
	}
	for (int i = 2; i < argc; i++)
		if (kw_bind_option(ps, b, argc, argv, &i) < 0)
			goto fail;
	if (bind_check_tls(ps, b) < 0)
		goto fail;
	for (tail = &ps->cur->binds; *tail; tail = &(*tail)->next)
		;
	*tail = b;
	return 0;
fail:
	bind_free(b);
	return -1;
}

static int kw_mode(struct pstate *ps, int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "tcp")) {
		ps->cur->mode = CFG_MODE_TCP;
	} else if (argc == 2 && !strcmp(argv[1], "http")) {
		ps->cur->mode = CFG_MODE_HTTP;
	} else {
		ERR(ps, "'mode' expects 'tcp' or 'http'%s",
		    argc == 2 && !strcmp(argv[1], "health") ? " ('health' is not supported)" : "");
		return -1;
	}
	ps->cur->mode_where = ps->where;
	return 0;
}

static int kw_default_backend(struct pstate *ps, int argc, char **argv)
{
	if (argc != 2 || !valid_name(argv[1])) {
		ERR(ps, "'default_backend' expects one backend name");
		return -1;
	}
	set_str(&ps->cur->default_backend, argv[1]);
	ps->cur->default_backend_where = ps->where;
	return 0;
}

static int kw_balance(struct pstate *ps, int argc, char **argv)
{
	static const char *const names[] = {"roundrobin", "source", "leastconn"};
	int i = argc >= 2 ? name_index(names, 3, argv[1]) : -1;

	if (i < 0 || argc != 2) {
		ERR(ps,
		    "'balance'%s%s%s: supported algorithms are roundrobin, source and "
		    "leastconn",
		    argc >= 2 ? " '" : "", argc >= 2 ? argv[1] : "", argc >= 2 ? "'" : "");
		return -1;
	}
	ps->cur->balance = (enum cfg_balance)i;
	return 0;
}

static int kw_hash_type(struct pstate *ps, int argc, char **argv)
{
	static const char *const fns[] = {"sdbm", "djb2", "wt6", "crc32", "none"};
	struct cfg_proxy *p = ps->cur;
	int fn = CFG_HASH_FN_SDBM, aval = 0;

	if (argc < 2 || argc > 4) {
		ERR(ps, "'hash-type' expects map-based|consistent [<function> [avalanche]]");
		return -1;
	}
	if (argc >= 3 && (fn = name_index(fns, 5, argv[2])) < 0) {
		ERR(ps, "'hash-type': unknown hash function '%s' (sdbm, djb2, wt6, crc32, none)",
		    argv[2]);
		return -1;
	}
	if (argc == 4) {
		if (strcmp(argv[3], "avalanche") != 0) {
			ERR(ps, "'hash-type': unknown modifier '%s' (avalanche)", argv[3]);
			return -1;
		}
		aval = 1;
	}
	if (!strcmp(argv[1], "map-based")) {
		p->hash_type = CFG_HASH_MAP_BASED;
	} else if (!strcmp(argv[1], "consistent")) {
		p->hash_type = CFG_HASH_CONSISTENT;
	} else {
		ERR(ps, "'hash-type': unknown method '%s' (map-based or consistent)", argv[1]);
		return -1;
	}
	p->hash_fn = (enum cfg_hash_fn)fn;
	p->hash_avalanche = aval;
	return 0;
}

/* ---- server options ---- */

struct srv_ctx {
	struct pstate *ps;
	struct cfg_server *srv;
	const char *what; /* "server 'x'" or "default-server" */
	const char *opt;  /* the option being read */
};

static int so_number(struct srv_ctx *c, const char *opt, const char *arg, long min, long max,
                     long *out)
{
	if (parse_long(arg, min, max, out) < 0) {
		ERR(c->ps, "%s: '%s' expects an integer between %ld and %ld, got '%s'", c->what,
		    opt, min, max, arg);
		return -1;
	}
	return 0;
}

static int so_time(struct srv_ctx *c, const char *opt, const char *arg, unsigned *out)
{
	const char *err;

	if (cfg_parse_time(arg, out, &err) < 0) {
		ERR(c->ps, "%s: '%s': %s, got '%s'", c->what, opt, err, arg);
		return -1;
	}
	if (*out == 0) {
		ERR(c->ps, "%s: '%s' must be greater than 0", c->what, opt);
		return -1;
	}
	return 0;
}

static int so_check(struct srv_ctx *c, const char *arg)
{
	c->srv->check = 1;
	return 0;
}

static int so_inter(struct srv_ctx *c, const char *arg)
{
	return so_time(c, "inter", arg, &c->srv->inter_ms);
}

static int so_fastinter(struct srv_ctx *c, const char *arg)
{
	return so_time(c, "fastinter", arg, &c->srv->fastinter_ms);
}

static int so_downinter(struct srv_ctx *c, const char *arg)
{
	return so_time(c, "downinter", arg, &c->srv->downinter_ms);
}

static int so_rise(struct srv_ctx *c, const char *arg)
{
	long v;

	if (so_number(c, "rise", arg, 1, 1000000, &v) < 0)
		return -1;
	c->srv->rise = (int)v;
	return 0;
}

static int so_fall(struct srv_ctx *c, const char *arg)
{
	long v;

	if (so_number(c, "fall", arg, 1, 1000000, &v) < 0)
		return -1;
	c->srv->fall = (int)v;
	return 0;
}

static int so_port(struct srv_ctx *c, const char *arg)
{
	if (net_parse_port(arg, &c->srv->check_port) < 0 || c->srv->check_port == 0) {
		ERR(c->ps, "%s: 'port' expects 1..65535, got '%s'", c->what, arg);
		return -1;
	}
	return 0;
}

static int so_addr(struct srv_ctx *c, const char *arg)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (net_parse_ip(arg, &ss, &len) < 0) {
		ERR(c->ps, "%s: 'addr' expects a literal IP address, got '%s'", c->what, arg);
		return -1;
	}
	set_str(&c->srv->check_addr, arg);
	return 0;
}

static int so_weight(struct srv_ctx *c, const char *arg)
{
	long v;

	if (so_number(c, "weight", arg, 0, CFG_MAX_WEIGHT, &v) < 0)
		return -1;
	c->srv->weight = (int)v;
	return 0;
}

static int so_backup(struct srv_ctx *c, const char *arg)
{
	c->srv->backup = 1;
	return 0;
}

static int so_disabled(struct srv_ctx *c, const char *arg)
{
	c->srv->disabled = 1;
	return 0;
}

static int so_check_ssl(struct srv_ctx *c, const char *arg)
{
	c->srv->check_ssl = 1;
	return 0;
}

static int so_check_sni(struct srv_ctx *c, const char *arg)
{
	set_str(&c->srv->check_sni, arg);
	return 0;
}

static int so_verify(struct srv_ctx *c, const char *arg)
{
	if (!strcmp(arg, "none")) {
		c->srv->verify = CFG_VERIFY_NONE;
	} else if (!strcmp(arg, "required")) {
		c->srv->verify = CFG_VERIFY_REQUIRED;
	} else {
		ERR(c->ps, "%s: 'verify' expects 'none' or 'required', got '%s'", c->what, arg);
		return -1;
	}
	return 0;
}

static int so_ca_file(struct srv_ctx *c, const char *arg)
{
	free(c->srv->ca_file);
	c->srv->ca_file = base_path(c->ps->cfg->global.ca_base, arg);
	return 0;
}

static int so_ssl(struct srv_ctx *c, const char *arg)
{
	c->srv->ssl = 1;
	return 0;
}

static int so_sni(struct srv_ctx *c, const char *arg)
{
	char err[256];
	struct sample_fmt *fmt;

	if (!*arg) {
		ERR(c->ps,
		    "%s: 'sni' expects an expression (ssl_fc_sni, req.hdr(host), "
		    "str(<name>))",
		    c->what);
		return -1;
	}
	fmt = sni_compile(arg, err, sizeof(err));
	if (!fmt) {
		ERR(c->ps, "%s: 'sni %s': %s", c->what, arg, err);
		return -1;
	}
	sample_free(c->srv->sni);
	c->srv->sni = fmt;
	set_str(&c->srv->sni_text, arg);
	return 0;
}

static int so_verifyhost(struct srv_ctx *c, const char *arg)
{
	if (!*arg) {
		ERR(c->ps, "%s: 'verifyhost' expects a host name", c->what);
		return -1;
	}
	set_str(&c->srv->verifyhost, arg);
	return 0;
}

static int so_crt(struct srv_ctx *c, const char *arg)
{
	if (!*arg) {
		ERR(c->ps, "%s: 'crt' expects a file", c->what);
		return -1;
	}
	free(c->srv->crt);
	c->srv->crt = base_path(c->ps->cfg->global.crt_base, arg);
	return 0;
}

static int so_ssl_min_ver(struct srv_ctx *c, const char *arg)
{
	const char *err;

	if (parse_tls_version(arg, &c->srv->ssl_min_ver, &err) < 0) {
		ERR(c->ps, "%s: 'ssl-min-ver %s': %s", c->what, arg, err);
		return -1;
	}
	return 0;
}

/* no-sslv3, no-tlsv10, no-tlsv11: what ppbridge does anyway. */
static int so_no_old_tls(struct srv_ctx *c, const char *arg)
{
	NOTICE(c->ps, "%s: '%s' has no effect: ppbridge never offers TLS versions below 1.2",
	       c->what, c->opt);
	return 0;
}

static int so_no_ssl_reuse(struct srv_ctx *c, const char *arg)
{
	NOTICE(c->ps,
	       "%s: 'no-ssl-reuse' has no effect: ppbridge always resumes TLS "
	       "sessions to servers",
	       c->what);
	return 0;
}

static int so_send_proxy(struct srv_ctx *c, const char *arg)
{
	c->srv->send_proxy = CFG_SEND_PROXY_V1;
	return 0;
}

static int so_send_proxy_v2(struct srv_ctx *c, const char *arg)
{
	c->srv->send_proxy = CFG_SEND_PROXY_V2;
	return 0;
}

/* HAProxy: send-proxy-v2-ssl = send-proxy-v2 + the SSL TLV; -cn adds the
 * client certificate's CN to it. */
static int so_send_proxy_v2_ssl(struct srv_ctx *c, const char *arg)
{
	c->srv->send_proxy = CFG_SEND_PROXY_V2;
	c->srv->pp2_options |= PP_V2_F_SSL;
	return 0;
}

static int so_send_proxy_v2_ssl_cn(struct srv_ctx *c, const char *arg)
{
	c->srv->send_proxy = CFG_SEND_PROXY_V2;
	c->srv->pp2_options |= PP_V2_F_SSL | PP_V2_F_SSL_CN;
	return 0;
}

static int so_proxy_v2_options(struct srv_ctx *c, const char *arg)
{
	static const struct {
		const char *name;
		unsigned flag;
	} names[] = {
	    {"ssl", PP_V2_F_SSL},
	    {"cert-cn", PP_V2_F_SSL | PP_V2_F_SSL_CN},
	    {"ssl-cipher", PP_V2_F_SSL | PP_V2_F_SSL_CIPHER},
	    {"cert-sig", PP_V2_F_SSL | PP_V2_F_SSL_SIG_ALG},
	    {"cert-key", PP_V2_F_SSL | PP_V2_F_SSL_KEY_ALG},
	    {"authority", PP_V2_F_AUTHORITY},
	    {"crc32c", PP_V2_F_CRC32C},
	    {"unique-id", PP_V2_F_UNIQUE_ID},
	};
	const char *p = arg;

	while (*p) {
		size_t len = strcspn(p, ",");
		size_t i;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == len && !strncmp(names[i].name, p, len))
				break;
		if (i == sizeof(names) / sizeof(names[0])) {
			ERR(c->ps,
			    "%s: 'proxy-v2-options': unknown option '%.*s' (expected ssl, cert-cn, "
			    "ssl-cipher, cert-sig, cert-key, authority, crc32c, unique-id)",
			    c->what, (int)len, p);
			return -1;
		}
		c->srv->pp2_options |= names[i].flag;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int so_check_send_proxy(struct srv_ctx *c, const char *arg)
{
	c->srv->check_send_proxy = 1;
	return 0;
}

static int so_maxconn(struct srv_ctx *c, const char *arg)
{
	long v;

	if (so_number(c, "maxconn", arg, 0, INT_MAX, &v) < 0)
		return -1;
	c->srv->maxconn = (int)v;
	return 0;
}

struct srv_opt {
	const char *name;
	int has_arg;
	int (*fn)(struct srv_ctx *c, const char *arg);
	const char *later; /* not supported yet: the issue that brings it */
};

static const struct srv_opt srv_opts[] = {
    {"check", 0, so_check, NULL},
    {"inter", 1, so_inter, NULL},
    {"fastinter", 1, so_fastinter, NULL},
    {"downinter", 1, so_downinter, NULL},
    {"rise", 1, so_rise, NULL},
    {"fall", 1, so_fall, NULL},
    {"port", 1, so_port, NULL},
    {"addr", 1, so_addr, NULL},
    {"weight", 1, so_weight, NULL},
    {"backup", 0, so_backup, NULL},
    {"disabled", 0, so_disabled, NULL},
    {"check-ssl", 0, so_check_ssl, NULL},
    {"check-sni", 1, so_check_sni, NULL},
    {"verify", 1, so_verify, NULL},
    {"ca-file", 1, so_ca_file, NULL},
    {"maxconn", 1, so_maxconn, NULL},
    {"ssl", 0, so_ssl, NULL},
    {"sni", 1, so_sni, NULL},
    {"verifyhost", 1, so_verifyhost, NULL},
    {"crt", 1, so_crt, NULL},
    {"ssl-min-ver", 1, so_ssl_min_ver, NULL},
    {"no-sslv3", 0, so_no_old_tls, NULL},
    {"no-tlsv10", 0, so_no_old_tls, NULL},
    {"no-tlsv11", 0, so_no_old_tls, NULL},
    {"no-ssl-reuse", 0, so_no_ssl_reuse, NULL},
    {"send-proxy", 0, so_send_proxy, NULL},
    {"send-proxy-v2", 0, so_send_proxy_v2, NULL},
    {"send-proxy-v2-ssl", 0, so_send_proxy_v2_ssl, NULL},
    {"send-proxy-v2-ssl-cn", 0, so_send_proxy_v2_ssl_cn, NULL},
    {"proxy-v2-options", 1, so_proxy_v2_options, NULL},
    {"check-send-proxy", 0, so_check_send_proxy, NULL},
    {NULL, 0, NULL, NULL},
};

/* Options after `server <name> <addr>` or `default-server`. Stops at the
 * first problem: the rest of the line would be read out of step. */
static int parse_srv_opts(struct srv_ctx *c, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const struct srv_opt *o = srv_opts;

		while (o->name && strcmp(o->name, argv[i]) != 0)
			o++;
		if (!o->name) {
			ERR(c->ps, "%s: unknown option '%s'", c->what, argv[i]);
			return -1;
		}
		if (o->later) {
			ERR(c->ps, "%s: '%s' %s", c->what, o->name, o->later);
			return -1;
		}
		if (o->has_arg && i + 1 >= argc) {
			ERR(c->ps, "%s: '%s' expects a value", c->what, o->name);
			return -1;
		}
		c->opt = o->name;
		if (o->fn(c, o->has_arg ? argv[i + 1] : NULL) < 0)
			return -1;
		i += o->has_arg;
	}
	return 0;
}

/* "host:port" of a server; the port is mandatory with us. */
static int server_address(struct pstate *ps, struct cfg_server *s, const char *text)
{
	char host[256];
	const char *err = NULL;

	if (text[0] != '[' && !strchr(text, ':')) {
		ERR(ps,
		    "server '%s': address '%s' has no port: ppbridge requires '<host>:<port>' "
		    "(it does not reuse the client's destination port as HAProxy does)",
		    s->name, text);
		return -1;
	}
	if (net_split_host_port(text, host, sizeof(host), &s->port, &err) < 0) {
		ERR(ps, "server '%s': address '%s': %s", s->name, text, err);
		return -1;
	}
	if (!host[0] || !strcmp(host, "*")) {
		ERR(ps, "server '%s': address '%s' has no host", s->name, text);
		return -1;
	}
	if (s->port == 0) {
		ERR(ps,
		    "server '%s': address '%s': port 0 is not supported, ppbridge requires "
		    "an explicit port",
		    s->name, text);
		return -1;
	}
	s->host = xstrdup(host);
	return 0;
}

static int kw_server(struct pstate *ps, int argc, char **argv)
{
	struct cfg_server *s, **tail;
	char what[300];
	struct srv_ctx c = {.ps = ps};

	if (argc < 3) {
		ERR(ps, "'server' expects <name> <host>:<port> [options]");
		return -1;
	}
	if (!valid_name(argv[1])) {
		ERR(ps, "'server': invalid name '%s' (letters, digits, '-', '_', '.', ':')",
		    argv[1]);
		return -1;
	}
	s = xcalloc(1, sizeof(*s));
	server_copy_settings(s, &ps->cur->defsrv);
	s->where = ps->where;
	s->name = xstrdup(argv[1]);
	snprintf(what, sizeof(what), "server '%s'", s->name);
	c.srv = s;
	c.what = what;
	if (server_address(ps, s, argv[2]) < 0 || parse_srv_opts(&c, argc - 3, argv + 3) < 0)
		goto fail;
	for (tail = &ps->cur->servers; *tail; tail = &(*tail)->next) {
		if (!strcmp((*tail)->name, s->name)) {
			ERR(ps, "server '%s': name already used in %s '%s' (%s:%d)", s->name,
			    sec_name(ps->cur->caps), ps->cur->name, (*tail)->where.file,
			    (*tail)->where.line);
			goto fail;
		}
	}
	*tail = s;
	return 0;
fail:
	server_free_fields(s);
	free(s);
	return -1;
}

static int kw_default_server(struct pstate *ps, int argc, char **argv)
{
	struct cfg_server tmp;
	struct srv_ctx c = {.ps = ps, .srv = &tmp, .what = "default-server"};

	/* Work on a copy so that a bad line leaves the template untouched. */
	server_copy_settings(&tmp, &ps->cur->defsrv);
	if (parse_srv_opts(&c, argc - 1, argv + 1) < 0) {
		server_free_fields(&tmp);
		return -1;
	}
	server_free_fields(&ps->cur->defsrv);
	ps->cur->defsrv = tmp;
	return 0;
}

/* ---- timeouts ---- */

struct timeout_kw {
	const char *name;
	unsigned caps;
	size_t off;
};

#define TO(f) offsetof(struct cfg_timeouts, f)

static const struct timeout_kw timeout_kws[] = {
    {"connect", CAP_DEF | CAP_BE, TO(connect)},
    {"client", CAP_DEF | CAP_FE, TO(client)},
    {"server", CAP_DEF | CAP_BE, TO(server)},
    {"check", CAP_DEF | CAP_BE, TO(check)},
    {"queue", CAP_DEF | CAP_BE, TO(queue)},
    {"http-request", CAP_ALL, TO(http_request)},
    {"http-keep-alive", CAP_ALL, TO(http_keep_alive)},
    {"client-hs", CAP_DEF | CAP_FE, TO(client_hs)},
    {"tunnel", CAP_DEF | CAP_BE, TO(tunnel)},
    {"client-fin", CAP_DEF | CAP_FE, TO(client_fin)},
    {"server-fin", CAP_DEF | CAP_BE, TO(server_fin)},
    {NULL, 0, 0},
};

static int kw_timeout(struct pstate *ps, int argc, char **argv)
{
	const struct timeout_kw *t = timeout_kws;
	char kw[64];
	unsigned v;

	if (argc < 2) {
		ERR(ps, "'timeout' expects <name> <time>");
		return -1;
	}
	while (t->name && strcmp(t->name, argv[1]) != 0)
		t++;
	if (!t->name) {
		ERR(ps, "unknown keyword 'timeout %s' in '%s' section", argv[1],
		    sec_name(ps->cur->caps));
		return -1;
	}
	snprintf(kw, sizeof(kw), "timeout %s", t->name);
	if (check_caps(ps, kw, t->caps) < 0 || kw_time(ps, kw, argc, argv, 2, &v) < 0)
		return -1;
	*(unsigned *)(void *)((char *)&ps->cur->timeout + t->off) = v;
	return 0;
}

/* ---- misc numbers ---- */

static int kw_maxconn(struct pstate *ps, int argc, char **argv)
{
	long v;

	if (kw_number(ps, argc, argv, 0, INT_MAX, &v) < 0)
		return -1;
	ps->cur->maxconn = (unsigned)v;
	return 0;
}

static int kw_retries(struct pstate *ps, int argc, char **argv)
{
	long v;

	if (kw_number(ps, argc, argv, 0, 100, &v) < 0)
		return -1;
	ps->cur->retries = (int)v;
	return 0;
}

/* ---- option / no option ---- */

static int opt_redispatch(struct pstate *ps, int argc, char **argv)
{
	long v = -1;

	if (argc > 3 || (argc == 3 && parse_long(argv[2], -1000, 1000, &v) < 0)) {
		ERR(ps, "'option redispatch' expects an optional interval (an integer), got '%s'",
		    argv[2]);
		return -1;
	}
	ps->cur->redispatch_interval = (int)v;
	return 0;
}

/* The first http-check rule of a section replaces the inherited ones
 * (HAProxy does not merge a proxy's check rules with its defaults'). */
static void hc_own(struct pstate *ps)
{
	if (ps->cur_hc_own)
		return;
	ps->cur_hc_own = 1;
	httpchk_clear_rules(&ps->cur->httpchk);
}

static int opt_httpchk(struct pstate *ps, int argc, char **argv)
{
	struct cfg_httpchk *c = &ps->cur->httpchk;

	if (argc > 5) {
		ERR(ps, "'option httpchk' expects [<method> <uri> [<version>]] or [<uri>]");
		return -1;
	}
	hc_own(ps);
	c->enabled = 1;
	if (argc == 3) {
		set_str(&c->uri, argv[2]); /* the old form: option httpchk <uri> */
	} else if (argc >= 4) {
		set_str(&c->method, argv[2]);
		set_str(&c->uri, argv[3]);
		if (argc == 5)
			set_str(&c->version, argv[4]);
	}
	return 0;
}

/* RFC 9110 tchar and token: what a header field name is made of. */
static int is_tchar(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int is_token(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!is_tchar(*s))
			return 0;
	return 1;
}

/* A header name a rule may delete, set or add. The two fields that frame
 * the body are refused: rewriting them would make ppbridge and the server
 * disagree on where a request ends, which is request smuggling. */
static int check_header_name(struct pstate *ps, const char *what, const char *name)
{
	if (!is_token(name)) {
		ERR(ps, "%s: '%s' is not a valid header name (RFC 9110 token)", what, name);
		return -1;
	}
	if (!strcasecmp(name, "content-length") || !strcasecmp(name, "transfer-encoding")) {
		ERR(ps,
		    "%s: '%s' frames the request body and cannot be rewritten (requests could "
		    "be smuggled)",
		    what, name);
		return -1;
	}
	return 0;
}

/* `option forwardfor [except <net>] [header <name>] [if-none]`, arguments
 * in any order. As in HAProxy, the line replaces every earlier setting,
 * inherited or not. */
static int opt_forwardfor(struct pstate *ps, int argc, char **argv)
{
	struct cfg_forwardfor ff = {.enabled = 1};

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "if-none")) {
			ff.if_none = 1;
		} else if (!strcmp(argv[i], "except")) {
			if (i + 1 >= argc || net_parse_cidr(argv[i + 1], &ff.except) < 0) {
				ERR(ps,
				    "'option forwardfor': 'except' expects a network "
				    "(<address>[/<prefix>])%s%s%s",
				    i + 1 < argc ? ", got '" : "", i + 1 < argc ? argv[i + 1] : "",
				    i + 1 < argc ? "'" : "");
				goto fail;
			}
			ff.has_except = 1;
			i++;
		} else if (!strcmp(argv[i], "header")) {
			if (i + 1 >= argc) {
				ERR(ps, "'option forwardfor': 'header' expects a header name");
				goto fail;
			}
			if (check_header_name(ps, "'option forwardfor'", argv[i + 1]) < 0)
				goto fail;
			set_str(&ff.header, argv[++i]);
		} else {
			ERR(ps,
			    "'option forwardfor': unknown argument '%s' (expected except "
			    "<network>, header <name>, if-none)",
			    argv[i]);
			goto fail;
		}
	}
	free(ps->cur->forwardfor.header);
	ps->cur->forwardfor = ff;
	return 0;
fail:
	free(ff.header);
	return -1;
}

static void forwardfor_clear(struct cfg_forwardfor *ff)
{
	free(ff->header);
	memset(ff, 0, sizeof(*ff));
}

/* Keep-alive is the default connection mode: it undoes the other two. */
static int opt_http_keep_alive(struct pstate *ps, int argc, char **argv)
{
	unsigned both = CFG_OPT_HTTPCLOSE | CFG_OPT_HTTP_SERVER_CLOSE;

	if (argc > 2) {
		ERR(ps, "'option http-keep-alive' takes no value, got '%s'", argv[2]);
		return -1;
	}
	ps->cur->options &= ~both;
	ps->cur->options_set |= both;
	return 0;
}

/* HAProxy 2.8's `option forwarded` takes parameters choosing the fields;
 * ppbridge has only the plain form. */
static int opt_forwarded(struct pstate *ps, int argc, char **argv)
{
	if (argc > 2) {
		ERR(ps,
		    "'option forwarded': only 'option forwarded' without arguments is supported, "
		    "got '%s'",
		    argv[2]);
		return -1;
	}
	return 0;
}

struct opt_kw {
	const char *name;
	unsigned caps;
	unsigned bit; /* a plain boolean when `fn` is NULL */
	int (*fn)(struct pstate *ps, int argc, char **argv);
	const char *later;
};

#define L7_LATER "is not supported (outside the L7 HTTP subset)"

static const struct opt_kw opt_kws[] = {
    {"tcplog", CAP_DEF | CAP_FE, CFG_OPT_TCPLOG, NULL, NULL},
    {"httplog", CAP_DEF | CAP_FE, CFG_OPT_HTTPLOG, NULL, NULL},
    {"dontlognull", CAP_DEF | CAP_FE, CFG_OPT_DONTLOGNULL, NULL, NULL},
    {"http-server-close", CAP_ALL, CFG_OPT_HTTP_SERVER_CLOSE, NULL, NULL},
    {"httpclose", CAP_ALL, CFG_OPT_HTTPCLOSE, NULL, NULL},
    {"http-keep-alive", CAP_ALL, 0, opt_http_keep_alive, NULL},
    {"forwardfor", CAP_ALL, 0, opt_forwardfor, NULL},
    {"forwarded", CAP_DEF | CAP_BE, CFG_OPT_FORWARDED, opt_forwarded, NULL},
    {"redispatch", CAP_DEF | CAP_BE, CFG_OPT_REDISPATCH, opt_redispatch, NULL},
    {"log-health-checks", CAP_DEF | CAP_BE, CFG_OPT_LOG_HEALTH_CHECKS, NULL, NULL},
    {"tcpka", CAP_ALL, CFG_OPT_TCPKA, NULL, NULL},
    {"clitcpka", CAP_DEF | CAP_FE, CFG_OPT_CLITCPKA, NULL, NULL},
    {"srvtcpka", CAP_DEF | CAP_BE, CFG_OPT_SRVTCPKA, NULL, NULL},
    {"allbackups", CAP_DEF | CAP_BE, CFG_OPT_ALLBACKUPS, NULL, NULL},
    {"httpchk", CAP_DEF | CAP_BE, 0, opt_httpchk, NULL},
    {"originalto", CAP_ALL, 0, NULL, L7_LATER},
    {"http-buffer-request", CAP_ALL, 0, NULL, L7_LATER},
    {NULL, 0, 0, NULL, NULL},
};

static const struct opt_kw *find_opt(struct pstate *ps, const char *name, char *kw, size_t kwlen)
{
	const struct opt_kw *o = opt_kws;

	while (o->name && strcmp(o->name, name) != 0)
		o++;
	if (!o->name) {
		ERR(ps, "unknown option '%s' in '%s' section", name, sec_name(ps->cur->caps));
		return NULL;
	}
	snprintf(kw, kwlen, "option %s", o->name);
	if (o->later) {
		ERR(ps, "'%s' %s", kw, o->later);
		return NULL;
	}
	if (check_caps(ps, kw, o->caps) < 0)
		return NULL;
	return o;
}

static void set_option(struct cfg_proxy *p, unsigned bit, int on)
{
	/* tcplog and httplog choose one log format: the last one wins. */
	if (on && (bit & (CFG_OPT_TCPLOG | CFG_OPT_HTTPLOG)))
		p->options &= ~(unsigned)(CFG_OPT_TCPLOG | CFG_OPT_HTTPLOG);
	/* So do the connection modes httpclose and http-server-close. */
	if (on && (bit & (CFG_OPT_HTTPCLOSE | CFG_OPT_HTTP_SERVER_CLOSE)))
		p->options &= ~(unsigned)(CFG_OPT_HTTPCLOSE | CFG_OPT_HTTP_SERVER_CLOSE);
	if (on)
		p->options |= bit;
	else
		p->options &= ~bit;
	p->options_set |= bit;
}

static int kw_option(struct pstate *ps, int argc, char **argv)
{
	const struct opt_kw *o;
	char kw[80];

	if (argc < 2) {
		ERR(ps, "'option' expects an option name");
		return -1;
	}
	o = find_opt(ps, argv[1], kw, sizeof(kw));
	if (!o)
		return -1;
	if (o->fn) {
		if (o->fn(ps, argc, argv) < 0)
			return -1;
	} else if (argc > 2) {
		ERR(ps, "'%s' takes no value, got '%s'", kw, argv[2]);
		return -1;
	}
	if (o->bit)
		set_option(ps->cur, o->bit, 1);
	return 0;
}

static int kw_no(struct pstate *ps, int argc, char **argv)
{
	const struct opt_kw *o;
	char kw[80];

	if (argc == 2 && !strcmp(argv[1], "log")) {
		log_free_list(ps->cur->logs);
		ps->cur->logs = NULL;
		ps->cur->log_global = 0;
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "option") != 0) {
		ERR(ps, "'no' expects 'option <name>' or 'log'");
		return -1;
	}
	o = find_opt(ps, argv[2], kw, sizeof(kw));
	if (!o)
		return -1;
	if (o->fn == opt_forwardfor) {
		forwardfor_clear(&ps->cur->forwardfor);
		return 0;
	}
	if (o->fn == opt_http_keep_alive)
		return 0; /* keep-alive is the default: nothing to turn off (as HAProxy) */
	if (!o->bit) {
		ERR(ps, "'no %s': only boolean options can be negated", kw);
		return -1;
	}
	set_option(ps->cur, o->bit, 0);
	return 0;
}

/* ---- http-check ---- */

static int hc_connect(struct pstate *ps, int argc, char **argv)
{
	struct cfg_httpchk *c = &ps->cur->httpchk;
	uint16_t port;

	for (int i = 2; i < argc; i++) {
		const char *o = argv[i];
		if (!strcmp(o, "ssl")) {
			c->connect_ssl = 1;
		} else if (!strcmp(o, "port") && i + 1 < argc) {
			if (net_parse_port(argv[++i], &port) < 0 || port == 0) {
				ERR(ps, "'http-check connect': 'port' expects 1..65535, got '%s'",
				    argv[i]);
				return -1;
			}
			c->connect_port = port;
		} else if (!strcmp(o, "sni") && i + 1 < argc) {
			set_str(&c->connect_sni, argv[++i]);
		} else if (!strncmp(o, "send-proxy", 10)) {
			ERR(ps, "'http-check connect': '%s' is not supported: use 'check-send-proxy' "
				"on the server line", o);
			return -1;
		} else if (!strcmp(o, "port") || !strcmp(o, "sni")) {
			ERR(ps, "'http-check connect': '%s' expects a value", o);
			return -1;
		} else {
			ERR(ps, "'http-check connect': '%s' is not supported (port, ssl, sni)", o);
			return -1;
		}
	}
	return 0;
}

static int hc_send(struct pstate *ps, int argc, char **argv)
{
	struct cfg_httpchk *c = &ps->cur->httpchk;
	struct cfg_hdr **tail = &c->hdrs;

	while (*tail)
		tail = &(*tail)->next;
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i];
		int need = !strcmp(o, "hdr") ? 2 : 1;
		if (strcmp(o, "meth") && strcmp(o, "uri") && strcmp(o, "ver") && strcmp(o, "hdr")) {
			ERR(ps, "'http-check send': '%s' is not supported (meth, uri, ver, hdr)",
			    o);
			return -1;
		}
		if (i + need >= argc) {
			ERR(ps, "'http-check send': '%s' expects %s", o,
			    need == 2 ? "<name> <value>" : "a value");
			return -1;
		}
		if (!strcmp(o, "meth")) {
			set_str(&c->method, argv[i + 1]);
		} else if (!strcmp(o, "uri")) {
			set_str(&c->uri, argv[i + 1]);
		} else if (!strcmp(o, "ver")) {
			set_str(&c->version, argv[i + 1]);
		} else {
			struct cfg_hdr *h = xcalloc(1, sizeof(*h));
			h->name = xstrdup(argv[i + 1]);
			h->value = xstrdup(argv[i + 2]);
			*tail = h;
			tail = &h->next;
		}
		i += need;
	}
	return 0;
}

static int hc_expect(struct pstate *ps, int argc, char **argv)
{
	long v;

	if (argc != 4 || strcmp(argv[2], "status") != 0) {
		ERR(ps, "'http-check expect': only 'status <code>' is supported yet");
		return -1;
	}
	if (parse_long(argv[3], 100, 599, &v) < 0) {
		ERR(ps, "'http-check expect status' expects a code 100..599, got '%s'", argv[3]);
		return -1;
	}
	ps->cur->httpchk.expect_status = (int)v;
	return 0;
}

static int kw_http_check(struct pstate *ps, int argc, char **argv)
{
	if (argc < 2) {
		ERR(ps, "'http-check' expects connect, send or expect");
		return -1;
	}
	hc_own(ps);
	if (!strcmp(argv[1], "connect"))
		return hc_connect(ps, argc, argv);
	if (!strcmp(argv[1], "send"))
		return hc_send(ps, argc, argv);
	if (!strcmp(argv[1], "expect"))
		return hc_expect(ps, argc, argv);
	ERR(ps, "'http-check %s' is not supported (connect, send, expect)", argv[1]);
	return -1;
}

static int kw_log(struct pstate *ps, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "global")) {
		if (argc > 2) {
			ERR(ps, "'log global' takes no value");
			return -1;
		}
		ps->cur->log_global = 1;
		return 0;
	}
	return parse_log(ps, argc, argv, &ps->cur->logs);
}

static const char *const client_ip_names[] = {NULL, "none", "xff", "proxy-v1", "proxy-v2", "auto"};

const char *cfg_client_ip_name(enum cfg_client_ip v)
{
	if (v == CFG_CLIENT_IP_UNSET || (unsigned)v >= sizeof(client_ip_names) / sizeof(client_ip_names[0]))
		return "unset";
	return client_ip_names[v];
}

int cfg_client_ip_parse(const char *name)
{
	for (size_t i = 1; i < sizeof(client_ip_names) / sizeof(client_ip_names[0]); i++)
		if (!strcmp(name, client_ip_names[i]))
			return (int)i;
	return -1;
}

/* `client-ip none|xff|proxy-v1|proxy-v2|auto` (a ppbridge keyword). */
static int kw_client_ip(struct pstate *ps, int argc, char **argv)
{
	int v = argc == 2 ? cfg_client_ip_parse(argv[1]) : -1;

	if (v < 0) {
		ERR(ps, "'client-ip' expects none, xff, proxy-v1, proxy-v2 or auto");
		return -1;
	}
	ps->cur->client_ip = (enum cfg_client_ip)v;
	return 0;
}


static int kw_acl(struct pstate *ps, int argc, char **argv)
{
	char err[256];

	if (argc < 3) {
		ERR(ps, "'acl' expects <name> <fetch> [<pattern>...]");
		return -1;
	}
	if (acl_declare(&ps->cur->acls, argv[1], argv + 2, argc - 2, err, sizeof(err)) < 0) {
		ERR(ps, "acl '%s': %s", argv[1], err);
		return -1;
	}
	return 0;
}

/* `use_backend <backend> [if|unless <condition>]`. */
static int kw_use_backend(struct pstate *ps, int argc, char **argv)
{
	struct cfg_use_backend *u, **tail;
	char err[256];

	if (argc < 2 || (argc > 2 && strcmp(argv[2], "if") != 0 && strcmp(argv[2], "unless") != 0)) {
		ERR(ps, "'use_backend' expects a backend name [if|unless <condition>]");
		return -1;
	}
	u = xcalloc(1, sizeof(*u));
	u->where = ps->where;
	if (argc > 2 &&
	    !(u->cond = acl_cond_parse(argv + 2, argc - 2, ps->cur->acls, err, sizeof(err)))) {
		ERR(ps, "'use_backend %s': %s", argv[1], err);
		free(u);
		return -1;
	}
	u->name = xstrdup(argv[1]);
	for (tail = &ps->cur->use_backends; *tail; tail = &(*tail)->next)
		;
	*tail = u;
	return 0;
}

/* `tcp-request content accept|reject [if|unless ...]`: evaluated once the
 * client's ClientHello is read (or `tcp-request inspect-delay` ran out). */
static int tcp_content_rule(struct pstate *ps, int argc, char **argv)
{
	struct cfg_tcp_rule *rule, **tail;
	char err[256];

	if (argc < 3 || (strcmp(argv[2], "accept") != 0 && strcmp(argv[2], "reject") != 0)) {
		ERR(ps, "'tcp-request content' expects accept or reject [if|unless <condition>]");
		return -1;
	}
	rule = xcalloc(1, sizeof(*rule));
	rule->where = ps->where;
	rule->action = strcmp(argv[2], "accept") == 0 ? CFG_TCP_ACCEPT : CFG_TCP_REJECT;
	if (argc > 3 &&
	    !(rule->cond = acl_cond_parse(argv + 3, argc - 3, ps->cur->acls, err, sizeof(err)))) {
		ERR(ps, "'tcp-request content %s': %s", argv[2], err);
		free(rule);
		return -1;
	}
	for (tail = &ps->cur->tcp_content_rules; *tail; tail = &(*tail)->next)
		;
	*tail = rule;
	return 0;
}

/* `tcp-request connection accept|reject|expect-proxy layer4 [if|unless ...]`,
 * `tcp-request content accept|reject [if|unless ...]`,
 * `tcp-request inspect-delay <time>`. */
static int kw_tcp_request(struct pstate *ps, int argc, char **argv)
{
	struct cfg_tcp_rule *rule, **tail;
	char err[256];
	int next = 3;
	enum cfg_tcp_action action;

	if (argc >= 2 && !strcmp(argv[1], "inspect-delay"))
		return kw_time(ps, "tcp-request inspect-delay", argc, argv, 2,
			       &ps->cur->timeout.inspect_delay);
	if (argc >= 2 && !strcmp(argv[1], "content"))
		return tcp_content_rule(ps, argc, argv);
	if (argc < 3 || strcmp(argv[1], "connection") != 0) {
		ERR(ps, "'tcp-request' expects 'connection <action> [if|unless <condition>]', "
			"'content accept|reject ...' or 'inspect-delay <time>'");
		return -1;
	}
	if (!strcmp(argv[2], "accept")) {
		action = CFG_TCP_ACCEPT;
	} else if (!strcmp(argv[2], "reject")) {
		action = CFG_TCP_REJECT;
	} else if (!strcmp(argv[2], "expect-proxy")) {
		if (argc < 4 || strcmp(argv[3], "layer4") != 0) {
			ERR(ps, "'tcp-request connection expect-proxy' expects 'layer4'");
			return -1;
		}
		action = CFG_TCP_EXPECT_PROXY;
		next = 4;
	} else {
		ERR(ps, "'tcp-request connection': unsupported action '%s' (supported: accept, "
			"reject, expect-proxy layer4)",
		    argv[2]);
		return -1;
	}
	rule = xcalloc(1, sizeof(*rule));
	rule->where = ps->where;
	rule->action = action;
	if (next < argc) {
		rule->cond = acl_cond_parse(argv + next, argc - next, ps->cur->acls, err, sizeof(err));
		if (!rule->cond) {
			ERR(ps, "'tcp-request connection %s': %s", argv[2], err);
			free(rule);
			return -1;
		}
		if (acl_cond_fetches(rule->cond) & ACL_NEEDS_CONTENT) {
			ERR(ps, "'tcp-request connection %s': the ClientHello is not read yet at "
				"connection time (use 'tcp-request content' and "
				"'tcp-request inspect-delay')", argv[2]);
			acl_cond_free(rule->cond);
			free(rule);
			return -1;
		}
	}
	for (tail = &ps->cur->tcp_conn_rules; *tail; tail = &(*tail)->next)
		;
	*tail = rule;
	return 0;
}

/* The optional `if|unless <condition>` that ends a rule at argv[next]. */
static int rule_cond(struct pstate *ps, const char *what, int argc, char **argv, int next,
                     struct acl_cond **cond)
{
	char err[256];

	if (next >= argc)
		return 0;
	if (strcmp(argv[next], "if") != 0 && strcmp(argv[next], "unless") != 0) {
		ERR(ps,
		    "%s: unexpected word '%s' (expected 'if' or 'unless' and a condition; quote "
		    "a value that has spaces)",
		    what, argv[next]);
		return -1;
	}
	*cond = acl_cond_parse(argv + next, argc - next, ps->cur->acls, err, sizeof(err));
	if (!*cond) {
		ERR(ps, "%s: %s", what, err);
		return -1;
	}
	return 0;
}

static void http_rule_append(struct cfg_proxy *p, struct cfg_http_rule *rule)
{
	struct cfg_http_rule **tail = &p->http_rules;

	while (*tail)
		tail = &(*tail)->next;
	*tail = rule;
}

/* del-header's `-m <method>`: names are compared whole (case-insensitive),
 * so only the default `str` method has a meaning here. */
static int del_header_match(struct pstate *ps, const char *what, int argc, char **argv, int *next)
{
	if (*next >= argc || strcmp(argv[*next], "-m") != 0)
		return 0;
	if (*next + 1 >= argc) {
		ERR(ps, "%s: '-m' expects a matching method", what);
		return -1;
	}
	if (strcmp(argv[*next + 1], "str") != 0) {
		ERR(ps, "%s: '-m %s' is not supported (only '-m str', the whole name)", what,
		    argv[*next + 1]);
		return -1;
	}
	*next += 2;
	return 0;
}

/* `http-request del-header|set-header|add-header <name> [<fmt>] [-m str]
 * [if|unless <condition>]`. */
static int kw_http_request(struct pstate *ps, int argc, char **argv)
{
	struct cfg_http_rule *rule;
	enum cfg_http_action action;
	char what[300], err[256];
	int next = 3;

	if (argc < 2) {
		ERR(ps, "'http-request' expects an action (del-header, set-header, add-header)");
		return -1;
	}
	if (!strcmp(argv[1], "del-header")) {
		action = CFG_HTTP_DEL_HEADER;
	} else if (!strcmp(argv[1], "set-header")) {
		action = CFG_HTTP_SET_HEADER;
	} else if (!strcmp(argv[1], "add-header")) {
		action = CFG_HTTP_ADD_HEADER;
	} else {
		ERR(ps,
		    "'http-request %s' is not supported (supported actions: del-header, "
		    "set-header, add-header)",
		    argv[1]);
		return -1;
	}
	if (argc < (action == CFG_HTTP_DEL_HEADER ? 3 : 4)) {
		ERR(ps, "'http-request %s' expects <name>%s [if|unless <condition>]", argv[1],
		    action == CFG_HTTP_DEL_HEADER ? "" : " <value>");
		return -1;
	}
	snprintf(what, sizeof(what), "'http-request %s %.200s'", argv[1], argv[2]);
	if (check_header_name(ps, what, argv[2]) < 0)
		return -1;
	rule = xcalloc(1, sizeof(*rule));
	rule->where = ps->where;
	rule->action = action;
	rule->name = xstrdup(argv[2]);
	if (action == CFG_HTTP_DEL_HEADER) {
		if (del_header_match(ps, what, argc, argv, &next) < 0)
			goto fail;
	} else {
		rule->fmt = sample_compile(argv[3], err, sizeof(err));
		if (!rule->fmt) {
			ERR(ps, "%s: %s", what, err);
			goto fail;
		}
		next = 4;
	}
	if (rule_cond(ps, what, argc, argv, next, &rule->cond) < 0)
		goto fail;
	http_rule_append(ps->cur, rule);
	return 0;
fail:
	http_rules_free(rule);
	return -1;
}

/* The header a removed `reqidel`/`reqdel` regex deletes, when the regex
 * says exactly "this header, whole line": `^<name>:` with an optional
 * `.*` (and `$` after it). Name characters may be escaped (`X\-Foo`); a
 * regex metacharacter that is not escaped means a real regex, which is
 * refused rather than guessed at. Returns 0 with `name` filled, or -1. */
static int reqdel_header(const char *re, char *name, size_t len)
{
	size_t n = 0;

	if (*re++ != '^')
		return -1;
	for (;; re++) {
		char c = *re;
		if (c == '\\' && is_tchar(re[1]) && !isalnum((unsigned char)re[1]))
			c = *++re;
		else if (!is_tchar(c) || strchr("$*+.^|", c))
			break;
		if (n + 1 >= len)
			return -1;
		name[n++] = c;
	}
	name[n] = '\0';
	if (n == 0 || *re++ != ':')
		return -1;
	if (re[0] == '.' && re[1] == '*')
		re += re[2] == '$' ? 3 : 2;
	return *re ? -1 : 0;
}

/* HAProxy removed the `req*` regex rules in 2.1. The one the seed uses,
 * deleting a whole header, maps exactly onto del-header, so it is kept
 * working (with a warning); any other regex is refused. */
static int kw_reqdel(struct pstate *ps, int argc, char **argv)
{
	struct cfg_http_rule *rule;
	char name[256], what[300];

	if (argc < 2) {
		ERR(ps, "'%s' expects a regex", argv[0]);
		return -1;
	}
	snprintf(what, sizeof(what), "'%s %.200s'", argv[0], argv[1]);
	if (reqdel_header(argv[1], name, sizeof(name)) < 0) {
		ERR(ps,
		    "%s: only '^<header-name>:.*' can be mapped; use 'http-request del-header "
		    "<name>'",
		    what);
		return -1;
	}
	if (check_header_name(ps, what, name) < 0)
		return -1;
	rule = xcalloc(1, sizeof(*rule));
	rule->where = ps->where;
	rule->action = CFG_HTTP_DEL_HEADER;
	rule->name = xstrdup(name);
	if (rule_cond(ps, what, argc, argv, 2, &rule->cond) < 0) {
		http_rules_free(rule);
		return -1;
	}
	http_rule_append(ps->cur, rule);
	WARN(ps,
	     "'%s' was removed from HAProxy in 2.1; ppbridge maps this one to 'http-request "
	     "del-header %s' (case-insensitive%s)",
	     argv[0], name, strcmp(argv[0], "reqdel") ? "" : ", where reqdel was not");
	return 0;
}

static int kw_reqrep(struct pstate *ps, int argc, char **argv)
{
	ERR(ps,
	    "'%s' was removed from HAProxy in 2.1 and its replacement, 'http-request "
	    "replace-header', is not supported: rewrite it as 'http-request del-header' and "
	    "'http-request set-header'",
	    argv[0]);
	return -1;
}

static int kw_http_reuse(struct pstate *ps, int argc, char **argv)
{
	/* In enum cfg_http_reuse order. */
	static const char *const names[] = {"safe", "never", "aggressive", "always"};
	int i = argc == 2 ? name_index(names, 4, argv[1]) : -1;

	if (i < 0) {
		ERR(ps, "'http-reuse' expects never, safe, aggressive or always%s%s%s",
		    argc >= 2 ? ", got '" : "", argc >= 2 ? argv[1] : "", argc >= 2 ? "'" : "");
		return -1;
	}
	ps->cur->http_reuse = (enum cfg_http_reuse)i;
	return 0;
}

static int kw_load_server_state(struct pstate *ps, int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "global")) {
		ps->cur->srv_state_load = CFG_SRV_STATE_GLOBAL;
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "none")) {
		ps->cur->srv_state_load = CFG_SRV_STATE_NONE;
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "local")) {
		ERR(ps, "'load-server-state-from-file local' is not supported: use 'global' with "
			"'server-state-file' in the global section");
		return -1;
	}
	ERR(ps, "'load-server-state-from-file' expects global or none");
	return -1;
}

struct proxy_kw {
	const char *kw;
	unsigned caps;
	int (*fn)(struct pstate *ps, int argc, char **argv);
};

static const struct proxy_kw proxy_kws[] = {
    {"bind", CAP_FE, kw_bind},
    {"mode", CAP_ALL, kw_mode},
    {"default_backend", CAP_DEF | CAP_FE, kw_default_backend},
    {"balance", CAP_DEF | CAP_BE, kw_balance},
    {"hash-type", CAP_DEF | CAP_BE, kw_hash_type},
    {"server", CAP_BE, kw_server},
    {"default-server", CAP_DEF | CAP_BE, kw_default_server},
    {"timeout", CAP_ALL, kw_timeout},
    {"maxconn", CAP_DEF | CAP_FE, kw_maxconn},
    {"retries", CAP_DEF | CAP_BE, kw_retries},
    {"option", CAP_ALL, kw_option},
    {"no", CAP_ALL, kw_no},
    {"http-check", CAP_DEF | CAP_BE, kw_http_check},
    {"log", CAP_ALL, kw_log},
    {"acl", CAP_FE | CAP_BE, kw_acl},
    {"tcp-request", CAP_FE, kw_tcp_request},
    {"use_backend", CAP_FE, kw_use_backend},
    {"client-ip", CAP_FE, kw_client_ip},
    {"http-request", CAP_FE | CAP_BE, kw_http_request},
    {"http-reuse", CAP_DEF | CAP_BE, kw_http_reuse},
    {"load-server-state-from-file", CAP_DEF | CAP_BE, kw_load_server_state},
    {"reqidel", CAP_FE | CAP_BE, kw_reqdel},
    {"reqdel", CAP_FE | CAP_BE, kw_reqdel},
    {"reqirep", CAP_FE | CAP_BE, kw_reqrep},
    {"reqrep", CAP_FE | CAP_BE, kw_reqrep},
    {NULL, 0, NULL},
};

static const struct later proxy_later[] = {
    {"http-response", L7_LATER},
    {"stats", "is not supported (no HTTP stats page: use 'stats socket' in global and 'show stat')"},
    {NULL, NULL},
};

static void parse_proxy_line(struct pstate *ps, int argc, char **argv)
{
	const struct later *l = find_later(proxy_later, argv[0]);

	if (l) {
		ERR(ps, "'%s' %s", argv[0], l->why);
		return;
	}
	for (const struct proxy_kw *k = proxy_kws; k->kw; k++) {
		if (strcmp(k->kw, argv[0]) != 0)
			continue;
		if (check_caps(ps, k->kw, k->caps) == 0)
			k->fn(ps, argc, argv);
		return;
	}
	ERR(ps, "unknown keyword '%s' in '%s' section", argv[0], sec_name(ps->cur->caps));
}

/* ------------------------------------------------------------------ */
/* Sections */

static void end_section(struct pstate *ps)
{
	if (ps->cur && ps->cur_orphan)
		proxy_free(ps->cur);
	ps->cur = NULL;
	ps->cur_orphan = 0;
	ps->cur_hc_own = 0;
}

static void link_proxy(struct cfg_proxy **list, struct cfg_proxy *p)
{
	while (*list)
		list = &(*list)->next;
	*list = p;
}

/* Same name and a shared capability: HAProxy refuses it. */
static int check_duplicate(struct pstate *ps, const char *name, unsigned caps)
{
	struct cfg_proxy *other;

	if (caps & CFG_CAP_DEF) {
		other = find_defaults(ps->cfg, name);
		if (other)
			WARN(ps,
			     "defaults section '%s' has the same name as another one (%s:%d); "
			     "'from %s' now means this one",
			     name, other->where.file, other->where.line, name);
		return 0;
	}
	other = cfg_find_proxy(ps->cfg, name, caps);
	if (!other)
		return 0;
	ERR(ps, "%s '%s' has the same name as %s '%s' declared at %s:%d", sec_name(caps), name,
	    sec_name(other->caps), other->name, other->where.file, other->where.line);
	return -1;
}

/* `frontend|backend|listen <name> [from <defaults>]`, `defaults [<name>]
 * [from <defaults>]`. On a bad header the section is still parsed (into
 * an orphan proxy) so that its lines get checked too. */
static void begin_proxy(struct pstate *ps, unsigned caps, int argc, char **argv)
{
	struct cfg_proxy *p = proxy_new_builtin(), *from = ps->defaults;
	const char *name = NULL, *from_name = NULL;
	int bad = 0, i = 1;

	p->caps = caps;
	p->where = ps->where;
	ps->cur = p;
	if (i < argc && strcmp(argv[i], "from") != 0)
		name = argv[i++];
	if (i < argc && !strcmp(argv[i], "from")) {
		if (i + 1 >= argc) {
			ERR(ps, "'%s': 'from' expects a defaults section name", argv[0]);
			bad = 1;
		} else {
			from_name = argv[i + 1];
		}
		i += 2;
	}
	if (!bad && i < argc) {
		ERR(ps, "'%s': unexpected word '%s'", argv[0], argv[i]);
		bad = 1;
	}
	if (!name && !(caps & CFG_CAP_DEF)) {
		ERR(ps, "'%s' expects a name", argv[0]);
		bad = 1;
	} else if (name && !valid_name(name)) {
		ERR(ps, "%s name '%s' is invalid (letters, digits, '-', '_', '.', ':')", argv[0],
		    name);
		bad = 1;
	}
	if (from_name) {
		from = find_defaults(ps->cfg, from_name);
		if (!from) {
			ERR(ps, "'%s': defaults section '%s' not found", argv[0], from_name);
			bad = 1;
		}
	} else if (caps & CFG_CAP_DEF) {
		from = NULL; /* a new defaults section starts from scratch */
	}
	if (from)
		proxy_inherit(p, from);
	p->name = xstrdup(name ? name : "");
	if (!bad && name && check_duplicate(ps, name, caps) < 0)
		bad = 1;
	if (bad) {
		ps->cur_orphan = 1;
		return;
	}
	if (caps & CFG_CAP_DEF) {
		link_proxy(&ps->cfg->defaults, p);
		ps->defaults = p;
	} else {
		link_proxy(&ps->cfg->proxies, p);
	}
}

static const char *const skipped_sections[] = {
    "resolvers", "peers",   "userlist",       "program",  "cache",     "http-errors",
    "ring",      "mailers", "dynamic-update", "fcgi-app", "crt-store", "traces",
};

/* Returns 1 when the line opened a section. */
static int parse_section(struct pstate *ps, int argc, char **argv)
{
	static const struct {
		const char *kw;
		unsigned caps;
	} px[] = {
	    {"defaults", CFG_CAP_DEF},
	    {"frontend", CFG_CAP_FE},
	    {"backend", CFG_CAP_BE},
	    {"listen", CFG_CAP_FE | CFG_CAP_BE},
	};

	if (!strcmp(argv[0], "global")) {
		end_section(ps);
		ps->sec = SEC_GLOBAL;
		if (argc > 1)
			ERR(ps, "'global' takes no name, got '%s'", argv[1]);
		return 1;
	}
	for (size_t i = 0; i < sizeof(px) / sizeof(px[0]); i++) {
		if (!strcmp(argv[0], px[i].kw)) {
			end_section(ps);
			ps->sec = SEC_PROXY;
			begin_proxy(ps, px[i].caps, argc, argv);
			return 1;
		}
	}
	for (size_t i = 0; i < sizeof(skipped_sections) / sizeof(skipped_sections[0]); i++) {
		if (!strcmp(argv[0], skipped_sections[i])) {
			end_section(ps);
			ps->sec = SEC_SKIP;
			ERR(ps, "'%s' sections are not supported", argv[0]);
			return 1;
		}
	}
	return 0;
}

static void parse_words(struct pstate *ps, int argc, char **argv)
{
	if (parse_section(ps, argc, argv))
		return;
	switch (ps->sec) {
	case SEC_NONE:
		ERR(ps,
		    "'%s' found before any section (global, defaults, frontend, backend, "
		    "listen)",
		    argv[0]);
		break;
	case SEC_GLOBAL:
		parse_global_line(ps, argc, argv);
		break;
	case SEC_PROXY:
		parse_proxy_line(ps, argc, argv);
		break;
	case SEC_SKIP:
		break;
	}
}

static const char *remember_file(struct cfg *cfg, const char *file)
{
	char **files;

	for (int i = 0; i < cfg->nfiles; i++)
		if (!strcmp(cfg->files[i], file))
			return cfg->files[i];
	files = realloc(cfg->files, sizeof(*files) * (size_t)(cfg->nfiles + 1));
	if (!files)
		abort();
	cfg->files = files;
	files[cfg->nfiles] = xstrdup(file);
	return files[cfg->nfiles++];
}

int cfg_parse_text(struct cfg *cfg, const char *file, const char *text, size_t len,
                   struct cfg_msgs *msgs)
{
	struct pstate ps = {.cfg = cfg, .msgs = msgs};
	struct cfg_words words;
	int errors = msgs->errors;
	size_t pos = 0;

	memset(&words, 0, sizeof(words));
	ps.where.file = remember_file(cfg, file ? file : "(config)");
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		const char *err = NULL;

		pos += n + (nl ? 1 : 0);
		ps.where.line++;
		if (n > 0 && line[n - 1] == '\r')
			n--; /* CRLF */
		if (cfg_tokenize(line, n, &words, &err) < 0) {
			ERR(&ps, "%s", err);
			continue;
		}
		if (words.n > 0)
			parse_words(&ps, words.n, words.w);
	}
	end_section(&ps);
	cfg_words_free(&words);
	return msgs->errors > errors ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Lifecycle */

struct cfg *cfg_new(void)
{
	return xcalloc(1, sizeof(struct cfg));
}

static void proxy_free_list(struct cfg_proxy *p)
{
	while (p) {
		struct cfg_proxy *next = p->next;
		proxy_free(p);
		p = next;
	}
}

void cfg_free(struct cfg *cfg)
{
	if (!cfg)
		return;
	free(cfg->global.pidfile);
	log_free_list(cfg->global.logs);
	free(cfg->global.ssl_default_bind_ciphers);
	free(cfg->global.ssl_default_bind_ciphersuites);
	free(cfg->global.ssl_default_server_ciphers);
	free(cfg->global.ssl_default_server_ciphersuites);
	free(cfg->global.ca_base);
	free(cfg->global.crt_base);
	free(cfg->global.stats_socket);
	free(cfg->global.user);
	free(cfg->global.client_ip_state);
	free(cfg->global.server_state_file);
	free(cfg->global.server_state_base);
	free(cfg->global.group);
	free(cfg->global.stats_user);
	free(cfg->global.stats_group);
	proxy_free_list(cfg->proxies);
	proxy_free_list(cfg->defaults);
	for (int i = 0; i < cfg->nfiles; i++)
		free(cfg->files[i]);
	free(cfg->files);
	free(cfg);
}

/* ------------------------------------------------------------------ */
/* Final checks */

unsigned cfg_timeout_connect(const struct cfg_proxy *be)
{
	return be->timeout.connect ? be->timeout.connect : CFG_DEFAULT_TIMEOUT_CONNECT;
}

unsigned cfg_timeout_client(const struct cfg_proxy *fe)
{
	return fe->timeout.client ? fe->timeout.client : CFG_DEFAULT_TIMEOUT_CLIENT;
}

unsigned cfg_timeout_server(const struct cfg_proxy *be)
{
	return be->timeout.server ? be->timeout.server : CFG_DEFAULT_TIMEOUT_SERVER;
}

/* "5s", "1500ms": how a filled-in default is shown. */
static void fmt_ms(char *buf, size_t len, unsigned ms)
{
	if (ms % 1000 == 0)
		snprintf(buf, len, "%us", ms / 1000);
	else
		snprintf(buf, len, "%ums", ms);
}

static void add_missing(char *buf, size_t len, const char *name, unsigned ms)
{
	char t[32];
	size_t used = strlen(buf);

	fmt_ms(t, sizeof(t), ms);
	snprintf(buf + used, len - used, "%s'timeout %s %s'", used ? ", " : "", name, t);
}

/* Fill the timeouts the proxy needs and does not have; warn like HAProxy. */
static void finish_timeouts(struct cfg_proxy *p, struct cfg_msgs *msgs)
{
	char list[256] = "";

	if ((p->caps & CFG_CAP_BE) && !p->timeout.connect) {
		p->timeout.connect = CFG_DEFAULT_TIMEOUT_CONNECT;
		add_missing(list, sizeof(list), "connect", p->timeout.connect);
	}
	if ((p->caps & CFG_CAP_FE) && !p->timeout.client) {
		p->timeout.client = CFG_DEFAULT_TIMEOUT_CLIENT;
		add_missing(list, sizeof(list), "client", p->timeout.client);
	}
	if ((p->caps & CFG_CAP_BE) && !p->timeout.server) {
		p->timeout.server = CFG_DEFAULT_TIMEOUT_SERVER;
		add_missing(list, sizeof(list), "server", p->timeout.server);
	}
	if ((p->caps & CFG_CAP_FE) && !p->timeout.client_hs)
		p->timeout.client_hs = CFG_DEFAULT_TIMEOUT_CLIENT_HS;
	if (list[0])
		cfg_msg_add(msgs, CFG_SEV_WARNING, NULL,
		            "proxy '%s' (%s:%d): missing timeouts for %s; ppbridge uses %s",
		            p->name, p->where.file, p->where.line, sec_name(p->caps), list);
}

/* use_backend targets are chosen before termination from the ClientHello,
 * so they take the connection at L4: mode tcp, whatever the frontend's. */
static void finish_use_backends(struct cfg *cfg, struct cfg_proxy *p, struct cfg_msgs *msgs)
{
	for (struct cfg_use_backend *u = p->use_backends; u; u = u->next) {
		u->be = cfg_find_proxy(cfg, u->name, CFG_CAP_BE);
		if (!u->be) {
			cfg_msg_add(msgs, CFG_SEV_ERROR, &u->where, "use_backend '%s' not found",
				    u->name);
			continue;
		}
		if (u->be->mode != CFG_MODE_TCP)
			cfg_msg_add(msgs, CFG_SEV_ERROR, &u->where,
				    "use_backend '%s': the backend must be 'mode tcp' (ppbridge routes "
				    "by the ClientHello, before termination, and passes the TLS through)",
				    u->name);
		if (u->cond && (acl_cond_fetches(u->cond) & ~(ACL_NEEDS_CONTENT | 1u)) != 0)
			cfg_msg_add(msgs, CFG_SEV_ERROR, &u->where,
				    "use_backend '%s': only src, req.ssl_sni and req_ssl_hello_type "
				    "can be used", u->name);
	}
	if ((p->use_backends || p->tcp_content_rules) && !p->timeout.inspect_delay)
		cfg_msg_add(msgs, CFG_SEV_WARNING, &p->where,
			    "%s '%s': use_backend/tcp-request content without 'tcp-request "
			    "inspect-delay': ppbridge waits at most %u ms for the ClientHello",
			    sec_name(p->caps), p->name, CFG_DEFAULT_INSPECT_DELAY);
}

static void finish_frontend(struct cfg *cfg, struct cfg_proxy *p, struct cfg_msgs *msgs)
{
	struct cfg_proxy *be;

	/* After errors a rejected bind or server line would make these two
	 * warnings fire as echoes of the error: say them only on clean input. */
	if (!p->binds && msgs->errors == 0)
		cfg_msg_add(msgs, CFG_SEV_WARNING, &p->where,
		            "%s '%s' has no 'bind' line: it will not accept connections",
		            sec_name(p->caps), p->name);
	if (p->default_backend) {
		be = cfg_find_proxy(cfg, p->default_backend, CFG_CAP_BE);
		if (!be) {
			cfg_msg_add(msgs, CFG_SEV_ERROR, &p->default_backend_where,
			            "%s '%s': default_backend '%s' not found", sec_name(p->caps),
			            p->name, p->default_backend);
			return;
		}
	} else if (p->caps & CFG_CAP_BE) {
		be = p; /* a listen is its own backend */
	} else {
		cfg_msg_add(msgs, CFG_SEV_ERROR, &p->where,
		            "frontend '%s' has no default_backend (use_backend alone would leave "
		            "other connections nowhere to go)",
		            p->name);
		return;
	}
	p->backend = be;
	finish_use_backends(cfg, p, msgs);
	if (p->client_ip == CFG_CLIENT_IP_XFF && p->mode != CFG_MODE_HTTP)
		cfg_msg_add(msgs, CFG_SEV_ERROR, &p->where,
			    "%s '%s': 'client-ip xff' needs 'mode http' (headers are rewritten)",
			    sec_name(p->caps), p->name);
	if (be->mode != p->mode)
		cfg_msg_add(msgs, CFG_SEV_ERROR, &p->where,
		            "%s '%s' in mode %s cannot use backend '%s' in mode %s",
		            sec_name(p->caps), p->name, p->mode == CFG_MODE_HTTP ? "http" : "tcp",
		            be->name, be->mode == CFG_MODE_HTTP ? "http" : "tcp");
}

static void finish_backend(struct cfg_proxy *p, struct cfg_msgs *msgs)
{
	int id = 0;

	for (struct cfg_server *s = p->servers; s; s = s->next)
		s->id = ++id;
	p->nservers = id;
	if (!id && msgs->errors == 0)
		cfg_msg_add(msgs, CFG_SEV_WARNING, &p->where, "%s '%s' has no server",
		            sec_name(p->caps), p->name);
}

static void finish_binds(struct cfg *cfg, struct cfg_msgs *msgs)
{
	for (struct cfg_proxy *p = cfg->proxies; p; p = p->next) {
		for (struct cfg_bind *b = p->binds; b; b = b->next) {
			/* Compare with every earlier bind; configs are small. */
			for (struct cfg_proxy *q = cfg->proxies; q; q = q->next) {
				for (struct cfg_bind *c = q->binds; c && c != b; c = c->next) {
					if (!net_addr_equal((struct sockaddr *)&b->addr.ss,
					                    (struct sockaddr *)&c->addr.ss))
						continue;
					cfg_msg_add(msgs, CFG_SEV_ERROR, &b->where,
					            "bind '%s' uses the same address as bind '%s' "
					            "of %s '%s' (%s:%d)",
					            b->text, c->text, sec_name(q->caps), q->name,
					            c->where.file, c->where.line);
					goto next_bind;
				}
				if (q == p)
					break;
			}
		next_bind:;
		}
	}
}

/* HTTP settings of a proxy in mode tcp do nothing: say so, as HAProxy. */
static void warn_http_only(const struct cfg_proxy *p, struct cfg_msgs *msgs)
{
	if (p->forwardfor.enabled)
		cfg_msg_add(msgs, CFG_SEV_WARNING, &p->where,
		            "%s '%s': 'option forwardfor' ignored, it requires mode http",
		            sec_name(p->caps), p->name);
	if (p->options & CFG_OPT_FORWARDED)
		cfg_msg_add(msgs, CFG_SEV_WARNING, &p->where,
		            "%s '%s': 'option forwarded' ignored, it requires mode http",
		            sec_name(p->caps), p->name);
	if (p->http_rules)
		cfg_msg_add(msgs, CFG_SEV_WARNING, &p->http_rules->where,
		            "%s '%s': 'http-request' rules ignored, they require mode http",
		            sec_name(p->caps), p->name);
}

/* HAProxy's rule: a relative `server-state-file` lives in
 * `server-state-base` when one is written, else where ppbridge runs. */
static void finish_state_paths(struct cfg *cfg, struct cfg_msgs *msgs)
{
	struct cfg_global *g = &cfg->global;
	const char *base = g->server_state_base;
	char *joined;
	size_t len;

	for (const struct cfg_proxy *p = cfg->proxies; p && !g->server_state_file; p = p->next)
		if (p->srv_state_load == CFG_SRV_STATE_GLOBAL) {
			cfg_msg_add(msgs, CFG_SEV_WARNING, &p->where,
				    "backend '%s': 'load-server-state-from-file global' without a "
				    "'server-state-file' in the global section: no state is kept",
				    p->name);
			break;
		}
	if (!g->server_state_file || g->server_state_file[0] == '/' || !base)
		return;
	len = strlen(base) + strlen(g->server_state_file) + 2;
	joined = xcalloc(1, len);
	snprintf(joined, len, "%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/",
		 g->server_state_file);
	free(g->server_state_file);
	g->server_state_file = joined;
}

int cfg_finish(struct cfg *cfg, struct cfg_msgs *msgs)
{
	int errors = msgs->errors, nfe = 0;

	for (struct cfg_proxy *p = cfg->proxies; p; p = p->next) {
		if (p->mode != CFG_MODE_HTTP)
			warn_http_only(p, msgs);
		if (p->caps & CFG_CAP_BE)
			finish_backend(p, msgs);
	}
	for (struct cfg_proxy *p = cfg->proxies; p; p = p->next) {
		if (p->caps & CFG_CAP_FE) {
			nfe++;
			finish_frontend(cfg, p, msgs);
		}
		finish_timeouts(p, msgs);
	}
	if (!nfe)
		cfg_msg_add(msgs, CFG_SEV_ERROR, NULL, "no frontend/listen defined");
	finish_binds(cfg, msgs);
	finish_state_paths(cfg, msgs);
	if (!cfg->global.maxconn)
		cfg->global.maxconn = CFG_DEFAULT_MAXCONN;
	return msgs->errors > errors ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* The parts that touch the world: DNS and files */

static int resolve_server(struct cfg_server *s, struct cfg_msgs *msgs)
{
	struct addrinfo hints, *res = NULL;
	int rc;

	if (net_parse_ip(s->host, &s->addr.ss, &s->addr.len) == 0) {
		net_set_port((struct sockaddr *)&s->addr.ss, s->port);
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(s->host, NULL, &hints, &res);
	if (rc != 0 || !res) {
		cfg_msg_add(msgs, CFG_SEV_ERROR, &s->where,
		            "server '%s': cannot resolve host '%s': %s", s->name, s->host,
		            rc ? gai_strerror(rc) : "no address");
		if (res)
			freeaddrinfo(res);
		return -1;
	}
	/* The first answer, in the resolver's preferred order (RFC 6724). */
	memset(&s->addr.ss, 0, sizeof(s->addr.ss));
	memcpy(&s->addr.ss, res->ai_addr, res->ai_addrlen);
	s->addr.len = (socklen_t)res->ai_addrlen;
	net_set_port((struct sockaddr *)&s->addr.ss, s->port);
	freeaddrinfo(res);
	return 0;
}

int cfg_resolve(struct cfg *cfg, struct cfg_msgs *msgs)
{
	int rc = 0;

	for (struct cfg_proxy *p = cfg->proxies; p; p = p->next)
		for (struct cfg_server *s = p->servers; s; s = s->next)
			if (resolve_server(s, msgs) < 0)
				rc = -1;
	return rc;
}

static char *read_file(const char *path, size_t *len, struct cfg_msgs *msgs)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f) {
		cfg_msg_add(msgs, CFG_SEV_ERROR, NULL, "%s: cannot open: %s", path,
		            strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			char *p = realloc(buf, cap);
			if (!p)
				abort();
			buf = p;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		cfg_msg_add(msgs, CFG_SEV_ERROR, NULL, "%s: cannot read: %s", path,
		            strerror(errno ? errno : EIO));
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

static void load_one(struct cfg *cfg, const char *path, struct cfg_msgs *msgs)
{
	size_t len = 0;
	char *text = read_file(path, &len, msgs);

	if (!text)
		return;
	cfg_parse_text(cfg, path, text, len, msgs);
	free(text);
}

static int is_cfg_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 4 && strcmp(d->d_name + n - 4, ".cfg") == 0;
}

/* As HAProxy: a directory given to -f contributes its *.cfg files in
 * alphabetical order. */
static void load_dir(struct cfg *cfg, const char *dir, struct cfg_msgs *msgs)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, is_cfg_name, alphasort);

	if (n < 0) {
		cfg_msg_add(msgs, CFG_SEV_ERROR, NULL, "cannot read directory '%s': %s", dir,
			    strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		size_t len = strlen(dir) + strlen(names[i]->d_name) + 2;
		char *path = xcalloc(1, len);
		snprintf(path, len, "%s/%s", dir, names[i]->d_name);
		load_one(cfg, path, msgs);
		free(path);
		free(names[i]);
	}
	free(names);
}

int cfg_load_files(struct cfg *cfg, char *const *paths, int npaths, struct cfg_msgs *msgs)
{
	int errors = msgs->errors;

	for (int i = 0; i < npaths; i++) {
		struct stat st;
		if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode))
			load_dir(cfg, paths[i], msgs);
		else
			load_one(cfg, paths[i], msgs);
	}
	/* Cross-checks run even after parse errors, so that `-c` reports
	 * everything; DNS only for a configuration that could be used. */
	cfg_finish(cfg, msgs);
	if (msgs->errors == errors)
		cfg_resolve(cfg, msgs);
	return msgs->errors > errors ? -1 : 0;
}
