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
	static char err[256];
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
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
