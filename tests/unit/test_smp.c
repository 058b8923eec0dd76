/* test_smp.c - fetch and converter rows, sample expressions. */
#include <config.h>

#include "smp.h"

#include "cfg.h" /* a userlist for http_auth */

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

/* ------------------------------------------------------------------ */
/* Helpers */

static struct sockaddr_storage SRC, DST;

static const struct sockaddr *addr(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		ck_assert_int_eq(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	}
	return (const struct sockaddr *)ss;
}

static struct smp_expr *parse_ok(const char *text, unsigned where)
{
	char err[512] = "";
	struct smp_expr *e = smp_expr_parse(text, where, err, sizeof(err));

	ck_assert_msg(e != NULL, "'%s': %s", text, err);
	return e;
}

static void parse_err(const char *text, unsigned where, const char *expect)
{
	char err[512] = "";
	struct smp_expr *e = smp_expr_parse(text, where, err, sizeof(err));

	ck_assert_msg(e == NULL, "'%s' should not parse", text);
	ck_assert_msg(strstr(err, expect), "'%s': error '%s' lacks '%s'", text, err, expect);
}

/* Evaluate `text` in `env`; the value as text in `out` ("-" for none). */
static const char *eval_text(const char *text, const struct smp_env *env)
{
	static char out[256];
	struct smp_expr *e = parse_ok(text, SMP_IN_COND | SMP_IN_VALUE);
	struct smp v;

	if (!smp_expr_eval(e, env, &v)) {
		snprintf(out, sizeof(out), "-");
	} else if (v.type == SMP_T_IP) {
		char ip[INET6_ADDRSTRLEN];
		const void *a = v.ip.ss_family == AF_INET
		                    ? (const void *)&((struct sockaddr_in *)&v.ip)->sin_addr
		                    : (const void *)&((struct sockaddr_in6 *)&v.ip)->sin6_addr;
		ck_assert_ptr_nonnull(inet_ntop(v.ip.ss_family, a, ip, sizeof(ip)));
		snprintf(out, sizeof(out), "ip:%s", ip);
	} else if (v.type == SMP_T_STR) {
		snprintf(out, sizeof(out), "str:%.*s", (int)v.len, v.str);
	} else {
		snprintf(out, sizeof(out), "%s:%lld", v.type == SMP_T_INT ? "int" : "bool",
		         (long long)v.i);
	}
	if (strcmp(out, "-") != 0)
		ck_assert_int_eq(v.type, smp_expr_type(e)); /* the type the rows promise */
	smp_expr_free(e);
	return out;
}

#define EVAL_EQ(text, env, expect) ck_assert_str_eq(eval_text(text, env), expect)

/* ------------------------------------------------------------------ */
/* Rows */

START_TEST(rows_complete)
{
	const struct smp_fetch_kw *f;
	const struct smp_conv_kw *c;
	size_t i;

	for (i = 0; (f = smp_fetch_kw_at(i)); i++) {
		ck_assert_msg(f->name && *f->name && f->fetch, "fetch row %zu", i);
		ck_assert_msg(f->where & (SMP_IN_COND | SMP_IN_VALUE), "'%s': usable nowhere",
		              f->name);
		ck_assert_msg(f->min_args <= SMP_MAX_ARGS, "'%s'", f->name);
		ck_assert_ptr_eq(smp_fetch_find(f->name, strlen(f->name)), f);
	}
	ck_assert_uint_ge(i, 15);
	for (i = 0; (c = smp_conv_kw_at(i)); i++) {
		ck_assert_msg(c->name && *c->name && c->conv, "converter row %zu", i);
		ck_assert_ptr_eq(smp_conv_find(c->name, strlen(c->name)), c);
	}
	ck_assert_uint_ge(i, 1);
	ck_assert_ptr_null(smp_fetch_find("sr", 2));
	ck_assert_ptr_nonnull(smp_fetch_find("src,ipmask(24)", 3));
	ck_assert_uint_eq(smp_name_len("req.hdr(host),x"), 7);
	ck_assert_uint_eq(smp_name_len("src,ipmask(24)"), 3);
	ck_assert_uint_eq(smp_name_len("path"), 4);
}
END_TEST

START_TEST(rows_lists)
{
	char buf[512];

	smp_fetch_list(SMP_IN_VALUE, buf, sizeof(buf));
	ck_assert_str_eq(buf, "src, src_port, dst, dst_port, ssl_fc_sni, req.hdr(<name>)");
	smp_fetch_list(SMP_IN_COND, buf, sizeof(buf));
	ck_assert_str_eq(buf, "src, src_port, req.ssl_sni, req_ssl_hello_type, path, "
	                      "nbsrv(<backend>), http_auth(<userlist>), "
	                      "http_auth_group(<userlist>), sc_<data>(<sc>[,<table>]), "
	                      "src_<data>([<table>]), always_true, always_false");
	smp_conv_list(buf, sizeof(buf));
	ck_assert_str_eq(buf, "ipmask(<mask4>[,<mask6>])");
	/* truncation is safe and terminated */
	smp_fetch_list(SMP_IN_COND, buf, 10);
	ck_assert_str_eq(buf, "src, src_");
	smp_fetch_list(SMP_IN_COND, buf, 1);
	ck_assert_str_eq(buf, "");
	smp_fetch_list(SMP_IN_COND, NULL, 0);
	ck_assert_str_eq(smp_type_name(SMP_T_IP), "an address");
	ck_assert_str_eq(smp_type_name(SMP_T_STR), "a string");
	ck_assert_str_eq(smp_type_name(SMP_T_INT), "an integer");
	ck_assert_str_eq(smp_type_name(SMP_T_BOOL), "a boolean");
}
END_TEST

/* What each fetch reads, and where it may be used. */
START_TEST(rows_uses)
{
	static const struct {
		const char *text;
		unsigned use;
		enum smp_type type;
	} cases[] = {
	    {"src", 1u << SMP_USE_SRC, SMP_T_IP},
	    {"src_port", 1u << SMP_USE_SRC, SMP_T_INT},
	    {"dst", 1u << SMP_USE_DST, SMP_T_IP},
	    {"dst_port", 1u << SMP_USE_DST, SMP_T_INT},
	    {"ssl_fc_sni", 1u << SMP_USE_TLS_SNI, SMP_T_STR},
	    {"req.hdr(host)", 1u << SMP_USE_HTTP_HDR, SMP_T_STR},
	    {"hdr(host)", 1u << SMP_USE_HTTP_HDR, SMP_T_STR},
	    {"req.ssl_sni", 1u << SMP_USE_HELLO_SNI, SMP_T_STR},
	    {"req_ssl_sni", 1u << SMP_USE_HELLO_SNI, SMP_T_STR},
	    {"req_ssl_hello_type", 1u << SMP_USE_HELLO_TYPE, SMP_T_INT},
	    {"req.ssl_hello_type", 1u << SMP_USE_HELLO_TYPE, SMP_T_INT},
	    {"path", 1u << SMP_USE_HTTP_URI, SMP_T_STR},
	    {"nbsrv(be)", 1u << SMP_USE_STATE, SMP_T_INT},
	    {"http_auth(u)", 1u << SMP_USE_HTTP_AUTH, SMP_T_BOOL},
	    {"http_auth_group(u)", 1u << SMP_USE_HTTP_AUTH, SMP_T_STR},
	    {"always_true", 0, SMP_T_BOOL},
	    {"always_false", 0, SMP_T_BOOL},
	    {"src,ipmask(24)", 1u << SMP_USE_SRC, SMP_T_IP},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct smp_expr *e = parse_ok(cases[i].text, SMP_IN_COND | SMP_IN_VALUE);
		ck_assert_msg(smp_expr_uses(e) == cases[i].use, "'%s'", cases[i].text);
		ck_assert_msg(smp_expr_type(e) == cases[i].type, "'%s'", cases[i].text);
		smp_expr_free(e);
	}
	ck_assert_uint_eq(smp_expr_uses(NULL), 0);
	/* where: conditions and values are offered different rows */
	smp_expr_free(parse_ok("src", SMP_IN_COND));
	smp_expr_free(parse_ok("src", SMP_IN_VALUE));
	parse_err("dst", SMP_IN_COND, "unavailable fetch 'dst' (supported: src, src_port, ");
	parse_err("path", SMP_IN_VALUE, "unavailable fetch 'path' (supported: src, src_port, dst");
	parse_err("nbsrv(be)", SMP_IN_VALUE, "unavailable fetch 'nbsrv'");
	parse_err("req.ssl_sni", SMP_IN_VALUE, "unavailable fetch 'req.ssl_sni'");
	parse_err("req.hdr(a)", SMP_IN_COND, "unavailable fetch 'req.hdr'");
	/* credentials: conditions only (the stats rules), a userlist name */
	parse_err("http_auth(u)", SMP_IN_VALUE, "unavailable fetch 'http_auth'");
	parse_err("http_auth_group(u)", SMP_IN_VALUE, "unavailable fetch 'http_auth_group'");
	parse_err("http_auth", SMP_IN_COND, "http_auth() expects a userlist name");
	parse_err("http_auth()", SMP_IN_COND, "http_auth() expects a userlist name");
	parse_err("http_auth(a/b)", SMP_IN_COND, "'a/b' is not a valid userlist name");
	parse_err("http_auth_group(a,b)", SMP_IN_COND, "takes one argument, a userlist name");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Parsing */

START_TEST(parse_args_and_convs)
{
	struct smp_expr *e = parse_ok("src,ipmask(24,64)", SMP_IN_COND);

	ck_assert_str_eq(e->fetch->name, "src");
	ck_assert_int_eq(e->nargs, 0);
	ck_assert_int_eq(e->nconvs, 1);
	ck_assert_str_eq(e->convs[0].kw->name, "ipmask");
	ck_assert_int_eq(e->convs[0].nargs, 2);
	ck_assert_mem_eq(e->convs[0].args[0].mask, "\xff\xff\xff\x00", 4);
	ck_assert_mem_eq(e->convs[0].args[1].mask,
	                 "\xff\xff\xff\xff\xff\xff\xff\xff\0\0\0\0\0\0\0\0", 16);
	smp_expr_free(e);

	e = parse_ok("src,ipmask(255.255.240.0,ffff:ffff::)", SMP_IN_COND);
	ck_assert_mem_eq(e->convs[0].args[0].mask, "\xff\xff\xf0\x00", 4);
	ck_assert_mem_eq(e->convs[0].args[1].mask, "\xff\xff\xff\xff\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	smp_expr_free(e);

	e = parse_ok("src,ipmask(0),ipmask(32,128)", SMP_IN_COND);
	ck_assert_int_eq(e->nconvs, 2);
	ck_assert_int_eq(e->convs[0].nargs, 1);
	ck_assert_mem_eq(e->convs[0].args[0].mask, "\0\0\0\0", 4);
	smp_expr_free(e);

	e = parse_ok("nbsrv(be-app_1.x:y)", SMP_IN_COND);
	ck_assert_int_eq(e->nargs, 1);
	ck_assert_str_eq(e->args[0].str, "be-app_1.x:y");
	ck_assert_uint_eq(e->args[0].len, 12);
	smp_expr_free(e);

	e = parse_ok("req.hdr(X-Forwarded-Proto)", SMP_IN_VALUE);
	ck_assert_str_eq(e->args[0].str, "X-Forwarded-Proto");
	smp_expr_free(e);
	smp_expr_free(NULL);
}
END_TEST

START_TEST(parse_errors)
{
	const unsigned C = SMP_IN_COND, V = SMP_IN_VALUE;

	parse_err("nope", C, "unknown fetch 'nope' (supported: src, ");
	parse_err("", C, "unknown fetch ''");
	parse_err("SRC", C, "unknown fetch 'SRC'");
	parse_err("src(", C, "missing ')'");
	parse_err("src()", C, "fetch 'src' takes no argument");
	parse_err("path(x)", C, "fetch 'path' takes no argument");
	parse_err("nbsrv", C, "nbsrv() expects a backend name");
	parse_err("nbsrv()", C, "nbsrv() expects a backend name");
	parse_err("nbsrv(a,b)", C, "nbsrv() takes one argument, a backend name");
	parse_err("nbsrv(a b)", C, "'a b' is not a valid backend name");
	parse_err("nbsrv(a/b)", C, "'a/b' is not a valid backend name");
	parse_err("nbsrv(be)x", C, "unexpected 'x' after 'nbsrv(be)'");
	parse_err("req.hdr(host,1)", V,
	          "req.hdr() takes one argument, a header name (the occurrence argument is not "
	          "supported)");
	parse_err("req.hdr()", V, "req.hdr() expects a header name");
	parse_err("req.hdr(a:b)", V, "'a:b' is not a valid header name (RFC 9110 token)");
	parse_err("src,", C, "missing converter after ','");
	parse_err("src,lower", C,
	          "unknown converter 'lower' (supported: ipmask(<mask4>[,<mask6>]))");
	parse_err("src,ipmask", C, "ipmask() expects an IPv4 mask");
	parse_err("src,ipmask()", C, "ipmask() expects an IPv4 mask");
	parse_err("src,ipmask(33)", C, "'33' is not an IPv4 mask (0..32 or a dotted mask)");
	parse_err("src,ipmask(-1)", C, "'-1' is not an IPv4 mask");
	parse_err("src,ipmask(1.2.3)", C, "'1.2.3' is not an IPv4 mask");
	parse_err("src,ipmask(24,129)", C, "'129' is not an IPv6 mask (0..128 or an IPv6 address)");
	parse_err("src,ipmask(24,)", C, "'' is not an IPv6 mask");
	parse_err("src,ipmask(24,64,1)", C, "ipmask() takes at most 2 arguments");
	parse_err("src,ipmask(24", C, "missing ')'");
	parse_err("path,ipmask(24)", C,
	          "converter 'ipmask' expects an address, 'path' gives a string");
	parse_err("nbsrv(b),ipmask(24)", C,
	          "converter 'ipmask' expects an address, 'nbsrv' gives an integer");
	parse_err("src,ipmask(24)(1)", C, "unexpected '(1)' after 'ipmask(24)'");
	{
		char text[512] = "src";
		for (int i = 0; i < 17; i++)
			strcat(text, ",ipmask(24)");
		parse_err(text, C, "too many converters (max 16)");
		text[strlen(text) - strlen(",ipmask(24)")] = '\0';
		smp_expr_free(parse_ok(text, C));
	}
	/* no error buffer at all is fine */
	ck_assert_ptr_null(smp_expr_parse("nope", C, NULL, 0));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Fetches */

START_TEST(fetch_addresses)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct smp_env env = {.src = addr(&SRC, "192.0.2.10", 54321),
	                      .dst = addr(&DST, "::1", 443)};

	EVAL_EQ("src", &env, "ip:192.0.2.10");
	EVAL_EQ("src_port", &env, "int:54321");
	EVAL_EQ("dst", &env, "ip:::1");
	EVAL_EQ("dst_port", &env, "int:443");
	env.src = addr(&SRC, "::ffff:10.1.2.3", 1);
	EVAL_EQ("src", &env, "ip:10.1.2.3"); /* IPv4-mapped: IPv4 */
	EVAL_EQ("src_port", &env, "int:1");
	env.src = (const struct sockaddr *)&sun;
	EVAL_EQ("src", &env, "-");
	EVAL_EQ("src_port", &env, "-");
	env.src = NULL;
	env.dst = NULL;
	EVAL_EQ("src", &env, "-");
	EVAL_EQ("dst_port", &env, "-");
	EVAL_EQ("src", NULL, "-");
}
END_TEST

static int hdr_cb(void *arg, const char *name, size_t name_len, const uint8_t **val,
                  size_t *val_len)
{
	if (name_len != 4 || strncasecmp(name, "host", 4) != 0)
		return 0;
	*val = (const uint8_t *)"a.test";
	*val_len = 6;
	return 1;
}

START_TEST(fetch_names)
{
	struct smp_env env = {.tls_sni = "tls.test", .hello_sni = "hello.test", .hdr = hdr_cb};

	EVAL_EQ("ssl_fc_sni", &env, "str:tls.test");
	EVAL_EQ("req.ssl_sni", &env, "str:hello.test");
	EVAL_EQ("req_ssl_sni", &env, "str:hello.test");
	EVAL_EQ("req.hdr(Host)", &env, "str:a.test");
	EVAL_EQ("hdr(host)", &env, "str:a.test");
	EVAL_EQ("req.hdr(x-none)", &env, "-");
	env.hello_sni = "";
	EVAL_EQ("req.ssl_sni", &env, "-"); /* empty: none */
	env.hello_sni = NULL;
	env.tls_sni = NULL;
	env.hdr = NULL;
	EVAL_EQ("req.ssl_sni", &env, "-");
	EVAL_EQ("ssl_fc_sni", &env, "-");
	EVAL_EQ("req.hdr(host)", &env, "-");
}
END_TEST

START_TEST(fetch_hello_type)
{
	struct smp_env env = {.hello_type = 1};

	EVAL_EQ("req_ssl_hello_type", &env, "int:1");
	EVAL_EQ("req.ssl_hello_type", &env, "int:1");
	env.hello_type = 0;
	EVAL_EQ("req_ssl_hello_type", &env, "int:0"); /* no handshake: 0, a value */
	ck_assert_int_eq(smp_fetch_find("req_ssl_hello_type", 18)->vmax, 255);
}
END_TEST

static const char *path_of(const char *uri)
{
	struct smp_env env = {.uri = uri, .uri_len = uri ? strlen(uri) : 0};

	return eval_text("path", &env);
}

/* path: HAProxy's http_parse_path() then up to the '?'. */
START_TEST(fetch_path)
{
	ck_assert_str_eq(path_of("/"), "str:/");
	ck_assert_str_eq(path_of("/a/b.php?x=1&y=2"), "str:/a/b.php");
	ck_assert_str_eq(path_of("/a?"), "str:/a");
	ck_assert_str_eq(path_of("/?q"), "str:/");
	ck_assert_str_eq(path_of("/a/b"), "str:/a/b");
	ck_assert_str_eq(path_of("http://h.test/p/q?r"), "str:/p/q");
	ck_assert_str_eq(path_of("HTTPS://h.test:8443/"), "str:/");
	ck_assert_str_eq(path_of("git+ssh://h/x"), "str:/x");
	ck_assert_str_eq(path_of("http://h?x/y"), "str:/y"); /* the authority ends at '/' only */
	ck_assert_str_eq(path_of("http://h.test"), "-");
	ck_assert_str_eq(path_of("http://h.test?q"), "-");
	ck_assert_str_eq(path_of("*"), "-");
	ck_assert_str_eq(path_of("h.test:443"), "-"); /* authority-form (CONNECT) */
	ck_assert_str_eq(path_of("1http://h/x"), "-");
	ck_assert_str_eq(path_of("http:/x"), "-");
	ck_assert_str_eq(path_of(""), "-");
	ck_assert_str_eq(path_of(NULL), "-");
	/* uri_len bounds it: the buffer is not NUL-terminated */
	{
		struct smp_env env = {.uri = "/abc?def/ghi", .uri_len = 3};
		EVAL_EQ("path", &env, "str:/ab");
		env.uri = "http://h/xyz";
		env.uri_len = 8;
		EVAL_EQ("path", &env, "-");
		env.uri_len = 10;
		EVAL_EQ("path", &env, "str:/x");
	}
}
END_TEST

struct servers {
	const char *name[4];
	int n[4];
	int calls;
};

static int nbsrv_cb(void *arg, const char *backend)
{
	struct servers *s = arg;

	s->calls++;
	for (int i = 0; i < 4 && s->name[i]; i++)
		if (strcmp(s->name[i], backend) == 0)
			return s->n[i];
	return -1;
}

START_TEST(fetch_nbsrv)
{
	struct servers s = {.name = {"be1", "be2"}, .n = {3, 0}};
	struct smp_env env = {.nbsrv = nbsrv_cb, .nbsrv_arg = &s};

	EVAL_EQ("nbsrv(be1)", &env, "int:3");
	EVAL_EQ("nbsrv(be2)", &env, "int:0");
	EVAL_EQ("nbsrv(nope)", &env, "-"); /* unknown backend: no value */
	ck_assert_int_eq(s.calls, 3);
	env.nbsrv = NULL;
	EVAL_EQ("nbsrv(be1)", &env, "-"); /* not available here */
	ck_assert_int_eq(s.calls, 3);
}
END_TEST

/* userlist u: alice (secret; groups admin, ops), bob (pw; no group). */
static struct cfg_ul_user U_BOB = {.name = "bob", .plain = "pw", .groups = ""};
static struct cfg_ul_user U_ALICE = {
    .next = &U_BOB, .name = "alice", .plain = "secret", .groups = "admin,ops"};
static struct cfg_userlist UL_V = {.name = "v"};
static struct cfg_userlist UL_U = {.next = &UL_V, .name = "u", .users = &U_ALICE};

START_TEST(fetch_http_auth)
{
	static const char alice[] = "Basic YWxpY2U6c2VjcmV0"; /* alice:secret */
	static const char bob[] = "Basic Ym9iOnB3";           /* bob:pw */
	static const char wrong[] = "Basic YWxpY2U6U2VjcmV0"; /* alice:Secret */
	struct smp_env env = {.auth = alice, .auth_len = sizeof(alice) - 1, .userlists = &UL_U};

	EVAL_EQ("http_auth(u)", &env, "bool:1");
	EVAL_EQ("http_auth(v)", &env, "bool:0"); /* another list */
	EVAL_EQ("http_auth(w)", &env, "bool:0"); /* no such list (the config checks it) */
	EVAL_EQ("http_auth_group(u)", &env, "str:admin,ops");
	EVAL_EQ("http_auth_group(v)", &env, "-");
	env.auth = bob;
	env.auth_len = sizeof(bob) - 1;
	EVAL_EQ("http_auth(u)", &env, "bool:1");
	EVAL_EQ("http_auth_group(u)", &env, "str:"); /* in no group */
	env.auth = wrong;
	env.auth_len = sizeof(wrong) - 1;
	EVAL_EQ("http_auth(u)", &env, "bool:0");
	EVAL_EQ("http_auth_group(u)", &env, "-");
	env.auth_len = 5; /* "Basic" cut */
	EVAL_EQ("http_auth(u)", &env, "bool:0");
	env.auth = NULL; /* no Authorization header: false, so that `unless` asks */
	EVAL_EQ("http_auth(u)", &env, "bool:0");
	EVAL_EQ("http_auth_group(u)", &env, "-");
	/* no userlists: not a stats rule, credentials are not looked at */
	env = (struct smp_env){.auth = alice, .auth_len = sizeof(alice) - 1};
	EVAL_EQ("http_auth(u)", &env, "-");
	EVAL_EQ("http_auth_group(u)", &env, "-");
}
END_TEST

START_TEST(fetch_constants)
{
	EVAL_EQ("always_true", NULL, "bool:1");
	EVAL_EQ("always_false", NULL, "bool:0");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Converters */

START_TEST(conv_ipmask)
{
	struct smp_env env = {.src = addr(&SRC, "192.0.2.77", 1)};

	EVAL_EQ("src,ipmask(24)", &env, "ip:192.0.2.0");
	EVAL_EQ("src,ipmask(255.255.0.0)", &env, "ip:192.0.0.0");
	EVAL_EQ("src,ipmask(255.0.255.0)", &env, "ip:192.0.2.0"); /* applied as written */
	EVAL_EQ("src,ipmask(32)", &env, "ip:192.0.2.77");
	EVAL_EQ("src,ipmask(0)", &env, "ip:0.0.0.0");
	EVAL_EQ("src,ipmask(25),ipmask(16)", &env, "ip:192.0.0.0");
	env.src = addr(&SRC, "::ffff:10.9.8.7", 1);
	EVAL_EQ("src,ipmask(8)", &env, "ip:10.0.0.0"); /* mapped: IPv4 */
	env.src = addr(&SRC, "2001:db8:1:2:3:4:5:6", 1);
	EVAL_EQ("src,ipmask(24)", &env, "-"); /* IPv6 without a mask6: no value */
	EVAL_EQ("src,ipmask(24,64)", &env, "ip:2001:db8:1:2::");
	EVAL_EQ("src,ipmask(24,ffff::)", &env, "ip:2001::");
	EVAL_EQ("src,ipmask(24,128)", &env, "ip:2001:db8:1:2:3:4:5:6");
	env.src = NULL;
	EVAL_EQ("src,ipmask(24)", &env, "-"); /* no value in, none out */
}
END_TEST

/* ------------------------------------------------------------------ */
/* Backends named by an expression */

struct seen {
	char names[8][64];
	int n, stop_at;
};

static int note(void *arg, const char *backend)
{
	struct seen *s = arg;

	snprintf(s->names[s->n], sizeof(s->names[0]), "%s", backend);
	return ++s->n == s->stop_at ? 42 : 0;
}

START_TEST(expr_backends)
{
	struct smp_expr *e = parse_ok("nbsrv(be-a)", SMP_IN_COND);
	struct seen s = {0};

	ck_assert_int_eq(smp_expr_backends(e, note, &s), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_str_eq(s.names[0], "be-a");
	s = (struct seen){.stop_at = 1};
	ck_assert_int_eq(smp_expr_backends(e, note, &s), 42);
	smp_expr_free(e);
	e = parse_ok("src,ipmask(24)", SMP_IN_COND);
	s = (struct seen){0};
	ck_assert_int_eq(smp_expr_backends(e, note, &s), 0);
	ck_assert_int_eq(s.n, 0);
	smp_expr_free(e);
	ck_assert_int_eq(smp_expr_backends(NULL, note, &s), 0);
}
END_TEST

START_TEST(expr_userlists)
{
	struct smp_expr *e = parse_ok("http_auth_group(stats-users)", SMP_IN_COND);
	struct seen s = {0};

	ck_assert_int_eq(smp_expr_userlists(e, note, &s), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_str_eq(s.names[0], "stats-users");
	ck_assert_int_eq(smp_expr_backends(e, note, &s), 0); /* not a backend */
	ck_assert_int_eq(s.n, 1);
	smp_expr_free(e);
	e = parse_ok("nbsrv(be)", SMP_IN_COND);
	ck_assert_int_eq(smp_expr_userlists(e, note, &s), 0);
	ck_assert_int_eq(s.n, 1);
	smp_expr_free(e);
	ck_assert_int_eq(smp_expr_userlists(NULL, note, &s), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Documentation: every row is in ppbridge.cfg(5), in its section. */

static char *man_section(const char *title)
{
	char path[1024], *text, *start, *end;
	const char *dir = getenv("PPB_SRCDIR");
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/doc/ppbridge.cfg.5", dir ? dir : PPB_TOP_SRCDIR);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot read %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	ck_assert_int_eq(fread(text, 1, (size_t)n, f), n);
	fclose(f);
	start = strstr(text, title);
	ck_assert_msg(start != NULL, "no '%s' in the man page", title);
	end = strstr(start + 4, "\n.SH ");
	if (end)
		*end = '\0';
	memmove(text, start, strlen(start) + 1);
	return text;
}

/* `word` as a whole token of the roff text (bold or not). */
static int has_word(const char *text, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
		char before = p == text ? ' ' : p[-1], after = p[n];
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_.", before) &&
		    (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_", after) || after == '\0'))
			return 1;
	}
	return 0;
}

START_TEST(rows_documented)
{
	char *cond = man_section(".SH CONDITIONS"), *values = man_section(".SH SAMPLE VALUES");
	const struct smp_fetch_kw *f;
	const struct smp_conv_kw *c;

	for (size_t i = 0; (f = smp_fetch_kw_at(i)); i++) {
		if (f->where & SMP_IN_COND)
			ck_assert_msg(has_word(cond, f->name), "fetch '%s' not in CONDITIONS",
			              f->name);
		if (f->where & SMP_IN_VALUE)
			ck_assert_msg(has_word(values, f->name), "fetch '%s' not in SAMPLE VALUES",
			              f->name);
	}
	for (size_t i = 0; (c = smp_conv_kw_at(i)); i++)
		ck_assert_msg(has_word(cond, c->name), "converter '%s' not in CONDITIONS", c->name);
	free(cond);
	free(values);
}
END_TEST

/* ------------------------------------------------------------------ */

int main(void)
{
	Suite *s = suite_create("smp");
	TCase *tc;
	SRunner *sr;
	int failed;

	tc = tcase_create("rows");
	tcase_add_test(tc, rows_complete);
	tcase_add_test(tc, rows_lists);
	tcase_add_test(tc, rows_uses);
	tcase_add_test(tc, rows_documented);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, parse_args_and_convs);
	tcase_add_test(tc, parse_errors);
	tcase_add_test(tc, expr_backends);
	tcase_add_test(tc, expr_userlists);
	suite_add_tcase(s, tc);

	tc = tcase_create("eval");
	tcase_add_test(tc, fetch_addresses);
	tcase_add_test(tc, fetch_names);
	tcase_add_test(tc, fetch_hello_type);
	tcase_add_test(tc, fetch_path);
	tcase_add_test(tc, fetch_nbsrv);
	tcase_add_test(tc, fetch_http_auth);
	tcase_add_test(tc, fetch_constants);
	tcase_add_test(tc, conv_ipmask);
	suite_add_tcase(s, tc);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
