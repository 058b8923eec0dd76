/* test_acl.c - conditions: parsing and evaluation. */
#include <config.h>

#include "acl.h"
#include "net.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct sockaddr_storage ip(const char *text)
{
	struct sockaddr_storage ss;
	socklen_t len;

	ck_assert_int_eq(net_parse_ip(text, &ss, &len), 0);
	return ss;
}

/* Split a condition string on spaces (no quoting needed in these tests). */
static int split(char *text, char **words, int max)
{
	int n = 0;

	for (char *w = strtok(text, " "); w && n < max; w = strtok(NULL, " "))
		words[n++] = w;
	return n;
}

/* Evaluate `cond` for `src`, with the named ACLs in `acls`. */
static int eval(const char *cond_text, const char *src, const struct acl *acls)
{
	char buf[512], err[256];
	char *words[64];
	int n;
	struct acl_cond *cond;
	struct sockaddr_storage a = ip(src);
	struct acl_ctx ctx = {.src = (struct sockaddr *)&a};
	int r;

	snprintf(buf, sizeof(buf), "%s", cond_text);
	n = split(buf, words, 64);
	cond = acl_cond_parse(words, n, acls, err, sizeof(err));
	ck_assert_msg(cond != NULL, "parse '%s': %s", cond_text, err);
	r = acl_cond_eval(cond, &ctx);
	acl_cond_free(cond);
	return r;
}

static const char *parse_error(const char *cond_text, const struct acl *acls)
{
	static char err[512];
	char buf[512];
	char *words[64];
	int n;
	struct acl_cond *cond;

	snprintf(buf, sizeof(buf), "%s", cond_text);
	n = split(buf, words, 64);
	cond = acl_cond_parse(words, n, acls, err, sizeof(err));
	ck_assert_msg(cond == NULL, "'%s' parsed", cond_text);
	return err;
}

static struct acl *declare(struct acl *list, const char *name, const char *patterns)
{
	char buf[512], err[256];
	char *words[64];
	int n;

	snprintf(buf, sizeof(buf), "%s", patterns);
	n = split(buf, words, 64);
	ck_assert_msg(acl_declare(&list, name, words, n, err, sizeof(err)) == 0, "%s", err);
	return list;
}

START_TEST(test_anonymous)
{
	ck_assert_int_eq(eval("if { src 10.0.0.0/8 }", "10.1.2.3", NULL), 1);
	ck_assert_int_eq(eval("if { src 10.0.0.0/8 }", "11.1.2.3", NULL), 0);
	ck_assert_int_eq(eval("unless { src 10.0.0.0/8 }", "11.1.2.3", NULL), 1);
	ck_assert_int_eq(eval("if !{ src 10.0.0.0/8 }", "11.1.2.3", NULL), 1);
	ck_assert_int_eq(eval("if ! { src 10.0.0.0/8 }", "10.0.0.1", NULL), 0);
	ck_assert_int_eq(eval("if { src 10.0.0.0/8 ::1 }", "::1", NULL), 1);
	ck_assert_int_eq(eval("if { src 127.0.0.0/8 }", "::ffff:127.0.0.5", NULL), 1);
}
END_TEST

START_TEST(test_and_or)
{
	const char *c = "if { src 10.0.0.0/8 } !{ src 10.9.0.0/16 } || { src 192.0.2.1 }";

	ck_assert_int_eq(eval(c, "10.1.0.1", NULL), 1);
	ck_assert_int_eq(eval(c, "10.9.0.1", NULL), 0);
	ck_assert_int_eq(eval(c, "192.0.2.1", NULL), 1);
	ck_assert_int_eq(eval(c, "192.0.2.2", NULL), 0);
	ck_assert_int_eq(eval("if { src 1.1.1.1 } or { src 2.2.2.2 }", "2.2.2.2", NULL), 1);
}
END_TEST

START_TEST(test_named)
{
	struct acl *acls = NULL;

	acls = declare(acls, "lb", "src 10.0.0.0/8");
	acls = declare(acls, "lb", "src 2001:db8::/32"); /* same name: OR'ed */
	acls = declare(acls, "office", "src 192.0.2.0/24");
	ck_assert_int_eq(eval("if lb", "10.2.3.4", acls), 1);
	ck_assert_int_eq(eval("if lb", "2001:db8::7", acls), 1);
	ck_assert_int_eq(eval("if lb", "192.0.2.9", acls), 0);
	ck_assert_int_eq(eval("if !lb", "192.0.2.9", acls), 1);
	ck_assert_int_eq(eval("if lb || office", "192.0.2.9", acls), 1);
	ck_assert_int_eq(eval("if lb office", "192.0.2.9", acls), 0);
	acl_list_free(acls);
}
END_TEST

START_TEST(test_file)
{
	char path[] = "/tmp/ppb-acl-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	struct acl *acls = NULL;
	char text[300];

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs("# trusted balancers\n10.0.0.0/8\n\n  ::1  \n", f);
	fclose(f);
	snprintf(text, sizeof(text), "src -f %s", path);
	acls = declare(acls, "trusted", text);
	ck_assert_int_eq(eval("if trusted", "10.0.0.1", acls), 1);
	ck_assert_int_eq(eval("if trusted", "::1", acls), 1);
	ck_assert_int_eq(eval("if trusted", "192.0.2.1", acls), 0);
	acl_list_free(acls);

	f = fopen(path, "w");
	fputs("10.0.0.0/8\nnot-an-address\n", f);
	fclose(f);
	{
		char buf[300], err[256];
		char *words[8];
		int n;
		struct acl *bad = NULL;
		snprintf(buf, sizeof(buf), "src -f %s", path);
		n = split(buf, words, 8);
		ck_assert_int_eq(acl_declare(&bad, "x", words, n, err, sizeof(err)), -1);
		ck_assert(strstr(err, ":2: invalid address") != NULL);
		ck_assert_ptr_null(bad);
	}
	unlink(path);
}
END_TEST

START_TEST(test_errors)
{
	ck_assert(strstr(parse_error("if", NULL), "missing condition"));
	ck_assert(strstr(parse_error("when { src 1.2.3.4 }", NULL), "expected 'if'"));
	ck_assert(strstr(parse_error("if { src 1.2.3.4", NULL), "missing '}'"));
	ck_assert(strstr(parse_error("if { }", NULL), "missing fetch"));
	ck_assert(strstr(parse_error("if { src }", NULL), "at least one"));
	ck_assert(strstr(parse_error("if { dst 1.2.3.4 }", NULL), "unsupported fetch 'dst'"));
	ck_assert(strstr(parse_error("if { src 1.2.3.4/40 }", NULL), "invalid address"));
	ck_assert(strstr(parse_error("if nope", NULL), "unknown ACL 'nope'"));
	ck_assert(strstr(parse_error("if !", NULL), "'!' must be followed"));
	ck_assert(strstr(parse_error("if || { src 1.2.3.4 }", NULL), "both sides"));
	ck_assert(strstr(parse_error("if { src 1.2.3.4 } ||", NULL), "both sides"));
	ck_assert(strstr(parse_error("if { src -f }", NULL), "'-f' needs a file"));
}
END_TEST

/* Evaluate `cond` for a ClientHello with `sni` (NULL: none) and `type`. */
static int eval_hello(const char *cond_text, const char *sni, int type)
{
	char buf[512], err[256];
	char *words[64];
	struct acl_ctx ctx = {.sni = sni, .hello_type = type};
	struct acl_cond *cond;
	int n, r;

	snprintf(buf, sizeof(buf), "%s", cond_text);
	n = split(buf, words, 64);
	cond = acl_cond_parse(words, n, NULL, err, sizeof(err));
	ck_assert_msg(cond != NULL, "parse '%s': %s", cond_text, err);
	r = acl_cond_eval(cond, &ctx);
	acl_cond_free(cond);
	return r;
}

START_TEST(test_ssl_sni)
{
	const char *c = "if { req.ssl_sni -i oauth.test *.pass.test }";

	ck_assert_int_eq(eval_hello(c, "oauth.test", 1), 1);
	ck_assert_int_eq(eval_hello(c, "a.pass.test", 1), 1);
	ck_assert_int_eq(eval_hello(c, "a.b.pass.test", 1), 1);
	ck_assert_int_eq(eval_hello(c, "pass.test", 1), 0);    /* not below itself */
	ck_assert_int_eq(eval_hello(c, "xpass.test", 1), 0);   /* a label boundary */
	ck_assert_int_eq(eval_hello(c, "oauth.test.evil", 1), 0);
	ck_assert_int_eq(eval_hello(c, NULL, 1), 0);           /* no SNI: no match */
	ck_assert_int_eq(eval_hello(c, "", 1), 0);
	ck_assert_int_eq(eval_hello("unless { req_ssl_sni OAuth.TEST }", "oauth.test", 1), 0);
	ck_assert_int_eq(eval_hello("if { req.ssl_sni -m end .apps.test }", "x.apps.test", 1), 1);
	ck_assert_int_eq(eval_hello("if { req.ssl_sni -m end .apps.test }", "apps.test", 1), 0);
	ck_assert_int_eq(eval_hello("if { req.ssl_sni -m beg api. }", "api.c.test", 1), 1);
	ck_assert_int_eq(eval_hello("if { req_ssl_hello_type 1 }", NULL, 1), 1);
	ck_assert_int_eq(eval_hello("if { req_ssl_hello_type 1 }", NULL, 0), 0);
	ck_assert_int_eq(eval_hello("if { req.ssl_hello_type 1 } { req.ssl_sni a.test }",
				    "a.test", 1), 1);
	ck_assert(strstr(parse_error("if { req.ssl_sni -m reg .* }", NULL), "'-m' expects"));
	ck_assert(strstr(parse_error("if { req.ssl_sni -x a }", NULL), "unsupported flag '-x'"));
	ck_assert(strstr(parse_error("if { req_ssl_hello_type one }", NULL), "invalid integer"));
	ck_assert(strstr(parse_error("if { req_ssl_hello_type 300 }", NULL), "invalid integer"));
	ck_assert(strstr(parse_error("if { req.ssl_sni -i }", NULL), "at least one pattern"));
}
END_TEST

START_TEST(test_fetch_mask)
{
	char buf[128] = "if { src 10.0.0.0/8 } || { req.ssl_sni a.test }", err[256];
	char *words[16];
	int n = split(buf, words, 16);
	struct acl_cond *cond = acl_cond_parse(words, n, NULL, err, sizeof(err));

	ck_assert_ptr_nonnull(cond);
	ck_assert_uint_eq(acl_cond_fetches(cond),
			  (1u << ACL_FETCH_SRC) | (1u << ACL_FETCH_SSL_SNI));
	ck_assert_uint_eq(acl_cond_fetches(NULL), 0);
	acl_cond_free(cond);
}
END_TEST

START_TEST(test_null_cond_holds)
{
	struct acl_ctx ctx = {0};

	ck_assert_int_eq(acl_cond_eval(NULL, &ctx), 1);
}
END_TEST

/* Evaluate `cond_text` against `ctx`, with the named ACLs in `acls`. */
static int eval_ctx(const char *cond_text, const struct acl *acls, const struct acl_ctx *ctx)
{
	char buf[512], err[256];
	char *words[64];
	struct acl_cond *cond;
	int n, r;

	snprintf(buf, sizeof(buf), "%s", cond_text);
	n = split(buf, words, 64);
	cond = acl_cond_parse(words, n, acls, err, sizeof(err));
	ck_assert_msg(cond != NULL, "parse '%s': %s", cond_text, err);
	r = acl_cond_eval(cond, ctx);
	ck_assert_int_eq(acl_cond_eval(cond, ctx), r); /* the same answer twice */
	acl_cond_free(cond);
	return r;
}

/* Evaluate for an HTTP request whose target is `uri` (NULL: none). */
static int eval_uri(const char *cond_text, const char *uri)
{
	struct acl_ctx ctx = {.uri = uri, .uri_len = uri ? strlen(uri) : 0};

	return eval_ctx(cond_text, NULL, &ctx);
}

START_TEST(test_path)
{
	/* exact by default, case-sensitive, without the query string */
	ck_assert_int_eq(eval_uri("if { path /login }", "/login"), 1);
	ck_assert_int_eq(eval_uri("if { path /login }", "/login?next=/"), 1);
	ck_assert_int_eq(eval_uri("if { path /login }", "/login/"), 0);
	ck_assert_int_eq(eval_uri("if { path /login }", "/LOGIN"), 0);
	ck_assert_int_eq(eval_uri("if { path -i /login }", "/LOGIN"), 1);
	ck_assert_int_eq(eval_uri("if { path /a /b }", "/b"), 1);
	ck_assert_int_eq(eval_uri("if { path /login }", "http://h.test/login?x"), 1);
	/* matching methods */
	ck_assert_int_eq(eval_uri("if { path -m beg /api/ }", "/api/v1?x=/api/"), 1);
	ck_assert_int_eq(eval_uri("if { path -m beg /api/ }", "/ap"), 0);
	ck_assert_int_eq(eval_uri("if { path -m end .php }", "/x/index.php?a=b"), 1);
	ck_assert_int_eq(eval_uri("if { path -m end .php }", "/x/index.php5"), 0);
	ck_assert_int_eq(eval_uri("if { path -m end -i .PHP }", "/x/index.Php"), 1);
	ck_assert_int_eq(eval_uri("if { path -m sub /admin }", "/x/admin/y"), 1);
	ck_assert_int_eq(eval_uri("if { path -m sub /admin }", "/x/adm?/admin"), 0);
	ck_assert_int_eq(eval_uri("if { path -m sub -i /ADMIN }", "/x/Admin"), 1);
	ck_assert_int_eq(eval_uri("if { path -m str /a }", "/a"), 1);
	ck_assert_int_eq(eval_uri("if { path -m len 3 }", "/ab?long-query"), 1);
	ck_assert_int_eq(eval_uri("if { path -m len gt 3 }", "/ab"), 0);
	ck_assert_int_eq(eval_uri("if { path -m found }", "/"), 1);
	ck_assert_int_eq(eval_uri("if { path -m found }", "*"), 0);
	/* derived keywords */
	ck_assert_int_eq(eval_uri("if { path_beg /static/ /img/ }", "/img/a.png"), 1);
	ck_assert_int_eq(eval_uri("if { path_end .css }", "/a/b.css?v=2"), 1);
	ck_assert_int_eq(eval_uri("if { path_sub /v2/ }", "/api/v2/x"), 1);
	ck_assert_int_eq(eval_uri("if { path_len le 1 }", "/"), 1);
	ck_assert_int_eq(eval_uri("if { path_beg -i /API }", "/api/x"), 1);
	/* -i applies to the patterns after it, as in HAProxy */
	ck_assert_int_eq(eval_uri("if { path /A -i /B }", "/a"), 0);
	ck_assert_int_eq(eval_uri("if { path /A -i /B }", "/b"), 1);
	/* `--`: what follows is a pattern, even when it looks like a flag */
	ck_assert_int_eq(eval_uri("if { path -m end -- -i }", "/x-i"), 1);
	/* no request, or no path in it: no value, no match */
	ck_assert_int_eq(eval_uri("if { path /login }", NULL), 0);
	ck_assert_int_eq(eval_uri("if !{ path /login }", NULL), 1);
	ck_assert_int_eq(eval_uri("if { path -m beg / }", "h.test:443"), 0);
	ck_assert_int_eq(eval_hello("if { path -m beg / }", "a.test", 1), 0);
}
END_TEST

START_TEST(test_path_errors)
{
	ck_assert(strstr(parse_error("if { path }", NULL), "'path' needs at least one pattern"));
	ck_assert(strstr(parse_error("if { path -m reg ^/a }", NULL),
			 "'-m' expects one of found, bool, int, ip, str, beg, end, sub, len (not 'reg')"));
	ck_assert(strstr(parse_error("if { path -m }", NULL), "'-m' expects one of"));
	ck_assert(strstr(parse_error("if { path -m beg -m end /a }", NULL), "'-m' given twice"));
	ck_assert(strstr(parse_error("if { path -m ip 10.0.0.1 }", NULL),
			 "'-m ip' cannot be used with 'path' (it gives a string)"));
	ck_assert(strstr(parse_error("if { path -m found /a }", NULL),
			 "'-m found' takes no pattern (got '/a')"));
	ck_assert(strstr(parse_error("if { path_beg -m end /a }", NULL),
			 "'path_beg' already means '-m beg': '-m' cannot be added"));
	ck_assert(strstr(parse_error("if { path -x /a }", NULL), "unsupported flag '-x'"));
	ck_assert(strstr(parse_error("if { path(1) /a }", NULL), "fetch 'path' takes no argument"));
	ck_assert(strstr(parse_error("if { path_len x }", NULL), "invalid integer 'x' for 'path_len'"));
	ck_assert(strstr(parse_error("if { path -m len /a }", NULL), "invalid integer '/a'"));
	ck_assert(strstr(parse_error("if { paths /a }", NULL),
			 "unsupported fetch 'paths' (supported: src, src_port, req.ssl_sni, "
			 "req_ssl_hello_type, path, nbsrv(<backend>), http_auth(<userlist>), "
			 "http_auth_group(<userlist>), sc_<data>(<sc>[,<table>]), "
			 "src_<data>([<table>]), always_true, always_false, "
			 "path_beg, path_end, path_sub, path_len)"));
}
END_TEST

struct servers {
	int n[3]; /* be0, be1, be2; others are unknown */
};

static int nbsrv_cb(void *arg, const char *backend)
{
	const struct servers *s = arg;

	if (strncmp(backend, "be", 2) != 0 || backend[2] < '0' || backend[2] > '2' || backend[3])
		return -1;
	return s->n[backend[2] - '0'];
}

static int eval_nbsrv(const char *cond_text, int be0)
{
	struct servers s = {.n = {be0, 2, 0}};
	struct acl_ctx ctx = {.nbsrv = nbsrv_cb, .nbsrv_arg = &s};

	return eval_ctx(cond_text, NULL, &ctx);
}

/* nbsrv(<backend>) and HAProxy's integer patterns: values, ranges,
 * operators. */
START_TEST(test_nbsrv_int)
{
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) 3 }", 3), 1);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) 3 }", 4), 0);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) eq 3 }", 3), 1);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) lt 1 }", 0), 1);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) lt 1 }", 1), 0);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) le 1 }", 1), 1);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) le 1 }", 2), 0);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) gt 1 }", 2), 1);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) gt 1 }", 1), 0);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) ge 2 }", 2), 1);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) ge 2 }", 1), 0);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) ge 2 }", 1000000), 1);
	/* ranges: a:b, :b, a:, and HAProxy's a-b */
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) 2:4 }", 2), 1);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) 2:4 }", 4), 1);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) 2:4 }", 5), 0);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) :1 }", 0), 1);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) :1 }", 2), 0);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) 3: }", 9), 1);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) 3: }", 2), 0);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) 1-2 }", 2), 1);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) eq 1:2 }", 1), 1);
	/* an operator holds for the values after it, up to the next one */
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) lt 1 gt 5 }", 7), 1);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) lt 1 gt 5 }", 3), 0);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) gt 8 6 }", 7), 1); /* gt 6 */
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) gt 8 eq 6 }", 7), 0);
	/* other backends, an unknown one, no callback */
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be1) 2 }", 0), 1);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be2) lt 1 }", 5), 1);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(nope) ge 0 }", 5), 0);
	ck_assert_int_eq(eval_nbsrv("if !{ nbsrv(nope) ge 0 }", 5), 1);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be1) -m found }", 0), 1);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(nope) -m found }", 0), 0);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) -m bool }", 0), 0);
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) -m bool }", 3), 1);
	ck_assert_int_eq(eval_hello("if { nbsrv(be0) ge 0 }", NULL, 0), 0);
	/* the use_backend idiom */
	ck_assert_int_eq(eval_nbsrv("if { nbsrv(be0) lt 1 } || !{ nbsrv(be1) ge 1 }", 0), 1);
}
END_TEST

START_TEST(test_int_errors)
{
	ck_assert(strstr(parse_error("if { nbsrv(be) gt 1:5 }", NULL),
			 "'gt' takes an integer, not the range '1:5'"));
	ck_assert(strstr(parse_error("if { nbsrv(be) -- -1 }", NULL),
			 "HAProxy reads a leading '-' as a range (':1'); write ':1', or 'lt 0'"));
	ck_assert(strstr(parse_error("if { nbsrv(be) -1 }", NULL), "unsupported flag '-1'"));
	ck_assert(strstr(parse_error("if { nbsrv(be) lt }", NULL), "'lt' needs a value after it"));
	ck_assert(strstr(parse_error("if { nbsrv(be) lt gt 1 }", NULL), "'lt' needs a value"));
	ck_assert(strstr(parse_error("if { nbsrv(be) 3:1 }", NULL), "invalid integer '3:1'"));
	ck_assert(strstr(parse_error("if { nbsrv(be) : }", NULL), "invalid integer ':'"));
	ck_assert(strstr(parse_error("if { nbsrv(be) 1:2:3 }", NULL), "invalid integer '1:2:3'"));
	ck_assert(strstr(parse_error("if { nbsrv(be) 1e3 }", NULL), "invalid integer '1e3'"));
	ck_assert(strstr(parse_error("if { nbsrv(be) 1234567890123456789 }", NULL),
			 "invalid integer"));
	ck_assert(strstr(parse_error("if { nbsrv(be) }", NULL), "at least one pattern"));
	ck_assert(strstr(parse_error("if { nbsrv }", NULL), "nbsrv() expects a backend name"));
	ck_assert(strstr(parse_error("if { nbsrv(a,b) 1 }", NULL),
			 "nbsrv() takes one argument, a backend name"));
	ck_assert(strstr(parse_error("if { nbsrv(be) -m str 1 }", NULL),
			 "'-m str' cannot be used with 'nbsrv(be)' (it gives an integer)"));
	/* the ClientHello type keeps its 0..255 bounds, ranges included */
	ck_assert(strstr(parse_error("if { req_ssl_hello_type 1:256 }", NULL),
			 "invalid integer 0..255 '1:256' for 'req_ssl_hello_type'"));
	ck_assert(strstr(parse_error("if { req_ssl_hello_type gt 256 }", NULL),
			 "invalid integer 0..255"));
	ck_assert_int_eq(eval_hello("if { req_ssl_hello_type 1:2 }", NULL, 2), 1);
	ck_assert_int_eq(eval_hello("if { req_ssl_hello_type gt 0 }", NULL, 1), 1);
	ck_assert_int_eq(eval_hello("if { req_ssl_hello_type gt 0 }", NULL, 0), 0);
}
END_TEST

START_TEST(test_predefined)
{
	struct acl *acls = NULL;

	ck_assert_int_eq(eval("if TRUE", "192.0.2.1", NULL), 1);
	ck_assert_int_eq(eval("if FALSE", "192.0.2.1", NULL), 0);
	ck_assert_int_eq(eval("if !FALSE", "192.0.2.1", NULL), 1);
	ck_assert_int_eq(eval("unless TRUE", "192.0.2.1", NULL), 0);
	ck_assert_int_eq(eval("if FALSE || TRUE", "192.0.2.1", NULL), 1);
	ck_assert_int_eq(eval("if LOCALHOST", "127.0.0.1", NULL), 1);
	ck_assert_int_eq(eval("if LOCALHOST", "127.8.9.10", NULL), 1);
	ck_assert_int_eq(eval("if LOCALHOST", "::1", NULL), 1);
	ck_assert_int_eq(eval("if LOCALHOST", "::ffff:127.0.0.1", NULL), 1);
	ck_assert_int_eq(eval("if LOCALHOST", "128.0.0.1", NULL), 0);
	ck_assert_int_eq(eval("if LOCALHOST", "::2", NULL), 0);
	ck_assert_int_eq(eval_hello("if LOCALHOST", NULL, 1), 0); /* no address */
	ck_assert_int_eq(eval_hello("if TRUE", NULL, 0), 1);
	ck_assert_int_eq(eval("if { always_true }", "192.0.2.1", NULL), 1);
	ck_assert_int_eq(eval("if { always_false }", "192.0.2.1", NULL), 0);
	ck_assert_int_eq(eval("if { always_true -m int 1 }", "192.0.2.1", NULL), 1);
	ck_assert_int_eq(eval("if { always_false -m int 1 }", "192.0.2.1", NULL), 0);
	/* names are case-sensitive; a declared ACL shadows a predefined one */
	ck_assert(strstr(parse_error("if true", NULL), "unknown ACL 'true'"));
	acls = declare(acls, "TRUE", "src 10.0.0.0/8");
	ck_assert_int_eq(eval("if TRUE", "192.0.2.1", acls), 0);
	ck_assert_int_eq(eval("if TRUE", "10.0.0.1", acls), 1);
	acl_list_free(acls);
	ck_assert(strstr(parse_error("if { always_true 1 }", NULL), "'-m bool' takes no pattern"));
}
END_TEST

START_TEST(test_converter)
{
	struct acl *acls = NULL;

	ck_assert_int_eq(eval("if { src,ipmask(24) 192.0.2.0 }", "192.0.2.77", NULL), 1);
	ck_assert_int_eq(eval("if { src,ipmask(24) 192.0.2.0 }", "192.0.3.77", NULL), 0);
	ck_assert_int_eq(eval("if { src,ipmask(255.255.0.0) 10.1.0.0 }", "10.1.200.3", NULL), 1);
	ck_assert_int_eq(eval("if { src,ipmask(24) 10.0.0.0/8 }", "10.1.2.3", NULL), 1);
	ck_assert_int_eq(eval("if { src,ipmask(24,64) 2001:db8:1:2:: }", "2001:db8:1:2:a::1", NULL),
			 1);
	ck_assert_int_eq(eval("if { src,ipmask(24) ::/0 }", "2001:db8::1", NULL), 0); /* no mask6 */
	ck_assert_int_eq(eval("if { src,ipmask(8) 127.0.0.0 }", "::ffff:127.3.2.1", NULL), 1);
	ck_assert_int_eq(eval("if { src,ipmask(24) -m found }", "192.0.2.1", NULL), 1);
	acls = declare(acls, "net24", "src,ipmask(24) 198.51.100.0");
	ck_assert_int_eq(eval("if net24", "198.51.100.200", acls), 1);
	acl_list_free(acls);
	ck_assert(strstr(parse_error("if { src,ipmask(33) 1.2.3.4 }", NULL),
			 "'33' is not an IPv4 mask"));
	ck_assert(strstr(parse_error("if { src,lower 1.2.3.4 }", NULL),
			 "unknown converter 'lower' (supported: ipmask(<mask4>[,<mask6>]))"));
	ck_assert(strstr(parse_error("if { path,ipmask(24) 1.2.3.4 }", NULL),
			 "converter 'ipmask' expects an address, 'path' gives a string"));
	ck_assert(strstr(parse_error("if { src,ipmask(24) -m beg 1 }", NULL),
			 "'-m beg' cannot be used with 'src,ipmask(24)' (it gives an address)"));
}
END_TEST

/* Methods on the fetches ppbridge had before: still what they were. */
START_TEST(test_methods_old_fetches)
{
	ck_assert_int_eq(eval_hello("if { req.ssl_sni -m sub .pass. }", "a.pass.test", 1), 1);
	ck_assert_int_eq(eval_hello("if { req.ssl_sni -m found }", "a.test", 1), 1);
	ck_assert_int_eq(eval_hello("if { req.ssl_sni -m found }", NULL, 1), 0);
	ck_assert_int_eq(eval_hello("if { req.ssl_sni -m len 6 }", "a.test", 1), 1);
	/* "*.suffix" is a wildcard for the str method of host names only */
	ck_assert_int_eq(eval_hello("if { req.ssl_sni -m end *.test }", "a.test", 1), 0);
	ck_assert_int_eq(eval_uri("if { path *.x }", "/a.x"), 0);
	ck_assert_int_eq(eval_uri("if { path *.x }", "*.x"), 0); /* not a path */
	ck_assert_int_eq(eval("if { src -m ip 10.0.0.0/8 }", "10.0.0.1", NULL), 1);
	ck_assert_int_eq(eval("if { src -m found }", "10.0.0.1", NULL), 1);
	ck_assert_int_eq(eval("if { src_port 1024: }", "10.0.0.1", NULL), 0); /* port 0 */
	ck_assert_int_eq(eval("if { src_port 0 }", "10.0.0.1", NULL), 1);
	ck_assert(strstr(parse_error("if { src -x }", NULL), "unsupported flag '-x'"));
	ck_assert(strstr(parse_error("if { src -m str 1.2.3.4 }", NULL), "cannot be used"));
}
END_TEST

START_TEST(test_int_file)
{
	char path[] = "/tmp/ppb-acl-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	struct acl *acls = NULL;
	char text[300], buf[300], err[256], *words[8];
	int n;

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs("# few servers\n0\n2:3\n", f);
	fclose(f);
	snprintf(text, sizeof(text), "nbsrv(be0) -f %s", path);
	{
		struct servers s = {.n = {3, 0, 0}};
		struct acl_ctx ctx = {.nbsrv = nbsrv_cb, .nbsrv_arg = &s};
		acls = declare(NULL, "few", text);
		ck_assert_int_eq(eval_ctx("if few", acls, &ctx), 1);
		s.n[0] = 1;
		ck_assert_int_eq(eval_ctx("if few", acls, &ctx), 0);
		s.n[0] = 0;
		ck_assert_int_eq(eval_ctx("if few", acls, &ctx), 1);
		acl_list_free(acls);
	}
	/* operators do not apply in files; errors name the line */
	f = fopen(path, "w");
	fputs("1\nlt 3\n", f);
	fclose(f);
	snprintf(buf, sizeof(buf), "nbsrv(be0) -f %s", path);
	n = split(buf, words, 8);
	acls = NULL;
	ck_assert_int_eq(acl_declare(&acls, "x", words, n, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, ":2: invalid integer 'lt 3'") != NULL, "%s", err);
	f = fopen(path, "w");
	fputs("-5\n", f);
	fclose(f);
	snprintf(buf, sizeof(buf), "nbsrv(be0) -f %s", path);
	n = split(buf, words, 8);
	ck_assert_int_eq(acl_declare(&acls, "x", words, n, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, ":1: '-5' for 'nbsrv(be0)': HAProxy reads") != NULL, "%s", err);
	/* a line longer than the buffer is refused, not split */
	f = fopen(path, "w");
	for (int i = 0; i < 600; i++)
		fputc('a', f);
	fputs("\n", f);
	fclose(f);
	snprintf(buf, sizeof(buf), "path -f %s", path);
	n = split(buf, words, 8);
	ck_assert_int_eq(acl_declare(&acls, "x", words, n, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, ":1: line too long (max 510)") != NULL, "%s", err);
	ck_assert_ptr_null(acls);
	unlink(path);
}
END_TEST

static unsigned fetches_of(const char *cond_text, const struct acl *acls)
{
	char buf[256], err[256];
	char *words[32];
	int n;
	struct acl_cond *cond;
	unsigned mask;

	snprintf(buf, sizeof(buf), "%s", cond_text);
	n = split(buf, words, 32);
	cond = acl_cond_parse(words, n, acls, err, sizeof(err));
	ck_assert_msg(cond != NULL, "%s", err);
	mask = acl_cond_fetches(cond);
	acl_cond_free(cond);
	return mask;
}

START_TEST(test_fetch_mask_new)
{
	struct acl *acls = declare(NULL, "up", "nbsrv(be1) ge 1");

	ck_assert_uint_eq(fetches_of("if { path /a }", NULL), ACL_NEEDS_HTTP);
	ck_assert_uint_eq(fetches_of("if { path_beg /a }", NULL), ACL_NEEDS_HTTP);
	ck_assert_uint_eq(fetches_of("if { nbsrv(be) 1 }", NULL), ACL_NEEDS_STATE);
	ck_assert_uint_eq(fetches_of("if up", acls), ACL_NEEDS_STATE);
	ck_assert_uint_eq(fetches_of("if TRUE", NULL), 0);
	ck_assert_uint_eq(fetches_of("if FALSE || { always_true }", NULL), 0);
	ck_assert_uint_eq(fetches_of("if LOCALHOST", NULL), ACL_NEEDS_SRC);
	ck_assert_uint_eq(fetches_of("if { src,ipmask(24) 1.2.3.0 }", NULL), ACL_NEEDS_SRC);
	ck_assert_uint_eq(fetches_of("if { src_port 1 }", NULL), ACL_NEEDS_SRC);
	ck_assert_uint_eq(fetches_of("if { req_ssl_hello_type 1 }", NULL),
			  1u << ACL_FETCH_SSL_HELLO_TYPE);
	ck_assert_uint_eq(fetches_of("if { req_ssl_hello_type 1 } up { path /x } LOCALHOST", acls),
			  (1u << ACL_FETCH_SSL_HELLO_TYPE) | ACL_NEEDS_STATE | ACL_NEEDS_HTTP |
			      ACL_NEEDS_SRC);
	ck_assert_uint_eq(ACL_NEEDS_SRC, 1u); /* cfg.c's use_backend check spells it 1u */
	acl_list_free(acls);
}
END_TEST

struct seen {
	char names[8][32];
	int n, stop_at;
};

static int note(void *arg, const char *backend)
{
	struct seen *s = arg;

	snprintf(s->names[s->n], sizeof(s->names[0]), "%s", backend);
	return ++s->n == s->stop_at ? 7 : 0;
}

START_TEST(test_backends)
{
	char buf[256], err[256];
	char *words[32];
	struct acl *acls = NULL;
	struct acl_cond *cond;
	struct seen s = {0};
	int n;

	acls = declare(acls, "a_up", "nbsrv(be-a) ge 1");
	acls = declare(acls, "a_up", "nbsrv(be-a2) ge 1");
	acls = declare(acls, "local", "src 127.0.0.0/8");
	snprintf(buf, sizeof(buf), "if a_up local || !{ nbsrv(be-b) lt 1 } { path /x } LOCALHOST");
	n = split(buf, words, 32);
	cond = acl_cond_parse(words, n, acls, err, sizeof(err));
	ck_assert_msg(cond != NULL, "%s", err);
	ck_assert_int_eq(acl_cond_backends(cond, note, &s), 0);
	ck_assert_int_eq(s.n, 3);
	ck_assert_str_eq(s.names[0], "be-a");
	ck_assert_str_eq(s.names[1], "be-a2");
	ck_assert_str_eq(s.names[2], "be-b");
	s = (struct seen){.stop_at = 2};
	ck_assert_int_eq(acl_cond_backends(cond, note, &s), 7);
	ck_assert_int_eq(s.n, 2);
	acl_cond_free(cond);

	s = (struct seen){0};
	ck_assert_int_eq(acl_list_backends(acls, note, &s), 0);
	ck_assert_int_eq(s.n, 2);
	ck_assert_int_eq(acl_cond_backends(NULL, note, &s), 0);
	ck_assert_int_eq(acl_list_backends(NULL, note, &s), 0);
	acl_list_free(acls);
}
END_TEST

/* A NULL context offers nothing: every fetch but the constants is absent. */
START_TEST(test_null_ctx)
{
	char buf[64] = "if { src 10.0.0.0/8 } || TRUE", err[256];
	char *words[16];
	int n = split(buf, words, 16);
	struct acl_cond *cond = acl_cond_parse(words, n, NULL, err, sizeof(err));

	ck_assert_ptr_nonnull(cond);
	ck_assert_int_eq(acl_cond_eval(cond, NULL), 1); /* nothing available: only TRUE */
	acl_cond_free(cond);
}
END_TEST

/* `word` as a whole token of the roff text (bold or not). */
static int has_word(const char *text, const char *word)
{
	static const char *const inword = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
	size_t n = strlen(word);

	for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
		char before = p == text ? ' ' : p[-1], after = p[n];
		if (!strchr(inword, before) && before != '.' && (after == '\0' || !strchr(inword, after)))
			return 1;
	}
	return 0;
}

/* Every word of acl.c's tables is in ppbridge.cfg(5)'s CONDITIONS. */
START_TEST(test_documented)
{
	char path[1024], *text, *start, *end;
	const char *dir = getenv("PPB_SRCDIR"), *w;
	FILE *f;
	long n;
	size_t i;

	snprintf(path, sizeof(path), "%s/doc/ppbridge.cfg.5", dir ? dir : PPB_TOP_SRCDIR);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot read %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	ck_assert_int_eq(fread(text, 1, (size_t)n, f), n);
	fclose(f);
	start = strstr(text, "\n.SH CONDITIONS\n");
	ck_assert_ptr_nonnull(start);
	if ((end = strstr(start + 1, "\n.SH ")))
		*end = '\0';
	for (i = 0; (w = acl_word_at(i)); i++)
		ck_assert_msg(has_word(start, w), "'%s' not in CONDITIONS", w);
	ck_assert(!has_word(start, "nosuchword"));
	ck_assert(!has_word(start, "eq_")); /* a whole word only */
	ck_assert_uint_ge(i, 20);
	free(text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("acl");
	TCase *tc = tcase_create("cond");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_anonymous);
	tcase_add_test(tc, test_and_or);
	tcase_add_test(tc, test_named);
	tcase_add_test(tc, test_file);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_null_cond_holds);
	tcase_add_test(tc, test_ssl_sni);
	tcase_add_test(tc, test_fetch_mask);
	tcase_add_test(tc, test_path);
	tcase_add_test(tc, test_path_errors);
	tcase_add_test(tc, test_nbsrv_int);
	tcase_add_test(tc, test_int_errors);
	tcase_add_test(tc, test_predefined);
	tcase_add_test(tc, test_converter);
	tcase_add_test(tc, test_methods_old_fetches);
	tcase_add_test(tc, test_int_file);
	tcase_add_test(tc, test_fetch_mask_new);
	tcase_add_test(tc, test_backends);
	tcase_add_test(tc, test_null_ctx);
	tcase_add_test(tc, test_documented);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
