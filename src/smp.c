/* smp.c - fetches, converters and sample expressions (pure).
 *
 * The tables below are the whole vocabulary: smp_fetch_kws[] for fetches,
 * smp_conv_kws[] for converters, smp_arg_kws[] for the kinds of argument
 * they take. Parsing checks everything once, at configuration time (names,
 * argument counts and syntax, that each converter takes what the step
 * before it gives); evaluation only runs the functions.
 */
#include <config.h>

#include "smp.h"
#include "stktable.h"

#include "auth.h"
#include "cfg.h"
#include "net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SMP_MAX_HDR_NAME 256 /* longest header name accepted in req.hdr() */
#define SMP_MAX_BACKEND 255  /* longest backend name in nbsrv() */
#define SMP_MAX_CONVS 16     /* converters in one expression */

#define U(x) (1u << SMP_USE_##x)

static void smp_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void smp_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* ------------------------------------------------------------------ */
/* Fetches */

/* The address alone, port kept; an IPv4-mapped IPv6 address as IPv4. */
static int put_addr(const struct sockaddr *sa, struct smp *out)
{
	if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return 0;
	memset(&out->ip, 0, sizeof(out->ip));
	memcpy(&out->ip, sa,
	       sa->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	net_unmap_v4(&out->ip);
	out->type = SMP_T_IP;
	return 1;
}

static int put_port(const struct sockaddr *sa, struct smp *out)
{
	if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return 0;
	out->type = SMP_T_INT;
	out->i = net_get_port(sa);
	return 1;
}

static int put_str(const char *s, size_t len, struct smp *out)
{
	out->type = SMP_T_STR;
	out->str = s;
	out->len = len;
	return 1;
}

static int fetch_src(const struct smp_arg *args, const struct smp_env *env, struct smp *out)
{
	return put_addr(env->src, out);
}

static int fetch_src_port(const struct smp_arg *args, const struct smp_env *env, struct smp *out)
{
	return put_port(env->src, out);
}

static int fetch_dst(const struct smp_arg *args, const struct smp_env *env, struct smp *out)
{
	return put_addr(env->dst, out);
}

static int fetch_dst_port(const struct smp_arg *args, const struct smp_env *env, struct smp *out)
{
	return put_port(env->dst, out);
}

static int fetch_ssl_fc_sni(const struct smp_arg *args, const struct smp_env *env, struct smp *out)
{
	return env->tls_sni ? put_str(env->tls_sni, strlen(env->tls_sni), out) : 0;
}

/* req.hdr(<name>): the last occurrence, as HAProxy (the callback's job). */
static int fetch_req_hdr(const struct smp_arg *args, const struct smp_env *env, struct smp *out)
{
	const uint8_t *val = NULL;
	size_t vlen = 0;

	if (!env->hdr || env->hdr(env->hdr_arg, args[0].str, args[0].len, &val, &vlen) <= 0 || !val)
		return 0;
	return put_str((const char *)val, vlen, out);
}

static int fetch_hello_sni(const struct smp_arg *args, const struct smp_env *env, struct smp *out)
{
	if (!env->hello_sni || !*env->hello_sni)
		return 0;
	return put_str(env->hello_sni, strlen(env->hello_sni), out);
}

/* Always a value: 0 when no TLS handshake was seen (ppbridge has always
 * let `req_ssl_hello_type 0` match a client that sent none). */
static int fetch_hello_type(const struct smp_arg *args, const struct smp_env *env, struct smp *out)
{
	out->type = SMP_T_INT;
	out->i = env->hello_type;
	return 1;
}

/* "scheme://" at the start of an absolute-form target: its length, or 0
 * (HAProxy's http_parse_scheme(): a letter, then letters, digits, + - .). */
static size_t scheme_len(const char *u, size_t n)
{
	size_t i = 1;

	if (n == 0 || !is_alpha(u[0]))
		return 0;
	while (i < n &&
	       (is_alpha(u[i]) || is_digit(u[i]) || u[i] == '+' || u[i] == '-' || u[i] == '.'))
		i++;
	if (n - i < 3 || memcmp(u + i, "://", 3) != 0)
		return 0;
	return i + 3;
}

/* path: from the first '/' of an origin-form target, or the first '/'
 * after the authority of an absolute-form one, up to the '?'. No value
 * for `*`, an authority-form target, or "http://host" without a path. */
static int fetch_path(const struct smp_arg *args, const struct smp_env *env, struct smp *out)
{
	const char *u = env->uri, *q;
	size_t n = env->uri_len;

	if (!u || n == 0)
		return 0;
	if (u[0] != '/') {
		size_t skip = scheme_len(u, n);
		const char *slash = skip ? memchr(u + skip, '/', n - skip) : NULL;
		if (!slash)
			return 0;
		n -= (size_t)(slash - u);
		u = slash;
	}
	q = memchr(u, '?', n);
	return put_str(u, q ? (size_t)(q - u) : n, out);
}

static int fetch_nbsrv(const struct smp_arg *args, const struct smp_env *env, struct smp *out)
{
	int n;

	if (!env->nbsrv || (n = env->nbsrv(env->nbsrv_arg, args[0].str)) < 0)
		return 0;
	out->type = SMP_T_INT;
	out->i = n;
	return 1;
}

/* http_auth(<userlist>): a boolean, false without credentials (so that
 * `unless AUTH` asks for them). No value where the caller gave no
 * userlists: only `stats` rules look at credentials. */
static int fetch_http_auth(const struct smp_arg *args, const struct smp_env *env, struct smp *out)
{
	const struct cfg_userlist *ul;

	if (!env->userlists)
		return 0;
	ul = auth_userlist_find(env->userlists, args[0].str);
	out->type = SMP_T_BOOL;
	out->i = ul && env->auth && auth_basic_user(ul, env->auth, env->auth_len) != NULL;
	return 1;
}

/* http_auth_group(<userlist>): the groups of the authenticated user, as a
 * list ("admin,ops"; SMP_F_LIST: each pattern is a group name); no value
 * unless the credentials are valid. HAProxy returns the user name and
 * matches its groups in a method of its own; the list gives the same
 * `http_auth_group(L) admin` with the methods we have. */
static int fetch_http_auth_group(const struct smp_arg *args, const struct smp_env *env,
                                 struct smp *out)
{
	const struct cfg_ul_user *u;
	const struct cfg_userlist *ul;

	if (!env->userlists || !env->auth)
		return 0;
	ul = auth_userlist_find(env->userlists, args[0].str);
	if (!ul || !(u = auth_basic_user(ul, env->auth, env->auth_len)))
		return 0;
	return put_str(u->groups ? u->groups : "", u->groups ? strlen(u->groups) : 0, out);
}

/* sc_<data>(<sc>[,<table>]): no value unless the counter tracks an
 * entry (of that table, when named), as HAProxy. */
static int fetch_sc(const struct smp_arg *args, const struct smp_env *env, struct smp *out,
                    enum stk_data d)
{
	int64_t v;

	if (!env->stk || !env->stk(env->stk_arg, args[0].i, args[1].str, (int)d, &v))
		return 0;
	out->type = SMP_T_INT;
	out->i = v;
	return 1;
}

/* src_<data>([<table>]): the entry of the client's address, 0 without
 * one (looked up, never created). */
static int fetch_src_stk(const struct smp_arg *args, const struct smp_env *env, struct smp *out,
                         enum stk_data d)
{
	int64_t v;

	if (!env->stk || !env->src || !env->stk(env->stk_arg, -1, args[0].str, (int)d, &v))
		return 0;
	out->type = SMP_T_INT;
	out->i = v;
	return 1;
}

#define STK_FETCHES(name, d)                                                                    \
	static int fetch_sc_##name(const struct smp_arg *a, const struct smp_env *e, struct smp *o) \
	{                                                                                          \
		return fetch_sc(a, e, o, d);                                                       \
	}                                                                                          \
	static int fetch_src_##name(const struct smp_arg *a, const struct smp_env *e,              \
	                            struct smp *o)                                                 \
	{                                                                                          \
		return fetch_src_stk(a, e, o, d);                                                  \
	}
STK_FETCHES(conn_cnt, STK_CONN_CNT)
STK_FETCHES(conn_cur, STK_CONN_CUR)
STK_FETCHES(conn_rate, STK_CONN_RATE)
STK_FETCHES(sess_cnt, STK_SESS_CNT)
STK_FETCHES(sess_rate, STK_SESS_RATE)
STK_FETCHES(http_req_cnt, STK_HTTP_REQ_CNT)
STK_FETCHES(http_req_rate, STK_HTTP_REQ_RATE)
STK_FETCHES(http_err_cnt, STK_HTTP_ERR_CNT)
STK_FETCHES(http_err_rate, STK_HTTP_ERR_RATE)
STK_FETCHES(bytes_in_cnt, STK_BYTES_IN_CNT)
STK_FETCHES(bytes_in_rate, STK_BYTES_IN_RATE)
#undef STK_FETCHES

static int fetch_true(const struct smp_arg *args, const struct smp_env *env, struct smp *out)
{
	out->type = SMP_T_BOOL;
	out->i = 1;
	return 1;
}

static int fetch_false(const struct smp_arg *args, const struct smp_env *env, struct smp *out)
{
	out->type = SMP_T_BOOL;
	out->i = 0;
	return 1;
}

#define BOTH (SMP_IN_COND | SMP_IN_VALUE)
#define COND SMP_IN_COND
#define VALUE SMP_IN_VALUE
#define HDR_HINT "the occurrence argument is not supported"

static const char SC_FAMILY[] = "sc_<data>(<sc>[,<table>])";
static const char SRC_FAMILY[] = "src_<data>([<table>])";
#define SC_ROW(data, fn)                                                                       \
	{.name = "sc_" data, .args = {SMP_ARG_SC, SMP_ARG_TABLE}, .min_args = 1,                  \
	 .out = SMP_T_INT, .use = U(STK), .where = COND, .fetch = fn, .family = SC_FAMILY}
#define SRC_ROW(data, fn)                                                                      \
	{.name = "src_" data, .args = {SMP_ARG_TABLE}, .out = SMP_T_INT, .use = U(SRC) | U(STK), \
	 .where = COND, .fetch = fn, .family = SRC_FAMILY}

/* The order is the order of the "supported:" lists in messages; an alias
 * follows the row it renames. */
/* clang-format off */
static const struct smp_fetch_kw smp_fetch_kws[] = {
	{.name = "src", .out = SMP_T_IP, .use = U(SRC), .where = BOTH, .fetch = fetch_src},
	{.name = "src_port", .out = SMP_T_INT, .use = U(SRC), .where = BOTH,
	 .fetch = fetch_src_port},
	{.name = "dst", .out = SMP_T_IP, .use = U(DST), .where = VALUE, .fetch = fetch_dst},
	{.name = "dst_port", .out = SMP_T_INT, .use = U(DST), .where = VALUE,
	 .fetch = fetch_dst_port},
	{.name = "ssl_fc_sni", .out = SMP_T_STR, .use = U(TLS_SNI), .where = VALUE,
	 .fetch = fetch_ssl_fc_sni},
	{.name = "req.hdr", .args = {SMP_ARG_HDR}, .min_args = 1, .out = SMP_T_STR,
	 .use = U(HTTP_HDR), .where = VALUE, .fetch = fetch_req_hdr, .hint = HDR_HINT},
	{.name = "hdr", .args = {SMP_ARG_HDR}, .min_args = 1, .out = SMP_T_STR,
	 .use = U(HTTP_HDR), .where = VALUE, .flags = SMP_F_ALIAS, .fetch = fetch_req_hdr,
	 .hint = HDR_HINT},
	{.name = "req.ssl_sni", .out = SMP_T_STR, .use = U(HELLO_SNI), .where = COND,
	 .flags = SMP_F_HOST, .fetch = fetch_hello_sni},
	{.name = "req_ssl_sni", .out = SMP_T_STR, .use = U(HELLO_SNI), .where = COND,
	 .flags = SMP_F_HOST | SMP_F_ALIAS, .fetch = fetch_hello_sni},
	{.name = "req_ssl_hello_type", .out = SMP_T_INT, .use = U(HELLO_TYPE), .where = COND,
	 .vmin = 0, .vmax = 255, .fetch = fetch_hello_type},
	{.name = "req.ssl_hello_type", .out = SMP_T_INT, .use = U(HELLO_TYPE), .where = COND,
	 .flags = SMP_F_ALIAS, .vmin = 0, .vmax = 255, .fetch = fetch_hello_type},
	{.name = "path", .out = SMP_T_STR, .use = U(HTTP_URI), .where = COND, .fetch = fetch_path},
	{.name = "nbsrv", .args = {SMP_ARG_BACKEND}, .min_args = 1, .out = SMP_T_INT,
	 .use = U(STATE), .where = COND, .fetch = fetch_nbsrv},
	{.name = "http_auth", .args = {SMP_ARG_USERLIST}, .min_args = 1, .out = SMP_T_BOOL,
	 .use = U(HTTP_AUTH), .where = COND, .fetch = fetch_http_auth},
	{.name = "http_auth_group", .args = {SMP_ARG_USERLIST}, .min_args = 1, .out = SMP_T_STR,
	 .use = U(HTTP_AUTH), .where = COND, .flags = SMP_F_LIST, .fetch = fetch_http_auth_group},
	/* stick counters: sc_<data>(<sc>[,<table>]), src_<data>([<table>]) */
	SC_ROW("conn_cnt", fetch_sc_conn_cnt),
	SC_ROW("conn_cur", fetch_sc_conn_cur),
	SC_ROW("conn_rate", fetch_sc_conn_rate),
	SC_ROW("sess_cnt", fetch_sc_sess_cnt),
	SC_ROW("sess_rate", fetch_sc_sess_rate),
	SC_ROW("http_req_cnt", fetch_sc_http_req_cnt),
	SC_ROW("http_req_rate", fetch_sc_http_req_rate),
	SC_ROW("http_err_cnt", fetch_sc_http_err_cnt),
	SC_ROW("http_err_rate", fetch_sc_http_err_rate),
	SC_ROW("bytes_in_cnt", fetch_sc_bytes_in_cnt),
	SC_ROW("bytes_in_rate", fetch_sc_bytes_in_rate),
	SRC_ROW("conn_cnt", fetch_src_conn_cnt),
	SRC_ROW("conn_cur", fetch_src_conn_cur),
	SRC_ROW("conn_rate", fetch_src_conn_rate),
	SRC_ROW("sess_cnt", fetch_src_sess_cnt),
	SRC_ROW("sess_rate", fetch_src_sess_rate),
	SRC_ROW("http_req_cnt", fetch_src_http_req_cnt),
	SRC_ROW("http_req_rate", fetch_src_http_req_rate),
	SRC_ROW("http_err_cnt", fetch_src_http_err_cnt),
	SRC_ROW("http_err_rate", fetch_src_http_err_rate),
	SRC_ROW("bytes_in_cnt", fetch_src_bytes_in_cnt),
	SRC_ROW("bytes_in_rate", fetch_src_bytes_in_rate),
	{.name = "always_true", .out = SMP_T_BOOL, .where = COND, .fetch = fetch_true},
	{.name = "always_false", .out = SMP_T_BOOL, .where = COND, .fetch = fetch_false},
};
/* clang-format on */

#define NFETCH (sizeof(smp_fetch_kws) / sizeof(smp_fetch_kws[0]))

/* ------------------------------------------------------------------ */
/* Converters */

static void and_bytes(uint8_t *a, const uint8_t *mask, size_t n)
{
	for (size_t i = 0; i < n; i++)
		a[i] &= mask[i];
}

/* ipmask(<mask4>[,<mask6>]): an IPv6 address without mask6 has no value
 * (HAProxy 1.9 and later). */
static int conv_ipmask(const struct smp_arg *args, struct smp *smp)
{
	if (smp->ip.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&smp->ip;
		and_bytes((uint8_t *)&sin->sin_addr, args[0].mask, 4);
		return 1;
	}
	if (smp->ip.ss_family == AF_INET6 && args[1].type == SMP_ARG_MASK6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&smp->ip;
		and_bytes(sin6->sin6_addr.s6_addr, args[1].mask, 16);
		return 1;
	}
	return 0;
}

/* clang-format off */
static const struct smp_conv_kw smp_conv_kws[] = {
	{.name = "ipmask", .args = {SMP_ARG_MASK4, SMP_ARG_MASK6}, .min_args = 1, .in = SMP_T_IP,
	 .out = SMP_T_IP, .conv = conv_ipmask},
};
/* clang-format on */

#define NCONV (sizeof(smp_conv_kws) / sizeof(smp_conv_kws[0]))

/* ------------------------------------------------------------------ */
/* Arguments */

/* RFC 9110 tchar: what a header field name is made of. */
static int is_tchar(unsigned char c)
{
	return is_alpha((char)c) || is_digit((char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int arg_hdr(struct smp_arg *a, const char *text, size_t len, char *err, size_t errlen)
{
	if (len == 0) {
		smp_err(err, errlen, "empty header name");
		return -1;
	}
	if (len > SMP_MAX_HDR_NAME) {
		smp_err(err, errlen, "header name too long (max %d)", SMP_MAX_HDR_NAME);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (!is_tchar((unsigned char)text[i])) {
			smp_err(err, errlen, "'%.*s' is not a valid header name (RFC 9110 token)",
			        (int)(len > 64 ? 64 : len), text);
			return -1;
		}
	}
	return 0;
}

/* What HAProxy accepts in a proxy or userlist name (cfg.c checks the same). */
static int arg_name(const char *kind, const char *text, size_t len, char *err, size_t errlen)
{
	int ok = len > 0 && len <= SMP_MAX_BACKEND;

	for (size_t i = 0; ok && i < len; i++)
		ok = is_alpha(text[i]) || is_digit(text[i]) || strchr("-_.:", text[i]) != NULL;
	if (!ok)
		smp_err(err, errlen, "'%.*s' is not a valid %s name", (int)(len > 64 ? 64 : len),
		        text, kind);
	return ok ? 0 : -1;
}

static int arg_backend(struct smp_arg *a, const char *text, size_t len, char *err, size_t errlen)
{
	return arg_name("backend", text, len, err, errlen);
}

static int arg_userlist(struct smp_arg *a, const char *text, size_t len, char *err, size_t errlen)
{
	return arg_name("userlist", text, len, err, errlen);
}

static int arg_table(struct smp_arg *a, const char *text, size_t len, char *err, size_t errlen)
{
	return arg_name("table", text, len, err, errlen);
}

/* HAProxy 2.6 has three stick counters per stream (tune.stick-counters). */
static int arg_sc(struct smp_arg *a, const char *text, size_t len, char *err, size_t errlen)
{
	if (len != 1 || text[0] < '0' || text[0] > '2') {
		smp_err(err, errlen, "'%.*s' is not a stick counter (0, 1 or 2)",
		        (int)(len > 64 ? 64 : len), text);
		return -1;
	}
	a->i = text[0] - '0';
	return 0;
}

/* A prefix length 0..max, in decimal without sign; -1 if not one. */
static int prefix_len(const char *text, size_t len, int max)
{
	int v = 0;

	if (len == 0 || len > 3)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(text[i]))
			return -1;
		v = v * 10 + (text[i] - '0');
	}
	return v <= max ? v : -1;
}

/* `len` bits set from the top of mask[0..n). */
static void mask_from_prefix(uint8_t *mask, size_t n, int bits)
{
	memset(mask, 0, n);
	for (int b = 0; b < bits; b++)
		mask[b / 8] |= (uint8_t)(0x80u >> (b % 8));
}

/* A mask as a prefix length or in address form. */
static int arg_mask(struct smp_arg *a, const char *text, size_t len, int family, char *err,
                    size_t errlen)
{
	int max = family == AF_INET ? 32 : 128, bits = prefix_len(text, len, max);
	char buf[INET6_ADDRSTRLEN];

	if (bits >= 0) {
		mask_from_prefix(a->mask, (size_t)max / 8, bits);
		return 0;
	}
	if (len < sizeof(buf)) {
		memcpy(buf, text, len);
		buf[len] = '\0';
		if (inet_pton(family, buf, a->mask) == 1)
			return 0;
	}
	smp_err(err, errlen, "'%.*s' is not an %s mask (%s)", (int)(len > 64 ? 64 : len), text,
	        family == AF_INET ? "IPv4" : "IPv6",
	        family == AF_INET ? "0..32 or a dotted mask" : "0..128 or an IPv6 address");
	return -1;
}

static int arg_mask4(struct smp_arg *a, const char *text, size_t len, char *err, size_t errlen)
{
	return arg_mask(a, text, len, AF_INET, err, errlen);
}

static int arg_mask6(struct smp_arg *a, const char *text, size_t len, char *err, size_t errlen)
{
	return arg_mask(a, text, len, AF_INET6, err, errlen);
}

static const struct {
	const char *desc;  /* in "expects ..." messages */
	const char *label; /* in "supported: ..." lists */
	int (*parse)(struct smp_arg *a, const char *text, size_t len, char *err, size_t errlen);
	int keep; /* the text is kept in the argument */
} smp_arg_kws[] = {
    [SMP_ARG_NONE] = {"nothing", "", NULL, 0},
    [SMP_ARG_HDR] = {"a header name", "<name>", arg_hdr, 1},
    [SMP_ARG_BACKEND] = {"a backend name", "<backend>", arg_backend, 1},
    [SMP_ARG_MASK4] = {"an IPv4 mask", "<mask4>", arg_mask4, 0},
    [SMP_ARG_MASK6] = {"an IPv6 mask", "<mask6>", arg_mask6, 0},
    [SMP_ARG_USERLIST] = {"a userlist name", "<userlist>", arg_userlist, 1},
    [SMP_ARG_SC] = {"a stick counter number (0, 1 or 2)", "<sc>", arg_sc, 0},
    [SMP_ARG_TABLE] = {"a stick table (a proxy name)", "<table>", arg_table, 1},
};

/* ------------------------------------------------------------------ */
/* Lookups and lists */

size_t smp_name_len(const char *text)
{
	return strcspn(text, "(,");
}

const struct smp_fetch_kw *smp_fetch_find(const char *name, size_t len)
{
	for (size_t i = 0; i < NFETCH; i++)
		if (strlen(smp_fetch_kws[i].name) == len &&
		    !memcmp(smp_fetch_kws[i].name, name, len))
			return &smp_fetch_kws[i];
	return NULL;
}

const struct smp_conv_kw *smp_conv_find(const char *name, size_t len)
{
	for (size_t i = 0; i < NCONV; i++)
		if (strlen(smp_conv_kws[i].name) == len && !memcmp(smp_conv_kws[i].name, name, len))
			return &smp_conv_kws[i];
	return NULL;
}

const struct smp_fetch_kw *smp_fetch_kw_at(size_t i)
{
	return i < NFETCH ? &smp_fetch_kws[i] : NULL;
}

const struct smp_conv_kw *smp_conv_kw_at(size_t i)
{
	return i < NCONV ? &smp_conv_kws[i] : NULL;
}

const char *smp_type_name(enum smp_type t)
{
	switch (t) {
	case SMP_T_BOOL:
		return "a boolean";
	case SMP_T_INT:
		return "an integer";
	case SMP_T_IP:
		return "an address";
	case SMP_T_STR:
		return "a string";
	}
	return "a value";
}

struct smp_out {
	char *buf;
	size_t len, used;
};

static void out_add(struct smp_out *o, const char *s)
{
	int n;

	if (o->used >= o->len)
		return;
	n = snprintf(o->buf + o->used, o->len - o->used, "%s", s);
	o->used = n < 0 ? o->len : o->used + (size_t)n;
	if (o->used > o->len)
		o->used = o->len;
}

/* "name", "name(<a>)", "name(<a>[,<b>])". */
static void out_kw(struct smp_out *o, const char *name, const enum smp_arg_type *args, int min)
{
	out_add(o, name);
	for (int i = 0; i < SMP_MAX_ARGS && args[i] != SMP_ARG_NONE; i++) {
		out_add(o, i == 0 ? (i < min ? "(" : "([") : (i < min ? "," : "[,"));
		out_add(o, smp_arg_kws[args[i]].label);
		if (i >= min)
			out_add(o, "]");
		if (i + 1 == SMP_MAX_ARGS || args[i + 1] == SMP_ARG_NONE)
			out_add(o, ")");
	}
}

void smp_fetch_list(unsigned where, char *buf, size_t len)
{
	struct smp_out o = {.buf = buf, .len = len};

	if (!buf || !len)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < NFETCH; i++) {
		const struct smp_fetch_kw *kw = &smp_fetch_kws[i];
		if (!(kw->where & where) || (kw->flags & SMP_F_ALIAS))
			continue;
		if (kw->family && i > 0 && smp_fetch_kws[i - 1].family == kw->family)
			continue; /* listed with the first of its family */
		if (o.used)
			out_add(&o, ", ");
		if (kw->family)
			out_add(&o, kw->family);
		else
			out_kw(&o, kw->name, kw->args, kw->min_args);
	}
}

void smp_conv_list(char *buf, size_t len)
{
	struct smp_out o = {.buf = buf, .len = len};

	if (!buf || !len)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < NCONV; i++) {
		if (o.used)
			out_add(&o, ", ");
		out_kw(&o, smp_conv_kws[i].name, smp_conv_kws[i].args, smp_conv_kws[i].min_args);
	}
}

/* ------------------------------------------------------------------ */
/* Parsing */

/* One step of an expression: "name" or "name(args)". */
struct smp_step {
	const char *name;
	size_t nlen;
	const char *args; /* NULL: no parentheses */
	size_t alen;
	const char *next; /* after the step: '\0' or ',' */
};

static int split_step(const char *text, struct smp_step *st, char *err, size_t errlen)
{
	const char *p = text + smp_name_len(text), *close;

	st->name = text;
	st->nlen = (size_t)(p - text);
	st->args = NULL;
	st->alen = 0;
	st->next = p;
	if (*p != '(')
		return 0;
	close = strchr(p + 1, ')');
	if (!close) {
		smp_err(err, errlen, "missing ')'");
		return -1;
	}
	st->args = p + 1;
	st->alen = (size_t)(close - st->args);
	st->next = close + 1;
	if (*st->next != '\0' && *st->next != ',') {
		smp_err(err, errlen, "unexpected '%.20s' after '%.*s'", st->next,
		        (int)(st->next - text > 80 ? 80 : st->next - text), text);
		return -1;
	}
	return 0;
}

static int max_args(const enum smp_arg_type *types)
{
	int n = 0;

	while (n < SMP_MAX_ARGS && types[n] != SMP_ARG_NONE)
		n++;
	return n;
}

static void free_args(struct smp_arg *args, int n)
{
	for (int i = 0; i < n; i++) {
		free(args[i].str);
		args[i].str = NULL;
	}
}

/* "req.hdr() takes one argument, a header name (hint)". */
static void too_many(const struct smp_step *st, const enum smp_arg_type *types, int max,
                     const char *hint, char *err, size_t errlen)
{
	char more[160] = "";

	if (hint)
		snprintf(more, sizeof(more), " (%s)", hint);
	if (max == 1)
		smp_err(err, errlen, "%.*s() takes one argument, %s%s", (int)st->nlen, st->name,
		        smp_arg_kws[types[0]].desc, more);
	else
		smp_err(err, errlen, "%.*s() takes at most %d arguments%s", (int)st->nlen, st->name,
		        max, more);
}

static int parse_one_arg(struct smp_arg *a, enum smp_arg_type type, const char *text, size_t len,
                         char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	a->type = type;
	if (smp_arg_kws[type].parse(a, text, len, err, errlen) < 0)
		return -1;
	if (smp_arg_kws[type].keep) {
		a->str = malloc(len + 1);
		if (!a->str) {
			smp_err(err, errlen, "out of memory");
			return -1;
		}
		memcpy(a->str, text, len);
		a->str[len] = '\0';
		a->len = len;
	}
	return 0;
}

/* The arguments of one step against its row's shape. */
static int parse_args(const char *what, const struct smp_step *st, const enum smp_arg_type *types,
                      int min, const char *hint, struct smp_arg *out, int *nargs, char *err,
                      size_t errlen)
{
	int max = max_args(types), n = 0;
	const char *p = st->args, *end = st->args + st->alen;

	*nargs = 0;
	if (max == 0 && st->args) {
		smp_err(err, errlen, "%s '%.*s' takes no argument", what, (int)st->nlen, st->name);
		return -1;
	}
	while (p && st->alen > 0) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		if (n == max) {
			too_many(st, types, max, hint, err, errlen);
			return -1;
		}
		if (parse_one_arg(&out[n], types[n], p, (size_t)(stop - p), err, errlen) < 0)
			return -1;
		*nargs = ++n;
		p = comma ? comma + 1 : NULL;
	}
	if (n < min) {
		smp_err(err, errlen, "%.*s() expects %s", (int)st->nlen, st->name,
		        smp_arg_kws[types[n]].desc);
		return -1;
	}
	return 0;
}

/* A converter reads what the step before gives; booleans and integers
 * stand for each other, as in HAProxy. */
static int type_fits(enum smp_type from, enum smp_type to)
{
	int from_num = from == SMP_T_BOOL || from == SMP_T_INT;
	int to_num = to == SMP_T_BOOL || to == SMP_T_INT;

	return from == to || (from_num && to_num);
}

static int parse_fetch(struct smp_expr *e, const struct smp_step *st, unsigned where, char *err,
                       size_t errlen)
{
	char list[512];

	e->fetch = smp_fetch_find(st->name, st->nlen);
	if (!e->fetch || !(e->fetch->where & where)) {
		smp_fetch_list(where, list, sizeof(list));
		smp_err(err, errlen, "%s fetch '%.*s' (supported: %s)",
		        e->fetch ? "unavailable" : "unknown", (int)(st->nlen > 64 ? 64 : st->nlen),
		        st->name, list);
		e->fetch = NULL;
		return -1;
	}
	return parse_args("fetch", st, e->fetch->args, e->fetch->min_args, e->fetch->hint, e->args,
	                  &e->nargs, err, errlen);
}

static const char *step_name(const struct smp_expr *e)
{
	return e->nconvs ? e->convs[e->nconvs - 1].kw->name : e->fetch->name;
}

static int parse_conv(struct smp_expr *e, const struct smp_step *st, char *err, size_t errlen)
{
	const struct smp_conv_kw *kw = smp_conv_find(st->name, st->nlen);
	struct smp_conv *c, *more;
	char list[256];

	if (st->nlen == 0) {
		smp_err(err, errlen, "missing converter after ','");
		return -1;
	}
	if (!kw) {
		smp_conv_list(list, sizeof(list));
		smp_err(err, errlen, "unknown converter '%.*s' (supported: %s)",
		        (int)(st->nlen > 64 ? 64 : st->nlen), st->name, list);
		return -1;
	}
	if (!type_fits(smp_expr_type(e), kw->in)) {
		smp_err(err, errlen, "converter '%s' expects %s, '%s' gives %s", kw->name,
		        smp_type_name(kw->in), step_name(e), smp_type_name(smp_expr_type(e)));
		return -1;
	}
	if (e->nconvs >= SMP_MAX_CONVS) {
		smp_err(err, errlen, "too many converters (max %d)", SMP_MAX_CONVS);
		return -1;
	}
	more = realloc(e->convs, (size_t)(e->nconvs + 1) * sizeof(*more));
	if (!more) {
		smp_err(err, errlen, "out of memory");
		return -1;
	}
	e->convs = more;
	c = memset(&e->convs[e->nconvs], 0, sizeof(*c));
	c->kw = kw;
	e->nconvs++; /* counted now: its arguments are freed with it */
	return parse_args("converter", st, kw->args, kw->min_args, NULL, c->args, &c->nargs, err,
	                  errlen);
}

struct smp_expr *smp_expr_parse(const char *text, unsigned where, char *err, size_t errlen)
{
	struct smp_expr *e = calloc(1, sizeof(*e));
	struct smp_step st;

	if (!e) {
		smp_err(err, errlen, "out of memory");
		return NULL;
	}
	if (split_step(text, &st, err, errlen) < 0 || parse_fetch(e, &st, where, err, errlen) < 0)
		goto bad;
	while (*st.next == ',') {
		if (split_step(st.next + 1, &st, err, errlen) < 0 ||
		    parse_conv(e, &st, err, errlen) < 0)
			goto bad;
	}
	return e;
bad:
	smp_expr_free(e);
	return NULL;
}

void smp_expr_free(struct smp_expr *e)
{
	if (!e)
		return;
	free_args(e->args, e->nargs);
	for (int i = 0; i < e->nconvs; i++)
		free_args(e->convs[i].args, e->convs[i].nargs);
	free(e->convs);
	free(e);
}

enum smp_type smp_expr_type(const struct smp_expr *e)
{
	return e->nconvs ? e->convs[e->nconvs - 1].kw->out : e->fetch->out;
}

unsigned smp_expr_uses(const struct smp_expr *e)
{
	return e && e->fetch ? e->fetch->use : 0;
}

/* ------------------------------------------------------------------ */
/* Evaluation */

static void cast(struct smp *smp, enum smp_type to)
{
	if (smp->type == to)
		return;
	if (to == SMP_T_BOOL)
		smp->i = smp->i != 0;
	smp->type = to; /* BOOL <-> INT only: type_fits() allowed nothing else */
}

int smp_expr_eval(const struct smp_expr *e, const struct smp_env *env, struct smp *out)
{
	static const struct smp_env none;

	memset(out, 0, sizeof(*out));
	if (!e || !e->fetch)
		return 0;
	if (!env)
		env = &none;
	if (!e->fetch->fetch(e->args, env, out))
		return 0;
	for (int i = 0; i < e->nconvs; i++) {
		cast(out, e->convs[i].kw->in);
		if (!e->convs[i].kw->conv(e->convs[i].args, out))
			return 0;
	}
	return 1;
}

static int args_named(const struct smp_arg *args, int n, enum smp_arg_type type,
                      int (*fn)(void *arg, const char *name), void *arg)
{
	int rc = 0;

	for (int i = 0; i < n && !rc; i++)
		if (args[i].type == type)
			rc = fn(arg, args[i].str);
	return rc;
}

int smp_expr_names(const struct smp_expr *e, enum smp_arg_type type,
                   int (*fn)(void *arg, const char *name), void *arg)
{
	int rc;

	if (!e)
		return 0;
	rc = args_named(e->args, e->nargs, type, fn, arg);
	for (int i = 0; i < e->nconvs && !rc; i++)
		rc = args_named(e->convs[i].args, e->convs[i].nargs, type, fn, arg);
	return rc;
}

int smp_expr_backends(const struct smp_expr *e, int (*fn)(void *arg, const char *backend),
                      void *arg)
{
	return smp_expr_names(e, SMP_ARG_BACKEND, fn, arg);
}

int smp_expr_userlists(const struct smp_expr *e, int (*fn)(void *arg, const char *userlist),
                       void *arg)
{
	int rc = 0;

	for (int i = 0; e && i < e->nargs && !rc; i++)
		if (e->args[i].type == SMP_ARG_USERLIST)
			rc = fn(arg, e->args[i].str);
	return rc;
}
